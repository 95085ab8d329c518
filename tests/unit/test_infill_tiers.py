"""Narrowed vocabularies (``corral.infill.tiers``): every tier brackets the exact answer.

A chart over a narrowed trie may only say "completable" when the full trie's chart does, the
upper bound (token holes widened to any bytes) may only say "not completable" when it does not,
and the ladder's answer is always the full trie's. Checked on hypothesis-drawn templates with
token holes over a tiny vocabulary and over SmolLM2's, and on canvases of a JSON Schema grammar.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ENGINES, smollm2
from corral import Grammar, Matcher, Tokenizer
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.infill import Canvas, Hole
from corral.infill.chart import Chart
from corral.infill.template import Part, pattern_of
from corral.infill.tiers import Tiers, _factors, _loose, _over, finite_terminals
from corral.infill.token_moves import TokenMoves
from corral.tokenizers.token_trie import TokenTrie
from helpers import PERSON_SCHEMA

GRAMMARS = {
    "keywords": 'start: stmt+\nstmt: "let" NAME "=" NAME ";" | "print" NAME ";"\n'
    "NAME: /[a-z]+/\n%ignore / +/\n",
    "nested": 'start: "a" start "b" | "c"\n',
    "json": 'start: value\nvalue: "{" [pair ("," pair)*] "}" | "[" [value ("," value)*] "]"'
    ' | STRING | "true"\npair: STRING ":" value\nSTRING: /"[a-z]*"/\n',
}
ALPHABET = {"keywords": b"letprintab=; ", "nested": b"abc", "json": b'{}[],:"atrue'}
VOCAB = [b"<eos>", b"a", b"b", b"c", b"ab", b"let", b" let", b"print", b" ", b"=", b";", b"t",
         b"{", b"}", b'{"', b'":', b'"', b",", b"[", b"]", b"true", b"e", b"l", b"p", b"r",
         b"i", b"n", b":", b'"}', b"u", b"abc", b"=a;"]  # fmt: skip


@functools.cache
def tiny(name: str, engine: str) -> CompiledGrammar:
    tok = Tokenizer.from_token_bytes(VOCAB, special_ids=[0], eos_ids=[0])
    return compile_grammar(Grammar.from_lark(GRAMMARS[name]), tok, engine=engine)


def exact(cg: CompiledGrammar, parts: Sequence[Part], moves: TokenMoves) -> bool:
    pattern = pattern_of(parts, cg.limits, cg.trie, utf8=False)
    return Chart(cg, pattern, moves, full=False).completable


def holes(parts: Sequence[Part]) -> int:
    return sum(1 for p in parts if isinstance(p, Hole) and (p.tokens, p.max_tokens) != (None,) * 2)


def over(cg: CompiledGrammar, parts: Sequence[Part], trie: TokenTrie, moves: TokenMoves) -> Chart:
    tries = dict.fromkeys(range(holes(parts)), trie)
    pattern = pattern_of(parts, cg.limits, cg.trie, utf8=False, tries=tries)
    return Chart(cg, pattern, moves, full=False)


def bracketed(cg: CompiledGrammar, parts: list[Part]) -> None:
    """Each tier is sound, the ladder agrees with the full trie, and its completion is one."""
    moves = TokenMoves(cg)
    tiers = Tiers(cg, moves)
    want = exact(cg, parts, moves)
    for trie in tiers._tries():
        assert not over(cg, parts, trie, moves).completable or want, parts
    assert over(cg, _over(parts), tiers._upper(), moves).completable or not want, parts
    assert over(cg, _loose(parts), tiers._upper(), moves).completable or not want, parts
    chart = tiers.chart(parts, utf8=False)
    assert chart.completable is want, parts
    text = chart.text()
    if text is not None:
        m = Matcher(cg)
        assert m.accept_bytes(text) and m.is_accepting(), (parts, text)


def template(alphabet: bytes, holes: int) -> st.SearchStrategy[list[Part]]:
    hole = st.builds(Hole, tokens=st.integers(0, holes)) | st.builds(
        Hole, max_tokens=st.integers(0, holes)
    )
    fixed = st.lists(st.sampled_from(list(alphabet)), max_size=4).map(bytes)
    return st.lists(hole | fixed, max_size=5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tiers_bracket_the_full_trie(name: str, engine: str, data: st.DataObject) -> None:
    bracketed(tiny(name, engine), data.draw(template(ALPHABET[name], 4)))


@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_tiers_bracket_the_full_trie_on_smollm2(name: str, data: st.DataObject) -> None:
    cg = compile_grammar(Grammar.from_lark(GRAMMARS[name]), smollm2())
    bracketed(cg, data.draw(template(ALPHABET[name], 2)))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", range(2))
def test_canvas_checks_agree_with_the_full_trie(engine: str, seed: int) -> None:
    """Random contents of a JSON Schema canvas (SmolLM2): the canvas's answer is the full
    trie's, and the narrowed tiers decide some of them."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2(), engine=engine)
    rng = random.Random(seed)
    doc = b'{"name":"Ann","tags":["x","yz"],"age":41}'
    ids = smollm2().encode(doc.decode())
    length = len(ids) + 4
    seq = ids + [cg.eos_ids[0]] * 4
    moves = TokenMoves(cg)
    canvas = Canvas(cg, length)
    for p in rng.sample(range(length), length):
        tok = seq[p] if rng.random() < 0.8 else rng.randrange(cg.vocab_size)
        probe = list(canvas.tokens)
        probe[p] = tok
        got = canvas._template(probe)
        want = got is not None and exact(cg, got[0], moves)
        assert canvas.place(p, tok) is want, (probe, p)
        if canvas.tokens[p] != seq[p]:
            if canvas.tokens[p] is not None:
                canvas.unplace(p)
            assert canvas.place(p, seq[p])
    assert canvas.text() == doc
    assert sum(canvas._tiers.decided[:5]) > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_the_loose_upper_bound_refutes_first(engine: str) -> None:
    """No word of ``a^n c b^n`` ends with ``a``: no narrowed tier completes the template, and
    the upper bound with every token hole a loop (``Σ*``) refutes it before the counted one."""
    cg = tiny("nested", engine)
    tiers = Tiers(cg, TokenMoves(cg))
    parts: list[Part] = [Hole(tokens=3), b"a", Hole(max_tokens=2), b"a"]
    assert not tiers.chart(parts, utf8=False).completable
    assert tiers.decided == [0, 0, 0, 1, 0, 0]
    assert not exact(cg, parts, TokenMoves(cg))


