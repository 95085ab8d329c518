"""The short-lexeme grammar (``corral.infill.short_lexemes``): large terminals cut to their
words of at most ``SHORT_BYTES`` bytes, a subset of the language that lower tiers fall back on.

Each cut automaton is exactly its terminal's short words; a chart over the short-lexeme grammar
only finds completions the full grammar has (checked against the exact chart on
hypothesis-drawn templates, and by the matcher); and a canvas whose narrowed tiers ran out of
their share on a string of ``maxLength: 4096`` is now decided by them within the work bound.
"""

from __future__ import annotations

import dataclasses
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
from corral.automata.ops import difference, intersect, is_empty
from corral.constraint_engine.compiler import CompiledGrammar
from corral.infill import Canvas, Hole
from corral.infill.chart import Chart
from corral.infill.short_lexemes import (
    LARGE_STATES,
    SHORT_BYTES,
    at_most_bytes,
    short_lexeme_grammar,
)
from corral.infill.template import Part, pattern_of
from corral.infill.token_moves import TokenMoves
from corral.limits import DEFAULT_LIMITS

LONG_STRINGS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["count", "title", "url"],
    "properties": {
        "count": {"type": ["integer", "null"], "minimum": 0},
        "title": {"type": ["string", "null"], "maxLength": 4096},
        "url": {"type": ["string", "null"], "maxLength": 4096},
        "visible": {"type": ["boolean", "null"]},
    },
}
DOC = (
    b'{"count":120,"title":"An Example Video","url":"https://www.example.com/video","visible":true}'
)

LARK = 'start: item ("," item)*\nitem: WORD | "[" start "]"\nWORD: /[a-c]{1,200}/\n'
VOCAB = [b"<eos>", b"a", b"b", b"c", b"ab", b"abc", b"cab", b",", b"[", b"]", b",a", b"],"]


@functools.cache
def tiny(engine: str) -> CompiledGrammar:
    tok = Tokenizer.from_token_bytes(VOCAB, special_ids=[0], eos_ids=[0])
    return compile_grammar(Grammar.from_lark(LARK), tok, engine=engine)


def test_at_most_bytes() -> None:
    dfa = at_most_bytes(3)
    for n in range(6):
        m_state = 1
        for _ in range(n):
            m_state = int(dfa.table[m_state, 0x41])
        assert bool(dfa.accepting[m_state]) is (n <= 3), n
    assert at_most_bytes(0).accepting.tolist() == [False, True]


@pytest.mark.parametrize("engine", ENGINES)
def test_large_terminals_keep_their_short_words(engine: str) -> None:
    cg = compile_grammar(Grammar.from_json_schema(LONG_STRINGS), smollm2(), engine=engine)
    short = short_lexeme_grammar(cg)
    assert short is not None and short.native is None
    assert short.tables is cg.tables and short.trie is cg.trie
    cap = at_most_bytes(SHORT_BYTES)
    cut = 0
    for big, small in zip(cg.dfas, short.dfas, strict=True):
        if big.n_states <= LARGE_STATES:
            assert small is big
            continue
        want = intersect(big, cap)
        assert is_empty(difference(small, want)) and is_empty(difference(want, small))
        cut += small is not big
    assert cut >= 1
    again = short_lexeme_grammar(cg)
    assert again is not None  # the cut automata are kept with the automata: cut once
    assert all(a is b for a, b in zip(again.dfas, short.dfas, strict=True))


def test_grammars_without_large_terminals_are_kept() -> None:
    cg = compile_grammar(Grammar.from_lark('start: "a" B\nB: /[0-9]+/\n'), smollm2())
    assert short_lexeme_grammar(cg) is None


def _template(holes: int) -> st.SearchStrategy[list[Part]]:
    hole = st.builds(Hole, tokens=st.integers(0, holes)) | st.builds(
        Hole, max_tokens=st.integers(0, holes)
    )
    fixed = st.lists(st.sampled_from(list(b"abc,[]")), max_size=4).map(bytes)
    return st.lists(hole | fixed, max_size=5)


def _chart(cg: CompiledGrammar, parts: Sequence[Part]) -> Chart:
    pattern = pattern_of(parts, cg.limits, cg.trie, utf8=False)
    return Chart(cg, pattern, TokenMoves(cg), full=False, causes=True)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_short_lexeme_charts_are_sound(engine: str, data: st.DataObject) -> None:
    """Completions of the short-lexeme grammar are completions of the grammar, and templates
    whose words need no lexeme past ``SHORT_BYTES`` bytes have one in both."""
    cg = tiny(engine)
    short = short_lexeme_grammar(cg)
    assert short is not None
    parts = data.draw(_template(4))
    got = _chart(short, parts)
    want = _chart(cg, parts)
    if got.completable:
        assert want.completable, parts
        text = got.text()
        assert text is not None
        m = Matcher(cg)
        assert m.accept_bytes(text) and m.is_accepting(), (parts, text)
    if want.completable and len(want.text() or b"") <= SHORT_BYTES:
        assert got.completable, parts


@pytest.mark.parametrize("engine", ENGINES)
def test_canvas_of_long_strings_is_decided_within_the_bound(engine: str) -> None:
    """Placed in this order under a 1,000,000-step bound, the first check ran the narrowed tiers
    past their share on the 4096-character strings and the full trie past the bound
    (``LimitExceeded`` after seconds); the short-lexeme grammar now decides each check."""
    limits = dataclasses.replace(DEFAULT_LIMITS, max_infill_work=1_000_000)
    tok = smollm2()
    grammar = Grammar.from_json_schema(LONG_STRINGS)
    cg = compile_grammar(grammar, tok, limits=limits, engine=engine)
    ids = tok.encode(DOC.decode())
    length = 64
    seq = ids + [cg.eos_ids[0]] * (length - len(ids))
    canvas = Canvas(cg, length)
    for p in random.Random(6).sample(range(length), 6):
        assert canvas.place(p, seq[p]), p
    assert sum(canvas._tiers.decided[:3]) == canvas.checks
    rest = [p for p in range(length) if canvas.tokens[p] is None]
    for p in rest:
        assert canvas.place(p, seq[p]), p
    assert canvas.text() == DOC
    assert np.array_equal(np.asarray(canvas.tokens), np.asarray(seq))
