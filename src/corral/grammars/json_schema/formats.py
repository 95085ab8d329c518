"""JSON Schema ``format`` values as exact byte automata.

Each supported format is the regular language of its defining standard, written as regexes
transcribed from the standard's ABNF (RFC 5234; ABNF quoted strings are case-insensitive) and
compiled with :func:`~corral.automata.dfa.compile_regex`:

* ``date``, ``time``, ``date-time``: RFC 3339 §5.6, with the month/day table and the Gregorian
  leap-year rule of RFC 3339 Appendix C; ``T`` and ``Z`` in either case (RFC 3339 §5.6 note).
  Second ``60`` (a leap second, §5.7) is accepted exactly when the time, shifted to UTC by its
  offset, is 23:59, as the JSON-Schema-Test-Suite expects.
* ``duration``: the ``duration`` ABNF of RFC 3339 Appendix A, with ISO 8601's upper-case
  designators only (as the suite's reference implementations and ``isoduration`` read it).
* ``email``: the ``Mailbox`` rule of RFC 5321 §4.1.2 (dot-string or quoted local part; a domain
  or an IPv4 / IPv6 address literal of §4.1.3).
* ``hostname``: RFC 1123 §2.1 (labels of 1-63 letters, digits and inner hyphens) with the
  253-character limit of RFC 1035 §3.1.
* ``ipv4``: the dotted quad of RFC 2673 §3.2 (cited by JSON Schema), octets 0-255 without
  leading zeros (RFC 3986 ``dec-octet``); ``ipv6``: RFC 4291 §2.2, as the ``IPv6address`` rule
  of RFC 3986 §3.2.2, without zone identifier.
* ``uuid``: RFC 4122 §3; ``uri``, ``uri-reference``: RFC 3986 §3 and §4.1;
  ``json-pointer``: RFC 6901 §3.

Three automata are built without regexes. The leap-second rule ties the hour and minute to the
offset read after an unbounded fraction, so ``time`` and ``date-time`` are built by exploring a
small transition function and minimised (:mod:`corral.automata.minimize`). ``hostname`` is
finite; its automaton is built bottom-up with hash-consing of right languages (Revuz 1992),
which gives the minimal automaton directly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA
from corral.automata.ops import minimize_over
from corral.automata.regex import compile_regex
from corral.grammars.json_schema.format_tables import load_format_table
from corral.limits import Budget

__all__ = ["KNOWN_FORMATS", "build_format_dfa", "format_content_dfa"]

# --------------------------------------------------------------------------- regex pieces
_HEX = "[0-9A-Fa-f]"
_DEC_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = rf"{_DEC_OCTET}(\.{_DEC_OCTET}){{3}}"
_H16 = f"{_HEX}{{1,4}}"
_LS32 = f"({_H16}:{_H16}|{_IPV4})"


def _ipv6() -> str:
    """RFC 3986 §3.2.2 ``IPv6address``: at most ``n`` groups before ``::``, fixed ones after."""
    after = [f"({_H16}:){{{k}}}{_LS32}" for k in (4, 3, 2)] + [f"{_H16}:{_LS32}", _LS32, _H16, ""]
    alts = [f"({_H16}:){{6}}{_LS32}", f"::({_H16}:){{5}}{_LS32}"]
    for before, tail in enumerate(after):
        head = f"({_H16}:){{0,{before}}}{_H16}" if before else _H16
        alts.append(f"({head})?::{tail}")
    return "(" + "|".join(alts) + ")"


_IPV6 = _ipv6()

# RFC 3986 §2 character classes (as regex class bodies) and rules of §3.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = f"%{_HEX}{_HEX}"
_PCHAR = f"([{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
_USERINFO = f"([{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_IPVFUTURE = rf"[Vv]{_HEX}+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_REG_NAME = f"([{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_HOST = rf"(\[({_IPV6}|{_IPVFUTURE})\]|{_REG_NAME})"  # reg-name includes IPv4address
_AUTHORITY = f"({_USERINFO}@)?{_HOST}(:[0-9]*)?"
_SEGMENT = f"{_PCHAR}*"
_PATH_ABEMPTY = f"(/{_SEGMENT})*"
_PATH_ABSOLUTE = f"/({_PCHAR}+(/{_SEGMENT})*)?"
_PATH_ROOTLESS = f"{_PCHAR}+(/{_SEGMENT})*"
_PATH_NOSCHEME = f"([{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})+(/{_SEGMENT})*"
_QUERY = f"([{_UNRESERVED}{_SUB_DELIMS}:@/?]|{_PCT})*"
_TAIL = rf"(\?{_QUERY})?(#{_QUERY})?"
_URI = f"{_SCHEME}:(//{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS})?{_TAIL}"
_RELATIVE_REF = f"(//{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME})?{_TAIL}"


def _email() -> str:
    """RFC 5321 §4.1.2 ``Mailbox`` with the address literals of §4.1.3.

    ``General-address-literal`` is left out: its tag must be registered with IANA, and the only
    registered tag, ``IPv6``, has its own rule.
    """
    atext = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]"
    dot_string = rf"{atext}+(\.{atext}+)*"
    quoted = r'"([ !#-\[\]-~]|\\[ -~])*"'
    let_dig = "[A-Za-z0-9]"
    domain = rf"{let_dig}([A-Za-z0-9\-]*{let_dig})?(\.{let_dig}([A-Za-z0-9\-]*{let_dig})?)*"
    snum = "([0-9]{1,2}|[01][0-9]{2}|2[0-4][0-9]|25[0-5])"  # 1*3DIGIT of value 0-255
    ipv4 = rf"{snum}(\.{snum}){{3}}"
    h = _H16

    def groups(n: int) -> str:  # n colon-separated groups (n >= 1)
        return f"{h}(:{h}){{{n - 1}}}"

    # IPv6-comp / IPv6v4-comp: "::" stands for at least two groups, so at most 6 (resp. 4)
    # explicit groups in all.
    comp = [
        f"{groups(i) if i else ''}::{groups(j) if j else ''}"
        for i in range(7)
        for j in range(7 - i)
    ]
    v4comp = [
        f"{groups(i) if i else ''}::{groups(j) + ':' if j else ''}{ipv4}"
        for i in range(5)
        for j in range(5 - i)
    ]
    ipv6 = "|".join([groups(8), f"{groups(6)}:{ipv4}", *comp, *v4comp])
    literal = rf"\[({ipv4}|[Ii][Pp][Vv]6:({ipv6}))\]"
    return f"({dot_string}|{quoted})@({domain}|{literal})"


_DIGITS = "[0-9]"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)"
_DATE = (
    "([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    f"|02-(0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)


def _duration() -> str:
    """RFC 3339 Appendix A ``duration``."""
    second = "[0-9]+S"
    minute = f"[0-9]+M({second})?"
    hour = f"[0-9]+H({minute})?"
    dur_time = f"T({hour}|{minute}|{second})"
    month = "[0-9]+M([0-9]+D)?"
    year = f"[0-9]+Y({month})?"
    return f"P(([0-9]+D|{month}|{year})({dur_time})?|{dur_time}|[0-9]+W)"


_REGEXES: dict[str, str] = {
    "date": _DATE,
    "duration": _duration(),
    "email": _email(),
    "ipv4": _IPV4,
    "ipv6": _IPV6,
    "uuid": f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}",
    "uri": _URI,
    "uri-reference": f"({_URI}|{_RELATIVE_REF})",
    "json-pointer": "(/([^/~]|~[01])*)*",
}

KNOWN_FORMATS: frozenset[str] = frozenset({*_REGEXES, "time", "date-time", "hostname"})

# --------------------------------------------------------------------------- direct builders
_Edges = list[tuple[bytes, Hashable]]
_Step = Callable[[Hashable], tuple[bool, _Edges]]


def _edge_table(
    n_states: int, src: list[int], data_of: list[bytes], dst: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The table of edges ``src[k] --data_of[k]--> dst[k]`` over byte columns, and the column
    of each byte: bytes that every edge's byte set takes or leaves together share a column,
    and bytes no edge reads share one more (dead) column."""
    groups = list(dict.fromkeys(data_of))
    member: dict[int, list[int]] = {}  # byte -> the groups holding it
    for g, data in enumerate(groups):
        for b in data:
            member.setdefault(b, []).append(g)
    atoms = list(dict.fromkeys(tuple(v) for v in member.values()))
    atom_of = {a: k for k, a in enumerate(atoms)}
    byte_col = np.full(256, len(atoms), dtype=np.int64)
    for b, v in member.items():
        byte_col[b] = atom_of[tuple(v)]
    cols_of = [sorted({atom_of[tuple(member[b])] for b in data}) for data in groups]
    group_of = {data: g for g, data in enumerate(groups)}
    rows, cols, targets = [], [], []
    for s, data, t in zip(src, data_of, dst, strict=True):
        for c in cols_of[group_of[data]]:
            rows.append(s)
            cols.append(c)
            targets.append(t)
    table = np.zeros((n_states, len(atoms) + 1), dtype=np.int32)
    table[rows, cols] = targets
    return table, byte_col


