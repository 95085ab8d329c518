"""Compliance: whatever the mask allows leads only to strings of the language.

Random walks sample only allowed tokens of the real SmolLM2 vocabulary (EOS included); where a
walk stops before EOS, it is finished by the shortest completion. The string must then be
accepted by an independent parser: lark's own Earley parser (``lexer="dynamic_complete"``) on
the original Lark grammar, Python's ``json`` module for the JSON grammars.
"""

from __future__ import annotations

import functools
import json
import random

import lark
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LIBRARY, compiled_library, smollm2
from corral import CompiledGrammar, Matcher
from corral.constraint_engine.completion import shortest_completion
from corral.grammars import library_path

# Random steps per walk: enough to reach nested states, few enough for the reference matcher.
MAX_STEPS = {"json.lark": 14, "json.gbnf": 14, "arithmetic.lark": 10, "sql.lark": 6, "c.lark": 6}


@functools.cache
def lark_parser(name: str) -> lark.Lark:
    with open(library_path(name), encoding="utf-8") as fh:
        return lark.Lark(fh.read(), parser="earley", lexer="dynamic_complete")


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def check_independently(name: str, text: str) -> None:
    if name.startswith("json"):
        json.loads(text, parse_constant=_no_constants)
    if name.endswith(".lark"):
        lark_parser(name).parse(text)


# Walks per grammar: 200 on the native engine, fewer on the (slower) reference, which the
# differential test holds bit for bit to the native engine.
REFERENCE_EXAMPLES = {"c.lark": 30, "sql.lark": 30, "json.lark": 60, "arithmetic.lark": 60}


@pytest.mark.parametrize("name", LIBRARY)
def test_random_walks_yield_valid_strings(name: str, engine: str) -> None:
    cg = compiled_library(name, engine)

    @settings(
        max_examples=REFERENCE_EXAMPLES.get(name, 200) if engine == "reference" else 200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(seed=st.integers(0, 2**32 - 1))
    def run(seed: int) -> None:
        walk_and_check(name, cg, seed)

    run()


def walk_and_check(name: str, cg: CompiledGrammar, seed: int) -> None:
    """A random walk over the allowed tokens, finished by the shortest completion; the text
    must parse with an independent parser."""
    rng = random.Random(seed)
    tok = smollm2()
    m = Matcher(cg)
    out = bytearray()
    for _ in range(rng.randint(0, MAX_STEPS[name])):
        allowed = np.nonzero(m.allowed_token_mask())[0]
        assert allowed.size, f"dead end after {bytes(out)!r}"
        tid = int(rng.choice(allowed.tolist()))
        assert m.accept_token(tid)
        if m.is_terminated():
            break
        out += tok.token_bytes(tid)
    if not m.is_terminated():
        tail = shortest_completion(m)
        assert tail is not None, f"no completion after {bytes(out)!r}"
        assert m.accept_bytes(tail)
        assert m.is_accepting()
        out += tail
    text = bytes(out).decode("utf-8")
    check_independently(name, text)