def test_finite_terminals() -> None:
    cg = tiny("keywords", "reference")
    names = cg.tables.terminal_names
    finite = {names[t] for t in finite_terminals(cg.dfas)}
    assert finite == set(names) - {"NAME", "__IGNORE_0"}, finite


def test_factor_tokens_spell_factors_of_finite_terminals() -> None:
    """Tier 2's factor tokens: exactly the tokens that spell a factor (a substring) of a word of
    a terminal with finitely many words, checked against the words listed by brute force."""
    vocab = [b"<eos>", b"a", b"b", b"c", b"ab", b"bc", b"abc", b"ca", b"x", b"y", b"xy", b"yx",
             b"q", b"qq"]  # fmt: skip
    tok = Tokenizer.from_token_bytes(vocab, special_ids=[0], eos_ids=[0])
    cg = compile_grammar(Grammar.from_lark('start: "abc" | "xy" | NAME\nNAME: /q+/\n'), tok)
    finite = finite_terminals(cg.dfas)
    words = [b"abc", b"xy"]
    spelled = cg.token_byte_strings
    want = {i for i, b in enumerate(spelled) if b and any(b in w for w in words)}
    assert _factors(cg.trie, cg.dfas, finite) == want
    assert {spelled[i] for i in want} == {b"a", b"b", b"c", b"ab", b"bc", b"abc", b"x", b"y",
                                          b"xy"}  # fmt: skip


def test_subset_keeps_ids() -> None:
    tok = smollm2()
    trie = tok.token_trie()
    spelled = tok.token_bytes_tuple()
    rng = np.random.default_rng(0)
    ids = {int(i) for i in rng.choice(trie.vocab_size, 500, replace=False)}
    sub = trie.subset(ids, spelled)
    kept = {i for i in ids if trie.token_node[i] >= 0}
    want = TokenTrie.build_py([spelled[i] if i in kept else b"" for i in range(trie.vocab_size)],
                              frozenset())  # fmt: skip
    for name in ("node_byte", "child_ptr", "child_ids", "node_tok_ptr", "node_tok_ids",
                 "token_node"):  # fmt: skip
        assert (getattr(sub, name) == getattr(want, name)).all(), name
    assert sub.vocab_size == trie.vocab_size and sub.max_depth == want.max_depth
    assert set(np.flatnonzero(sub.token_node >= 0).tolist()) == kept
    assert trie.subset([], spelled).n_nodes == 1
    for bad in (-1, trie.vocab_size, 2**40):
        with pytest.raises(ValueError, match="out of range"):
            trie.subset([0, bad], spelled)
    with pytest.raises(TypeError, match="ints"):
        trie.subset([1.5], spelled)  # type: ignore[list-item]