def _explore(start: Hashable, step: _Step) -> ByteDFA:
    """The minimal automaton of the states reachable from ``start`` under ``step``.

    ``step(key)`` gives whether ``key`` accepts and its edges ``(bytes, next key)``; every key
    must be able to reach an accepting key.
    """
    ids: dict[Hashable, int] = {start: 1}
    order = [start]
    accepting = [False]
    src: list[int] = []  # the edges, as parallel lists: from state, bytes, to state
    data_of: list[bytes] = []
    dst: list[int] = []
    i = 0
    while i < len(order):
        acc, edges = step(order[i])
        for data, nxt in edges:
            sid = ids.setdefault(nxt, len(order) + 1)
            if sid == len(order) + 1:
                order.append(nxt)
            src.append(i + 1)
            data_of.append(data)
            dst.append(sid)
        accepting.append(acc)
        i += 1
    table, byte_col = _edge_table(len(accepting), src, data_of, dst)
    return minimize_over(table, byte_col, np.array(accepting, dtype=bool))


_DIGIT_BYTES = b"0123456789"


def _digits(upto: int) -> bytes:
    return _DIGIT_BYTES[: upto + 1]


def _offset_edges(local: tuple[int, int] | None) -> _Edges:
    """Edges at the start of ``time-offset``; ``local`` is the time of a leap second, if any.

    A leap second is 23:59:60 UTC, so local time ``hh:mm`` takes the one offset ``+HH:MM`` with
    ``hh:mm - HH:MM = 23:59`` and the one offset ``-HH:MM`` with ``hh:mm + HH:MM = 23:59``
    (modulo 24 hours); ``Z`` only at 23:59.
    """
    if local is None:
        return [(b"Zz", ("lit", "")), (b"+-", ("off", 0))]
    h, m = local
    plus = f"{h:02d}:{m + 1:02d}" if m < 59 else f"{(h + 1) % 24:02d}:00"
    edges: _Edges = [(b"+", ("lit", plus)), (b"-", ("lit", f"{23 - h:02d}:{59 - m:02d}"))]
    if local == (23, 59):
        edges.append((b"Zz", ("lit", "")))
    return edges


