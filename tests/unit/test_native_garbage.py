"""The native automata kernels and the trie builder on arbitrary input: a result or a
``ValueError`` / ``TypeError``, never a crash (run under ASan/UBSan by ``scripts/sanitize.sh``
too)."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corral import _native

small = st.integers(min_value=-3, max_value=6)


@st.composite
def tables(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(min_value=0, max_value=6))
    cols = draw(st.sampled_from([256, 256, 256, 255, 3]))
    dtype = draw(st.sampled_from([np.int32, np.int32, np.int64, np.uint8]))
    high = draw(st.integers(min_value=1, max_value=8))  # entries below n are valid states
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32)))
    table = rng.integers(0, high, size=(n, cols))
    if table.size and draw(st.booleans()):
        table.flat[rng.integers(table.size)] = draw(st.sampled_from([-1, 1 << 20]))
    return table.astype(dtype)


@st.composite
def vectors(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from([np.int64, np.int64, np.int32, np.uint8, np.bool_]))
    return np.array(draw(st.lists(small, max_size=8)), dtype=np.int64).astype(dtype)


@settings(max_examples=300, deadline=None)
@given(st.lists(tables(), max_size=3), st.integers(min_value=-1, max_value=20))
def test_lexer_product_never_crashes(parts: list[np.ndarray], bound: int) -> None:
    try:
        got = _native.lexer_product(parts, bound)
    except (ValueError, TypeError):
        return
    if got is not None:
        table, tuples, n = got
        assert len(table) == n * 256 * 4 and len(tuples) == n * len(parts) * 4


@settings(max_examples=300, deadline=None)
@given(vectors(), vectors(), vectors(), vectors(), vectors(), small, tables(), vectors(), small)
def test_trie_walk_never_crashes(
    child_ptr: np.ndarray, child_ids: np.ndarray, node_byte: np.ndarray,
    tok_ptr: np.ndarray, tok_ids: np.ndarray, vocab: int, table: np.ndarray,
    accepting: np.ndarray, start: int,
) -> None:  # fmt: skip
    try:
        got = _native.trie_walk(child_ptr, child_ids, node_byte, tok_ptr, tok_ids, vocab, table,
                                accepting, start)  # fmt: skip
    except (ValueError, TypeError):
        return
    assert len(got[0]) == vocab
    moves = _native.trie_walk(child_ptr, child_ids, node_byte, tok_ptr, tok_ids, vocab, table,
                              accepting, start, True)  # fmt: skip
    assert moves[1:4] == got[1:4] and len(moves[5]) == len(moves[6]) and moves[7] >= 1
    with contextlib.suppress(ValueError):  # from another node: checked as well, no crash
        below = _native.trie_walk(child_ptr, child_ids, node_byte, tok_ptr, tok_ids, vocab,
                                  table, accepting, start, True, start % 7)  # fmt: skip
        assert len(below[5]) == len(below[6]) and below[7] >= 1


@settings(max_examples=300, deadline=None)
@given(tables(), vectors())
def test_minimize_never_crashes(table: np.ndarray, accepting: np.ndarray) -> None:
    try:
        t, a, n = _native.minimize(table, accepting)
    except (ValueError, TypeError):
        return
    assert 2 <= n <= table.shape[0] and len(t) == n * 1024 and len(a) == n


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.binary(max_size=5), st.binary(max_size=5), st.none(), st.text()), max_size=12
    ),
    st.binary(max_size=14),
)
def test_trie_build_never_crashes(tokens: list[object], excluded: bytes) -> None:
    try:
        got = _native.trie_build(tokens, excluded)
    except (ValueError, TypeError):
        return
    n = len(got[0])
    assert len(got[1]) == (n + 1) * 8 and len(got[6]) == len(tokens) * 8
