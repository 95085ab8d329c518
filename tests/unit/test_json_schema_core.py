"""JSON Schema → grammar, keyword family by keyword family, against labelled instances.

Each case is a small schema with instances labelled valid or invalid. The labels are checked
against jsonschema's validator for the schema's draft (with its format checker), so the test data
cannot be wrong; then every valid instance, written by ``serialize_instance`` (the output shape of
``docs/design/json_schema.md``), must be accepted by the compiled grammar in both whitespace modes
(soundness), and no text of an invalid instance may be accepted (compliance). The second half
covers failing closed (``UnsupportedSchemaError`` naming keyword and pointer, ``lenient``),
bounds (huge, deep and cyclic schemas end quickly), malformed schemas and ``explain``.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from conftest import ENGINES, smollm2
from corral import Grammar, Matcher, allocate_token_bitmask
from corral import compile as compile_grammar
from corral.backends.steering import Steering
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import CorralError, GrammarError, SchemaIssue, UnsupportedSchemaError
from corral.grammars.ir import Rule
from corral.grammars.json_schema import compile_json_schema, explain, serialize_instance
from corral.grammars.json_schema.formats import KNOWN_FORMATS

D7 = "http://json-schema.org/draft-07/schema#"
D4 = "http://json-schema.org/draft-04/schema#"
WHITESPACE = ["compact", "flexible"]

NODE = {
    "type": "object",
    "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
    },
    "required": ["value"],
    "additionalProperties": False,
}
OBJ_AB = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
KIND_A = {
    "type": "object",
    "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
    "required": ["kind", "x"],
}
KIND_B = {
    "type": "object",
    "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
    "required": ["kind", "y"],
}
IF_THEN = {
    "type": "object",
    "properties": {"t": {"type": "string"}, "v": {}},
    "required": ["t", "v"],
    "if": {"properties": {"t": {"const": "n"}}},
    "then": {"properties": {"v": {"type": "number"}}},
    "else": {"properties": {"v": {"type": "string"}}},
}

# (id, schema, valid instances, invalid instances)
CASES: list[tuple[str, Any, list[Any], list[Any]]] = [
    # type
    ("type-integer", {"type": "integer"}, [0, -7, 10**20, 3.0], [1.5, "1", True, None, [], {}]),
    ("type-number", {"type": "number"}, [0, -0.5, 1e-7, 1e21, 2.5], ["0", False, None]),
    ("type-list", {"type": ["string", "null"]}, ["", "a", None], [0, False, [], {}]),
    ("type-containers", {"type": ["boolean", "object", "array"]},
     [True, False, {}, {"a": 1}, [1, "x", None]], [0, "true", None]),
    # enum / const
    ("enum-mixed", {"enum": [1, "a", None, [1, 2], {"k": "v", "j": [True]}]},
     [1, 1.0, "a", None, [1, 2], {"k": "v", "j": [True]}, {"j": [True], "k": "v"}],
     [True, 2, "b", [2, 1], [1], {"k": "v"}, {"k": "v", "j": [True], "x": 1},
      {"k": "v", "j": [1]}]),
    ("enum-one-not-true", {"enum": [1]}, [1, 1.0], [True, "1", 1.5, [1]]),
    ("const-true-not-one", {"const": True}, [True], [1, 1.0, "true", False]),
    ("const-decimal", {"const": 1.5}, [1.5], [1, 2, "1.5", 1.50001]),
    ("const-object", {"const": {"a": [1, {"b": None}]}}, [{"a": [1, {"b": None}]}],
     [{"a": [1, {"b": 0}]}, {"a": [1]}, {}, {"a": [1, {"b": None}], "c": 1}]),
    ("enum-with-type", {"type": "string", "enum": ["a", 1, "b"]}, ["a", "b"], [1, "c"]),
    # boolean schemas
    ("true-schema", True, [0, "x", None, {"a": [1]}, [], 2.5, False], []),
    ("false-property", {"type": "object", "properties": {"a": False}}, [{}, {"b": 1}],
     [{"a": 1}, {"a": None}]),
    ("items-false", {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
     [[], [1]], [[1, 2], ["x"]]),
    # objects
    ("properties-required", {**OBJ_AB, "required": ["a"]},
     [{"a": 1}, {"a": 1, "b": "x"}, {"b": "x", "a": 2}, {"a": 1, "c": [1]}],
     [{}, {"b": "x"}, {"a": "1"}, {"a": 1, "b": 2}, [], "a"]),
    ("additional-false", {**OBJ_AB, "additionalProperties": False},
     [{}, {"a": 1}, {"b": "", "a": 0}], [{"c": 1}, {"a": 1, "b": "x", "c": 2}]),
    ("additional-schema", {**OBJ_AB, "additionalProperties": {"type": "string"}},
     [{}, {"a": 1, "z": "s"}, {"x": "", "y": "y"}], [{"x": 1}, {"a": "s"}, {"a": 1, "z": None}]),
    ("pattern-properties-overlap",
     {"type": "object", "patternProperties": {"^a": {"type": "integer"}, "b$": {"minimum": 0}},
      "additionalProperties": False},
     [{}, {"a": 1}, {"ab": 2}, {"b": 0.5}, {"b": "s"}, {"xb": 3, "a1": -4}],
     [{"ab": -1}, {"ab": 1.5}, {"x": 1}, {"a": "s"}, {"b": -1}]),
    ("property-names", {"type": "object", "propertyNames": {"pattern": "^[a-z]+$", "maxLength": 3}},
     [{}, {"abc": 1}, {"a": 1, "zz": []}], [{"abcd": 1}, {"A": 1}, {"": 1}]),
    ("min-max-properties", {"type": "object", "minProperties": 1, "maxProperties": 2},
     [{"a": 1}, {"a": 1, "b": 2}], [{}, {"a": 1, "b": 2, "c": 3}]),
    ("min-max-properties-mixed",
     {"type": "object", "properties": {"a": {}, "b": {}}, "minProperties": 2, "maxProperties": 2,
      "additionalProperties": {"type": "integer"}},
     [{"a": 1, "b": 2}, {"a": "s", "x": 2}, {"x": 1, "y": 2}],
     [{"a": 1}, {"a": 1, "b": 2, "c": 3}, {"a": 1, "x": "s"}]),
    ("dependent-required", {"type": "object", "dependentRequired": {"credit": ["billing"]}},
     [{}, {"billing": 1}, {"credit": 1, "billing": 2}], [{"credit": 1}]),
    ("dependent-schemas",
     {"type": "object", "properties": {"a": {"type": "integer"}},
      "dependentSchemas": {"a": {"required": ["b"], "properties": {"b": {"type": "string"}}}}},
     [{}, {"b": 1}, {"a": 1, "b": "x"}], [{"a": 1}, {"a": 1, "b": 2}]),
    ("draft7-dependencies",
     {"$schema": D7, "type": "object", "dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
     [{}, {"a": 1, "b": 2}, {"c": 1, "d": 1}, {"b": 1}],
     [{"a": 1}, {"c": 1}, {"a": 1, "b": 1, "c": 1}]),
    ("nested-objects",
     {"type": "object", "required": ["p"], "properties": {"p": {"type": "object", "required": ["q"],
      "properties": {"q": {"type": "array", "items": {"type": "integer"}}}}}},
     [{"p": {"q": []}}, {"p": {"q": [1, 2]}, "r": 0}], [{"p": {}}, {"p": {"q": ["x"]}}, {}]),
    # arrays
    ("items", {"type": "array", "items": {"type": "string"}}, [[], ["a", "b"]], [[1], ["a", None]]),
    ("prefix-items",
     {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
      "items": {"type": "boolean"}},
     [[], [1], [1, "a"], [1, "a", True, False]], [["a"], [1, 2], [1, "a", 0]]),
    ("draft7-items-array",
     {"$schema": D7, "type": "array", "items": [{"type": "integer"}],
      "additionalItems": {"type": "string"}},
     [[], [1], [1, "x", "y"]], [["x"], [1, 2]]),
    ("draft7-additional-items-false",
     {"$schema": D7, "items": [{"type": "integer"}, {"type": "integer"}], "additionalItems": False},
     [[], [1, 2]], [[1, 2, 3], [1, "x"]]),
    ("min-max-items", {"type": "array", "minItems": 1, "maxItems": 3},
     [[1], [1, 2, 3]], [[], [1, 2, 3, 4]]),
    ("contains", {"type": "array", "contains": {"type": "integer", "minimum": 5}},
     [[5], [1, "x", 7]], [[], [1, 2], ["5"]]),
    ("min-max-contains", {"type": "array", "contains": {"const": 1}, "minContains": 2,
                          "maxContains": 3},
     [[1, 1], [1, 2, 1, 1]], [[1], [1, 1, 1, 1], [2, 3]]),
    ("min-contains-zero", {"type": "array", "contains": {"const": 1}, "minContains": 0},
     [[], [2], [1]], ["x", {}]),
    ("unique-items-enum", {"type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True},
     [[], [1], [3, 1, 2]], [[1, 1], [1, 2, 1], [4], [1.0, 1]]),
    ("unique-items-boolean", {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True},
     [[], [True, False]], [[True, True], [False, True, False]]),
    ("unique-items-max-one",
     {"type": "array", "items": {"type": "string"}, "maxItems": 1, "uniqueItems": True},
     [[], ["x"]], [["x", "y"], ["x", "x"]]),
    # strings
    ("lengths-code-points", {"type": "string", "minLength": 2, "maxLength": 3},
     ["ab", "abc", "é€", "😀😀", "a😀b"], ["a", "abcd", "😀", "😀😀😀😀", ""]),
    ("escapes", {"type": "string", "maxLength": 2},
     ['"\\', "\n\t", "\x00", "\u2028", "\x7f/"], ["abc", '"""']),
    ("pattern-unanchored", {"type": "string", "pattern": "ab+c"},
     ["abc", "xxabbbcyy"], ["ac", "ab", ""]),
    ("pattern-anchored", {"type": "string", "pattern": "^[0-9]{3}$"}, ["123"],
     ["1234", "12a", "a123"]),
    ("pattern-not-string", {"pattern": "^a"}, ["a", "ab", 5, None], ["b", ""]),
    ("format-date", {"format": "date"}, ["2024-02-29", "1999-12-31", 5],
     ["2023-02-29", "2024-13-01", "24-01-01"]),
    ("format-ipv4", {"type": "string", "format": "ipv4"}, ["192.168.0.1", "0.0.0.0"],
     ["256.1.1.1", "1.2.3", "a.b.c.d"]),
    ("format-uuid", {"type": "string", "format": "uuid"},
     ["123e4567-e89b-12d3-a456-426614174000"], ["123e4567e89b12d3a456426614174000", "xyz"]),
    ("format-hostname", {"type": "string", "format": "hostname"},
     ["example.com", "a-b.c0", "x"], ["-a.com", "a..b", "a_b.com", ""]),
    ("format-unknown", {"type": "string", "format": "made-up"}, ["anything", ""], [1]),
    # numbers
    ("integer-bounds", {"type": "integer", "minimum": -3, "maximum": 10},
     [-3, 0, 10], [-4, 11, 5.5]),
    ("exclusive-bounds", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
     [0.5, 0.001, 0.999], [0, 1, -0.5, 1.5]),
    ("decimal-bounds", {"type": "number", "minimum": -1.5, "maximum": 2.25},
     [-1.5, 0, 2.25, 2], [-1.51, 2.251, 3]),
    ("multiple-of-integer", {"type": "integer", "multipleOf": 3},
     [0, 3, -9, 300], [1, -4, 3.5]),
    ("multiple-of-decimal", {"type": "number", "multipleOf": 0.01},
     [0, 1.25, -3.5, 10], [0.001, 1.255]),
    ("draft4-exclusive-boolean",
     {"$schema": D4, "type": "number", "minimum": 0, "exclusiveMinimum": True},
     [0.1, 1], [0, -1]),
    # combinators
    ("any-of-scalars",
     {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer", "minimum": 10}]},
     ["", "ab", 10], ["abc", 9, None]),
    ("any-of-objects",
     {"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}]},
     [{"a": 1}, {"b": "x"}, {"a": 1, "b": "x"}, {"a": 1, "b": 2}], [{}, {"a": "x"}, {"b": 1}]),
    ("any-of-orders",
     {"anyOf": [{"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
                {"properties": {"b": {"type": "string"}, "a": {"type": "string"}}}]},
     [{"a": 1, "b": 2}, {"a": "x", "b": "y"}, {"b": "y"}], [{"a": 1, "b": "y"}]),
    ("all-of-merge",
     {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
     [{"a": 1, "b": "x"}, {"b": "x", "a": 1, "c": None}],
     [{"a": 1}, {"b": "x"}, {"a": "1", "b": "x"}, {"a": 1, "b": 2}]),
    ("all-of-additional-false",
     {"allOf": [{"properties": {"a": {"type": "integer"}}, "additionalProperties": False},
                {"properties": {"b": {"type": "string"}}}]},
     [{}, {"a": 1}, 5], [{"b": "x"}, {"a": 1, "b": "x"}, {"a": "s"}]),
    ("all-of-numbers", {"allOf": [{"minimum": 0}, {"maximum": 10}, {"multipleOf": 2}]},
     [0, 4, 10, "s"], [-2, 12, 3]),
    ("one-of-discriminator", {"oneOf": [KIND_A, KIND_B]},
     [{"kind": "a", "x": 1}, {"kind": "b", "y": "s"}, {"kind": "a", "x": 1, "y": "s"}],
     [{"kind": "a", "y": "s"}, {"kind": "c", "x": 1}, {}, {"kind": "b", "y": 1}]),
    ("one-of-overlapping-strings",
     {"oneOf": [{"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "b$"}]},
     ["a", "b", "ax", "xb"], ["ab", "axb", "x", 1]),
    ("one-of-overlapping-objects",
     {"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}},
                {"type": "object", "properties": {"a": {"minimum": 5}}, "required": ["a"]}]},
     [{}, {"a": 1}, {"a": 5.5}, {"a": "s", "b": 1}], [{"a": 5}, {"a": 7, "c": 0}, 1, []]),
    ("one-of-multiples",
     {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]},
     [2, 3, 4, 9], [6, 0, 1, 12, "x"]),
    ("not-type", {"not": {"type": "string"}}, [1, None, [], {}], ["", "a"]),
    ("not-enum", {"type": "string", "not": {"enum": ["a", "b"]}}, ["", "c", "ab"], ["a", "b"]),
    ("not-required", {"type": "object", "not": {"required": ["a"]}},
     [{}, {"b": 1}], [{"a": 1}, {"a": None, "b": 2}]),
    ("not-multiple-of", {"type": "integer", "not": {"multipleOf": 3}}, [1, 2, -4], [0, 3, -6]),
    ("if-then-else-object", IF_THEN, [{"t": "n", "v": 1}, {"t": "s", "v": "x"}],
     [{"t": "n", "v": "x"}, {"t": "s", "v": 1}, {"t": "n"}]),
    ("if-then-else-scalar", {"type": "integer", "if": {"minimum": 10}, "then": {"multipleOf": 5},
                             "else": {"maximum": 3}},
     [10, 15, 3, -1], [11, 5, 4]),
    # references
    ("ref-pointer",
     {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "type": "object",
      "properties": {"a": {"$ref": "#/$defs/pos"}}},
     [{"a": 1}, {}], [{"a": 0}, {"a": "1"}]),
    ("ref-anchor",
     {"$defs": {"x": {"$anchor": "name", "type": "string", "minLength": 1}}, "type": "array",
      "items": {"$ref": "#name"}},
     [[], ["a"]], [[""], [1]]),
    ("ref-definitions-draft7",
     {"$schema": D7, "definitions": {"n": {"type": "null"}}, "type": "array",
      "items": {"$ref": "#/definitions/n"}},
     [[None], []], [[0]]),
    ("ref-escaped-pointer",
     {"$defs": {"a/b": {"const": 1}, "c~d": {"const": 2}}, "type": "array",
      "prefixItems": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/c~0d"}]},
     [[1, 2], [1], [1, 2, 3]], [[2, 1], [1, 1]]),
    ("ref-embedded-id",
     {"$id": "https://example.com/root.json", "$defs": {"a": {"$id": "a.json", "type": "integer"}},
      "$ref": "a.json"},
     [1, -2], ["x", 1.5]),
    ("recursive-tree", {"$defs": {"node": NODE}, "$ref": "#/$defs/node"},
     [{"value": 1},
      {"value": 1, "children": [{"value": 2, "children": []},
                                {"value": 3, "children": [{"value": 4}]}]}],
     [{"value": 1, "children": [{}]}, {"value": 1, "children": [{"value": "x"}]},
      {"value": 1, "x": 2}]),
    ("recursive-root", {"type": ["integer", "array"], "items": {"$ref": "#"}},
     [1, [], [1, [2, []]]], ["x", [["x"]], 1.5]),
    ("ref-siblings-2020",
     {"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 2},
     ["", "ab"], ["abc", 1]),
    ("ref-siblings-ignored-draft7",
     {"$schema": D7, "definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s",
      "maxLength": 2},
     ["abc", ""], [1]),
]  # fmt: skip

IDS = [c[0] for c in CASES]


def _validator(schema: Any) -> Any:
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@functools.cache
def _compiled(key: str, whitespace: str) -> CompiledGrammar:
    return compile_grammar(compile_json_schema(json.loads(key), whitespace=whitespace), smollm2())


def accepts(schema: Any, text: str, whitespace: str = "compact") -> bool:
    m = Matcher(_compiled(json.dumps(schema), whitespace))
    return m.accept_bytes(text.encode("utf-8")) and m.is_accepting()


@pytest.mark.parametrize(("name", "schema", "valid", "invalid"), CASES, ids=IDS)
def test_labels_agree_with_jsonschema(name: str, schema: Any, valid: list[Any],
                                      invalid: list[Any]) -> None:  # fmt: skip
    v = _validator(schema)
    assert [x for x in valid if not v.is_valid(x)] == []
    assert [x for x in invalid if v.is_valid(x)] == []


@pytest.mark.parametrize("whitespace", WHITESPACE)
@pytest.mark.parametrize(("name", "schema", "valid", "invalid"), CASES, ids=IDS)
def test_valid_instances_accepted(name: str, schema: Any, valid: list[Any], invalid: list[Any],
                                  whitespace: str) -> None:  # fmt: skip
    texts = [serialize_instance(x, schema, whitespace=whitespace) for x in valid]
    assert [t for t in texts if not accepts(schema, t, whitespace)] == []


@pytest.mark.parametrize(("name", "schema", "valid", "invalid"), CASES, ids=IDS)
def test_invalid_instances_rejected(name: str, schema: Any, valid: list[Any],
                                    invalid: list[Any]) -> None:  # fmt: skip
    accepted = []
    for x in invalid:
        raw = json.dumps(x, ensure_ascii=False, separators=(",", ":"))
        for ws in WHITESPACE:
            for text in (serialize_instance(x, schema, whitespace=ws), raw):
                if accepts(schema, text, ws):
                    accepted.append((ws, text))
    assert accepted == []


def test_canonical_number_and_string_texts() -> None:
    assert serialize_instance(3.0, {"type": "integer"}) == "3"
    assert serialize_instance(1e-7, {"type": "number"}) == "0.0000001"
    assert serialize_instance("a\n\x01é", {"type": "string"}) == '"a\\n\\u0001é"'
    assert not accepts({"type": "integer"}, "3.0")
    assert not accepts({"type": "number"}, "1e2")
    assert not accepts({"type": "string"}, '"\\u0041"')
    assert accepts({"type": "string"}, '"A"')


def test_property_order_follows_declarations() -> None:
    schema = {**OBJ_AB, "required": ["a"]}
    assert serialize_instance({"b": "x", "a": 1, "z": 0}, schema) == '{"a":1,"b":"x","z":0}'
    assert not accepts(schema, '{"b":"x","a":1}')
    assert not accepts(schema, '{"a":1,"a":2}')


def test_flexible_whitespace_bounds() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    texts = ["[1,2]", " [ 1 ,\t2\n] ", "[\r\n1]", "[   1]", "[1 2]", "[1,,2]"]
    verdicts = dict(zip(texts, [True, True, True, False, False, False], strict=True))
    language_check(schema, verdicts, whitespace="flexible", max_whitespace=2)
    assert not accepts(schema, "[1, 2]")


def test_root_false_admits_nothing() -> None:
    assert compile_json_schema(False).is_empty


# Fail closed: (schema, keyword, pointer of the schema object holding it)
REFUSED = [
    ({"$ref": "https://example.com/s.json"}, "$ref", ""),
    ({"properties": {"a": {"$dynamicRef": "#x"}}}, "$dynamicRef", "/properties/a"),
    ({"type": "object", "unevaluatedProperties": False}, "unevaluatedProperties", ""),
    ({"type": "array", "prefixItems": [{}], "unevaluatedItems": False}, "unevaluatedItems", ""),
    ({"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True,
      "items": {"type": "object", "maxProperties": 2}}}}, "uniqueItems", "/properties/tags"),
    ({"type": "array", "items": {"type": "array", "maxItems": 2}, "uniqueItems": True},
     "uniqueItems", ""),
    ({"type": "array", "prefixItems": [{"type": "boolean"}] * 3, "uniqueItems": True},
     "uniqueItems", ""),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "type": "array",
      "items": {"type": "number"}, "uniqueItems": True}, "uniqueItems", ""),
    ({"type": "object", "properties": {"x": {"oneOf": [
      {"type": "string", "format": "uri-template"},
      {"type": "string", "maxLength": 3}]}}},
     "oneOf", "/properties/x"),
    ({"not": {"properties": {"a": {"format": "uri-template"}}}}, "not", ""),
    ({"items": {"type": "string", "pattern": "(a)\\1"}}, "pattern", "/items"),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "keyword", "pointer"), REFUSED)
def test_refused_keywords_fail_closed(schema: Any, keyword: str, pointer: str) -> None:
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema(schema)
    assert (pointer, keyword) in [(i.pointer, i.keyword) for i in info.value.issues]
    g = compile_json_schema(schema, lenient=True)
    assert all(isinstance(i, SchemaIssue) for i in g.unenforced)
    assert (pointer, keyword) in [(i.pointer, i.keyword) for i in g.unenforced
                                  if isinstance(i, SchemaIssue)]  # fmt: skip
    statuses = {(r.pointer, r.keyword): r for r in explain(schema)}
    assert not statuses[(pointer, keyword)].enforced


def language_check(schema: Any, verdicts: dict[str, bool], **options: Any) -> None:
    cg = compile_grammar(compile_json_schema(schema, **options), smollm2())
    for text, ok in verdicts.items():
        m = Matcher(cg)
        assert (m.accept_bytes(text.encode()) and m.is_accepting()) is ok, text


def test_lenient_language_is_larger() -> None:
    schema = {**OBJ_AB, "unevaluatedProperties": False}
    language_check(schema, {'{"a":1,"c":2}': True, '{"a":"x"}': False}, lenient=True)
    assert compile_json_schema(OBJ_AB, lenient=True).unenforced == []


def test_lenient_unique_items_keeps_arrays() -> None:
    schema = {"type": "array", "items": {"type": "object", "maxProperties": 1}, "uniqueItems": True}
    language_check(schema, {"[]": True, '[{},{"a":1}]': True, "[{},{}]": True}, lenient=True)


def test_one_of_under_sibling_type_is_scalar_only() -> None:
    schema = {"type": "integer", "oneOf": [{"multipleOf": 2}, {"multipleOf": 3}]}
    language_check(schema, {"2": True, "9": True, "6": False, "1": False, "[]": False})


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"a": node}}
    return node


