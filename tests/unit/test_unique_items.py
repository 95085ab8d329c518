"""Run-time ``uniqueItems`` (docs/design/unique_items.md), on both engines.

Array items of scalars are unique-item terminals checked by the matcher: a duplicate is refused
where it is written, a mask never offers one, and outputs stay valid for ``jsonschema``.
"""

from __future__ import annotations

import functools
import json
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conftest import ENGINES, smollm2
from corral import Grammar, Matcher
from corral import compile as compile_grammar
from corral.automata.distances import COUNT_CAP, suffix_counts
from corral.automata.regex import compile_regex
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.unique import INITIAL_SCAN, scan_bytes
from corral.constraint_engine.unique_mask import trie_candidates
from corral.errors import GrammarError
from corral.grammars.ir import Rule, Terminal
from corral.grammars.json_schema import serialize_instance

SCHEMAS: dict[str, Any] = {
    "strings": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "integers": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
    "numbers": {"type": "array", "items": {"type": "number"}, "uniqueItems": True},
    "short-strings": {"type": "array", "uniqueItems": True,
                      "items": {"type": "string", "pattern": "^[abc]{0,2}$"}},
    "small-range": {"type": "array", "uniqueItems": True, "minItems": 3,
                    "items": {"type": "integer", "minimum": 0, "maximum": 11}},
    "mixed-enum": {"type": "array", "uniqueItems": True,
                   "items": {"enum": ["x", "y", "z", 1, 2, 3, None, True, False, "w"]}},
    "two-arrays": {"type": "object", "properties": {
        "a": {"type": "array", "items": {"type": ["string", "integer"]}, "uniqueItems": True},
        "b": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}},
    "objects": {"type": "array", "uniqueItems": True, "items": {
        "type": "object", "additionalProperties": False, "required": ["k"],
        "properties": {"k": {"enum": ["a", "b"]}, "v": {"type": "integer"},
                       "w": {"type": "object", "additionalProperties": False,
                             "properties": {"x": {"type": "boolean"}}}}}},
    "plain-beside-unique": {"type": "object", "properties": {
        "p": {"type": "array", "items": {"type": "string", "maxLength": 1}},
        "u": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}}},
    "any-values": {"type": "array", "uniqueItems": True},
    "open-objects": {"type": "array", "uniqueItems": True, "items": {
        "type": "object", "properties": {"k": {"type": "integer"}},
        "additionalProperties": {"type": ["integer", "array"]}}},
    "prefix-then-any": {"prefixItems": [{"type": "boolean"}, {"type": "boolean"}],
                        "uniqueItems": True},
}  # fmt: skip


@functools.cache
def compiled(name: str, engine: str, whitespace: str = "compact") -> CompiledGrammar:
    g = Grammar.from_json_schema(SCHEMAS[name], whitespace=whitespace)
    assert g.unique or g.unique_close, "the run-time check is in use"
    return compile_grammar(g, smollm2(), engine=engine)


def verdict(cg: CompiledGrammar, text: str) -> bool:
    m = Matcher(cg)
    return m.accept_bytes(text.encode()) and m.is_accepting()


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicates_are_refused_where_written(engine: str) -> None:
    cg = compiled("strings", engine)
    assert verdict(cg, '["a","b","ab"]')
    assert not verdict(cg, '["a","b","a"]')
    m = Matcher(cg)
    assert m.valid_prefix_length(b'["a","b","a"]') == len('["a","b","a')  # the closing quote
    ints = compiled("integers", engine)
    assert verdict(ints, "[1,12,123]")
    assert not verdict(ints, "[1,12,1]")
    m = Matcher(ints)
    assert m.accept_bytes(b"[1,12,1")  # may still become 10..19
    assert not m.accept_bytes(b"]")
    assert Matcher(ints).valid_prefix_length(b"[0,0") == 3  # 0 cannot grow: refused at once


