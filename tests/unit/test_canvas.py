"""Canvases (``corral.infill.Canvas``) and the diffusion sampler, against a brute-force oracle.

The oracle lists every token sequence of a small canvas over a tiny vocabulary that the matcher
accepts (end of sequence only as padding at the end); ``allowed`` must be exactly the tokens
those sequences hold at the position, and ``is_completable`` whether one is left.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conftest import ENGINES, compiled_library, smollm2
from corral import Grammar, Matcher, Tokenizer
from corral import compile as compile_grammar
from corral.backends.diffusion import Denoiser, _in_the_masks_law, diffusion_generate
from corral.constraint_engine.bitmask import unpack_bitmask
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import GrammarError, LimitExceeded
from corral.infill import Canvas
from corral.infill.chart import Chart
from corral.jsonschemabench.infill_bench import random_words
from corral.limits import Limits
from helpers import PERSON_SCHEMA

GRAMMARS = {
    "list": 'start: item ("," item)*\nitem: /[ab]+/ | "(" start ")"\n%ignore " "\n',
    "nested": 'start: "a" start "b" | "c"\n',
    "sum": 'start: expr\nexpr: expr "+" term | term\nterm: /[0-9]/ | "(" expr ")"\n',
    # lexemes ending inside tokens, whitespace runs, a required separator next to the ignored
    # one: what the look-ahead and the merged-lexeme rules prune
    "spaced": 'start: item ("," item)*\nitem: W | W _S W\nW: /[ab]+/\n_S: / +/\nWS: / +/\n'
    "%ignore WS\n",
}
VOCABS = {
    "list": [b"a", b"b", b",", b"(", b")", b" ", b"ab", b"a,", b",(", b")b", b"b)"],
    "nested": [b"a", b"b", b"c", b"ab", b"ac", b"cb", b"bb"],
    "sum": [b"1", b"+", b"(", b")", b"1+", b"+(", b")+", b"11"],
    "spaced": [b"a", b"b", b" ", b"  ", b"a ", b" a", b"ab", b"b,", b", ", b", a", b" ,", b"a  b"],
}
LENGTH = 4
EOS = 0


@functools.cache
def tiny(name: str, engine: str) -> CompiledGrammar:
    """``name``'s grammar over its vocabulary, id 0 the end of sequence."""
    tok = Tokenizer.from_token_bytes([b"<eos>", *VOCABS[name]], special_ids=[0], eos_ids=[0])
    return compile_grammar(Grammar.from_lark(GRAMMARS[name]), tok, engine=engine)


def text_of(cg: CompiledGrammar, seq: tuple[int, ...]) -> bytes | None:
    """The text of a full canvas, ``None`` when padding is followed by a token."""
    first = seq.index(EOS) if EOS in seq else len(seq)
    if any(t != EOS for t in seq[first:]):
        return None
    return b"".join(cg.token_bytes(t) or b"" for t in seq[:first])


@functools.cache
def oracle(name: str, engine: str) -> tuple[tuple[int, ...], ...]:
    """Every full canvas of ``LENGTH`` tokens whose text the matcher accepts."""
    cg = tiny(name, engine)
    out = []
    verdict: dict[bytes, bool] = {}
    for seq in itertools.product(range(cg.vocab_size), repeat=LENGTH):
        text = text_of(cg, seq)
        if text is None:
            continue
        if text not in verdict:
            m = Matcher(cg)
            verdict[text] = m.accept_bytes(text) and m.is_accepting()
        if verdict[text]:
            out.append(seq)
    return tuple(out)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_allowed_agrees_with_the_oracle(name: str, engine: str, data: st.DataObject) -> None:
    cg = tiny(name, engine)
    fixed = data.draw(st.dictionaries(
        st.integers(0, LENGTH - 1), st.integers(0, cg.vocab_size - 1), max_size=2,
    ))  # fmt: skip
    canvas = Canvas(cg, LENGTH, [fixed.get(p) for p in range(LENGTH)])  # completable or not
    fits = [s for s in oracle(name, engine) if all(s[p] == t for p, t in fixed.items())]
    assert canvas.is_completable() is bool(fits)
    for p in range(LENGTH):
        if p in fixed:
            continue
        want = np.zeros(cg.vocab_size, dtype=bool)
        for s in fits:
            want[s[p]] = True
        got = canvas.allowed_mask(p)
        assert (got == want).all(), (fixed, p, np.flatnonzero(got), np.flatnonzero(want))
        assert (unpack_bitmask(canvas.allowed(p), cg.vocab_size) == want).all()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", range(4))
