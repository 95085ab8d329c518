"""String length bounds in every regime of the string compiler, against ``jsonschema``.

``minLength``/``maxLength`` count code points of the decoded string, while the grammar reads its
JSON text, where one code point takes 1 to 6 bytes (``\\"``, ``\\n``, ``\\u001f``, ``é``, ``😀``).
The string compiler has three regimes: small exact automata (length counters intersected with
the JSON encoding), bounded automata (up to ``Limits.max_string_states``), and, for length-only
bounds above 1,024 characters, grammar rules counting blocks of 256 characters plus a tail
(:mod:`corral.grammars.json_schema.emit`). Hypothesis draws strings rich in escapes, non-ASCII
and astral characters, with lengths around each bound; the matcher must accept exactly the
strings ``jsonschema`` finds valid (among those the SmolLM2 tokenizer can spell).
"""

from __future__ import annotations

import functools
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import smollm2
from corral import CompiledGrammar, Grammar, Matcher
from corral import compile as compile_grammar
from helpers import spellable_bytes

# (minLength, maxLength): small exact, mid-size bounded, and block-chain (length-only > 1,024)
REGIMES: list[tuple[int, int | None]] = [
    (0, 4),
    (3, 3),
    (2, 40),
    (0, 300),
    (250, 700),
    (0, 1500),
    (1030, 5000),
    (0, 32767),
    (1100, None),
    (1500, 1500),
]

ALPHABET = st.sampled_from(['"', "\\", "\n", "\x01", "\x1f", "/", "a", "é", "€", "😀", " "])


def _schema(lo: int, hi: int | None) -> dict[str, object]:
    schema: dict[str, object] = {"type": "string"}
    if lo:
        schema["minLength"] = lo
    if hi is not None:
        schema["maxLength"] = hi
    return schema


@functools.cache
def _compiled(lo: int, hi: int | None) -> CompiledGrammar:
    return compile_grammar(Grammar.from_json_schema(_schema(lo, hi)), smollm2())


@st.composite
def strings_near(draw: st.DrawFn, lo: int, hi: int | None) -> str:
    """Strings whose length is at, just inside or just outside a bound (or anywhere small)."""
    marks = [lo, max(lo - 1, 0), lo + 1] + ([] if hi is None else [hi, hi + 1, max(hi - 1, 0)])
    length = draw(st.one_of(st.sampled_from(marks), st.integers(0, min(lo + 8, 40))))
    length = min(length, 1600)
    fill = draw(ALPHABET)
    specials = draw(st.lists(st.tuples(st.integers(0, max(length - 1, 0)), ALPHABET), max_size=12))
    chars = [fill] * length
    for index, ch in specials:
        if index < length:
            chars[index] = ch
    return "".join(chars)


@pytest.mark.parametrize(("lo", "hi"), REGIMES)
def test_length_bounds_match_jsonschema(lo: int, hi: int | None) -> None:
    validator = jsonschema.Draft202012Validator(_schema(lo, hi))
    spellable = spellable_bytes(smollm2())
    compiled = _compiled(lo, hi)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=strings_near(lo, hi))
    def check(text: str) -> None:
        data = json.dumps(text, ensure_ascii=False).encode("utf-8")
        expected = validator.is_valid(text) and set(data) <= spellable
        m = Matcher(compiled)
        got = m.accept_bytes(data) and m.is_accepting()
        assert got == expected, (lo, hi, len(text), data[:80], m.valid_prefix_length(data))

    check()


@pytest.mark.parametrize(
    ("bound", "text"),
    [(5000, '"' * 300), (32767, 'ab\\"cd' * 100), (5000, "\\" * 2000), (2048, '"' * 2048)],
)
def test_escapes_in_block_chains(bound: int, text: str) -> None:
    """The reported cases: every character written as an escape, under long ``maxLength``."""
    compiled = _compiled(0, bound)
    data = json.dumps(text, ensure_ascii=False).encode("utf-8")
    m = Matcher(compiled)
    assert m.valid_prefix_length(data) == len(data)
    assert m.accept_bytes(data) and m.is_accepting()
    too_long = json.dumps('"' * (bound + 1), ensure_ascii=False).encode("utf-8")
    m.reset()
    assert not (m.accept_bytes(too_long) and m.is_accepting())
