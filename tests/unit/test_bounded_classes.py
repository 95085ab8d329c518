"""Moore's partition after a bounded number of rounds (the keys of the native engine's cache of
trie walks): the native kernel (``corral._native.bounded_classes``), which only revisits the
predecessors of states that moved, against its Python twin, block for block."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LIBRARY, compiled_library
from corral import _native
from corral.automata.minimize import (
    bounded_classes,
    bounded_classes_native,
    bounded_classes_py,
)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the same states put the same states together."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def check(table: np.ndarray, accepting: np.ndarray, rounds: int) -> np.ndarray:
    native = bounded_classes_native(table, accepting, rounds)
    twin = bounded_classes_py(table, accepting, rounds)
    assert native.shape == twin.shape == (table.shape[0],)
    assert same_partition(native, twin), (rounds, native.tolist(), twin.tolist())
    return native


@st.composite
def dfas(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n = draw(st.integers(2, 40))
    width = draw(st.integers(1, 4))
    live = draw(st.floats(0.3, 1.0))
    rng = random.Random(draw(st.integers(0, 2**32)))
    table = np.array(
        [[0] * width]
        + [[rng.randrange(1, n) if rng.random() < live else 0 for _ in range(width)]
           for _ in range(n - 1)],
        dtype=np.int32,
    )  # fmt: skip
    accepting = np.array([s > 0 and rng.random() < 0.3 for s in range(n)], dtype=bool)
    return table, accepting, draw(st.integers(0, 12))


@settings(max_examples=300, deadline=None)
@given(dfas())
def test_native_equals_twin_on_random_automata(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    check(*case)


@pytest.mark.parametrize("rounds", [0, 1, 5, 64, 128, 1000])
@pytest.mark.parametrize("length", [1, 2, 50, 300])
def test_counter_chain_splits_one_state_per_round(length: int, rounds: int) -> None:
    # a string of 1..length 'a's: state k (k = 1..length+1) has read k-1 of them
    n = length + 2
    table = np.zeros((n, 1), dtype=np.int32)
    for k in range(1, n - 1):
        table[k, 0] = k + 1
    accepting = np.array([False, False] + [True] * length, dtype=bool)
    got = check(table, accepting, rounds)
    # within `rounds` bytes of the end every state is told apart; farther ones share a block
    far = [k for k in range(1, n) if n - 1 - k >= rounds + 1 and k >= 2]
    assert len({int(got[k]) for k in far}) <= 1
    assert len(set(got.tolist())) == min(n, rounds + 3 if rounds + 3 < n else n)


@pytest.mark.parametrize("name", LIBRARY)
def test_native_equals_twin_on_library_automata(name: str) -> None:
    compiled = compiled_library(name)
    for dfa in compiled.dfas[:40]:
        _, _, table = dfa.class_table()
        for rounds in (1, 3, 81, 128):
            check(table, dfa.accepting, rounds)


def test_default_runs_native() -> None:
    table = np.array([[0], [2], [2]], dtype=np.int32)
    accepting = np.array([False, False, True])
    assert same_partition(bounded_classes(table, accepting, 4), np.array([0, 1, 2]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"\0" * 8, 2, 1, b"\0\0", -1), "rounds"),
        ((b"\0" * 8, 2, 1, b"\0", 1), "accepting"),
        ((b"\0" * 4, 2, 1, b"\0\0", 1), "n_states"),
        ((np.array([0, 5], dtype=np.int32).tobytes(), 2, 1, b"\0\0", 1), "outside"),
        ((np.array([0, -1], dtype=np.int32).tobytes(), 2, 1, b"\0\0", 1), "outside"),
        ((b"\0" * 8, 2, 0, b"\0\0", 1), "n_classes"),
    ],
)
def test_native_rejects_bad_input(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _native.bounded_classes(*args)


def test_depth_classes_are_kept_with_the_automaton() -> None:
    from corral.automata.dfa import ByteDFA
    from corral.constraint_engine.native_tables import depth_classes

    # a counter of 1..300 'a's: 302 states, more than rounds + 2 for 8 rounds
    table = np.zeros((302, 256), dtype=np.int32)
    for k in range(1, 301):
        table[k, ord("a")] = k + 1
    dfa = ByteDFA(table, np.array([False, False] + [True] * 300))
    got = depth_classes(dfa, 8)
    assert got.dtype == np.int32
    assert same_partition(got, bounded_classes_py(dfa.class_table()[2], dfa.accepting, 8))
    assert depth_classes(dfa, 8) is got  # computed once per automaton and round count
    assert len(set(got.tolist())) == 8 + 3
    # few states: each its own class, without the rounds
    small = depth_classes(dfa, 400)
    assert small.tolist() == list(range(302))
