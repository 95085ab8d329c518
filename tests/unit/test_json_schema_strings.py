"""JSON Schema string keywords as byte automata: ECMA-262 patterns, lengths, canonical encoding.

``translate_pattern`` is checked against Python's ``re.search`` with a hand-written Python regex of
the same ECMA meaning (``.`` excludes CR and U+2028/9 as well, ``$`` is ``\\Z``, ``\\s`` is the
ECMA set, ...) on strings hypothesis draws from characters where the two dialects could differ.
``json_string_dfa`` must accept ``json.dumps(s, ensure_ascii=False)`` exactly when ``s`` satisfies
the keywords (lengths counted like ``len``), and reject every other spelling of a string.
"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.automata.dfa import ByteDFA
from corral.automata.ops import minimize
from corral.errors import GrammarError
from corral.grammars.json_schema.ecma_regex import PatternUnsupported, translate_pattern
from corral.grammars.json_schema.strings import (
    _minimize,
    content_dfa,
    encode_json_string,
    json_string_any,
    json_string_dfa,
    literal_content_dfa,
)

ECMA_SPACE = "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
ECMA_SPACE += "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
PY_SPACE = "[" + re.escape(ECMA_SPACE) + "]"
PY_DOT = "[^\n\r\u2028\u2029]"
ALPHABET = 'abcxyzAB019_-/ \t\n\r\x0b\x0c\x1c\x85\u2028\u2029\xa0\u3000é😀{},]\x00\x08"\\'

# (ECMA pattern, Python regex of the same meaning for re.search)
PAIRS = [
    ("abc", "abc"),
    ("^abc$", r"\Aabc\Z"),
    ("^(a|b)", r"\A(a|b)"),
    ("^a|b$", r"\Aa|b\Z"),
    ("a.b", f"a{PY_DOT}b"),
    (".", PY_DOT),
    ("^.*$", rf"\A{PY_DOT}*\Z"),
    ("\\d+", "[0-9]+"),
    ("^\\D*$", r"\A[^0-9]*\Z"),
    ("\\w\\W", r"[A-Za-z0-9_][^A-Za-z0-9_]"),
    ("\\s", PY_SPACE),
    ("^\\S+$", rf"\A[^{re.escape(ECMA_SPACE)}]+\Z"),
    ("[\\s\\S]", r"[\s\S]"),
    ("[^a-c]x", "[^a-c]x"),
    ("(?:ab)+c?", "(?:ab)+c?"),
    ("x{2,3}", "x{2,3}"),
    ("^x{2,}$", r"\Ax{2,}\Z"),
    ("^[a-z]{1,3}$", r"\A[a-z]{1,3}\Z"),
    ("^$", r"\A\Z"),
    ("", ""),
    ("$", ""),
    ("a|", ""),
    ("[]", "(?!)"),
    ("a[]", "(?!)"),
    ("[^]", r"[\s\S]"),
    ("\\u00e9|\\x41", "é|A"),
    ("😀+", "😀+"),
    ("\\uD83D\\uDE00|\\u{1F600}", "😀"),
    ("(?<y>\\d{2})-(?<m>\\d)", "[0-9]{2}-[0-9]"),
    ("[-a][a-][a-c-e]", "[-a][a-][a-ce-]"),
    ("\\/\\-\\.", r"/-\."),
    ("a{,5}", r"a\{,5\}"),
    ("x]}", r"x\]\}"),
    ("\\cJ\\0", "\n\x00"),
    ("[\\b]", "\x08"),
    ("(^a|b)(c|d$)", r"(\Aa|b)(c|d\Z)"),
    ("^(?:a|b$)", r"\A(?:a|b\Z)"),
    ("a*?b??c+?", "a*?b??c+?"),
    ("^(a|b)*?$", r"\A(a|b)*?\Z"),
    ('"\\\\', r'"\\'),
    ("a$", r"a\Z"),
    (
        "UTC|(Af/[A-Za-z]+)|(Am/[A-Za-z]+)|^x|y$|^z$",
        r"UTC|(Af/[A-Za-z]+)|(Am/[A-Za-z]+)|\Ax|y\Z|\Az\Z",
    ),
]


def accepts(dfa: ByteDFA, data: bytes) -> bool:
    state = 1
    for byte in data:
        state = dfa.rows[state][byte]
        if state == 0:
            return False
    return dfa.accept_list[state]


def canon(s: str) -> bytes:
    return json.dumps(s, ensure_ascii=False).encode()


texts = st.text(alphabet=ALPHABET, max_size=8) | st.text(max_size=6)


@pytest.mark.parametrize(("ecma", "python"), PAIRS)
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_pattern_agrees_with_reference(ecma: str, python: str, data: st.DataObject) -> None:
    dfa = content_dfa(patterns=[ecma])
    py = re.compile(python)
    s = data.draw(texts | st.from_regex(py, fullmatch=False).filter(lambda x: len(x) < 12))
    assert accepts(dfa, s.encode()) == bool(py.search(s)), (ecma, s)


def test_ecma_dialect_differences() -> None:
    dollar = content_dfa(patterns=["a$"])
    assert accepts(dollar, b"xa") and not accepts(dollar, b"a\n")
    dot = content_dfa(patterns=["^.$"])
    for ch in "\n\r\u2028\u2029":
        assert not accepts(dot, ch.encode())
    for ch in "\x85\x0b😀\x00":
        assert accepts(dot, ch.encode())
    digit, word = content_dfa(patterns=["\\d"]), content_dfa(patterns=["\\w"])
    assert not accepts(digit, "٣".encode()) and not accepts(word, "é".encode())
    space = content_dfa(patterns=["^\\s$"])
    for cp in [*range(0x3100), 0xFEFF, 0xFFFF, 0x1F600]:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert accepts(space, chr(cp).encode()) == (chr(cp) in ECMA_SPACE), hex(cp)


REFUSED = [
    ("a^b", "^ or $"),
    ("a$b", "^ or $"),
    ("(^a)*", "^ or $"),
    ("x(^|a)", "^ or $"),
    ("\\bword", "word-boundary"),
    ("\\B", "word-boundary"),
    ("(?=a)", "lookahead"),
    ("(?!a)", "lookahead"),
    ("(?<=a)b", "lookbehind"),
    ("(?<!a)b", "lookbehind"),
    ("(a)\\1", "backreference"),
    ("(?<n>a)\\k<n>", "backreference"),
    ("\\p{L}", "property"),
    ("\\P{Lu}", "property"),
    ("(?i:a)", "modifiers"),
    ("\\a", "ambiguous"),
    ("\\u12", "ambiguous"),
    ("\\x4", "ambiguous"),
    ("\\c1", "ambiguous"),
    ("[\\d-z]", "range endpoint"),
    ("\\uD800", "surrogate"),
    ("a{1001}", "repetition bound"),
    ("a{1,99999999999999999999}", "repetition bound"),
    ("(?:a{1000}){1000}", "expands"),
    ("[\\0-\\u{80000}][\\0-\\u{80000}]", "too large"),
    ("(" * 201 + ")" * 201, "nested deeper"),
    ("a" * 10_001, "longer than"),
]
INVALID = ["a**", "^*", "$+", "a{3,2}", "(", ")", "[b-a]", "[a", "\\", "+a", "{2}", "(?<1>a)"]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_refused_patterns(pattern: str, reason: str) -> None:
    start = time.perf_counter()
    with pytest.raises(PatternUnsupported, match=re.escape(reason)):
        translate_pattern(pattern)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(PatternUnsupported, match=r"^invalid ECMA regex: "):
        translate_pattern(pattern)


def test_deep_nesting_is_not_recursive() -> None:
    deep = "(?:a|b" * 200 + ")" * 200
    assert translate_pattern(deep).count("(?:") >= 200
    assert translate_pattern("^" * 5000 + "a" + "$" * 4000) == "(?:[a])"


def test_hostile_patterns_fail_fast() -> None:
    deep = "a"
    for _ in range(150):
        deep = f"(?:b|c{deep})*"
    for pattern in [f"^{deep}$", "(?:(?:a{1000}){10}){10}", "[a-z]{401}"]:
        start = time.perf_counter()
        with pytest.raises((PatternUnsupported, GrammarError)):
            content_dfa(patterns=[pattern])
        assert time.perf_counter() - start < 2.0
    with pytest.raises(GrammarError):
        content_dfa(max_length=10**9)


CONSTRAINTS = [
    (0, None, ()),
    (2, 4, ()),
    (0, 1, ()),
    (3, None, ()),
    (1, 5, ('^[a-z"\\\\\\n]*$',)),
    (0, 3, ("\\d", "x")),
    (0, None, ("^.{2}$",)),
    (2, 2, ("😀|\\s",)),
    (5, 3, ()),
]
PY_EQUIV = {
    '^[a-z"\\\\\\n]*$': r'\A[a-z"\\\n]*\Z',
    "\\d": "[0-9]",
    "x": "x",
    "^.{2}$": rf"\A{PY_DOT}{{2}}\Z",
    "😀|\\s": f"😀|{PY_SPACE}",
}


@pytest.mark.parametrize(("lo", "hi", "patterns"), CONSTRAINTS)
@given(s=texts | st.text(alphabet='ax"\\\n\x01\x1f😀 9', max_size=7))
@settings(max_examples=60, deadline=None)
def test_json_string_dfa_exact(lo: int, hi: int | None, patterns: tuple[str, ...], s: str) -> None:
    expected = lo <= len(s) and (hi is None or len(s) <= hi)
    expected = expected and all(re.search(PY_EQUIV[p], s) for p in patterns)
    content = content_dfa(min_length=lo, max_length=hi, patterns=patterns)
    quoted = json_string_dfa(min_length=lo, max_length=hi, patterns=patterns)
    assert accepts(content, s.encode()) == expected
    assert accepts(quoted, canon(s)) == expected
    for i, ch in enumerate(s):  # other spellings of the same string are never accepted
        alt = canon(s[:i])[:-1] + f"\\u{ord(ch):04X}".encode() + canon(s[i + 1 :])[1:]
        if ord(ch) > 0xFFFF:
            alt = canon(s[:i])[:-1] + json.dumps(ch).encode()[1:-1] + canon(s[i + 1 :])[1:]
        assert alt == canon(s) or not accepts(quoted, alt)
        assert not accepts(quoted, canon(s[:i])[:-1] + b"\\/" + canon(s[i:])[1:])


@given(s=st.text())
@settings(max_examples=200, deadline=None)
def test_json_string_any_is_canonical_json(s: str) -> None:
    dfa = json_string_any()
    assert accepts(dfa, canon(s))
    assert not accepts(dfa, canon(s) + b'"')
    assert not accepts(dfa, canon(s)[:-1])


def test_json_string_any_rejects_non_canonical() -> None:
    dfa = json_string_any()
    for text in [b'""', b'"\\u0001"', b'"\\b\\f\\n\\r\\t\\"\\\\"', '"\x7f😀é"'.encode()]:
        assert accepts(dfa, text)
    for text in [
        b'"\\u0041"', b'"\\/"', b'"\\u001F"', b'"\\u000a"', b'"\x01"', b'"\n"', b'"\xff"',
        b'"\\ud83d\\ude00"', b'"\\x41"', b'"', b'"a', b'a"', b'""x', b"''",
    ]:  # fmt: skip
        assert not accepts(dfa, text), text


def test_literal_content_dfa() -> None:
    values = ["", "a", "ab", "é😀", "a\nb", "\ud800"]
    dfa = literal_content_dfa(values)
    quoted = encode_json_string(dfa)
    for v in values[:-1]:
        assert accepts(dfa, v.encode()) and accepts(quoted, canon(v))
    for v in ["b", "abc", "é", "a\n"]:
        assert not accepts(dfa, v.encode()) and not accepts(quoted, canon(v))
    assert not literal_content_dfa([]).accepting.any()


def test_long_max_length_without_patterns() -> None:
    dfa = json_string_dfa(max_length=1800)
    assert accepts(dfa, canon("😀" * 1800)) and accepts(dfa, canon("a\n" * 900))
    assert not accepts(dfa, canon("a" * 1801)) and accepts(dfa, canon(""))
    with pytest.raises(GrammarError):  # bounded: fails instead of building ~70k states
        json_string_dfa(max_length=5000)
    lower = json_string_dfa(min_length=1500)
    assert accepts(lower, canon("é" * 1500 + "x" * 7)) and not accepts(lower, canon("é" * 1499))


@pytest.mark.parametrize(("lo", "hi", "patterns"), CONSTRAINTS[:8])
def test_results_are_minimal(lo: int, hi: int | None, patterns: tuple[str, ...]) -> None:
    for dfa in (
        content_dfa(min_length=lo, max_length=hi, patterns=patterns),
        json_string_dfa(min_length=lo, max_length=hi, patterns=patterns),
    ):
        again = minimize(dfa.table, dfa.accepting)
        assert _canonical_form(again) == _canonical_form(dfa)
        assert dfa.n_states == again.n_states == len(_canonical_form(dfa)) + 1


def _canonical_form(dfa: ByteDFA) -> list[tuple[bool, tuple[int, ...]]]:
    ids, order, out = {1: 1}, [1], []
    for s in order:
        row = []
        for t in dfa.rows[s]:
            if t and t not in ids:
                ids[t] = len(ids) + 1
                order.append(t)
            row.append(ids.get(t, 0))
        out.append((dfa.accept_list[s], tuple(row)))
    return out


@given(
    n=st.integers(2, 9),
    seed=st.integers(0, 2**32 - 1),
    density=st.floats(0.2, 1.0),
)
@settings(max_examples=150, deadline=None)
def test_minimize_agrees_with_moore(n: int, seed: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    table = np.zeros((n, 256), dtype=np.int32)
    for byte in (0x61, 0x62, 0x63, 0xC3):
        table[1:, byte] = np.where(rng.random(n - 1) < density, rng.integers(0, n, n - 1), 0)
    accepting = rng.random(n) < 0.4
    accepting[0] = False
    ours, reference = _minimize(table, accepting), minimize(table, accepting)
    assert _canonical_form(ours) == _canonical_form(reference)  # the same minimal automaton
    assert ours.n_states == len(_canonical_form(ours)) + 1  # only reachable states, and dead


def test_unanchored_alternatives_share_one_search() -> None:
    """``A|B|…`` without anchors is one search ``.*(A|B|…).*``: its automaton stays near the size
    of the alternatives' trie instead of the product of one search per alternative (which passed
    the state bound for a dozen time-zone prefixes)."""
    zones = ["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
             "Europe", "Indian", "Pacific", "Etc", "Brazil"]  # fmt: skip
    pattern = "UTC|" + "|".join(f"({z}/[A-Za-z]+)" for z in zones)
    dfa = content_dfa(patterns=[pattern])
    assert dfa.n_states < 2_000
    for text, ok in [("UTC", True), ("x Asia/Tokyo", True), ("Asia/", False), ("Europa/X", False)]:
        assert accepts(dfa, text.encode()) is ok, text
