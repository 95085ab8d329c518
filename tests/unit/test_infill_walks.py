"""Infilling's whole-token moves: the native walk (``_native.trie_walk`` with ``moves``) against
its Python twin (``TokenMoves._walk_py``) — the same tokens by state, in the same order, the same
lexeme ends inside tokens, the same work charged — on the shipped grammars, a JSON Schema
grammar, the narrowed tries of the tiers and tiny tries; and the native function's checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library, smollm2
from corral import Grammar, _native
from corral import compile as compile_grammar
from corral.automata.regex import compile_regex
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import LimitExceeded
from corral.infill import Canvas
from corral.infill.chart import Chart
from corral.infill.template import pattern_of
from corral.infill.tiers import Tiers, _any_byte_trie
from corral.infill.token_moves import TokenMoves, Walk
from corral.jsonschemabench.infill_bench import random_words
from corral.tokenizers.token_trie import TokenTrie
from helpers import PERSON_SCHEMA


def walked(moves: TokenMoves, t: int, d: int, native: bool, node: int) -> tuple[Walk, int]:
    work: list[int] = []
    walk = (moves._walk_native if native else moves._walk_py)(t, d, work.append, node)
    return walk, sum(work)


def same_walks(moves: TokenMoves, t: int, d: int, node: int = 0) -> None:
    (a, work_a), (b, work_b) = walked(moves, t, d, True, node), walked(moves, t, d, False, node)
    assert work_a == work_b
    assert a.inner == b.inner
    assert list(a.whole) == sorted(a.whole) and sorted(b.whole) == list(a.whole)
    for state, nodes in a.whole.items():
        assert nodes.dtype == np.int64
        np.testing.assert_array_equal(nodes, b.whole[state])


def every_trie(cg: CompiledGrammar) -> list[TokenMoves]:
    moves = TokenMoves(cg)
    tiers = Tiers(cg, moves)
    return [moves, *(moves.for_trie(t) for t in tiers._tries()), moves.for_trie(
        _any_byte_trie(cg.trie))]  # fmt: skip


@pytest.mark.parametrize("name", [*LIBRARY, "schema"])
def test_native_moves_equal_the_twin(name: str) -> None:
    cg = (
        compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
        if name == "schema"
        else compiled_library(name)
    )
    rng = random.Random(name)
    for moves in every_trie(cg):
        for t, dfa in enumerate(cg.dfas):
            states = {1, *rng.sample(range(1, dfa.n_states), min(3, dfa.n_states - 1))}
            for d in sorted(states):
                same_walks(moves, t, d)
                same_walks(moves, t, d, rng.randrange(moves.trie.n_nodes))  # a subtrie


def test_native_moves_on_a_tiny_trie() -> None:
    tiny = TokenTrie.build([b"a", b"ab", b"abc", b"b", b"", b"ba", b"ab"], frozenset({3}))
    dfa = compile_regex("ab?c?")
    got = _native.trie_walk(tiny.child_ptr, tiny.child_ids, tiny.node_byte, tiny.node_tok_ptr,
                            tiny.node_tok_ids, tiny.vocab_size, dfa.table, dfa.accepting, 1,
                            True)  # fmt: skip
    allowed, inner_nodes, inner_states, _, nodes, states, ends, work = got
    as_ints = [np.frombuffer(x, dtype=np.int64).tolist() for x in (nodes, states, ends)]
    assert allowed == b""
    # "a", "ab" (twice: ids 1 and 6 share a node) and "abc" end at three nodes, each in its own
    # state of ab?c?; "b" and "ba" die at once; "a" and "ab" also end lexemes inside tokens
    assert as_ints == [[1, 2, 3], [2, 3, 4], [1, 2, 3]]
    assert np.frombuffer(inner_nodes, dtype=np.int64).tolist() == [1, 2]
    assert np.frombuffer(inner_states, dtype=np.int64).tolist() == [2, 3]
    assert work == 3  # three frontiers: the root, "a", "ab"


def test_native_moves_check_their_input() -> None:
    trie = TokenTrie.build([b"a", b"ab"], frozenset())
    dfa = compile_regex("ab?")
    args = [trie.child_ptr, trie.child_ids, trie.node_byte, trie.node_tok_ptr,
            trie.node_tok_ids, trie.vocab_size, dfa.table, dfa.accepting]  # fmt: skip
    for start in (-1, dfa.n_states, 2**40):
        with pytest.raises((ValueError, OverflowError)):
            _native.trie_walk(*args, start, True)
    for node in (-1, trie.n_nodes, 2**40):
        with pytest.raises(ValueError, match="outside"):
            _native.trie_walk(*args, 1, True, node)
    bad = list(args)
    bad[1] = np.array([5, 1], dtype=np.int64)  # a child id out of range
    with pytest.raises(ValueError, match="inconsistent"):
        _native.trie_walk(*bad, 1, True)
    bad = list(args)
    bad[4] = np.array([0, 7], dtype=np.int64)  # a token id past vocab_size
    with pytest.raises(ValueError, match="inconsistent"):
        _native.trie_walk(*bad, 1, True)


@pytest.mark.parametrize("name", ["json.lark", "c.lark", "schema"])
def test_span_ends_equal_the_step_by_step_search(name: str) -> None:
    """Every lexeme span a chart asked for (:meth:`Spans.ends`: whole tokens at boundaries, the
    rest of a token walked at once when a lexeme begins inside one) ends where the search one
    product state at a time (:meth:`Spans._search`, which completions read words from) says,
    on canvases of placed and masked positions over the full and the narrowed tries."""
    cg = (
        compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
        if name == "schema"
        else compiled_library(name)
    )
    rng = random.Random(name)
    words = random_words(cg, rng, 3)
    asked = inside = 0
    for word in words:
        ids = smollm2().encode(word)[:12]
        tokens = [t if rng.random() < 0.5 else None for t in ids] + [None] * 4
        for trie in (None, *Tiers(cg, TokenMoves(cg))._tries()):
            parts = Canvas(cg, len(tokens))._template(tokens)
            assert parts is not None
            tries = None if trie is None else dict.fromkeys(range(16), trie)
            pattern = pattern_of(parts[0], cg.limits, cg.trie, utf8=False, tries=tries)
            try:
                chart = Chart(cg, pattern, TokenMoves(cg), full=True, causes=False,
                              limit=200_000)  # fmt: skip
            except LimitExceeded:
                continue
            chart._meter.limit = 10**12  # the step-by-step searches below count too
            for t, p in list(chart.spans._ends):
                assert set(chart.spans.ends(t, p)) == set(chart.spans._search(t, p)[0])
                asked += 1
                inside += p >= len(pattern.chain_byte) and pattern.root_move(p) is None
    assert asked > 100 and (inside > 10 or name == "c.lark")  # c: none begins inside a token
