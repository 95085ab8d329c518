"""The token trie builder: the native build (``_native.trie_build``) against its Python twin
(:meth:`TokenTrie.build_py`), array for array, and the native function's input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import smollm2
from corral import _native
from corral.tokenizers.token_trie import TokenTrie

FIELDS = [
    "node_byte",
    "child_ptr",
    "child_ids",
    "n_children",
    "node_tok_ptr",
    "node_tok_ids",
    "token_node",
    "spellable",
    "single",
]


def same(a: TokenTrie, b: TokenTrie) -> None:
    for field in FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype, field
        np.testing.assert_array_equal(x, y, err_msg=field)
        assert not x.flags.writeable and not y.flags.writeable
    assert (a.vocab_size, a.max_depth) == (b.vocab_size, b.max_depth)
    assert a.lists() == b.lists()


def test_native_build_equals_twin_on_smollm2() -> None:
    tok = smollm2()
    tokens = [tok.token_bytes(i) for i in range(tok.vocab_size)]
    native = TokenTrie.build_native(tokens, tok.special_token_ids)
    same(native, TokenTrie.build_py(tokens, tok.special_token_ids))
    # the tokenizer's own trie is the native build
    same(tok.token_trie(), native)
    assert native.n_nodes > 90_000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=6).map(lambda b: bytes(x % 4 * 85 for x in b)), max_size=40),
    st.sets(st.integers(-2, 45)),
)
def test_native_build_equals_twin_on_random_vocabularies(
    tokens: list[bytes], excluded: set[int]
) -> None:
    """Small alphabets (bytes 0, 85, 170, 255) make shared prefixes, duplicates and empty
    tokens common; excluded ids may lie outside the vocabulary."""
    skip = frozenset(excluded)
    native = TokenTrie.build_native(tokens, skip)
    same(native, TokenTrie.build_py(tokens, skip))
    for i, data in enumerate(tokens):
        node = int(native.token_node[i])
        if i in skip or not data:
            assert node == -1
            continue
        path = []
        while node != 0:
            path.append(int(native.node_byte[node]))
            parents = np.flatnonzero(
                [
                    node in native.child_ids[native.child_ptr[p] : native.child_ptr[p + 1]]
                    for p in range(native.n_nodes)
                ]
            )
            node = int(parents[0])
        assert bytes(reversed(path)) == data


def test_a_long_token_builds_without_deep_recursion() -> None:
    tokens = [b"a" * 200_000, b"a" * 100_000 + b"b", b"a"]
    same(TokenTrie.build_native(tokens, frozenset()), TokenTrie.build_py(tokens, frozenset()))


def test_native_build_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="token 1 must be bytes"):
        _native.trie_build([b"a", "b"], b"\0\0")
    with pytest.raises(ValueError, match="excluded must have 2 bytes"):
        _native.trie_build([b"a", b"b"], b"\0")
    with pytest.raises(TypeError, match="sequence of bytes"):
        _native.trie_build(7, b"")
    with pytest.raises(TypeError, match="must be bytes"):
        TokenTrie.build_native([b"a", bytearray(b"b")], frozenset())
