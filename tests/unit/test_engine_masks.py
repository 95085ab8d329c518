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
from corral import Grammar, Matcher, Tokenizer
from corral import compile as compile_grammar
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
def test_mask_equals_brute_force_full_vocab(name: str) -> None:
    cg = compiled_library(name)
    all_ids = list(range(cg.vocab_size))
    for prefix in _prefix_states(name, 4, seed=len(name)):
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
def test_mask_equals_brute_force_tiny_vocab(grammar_text: str, tiny_tok: Tokenizer) -> None:
    cg = compile_grammar(Grammar.from_lark(grammar_text), tiny_tok)
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