def test_random_order_ends_in_the_language(engine: str, seed: int) -> None:
    """Placing allowed tokens in random order always ends with a text the matcher accepts,
    and ``unplace`` gives back the masks a fresh canvas of the same content has."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2(), engine=engine)
    rng = random.Random(seed)
    canvas = Canvas(cg, 20)
    for p in rng.sample(range(canvas.length), canvas.length):
        before = canvas.allowed(p)
        allowed = np.flatnonzero(canvas.allowed_mask(p))
        assert allowed.shape[0] > 0
        tok = int(rng.choice(allowed.tolist()))
        assert canvas.place(p, tok)
        if rng.random() < 0.3:  # take it back and check the mask is the same from scratch
            assert canvas.unplace(p) == tok
            fresh = Canvas(cg, canvas.length, canvas.tokens)
            assert (fresh.allowed(p) == before).all()
            assert canvas.place(p, tok)
    text = canvas.text()
    assert text is not None
    m = Matcher(cg)
    assert m.accept_bytes(text) and m.is_accepting(), text
    Draft202012Validator(PERSON_SCHEMA).validate(json.loads(text))


def test_place_refuses_what_cannot_be_completed() -> None:
    cg = tiny("nested", "native")
    a, b, c = 1, 2, 3
    canvas = Canvas(cg, 3)
    assert not canvas.place(0, b)  # no word starts with "b"
    assert canvas.tokens == (None, None, None)
    assert canvas.place(0, a) and canvas.place(2, b)
    assert not canvas.place(1, a)  # "aab" is not a word
    assert canvas.place(1, c) and canvas.text() == b"acb"
    canvas = Canvas(cg, 3)
    assert canvas.place(1, EOS)  # text in one token: "c"
    assert not canvas.place(2, c)  # padding is followed only by padding
    assert canvas.place(0, c) and canvas.place(2, EOS) and canvas.text() == b"c"
    assert np.flatnonzero(Canvas(cg, 1).allowed_mask(0)).tolist() == [c]


def test_bad_input() -> None:
    cg = tiny("nested", "native")
    for length in (0, -1, 10**9):
        with pytest.raises(ValueError, match="positions"):
            Canvas(cg, length)
    with pytest.raises(TypeError):
        Canvas(cg, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="token"):
        Canvas(cg, 2, [None, -3])
    with pytest.raises(ValueError, match="positions"):
        Canvas(cg, 2, [None])
    canvas = Canvas(cg, 3)
    for pos in (-1, 3, 2**40):
        with pytest.raises(ValueError, match="position"):
            canvas.allowed(pos)
    for tok in (-1, cg.vocab_size, 2**40):
        with pytest.raises(ValueError, match="token"):
            canvas.place(0, tok)
    with pytest.raises(TypeError):
        canvas.place(0, "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="masked already"):
        canvas.unplace(0)
    assert canvas.place(0, 1)
    with pytest.raises(ValueError, match="already holds"):
        canvas.place(0, 1)
    unique = Grammar.from_json_schema({"type": "array", "uniqueItems": True})
    with pytest.raises(GrammarError, match="uniqueItems"):
        Canvas(compile_grammar(unique, smollm2()), 4)
    empty = Canvas(compile_grammar(Grammar.from_json_schema(False), smollm2()), 4)
    assert not empty.is_completable() and not empty.allowed_mask(0).any()
    bounded = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2(),
                              limits=Limits(max_infill_work=200))  # fmt: skip
    with pytest.raises(LimitExceeded, match="max_infill_work"):
        Canvas(bounded, 30).allowed(10)


# ------------------------------------------------------------------ the diffusion sampler
def random_denoiser(vocab: int, seed: int, adversarial: bool = False):  # type: ignore[no-untyped-def]
    """Seeded random logits; the adversarial one prefers brackets, quotes and end of
    sequence (tokens that break JSON where they stand)."""
    rng = np.random.default_rng(seed)
    bias = np.zeros(vocab)
    if adversarial:
        for t, b in enumerate(smollm2().token_bytes_tuple()[:vocab]):
            bias[t] = 4.0 * sum(b.count(c) for c in b'{}[]",:')
        bias[list(smollm2().eos_token_ids)] = 30.0

    def denoise(tokens):  # type: ignore[no-untyped-def]
        return rng.normal(size=(len(tokens), vocab)) + bias

    return denoise


@pytest.mark.parametrize("mode", ["mask", "propose"])
@pytest.mark.parametrize("adversarial", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_diffusion_sampler_ends_in_the_language(mode: str, adversarial: bool, seed: int) -> None:
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    denoise = random_denoiser(cg.vocab_size, seed, adversarial)
    result = diffusion_generate(cg, denoise, 24, mode=mode, per_step=2, seed=seed)
    m = Matcher(cg)
    assert m.accept_bytes(result.text) and m.is_accepting(), result.text
    Draft202012Validator(PERSON_SCHEMA).validate(json.loads(result.text))
    assert len(result.tokens) == 24 and result.steps == 12
    assert len(result.constraint_seconds) == 24
    if mode == "propose" and adversarial:
        assert result.refused > 0


@pytest.mark.parametrize("seed", range(2))
def test_proposals_take_the_masks_tokens(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy proposals take the best-ranked token that keeps the canvas completable — the
    mask's choice. The denoiser is surest of the leftmost masked position and ranks ``]``
    first there, so the one proposal is refused and, the positions before being placed, the
    ranking goes on within the left-to-right matcher's mask instead of computing the canvas's."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    close = smollm2().token_bytes_tuple().index(b"]")

    def denoiser():  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(seed)

        def denoise(tokens):  # type: ignore[no-untyped-def]
            out = rng.normal(size=(len(tokens), cg.vocab_size))
            left = next(i for i, t in enumerate(tokens) if t is None)
            out[left, close] += 60.0
            return out

        return denoise

    masks: list[int] = []
    allowed_mask = Canvas.allowed_mask

    def counted(self: Canvas, position: int):  # type: ignore[no-untyped-def]
        masks.append(position)
        return allowed_mask(self, position)

    monkeypatch.setattr(Canvas, "allowed_mask", counted)
    by_mask = diffusion_generate(cg, denoiser(), 20, mode="mask")
    n_mask = len(masks)
    proposed = diffusion_generate(cg, denoiser(), 20, mode="propose", tries=1)
    assert proposed.tokens == by_mask.tokens
    assert n_mask == 20 and len(masks) - n_mask <= 3 and proposed.refused > 0
    m = Matcher(cg)
    assert m.accept_bytes(proposed.text) and m.is_accepting()


def surest_of_0_and_5(
    cg: CompiledGrammar, seen: list[tuple[int | None, ...]], at_5: list[int]
) -> Denoiser:
    """A denoiser surest of position 0, with ``{`` first, then of position 5, with ``at_5``
    first; it keeps every canvas it is shown in ``seen``."""
    brace = smollm2().token_bytes_tuple().index(b"{")

    def denoise(tokens):  # type: ignore[no-untyped-def]
        seen.append(tuple(tokens))
        out = np.random.default_rng(len(seen)).normal(size=(len(tokens), cg.vocab_size))
        out[5, at_5] += 90.0
        out[0, brace] += 60.0
        return out

    return denoise


def test_refused_positions_are_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every proposal is refused at a position with masked positions before it, the next
    surest position goes first and the mask waits.
    The denoiser is surest of position 5 and ranks a control character (never in JSON text)
    first there, then of position 0 with ``{`` first: the first step places ``{`` at 0 and
    computes no mask, and position 5 waits while positions before it are masked."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    vocab = smollm2().token_bytes_tuple()
    bad, brace = vocab.index(b"\x01"), vocab.index(b"{")
    seen: list[tuple[int | None, ...]] = []
    denoise = surest_of_0_and_5(cg, seen, [bad])

    masks: list[tuple[int, int]] = []
    allowed_mask = Canvas.allowed_mask

    def counted(self: Canvas, position: int):  # type: ignore[no-untyped-def]
        masks.append((len(seen), position))
        return allowed_mask(self, position)

    monkeypatch.setattr(Canvas, "allowed_mask", counted)
    got = diffusion_generate(cg, denoise, 24, mode="propose", tries=1)
    assert seen[1][0] == brace and seen[1][5] is None
    assert all(step > 1 for step, _ in masks)  # no mask in the first step
    passed = [k for k, tokens in enumerate(seen) if tokens[5] is None and k > 0]
    assert len(passed) > 1 and got.tokens[5] != bad and got.refused >= len(passed)
    m = Matcher(cg)
    assert m.accept_bytes(got.text) and m.is_accepting()


def test_masks_past_the_bound_take_the_masks_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mask that runs past the work bound (here the first, on the fully masked canvas, where
    they cost most) gives way to checks down the ranking: the loop takes the same tokens as with
    every mask computed, and counts it. The denoiser is surest of position 0 and ranks ``]``
    first there, then ``{``."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    vocab = smollm2().token_bytes_tuple()

    def denoiser():  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(3)

        def denoise(tokens):  # type: ignore[no-untyped-def]
            out = rng.normal(size=(len(tokens), cg.vocab_size))
            out[0, vocab.index(b"]")] += 90.0
            out[0, vocab.index(b"{")] += 80.0
            return out

        return denoise

    want = diffusion_generate(cg, denoiser(), 20, mode="mask", per_step=4)
    allowed_mask, calls = Canvas.allowed_mask, []

    def bounded(self: Canvas, position: int):  # type: ignore[no-untyped-def]
        calls.append(position)
        if len(calls) == 1:
            raise LimitExceeded("past the bound", limit="max_infill_work", value=1)
        return allowed_mask(self, position)

    monkeypatch.setattr(Canvas, "allowed_mask", bounded)
    got = diffusion_generate(cg, denoiser(), 20, mode="mask", per_step=4)
    assert calls[0] == 0 and got.tokens[0] == vocab.index(b"{")
    assert got.tokens == want.tokens and (want.past_bound, got.past_bound) == (0, 1)


def test_positions_whose_masks_find_no_token_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mask past the work bound whose draws are all refused, at a position with masked
    positions before it, gives way to the next surest position; the position waits, and its
    mask is asked again only once more of the positions before it are placed. The denoiser is
    surest of position 0 (``{``), then of position 5, where it ranks every control character
    (never in JSON text) first; position 5's mask runs past the bound while a position before it
    is masked."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    vocab = smollm2().token_bytes_tuple()
    controls = [
        t for t, b in enumerate(vocab) if b and all(c < 32 and c not in b"\t\n\r" for c in b)
    ]
    brace = vocab.index(b"{")
    seen: list[tuple[int | None, ...]] = []
    denoise = surest_of_0_and_5(cg, seen, controls)

    allowed_mask = Canvas.allowed_mask
    asked: list[int] = []  # positions placed before 5 each time its mask ran past the bound

    def bounded(self: Canvas, position: int):  # type: ignore[no-untyped-def]
        if position == 5 and None in self.tokens[:5]:
            asked.append(5 - self.tokens[:5].count(None))
            raise LimitExceeded("past the bound", limit="max_infill_work", value=1)
        return allowed_mask(self, position)

    monkeypatch.setattr(Canvas, "allowed_mask", bounded)
    got = diffusion_generate(cg, denoise, 24, mode="mask")
    assert seen[1][0] == brace and seen[1][5] is None
    assert len(asked) >= 2 and asked == sorted(set(asked))  # again only after more is placed
    waited = [k for k, t in enumerate(seen) if k > 0 and t[5] is None and None in t[:5]]
    assert len(waited) > len(asked) and got.past_bound == len(asked)
    assert got.tokens[5] not in controls
    m = Matcher(cg)
    assert m.accept_bytes(got.text) and m.is_accepting()
    monkeypatch.setattr(Canvas, "allowed_mask", lambda self, position: (_ for _ in ()).throw(
        LimitExceeded("past the bound", limit="max_infill_work", value=1)))  # fmt: skip
    with pytest.raises(LimitExceeded):  # the leftmost masked position never waits
        diffusion_generate(cg, denoise, 24, mode="mask")


def test_draws_past_the_bound_stay_within_the_matchers_mask() -> None:
    """Where the positions before are placed, the draws that stand in for a mask past the bound
    are taken within the left-to-right matcher's mask (a superset of the canvas's): twenty
    tokens that cannot follow ``{`` ranked first do not use up the draws."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    vocab = smollm2().token_bytes_tuple()
    canvas = Canvas(cg, 24, [vocab.index(b"{")] + [None] * 23)
    row = np.zeros(cg.vocab_size)
    row[[vocab.index(bytes((c,))) for c in b"abcdefghijklmnopqrst"]] = 50.0
    row[vocab.index(b'"')] = 40.0
    rng = np.random.default_rng(0)
    assert _in_the_masks_law(canvas, 1, row, 0.0, rng) == vocab.index(b'"')
    assert canvas.checks == 1


def test_masks_past_the_bound_are_remembered() -> None:
    """A mask that ran past the work bound raises again for the same content without a new
    chart."""
    bounded = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2(),
                              limits=Limits(max_infill_work=200))  # fmt: skip
    canvas = Canvas(bounded, 30)
    with pytest.raises(LimitExceeded, match="max_infill_work"):
        canvas.allowed(10)
    checks = canvas.checks
    gc.collect()
    assert not [x for x in gc.get_objects() if isinstance(x, Chart)]  # the memo holds no chart
    with pytest.raises(LimitExceeded, match="max_infill_work"):
        canvas.allowed(10)
    assert canvas.checks == checks
    with pytest.raises(LimitExceeded, match="max_infill_work"):  # a check of its own
        canvas.place(10, smollm2().token_bytes_tuple().index(b"1"))
    assert canvas.checks > checks


