"""Regexes as byte automata.

A terminal's regex is parsed by :mod:`interegular` into a syntax tree. Thompson's (1968)
construction builds an NFA whose character classes are split into UTF-8 byte-range sequences
(:mod:`corral.automata.utf8`); the subset construction (Rabin & Scott 1959) makes it
deterministic, one byte interval at a time, and :mod:`corral.automata.minimize` trims and
minimises it.
"""

from __future__ import annotations

import itertools
import re
import time
from functools import lru_cache

import interegular
import numpy as np

from corral.automata.dfa import MAX_DFA_STATES, ByteDFA
from corral.automata.minimize import trim_and_minimize
from corral.automata.utf8 import (
    MAX_UNICODE,
    code_point_complement,
    code_point_ranges,
    utf8_sequences,
)
from corral.errors import DeadlineExceeded, GrammarError

__all__ = ["MAX_NFA_STATES", "check_deadline", "compile_regex", "literal_dfa", "set_deadline"]

_DEADLINE: list[float | None] = [None]


def set_deadline(when: float | None) -> None:
    """Make automaton constructions raise :class:`GrammarError` once the process CPU time
    (``time.process_time()``, insensitive to machine load) passes ``when`` (``None``: no
    deadline). Compilers with a time bound set it."""
    _DEADLINE[0] = when


def check_deadline() -> None:
    """Raise :class:`GrammarError` if the deadline set by :func:`set_deadline` has passed."""
    when = _DEADLINE[0]
    if when is not None and time.process_time() > when:
        raise DeadlineExceeded("compilation exceeded its time bound")


_CI, _DOTALL = 1, 4  # interegular's REFlags values: CASE_INSENSITIVE, SINGLE_LINE (DOTALL)
MAX_NFA_STATES = 100_000


