"""The shipped GBNF and Lark JSON grammars define the same language (RFC 8259 JSON text).

``json.gbnf`` spells whitespace out where the RFC allows it; ``json.lark`` ignores a ``WS``
terminal between any two terminals. Both, compiled for the SmolLM2 tokenizer, must accept every
``json.dumps`` output that the tokenizer can spell, agree with each other and with
:func:`json.loads` (made strict: no ``NaN``/``Infinity``) on random one-byte mutations, and give
identical token masks. Compiled for a tokenizer, a grammar's language is cut to the bytes some
token holds (21 byte values are in no SmolLM2 token, e.g. ``0xF1``, a UTF-8 lead byte of U+40000
and up): a text with such a byte is rejected at that byte, never left to a dead end.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import library_grammar, smollm2
from corral import CompiledGrammar, Matcher
from corral import compile as compile_grammar
from helpers import spellable_bytes

CHARS = st.characters(codec="utf-8")  # any scalar value; controls are escaped by json.dumps
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(CHARS, max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(CHARS, max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)
WS = st.text(st.sampled_from(" \t\n\r"), max_size=3)
DUMPS_KWARGS = st.sampled_from(
    [
        {"indent": None, "ensure_ascii": True},
        {"indent": None, "ensure_ascii": False},
        {"indent": 2, "ensure_ascii": True},
        {"indent": 2, "ensure_ascii": False},
        {"indent": None, "ensure_ascii": False, "separators": (",", ":")},
        {"indent": "\t", "ensure_ascii": False},
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    value = draw(VALUES)
    text = json.dumps(value, **draw(DUMPS_KWARGS))
    return (draw(WS) + text + draw(WS)).encode("utf-8")


INTERESTING = b'{}[]:,"\\ \t\n\r0123456789-+.eEtrufalsn/bu\x00\x1f\x7f\x80\xc3\xa9\xff'
BYTES = st.one_of(st.sampled_from(list(INTERESTING)), st.integers(0, 255))


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    doc = draw(documents())
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    if op == "insert":
        i = draw(st.integers(0, len(doc)))
        return doc[:i] + bytes([draw(BYTES)]) + doc[i:]
    if not doc:
        return doc
    i = draw(st.integers(0, len(doc) - 1))
    if op == "delete":
        return doc[:i] + doc[i + 1 :]
    return doc[:i] + bytes([draw(BYTES)]) + doc[i + 1 :]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_oracle(data: bytes) -> bool:
    """Whether ``data`` is a JSON text by RFC 8259 (json.loads without NaN/Infinity) that the
    SmolLM2 tokenizer can spell."""
    if not set(data) <= spellable_bytes(smollm2()):
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        json.loads(text, parse_constant=_no_constants)
    except ValueError:  # JSONDecodeError, and the parse_constant refusal
        return False
    return True


@pytest.fixture(scope="module")
def compiled() -> tuple[CompiledGrammar, CompiledGrammar]:
    tok = smollm2()
    return (
        compile_grammar(library_grammar("json.lark"), tok),
        compile_grammar(library_grammar("json.gbnf"), tok),
    )


@pytest.fixture(scope="module")
def matchers(compiled: tuple[CompiledGrammar, CompiledGrammar]) -> tuple[Matcher, Matcher]:
    return Matcher(compiled[0]), Matcher(compiled[1])


def verdict(m: Matcher, data: bytes) -> bool:
    m.reset()
    ok = m.accept_bytes(data) and m.is_accepting()
    m.reset()
    return ok


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(doc=documents())
def test_json_dumps_accepted_by_both(matchers: tuple[Matcher, Matcher], doc: bytes) -> None:
    spellable = spellable_bytes(smollm2())
    first_unspellable = next((i for i, b in enumerate(doc) if b not in spellable), None)
    assert json_oracle(doc) == (first_unspellable is None)
    for m in matchers:
        m.reset()
        if first_unspellable is not None:
            assert m.valid_prefix_length(doc) == first_unspellable, (m.compiled.grammar.source, doc)
            continue
        assert m.accept_bytes(doc), (m.compiled.grammar.source, doc, m.valid_prefix_length(doc))
        assert m.is_accepting(), (m.compiled.grammar.source, doc)
        assert m.num_bytes == len(doc)


@SETTINGS
@given(data=mutations())
def test_mutations_same_verdict_as_json_loads(
    matchers: tuple[Matcher, Matcher], data: bytes
) -> None:
    lark_m, gbnf_m = matchers
    expected = json_oracle(data)
    assert verdict(lark_m, data) == expected, ("json.lark", data)
    assert verdict(gbnf_m, data) == expected, ("json.gbnf", data)
    # the same longest valid prefix: the languages' prefix sets agree too
    assert lark_m.valid_prefix_length(data) == gbnf_m.valid_prefix_length(data), data


@pytest.mark.parametrize(
    "data",
    [
        b"NaN",
        b"[Infinity]",
        b"-Infinity",
        b"01",
        b"1.",
        b".5",
        b"+1",
        b"1e",
        b'"\\x41"',
        b'"\t"',
        b"[1,]",
        b'{"a":1,}',
        b"{1:2}",
        b"",
        b" ",
        b"[] []",
        b"\xef\xbb\xbf{}",
        b'"\xff"',
        b'"\\ud800"',
        b'"\\uDFFF\\u0000"',
        b"-0",
        b"1E+400",
        b' \r\n\t{ "a" : [ ] , "b" : { } } \n',
    ],
)
def test_edge_cases(matchers: tuple[Matcher, Matcher], data: bytes) -> None:
    expected = json_oracle(data)
    assert verdict(matchers[0], data) == expected, data
    assert verdict(matchers[1], data) == expected, data


MASK_DOCS = [
    b'{"key": [1, -2.5e+3, true, null], "k\\u00e9y": {"n": "caf\xc3\xa9"}}',
    json.dumps({"a": [{"b": False}, "x\ny", 0.001], "": {}}, indent=2).encode(),
    b' [ "\xf0\x9f\x98\x80" , 123 , [ ] ] ',
    b"-0.0E-1",
]


def _cuts(doc: bytes) -> list[int]:
    n = len(doc)
    return sorted({0, 1, 2, n // 4, n // 3, n // 2, (2 * n) // 3, n - 1, n})


@pytest.mark.parametrize("doc", MASK_DOCS, ids=range(len(MASK_DOCS)))
def test_masks_agree(compiled: tuple[CompiledGrammar, CompiledGrammar], doc: bytes) -> None:
    lark_cg, gbnf_cg = compiled
    for cut in _cuts(doc):
        prefix = doc[:cut]
        masks = []
        for cg in (lark_cg, gbnf_cg):
            m = Matcher(cg)
            assert m.accept_bytes(prefix), (cg.grammar.source, prefix)
            masks.append(m.allowed_token_mask())
        diff = np.nonzero(masks[0] != masks[1])[0]
        assert diff.size == 0, (
            prefix,
            [(int(i), lark_cg.token_bytes(int(i)), bool(masks[0][i])) for i in diff[:10]],
        )
        assert masks[0].any()
