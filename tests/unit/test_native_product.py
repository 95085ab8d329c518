"""The product of two automata over joint byte classes: the native kernel
(``corral._native.dfa_product``) against its Python twin, pair for pair, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library
from corral import _native
from corral.automata import ByteDFA, compile_regex
from corral.automata.ops import difference, intersect, union
from corral.automata.product import MODES, product_table_native, product_table_py
from corral.errors import GrammarError


def random_table(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    table = rng.integers(0, n, size=(n, classes)).astype(np.int32)
    table[rng.random(size=(n, classes)) < 0.3] = 0
    table[0] = 0
    return table


def same(ta: np.ndarray, tb: np.ndarray, mode: str, max_states: int = 20_000) -> int:
    nt, nx, ny = product_table_native(ta, tb, mode, max_states)
    pt, px, py = product_table_py(ta, tb, mode, max_states)
    assert nt.dtype == pt.dtype == np.int32 and nx.dtype == px.dtype == np.int64
    np.testing.assert_array_equal(nt, pt)
    np.testing.assert_array_equal(nx, px)
    np.testing.assert_array_equal(ny, py)
    return int(nt.shape[0])


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("seed", range(15))
def test_native_product_equals_twin_on_random_tables(mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(1, 12))
    ta = random_table(rng, int(rng.integers(2, 40)), classes)
    tb = random_table(rng, int(rng.integers(2, 40)), classes)
    n = same(ta, tb, mode)
    assert 2 <= n <= ta.shape[0] * tb.shape[0] + 1


@pytest.mark.parametrize("mode", sorted(MODES))
def test_native_product_refuses_past_the_state_bound_like_the_twin(mode: str) -> None:
    rng = np.random.default_rng(7)
    ta, tb = random_table(rng, 60, 8), random_table(rng, 60, 8)
    n = same(ta, tb, mode)
    assert n > 5
    same(ta, tb, mode, max_states=n - 1)  # the last id is n - 1: still within the bound
    for fn in (product_table_native, product_table_py):
        with pytest.raises(GrammarError, match="exceeds"):
            fn(ta, tb, mode, n - 2)


@pytest.mark.parametrize("name", LIBRARY[:3])
def test_boolean_operations_on_library_automata_match_the_twin(name: str) -> None:
    dfas = compiled_library(name).dfas
    digits = compile_regex("[0-9a-z_]+", "bytes")
    for dfa in dfas[:6]:
        for op in (intersect, union, difference):
            got: ByteDFA = op(dfa, digits)
            for word in (b"1", b"abc", b"a_b9", b"true", b"x" * 20):
                in_a, in_b = dfa.matches(word), digits.matches(word)
                want = {intersect: in_a and in_b, union: in_a or in_b}.get(op, in_a and not in_b)
                assert got.matches(word) == want
        cls = np.unique(dfa.byte_classes() * 300 + digits.byte_classes(), return_index=True)[1]
        for mode in MODES:
            same(
                np.ascontiguousarray(dfa.table[:, cls]),
                np.ascontiguousarray(digits.table[:, cls]),
                mode,
            )


def _ok() -> np.ndarray:
    return np.zeros((2, 3), dtype=np.int32)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((_ok(), 3, _ok(), 2, 3, 0, 10), ValueError),  # na does not match the buffer
        ((_ok(), 2, _ok(), 2, 4, 0, 10), ValueError),  # n_classes does not match
        ((_ok(), 2, _ok(), 2, 3, 3, 10), ValueError),  # unknown mode
        ((_ok(), 2, _ok(), 2, 3, -1, 10), ValueError),
        ((_ok(), 2, _ok(), 2, 3, 0, 0), ValueError),  # max_states
        ((_ok(), 2, _ok(), 2, 3, 0, 2**40), ValueError),
        ((_ok(), 2**62, _ok(), 2, 3, 0, 10), ValueError),
        ((np.zeros((1, 3), np.int32), 1, _ok(), 2, 3, 0, 10), ValueError),  # one state
        ((np.full((2, 3), 5, np.int32), 2, _ok(), 2, 3, 0, 10), ValueError),  # out of range
        ((np.full((2, 3), -1, np.int32), 2, _ok(), 2, 3, 1, 10), ValueError),
        ((np.zeros((2, 6), np.int32)[:, ::2], 2, _ok(), 2, 3, 0, 10), ValueError),
        (("text", 2, _ok(), 2, 3, 0, 10), TypeError),
        ((_ok(), "2", _ok(), 2, 3, 0, 10), TypeError),
    ],
)
def test_native_product_rejects_bad_input(args: tuple[object, ...], error: type) -> None:
    with pytest.raises(error):
        _native.dfa_product(*args)


def test_product_table_native_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same C"):
        product_table_native(np.zeros((2, 3), np.int32), np.zeros((2, 4), np.int32), "and", 10)
