"""Terminal regexes compiled to byte automata agree with Python's ``re`` on UTF-8 text.

``compile_regex`` builds a minimal DFA over *bytes* from interegular's parse of a regex; here it
is checked against :func:`re.fullmatch` on the decoded text, for strings that hypothesis draws
both at random (ASCII and non-ASCII) and from the regex itself. ``utf8_sequences`` (the RE2 /
``regex-syntax`` range splitting) is checked exactly: the sequences cover the encodings of the
range's code points once each and nothing else. Hostile regexes must fail fast with
:class:`corral.GrammarError`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import smollm2
from corral import Grammar, GrammarError, Matcher
from corral import compile as compile_grammar
from corral.automata.dfa import ByteDFA
from corral.automata.regex import compile_regex, literal_dfa
from corral.automata.utf8 import MAX_UNICODE, utf8_sequences

# (regex, re flags of the oracle). Case-insensitive regexes use ASCII letters only and are
# compared under re.ASCII: Python's full Unicode case folding (e.g. 'ſ' ~ 's', 'ς' ~ 'σ') is
# not what corral (nor interegular) implements, see test_case_insensitive_simple_folding.
REGEXES: list[tuple[str, int]] = [
    (r"[a-z]+", 0),
    (r"[^a-z]+", 0),
    (r'"[^"\\]*"', 0),
    (r"[^é]+", 0),
    (r"[^ -~]{1,3}", 0),
    (r"[à-ÿ€-₿]+", 0),
    (r"[😀-🙏]+x?", 0),
    (r"[^😀]{1,3}", 0),
    (r"é+|ü{2}|😀", 0),
    (r"cat|dog|bird", 0),
    (r"(ab|a)(bc|c)?", 0),
    (r"a{3}", 0),
    (r"(ab){2,4}", 0),
    (r"x{2,}y", 0),
    (r"colou?r", 0),
    (r"((a|b)c)*d", 0),
    (r"(a(b(c|d)*)?)+", 0),
    (r".+", 0),
    (r"(?s:.+)", 0),
    (r"a.c", 0),
    (r"(?i:hello)", re.ASCII),
    (r"(?i:[a-f0-9]{2,4})", re.ASCII),
    (r"(?i:[^x-z]+)", re.ASCII),
    (r"\.\*\+\?\(\)\[\]\{\}\|\\", 0),
    (r"\n\t+", 0),
    (r"[\-+]?[0-9]+(\.[0-9]+)?", 0),
    (r"a*", 0),
    (r"(a|)b?", 0),
    (r"[a-c][^a-c]", 0),
]
IDS = [p for p, _ in REGEXES]

# Characters worth mixing in: the regexes' own alphabet, multi-byte characters of every length,
# the class boundaries, and escapes' targets.
ALPHABET = list('abcdxyzABCXYZ019 -+._*?()[]{}|\\"\n\tcoluregihfàÿé€₿😀🙏ü~\x7f\x80ß')
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(ALPHABET), st.characters(codec="utf-8")),
    max_size=10,
)


def _oracle(pattern: str, flags: int, text: str) -> bool:
    # Terminals match non-empty strings only.
    return text != "" and re.fullmatch(pattern, text, flags) is not None


@pytest.mark.parametrize(("pattern", "flags"), REGEXES, ids=IDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_compile_regex_agrees_with_re(pattern: str, flags: int, text: str) -> None:
    dfa = compile_regex(pattern)
    assert dfa.matches(text.encode("utf-8")) == _oracle(pattern, flags, text), (pattern, text)


def _no_surrogates(s: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in s)


@pytest.mark.parametrize(("pattern", "flags"), REGEXES, ids=IDS)
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_strings_of_the_regex_all_match(pattern: str, flags: int, data: st.DataObject) -> None:
    dfa = compile_regex(pattern)
    text = data.draw(
        st.from_regex(re.compile(pattern, flags), fullmatch=True).filter(_no_surrogates)
    )
    assert re.fullmatch(pattern, text, flags)  # the oracle itself
    if text:
        assert dfa.matches(text.encode("utf-8")), (pattern, text)
    else:
        assert not dfa.matches(b"")


@pytest.mark.parametrize(("pattern", "flags"), REGEXES, ids=IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=8))
def test_raw_bytes_agree_or_are_invalid_utf8(pattern: str, flags: int, data: bytes) -> None:
    dfa = compile_regex(pattern)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        assert not dfa.matches(data), (pattern, data)
        return
    assert dfa.matches(data) == _oracle(pattern, flags, text), (pattern, data)


@pytest.mark.parametrize(("pattern", "flags"), REGEXES, ids=IDS)
def test_empty_string_never_matches(pattern: str, flags: int) -> None:
    assert not compile_regex(pattern).matches(b"")


@pytest.mark.parametrize(
    "data",
    [b"\xff", b"\xfe", b"\xc0\x80", b"\xc3", b"\xa9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"],
)
def test_invalid_utf8_is_rejected(data: bytes) -> None:
    # overlong, truncated, lone continuation, surrogate (CESU) and beyond-U+10FFFF forms
    for pattern in (".", "(?s:.)", ".+", "[^a]+", "(?s:.*)x?"):
        assert not compile_regex(pattern).matches(data), (pattern, data)


def test_dot_and_dotall() -> None:
    dot, dotall = compile_regex("a.b"), compile_regex("(?s:a.b)")
    assert dot.matches(b"axb") and dotall.matches(b"axb")
    assert not dot.matches(b"a\nb")
    assert dotall.matches(b"a\nb")
    for ch in ("é", "€", "😀", "\x00", "\r"):
        assert dot.matches(f"a{ch}b".encode()), ch
        assert dotall.matches(f"a{ch}b".encode()), ch


def test_case_insensitive_simple_folding() -> None:
    dfa = compile_regex("(?i:straße)")
    for s in ("straße", "STRAßE", "StRaßE"):
        assert dfa.matches(s.encode()), s
    assert not dfa.matches(b"strasse")
    e = compile_regex("(?i:[é-ë]+)")
    assert e.matches("éÉëË".encode())
    assert not e.matches(b"eE")
    assert compile_regex("(?i:[^a])").matches(b"b")
    assert not compile_regex("(?i:[^a])").matches(b"A")


def test_dfa_conventions() -> None:
    dfa = compile_regex("ab|ac")
    assert isinstance(dfa, ByteDFA)
    assert dfa.table.dtype == np.int32 and dfa.table.shape == (dfa.n_states, 256)
    assert (dfa.table[0] == 0).all() and not dfa.accepting[0]  # dead state absorbs
    assert not dfa.accepting[1]
    # minimal: initial, after 'a', accepting
    assert dfa.n_states == 4
    # trimmed: every live state can still reach acceptance, so 'a' then 'd' is dead at once
    s = dfa.rows[dfa.rows[1][ord("a")]][ord("d")]
    assert s == 0


def test_literal_dfa_agrees_with_regex() -> None:
    for text in ("hello", "a.b*c", "é😀", "x"):
        lit = literal_dfa(text)
        assert lit.matches(text.encode())
        assert not lit.matches(text.encode()[:-1])
        assert not lit.matches(text.encode() + b"x")
        assert not lit.matches(b"")
    ci = literal_dfa("Hello", case_insensitive=True)
    assert ci.matches(b"hELLO") and not ci.matches(b"hell")


# --------------------------------------------------------------------------- utf8_sequences
def _covers(seq: list[tuple[int, int]], data: bytes) -> bool:
    if len(seq) != len(data):
        return False
    return all(lo <= b <= hi for (lo, hi), b in zip(seq, data, strict=True))


def _n_scalars(lo: int, hi: int) -> int:
    n = hi - lo + 1
    overlap = min(hi, 0xDFFF) - max(lo, 0xD800) + 1
    return n - max(0, overlap)


BOUNDARIES = [0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFFFF, 0x10000]
CODE_POINT = st.one_of(
    st.integers(0, MAX_UNICODE),
    st.sampled_from([*BOUNDARIES, MAX_UNICODE]),
    st.integers(0, 0x900),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=CODE_POINT, width=st.one_of(st.integers(0, 2000), st.integers(0, MAX_UNICODE)))
def test_utf8_sequences_cover_range_exactly(a: int, width: int) -> None:
    lo, hi = a, min(MAX_UNICODE, a + width)
    assume(_n_scalars(lo, hi) > 0)
    seqs = utf8_sequences(lo, hi)
    for seq in seqs:
        assert 1 <= len(seq) <= 4
        assert all(0 <= x <= y <= 0xFF for x, y in seq)
    # Exactly as many byte strings are covered (with multiplicity) as there are scalar values
    # in the range; together with "each in-range code point is covered once" below (checked on
    # all of a small range, on a sample of a large one) this says the cover is exact.
    total = sum(int(np.prod([y - x + 1 for x, y in seq])) for seq in seqs)
    assert total == _n_scalars(lo, hi)
    if hi - lo <= 2500:
        inside = range(lo, hi + 1)
    else:
        step = (hi - lo) // 2000 + 1
        inside = [*range(lo, hi + 1, step), hi, *(b for b in BOUNDARIES if lo <= b <= hi)]
    for cp in inside:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        data = chr(cp).encode("utf-8")
        assert sum(_covers(s, data) for s in seqs) == 1, hex(cp)
    outside = [
        c
        for c in (lo - 1, lo - 2, hi + 1, hi + 2, lo - 0x80, hi + 0x800, 0, 0x7F, 0x10000)
        if 0 <= c <= MAX_UNICODE and not lo <= c <= hi and not 0xD800 <= c <= 0xDFFF
    ]
    for cp in outside:
        data = chr(cp).encode("utf-8")
        assert not any(_covers(s, data) for s in seqs), hex(cp)
    # surrogates never have a form (their CESU-8 bytes are not covered)
    if lo <= 0xD800 <= hi:
        assert not any(_covers(s, b"\xed\xa0\x80") for s in seqs)


def test_utf8_sequences_full_range() -> None:
    seqs = utf8_sequences(0, MAX_UNICODE)
    assert [(0, 0x7F)] in seqs
    total = sum(int(np.prod([y - x + 1 for x, y in seq])) for seq in seqs)
    assert total == MAX_UNICODE + 1 - 2048


# --------------------------------------------------------------------------- split characters
@pytest.fixture(scope="module")
def quoted_matcher() -> Matcher:
    return Matcher(compile_grammar(Grammar.from_regex('"[^"]*"'), smollm2()))


def test_utf8_character_split_across_accept_bytes(quoted_matcher: Matcher) -> None:
    m = quoted_matcher
    m.reset()
    assert m.accept_bytes(b'"\xc3')
    assert not m.is_accepting()
    assert m.accept_bytes(b'\xa9"')
    assert m.is_accepting()
    assert m.num_bytes == 4
    # a 4-byte character in three pieces
    m.reset()
    for piece in (b'"\xf0', b"\x9f\x98", b'\x80"'):
        assert m.accept_bytes(piece), piece
    assert m.is_accepting()
    # a split character must be completed: a quote after a lead byte is refused
    m.reset()
    assert m.accept_bytes(b'"\xc3')
    assert not m.accept_bytes(b'"')
    assert m.num_bytes == 2
    assert not m.accept_bytes(b"\xff")
    m.rollback(1)
    assert m.num_bytes == 0


def test_utf8_character_split_across_tokens(quoted_matcher: Matcher) -> None:
    tok = smollm2()
    ids = {b: i for i, b in enumerate(tok.all_token_bytes()) if i not in tok.special_token_ids}
    m = quoted_matcher
    m.reset()
    assert m.accept_token(ids[b'"'])
    mask = m.allowed_token_mask()
    assert mask[ids[b"\xc3"]]
    assert not mask[ids[b"\xa9"]]  # a lone continuation byte cannot start a character
    assert m.accept_token(ids[b"\xc3"])
    mask = m.allowed_token_mask()
    assert mask[ids[b"\xa9"]]
    assert not mask[ids[b'"']]
    assert m.accept_token(ids[b"\xa9"])
    assert m.accept_token(ids[b'"'])
    assert m.is_accepting()


# --------------------------------------------------------------------------- hostile regexes
HOSTILE = [r"(a|b)*a(a|b){20}", r"a{100000}", r"(?=a)b", r"(", r"a\1"]


@pytest.mark.parametrize("pattern", HOSTILE)
def test_hostile_regex_raises_fast(pattern: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(GrammarError):
        compile_regex(pattern)
    assert time.monotonic() - t0 < 10.0


_FROM_REGEX_SCRIPT = """
import sys
from corral import Grammar, GrammarError
for pattern in sys.argv[1:]:
    try:
        Grammar.from_regex(pattern)
    except GrammarError:
        continue
    raise SystemExit(f"no GrammarError for {pattern!r}")
"""


def test_hostile_regex_grammar_from_regex_raises_fast() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _FROM_REGEX_SCRIPT, *HOSTILE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert time.monotonic() - t0 < 30.0
