"""Regexes as byte automata.

A terminal's regex is parsed by :mod:`interegular` into a syntax tree. Thompson's (1968)
construction builds an NFA whose character classes are split into UTF-8 byte-range sequences
(:mod:`corral.automata.utf8`); the subset construction (Rabin & Scott 1959) makes it
deterministic, one byte interval at a time, and :mod:`corral.automata.minimize` trims and
minimises it.
"""

from __future__ import annotations

import re

import interegular
import numpy as np

from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA
from corral.automata.minimize import trim_and_minimize
from corral.automata.nesting import REGEX_TOKENS, check_nesting
from corral.automata.subset import determinize
from corral.automata.utf8 import (
    MAX_UNICODE,
    code_point_complement,
    code_point_ranges,
    utf8_sequences,
)
from corral.errors import CompileLimitExceeded, GrammarError
from corral.limits import DEFAULT_LIMITS, Budget, limits_of

__all__ = ["MAX_NFA_STATES", "compile_regex", "literal_dfa"]

_CI, _DOTALL = 1, 4  # interegular's REFlags values: CASE_INSENSITIVE, SINGLE_LINE (DOTALL)
MAX_NFA_STATES = DEFAULT_LIMITS.max_nfa_states
"""Default bound on the NFA states of one regex (:attr:`corral.limits.Limits.max_nfa_states`)."""


class _Builder:
    """Thompson (1968) construction over interegular's regex syntax tree, then UTF-8 bytes."""

    def __init__(
        self, what: str, max_states: int = MAX_NFA_STATES, budget: Budget | None = None
    ) -> None:
        self.what = what
        self.max_states = max_states
        self.budget = budget
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[int, int, int]]] = []
        self.chain: dict[tuple[int, tuple[tuple[int, int], ...]], int] = {}
        # a class's code point ranges, once per class node and flags: a repetition such as
        # [^a-z]{5000} builds its class again for every copy
        self.ranges: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.nodes: list[object] = []  # the nodes ``ranges`` is keyed by, kept alive

    def new(self) -> int:
        if len(self.eps) >= self.max_states:
            raise GrammarError(f"{self.what}: regex too large (over {self.max_states} NFA states)")
        if self.budget is not None and len(self.eps) & 255 == 0:
            self.budget.check()
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

    def _class_ranges(self, node: object, flags: int) -> list[tuple[int, int]]:
        key = (id(node), flags & _CI)
        got = self.ranges.get(key)
        if got is None:
            chars: set[str] = set(node.chars)  # type: ignore[attr-defined]
            if flags & _CI:
                chars |= {v for c in list(chars) for v in (c.lower(), c.upper()) if len(v) == 1}
            got = code_point_ranges([ord(c) for c in chars])
            if node.negated:  # type: ignore[attr-defined]
                got = code_point_complement(got)
            self.ranges[key] = got
            self.nodes.append(node)
        return got

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
            self.char_edge(s, self._class_ranges(node, flags), e)
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


def compile_regex(
    regex: str,
    what: str = "regex",
    *,
    budget: Budget | None = None,
    cache: AutomataCache | None = None,
) -> ByteDFA:
    """Compile a regex (interegular's Python-``re`` subset) to a :class:`ByteDFA`.

    interegular parses the regex; the automaton is built here (bounded), not by interegular's
    own FSM construction, whose subset construction has no size bound.

    Parameters
    ----------
    regex:
        The regex.
    what:
        What the regex is, for error messages.
    budget:
        Deadline and state bounds (``None``: no deadline, default bounds).
    cache:
        Where to find or keep the automaton (keyed by the regex and the state bounds);
        ``None``: build it.

    Raises
    ------
    GrammarError
        When interegular cannot read the regex, it uses look-around, or an automaton exceeds its
        state bound (:attr:`~corral.limits.Limits.max_nfa_states`,
        :attr:`~corral.limits.Limits.max_dfa_states`).
    DeadlineExceeded
        When ``budget``'s deadline passes.
    """
    if cache is None:
        return _compile(regex, what, budget)
    limits = limits_of(budget)
    key = ("regex", regex, limits.max_nfa_states, limits.max_dfa_states)
    return cache.get_or_build(key, lambda: _compile(regex, what, budget))


def _compile(regex: str, what: str, budget: Budget | None) -> ByteDFA:
    limits = limits_of(budget)
    check_nesting(regex, REGEX_TOKENS, limits.max_nesting_depth, what)
    shown = repr(regex) if len(regex) <= 200 else repr(regex[:200]) + "..."
    try:
        tree = interegular.parse_pattern(regex)
        builder = _Builder(what, limits.max_nfa_states, budget)
        start, final = builder.build(tree, 0)
    except RecursionError:
        raise GrammarError(f"{what}: regex {shown} nested too deeply") from None
    except GrammarError:
        raise
    except Exception as exc:  # interegular raises a variety of exception types
        raise GrammarError(
            f"{what}: unsupported regex {shown} (interegular cannot parse it: {exc})"
        ) from exc
    table, accepting = determinize(builder.eps, builder.edges, start, final, what, budget)
    table, accepting = trim_and_minimize(table, accepting)
    return ByteDFA(table, accepting)


def literal_dfa(
    text: str,
    case_insensitive: bool = False,
    *,
    budget: Budget | None = None,
    what: str = "literal",
) -> ByteDFA:
    """A :class:`ByteDFA` for one literal string (no regex parsing unless case-insensitive).

    Parameters
    ----------
    text:
        The literal.
    case_insensitive:
        Whether letters match in either case.
    budget:
        Deadline and state bounds (``None``: no deadline, default bounds).
    what:
        What the literal is, for error messages.

    Raises
    ------
    CompileLimitExceeded
        When the automaton (one state per UTF-8 byte, plus two) would have more than
        :attr:`~corral.limits.Limits.max_dfa_states` states; checked before anything is
        allocated.
    """
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)
    most = limits_of(budget).max_dfa_states
    if n + 2 > most:
        raise CompileLimitExceeded(
            f"{what}: literal of {n} bytes needs more than {most} automaton states "
            "(Limits.max_dfa_states)"
        )
    if case_insensitive:
        return compile_regex("(?i:" + re.escape(text) + ")", what, budget=budget)
    # Built over its byte classes: each byte of the text its own class, every other byte one
    # more (dead) class; classes numbered by their first byte, as ByteDFA numbers them.
    distinct = set(data)
    other = next((b for b in range(256) if b not in distinct), None)
    firsts = sorted(distinct if other is None else distinct | {other})
    number = {b: k for k, b in enumerate(firsts)}
    classes = np.full(256, 0 if other is None else number[other], dtype=np.uint8)
    classes[list(distinct)] = [number[b] for b in distinct]
    table = np.zeros((n + 2, len(firsts)), dtype=np.int32)
    table[np.arange(1, n + 1), [number[b] for b in data]] = np.arange(2, n + 2)
    accepting = np.zeros(n + 2, dtype=bool)
    accepting[n + 1] = True
    return ByteDFA.from_canonical(table, classes, accepting)
