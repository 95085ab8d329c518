"""``uniqueItems`` over container items: canonical texts (both twins) and the item-closing check.

Arrays and open objects as items of a ``uniqueItems`` array are compared by value when their
closing bracket is read (``docs/design/unique_items.md``): whitespace and member order aside.
"""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conftest import ENGINES, smollm2
from corral import Grammar, Matcher, _native
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.unique_values import canonical
from corral.grammars.json_schema.values import scalar_text

SCALARS = st.none() | st.booleans() | st.integers(-20, 20) | st.text('ab"\\é\n\x01/', max_size=3)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text('ab"é\n', max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


def render(v: Any, rng: random.Random) -> str:
    """``v`` in corral's canonical scalars, random whitespace, members in a random order, and
    sometimes a key written twice (its first value stale)."""

    def ws() -> str:
        return "".join(rng.choice(" \t\n\r") for _ in range(rng.randrange(3)))

    if isinstance(v, list):
        return "[" + ws() + ",".join(ws() + render(x, rng) + ws() for x in v) + "]"
    if isinstance(v, dict):
        items = list(v.items())
        rng.shuffle(items)
        if items and rng.random() < 0.3:
            items.insert(0, (items[-1][0], "stale"))
        members = [ws() + scalar_text(k) + ws() + ":" + ws() + render(x, rng) for k, x in items]
        return "{" + ws() + ",".join(members) + ws() + "}"
    return scalar_text(v)


def same(a: Any, b: Any) -> bool:
    """JSON equality (``true`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(v=VALUES, w=VALUES, seed=st.integers(0, 2**32))
def test_canonical_texts_are_equal_exactly_for_equal_values(v: Any, w: Any, seed: int) -> None:
    """Twins agree, renderings of one value share a text, and different values do not."""
    rng = random.Random(seed)
    a, b, c = render(v, rng).encode(), render(v, rng).encode(), render(w, rng).encode()
    for text in (a, b, c):
        assert canonical(text) == _native.engine_uq_canonical(text)
    assert canonical(a) == canonical(b)
    assert (canonical(a) == canonical(c)) is same(v, w)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=40) | st.text('[]{}",: \\ab1', max_size=40).map(str.encode))
def test_canonical_twins_agree_on_any_bytes(data: bytes) -> None:
    """Bytes that are no JSON value (never met by the matcher) give the same text, no error."""
    assert canonical(data) == _native.engine_uq_canonical(data)


def test_canonical_sorts_members_and_keeps_the_last_of_a_key() -> None:
    text = b'{ "b" : [1 , {"z":1,"y":2}], "a":null, "b":true }'
    assert canonical(text) == b'{"a":null,"b":true}'
    assert canonical(b'[ {"z":1,"y":{"b":[],"a":{}}} ]') == b'[{"y":{"a":{},"b":[]},"z":1}]'
    deep = b"[" * 5000 + b"]" * 5000  # no recursion: depth is bounded by memory only
    assert canonical(deep) == _native.engine_uq_canonical(deep) == deep
    assert _native.engine_uq_canonical(b"") == b""
    with pytest.raises(TypeError):
        _native.engine_uq_canonical("not bytes")


def compiled(schema: dict[str, Any], engine: str, whitespace: str) -> CompiledGrammar:
    g = Grammar.from_json_schema(schema, whitespace=whitespace)
    assert g.unique_close
    return compile_grammar(g, smollm2(), engine=engine)


ANY = {"type": "array", "uniqueItems": True}


@pytest.mark.parametrize("engine", ENGINES)
def test_equal_containers_are_refused_at_their_closing_bracket(engine: str) -> None:
    cg = compiled(ANY, engine, "flexible")
    validator = Draft202012Validator(ANY)
    for text in [
        '[{"a":1,"b":2}, { "b" : 2 , "a" : 1 }]',
        "[[1, [2]], [1,[2]]]",
        '[{"a":{"x":[]}}, {"a":{"x":[ ]}}]',
        '[{"a":1,"a":2}, {"a":2}]',
        '[{"a":1}, {"a":true}]',
        "[[0], [false], [null], [[]], {}]",
        '["{}", {}, "[]", []]',
    ]:
        m = Matcher(cg)
        ok = m.accept_bytes(text.encode()) and m.is_accepting()
        assert ok is validator.is_valid(json.loads(text)), text
    m = Matcher(cg)
    assert m.valid_prefix_length(b'[{"a":1}, {"a" :1}]') == len('[{"a":1}, {"a" :1')
    assert Matcher(cg).accept_bytes(b'[{"a":1}, {"a" :1,"b":0}]')


PREFIXES = [b"[[1],[1", b'[{"b":2,"a":1},{"a":1,"b":2', b"[[],[", b'[["x"],["x"', b"[{},{"]


@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
def test_masks_are_exact_at_a_repeat(whitespace: str) -> None:
    """Both engines' masks equal the tokens ``accept_token`` takes, one by one."""
    cgs = [compiled(ANY, e, whitespace) for e in ENGINES]
    for prefix in PREFIXES:
        ms = [Matcher(cg) for cg in cgs]
        assert all(m.accept_bytes(prefix) for m in ms)
        masks = [m.allowed_token_mask() for m in ms]
        brute = np.zeros_like(masks[0])
        for t in range(cgs[0].vocab_size):
            if ms[0].accept_token(t):
                brute[t] = True
                ms[0].rollback(1)
        for mask in masks:
            assert np.array_equal(mask, brute), prefix
        closers = [smollm2().token_bytes_tuple()[t] for t in np.flatnonzero(brute)]
        assert b"]" not in closers and b"}" not in closers, prefix


@pytest.mark.parametrize("engine", ENGINES)
def test_prefix_items_then_any_values(engine: str) -> None:
    """JSON-Schema-Test-Suite ``uniqueItems#1``: two boolean positions, then any value."""
    schema = {"prefixItems": [{"type": "boolean"}, {"type": "boolean"}], "uniqueItems": True}
    cg = compiled(schema, engine, "compact")
    validator = Draft202012Validator(schema)
    for text in ["[false,true]", "[true,true]", '[false,true,"foo","bar"]',
                 '[false,true,"foo","foo"]', "[false,true,false]", "[false,true,[1],[1]]",
                 '[true,false,{"a":[true]},{"a":[true]}]', "[1,2]", "[true]"]:  # fmt: skip
        m = Matcher(cg)
        ok = m.accept_bytes(text.encode()) and m.is_accepting()
        assert ok is validator.is_valid(json.loads(text)), text