@pytest.mark.parametrize("engine", ENGINES)
def test_nested_arrays_keep_their_own_items(engine: str) -> None:
    cg = compiled("two-arrays", engine)
    assert verdict(cg, '{"a":["x",1,"1"],"b":["x","1"]}')
    assert not verdict(cg, '{"a":["x",1,1]}')
    assert not verdict(cg, '{"b":["q","q"]}')


@pytest.mark.parametrize("engine", ENGINES)
def test_a_plain_array_may_repeat_items(engine: str) -> None:
    """Repeats in a plain array of a grammar with unique items (the mask filter reads every
    array's items) are allowed, and masks stay exact there."""
    cg = compiled("plain-beside-unique", engine)
    assert verdict(cg, '{"p":["a","a","a"],"u":[1,2]}')
    m = Matcher(cg)
    assert m.accept_bytes(b'{"p":["a","a","a"')
    ref = Matcher(compiled("plain-beside-unique", "reference"))
    assert ref.accept_bytes(b'{"p":["a","a","a"')
    assert np.array_equal(m.allowed_token_mask(), ref.allowed_token_mask())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_finite_item_language_caps_the_length(engine: str) -> None:
    cg = compiled("short-strings", engine)  # 13 texts: "", a, b, c, aa, ..., cc
    texts = ['""'] + [json.dumps(a + b) for a in "abc" for b in ["", *"abc"]]
    assert len(texts) == 13
    m = Matcher(cg)
    assert m.accept_bytes(("[" + ",".join(texts)).encode())
    allowed = [smollm2().token_bytes_tuple()[t] for t in m.allowed_tokens()]
    assert allowed == [b"]"]  # no 14th item exists
    assert Grammar.from_json_schema({**SCHEMAS["short-strings"], "minItems": 14}).is_empty


@pytest.mark.parametrize("engine", ENGINES)
def test_completion_avoids_a_duplicate(engine: str) -> None:
    cg = compiled("strings", engine)
    m = Matcher(cg)
    assert m.accept_bytes(b'["",')
    c = m.shortest_completion()
    assert c is not None and c != b'""]'
    assert m.accept_bytes(c) and m.is_accepting()
    assert json.loads(b'["",' + c)[1] != ""


@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_random_walks_stay_valid_and_engines_agree(name: str, whitespace: str) -> None:
    """Random allowed tokens: masks never empty, identical bit for bit on both engines (and the
    native mask candidates equal their Python twin's), every rollback restores them, and the
    completed text is valid for jsonschema."""
    native = Matcher(compiled(name, "native", whitespace))
    ref = Matcher(compiled(name, "reference", whitespace))
    validator = Draft202012Validator(SCHEMAS[name])
    rng = random.Random(name + whitespace)
    for _ in range(6):
        native.reset()
        ref.reset()
        for _ in range(30):
            a, b = native.allowed_token_mask(), ref.allowed_token_mask()
            assert np.array_equal(a, b)
            data = b"".join(native._steps)
            twin = trie_candidates(ref.compiled, data, scan_bytes(INITIAL_SCAN, data, 0))
            assert set(native._candidates().tolist()) == twin
            ids = np.flatnonzero(a)
            assert ids.size
            t = int(rng.choice(ids))
            if t in native.compiled.eos_ids:
                break
            assert native.accept_token(t) and ref.accept_token(t)
            if rng.random() < 0.2:
                native.rollback(1)
                ref.rollback(1)
                assert np.array_equal(native.allowed_token_mask(), a)
                assert native.accept_token(t) and ref.accept_token(t)
        c = native.shortest_completion()
        assert c is not None and c == ref.shortest_completion()
        assert native.accept_bytes(c) and native.is_accepting()
        text = b"".join(native._steps).decode()
        validator.validate(json.loads(text))


