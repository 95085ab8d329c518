"""Soundness of JSON Schema grammars on instances drawn by hypothesis-jsonschema.

hypothesis-jsonschema (drafts 4–7) draws valid instances of each schema; jsonschema's validator
confirms them (guarding against generator bugs); written in the output shape by
``serialize_instance``, every one must be accepted by the compiled grammar in both whitespace
modes. The schemas use keywords whose meaning is the same in draft 7 and 2020-12, or declare
draft 7.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as cu
from hypothesis_jsonschema import _from_schema as hj_from_schema
from hypothesis_jsonschema import from_schema
from jsonschema.validators import validator_for

from conftest import smollm2
from corral import Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.grammars.json_schema import compile_json_schema, serialize_instance
from helpers import spellable_bytes

D7 = "http://json-schema.org/draft-07/schema#"

SCHEMAS: dict[str, Any] = {
    "integer": {"type": "integer", "minimum": -50, "maximum": 1000, "multipleOf": 5},
    "number": {"type": "number", "exclusiveMinimum": -1.5, "maximum": 1e6},
    "string-length": {"type": "string", "minLength": 1, "maxLength": 12},
    "string-pattern": {"type": "string", "pattern": "^[a-z]{2,5}-[0-9]+$"},
    "formats": {"type": "object", "required": ["d", "ip4", "ip6", "mail"],
                "properties": {"d": {"type": "string", "format": "date"},
                               "ip4": {"type": "string", "format": "ipv4"},
                               "ip6": {"type": "string", "format": "ipv6"},
                               "mail": {"type": "string", "format": "email"}}},
    "object-closed": {
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string"},
                       "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
        "required": ["id"], "additionalProperties": False,
    },
    "object-patterns": {
        "type": "object", "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": {"type": "boolean"}, "maxProperties": 4,
    },
    "array-bounds": {"type": "array", "items": {"type": ["integer", "null"]}, "minItems": 1,
                     "maxItems": 5},
    "tuple-draft7": {"$schema": D7, "type": "array",
                     "items": [{"type": "string"}, {"type": "number"}],
                     "additionalItems": {"type": "boolean"}},
    "enum": {"enum": [1, "one", None, [1, "x"], {"k": [True]}, 2.5]},
    "any-of": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "object",
               "properties": {"a": {"type": "integer"}}, "required": ["a"]}]},
    "one-of-discriminator": {"oneOf": [
        {"type": "object", "properties": {"k": {"const": "a"}, "n": {"type": "integer"}},
         "required": ["k", "n"], "additionalProperties": False},
        {"type": "object", "properties": {"k": {"const": "b"}, "s": {"type": "string"}},
         "required": ["k"], "additionalProperties": False}]},
    "refs-draft7": {"$schema": D7, "definitions": {
        "point": {"type": "object", "properties": {"x": {"type": "integer"},
                                                   "y": {"type": "integer"}},
                  "required": ["x", "y"], "additionalProperties": False}},
        "type": "object", "properties": {"from": {"$ref": "#/definitions/point"},
                                         "to": {"$ref": "#/definitions/point"}},
        "required": ["from"]},
    "not": {"not": {"type": ["string", "object", "array"]}},
    "dependencies-draft7": {"$schema": D7, "type": "object",
                            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                            "dependencies": {"a": ["b"]}, "additionalProperties": False},
    "unique-enum": {"type": "array", "items": {"enum": ["r", "g", "b", 0]}, "uniqueItems": True},
    "contains": {"type": "array", "items": {"type": "integer"},
                 "contains": {"minimum": 10}, "maxItems": 4},
    "if-then-else": {"type": "integer", "if": {"minimum": 0}, "then": {"multipleOf": 2},
                     "else": {"maximum": -10}},
}  # fmt: skip


_END = object()


class _LegacyMany:
    """``many(...).more()``, the API hypothesis-jsonschema 0.23 uses to draw object members,
    over the iterator API that replaced it in recent hypothesis releases."""

    def __init__(self, data: Any, **kwargs: Any) -> None:
        self._many = cu.many(data, **kwargs)
        self._many.__enter__()
        self._it = iter(self._many)

    def more(self) -> bool:
        if next(self._it, _END) is _END:
            self._many.__exit__(None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


@pytest.fixture(autouse=True, scope="module")
def _object_members_shim() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        if not hasattr(cu.many, "more"):
            mp.setattr(hj_from_schema, "cu", SimpleNamespace(many=_LegacyMany))
        yield


@functools.cache
def _compiled(name: str, whitespace: str) -> CompiledGrammar:
    grammar = compile_json_schema(SCHEMAS[name], whitespace=whitespace)
    return compile_grammar(grammar, smollm2())


@functools.cache
def _strategy(name: str) -> st.SearchStrategy[Any]:
    return from_schema(SCHEMAS[name])


@functools.cache
def _validator(name: str) -> Any:
    schema = SCHEMAS[name]
    cls = validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("name", list(SCHEMAS))
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)  # fmt: skip
@given(data=st.data())
def test_drawn_instances_are_accepted(name: str, data: st.DataObject) -> None:
    instance = data.draw(_strategy(name))
    assert _validator(name).is_valid(instance), json.dumps(instance)
    for whitespace in ("compact", "flexible"):
        text = serialize_instance(instance, SCHEMAS[name], whitespace=whitespace)
        m = Matcher(_compiled(name, whitespace))
        data_bytes = text.encode("utf-8")
        spellable = spellable_bytes(smollm2())
        first = next((i for i, b in enumerate(data_bytes) if b not in spellable), None)
        if first is not None:  # a byte in no SmolLM2 token: cut from the compiled language
            assert m.valid_prefix_length(data_bytes) == first, text
            continue
        assert m.accept_bytes(data_bytes) and m.is_accepting(), text
