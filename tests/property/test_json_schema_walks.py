"""Compliance of JSON Schema grammars: what the token mask allows leads only to valid instances.

Random walks pick uniformly among the allowed tokens of the real SmolLM2 vocabulary (EOS
included) for a few dozen steps; a walk that has not ended is finished by the shortest completion
(:func:`corral.conformance.shortest_completion`). The text must then be JSON (Python's ``json``,
duplicate names refused) and valid for jsonschema's validator of the schema's draft with its
format checker. The schemas avoid the documented departures that a JSON parser cannot see
(duplicate undeclared names with ``minProperties``, decimal ``multipleOf`` in floats).
"""

from __future__ import annotations

import functools
import json
import random
import re
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for

from conftest import smollm2
from corral import Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.completion import shortest_completion
from corral.grammars.json_schema import compile_json_schema

D7 = "http://json-schema.org/draft-07/schema#"
MAX_STEPS = 40
WALKS = 15

SCHEMAS: dict[str, Any] = {
    "record": {
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string",
                       "maxLength": 8}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
        "required": ["id"], "additionalProperties": False,
    },
    "numbers": {"type": "array", "prefixItems": [
        {"type": "number", "minimum": -2.5, "exclusiveMaximum": 100},
        {"type": "integer", "multipleOf": 7, "minimum": -100, "maximum": 1000}],
        "items": False, "minItems": 2},
    "pattern": {"type": "string", "pattern": "^[A-Z][a-z]*( [A-Z][a-z]*)*$", "maxLength": 20},
    "formats": {"type": "object", "properties": {
        "when": {"type": "string", "format": "date-time"},
        "mail": {"type": "string", "format": "email"}}, "required": ["when", "mail"]},
    "one-of": {"oneOf": [
        {"type": "object", "properties": {"k": {"const": "n"}, "v": {"type": "number"}},
         "required": ["k", "v"], "additionalProperties": False},
        {"type": "object", "properties": {"k": {"const": "s"}, "v": {"type": "string"}},
         "required": ["k", "v"], "additionalProperties": False}]},
    "tree": {"$defs": {"node": {"type": "object", "properties": {
        "v": {"type": "integer"},
        "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
        "required": ["v"], "additionalProperties": False}}, "$ref": "#/$defs/node"},
    "any-of-not": {"anyOf": [{"type": "string", "not": {"enum": ["", "a"]}},
                             {"type": "integer", "not": {"multipleOf": 2}}, {"type": "null"}]},
    "tuple-draft7": {"$schema": D7, "type": "array", "items": [{"type": "boolean"},
                     {"type": "string", "minLength": 2}], "additionalItems": False},
    "keys": {"type": "object", "patternProperties": {"^n": {"type": "number"},
             "^s": {"type": "string"}}, "propertyNames": {"maxLength": 4},
             "additionalProperties": False, "maxProperties": 3},
    "if-then-else": {"type": "object", "properties": {"t": {"enum": ["i", "s"]}, "v": {}},
                     "required": ["t", "v"], "additionalProperties": False,
                     "if": {"properties": {"t": {"const": "i"}}},
                     "then": {"properties": {"v": {"type": "integer"}}},
                     "else": {"properties": {"v": {"type": "string"}}}},
    "unique": {"type": "array", "items": {"enum": [1, 2, 3, "x"]}, "uniqueItems": True,
               "minItems": 1},
}  # fmt: skip


_LEAP = re.compile(r"(\d{4}-\d\d-\d\d[Tt])(\d\d):(\d\d):60(\.\d+)?([Zz]|([+-])(\d\d):(\d\d))")
_BASE = Draft202012Validator.FORMAT_CHECKER


def _date_time(value: object) -> bool:
    """RFC 3339 §5.6 ``date-time`` with leap seconds (§5.7), as the JSON Schema test suite has it.

    jsonschema's checker (``rfc3339-validator``) rejects every second 60 and the year 0000 (it
    goes through :mod:`datetime`); RFC 3339 allows a second 60 where the time in UTC is 23:59:60
    (the offset shifts it) and any four-digit year, which is what corral enforces. Year 0000 is
    checked as 2000 (both leap years).
    """
    if not isinstance(value, str):
        return True
    if value.startswith("0000-"):
        value = "2000-" + value[5:]
    leap = _LEAP.fullmatch(value)
    if leap is None:
        return bool(_BASE.conforms(value, "date-time"))
    minutes = int(leap[2]) * 60 + int(leap[3])
    if leap[6]:
        offset = int(leap[7]) * 60 + int(leap[8])
        minutes -= offset if leap[6] == "+" else -offset
    if minutes % 1440 != 23 * 60 + 59:
        return False
    return bool(_BASE.conforms(value.replace(":60", ":59", 1), "date-time"))


def _validator(schema: Any) -> Any:
    checker = FormatChecker()
    checker.checkers = {**_BASE.checkers, "date-time": (_date_time, ())}
    return validator_for(schema)(schema, format_checker=checker)


@functools.cache
def _compiled(name: str, whitespace: str, engine: str) -> CompiledGrammar:
    grammar = compile_json_schema(SCHEMAS[name], whitespace=whitespace)
    return compile_grammar(grammar, smollm2(), engine=engine)


def _declared(schema: Any) -> set[str]:
    """Every name that some ``properties`` of ``schema`` declares."""
    if isinstance(schema, list):
        return set().union(*map(_declared, schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties", {}))
    return names.union(*map(_declared, schema.values()))


def _load(text: str, declared: set[str]) -> Any:
    """``json.loads``, asserting that no declared name repeats in an object (undeclared names
    may: a documented departure)."""

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs if k in declared]
        assert len(keys) == len(set(keys)), f"declared name repeated in {text!r}"
        return dict(pairs)

    return json.loads(text, object_pairs_hook=pairs_hook, parse_constant=_no_constants)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def walk(cg: CompiledGrammar, rng: random.Random) -> str:
    """A random walk over allowed tokens, finished by the shortest completion."""
    tok = smollm2()
    m = Matcher(cg)
    out = bytearray()
    for _ in range(rng.randint(1, MAX_STEPS)):
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
        assert m.accept_bytes(tail) and m.is_accepting()
        out += tail
    return bytes(out).decode("utf-8")


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_walks_yield_valid_instances(name: str, engine: str) -> None:
    schema = SCHEMAS[name]
    validator = _validator(schema)
    rng = random.Random(name)
    for i in range(WALKS):
        whitespace = "flexible" if i % 5 == 4 else "compact"
        text = walk(_compiled(name, whitespace, engine), rng)
        value = _load(text, _declared(schema))
        errors = [e.message for e in validator.iter_errors(value)]
        assert errors == [], f"{text!r}: {errors}"