class _TimeStep:
    """Transition function of RFC 3339 ``full-time`` (and ``date-time`` via ``("date", s)``,
    a state of the ``date`` automaton given)."""

    def __init__(self, date: ByteDFA | None) -> None:
        self.date = date

    def __call__(self, key: Hashable) -> tuple[bool, _Edges]:
        return _time_step(self.date, key)


def _time_step(date: ByteDFA | None, key: Hashable) -> tuple[bool, _Edges]:
    assert isinstance(key, tuple)
    kind, *arg = key
    if kind == "date":  # a state of the ``date`` automaton, then "T"
        dfa = date
        assert dfa is not None
        (s,) = arg
        if dfa.accept_list[s]:  # a full date: fixed length, so no edge leaves it
            return False, [(b"Tt", ("hour",))]
        row = dfa.rows[s]
        return False, [(bytes([b]), ("date", row[b])) for b in dfa.out_bytes[s]]
    if kind == "hour":
        return False, [(bytes([c]), ("hour2", c - 48)) for c in b"012"]
    if kind == "hour2":  # arg: tens digit of the hour
        return False, [
            (bytes([c]), ("min", arg[0] * 10 + c - 48)) for c in _digits(3 if arg[0] == 2 else 9)
        ]
    if kind == "min":  # arg: hour, before ":"
        return False, [(b":", ("min1", arg[0]))]
    if kind == "min1":
        return False, [(bytes([c]), ("min2", arg[0], c - 48)) for c in _digits(5)]
    if kind == "min2":  # arg: hour, tens digit of the minute
        h, t = arg
        return False, [(bytes([c]), ("sec", h, t * 10 + c - 48)) for c in _DIGIT_BYTES]
    if kind == "sec":  # arg: hour, minute, before ":"
        return False, [(b":", ("sec1", *arg))]
    if kind == "sec1":
        return False, [(_digits(5), ("sec2",)), (b"6", ("sec60", *arg))]
    if kind == "sec2":
        return False, [(_DIGIT_BYTES, ("frac", None))]
    if kind == "sec60":
        return False, [(b"0", ("frac", tuple(arg)))]
    if kind == "frac":  # arg: leap-second local time or None; secfrac optional
        return False, [(b".", ("frac1", arg[0])), *_offset_edges(arg[0])]
    if kind == "frac1":
        return False, [(_DIGIT_BYTES, ("frac2", arg[0]))]
    if kind == "frac2":
        return False, [(_DIGIT_BYTES, key), *_offset_edges(arg[0])]
    if kind == "off":  # numeric offset HH:MM, arg: characters read
        (n,) = arg
        nxt = ("off", n + 1) if n < 4 else ("lit", "")
        if n == 0:
            return False, [(b"01", ("off1", 9)), (b"2", ("off1", 3))]
        return False, [(b":" if n == 2 else _digits(5 if n == 3 else 9), nxt)]
    if kind == "off1":  # arg: largest second digit of the offset hour
        return False, [(_digits(arg[0]), ("off", 2))]
    (rest,) = arg  # kind == "lit": exactly ``rest`` remains
    return not rest, [(rest[:1].encode(), ("lit", rest[1:]))] if rest else []