OBJECTS = st.fixed_dictionaries(
    {"k": st.sampled_from(["a", "b"])},
    optional={
        "v": st.integers(0, 2),
        "w": st.fixed_dictionaries({}, optional={"x": st.booleans()}),
    },
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet='ab"\\é\n', max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="ab", max_size=2), inner, max_size=3)
    ),
    max_leaves=6,
)
OPEN = st.dictionaries(
    st.text(alphabet="kab", max_size=2),
    st.integers(0, 2) | st.lists(st.integers(0, 1), max_size=2),
    max_size=3,
)


def reordered(v: Any) -> Any:
    """An equal value with every object's members in reverse order."""
    if isinstance(v, dict):
        return {k: reordered(x) for k, x in reversed(list(v.items()))}
    if isinstance(v, list):
        return [reordered(x) for x in v]
    return v


ITEMS = {
    "any-values": JSON,
    "open-objects": OPEN,
    "prefix-then-any": JSON,
    "objects": OBJECTS,
    "strings": st.text(alphabet='ab"\\é\n', max_size=3),
    "integers": st.integers(-15, 15),
    "numbers": st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -0.5, 1.25, 2.0])),
    "short-strings": st.text(alphabet="abc", max_size=2),
    "small-range": st.integers(0, 11),
    "mixed-enum": st.sampled_from(["x", "y", "z", 1, 2, 3, None, True, False, "w"]),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(ITEMS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_verdicts_match_jsonschema(name: str, engine: str, data: st.DataObject) -> None:
    instance = data.draw(st.lists(ITEMS[name], max_size=6))
    if instance and data.draw(st.booleans()):  # an equal item, written in another member order
        instance.append(reordered(data.draw(st.sampled_from(instance))))
    schema = SCHEMAS[name]
    for ws in ("compact", "flexible"):
        text = serialize_instance(instance, schema, whitespace=ws)
        expected = Draft202012Validator(schema).is_valid(instance)
        assert verdict(compiled(name, engine, ws), text) is expected, text


@pytest.mark.parametrize("engine", ENGINES)
def test_object_items_are_compact_and_unique(engine: str) -> None:
    """Objects of declared properties have one text each (declared order, no whitespace inside
    even in flexible mode), so equal objects are caught whatever order they were given in."""
    for ws in ("compact", "flexible"):
        cg = compiled("objects", engine, ws)
        a, b = {"k": "a", "v": 1}, {"v": 1, "k": "a"}
        text = serialize_instance([a, b], SCHEMAS["objects"], whitespace=ws)
        assert not verdict(cg, text)
        text = serialize_instance([a, {"k": "b"}], SCHEMAS["objects"], whitespace=ws)
        assert verdict(cg, text)
        if ws == "flexible":
            assert '{"k":"a","v":1}' in text
            assert not verdict(cg, text.replace('{"k":"a"', '{ "k":"a"'))


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        ({"type": "object", "properties": {"a": {"type": "array"}}, "additionalProperties": False},
         "cannot always take one more undeclared member"),
        ({"anyOf": [{"type": "object", "properties": {"a": {}}, "additionalProperties": False},
                    {"type": "object", "properties": {"b": {}}, "additionalProperties": False}]},
         "cannot always take one more undeclared member"),
        ({"type": "object", "maxProperties": 3}, "cannot always take one more undeclared member"),
        ({"type": "array", "maxItems": 3}, "cannot always take one more item"),
        ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
         "cannot always take one more item"),
    ],
)  # fmt: skip
def test_items_without_a_canonical_text_or_room_to_grow_are_refused(
    items: Any, reason: str
) -> None:
    """Closed objects of several shapes, or containers that may run out of room (an item begun
    could then be forced into a duplicate), are refused with the reason."""
    with pytest.raises(Exception, match=reason):
        Grammar.from_json_schema({"type": "array", "items": items, "uniqueItems": True})


