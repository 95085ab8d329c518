"""Complements over open objects, against ``jsonschema``, on random schemas and random values.

Random schemas nest ``not``, ``oneOf``, ``anyOf`` and ``allOf`` over object schemas with
``properties``, ``patternProperties``, ``additionalProperties``, ``required``,
``propertyNames`` and ``min``/``maxProperties``; random objects over a small key and value
alphabet, written in the grammar's member order (``serialize_instance``), must be accepted by
the compiled grammar exactly when ``jsonschema`` says they are valid, in both engines. A schema
corral calls empty must have no valid value among the draws.
"""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import smollm2
from corral import Matcher
from corral import compile as compile_grammar
from corral.grammars.json_schema import compile_json_schema, serialize_instance

KEYS = ["a", "b", "x1", "xy", ""]
SCALARS: list[Any] = [0, 1, 2.5, "", "s", "x1", True, None]
LEAVES: list[Any] = [
    {"type": "integer"}, {"type": "string"}, {"type": "string", "maxLength": 1},
    {"enum": [0, "s"]}, {}, {"type": "object"}, {"not": {"type": "integer"}}, False, True,
]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth > 1 or r < 0.6:
        return rng.choice(SCALARS)
    if r < 0.85:
        return {k: random_value(rng, depth + 1) for k in rng.sample(KEYS, rng.randint(0, 3))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]


def random_object(rng: random.Random, depth: int) -> dict[str, Any]:
    def member() -> Any:
        return rng.choice(LEAVES) if depth > 0 or rng.random() < 0.7 else random_schema(rng, 1)

    s: dict[str, Any] = {}
    if rng.random() < 0.8:
        s["type"] = "object"
    if rng.random() < 0.6:
        s["properties"] = {k: member() for k in rng.sample(KEYS, rng.randint(1, 2))}
    if rng.random() < 0.4:
        s["patternProperties"] = {rng.choice(["^x", "y$", "1"]): rng.choice(LEAVES)}
    if rng.random() < 0.5:
        s["additionalProperties"] = member()
    if rng.random() < 0.3:
        s["required"] = rng.sample(KEYS, rng.randint(1, 2))
    if rng.random() < 0.2:
        s["propertyNames"] = rng.choice([{"maxLength": 1}, {"pattern": "^[ab]"}])
    if rng.random() < 0.2:
        s["minProperties"] = rng.randint(0, 2)
    if rng.random() < 0.2:
        s["maxProperties"] = rng.randint(1, 3)
    return s


def random_schema(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    r = rng.random()
    if depth >= 2:
        return random_object(rng, depth)
    if r < 0.35:
        return {"not": random_object(rng, depth + 1)}
    if r < 0.7:
        return {"oneOf": [random_object(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    if r < 0.85:
        return {"allOf": [random_object(rng, depth + 1), {"not": random_object(rng, depth + 1)}]}
    inner = {"oneOf": [random_object(rng, depth + 1), random_object(rng, depth + 1)]}
    return {"anyOf": [random_object(rng, depth + 1), inner]}


@pytest.mark.parametrize("engine", ["native", "reference"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_complements_agree_with_jsonschema(engine: str, seed: int) -> None:
    rng = random.Random(seed)
    schema = random_schema(rng)
    validator = jsonschema.Draft202012Validator(schema)
    values = [
        random_value(rng)
        if rng.random() < 0.3
        else {k: random_value(rng, 1) for k in rng.sample(KEYS, rng.randint(0, 4))}
        for _ in range(60)
    ]
    grammar = compile_json_schema(schema)
    if grammar.is_empty:
        assert not any(validator.is_valid(v) for v in values), schema
    cg = compile_grammar(grammar, smollm2(), engine=engine)
    for v in values:
        text = serialize_instance(v, schema).encode()
        m = Matcher(cg)
        assert (m.accept_bytes(text) and m.is_accepting()) is validator.is_valid(v), (schema, v)
