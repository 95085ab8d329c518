"""The root walk of the token trie: the native walk (``_native.trie_walk``) against its Python
twin, node for node and in the same order, and the native function's input checks."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library, smollm2
from corral import _native
from corral.automata.regex import compile_regex
from corral.constraint_engine.trie_walk import RootWalk, walk_root_native, walk_root_py
from corral.tokenizers.token_trie import TokenTrie


def same(a: RootWalk, b: RootWalk) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    assert not a[0].flags.writeable and not b[0].flags.writeable
    assert len(a[1]) == len(b[1])
    for (na, sa), (nb, sb) in zip(a[1], b[1], strict=True):
        assert na.dtype == nb.dtype == np.int64  # states: the twin keeps the table's int32
        assert sa.dtype.kind == sb.dtype.kind == "i"
        np.testing.assert_array_equal(na, nb)
        np.testing.assert_array_equal(sa, sb)


@pytest.mark.parametrize("name", LIBRARY)
def test_native_walk_equals_twin_on_library_grammars(name: str) -> None:
    cg = compiled_library(name)
    rng = random.Random(name)
    for dfa in cg.dfas:
        states = sorted({1, *rng.sample(range(1, dfa.n_states), min(3, dfa.n_states - 1))})
        for state in states:
            same(walk_root_native(cg.trie, dfa, state), walk_root_py(cg.trie, dfa, state))
    expected = tuple(sorted(cg.initial_set.expected))
    for lexer in cg.lexers_for(expected):
        same(walk_root_native(cg.trie, lexer, 1), walk_root_py(cg.trie, lexer, 1))


def test_native_walk_on_regexes_and_a_tiny_trie() -> None:
    trie = smollm2().token_trie()
    for regex in ["[a-z]+", " ?[0-9]{1,3}", '"([^"\\\\]|\\\\.)*"', "(ab|a)*c?", "x"]:
        dfa = compile_regex(regex)
        same(walk_root_native(trie, dfa, 1), walk_root_py(trie, dfa, 1))
    tiny = TokenTrie.build([b"a", b"ab", b"abc", b"b", b"", b"ba"], frozenset({3}))
    dfa = compile_regex("ab?c?")
    got = walk_root_native(tiny, dfa, 1)
    same(got, walk_root_py(tiny, dfa, 1))
    assert np.flatnonzero(got[0]).tolist() == [0, 1, 2]
    # "a" and "ab" end lexemes of ab?c? inside the longer tokens "ab", "abc"; "abc" is a leaf
    assert [n.shape[0] for n, _ in got[1]] == [1, 1, 0]


def arrays() -> list[object]:
    trie = TokenTrie.build([b"a", b"ab"], frozenset())
    dfa = compile_regex("ab?")
    return [
        np.array(trie.child_ptr),
        np.array(trie.child_ids),
        np.array(trie.node_byte),
        np.array(trie.node_tok_ptr),
        np.array(trie.node_tok_ids),
        2,
        np.array(dfa.table),
        np.array(dfa.accepting),
    ]


def broken(index: int, value: object) -> list[object]:
    got = arrays()
    got[index] = value
    return got


@pytest.mark.parametrize(
    ("args", "start", "error", "words"),
    [
        (broken(0, np.zeros(3, dtype=np.int32)), 1, TypeError, "child_ptr must hold 8-byte"),
        (broken(1, np.zeros(2, dtype=np.float64)), 1, TypeError, "child_ids"),
        (broken(2, np.zeros(3, dtype=np.int16)), 1, TypeError, "node_byte"),
        (broken(6, np.zeros((3, 256), dtype=np.int64)), 1, TypeError, "table must be int32"),
        (broken(6, np.zeros((3, 255), dtype=np.int32)), 1, ValueError, "shape (n_states, 256)"),
        (broken(7, np.zeros(9, dtype=bool)), 1, ValueError, "accepting must have"),
        (broken(3, np.zeros(2, dtype=np.int64)), 1, ValueError, "node_tok_ptr must have one"),
        (broken(4, np.zeros(2, dtype=np.int32)), 1, TypeError, "node_tok_ids"),
        (broken(5, -1), 1, ValueError, "vocab_size must be >= 0"),
        (broken(5, 1), 1, ValueError, "inconsistent"),
        (broken(4, np.array([0, 7], dtype=np.int64)), 1, ValueError, "inconsistent"),
        (broken(3, np.array([0, 0, 3, 3], dtype=np.int64)), 1, ValueError, "inconsistent"),
        (broken(0, np.zeros(7, dtype=np.int64)), 1, ValueError, "one more entry"),
        (broken(0, np.arange(8, dtype=np.int64)[::2]), 1, ValueError, "contiguous"),
        (arrays(), 99, ValueError, "start state 99"),
        (arrays(), -1, ValueError, "start state -1"),
        (broken(1, np.array([5, 9], dtype=np.int64)), 1, ValueError, "inconsistent"),
        (broken(0, np.array([0, 5, 2, 2], dtype=np.int64)), 1, ValueError, "inconsistent"),
        (broken(0, np.array([-1, 1, 2, 2], dtype=np.int64)), 1, ValueError, "inconsistent"),
        (broken(6, np.full((4, 256), 7, dtype=np.int32)), 1, ValueError, "inconsistent"),
        (broken(2, np.zeros(0, dtype=np.uint8)), 1, ValueError, "one more entry"),
    ],
)
def test_native_walk_rejects_bad_arrays(
    args: list[object], start: int, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        _native.trie_walk(*args, start)


def test_native_walk_rejects_a_cycle() -> None:
    """Arrays that are not a tree (node 1 its own child) end in an error, not a loop."""
    dfa = compile_regex("a*")
    args = [np.array([0, 1, 2], dtype=np.int64), np.array([1, 1], dtype=np.int64),
            np.array([0, 97], dtype=np.uint8), np.zeros(3, dtype=np.int64),
            np.zeros(0, dtype=np.int64), 0, dfa.table, dfa.accepting]  # fmt: skip
    with pytest.raises(ValueError, match="inconsistent"):
        _native.trie_walk(*args, 1)


def test_native_walk_rejects_non_buffers() -> None:
    args = arrays()
    with pytest.raises(TypeError, match="child_ptr must be a numpy array"):
        _native.trie_walk([0, 1], *args[1:], 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _native.trie_walk(*args)  # type: ignore[call-arg]


def test_depth_classes_split_a_counter_whose_states_all_accept() -> None:
    """``(\\w?){0,5}``: every live state accepts, so the first split (the last state) must not
    look stable; native masks after each token equal the reference's (found by the fuzz run,
    seed ``regex_7``)."""
    import corral

    tok = corral.Tokenizer.default()
    grammar = corral.Grammar.from_regex(r"(\w?){0,5}")
    masks = {}
    for engine in ("native", "reference"):
        m = corral.Matcher(corral.compile(grammar, tok, engine=engine))
        seen = []
        for token in (93, 83, 302):
            seen.append(sorted(m.allowed_tokens()))
            assert m.accept_token(token)
        seen.append(sorted(m.allowed_tokens()))
        masks[engine] = seen
    assert masks["native"] == masks["reference"]
    assert 352 not in masks["native"][-1]