@pytest.mark.parametrize("engine", ENGINES)
def test_sampling_past_the_bound_follows_the_masks_law(engine: str) -> None:
    """Sampled draws without replacement, checked by ``place``, follow the softmax restricted to
    the mask: frequencies over 3,000 draws within 0.03 of it."""
    cg = tiny("sum", engine)
    one = cg.token_byte_strings.index(b"1")
    canvas = Canvas(cg, LENGTH, [one, None, None, None])
    row = np.random.default_rng(0).normal(size=cg.vocab_size)
    allowed = canvas.allowed_mask(1)
    law = np.where(allowed, np.exp(row), 0.0)
    law /= law.sum()
    rng = np.random.default_rng(1)
    counts = np.zeros(cg.vocab_size)
    for _ in range(3000):
        counts[_in_the_masks_law(canvas, 1, row, 1.0, rng)] += 1
        canvas.unplace(1)
    assert allowed.sum() > 1 and np.abs(counts / 3000 - law).max() < 0.03


def test_diffusion_sampler_without_constraint_and_bad_input() -> None:
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    denoise = random_denoiser(cg.vocab_size, 0, adversarial=True)
    free = diffusion_generate(cg, denoise, 12, mode="none", per_step=4)
    m = Matcher(cg)
    assert not (m.accept_bytes(free.text) and m.is_accepting())  # what the constraint prevents
    assert free.checks == 0 and free.steps == 3
    sampled = diffusion_generate(cg, random_denoiser(cg.vocab_size, 1), 20, temperature=1.0,
                                 seed=3)  # fmt: skip
    m = Matcher(cg)
    assert m.accept_bytes(sampled.text) and m.is_accepting()
    with pytest.raises(GrammarError, match="fits in 3 tokens"):
        diffusion_generate(cg, denoise, 3)
    with pytest.raises(ValueError, match="mode"):
        diffusion_generate(cg, denoise, 8, mode="greedy")
    with pytest.raises(ValueError, match="per_step"):
        diffusion_generate(cg, denoise, 8, per_step=0)
    with pytest.raises(ValueError, match="shape"):
        diffusion_generate(cg, lambda toks: np.zeros((2, 3)), 16)


@pytest.mark.parametrize("name", ["json.lark", "json.gbnf", "arithmetic.lark", "sql.lark"])
def test_masked_words_stay_completable(name: str) -> None:
    """Random words of the shipped grammars, tokenized, with random positions masked: the
    canvas is completable and each masked position allows the token the word had there."""
    cg = compiled_library(name)
    rng = random.Random(7)
    tok = smollm2()
    for word in random_words(cg, rng, 2 if name == "sql.lark" else 3, max_tokens=12):
        ids = tok.encode(word)
        length = len(ids) + 2
        masked = set(rng.sample(range(len(ids)), min(3, len(ids))))
        full = [*ids, *cg.eos_ids[:1] * 2]
        canvas = Canvas(cg, length, [None if i in masked else t for i, t in enumerate(full)])
        assert canvas.is_completable(), word
        for p in sorted(masked):
            assert canvas.allowed_mask(p)[full[p]], (word, p)
        assert canvas.completion() is not None
