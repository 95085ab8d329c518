"""Shortest completions reuse their finishing values between calls (the matcher's memo): after
any mix of accepts and rollbacks they equal those of a fresh matcher fed the same bytes."""

from __future__ import annotations

import random

import numpy as np
import pytest

import corral
from conftest import compiled_library, smollm2
from corral import CompiledGrammar, Matcher

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "tags": {"type": "array", "items": {"type": "object",
                                            "properties": {"k": {"type": "integer"}}}},
        "deep": {"$ref": "#"},
    },
    "required": ["name", "tags"],
}  # fmt: skip


def grammars() -> list[CompiledGrammar]:
    return [
        compiled_library("json.lark"),
        compiled_library("arithmetic.lark"),
        corral.compile(corral.Grammar.from_json_schema(SCHEMA), smollm2()),
    ]


@pytest.mark.parametrize("index", range(3))
def test_memoised_completion_equals_fresh_after_accepts_and_rollbacks(index: int) -> None:
    cg = grammars()[index]
    rng = random.Random(index)
    for _ in range(3):
        m = Matcher(cg)
        consumed: list[bytes] = []
        for _ in range(40):
            if consumed and rng.random() < 0.25:
                n = rng.randint(1, len(consumed))
                m.rollback(n)
                del consumed[-n:]
            else:
                allowed = np.flatnonzero(m.allowed_token_mask())
                allowed = [t for t in allowed.tolist() if t not in cg.eos_ids]
                if not allowed:
                    break
                token = rng.choice(allowed)
                assert m.accept_token(token)
                consumed.append(cg.token_bytes(token))
            fresh = Matcher(cg)
            assert fresh.accept_bytes(b"".join(consumed))
            got = m.shortest_completion()
            assert got == fresh.shortest_completion()
            assert got == m.shortest_completion()  # a second call from the memo
            probe = Matcher(cg)
            assert probe.accept_bytes(b"".join(consumed) + (got or b"")) and probe.is_accepting()
