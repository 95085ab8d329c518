"""Terminal regexes as deterministic automata over bytes.

A terminal's regex is parsed by :mod:`interegular` into a character-level FSM. Each character
class on a transition is split into UTF-8 byte-range sequences with the range-splitting method
used by RE2 and Rust's ``regex-syntax`` (Cox 2010, "Regular Expression Matching in the Wild"),
which gives a byte-level NFA; the subset construction (Rabin & Scott 1959) makes it deterministic,
Moore's partition refinement (Moore 1956) minimises it, and states that cannot reach an accepting
state are merged into the dead state, so that *alive* means *can still complete a lexeme*.

Conventions: state ``0`` is the dead (absorbing) state, state ``1`` the initial state; tables are
``numpy.int32`` arrays of shape ``(n_states, 256)``. Because matching is per byte, a UTF-8
character split across two tokens is handled like any other byte sequence.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

import interegular
import numpy as np

from corral.errors import GrammarError

__all__ = [
    "ByteDFA",
    "DeadlineExceeded",
    "check_deadline",
    "compile_regex",
    "literal_dfa",
    "set_deadline",
    "utf8_sequences",
]

_DEADLINE: list[float | None] = [None]


LAZY_ROWS_ABOVE = 4096


class _LazyRows:
    """Row lists of a large table, converted on first use (a sequence of rows)."""

    def __init__(self, table: np.ndarray) -> None:
        self._table = table
        self._cache: dict[int, list[int]] = {}

    def __getitem__(self, state: int) -> list[int]:
        row = self._cache.get(state)
        if row is None:
            row = self._table[state].tolist()
            self._cache[state] = row
        return row

    def __len__(self) -> int:
        return int(self._table.shape[0])


class DeadlineExceeded(GrammarError):
    """A compilation ran past the time bound set with :func:`set_deadline`."""


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


MAX_DFA_STATES = 20_000
MAX_UNICODE = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)


@dataclass(eq=False)
class ByteDFA:
    """A minimal, trimmed DFA over bytes (state 0 dead, state 1 initial).

    Attributes
    ----------
    table:
        ``int32`` array ``(n_states, 256)`` of next states.
    accepting:
        ``bool`` array ``(n_states,)``.
    rows:
        ``table`` as nested Python lists (fast scalar stepping).
    accept_list:
        ``accepting`` as a Python list.
    """

    table: np.ndarray
    accepting: np.ndarray
    _rows: list[list[int]] | None = field(default=None, init=False, repr=False)
    _acc: list[bool] | None = field(default=None, init=False, repr=False)
    _classes: np.ndarray | None = field(default=None, init=False, repr=False)
    _out: list[tuple[int, ...]] | None = field(default=None, init=False, repr=False)

    @property
    def out_bytes(self) -> list[tuple[int, ...]]:
        """Per state, the bytes that do not lead to the dead state (computed once)."""
        if self._out is None:
            src, col = np.nonzero(self.table)
            bounds = np.searchsorted(src, np.arange(self.n_states + 1)).tolist()
            cols = col.tolist()
            self._out = [tuple(cols[bounds[i] : bounds[i + 1]]) for i in range(self.n_states)]
        return self._out

    def byte_classes(self) -> np.ndarray:
        """``int64`` array ``(256,)``: bytes with equal class act alike in every state (cached)."""
        if self._classes is None:
            self._classes = _row_classes(self.table.T, self.n_states)
        return self._classes

    @property
    def rows(self) -> list[list[int]]:
        """``table`` as nested Python lists, for fast scalar stepping (computed once; for large
        automata each row is converted when first used)."""
        if self._rows is None:
            big = self.n_states > LAZY_ROWS_ABOVE
            rows: list[list[int]] = _LazyRows(self.table) if big else self.table.tolist()  # type: ignore[assignment]
            self._rows = rows
            return rows
        return self._rows

    @property
    def accept_list(self) -> list[bool]:
        """``accepting`` as a Python list (computed once)."""
        if self._acc is None:
            self._acc = [bool(a) for a in self.accepting]
        return self._acc

    @property
    def n_states(self) -> int:
        """Number of states, the dead state included."""
        return int(self.table.shape[0])

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` (non-empty) is a complete lexeme."""
        s = 1
        for b in data:
            s = self.rows[s][b]
            if s == 0:
                return False
        return bool(data) and self.accept_list[s]


# --------------------------------------------------------------------------- UTF-8 ranges
def _encode(cp: int) -> bytes:
    return chr(cp).encode("utf-8", "surrogatepass")


def _split_same_length(lo: int, hi: int) -> list[list[tuple[int, int]]]:
    """Split ``[lo, hi]`` (same UTF-8 length) into products of byte ranges."""
    n = len(_encode(lo))
    for i in range(1, n):
        m = (1 << (6 * i)) - 1
        if lo & ~m != hi & ~m:
            if lo & m:
                return _split_same_length(lo, lo | m) + _split_same_length((lo | m) + 1, hi)
            if hi & m != m:
                return _split_same_length(lo, (hi & ~m) - 1) + _split_same_length(hi & ~m, hi)
    a, b = _encode(lo), _encode(hi)
    return [[(a[i], b[i]) for i in range(n)]]


