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


def test_long_chain_stops_refining_in_both() -> None:
    """A chain needs one round per link: past MAX_MOORE_ROUNDS both keep it unminimised."""
    n = 4 * MAX_MOORE_ROUNDS
    table = np.zeros((n, 256), dtype=np.int32)
    for s in range(1, n - 1):
        table[s, ord("a")] = s + 1
    accepting = np.ones(n, dtype=bool)
    accepting[0] = False
    got, _ = same(table, accepting)
    assert got.shape[0] == n


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
    ("table", "accepting", "rounds", "error", "words"),
    [
        (np.zeros((2, 256), dtype=np.int64), np.zeros(2, dtype=bool), 4, TypeError, "int32"),
        (np.zeros((1, 256), dtype=np.int32), np.zeros(1, dtype=bool), 4, ValueError, ">= 2"),
        (np.zeros((2, 256), dtype=np.int32), np.zeros(3, dtype=bool), 4, ValueError, "entries"),
        (np.full((2, 256), 2, dtype=np.int32), np.zeros(2, dtype=bool), 4, ValueError, "outside"),
        (np.full((2, 256), -1, dtype=np.int32), np.zeros(2, dtype=bool), 4, ValueError, "outside"),
        (np.zeros((2, 256), dtype=np.int32), np.zeros(2, dtype=np.int32), 4, TypeError, "format"),
        (np.zeros((2, 256), dtype=np.int32), np.zeros(2, dtype=bool), -1, ValueError, ">= 0"),
        ("ab", np.zeros(2, dtype=bool), 4, TypeError, "numpy array"),
    ],
)
def test_native_minimize_rejects_bad_input(
    table: object, accepting: object, rounds: int, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        _native.minimize(table, accepting, rounds)  # type: ignore[arg-type]
