"""Trimming and minimisation: the native implementation (``corral._native.minimize``) against
its Python twin, table for table, and the native function's input checks."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library
from corral import _native
from corral.automata.minimize import (
    MAX_MOORE_ROUNDS,
    trim_and_minimize,
    trim_and_minimize_native,
    trim_and_minimize_py,
)
from corral.grammars.json_schema.strings import _minimize, _minimize_py


def same(table: np.ndarray, accepting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nt, na = trim_and_minimize_native(table, accepting)
    pt, pa = trim_and_minimize_py(table.copy(), accepting.copy())
    assert nt.dtype == pt.dtype == np.int32 and na.dtype == pa.dtype == np.bool_
    np.testing.assert_array_equal(nt, pt)
    np.testing.assert_array_equal(na, pa)
    return nt, na


def random_dfa(rng: random.Random, n: int, alphabet: bytes) -> tuple[np.ndarray, np.ndarray]:
    table = np.zeros((n, 256), dtype=np.int32)
    for s in range(1, n):
        for b in alphabet:
            if rng.random() < 0.8:
                table[s, b] = rng.randrange(n)
    accepting = np.array([s > 0 and rng.random() < 0.3 for s in range(n)], dtype=bool)
    return table, accepting


@pytest.mark.parametrize("seed", range(40))
def test_native_minimize_equals_twin_on_random_automata(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 5)))
    table, accepting = random_dfa(rng, rng.randint(2, 80), alphabet)
    same(table, accepting)


@pytest.mark.parametrize("seed", range(12))
def test_native_minimize_equals_twin_on_larger_automata_with_many_equivalent_states(
    seed: int,
) -> None:
    """Copies of one small automaton wired into each other: many states merge, in many splits."""
    rng = random.Random(1000 + seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 4)))
    small, small_acc = random_dfa(rng, rng.randint(3, 12), alphabet)
    copies = rng.randint(5, 40)
    k = small.shape[0] - 1  # live part of one copy: states 1 .. k
    n = 1 + copies * k
    table = np.zeros((n, 256), dtype=np.int32)
    accepting = np.zeros(n, dtype=bool)
    for c in range(copies):
        for s in range(1, k + 1):
            row = 1 + c * k + (s - 1)
            accepting[row] = small_acc[s]
            for b in alphabet:
                t = int(small[s, b])
                if t:
                    table[row, b] = 1 + rng.randrange(copies) * k + (t - 1)
    got, _ = same(table, accepting)
    assert got.shape[0] <= k + 1


@pytest.mark.parametrize("name", LIBRARY)
def test_native_minimize_equals_twin_on_library_automata(name: str) -> None:
    for dfa in compiled_library(name).dfas:
        table, _ = same(dfa.table, dfa.accepting)
        assert table.shape == dfa.table.shape  # already minimal: unchanged
        # duplicated states (every state copied once, the copies reached from the originals)
        n = dfa.n_states
        doubled = np.concatenate([dfa.table, np.where(dfa.table > 0, dfa.table + n, 0)])
        doubled[:n] = np.where(dfa.table > 0, dfa.table + n, 0)
        acc = np.concatenate([dfa.accepting, dfa.accepting])
        got, _ = same(doubled.astype(np.int32), acc)
        assert got.shape[0] <= n + 1


def chain(n: int, period: int) -> tuple[np.ndarray, np.ndarray]:
    """States 1 .. n-1 linked by 'a', accepting every ``period``-th (and the last): Moore needs
    about one round per link to tell them apart."""
    table = np.zeros((n, 256), dtype=np.int32)
    for s in range(1, n - 1):
        table[s, ord("a")] = s + 1
    accepting = np.array([s > 0 and (s % period == 0 or s == n - 1) for s in range(n)])
    return table, accepting


@pytest.mark.parametrize("period", [1, 2, 3, 7])
def test_long_chain_is_minimised_exactly(period: int) -> None:
    """Past MAX_MOORE_ROUNDS links the native refinement (Hopcroft) still reaches Moore's
    fixpoint; the Python fallback with the round bound keeps the chain unmerged, and both
    tables accept the same strings."""
    n = 4 * MAX_MOORE_ROUNDS
    table, accepting = chain(n, period)
    got, acc = same(table, accepting)
    assert got.shape[0] == n  # no two links are equivalent: the end of the chain tells
    looped = table.copy()
    looped[n - 1, ord("a")] = 1  # a cycle of n - 1 links: equivalent links merge
    got, acc = same(looped, accepting)
    assert got.shape[0] <= n
    bounded, bounded_acc = trim_and_minimize_py(looped.copy(), accepting.copy(), MAX_MOORE_ROUNDS)
    for k in range(3 * n):
        assert _accepts(got, acc, b"a" * k) == _accepts(bounded, bounded_acc, b"a" * k)


def _accepts(table: np.ndarray, accepting: np.ndarray, word: bytes) -> bool:
    s = 1
    for b in word:
        s = int(table[s, b])
    return bool(accepting[s])


def test_cycle_with_period_merges_to_the_period() -> None:
    """A cycle of 6 * k links accepting every 6th state minimises to 6 live states plus the dead
    one, however long the cycle (a refinement that stopped early would keep them apart)."""
    n = 6 * 40 + 1
    table = np.zeros((n, 256), dtype=np.int32)
    for s in range(1, n):
        table[s, ord("a")] = s + 1 if s + 1 < n else 1
    accepting = np.array([s > 0 and s % 6 == 0 for s in range(n)])
    got, _ = same(table, accepting)
    assert got.shape[0] == 7


def test_empty_language_and_trimming() -> None:
    table = np.zeros((4, 256), dtype=np.int32)
    table[1, ord("a")] = 2
    table[2, ord("b")] = 3  # 3 accepts nothing and goes nowhere: trimmed away
    got, acc = same(table, np.zeros(4, dtype=bool))
    assert got.shape == (2, 256) and not got.any() and not acc.any()
    got, acc = same(table, np.array([False, False, True, False]))
    assert got.shape[0] == 3 and got[1, ord("a")] == 2 and not got[2].any()
    assert trim_and_minimize(table, np.array([False, False, True, False]))[0].shape[0] == 3


@pytest.mark.parametrize(
    ("table", "accepting", "error", "words"),
    [
        (np.zeros((2, 256), dtype=np.int64), np.zeros(2, dtype=bool), TypeError, "int32"),
        (np.zeros((1, 256), dtype=np.int32), np.zeros(1, dtype=bool), ValueError, ">= 2"),
        (np.zeros((2, 256), dtype=np.int32), np.zeros(3, dtype=bool), ValueError, "entries"),
        (np.full((2, 256), 2, dtype=np.int32), np.zeros(2, dtype=bool), ValueError, "outside"),
        (np.full((2, 256), -1, dtype=np.int32), np.zeros(2, dtype=bool), ValueError, "outside"),
        (np.zeros((2, 256), dtype=np.int32), np.zeros(2, dtype=np.int32), TypeError, "format"),
        ("ab", np.zeros(2, dtype=bool), TypeError, "numpy array"),
    ],
)
def test_native_minimize_rejects_bad_input(
    table: object, accepting: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        _native.minimize(table, accepting)


def test_native_minimize_takes_two_arguments() -> None:
    with pytest.raises(TypeError):
        _native.minimize(np.zeros((2, 256), dtype=np.int32), np.zeros(2, dtype=bool), 4)


def test_unreachable_states_are_merged_into_the_dead_state() -> None:
    table = np.zeros((5, 256), dtype=np.int32)
    table[1, ord("a")] = 2  # 1 -a-> 2 (accepting)
    table[3, ord("b")] = 4  # 3 -b-> 4: live, but nothing reaches 3
    accepting = np.array([False, False, True, False, True])
    got, acc = same(table, accepting)
    assert got.shape[0] == 3 and acc.tolist() == [False, False, True]


@pytest.mark.parametrize("seed", range(30))
def test_string_minimisation_equals_its_twin(seed: int) -> None:
    """The JSON Schema string compiler's minimisation (native Hopcroft) and its specification
    (Moore from the partition by distance to acceptance) give the same table."""
    rng = random.Random(500 + seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 4)))
    table, accepting = random_dfa(rng, rng.randint(2, 120), alphabet)
    got, want = _minimize(table, accepting), _minimize_py(table, accepting)
    np.testing.assert_array_equal(got.table, want.table)
    np.testing.assert_array_equal(got.accepting, want.accepting)
