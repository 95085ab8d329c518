"""Soundness: no string of the language is ever blocked.

Hypothesis draws random derivations of each shipped grammar; each string is tokenized with the
real SmolLM2 vocabulary canonically (the tokenizer's own BPE) and with a random non-canonical
split. Every token must be in the mask at its step, and the end state must be accepting with
EOS allowed.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LIBRARY, compiled_library, library_grammar, smollm2
from corral.conformance import DerivationSampler
from helpers import random_split, spellable_bytes, walk_checking_masks

_SAMPLERS: dict[str, DerivationSampler] = {}

# Derivation depth per grammar: deep enough to exercise recursion, shallow enough to keep the
# Python reference matcher's per-token masks within the suite's time budget.
HEAVY = ("sql.lark", "c.lark")  # grammars whose reference masks cost tens of milliseconds
DEPTH = {"json.lark": 7, "json.gbnf": 9, "arithmetic.lark": 8, "sql.lark": 3, "c.lark": 3}


def sampler(name: str) -> DerivationSampler:
    got = _SAMPLERS.get(name)
    if got is None:
        got = DerivationSampler(
            library_grammar(name),
            max_depth=DEPTH[name],
            max_lexeme=2 if name in HEAVY else 8,
            ignore_probability=0.1 if name in HEAVY else 0.25,
            byte_ok=spellable_bytes(smollm2()),
        )
        _SAMPLERS[name] = got
    return got


@pytest.mark.parametrize("name", LIBRARY)
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_derivations_are_never_blocked(name: str, seed: int) -> None:
    rng = random.Random(seed)
    cg = compiled_library(name)
    tok = smollm2()
    text = sampler(name).sample(rng)
    spellable = spellable_bytes(tok)
    assert all(b in spellable for b in text), "sampler produced a byte the vocabulary lacks"
    for ids in (tok.encode(text), random_split(text, tok, rng)):
        assert b"".join(tok.token_bytes(i) for i in ids) == text
        m = walk_checking_masks(cg, ids)
        assert m.is_accepting(), f"complete string not accepting: {text!r}"
        mask = m.allowed_token_mask()
        assert all(mask[e] for e in cg.eos_ids)