def utf8_sequences(lo: int, hi: int) -> list[list[tuple[int, int]]]:
    """Byte-range sequences whose union encodes exactly the code points ``lo..hi``.

    Surrogates (U+D800..U+DFFF) are excluded: they are not scalar values and have no UTF-8 form.
    """
    out: list[list[tuple[int, int]]] = []
    pieces = [(lo, hi)]
    s_lo, s_hi = _SURROGATES
    if lo <= s_hi and hi >= s_lo:
        pieces = [(lo, s_lo - 1), (s_hi + 1, hi)]
    for a, b in pieces:
        for bound in (0x7F, 0x7FF, 0xFFFF, MAX_UNICODE):
            if a > b:
                break
            if a <= bound:
                top = min(b, bound)
                out.extend(_split_same_length(a, top))
                a = top + 1
    return out


def _ranges(cps: list[int]) -> list[tuple[int, int]]:
    cps.sort()
    out: list[tuple[int, int]] = []
    for cp in cps:
        if out and out[-1][1] + 1 == cp:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for a, b in ranges:
        if a > nxt:
            out.append((nxt, a - 1))
        nxt = b + 1
    if nxt <= MAX_UNICODE:
        out.append((nxt, MAX_UNICODE))
    return out


# --------------------------------------------------------------------------- construction
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
            ranges = _ranges([ord(c) for c in chars])
            if node.negated:  # type: ignore[attr-defined]
                ranges = _complement(ranges)
            self.char_edge(s, ranges, e)
        elif kind == "__DotCls":
            self.char_edge(s, [(0, MAX_UNICODE)] if flags & _DOTALL else _complement([(10, 10)]), e)
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


MAX_MOORE_ROUNDS = 48


def _co_reachable(table: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """States from which an accepting state is reachable (search on the reversed edges)."""
    n = table.shape[0]
    src, col = np.nonzero(table)
    pairs = np.unique(src.astype(np.int64) * n + table[src, col])
    srcs, dsts = pairs // n, pairs % n
    order = np.argsort(dsts, kind="stable")
    preds = srcs[order].tolist()
    starts = np.searchsorted(dsts[order], np.arange(n + 1)).tolist()
    live = accepting.copy()
    live[0] = False
    todo = np.nonzero(live)[0].tolist()
    seen = live.tolist()
    while todo:
        t = todo.pop()
        for p in preds[starts[t] : starts[t + 1]]:
            if not seen[p] and p != 0:
                seen[p] = True
                todo.append(p)
    return np.array(seen, dtype=bool)


def _row_classes(sig: np.ndarray, n_cls: int) -> np.ndarray:
    """Class ids of equal rows of ``sig`` (non-negative ints below ``n_cls``), exactly.

    Rows are packed losslessly into a few ``int64`` words and sorted with ``lexsort``, which is
    much faster than ``np.unique(axis=0)`` on wide rows.
    """
    bits = max(1, int(n_cls).bit_length())
    per = max(1, 63 // bits)
    words = []
    for start in range(0, sig.shape[1], per):
        w = np.zeros(sig.shape[0], dtype=np.int64)
        for col in range(start, min(start + per, sig.shape[1])):
            w = (w << bits) | sig[:, col].astype(np.int64)
        words.append(w)
    order = np.lexsort(words[::-1])
    packed = np.stack(words, axis=1)[order]
    change = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        change[1:] = (packed[1:] != packed[:-1]).any(axis=1)
    ranks = np.cumsum(change) - 1
    out = np.empty(len(order), dtype=np.int64)
    out[order] = ranks
    return out


def _trim_and_minimize(table: np.ndarray, accepting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = table.shape[0]
    live = _co_reachable(table, accepting)
    table = np.where(live[table], table, 0)
    table[~live] = 0
    # Moore partition refinement: dead, then accepting / non-accepting
    cls = np.where(live, np.where(accepting, 2, 1), 0).astype(np.int64)
    cls[0] = 0
    _, cls = np.unique(cls, return_inverse=True)
    cls = cls.reshape(-1)
    n_cls = int(cls.max()) + 1
    # bytes that act alike in every state form one column (byte equivalence classes)
    col_cls = _row_classes(table.T, n)
    _, col_idx = np.unique(col_cls, return_index=True)
    reduced = table[:, np.sort(col_idx)]
    rounds = 0
    while True:
        sig = np.concatenate([cls[:, None], cls[reduced]], axis=1)
        new_cls = _row_classes(sig, n_cls)
        new_n = int(new_cls.max()) + 1
        if new_n == n_cls:
            break
        cls, n_cls = new_cls, new_n
        rounds += 1
        if rounds > MAX_MOORE_ROUNDS and n > 2 * MAX_MOORE_ROUNDS:
            # Long chains (counted repetitions) need one round per link: keep the trimmed
            # automaton unminimised instead (every live state its own class); still exact.
            _, cls = np.unique(np.where(live, np.arange(n), 0), return_inverse=True)
            cls = cls.reshape(-1)
            n_cls = int(cls.max()) + 1
            break
    # renumber: dead -> 0, initial -> 1, others in order of first appearance
    remap = np.full(n_cls, -1, dtype=np.int64)
    remap[cls[0]] = 0
    nxt = 1
    if remap[cls[1]] < 0:
        remap[cls[1]] = 1
        nxt = 2
    for s in range(n):
        c = cls[s]
        if remap[c] < 0:
            remap[c] = nxt
            nxt += 1
    new_table = np.zeros((nxt, 256), dtype=np.int32)
    new_acc = np.zeros(nxt, dtype=bool)
    for s in range(n):
        r = remap[cls[s]]
        new_table[r] = remap[cls[table[s]]]
        new_acc[r] = accepting[s] and live[s]
    if remap[cls[1]] == 0:  # the initial state is dead: empty language
        new_table = np.zeros((2, 256), dtype=np.int32)
        new_acc = np.zeros(2, dtype=bool)
    return new_table, new_acc


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
    table, accepting = _trim_and_minimize(table, accepting)
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
