"""``format`` automata against the JSON-Schema-Test-Suite, reference oracles and ``jsonschema``.

Three ground truths. (1) Every string case of the official suite's ``optional/format`` files
(drafts 4 to 2020-12 and draft-next, read from the ``jsonschema`` sdist) must get the suite's
verdict. (2) Strings drawn from each automaton (a random walk over its edges, and hypothesis's
``from_regex`` of the module's regex) and mutations of them must get the verdict of an
independent oracle: Python reference code for the formats with arithmetic (dates, leap seconds,
lengths), :mod:`ipaddress` for IP addresses, :func:`re.fullmatch` of the same regex otherwise.
(3) Every accepted string must be accepted by ``jsonschema``'s format checker (with the
``jsonschema[format]`` extras), except for the documented cases where that checker departs
from the RFC or the suite: leap seconds (rejected by ``rfc3339-validator``, required by the
suite), year 0000 (RFC 3339 allows it, ``datetime`` has no year 0) and an upper-case ``V`` in
an IPvFuture literal (ABNF literals are case-insensitive; ``rfc3987`` wants ``v``).
"""

from __future__ import annotations

import calendar
import collections
import ipaddress
import json
import re
import tarfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corral.automata.cache import AutomataCache
from corral.automata.dfa import MAX_DFA_STATES, ByteDFA
from corral.automata.ops import difference, intersect, is_empty, minimize
from corral.automata.regex import compile_regex
from corral.grammars.json_schema import formats
from corral.grammars.json_schema.format_tables import load_format_table, table_arrays
from corral.grammars.json_schema.formats import (
    KNOWN_FORMATS,
    build_format_dfa,
    format_content_dfa,
)
from corral.jsonschemabench.test_suite import find_sdist

JSONSCHEMA_SDIST = "jsonschema-4.26.0"
REQUIRED = {"date-time", "date", "time", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
REQUIRED |= {"uri", "uri-reference"}
DRAFTS = ("draft4", "draft6", "draft7", "draft2019-09", "draft2020-12", "draft-next")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- the suite
def jsonschema_sdist() -> Path:
    """The ``jsonschema`` sdist in ``<repo>/.cache/`` (the set-up fetches it; pip if missing)."""
    path = find_sdist()
    assert path.name == f"{JSONSCHEMA_SDIST}.tar.gz"
    return path


@pytest.fixture(scope="session")
def suite_cases() -> dict[str, list[tuple[str, str, bool]]]:
    """Format name -> ``(draft/description, string, valid)`` for every string case."""
    out: dict[str, list[tuple[str, str, bool]]] = collections.defaultdict(list)
    with tarfile.open(jsonschema_sdist()) as tar:
        for draft in DRAFTS:
            for name in KNOWN_FORMATS:
                member = f"{JSONSCHEMA_SDIST}/json/tests/{draft}/optional/format/{name}.json"
                try:
                    handle = tar.extractfile(member)
                except KeyError:
                    continue
                assert handle is not None
                for group in json.load(handle):
                    assert group["schema"]["format"] == name
                    for case in group["tests"]:
                        if isinstance(case["data"], str):
                            label = f"{draft}: {case['description']}"
                            out[name].append((label, case["data"], case["valid"]))
    return out


def accepts(dfa: ByteDFA, text: str) -> bool:
    """Whether ``dfa`` accepts ``text`` (the empty string included)."""
    state = 1
    for byte in text.encode("utf-8"):
        state = dfa.rows[state][byte]
        if state == 0:
            return False
    return dfa.accept_list[state]


def test_known_formats() -> None:
    assert REQUIRED | {"json-pointer"} <= KNOWN_FORMATS
    for name in ("regex", "idn-email", "relative-json-pointer", "no-such-format"):
        assert format_content_dfa(name) is None
    shared = AutomataCache()
    assert format_content_dfa("uuid", cache=shared) is format_content_dfa("uuid", cache=shared)
    assert format_content_dfa("uuid") is not format_content_dfa("uuid")  # no hidden cache
    empty_ok = {name for name in KNOWN_FORMATS if accepts(_dfa(name), "")}
    assert empty_ok == {"json-pointer", "uri-reference"}


@pytest.mark.parametrize("name", sorted(KNOWN_FORMATS))
def test_suite_cases(name: str, suite_cases: dict[str, list[tuple[str, str, bool]]]) -> None:
    cases = suite_cases[name]
    assert len(cases) >= 7
    wrong = [(label, data) for label, data, valid in cases if accepts(_dfa(name), data) != valid]
    assert wrong == []


# --------------------------------------------------------------------------- oracles
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)
_TIME = re.compile(
    r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(?:\.\d+)?(?:[Zz]|([+-])([01]\d|2[0-3]):([0-5]\d))",
    re.ASCII,
)