BOUNDED = {
    "wide-2MB": {
        "type": "object",
        "properties": {
            f"p{i}": {"type": "integer", "description": "x" * 80} for i in range(20_000)
        },
    },
    "deep-500": _deep(500),
    "ref-self": {"$ref": "#"},
    "all-of-self": {"allOf": [{"$ref": "#"}], "type": "string"},
    "not-self": {"not": {"$ref": "#"}},
    "mutual-any-of": {"anyOf": [{"$ref": "#/$defs/b"}], "$defs": {"b": {"anyOf": [{"$ref": "#"}]}}},
}


@pytest.mark.parametrize("name", list(BOUNDED))
def test_bounded_compilation(name: str) -> None:
    schema = BOUNDED[name]
    start = time.monotonic()
    try:
        g = compile_json_schema(schema)
        # Every schema here but "not-self" admits values ({} or 1): a bound may be refused, but
        # the schema must not be found empty.
        assert name == "not-self" or not g.is_empty
    except CorralError as exc:
        assert "admits no JSON value" not in str(exc)
    assert time.monotonic() - start < 60


def test_wide_schema_is_large() -> None:
    assert len(json.dumps(BOUNDED["wide-2MB"])) > 2_000_000


@pytest.mark.parametrize(
    "schema",
    [5, "[1,", {"type": 5}, {"type": "strung"}, {"enum": 3}, {"properties": {"a": 7}},
     {"items": "x"}, {"anyOf": {"type": "string"}}, {"type": "string", "minLength": -5},
     {"maxLength": 1.5}, {"minItems": True}, {"maxProperties": "3"}, {"maxContains": -1}],
)  # fmt: skip
def test_malformed_schemas_raise_grammar_error(schema: Any) -> None:
    with pytest.raises(GrammarError):
        compile_json_schema(schema)


