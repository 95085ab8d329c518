"""The trie-walk mask equals the per-token truth, on every shipped grammar.

The mask (vectorised trie walk with merged Earley sets) and ``accept_token`` (the sequential,
byte-by-byte matcher) are two independent computations of the same set; here they are compared
over the whole SmolLM2 vocabulary at many states, and on a hand-made vocabulary whose tokens
cross lexeme boundaries in every way.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import LIBRARY, compiled_library, library_grammar, smollm2
from corral import Grammar, GrammarError, Matcher, Tokenizer, grammar_fingerprint
from corral import compile as compile_grammar
from corral.automata.dfa import ByteDFA
from corral.automata.ops import difference, intersect, is_empty
from corral.automata.regex import compile_regex
from corral.constraint_engine.compiler import _restrict_now
from corral.constraint_engine.compiler import spellable_bytes as compiler_spellable
from corral.grammars.ir import Rule, Terminal
from corral.testing.derivations import DerivationSampler
from helpers import brute_force_mask, spellable_bytes


def _prefix_states(name: str, n: int, seed: int) -> list[bytes]:
    sampler = DerivationSampler(
        library_grammar(name), max_depth=5, max_lexeme=6, byte_ok=spellable_bytes(smollm2())
    )
    rng = random.Random(seed)
    out = [b""]
    while len(out) < n:
        text = sampler.sample(rng)
        if text:
            out.append(text[: rng.randint(1, len(text))])
    return out


@pytest.mark.parametrize("name", LIBRARY)
def test_mask_equals_brute_force_full_vocab(name: str, engine: str) -> None:
    cg = compiled_library(name, engine)
    all_ids = list(range(cg.vocab_size))
    # the reference engine's sequential per-token check costs seconds per state on sql and c
    n_states = 2 if engine == "reference" and name in ("sql.lark", "c.lark") else 4
    for prefix in _prefix_states(name, n_states, seed=len(name)):
        m = Matcher(cg)
        assert m.accept_bytes(prefix), prefix
        mask = m.allowed_token_mask()
        truth = brute_force_mask(m, all_ids)
        diff = np.nonzero(mask != truth)[0]
        assert diff.size == 0, (
            f"{name} after {prefix!r}: "
            f"{[(int(i), cg.token_bytes(int(i)), bool(mask[i])) for i in diff[:10]]}"
        )


TINY = [
    b"a",
    b"b",
    b"ab",
    b"ba",
    b"aba",
    b"a b",
    b" ",
    b"  ",
    b"(",
    b")",
    b"()",
    b"((",
    b"))",
    b"1",
    b"12",
    b"1 ",
    b"+",
    b"+1",
    b"1+",
    b"1+2",
    b"(1",
    b"1)",
    b"x",
    b"xy",
    b" x",
    b"\xc3",
    b"\xa9",
    b"\xc3\xa9",
    b'"',
    b'"a',
    b'a"',
    b'""',
    b",",
    b", ",
    b'",',
    b"[",
    b"]",
    b"[]",
    b"{",
    b"}",
    b"{}",
    b":",
    b'":',
    b'": ',
    b"true",
    b"tr",
    b"ue",
    b"nul",
    b"l",
]


@pytest.fixture(scope="module")
def tiny_tok() -> Tokenizer:
    return Tokenizer.from_token_bytes([b"<eos>", *TINY], special_ids=[0], eos_ids=[0])


@pytest.mark.parametrize(
    "grammar_text",
    [
        'start: item+\nitem: "a" | "ab" | "b" | "ba"\n',
        'start: expr\nexpr: expr "+" term | term\nterm: NUMBER | "(" expr ")"\n'
        'NUMBER: /[0-9]+/\n%ignore " "\n',
        'start: WORD (" " WORD)*\nWORD: /[a-z\\u00e9]+/\n',
    ],
)
def test_mask_equals_brute_force_tiny_vocab(
    grammar_text: str, tiny_tok: Tokenizer, engine: str
) -> None:
    cg = compile_grammar(Grammar.from_lark(grammar_text), tiny_tok, engine=engine)
    ids = list(range(tiny_tok.vocab_size))
    rng = random.Random(0)
    for _ in range(30):
        m = Matcher(cg)
        for _step in range(rng.randint(0, 6)):
            allowed = m.allowed_tokens()
            if not allowed:
                break
            tid = rng.choice(allowed)
            if tid == 0:
                break
            assert m.accept_token(tid)
        if m.is_terminated():
            continue
        mask = m.allowed_token_mask()
        assert np.array_equal(mask, brute_force_mask(m, ids))


# ---------------------------------------------------------------- bytes in no token


SMOLLM2_UNSPELLABLE = [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2]
SMOLLM2_UNSPELLABLE += list(range(0xF5, 0x100))


def test_spellable_bytes_precondition() -> None:
    """Every byte of a (non-special) token is a one-byte token: SmolLM2 and Qwen."""
    for tok in (smollm2(), Tokenizer.qwen()):
        spellable, single = compiler_spellable(tok.all_token_bytes(), tok.special_token_ids)
        assert (spellable == single).all(), tok.name
        # what compile uses: the same two sets, kept with the tokenizer's trie
        trie = tok.token_trie()
        assert (trie.spellable == spellable).all() and (trie.single == single).all(), tok.name
    spellable, _ = compiler_spellable(smollm2().all_token_bytes(), smollm2().special_token_ids)
    assert np.flatnonzero(~spellable).tolist() == SMOLLM2_UNSPELLABLE
    assert spellable_bytes(smollm2()) == frozenset(np.flatnonzero(spellable).tolist())


def test_unspellable_language_is_refused() -> None:
    tok = smollm2()
    with pytest.raises(GrammarError, match=r"terminal 'PATTERN' .*bytes 0x04 are in no token"):
        compile_grammar(Grammar.from_regex("a\x04b"), tok)
    lark = Grammar.from_lark('start: "x" A\nA: /[\\x13\\x14]+/\n')
    with pytest.raises(GrammarError, match=r"terminal 'A' .*0x13, 0x14") as info:
        compile_grammar(lark, tok)
    assert info.value.rule == "A"


@pytest.mark.parametrize("pattern", ["(a\x04)|b", "a\x04b|b", "b(\x06c)?"])
def test_unspellable_branches_are_cut(pattern: str, engine: str) -> None:
    tok = smollm2()
    m = Matcher(compile_grammar(Grammar.from_regex(pattern), tok, engine=engine))
    allowed = {tok.all_token_bytes()[i] for i in m.allowed_tokens()}
    assert allowed == {b"b"}
    assert not m.accept_bytes(b"a")
    assert m.accept_bytes(b"b") and m.is_accepting()
    assert m.allowed_tokens() == list(tok.eos_token_ids)


@pytest.mark.parametrize(
    ("pattern", "twinned"),
    [
        ("(?s:.)+", True),
        ("[\U00040000-\U000fffff]x|y", True),
        ("[\U00040000-\U000bffff]x|y", False),
        ("a\x04b|b", False),
    ],
)
def test_restriction_keeps_the_language(pattern: str, twinned: bool) -> None:
    """Cutting unspellable bytes gives the language without them; where each cut byte acts as
    a kept one in every state (0xF1 and 0xF2 as 0xF3 in UTF-8) the table is kept as it is."""
    unspellable = np.array(SMOLLM2_UNSPELLABLE, dtype=np.int64)
    dfa = compile_regex(pattern)
    cut, _ = _restrict_now(dfa, unspellable)
    spellable = np.ones(256, dtype=bool)
    spellable[unspellable] = False
    loop = np.zeros((2, 256), dtype=np.int32)
    loop[1, spellable] = 1
    want = intersect(dfa, ByteDFA(loop, np.array([False, True])))
    assert is_empty(difference(cut, want)) and is_empty(difference(want, cut))
    assert (cut.n_states == dfa.n_states) is twinned


def test_unspellable_alternatives_are_pruned(engine: str) -> None:
    tok = smollm2()
    grammar = Grammar.from_lark(
        'start: x | "k" y\nx: "p" BAD "q"\ny: "v" | BAD\nBAD: /\\x16/\n%ignore /\\x1d/\n'
    )
    before = grammar_fingerprint(grammar)
    cg = compile_grammar(grammar, tok, engine=engine)
    assert grammar_fingerprint(grammar) == before  # the input grammar is only read
    assert not cg.tables.ignore
    m = Matcher(cg)
    assert {tok.all_token_bytes()[i] for i in m.allowed_tokens()} <= {b"k", b"kv"}
    assert m.accept_bytes(b"k")
    assert {tok.all_token_bytes()[i] for i in m.allowed_tokens()} == {b"v"}
    assert m.shortest_completion() == b"v"


def test_prebuilt_automaton_is_not_changed(engine: str) -> None:
    tok = smollm2()
    grammar = Grammar.from_regex("[a\\x04]+")
    term = next(iter(grammar.terminals.values()))
    dfa = compile_regex(term.regex())
    table = dfa.table.copy()
    prebuilt = Grammar(
        terminals={"T": Terminal("T", term.pattern, dfa=dfa)},
        rules={"start": Rule("start", (("T",),))},
        start="start",
    )
    m = Matcher(compile_grammar(prebuilt, tok, engine=engine))
    assert (dfa.table == table).all()
    assert not m.accept_bytes(b"a\x04") and m.accept_bytes(b"aa")


def test_tokenizer_without_eos_is_refused() -> None:
    tok = Tokenizer.from_token_bytes([b"a", b"b", b"ab"])
    with pytest.raises(GrammarError, match="no end-of-sequence token"):
        compile_grammar(Grammar.from_regex("a+"), tok)
    with_eos = Tokenizer.from_token_bytes([b"a", b"<e>"], special_ids=[1], eos_ids=[1])
    assert compile_grammar(Grammar.from_regex("a+"), with_eos, vocab_size=64).eos_ids