def _hostname_dfa(label_max: int, total_max: int) -> ByteDFA:
    """Dot-separated RFC 1123 labels of at most ``label_max`` bytes, at most ``total_max`` in all.

    A key is ``(room, left, hyphen)`` inside a label (``room``: bytes the label may still grow,
    never above ``left``; ``left``: bytes the name may still grow; ``hyphen``: the last byte was
    ``-``) or ``(None, left, False)`` at the start of a label. Every edge lowers ``left``, so
    the automaton is acyclic and hash-consing right languages bottom-up minimises it.
    """
    let_dig = bytes(sorted(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    sig_ids: dict[tuple[bool, tuple[tuple[bytes, int], ...]], int] = {(False, ()): 0}
    memo: dict[tuple[int | None, int, bool], int] = {}
    rows: list[tuple[bool, tuple[tuple[bytes, int], ...]]] = [(False, ())]

    def build(key: tuple[int | None, int, bool]) -> int:
        got = memo.get(key)
        if got is not None:
            return got
        room, left, hyphen = key
        edges: list[tuple[bytes, int]] = []
        if room is None:  # start of a label
            if left >= 1:
                edges.append((let_dig, build((min(label_max - 1, left - 1), left - 1, False))))
        else:
            if room >= 1:
                edges.append((let_dig, build((min(room, left) - 1, left - 1, False))))
            if room >= 2:
                edges.append((b"-", build((min(room, left) - 1, left - 1, True))))
            if not hyphen and left >= 2:
                edges.append((b".", build((None, left - 1, False))))
        sig = (room is not None and not hyphen, tuple((d, t) for d, t in edges if t))
        sid = sig_ids.setdefault(sig, len(rows))
        if sid == len(rows):
            rows.append(sig)
        memo[key] = sid
        return sid

    start = build((None, total_max, False))
    # renumber: dead 0, start 1, the others after
    remap = {0: 0, start: 1}
    for sid in range(1, len(rows)):
        remap.setdefault(sid, len(remap))
    accepting = np.zeros(len(rows), dtype=bool)
    src: list[int] = []
    data_of: list[bytes] = []
    dst: list[int] = []
    for sid, (acc, edges) in enumerate(rows):
        accepting[remap[sid]] = acc
        for data, target in edges:
            src.append(remap[sid])
            data_of.append(data)
            dst.append(remap[target])
    table, byte_col = _edge_table(len(rows), src, data_of, dst)
    return ByteDFA.from_classes(table, byte_col, accepting)  # minimal already: hash-consed


# --------------------------------------------------------------------------- public API
_HOSTNAME_LABEL_MAX = 63  # RFC 1035 §2.3.4 / RFC 1123 §2.1
_HOSTNAME_TOTAL_MAX = 253  # RFC 1035 §3.1: 255 octets on the wire, less two length octets


def format_content_dfa(
    name: str, *, budget: Budget | None = None, cache: AutomataCache | None = None
) -> ByteDFA | None:
    """The automaton of exactly the strings valid for JSON Schema ``format`` ``name``.

    The automaton reads the UTF-8 bytes of the string's value (after JSON unescaping); it
    accepts the empty string when the format does (``json-pointer``, ``uri-reference``).

    Parameters
    ----------
    name:
        A ``format`` value, e.g. ``"date-time"``.
    budget:
        Deadline and state bounds of the regex compilations (``None``: none, default bounds).
    cache:
        Where to find or keep the automaton (``None``: build it).

    Returns
    -------
    ByteDFA or None
        ``None`` when ``name`` is not in :data:`KNOWN_FORMATS`.

    Notes
    -----
    The ``hostname`` automaton has 23,810 states: that is the minimal automaton of the
    language, and it is larger than the bound that :mod:`~corral.automata.ops`
    puts on the automata it builds.
    """
    if name not in KNOWN_FORMATS:
        return None
    if cache is None:
        return _shipped_or_built(name, budget)
    key = ("format", name)
    return cache.get_or_build(key, lambda: _shipped_or_built(name, budget))


def _shipped_or_built(name: str, budget: Budget | None) -> ByteDFA | None:
    shipped = load_format_table(name)
    return shipped if shipped is not None else build_format_dfa(name, budget=budget)


def build_format_dfa(name: str, *, budget: Budget | None = None) -> ByteDFA | None:
    """The automaton of format ``name`` built from its definition (what
    :func:`format_content_dfa` reads from the shipped tables of
    :mod:`~corral.grammars.json_schema.format_tables`); ``None`` for an unknown format."""
    if name in _REGEXES:
        return compile_regex(_REGEXES[name], f"format {name!r}", budget=budget)
    if name == "time":
        return _explore(("hour",), _TimeStep(None))
    if name == "date-time":
        date = build_format_dfa("date", budget=budget)
        assert date is not None
        return _explore(("date", 1), _TimeStep(date))
    if name == "hostname":
        return _hostname_dfa(_HOSTNAME_LABEL_MAX, _HOSTNAME_TOTAL_MAX)
    return None
