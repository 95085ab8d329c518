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

from conftest import ENGINES, LIBRARY, compiled_library, library_grammar, smollm2
from corral.testing.derivations import DerivationSampler
from helpers import random_split, spellable_bytes, walk_checking_masks

_SAMPLERS: dict[str, DerivationSampler] = {}

# Derivation depth per grammar: deep enough to exercise recursion, shallow enough to keep the
# Python reference matcher's per-token masks within the suite's time budget.
HEAVY = ("sql.lark", "c.lark")  # grammars whose reference masks cost tens of milliseconds
DEPTH = {"json.lark": 7, "json.gbnf": 9, "arithmetic.lark": 8, "sql.lark": 2, "c.lark": 3}


def sampler(name: str) -> DerivationSampler:
    got = _SAMPLERS.get(name)
    if got is None:
        got = DerivationSampler(
            library_grammar(name),
            max_depth=DEPTH[name],
            max_lexeme=1 if name in HEAVY else 8,
            ignore_probability=0.1 if name in HEAVY else 0.25,
            byte_ok=spellable_bytes(smollm2()),
        )
        _SAMPLERS[name] = got
    return got


# Examples per grammar and engine: 200 on the native engine; fewer on the reference, whose
# Python masks cost a quarter of a second (sql.lark) or tens of milliseconds (c.lark,
# arithmetic.lark) each, and which the differential test (test_native_differential) holds bit
# for bit to the native engine on random walks of every grammar. The heavy grammars' examples
# are split into shards (disjoint seed ranges) so that the test runner can spread them over its
# workers.
REFERENCE_EXAMPLES = {
    "sql.lark": 8,
    "c.lark": 12,
    "arithmetic.lark": 20,
    "json.lark": 60,
    "json.gbnf": 100,
}
SHARDS = {
    name: (4 if name in HEAVY else 2 if name in REFERENCE_EXAMPLES else 1) for name in LIBRARY
}
CASES = [
    (name, shard, engine)
    for engine in ENGINES
    for shard in range(max(SHARDS.values()))
    for name in LIBRARY
    if shard < SHARDS[name]
]


@pytest.mark.parametrize(("name", "shard", "engine"), CASES)
def test_random_derivations_are_never_blocked(name: str, shard: int, engine: str) -> None:
    n_shards = SHARDS[name]
    span = 2**32 // n_shards
    examples = REFERENCE_EXAMPLES[name] if engine == "reference" else 200

    @settings(
        max_examples=examples // n_shards,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(seed=st.integers(shard * span, (shard + 1) * span - 1))
    def run(seed: int) -> None:
        check_derivation(name, seed, engine)

    run()


def check_derivation(name: str, seed: int, engine: str = "native") -> None:
    """One random derivation, canonical and random tokenization, masks checked at each step."""
    rng = random.Random(seed)
    cg = compiled_library(name, engine)
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
