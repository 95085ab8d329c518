"""Byte classes (equal columns of a next-state table): the native kernel
(``corral._native.byte_classes``) against its Python twin, and the kernel's input checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library
from corral import _native
from corral.automata.dfa import column_classes, column_classes_native, column_classes_py

# The native kernel's column hash (FNV-1a over 32-bit entries from this seed), restated here
# to build two different columns with the same hash.
_SEED, _PRIME, _MASK = 0x9E3779B97F4A7C15, 0x100000001B3, 2**64 - 1


def same(table: np.ndarray) -> np.ndarray:
    native, py = column_classes_native(table), column_classes_py(table)
    assert native.dtype == py.dtype == np.int64 and native.shape == (256,)
    np.testing.assert_array_equal(native, py)
    return native


def colliding_columns() -> tuple[list[int], list[int]]:
    """Two different 2-entry columns (as uint32) that the kernel's hash does not tell apart."""
    rng = random.Random(0)
    seen: dict[int, int] = {}
    while True:
        a = rng.getrandbits(32)
        high = (((_SEED ^ a) * _PRIME) & _MASK) >> 32
        other = seen.setdefault(high, a)
        if other != a:
            break
    h1, h2 = ((_SEED ^ other) * _PRIME) & _MASK, ((_SEED ^ a) * _PRIME) & _MASK
    return [other, 5], [a, 5 ^ ((h1 ^ h2) & 0xFFFFFFFF)]


@pytest.mark.parametrize("seed", range(40))
def test_native_byte_classes_equal_twin_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    distinct = int(rng.integers(1, 40))
    columns = rng.integers(-3, n, size=(n, distinct)).astype(np.int32)
    table = np.ascontiguousarray(columns[:, rng.integers(0, distinct, size=256)])
    classes = same(table)
    assert classes[0] == 0 and int(classes.max()) + 1 <= distinct
    # bytes share a class exactly when their columns are equal
    for b in rng.integers(0, 256, size=20).tolist():
        for c in rng.integers(0, 256, size=20).tolist():
            assert (classes[b] == classes[c]) == bool(np.array_equal(table[:, b], table[:, c]))


@pytest.mark.parametrize("name", LIBRARY)
def test_native_byte_classes_equal_twin_on_library_automata(name: str) -> None:
    for dfa in compiled_library(name).dfas:
        np.testing.assert_array_equal(same(dfa.table), dfa.byte_classes())


def test_native_byte_classes_survive_a_hash_collision() -> None:
    first, second = colliding_columns()
    table = np.zeros((2, 256), dtype=np.uint32)
    table[:, 7] = first
    table[:, 9] = second
    classes = same(table.view(np.int32))
    assert len({int(classes[0]), int(classes[7]), int(classes[9])}) == 3
    assert classes[8] == classes[0]


def test_column_classes_takes_any_layout() -> None:
    table = np.arange(512, dtype=np.int64).reshape(256, 2).T % 3
    np.testing.assert_array_equal(column_classes(table), column_classes_py(table))


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((np.zeros((2, 256), dtype=np.int32), 3), ValueError),
        ((np.zeros((2, 256), dtype=np.int32), 0), ValueError),
        ((np.zeros((2, 256), dtype=np.int32), -1), ValueError),
        ((np.zeros((2, 256), dtype=np.int32), 2**62), ValueError),
        ((np.zeros((2, 256), dtype=np.int32)[:, ::2], 1), ValueError),
        ((b"\x00" * 1023, 1), ValueError),
        (("not a buffer", 1), TypeError),
        ((np.zeros((2, 256), dtype=np.int32), "2"), TypeError),
    ],
)
def test_native_byte_classes_reject_bad_input(args: tuple[object, object], error: type) -> None:
    with pytest.raises(error):
        _native.byte_classes(*args)


def test_column_classes_native_rejects_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        column_classes_native(np.zeros((3, 255), dtype=np.int32))
