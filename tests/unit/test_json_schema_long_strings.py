"""Strings whose only constraints are long length bounds: counted in blocks by grammar rules."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corral
from corral.errors import UnsupportedSchemaError
from corral.grammars.json_schema import compile_json_schema, explain, serialize_instance
from corral.grammars.json_schema.scalars import FLAT_STRING, LONG_STRING


@pytest.fixture(scope="module")
def tok() -> corral.Tokenizer:
    return corral.Tokenizer.default()


def _accepts(tok: corral.Tokenizer, schema: object, instance: object) -> bool:
    cg = corral.compile(compile_json_schema(schema), tok)
    m = corral.Matcher(cg)
    text = serialize_instance(instance, schema).encode()
    return m.accept_bytes(text) and m.is_accepting()


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (
            {"type": "string", "maxLength": 8192},
            ["", "a" * 255, "a" * 256, "é" * 257, "x\n" * 4096, "a" * 8192, "😀" * 513],
            ["a" * 8193, 5, None],
        ),
        ({"type": "string", "minLength": 3000}, ["a" * 3000, "b" * 3333], ["a" * 2999, ""]),
        (
            {"type": ["string", "null"], "minLength": 600, "maxLength": 70000},
            ["b" * 600, None, "😀" * 1000],
            ["b" * 599, 1],
        ),
        (
            {"oneOf": [{"type": "string", "maxLength": 2000}, {"type": ["null", "integer"]}]},
            ["", "a" * 2000, None, 3],
            ["a" * 2001, 2.5, [], {}],
        ),
        (
            {
                "oneOf": [
                    {"type": "string", "minLength": 1500},
                    {"type": "number"},
                    {"type": "integer", "minimum": 0},
                ]
            },
            ["a" * 1500, -1, 2.5],
            ["a" * 1499, 3, None],
        ),
    ],
)
def test_long_strings_exact(
    tok: corral.Tokenizer, schema: object, good: list[object], bad: list[object]
) -> None:
    for v in good:
        assert _accepts(tok, schema, v), v if not isinstance(v, str) else len(v)
    for v in bad:
        assert not _accepts(tok, schema, v), v if not isinstance(v, str) else len(v)


def test_long_strings_in_one_of_beside_other_strings_are_refused() -> None:
    schema = {"oneOf": [{"type": "string", "maxLength": 2000}, {"type": "string", "pattern": "a"}]}
    with pytest.raises(UnsupportedSchemaError, match="oneOf"):
        compile_json_schema(schema)


def test_long_strings_under_allof_with_a_pattern_are_refused() -> None:
    schema = {"allOf": [{"type": "string", "maxLength": 9000}, {"pattern": "^a"}]}
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema(schema)
    assert any(i.keyword == "maxLength" for i in info.value.issues)


def test_long_strings_are_reported_enforced() -> None:
    report = explain({"type": "string", "maxLength": 65535})
    assert {(r.keyword, r.status) for r in report} >= {("maxLength", "enforced")}


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 1_000_000},
        {"type": "string", "minLength": 1025, "maxLength": 5_000_000},
    ],
)
def test_long_string_grammar_is_logarithmic(schema: object) -> None:
    # blocks are counted in binary: O(log n) rules, not one rule per block
    assert len(compile_json_schema(schema).rules) < 64


def test_long_string_bounds_are_exact_at_block_boundaries(tok: corral.Tokenizer) -> None:
    schema = {"type": "string", "minLength": 1280, "maxLength": 2303}
    cg = corral.compile(compile_json_schema(schema), tok)
    for n in (1279, 1280, 1535, 1536, 2047, 2048, 2303, 2304):
        for ch in ("a", '\\"', "\\u0001"):
            m = corral.Matcher(cg)
            ok = m.accept_bytes(('"' + ch * n + '"').encode()) and m.is_accepting()
            assert ok == (1280 <= n <= 2303), (n, ch)


def test_bounds_past_long_string_are_counted_in_blocks() -> None:
    # past LONG_STRING, a length-only string is counted by rules over block automata, none of
    # which counts to the bound (one automaton would have about 15 states per character)
    assert LONG_STRING < 700 <= FLAT_STRING
    grammar = compile_json_schema({"type": "string", "minLength": 3, "maxLength": 700})
    sizes = [t.dfa.n_states for t in grammar.terminals.values() if t.dfa is not None]
    assert len(sizes) > 1 and max(sizes) < 15 * 300


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        # strings counted in blocks meet other string constraints: one automaton after all
        (
            {"type": "string", "minLength": 1000, "allOf": [{"pattern": "^a"}]},
            ["a" * 1000, "ab" * 600],
            ["a" * 999, "b" * 1000, 3],
        ),
        (
            {"oneOf": [{"type": "string", "maxLength": 500}, {"type": "string", "pattern": "^b"}]},
            ["a", "a" * 500, "b" * 501],
            ["b", "a" * 501, None],
        ),
        ({"not": {"type": "string", "maxLength": 400}}, ["a" * 401, 5, None], ["", "a" * 400]),
        (
            {"type": "array", "uniqueItems": True, "items": {"type": "string", "maxLength": 300}},
            [[], ["a", "b"], ["a" * 300, "a" * 299]],
            [["a", "a"], ["a" * 301], ["a" * 300, "a" * 300]],
        ),
        (
            {"type": "object", "propertyNames": {"maxLength": 500}},
            [{}, {"a": 1}, {"k" * 500: None}],
            [{"k" * 501: None}, {"a": 1, "b" * 600: 2}],
        ),
    ],
)
def test_block_counted_strings_meet_other_string_constraints(
    tok: corral.Tokenizer, schema: object, good: list[object], bad: list[object]
) -> None:
    for v in good:
        assert _accepts(tok, schema, v), v
    for v in bad:
        assert not _accepts(tok, schema, v), v


def test_property_names_with_a_very_long_bound_are_refused() -> None:
    # keys must be one automaton: past FLAT_STRING that is refused, never an empty key set
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema({"type": "object", "propertyNames": {"maxLength": 2000}})
    assert any(i.keyword == "propertyNames" for i in info.value.issues)


_BOUNDS = st.sampled_from([0, 1, 255, 256, 257, 300, 511, 512, 700, 1023, 1024])
_SHAPES = st.sampled_from(["alone", "pattern", "not", "oneOf", "uniqueItems", "propertyNames"])


def _shaped(shape: str, bounds: dict[str, int]) -> dict[str, object]:
    string: dict[str, object] = {"type": "string", **bounds}
    if shape == "pattern":
        return {"allOf": [string, {"pattern": "^a"}]}
    if shape == "not":
        return {"not": string}
    if shape == "oneOf":
        return {"oneOf": [string, {"type": "string", "pattern": "b$"}]}
    if shape == "uniqueItems":
        return {"type": "array", "uniqueItems": True, "maxItems": 2, "items": string}
    if shape == "propertyNames":
        return {"type": "object", "maxProperties": 1, "propertyNames": string}
    return string


def _wrap(shape: str, text: str) -> object:
    if shape == "uniqueItems":
        return [text]
    if shape == "propertyNames":
        return {text: 0}
    return text


@settings(max_examples=25, deadline=None)
@given(lo=_BOUNDS, hi=_BOUNDS, shape=_SHAPES, data=st.data())
def test_string_bounds_around_the_block_threshold_agree_with_jsonschema(
    tok: corral.Tokenizer, lo: int, hi: int, shape: str, data: st.DataObject
) -> None:
    # bounds below, at and past LONG_STRING and up to FLAT_STRING, alone and where strings
    # counted in blocks meet other string constraints: every verdict is jsonschema's
    lo, hi = min(lo, hi), max(lo, hi)
    bounds = data.draw(st.sampled_from([{"minLength": lo}, {"maxLength": hi},
                                        {"minLength": lo, "maxLength": hi}]))  # fmt: skip
    schema = _shaped(shape, bounds)
    cg = corral.compile(compile_json_schema(schema), tok)
    validator = jsonschema.Draft202012Validator(schema)
    for n in sorted({max(0, lo - 1), lo, hi, hi + 1, 257}):
        for text in ("a" * n, "b" * n, "a" + "é" * max(0, n - 2) + "b" if n > 1 else "é" * n):
            value = _wrap(shape, text)
            m = corral.Matcher(cg)
            got = m.accept_bytes(serialize_instance(value, schema).encode()) and m.is_accepting()
            assert got == validator.is_valid(value), (schema, len(text), text[:3])