def oracle_date(text: str) -> bool:
    m = _DATE.fullmatch(text)
    if m is None:
        return False
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return False
    days = (
        29
        if month == 2 and calendar.isleap(year)
        else [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    )
    return 1 <= day <= days


def oracle_time(text: str) -> bool:
    """RFC 3339 ``full-time``; second 60 only at 23:59 UTC (local time minus offset)."""
    m = _TIME.fullmatch(text)
    if m is None:
        return False
    if m[3] != "60":
        return True
    offset = 0 if m[4] is None else int(m[5]) * 60 + int(m[6])
    offset = -offset if m[4] == "-" else offset
    return (int(m[1]) * 60 + int(m[2]) - offset) % 1440 == 23 * 60 + 59


def oracle_ip(kind: Callable[[str], Any]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            kind(text)
        except ValueError:
            return False
        return "%" not in text  # no IPv6 zone identifier

    return check


ORACLES: dict[str, Callable[[str], bool]] = {
    "date": oracle_date,
    "time": oracle_time,
    "date-time": lambda s: (
        len(s) > 11 and s[10] in "Tt" and oracle_date(s[:10]) and oracle_time(s[11:])
    ),
    "hostname": lambda s: (
        s.isascii() and 0 < len(s) <= 253 and all(_LABEL.fullmatch(label) for label in s.split("."))
    ),
    "ipv4": oracle_ip(ipaddress.IPv4Address),
    "ipv6": oracle_ip(ipaddress.IPv6Address),
}


def oracle_regex(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda s: compiled.fullmatch(s) is not None


for _name, _regex in formats._REGEXES.items():
    ORACLES.setdefault(_name, oracle_regex(_regex))

# Where jsonschema's checker accepts strings that are not valid (checker too lenient): the
# reverse check (checker accepts => we accept) is made only outside these.
LENIENT_CHECKER: dict[str, Callable[[str], bool]] = {
    "date-time": lambda s: s.endswith("\n"),  # rfc3339-validator's "$"
    "time": lambda s: s.endswith("\n"),
    "uri": lambda s: s.endswith("\n"),  # rfc3987's "$"
    "uri-reference": lambda s: s.endswith("\n"),
    "hostname": lambda s: s.endswith(("\n", ".")) or not s.isascii(),  # fqdn: "$", "\d", FQDN
}
EXACT_CHECKER = {"date", "time", "date-time", "ipv4", "ipv6", "json-pointer", "hostname"}
EXACT_CHECKER |= {"uri", "uri-reference"}


def checker_departs(name: str, text: str) -> bool:
    """The documented cases where a valid string is rejected by jsonschema's checker."""
    if name in ("time", "date-time") and re.search(r"(^|[Tt])\d\d:\d\d:60", text, re.ASCII):
        return True  # leap second: the suite requires it, rfc3339-validator rejects it
    if name in ("date", "date-time") and text.startswith("0000"):
        return True  # RFC 3339 years are 0000-9999; Python's date starts at year 1
    return name in ("uri", "uri-reference") and "[V" in text  # IPvFuture "v" is case-insensitive


def checker(name: str, text: str) -> bool:
    assert name in jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers
    try:
        return bool(jsonschema.Draft202012Validator.FORMAT_CHECKER.conforms(text, name))
    except (ArithmeticError, ValueError):  # isoduration overflows on e.g. "P1e99999D"
        return False


def test_documented_departures() -> None:
    for name, text in [
        ("time", "23:59:60Z"),
        ("date-time", "1998-12-31T15:59:60.123-08:00"),
        ("date", "0000-02-29"),
        ("uri", "http://[V1.x]/"),
    ]:
        assert accepts(_dfa(name), text) and ORACLES[name](text)
        assert checker_departs(name, text) and not checker(name, text)


# --------------------------------------------------------------------------- sampling
@cache
def _dfa(name: str) -> ByteDFA:
    dfa = format_content_dfa(name)
    assert dfa is not None
    return dfa


@cache
def _to_accept(name: str) -> list[int]:
    """Shortest distance from each state to an accepting state."""
    dfa = _dfa(name)
    back: dict[int, set[int]] = collections.defaultdict(set)
    for s in range(1, dfa.n_states):
        for byte in dfa.out_bytes[s]:
            back[dfa.rows[s][byte]].add(s)
    dist = [0 if a else -1 for a in dfa.accept_list]
    todo = collections.deque(s for s in range(1, dfa.n_states) if dist[s] == 0)
    while todo:
        t = todo.popleft()
        for s in back[t]:
            if dist[s] < 0:
                dist[s] = dist[t] + 1
                todo.append(s)
    return dist


@st.composite
def members(draw: st.DrawFn, name: str, max_len: int = 60) -> str:
    """A random walk over the automaton's edges, heading for acceptance after ``max_len``."""
    dfa, dist = _dfa(name), _to_accept(name)
    state, out = 1, bytearray()
    while True:
        options = dfa.out_bytes[state]
        if dfa.accept_list[state] and (
            not options or len(out) >= max_len or draw(st.integers(0, 9)) == 0
        ):
            return out.decode("utf-8")
        if len(out) >= max_len:
            options = tuple(b for b in options if dist[dfa.rows[state][b]] < dist[state])
        byte = draw(st.sampled_from(options))
        out.append(byte)
        state = dfa.rows[state][byte]


_NOISE = st.sampled_from(list('0123456789aAfFzZtTPV:.-_/@[]%?#~"\\ +!$\n\u09ea\u00e9'))


@st.composite
def mutants(draw: st.DrawFn, name: str) -> str:
    chars = list(draw(members(name)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(chars)))
        op = draw(st.integers(0, 2))
        if op == 0:
            chars.insert(i, draw(_NOISE))
        elif i < len(chars):
            if op == 1:
                del chars[i]
            else:
                chars[i] = draw(_NOISE)
    return "".join(chars)


@pytest.mark.parametrize("name", sorted(KNOWN_FORMATS))
@SETTINGS
@given(data=st.data())
def test_members_are_valid(name: str, data: st.DataObject) -> None:
    text = data.draw(members(name))
    assert accepts(_dfa(name), text)
    assert ORACLES[name](text)
    assert checker(name, text) or checker_departs(name, text)


@pytest.mark.parametrize("name", sorted(KNOWN_FORMATS))
@SETTINGS
@given(data=st.data())
def test_mutants_agree_with_oracles(name: str, data: st.DataObject) -> None:
    text = data.draw(mutants(name))
    ours = accepts(_dfa(name), text)
    assert ours == ORACLES[name](text)
    if ours:
        assert checker(name, text) or checker_departs(name, text)
    elif name in EXACT_CHECKER and not (name in LENIENT_CHECKER and LENIENT_CHECKER[name](text)):
        assert not checker(name, text)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def _regex_strategy(name: str) -> st.SearchStrategy[str]:
    return st.from_regex(formats._REGEXES[name], fullmatch=True).filter(_utf8)


@pytest.mark.parametrize("name", sorted(formats._REGEXES))
@SETTINGS
@given(data=st.data())
def test_regex_samples_accepted(name: str, data: st.DataObject) -> None:
    text = data.draw(_regex_strategy(name))
    assert accepts(_dfa(name), text)
    assert checker(name, text) or checker_departs(name, text)


# --------------------------------------------------------------------------- constructions
def test_leap_second_offsets_exhaustive() -> None:
    time, date_time = _dfa("time"), _dfa("date-time")
    for local in range(1440):
        stamp = f"{local // 60:02d}:{local % 60:02d}:60"
        for sign, good in (("+", (local - 1439) % 1440), ("-", (1439 - local) % 1440)):
            for offset in (good, (good + 1) % 1440, (good + 60) % 1440, (good - 1) % 1440):
                text = f"{stamp}{sign}{offset // 60:02d}:{offset % 60:02d}"
                assert accepts(time, text) == (offset == good) == oracle_time(text), text
                assert accepts(date_time, "2016-12-31T" + text) == (offset == good)
        assert accepts(time, stamp + ".5Z") == (local == 1439)


def test_hostname_construction_exact_and_minimal() -> None:
    small = formats._hostname_dfa(4, 11)
    label = "[A-Za-z0-9]([A-Za-z0-9-]{0,2}[A-Za-z0-9])?"
    ref = intersect(compile_regex(rf"{label}(\.{label})*"), compile_regex("[ -~]{1,11}"))
    assert is_empty(difference(small, ref)) and is_empty(difference(ref, small))
    assert minimize(small.table, small.accepting).n_states == small.n_states


def test_hostname_lengths() -> None:
    dfa = _dfa("hostname")
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d-" * 30 + "d"])
    assert len(longest) == 253 and accepts(dfa, longest) and checker("hostname", longest)
    assert not accepts(dfa, longest + "e") and not checker("hostname", longest + "e")
    assert not accepts(dfa, "x." + longest[2:] + "ee")
    assert accepts(dfa, "a" * 63) and not accepts(dfa, "a" * 64)
    assert not accepts(dfa, "a.") and not accepts(dfa, "a..b") and not accepts(dfa, "a-.b")


def test_shipped_tables_are_the_constructions() -> None:
    """``format_tables.npz`` holds, array for array, what each construction builds now (after
    changing one: ``python scripts/build_format_tables.py``), and is what is served."""
    for name in sorted(KNOWN_FORMATS):
        built, shipped = build_format_dfa(name), load_format_table(name)
        assert built is not None and shipped is not None, name
        want, got = table_arrays(built), table_arrays(shipped)
        for part, array in want.items():
            assert got[part].dtype == array.dtype, (name, part)
            assert np.array_equal(got[part], array), (name, part)
        served = table_arrays(_dfa(name))
        assert all(np.array_equal(served[p], a) for p, a in want.items()), name
    assert load_format_table("no-such-format") is None
    assert build_format_dfa("no-such-format") is None


def test_state_counts() -> None:
    for name in KNOWN_FORMATS - {"hostname"}:
        assert _dfa(name).n_states <= MAX_DFA_STATES, name
    assert _dfa("hostname").n_states == 23_810  # the minimal automaton; see formats' docstring