def test_explain_statuses() -> None:
    schema = {
        "title": "T",
        "type": "object",
        "properties": {
            "d": {"type": "string", "format": "date", "description": "when"},
            "u": {"type": "string", "format": "made-up"},
            "e": {"type": "object", "unevaluatedProperties": False},
        },
    }
    rows = {(r.pointer, r.keyword): r.status for r in explain(schema)}
    assert rows[("", "type")] == "enforced"
    assert rows[("", "title")].startswith("ignored")
    assert "annotation" in rows[("/properties/d", "description")]
    assert rows[("/properties/d", "format")] == "enforced"
    assert rows[("/properties/u", "format")].startswith("ignored")
    assert "unknown format" in rows[("/properties/u", "format")]
    assert rows[("/properties/e", "unevaluatedProperties")].startswith("refused")
    assert "date" in KNOWN_FORMATS and "made-up" not in KNOWN_FORMATS


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "schema",
    [False, {"not": {}}, {"oneOf": [True, True]}, {"allOf": [{"type": "string"}, {"enum": [1]}]}],
)
def test_a_schema_no_value_satisfies_is_the_empty_language(engine: str, schema: Any) -> None:
    """It compiles to a validator that refuses everything; generation refuses to start."""
    g = compile_json_schema(schema)
    assert g.is_empty and g.empty_reason == "the schema admits no JSON value"
    cg = compile_grammar(g, smollm2(), engine=engine)
    for text in [b"1", b'"a"', b"null", b"{}", b""]:
        m = Matcher(cg)
        assert not (m.accept_bytes(text) and m.is_accepting())
    m = Matcher(cg)
    assert not m.allowed_token_mask().any() and m.shortest_completion() is None
    bitmask = allocate_token_bitmask(1, cg.vocab_size)
    m.fill_next_token_bitmask(bitmask)
    assert not bitmask.any()
    with pytest.raises(GrammarError, match="admits no JSON value: nothing can be generated"):
        Steering(cg)
    assert explain(schema).empty_reason == "the schema admits no JSON value"


def test_only_the_front_end_makes_empty_grammars() -> None:
    with pytest.raises(GrammarError, match="start rule only"):
        Grammar({}, {"start": Rule("start", (("x",),)), "x": Rule("x", ())}, "start",
                empty_reason="nothing").validate()  # fmt: skip
    with pytest.raises(GrammarError, match="language is empty"):
        Grammar.from_lark("start: start\n")