class _Builder:
    """Thompson (1968) construction over interegular's regex syntax tree, then UTF-8 bytes."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[int, int, int]]] = []
        self.chain: dict[tuple[int, tuple[tuple[int, int], ...]], int] = {}

    def new(self) -> int:
        if len(self.eps) >= MAX_NFA_STATES:
            raise GrammarError(f"{self.what}: regex too large (over {MAX_NFA_STATES} NFA states)")
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def _node_for(self, target: int, rest: tuple[tuple[int, int], ...]) -> int:
        if not rest:
            return target
        key = (target, rest)
        got = self.chain.get(key)
        if got is None:
            nxt = self._node_for(target, rest[1:])
            got = self.new()
            self.edges[got].append((rest[0][0], rest[0][1], nxt))
            self.chain[key] = got
        return got

    def char_edge(self, src: int, ranges: list[tuple[int, int]], dst: int) -> None:
        for lo, hi in ranges:
            for seq in utf8_sequences(lo, hi):
                tgt = self._node_for(dst, tuple(seq[1:]))
                self.edges[src].append((seq[0][0], seq[0][1], tgt))

    def build(self, node: object, flags: int) -> tuple[int, int]:
        kind = type(node).__name__
        s, e = self.new(), self.new()
        if kind == "Pattern":
            add, rem = node.added_flags.value, node.removed_flags.value  # type: ignore[attr-defined]
            flags = (flags | add) & ~rem
            for opt in node.options:  # type: ignore[attr-defined]
                a, b = self.build(opt, flags)
                self.eps[s].append(a)
                self.eps[b].append(e)
        elif kind == "_Concatenation":
            cur = s
            for part in node.parts:  # type: ignore[attr-defined]
                a, b = self.build(part, flags)
                self.eps[cur].append(a)
                cur = b
            self.eps[cur].append(e)
        elif kind == "_CharGroup":
            chars: set[str] = set(node.chars)  # type: ignore[attr-defined]
            if flags & _CI:
                chars |= {v for c in list(chars) for v in (c.lower(), c.upper()) if len(v) == 1}
            ranges = code_point_ranges([ord(c) for c in chars])
            if node.negated:  # type: ignore[attr-defined]
                ranges = code_point_complement(ranges)
            self.char_edge(s, ranges, e)
        elif kind == "__DotCls":
            self.char_edge(
                s, [(0, MAX_UNICODE)] if flags & _DOTALL else code_point_complement([(10, 10)]), e
            )
        elif kind == "__EmptyCls":
            self.eps[s].append(e)
        elif kind == "_Repeated":
            lo, hi = node.min, node.max  # type: ignore[attr-defined]
            base = node.base  # type: ignore[attr-defined]
            cur = s
            for _ in range(lo):
                a, b = self.build(base, flags)
                self.eps[cur].append(a)
                cur = b
            if hi is None:
                a, b = self.build(base, flags)
                self.eps[cur].append(a)
                self.eps[b].append(cur)
            else:
                for _ in range(hi - lo):
                    a, b = self.build(base, flags)
                    self.eps[cur].append(a)
                    self.eps[cur].append(e)
                    cur = b
            self.eps[cur].append(e)
        else:
            raise GrammarError(
                f"{self.what}: unsupported regex construct ({kind}, e.g. look-around)"
            )
        return s, e


def _closure(eps: list[list[int]], states: set[int]) -> frozenset[int]:
    todo = list(states)
    seen = set(states)
    while todo:
        for t in eps[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def _determinize(b: _Builder, initial: int, final: int) -> tuple[np.ndarray, np.ndarray]:
    start = _closure(b.eps, {initial})
    ids: dict[frozenset[int], int] = {frozenset(): 0, start: 1}
    order: list[frozenset[int]] = [frozenset(), start]
    rows: list[list[int]] = [[0] * 256]
    # bytes split into intervals no edge range cuts: work per interval, not per byte
    cuts = sorted({0, 256} | {x for edges in b.edges for lo, hi, _ in edges for x in (lo, hi + 1)})
    spans = list(itertools.pairwise(cuts))
    first = {c: k for k, c in enumerate(cuts)}
    edge_spans = [[(first[lo], first[hi + 1], t) for lo, hi, t in edges] for edges in b.edges]
    i = 1
    while i < len(order):
        if i & 63 == 0:
            check_deadline()
        cur = order[i]
        targets: dict[int, set[int]] = {}
        for s in cur:
            for k0, k1, t in edge_spans[s]:
                for k in range(k0, k1):
                    targets.setdefault(k, set()).add(t)
        row = [0] * 256
        cache: dict[frozenset[int], int] = {}
        for k, tset in targets.items():
            raw = frozenset(tset)
            sid = cache.get(raw)
            if sid is None:
                key = _closure(b.eps, tset)
                sid = ids.get(key)
                if sid is None:
                    sid = len(order)
                    if sid > MAX_DFA_STATES:
                        raise GrammarError(
                            f"{b.what}: regex automaton exceeds {MAX_DFA_STATES} states"
                        )
                    ids[key] = sid
                    order.append(key)
                cache[raw] = sid
            lo, hi = spans[k]
            row[lo:hi] = [sid] * (hi - lo)
        rows.append(row)
        i += 1
    table = np.array(rows, dtype=np.int32)
    accepting = np.array([final in st for st in order], dtype=bool)
    return table, accepting


@lru_cache(maxsize=4096)
def compile_regex(regex: str, what: str = "regex") -> ByteDFA:
    """Compile a regex (interegular's Python-``re`` subset) to a :class:`ByteDFA`.

    interegular parses the regex; the automaton is built here (bounded), not by interegular's
    own FSM construction, whose subset construction has no size bound.

    Raises
    ------
    GrammarError
        When interegular cannot read the regex, it uses look-around, or an automaton exceeds its
        state bound (:data:`MAX_NFA_STATES`, :data:`MAX_DFA_STATES`).
    """
    try:
        tree = interegular.parse_pattern(regex)
    except Exception as exc:  # interegular raises a variety of exception types
        raise GrammarError(
            f"{what}: unsupported regex {regex!r} (interegular cannot parse it: {exc})"
        ) from exc
    builder = _Builder(what)
    start, final = builder.build(tree, 0)
    table, accepting = _determinize(builder, start, final)
    table, accepting = trim_and_minimize(table, accepting)
    return ByteDFA(table, accepting)


@lru_cache(maxsize=4096)
def literal_dfa(text: str, case_insensitive: bool = False) -> ByteDFA:
    """A :class:`ByteDFA` for one literal string (no regex parsing)."""
    if case_insensitive:
        return compile_regex("(?i:" + re.escape(text) + ")")
    data = text.encode("utf-8")
    n = len(data)
    table = np.zeros((n + 2, 256), dtype=np.int32)
    for i, b in enumerate(data):
        table[i + 1, b] = i + 2
    accepting = np.zeros(n + 2, dtype=bool)
    accepting[n + 1] = True
    return ByteDFA(table, accepting)
