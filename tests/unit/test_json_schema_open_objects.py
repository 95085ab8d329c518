"""Complements of open objects: ``not`` and overlapping ``oneOf`` over schemas with
``additionalProperties``, ``patternProperties`` or ``propertyNames``.

The complement of such a schema needs "some member whose key is in a set and whose value is in a
set" (:class:`~corral.grammars.json_schema.algebra.Exists`); these tests check the compiled
languages against ``jsonschema`` on fixed texts and on objects drawn by hypothesis, in both
engines, and that a complement of a schema with an unenforced keyword is still refused.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import smollm2
from corral import Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import UnsupportedSchemaError
from corral.grammars.json_schema import compile_json_schema, serialize_instance

TREE = {"t": {"type": "object", "additionalProperties": {
    "anyOf": [{"$ref": "#/$defs/t"}, {"type": "integer"}]}}}  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "not-additional": {"not": {"type": "object", "additionalProperties": {"type": "string"}}},
    "object-not-additional": {"type": "object",
                              "not": {"additionalProperties": {"type": "string"}}},
    "one-of-closed-or-required": {"oneOf": [
        {"type": "object", "properties": {"a": {"type": "integer"}},
         "additionalProperties": False},
        {"type": "object", "required": ["b"]}]},
    "not-pattern-closed": {"not": {"type": "object", "patternProperties": {
        "^x": {"type": "integer"}}, "additionalProperties": False}},
    "one-of-additional-pattern": {"type": "object", "oneOf": [
        {"properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "boolean"}},
        {"patternProperties": {"^x": {"type": "string"}}}]},
    "one-of-three-open": {"type": "object", "oneOf": [
        {"additionalProperties": {"type": "integer"}},
        {"additionalProperties": {"type": "number"}},
        {"propertyNames": {"maxLength": 1}}]},
    "not-property-names": {"type": "object", "maxProperties": 3,
                           "not": {"propertyNames": {"pattern": "^[a-c]$"}}},
    "double-negation": {"type": "object", "not": {"not": {
        "properties": {"a": {"type": "string"}}, "additionalProperties": False}}},
    "not-recursive": {"$defs": TREE, "not": {"$ref": "#/$defs/t"}},
    "one-of-recursive": {"$defs": TREE, "type": "object",
                         "oneOf": [{"$ref": "#/$defs/t"}, {"required": ["a"]}]},
}  # fmt: skip

KEYS = ["a", "b", "c", "x1", "x-y", "", "id"]
SCALARS = [0, 1, -3, 2.5, "", "s", "ab", "x-1", True, False, None]


@functools.cache
def compiled(name: str, engine: str) -> CompiledGrammar:
    return compile_grammar(compile_json_schema(SCHEMAS[name]), smollm2(), engine=engine)


def accepted(cg: CompiledGrammar, text: str) -> bool:
    m = Matcher(cg)
    return m.accept_bytes(text.encode()) and m.is_accepting()


values = st.recursive(
    st.sampled_from(SCALARS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=8,
)
objects = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)


@pytest.mark.parametrize("engine", ["native", "reference"])
@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(objects, values))
def test_language_agrees_with_jsonschema(name: str, engine: str, value: Any) -> None:
    schema = SCHEMAS[name]
    valid = jsonschema.validators.validator_for(schema)(schema).is_valid(value)
    text = serialize_instance(value, schema)
    assert accepted(compiled(name, engine), text) is valid, (text, valid)


@pytest.mark.parametrize("engine", ["native", "reference"])
def test_fixed_verdicts(engine: str) -> None:
    """Texts in the grammar's member order (the serializer's): ``{"a":1,"b":2}`` valid by the
    second branch only is written with its required ``b`` first."""
    cases = {
        "not-additional": {
            '{"a":"x"}': False,
            '{"a":1}': True,
            "{}": False,
            '"s"': True,
            '{"a":"x","b":[]}': True,
        },
        "one-of-closed-or-required": {
            '{"a":1}': True,
            '{"b":1}': True,
            '{"a":1,"b":2}': True,
            "{}": True,
            '{"c":1}': False,
        },
        "not-pattern-closed": {'{"x":1}': False, '{"x":"1"}': True, '{"y":1}': True, "{}": False},
        "not-recursive": {'{"a":{"b":1}}': False, '{"a":{"b":"s"}}': True, "[]": True},
    }
    for name, verdicts in cases.items():
        cg = compiled(name, engine)
        schema = SCHEMAS[name]
        for raw, ok in verdicts.items():
            value = json.loads(raw)
            assert jsonschema.validators.validator_for(schema)(schema).is_valid(value) is ok
            text = serialize_instance(value, schema)
            assert accepted(cg, text) is ok, (name, text)


def test_complement_of_an_unenforced_keyword_is_refused() -> None:
    schema = {"type": "object", "oneOf": [
        {"additionalProperties": {"type": "string", "format": "uri-template"}},
        {"required": ["a"]}]}  # fmt: skip
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema(schema)
    assert all(not i.pointer.startswith("@") for i in info.value.issues)
    assert any(i.keyword in ("oneOf", "not") for i in info.value.issues)


def test_too_many_combinations_name_the_combinator() -> None:
    """Four overlapping open branches multiply out past the bound on specifications: refused
    under ``oneOf`` (the keyword in the schema), not under the intersection's ``allOf``."""
    branches = [
        {"type": "object", "patternProperties": {f"^k{i}": {"type": "integer"}},
         "additionalProperties": {"type": "string", "maxLength": i % 3 + 1},
         "required": [f"r{i}"], "minProperties": i % 3}
        for i in range(4)
    ]  # fmt: skip
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema({"oneOf": branches})
    assert [(i.pointer, i.keyword) for i in info.value.issues] == [("", "oneOf")]