def test_suffix_counts() -> None:
    dfa = compile_regex('"[ab]{0,2}"')
    counts = suffix_counts(dfa)
    assert counts[1] == 7
    assert suffix_counts(compile_regex("a+"))[1] == COUNT_CAP
    assert suffix_counts(compile_regex("a+|b"))[1] == COUNT_CAP


def test_unique_names_must_be_terminals() -> None:
    g = Grammar(
        {"A": Terminal("A", "a", literal=True)}, {"start": Rule("start", (("A",),))}, "start",
        unique=("B",),
    )  # fmt: skip
    with pytest.raises(GrammarError, match="unique-item symbol 'B'"):
        g.validate()


@pytest.mark.parametrize("engine", ENGINES)
def test_prefix_items_over_few_scalars(engine: str) -> None:
    """With prefixItems, a small finite set of scalars in all: subsets tracked per position."""
    schema = {"prefixItems": [{"type": "boolean"}, {"enum": [1, True]}], "uniqueItems": True,
              "items": {"enum": [1, 2]}}  # fmt: skip
    cg = compile_grammar(Grammar.from_json_schema(schema), smollm2(), engine=engine)
    validator = Draft202012Validator(schema)
    for text in ["[]", "[true]", "[false,true]", "[true,true]", "[true,false]", "[true,1,2]",
                 "[true,1,1]", "[false,true,1,2]", "[false,1,2,1]"]:  # fmt: skip
        assert verdict(cg, text) is validator.is_valid(json.loads(text)), text
    with pytest.raises(Exception, match="prefixItems position 2 has at most 2 values"):
        Grammar.from_json_schema({"prefixItems": [{"type": "boolean"}] * 3, "uniqueItems": True,
                                  "items": {"type": "string"}})  # fmt: skip
    with pytest.raises(Exception, match="items of a finite language after prefixItems"):
        Grammar.from_json_schema({"prefixItems": [{"type": "string"}], "uniqueItems": True,
                                  "items": {"enum": [1, 2, 3]}})  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_prefix_items_checked_at_run_time(engine: str) -> None:
    """With prefixItems beyond a small finite set: one unique-item terminal per position."""
    schema = {"prefixItems": [{"type": "string"}, {"type": "boolean"}], "uniqueItems": True,
              "items": {"type": ["string", "integer"]}}  # fmt: skip
    g = Grammar.from_json_schema(schema)
    assert len(g.unique) == 3
    cg = compile_grammar(g, smollm2(), engine=engine)
    validator = Draft202012Validator(schema)
    for text in ['["a",true]', '["a",true,"a"]', '["a",true,"b",1,1]', '["a",true,"b",1,2]',
                 '[true]', '["a","a"]', '["",false,""]']:  # fmt: skip
        assert verdict(cg, text) is validator.is_valid(json.loads(text)), text


def test_unique_items_need_a_grammar_without_ignored_terminals() -> None:
    g = Grammar(
        {"A": Terminal("A", "a", literal=True), "WS": Terminal("WS", " ", literal=True)},
        {"start": Rule("start", (("A",),))}, "start", ignore=("WS",), unique=("A",),
    ).validate()  # fmt: skip
    with pytest.raises(GrammarError, match="without ignored terminals"):
        compile_grammar(g, smollm2())


def test_object_items_with_many_properties() -> None:
    """Member counts past what minProperties/maxProperties need are not tracked one by one, so
    an item of many optional properties stays a linear chain of automata."""
    props = {f"p{i}": {"type": "integer"} for i in range(25)}
    schema = {
        "type": "array",
        "uniqueItems": True,
        "items": {"type": "object", "properties": props, "additionalProperties": False},
    }
    cg = compile_grammar(Grammar.from_json_schema(schema), smollm2(), engine="native")
    assert verdict(cg, '[{"p3":1,"p24":2},{"p3":1}]')
    assert not verdict(cg, '[{"p3":1,"p24":2},{"p3":1,"p24":2}]')
    assert not verdict(cg, '[{"p24":2,"p3":1}]')  # declared order only
