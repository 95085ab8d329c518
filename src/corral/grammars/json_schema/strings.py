"""JSON Schema string keywords as byte automata over canonical JSON string texts.

*Content* automata accept the UTF-8 bytes of decoded strings (the empty string included):
``minLength`` / ``maxLength`` (Validation 2020-12 §6.3.1-2, counted in code points like
jsonschema's ``len``), ``pattern`` (§6.3.3, via :mod:`.ecma_regex`) and any extra automata (formats)
are combined by the product construction (Rabin & Scott 1959); the length bound is a counter
product over the other constraints, which counts one code point per UTF-8 lead byte.

:func:`encode_json_string` maps a content automaton through the string homomorphism of corral's
canonical JSON encoding (RFC 8259 §7 as written by ``json.dumps(s, ensure_ascii=False)``: ``\\"``,
``\\\\``, ``\\b \\f \\n \\r \\t``, ``\\u00xx`` in lowercase hex for the other controls, every other
byte raw), adds the quotes, and minimises. Regular languages are closed under homomorphic images
(Hopcroft & Ullman 1979, §3.2); because each escape begins with a backslash, the image of a
deterministic automaton stays deterministic: from state ``q`` the escape ``\\n`` resumes at
``δ(q, 0x0A)``.

Minimisation is Moore's partition refinement (Moore 1956) started from the partition by shortest
and longest distance to acceptance, two invariants of the right language; this starting point
separates the long counter chains of length bounds at once, where refinement from the
accepting/rejecting split would need one round per chain step.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np

from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA, column_classes
from corral.automata.minimize import native_minimize_available, row_classes
from corral.automata.ops import empty_dfa, intersect, minimize_over, utf8_strings
from corral.automata.product import product_table
from corral.automata.regex import compile_regex
from corral.errors import GrammarError
from corral.grammars.json_schema.ecma_regex import translate_pattern
from corral.limits import DEFAULT_LIMITS, Budget, limits_of

__all__ = [
    "MAX_STRING_STATES",
    "content_dfa",
    "encode_json_string",
    "json_string_any",
    "json_string_dfa",
    "literal_content_dfa",
]

MAX_STRING_STATES = DEFAULT_LIMITS.max_string_states
"""Default bound on string automata (:attr:`corral.limits.Limits.max_string_states`)."""

T = TypeVar("T")

_QUOTE, _BACKSLASH = 0x22, 0x5C
_SIMPLE_ESCAPES = {0x22: '"', 0x5C: "\\", 0x08: "b", 0x0C: "f", 0x0A: "n", 0x0D: "r", 0x09: "t"}
_RAW = [b for b in range(256) if b >= 0x20 and b not in (_QUOTE, _BACKSLASH)]
_U_LOW = [b for b in range(0x10) if b not in _SIMPLE_ESCAPES]  # \u000x
_U_HIGH = list(range(0x10, 0x20))  # \u001x
_HEX = "0123456789abcdef"


def _roles() -> tuple[np.ndarray, np.ndarray]:
    """Whether each byte is plain text in a canonical JSON string, and its part in the
    encoding: 0 plain text, 1 a control byte, else its own number (a quote, a backslash, an
    escape letter, a hex digit). Read-only."""
    is_raw = np.zeros(256, dtype=bool)
    is_raw[_RAW] = True
    role = np.where(is_raw, 0, 1).astype(np.int64)
    special = {_QUOTE, _BACKSLASH, *map(ord, "".join(_SIMPLE_ESCAPES.values()) + "u01" + _HEX)}
    for i, b in enumerate(sorted(special)):
        role[b] = 2 + i
    is_raw.setflags(write=False)
    role.setflags(write=False)
    return is_raw, role


_IS_RAW, _ROLE = _roles()


# --------------------------------------------------------------------------- minimisation
def _byte_classes(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bytes that act alike in every state: a representative per class, the class of each byte."""
    cls = column_classes(table)
    _, first, inverse = np.unique(cls, return_index=True, return_inverse=True)
    return first, np.asarray(inverse).reshape(-1)


def _edges(red: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """Distinct successor and predecessor lists (state 0 excluded) of a class-reduced table."""
    n, k = red.shape
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = red.reshape(-1).astype(np.int64)
    keep = (src != 0) & (dst != 0)
    codes = np.unique(src[keep] * n + dst[keep])
    s, d = codes // n, codes % n
    f_off = np.searchsorted(s, np.arange(n + 1)).tolist()
    back = np.argsort(d, kind="stable")
    b_off = np.searchsorted(d[back], np.arange(n + 1)).tolist()
    d_list, s_back = d.tolist(), s[back].tolist()
    succ = [d_list[f_off[i] : f_off[i + 1]] for i in range(n)]
    pred = [s_back[b_off[i] : b_off[i + 1]] for i in range(n)]
    return succ, pred


def _distances(
    succ: list[list[int]], pred: list[list[int]], accepting: list[bool]
) -> tuple[list[int], list[int]]:
    """Shortest and longest distance to acceptance (-1: dead; ``n``: unbounded)."""
    n = len(succ)
    reach = [False] * n
    reach[1] = n > 1
    stack = [1] if n > 1 else []
    while stack:
        for t in succ[stack.pop()]:
            if not reach[t]:
                reach[t] = True
                stack.append(t)
    dmin = [-1] * n
    frontier = [s for s in range(1, n) if reach[s] and accepting[s]]
    for s in frontier:
        dmin[s] = 0
    for s in frontier:  # breadth-first: the list grows while it is read
        for p in pred[s]:
            if reach[p] and dmin[p] < 0:
                dmin[p] = dmin[s] + 1
                frontier.append(p)
    pending = [sum(dmin[t] >= 0 for t in succ[s]) if dmin[s] >= 0 else -1 for s in range(n)]
    dmax = [n if d >= 0 else -1 for d in dmin]
    best = [0 if accepting[s] else -1 for s in range(n)]
    ready = [s for s in range(n) if pending[s] == 0]
    for t in ready:  # Kahn's order: a state is done once all its live successors are
        dmax[t] = best[t]
        for p in pred[t]:
            if dmin[p] >= 0:
                best[p] = max(best[p], best[t] + 1)
                pending[p] -= 1
                if pending[p] == 0:
                    ready.append(p)
    return dmin, dmax


def _memo(
    cache: AutomataCache | None, key: tuple[Hashable, ...], budget: Budget | None,
    build: Callable[[], T],
) -> T:  # fmt: skip
    """``build()``, through ``cache`` when there is one (the state bounds join the key)."""
    if cache is None:
        return build()
    return cache.get_or_build((limits_of(budget).state_bounds(), *key), build)


def _minimize(
    table: np.ndarray,
    accepting: np.ndarray,
    budget: Budget | None = None,
    byte_col: np.ndarray | None = None,
) -> ByteDFA:
    """Trim and minimise a table whose state 0 is dead and state 1 initial (over columns
    ``byte_col[b]`` per byte, or full): the native minimisation (Hopcroft's refinement,
    :mod:`corral.automata.minimize`), which reaches the partition :func:`_minimize_py`
    reaches and numbers it the same way; :func:`_minimize_py` without the extension."""
    if not native_minimize_available():  # pragma: no cover - depends on the build
        full = table if byte_col is None else table[:, byte_col]
        return _minimize_py(full, accepting, budget)
    if budget is not None:
        budget.check()
    return minimize_over(table, byte_col, accepting)


def _minimize_py(table: np.ndarray, accepting: np.ndarray, budget: Budget | None = None) -> ByteDFA:
    """Trim and minimise a table whose state 0 is dead and state 1 initial (the specification
    of :func:`_minimize`): Moore's refinement from the partition by shortest and longest
    distance to acceptance, which splits counting chains at once."""
    table = np.asarray(table, dtype=np.int32)
    accepting = np.asarray(accepting, dtype=bool)
    first, inverse = _byte_classes(table)
    red = table[:, first]
    succ, pred = _edges(red)
    dmin, dmax = _distances(succ, pred, accepting.tolist())
    live = np.array(dmin) >= 0
    if not live[1]:
        return empty_dfa()
    red = np.where(live[red] & live[:, None], red, 0)
    _, cls = np.unique(np.stack([dmin, dmax], axis=1), axis=0, return_inverse=True)
    cls = cls.reshape(-1)
    n_cls = int(cls.max()) + 1
    while True:
        if budget is not None:
            budget.check()
        sig = np.concatenate([cls[:, None], cls[red]], axis=1)
        new = row_classes(sig, n_cls)
        if int(new.max()) + 1 == n_cls:
            break
        cls, n_cls = new, int(new.max()) + 1
    # number classes by first occurrence: state 0 (dead) gives 0, state 1 (initial) gives 1
    _, reps = np.unique(cls, return_index=True)
    order = np.argsort(reps)
    remap = np.empty(n_cls, dtype=np.int64)
    remap[order] = np.arange(n_cls)
    reps = reps[order]
    new_table = remap[cls[red[reps]]][:, inverse]
    return ByteDFA(new_table.astype(np.int32), accepting[reps] & live[reps])


# --------------------------------------------------------------------------- content automata
def _count(base: ByteDFA, lo: int, hi: int | None, budget: Budget | None) -> ByteDFA:
    """Strings of ``base`` (well-formed UTF-8) with ``lo`` to ``hi`` code points: the product
    of ``base`` with a counter of code points (:mod:`corral.automata.product`), whose state
    ``1 + c`` has read ``c <= cap`` lead bytes (saturating at ``lo`` without an upper bound),
    then minimised (:func:`_minimize`)."""
    cap = lo if hi is None else hi
    max_states = limits_of(budget).max_string_states
    if cap >= max_states:
        raise GrammarError(f"string length bound {cap} needs over {max_states} states")
    lead = np.ones(256, dtype=np.int32)
    lead[0x80:0xC0] = 0  # continuation bytes do not start a code point
    _, base_cls, base_small = base.class_table()
    # the classes of bytes alike in the base and in being (or not) a lead byte
    _, first, inverse = np.unique(base_cls.astype(np.int64) * 2 + lead, return_index=True,
                                  return_inverse=True)  # fmt: skip
    inverse = np.asarray(inverse).reshape(-1)
    counts = np.arange(cap + 1, dtype=np.int64)
    after = np.minimum(counts + 1, cap) if hi is None else counts + 1
    is_lead = lead[first].astype(bool)
    counter = np.zeros((cap + 2, len(first)), dtype=np.int32)
    counter[1:, is_lead] = np.where(after <= cap, after + 1, 0)[:, None]
    counter[1:, ~is_lead] = (counts + 1)[:, None]
    try:
        small, xs, ys = product_table(np.ascontiguousarray(base_small[:, base_cls[first]]),
                                      counter, "and", max_states, budget)  # fmt: skip
    except GrammarError:
        raise GrammarError(f"string automaton exceeds {max_states} states") from None
    accepting = base.accepting[xs] & (ys - 1 >= lo)
    accepting[0] = False
    return _minimize(small, accepting, budget, inverse)


def _content(
    min_length: int, max_length: int | None, patterns: tuple[str, ...],
    extra: tuple[ByteDFA, ...], budget: Budget | None, cache: AutomataCache | None,
) -> ByteDFA:  # fmt: skip
    if max_length is not None and max_length < min_length:
        return empty_dfa()
    # compiled regexes and format automata accept well-formed UTF-8 only
    dfas = [compile_regex(translate_pattern(p, cache=cache), f"pattern {p!r}", budget=budget,
                          cache=cache) for p in patterns]  # fmt: skip
    dfas.extend(extra)
    base = dfas[0] if dfas else utf8_strings(budget)
    for dfa in dfas[1:]:
        base = intersect(base, dfa, budget)
    if min_length == 0 and max_length is None:
        return base
    return _count(base, min_length, max_length, budget)


def content_dfa(
    *,
    min_length: int = 0,
    max_length: int | None = None,
    patterns: Sequence[str] = (),
    extra: Sequence[ByteDFA] = (),
    budget: Budget | None = None,
    cache: AutomataCache | None = None,
) -> ByteDFA:
    """The UTF-8 texts of the strings that satisfy JSON Schema string keywords.

    Parameters
    ----------
    min_length, max_length:
        Bounds on the number of code points (``minLength`` / ``maxLength``); ``None``: no upper
        bound.
    patterns:
        ECMA-262 patterns (``pattern``), each of which must find a match in the string.
    extra:
        Further content automata (e.g. formats) the string must also be accepted by.
    budget:
        Deadline and state bounds (``None``: no deadline, default bounds).
    cache:
        Where to find or keep the automaton (``None``: build it).

    Returns
    -------
    ByteDFA
        The intersection of all constraints over well-formed UTF-8 (the empty string included
        when it qualifies).

    Raises
    ------
    PatternUnsupported
        When a pattern is invalid or not translated exactly.
    GrammarError
        When an automaton exceeds a size bound (:attr:`~corral.limits.Limits.max_string_states`,
        or the regex and product bounds of :class:`~corral.limits.Limits`).
    """
    if min_length < 0 or (max_length is not None and max_length < 0):
        raise ValueError("string length bounds must be non-negative")
    pats, more = tuple(patterns), tuple(extra)
    return _memo(cache, ("content", min_length, max_length, pats, more), budget,
                 lambda: _content(min_length, max_length, pats, more, budget, cache))  # fmt: skip


def literal_content_dfa(values: Iterable[str], budget: Budget | None = None) -> ByteDFA:
    """The automaton of exactly the UTF-8 texts of ``values`` (a trie, minimised).

    Strings with lone surrogates have no UTF-8 form; they contribute nothing.
    """
    max_states = limits_of(budget).max_string_states
    rows: list[list[int]] = [[0] * 256, [0] * 256]
    accepting = [False, False]
    for value in sorted(set(values)):
        if budget is not None:
            budget.check()
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            continue
        s = 1
        for byte in data:
            if rows[s][byte] == 0:
                if len(rows) > max_states:
                    raise GrammarError(f"string literals exceed {max_states} states")
                rows[s][byte] = len(rows)
                rows.append([0] * 256)
                accepting.append(False)
            s = rows[s][byte]
        accepting[s] = True
    return _minimize(np.array(rows, dtype=np.int32), np.array(accepting, dtype=bool), budget)


# --------------------------------------------------------------------------- JSON encoding
def encode_json_string(content: ByteDFA, budget: Budget | None = None) -> ByteDFA:
    """Quoted canonical JSON texts of the strings whose UTF-8 text ``content`` accepts.

    Parameters
    ----------
    content:
        A content automaton over well-formed UTF-8.
    budget:
        Deadline and state bounds (``None``: no deadline, default bounds).

    Returns
    -------
    ByteDFA
        The minimal automaton of ``json.dumps(s, ensure_ascii=False).encode()`` for the strings
        ``s`` of ``content``; other spellings of the same string (``\\u0041``, ``\\/``, raw
        control characters) are rejected.
    """
    max_states = limits_of(budget).max_string_states
    _, c_cls, c_small = content.class_table()
    c_acc = content.accepting
    n = c_small.shape[0]
    final = n + 1  # states: 0 dead, 1 before the opening quote, q + 1 for content state q >= 1
    # Output columns: bytes alike in the content and in their part in the encoding (a quote,
    # a backslash, an escape letter or hex digit, a control byte, or plain text).
    key = c_cls.astype(np.int64) * 64 + _ROLE
    _, rep, col = np.unique(key, return_index=True, return_inverse=True)
    col = np.asarray(col).reshape(-1)

    def image(targets: np.ndarray) -> np.ndarray:
        return np.where(targets != 0, targets + 1, 0)

    body = c_small[1:]  # content transitions over the content's classes

    def after(byte: int | np.ndarray) -> np.ndarray:
        """Content transitions on a byte (the character a raw byte or an escape stands for)."""
        return body[:, c_cls[byte]]

    has_low = (after(np.array(_U_LOW)) != 0).any(axis=1)
    has_high = (after(np.array(_U_HIGH)) != 0).any(axis=1)
    has_u = has_low | has_high
    has_esc = has_u | (after(np.array(list(_SIMPLE_ESCAPES))) != 0).any(axis=1)
    next_id = n + 2

    def allocate(mask: np.ndarray) -> np.ndarray:
        nonlocal next_id
        ids = np.zeros(n - 1, dtype=np.int64)
        ids[mask] = np.arange(next_id, next_id + int(mask.sum()))
        next_id += int(mask.sum())
        return ids

    esc, u1, u2, u3 = allocate(has_esc), allocate(has_u), allocate(has_u), allocate(has_u)
    u4_low, u4_high = allocate(has_low), allocate(has_high)
    if next_id > 2 * max_states:
        raise GrammarError(f"JSON string automaton exceeds {2 * max_states} states")
    table = np.zeros((next_id, rep.shape[0]), dtype=np.int32)
    table[1, col[_QUOTE]] = 2
    states = np.arange(2, n + 1)
    raw = rep[_IS_RAW[rep]]  # a byte of each column of plain text
    table[2 : n + 1, col[raw]] = image(after(raw))
    table[2 : n + 1, col[_QUOTE]] = np.where(c_acc[1:], final, 0)
    table[states[has_esc], col[_BACKSLASH]] = esc[has_esc]
    for byte, letter in _SIMPLE_ESCAPES.items():
        table[esc[has_esc], col[ord(letter)]] = image(after(byte)[has_esc])
    for src, dst, char, mask in (
        (esc, u1, "u", has_u),
        (u1, u2, "0", has_u),
        (u2, u3, "0", has_u),
        (u3, u4_low, "0", has_low),
        (u3, u4_high, "1", has_high),
    ):
        table[src[mask], col[ord(char)]] = dst[mask]
    for last, group, mask in ((u4_low, _U_LOW, has_low), (u4_high, _U_HIGH, has_high)):
        for byte in group:
            table[last[mask], col[ord(_HEX[byte & 0xF])]] = image(after(byte)[mask])
    accepting = np.zeros(next_id, dtype=bool)
    accepting[final] = True
    out = _minimize(table, accepting, budget, col)
    if out.n_states > max_states:
        raise GrammarError(f"JSON string automaton exceeds {max_states} states")
    return out


def json_string_dfa(
    *,
    min_length: int = 0,
    max_length: int | None = None,
    patterns: Sequence[str] = (),
    extra: Sequence[ByteDFA] = (),
    budget: Budget | None = None,
    cache: AutomataCache | None = None,
) -> ByteDFA:
    """Canonical quoted JSON strings satisfying the keywords of :func:`content_dfa`.

    Parameters
    ----------
    min_length, max_length, patterns, extra, budget, cache:
        As for :func:`content_dfa`.

    Returns
    -------
    ByteDFA
        ``encode_json_string(content_dfa(...))``.
    """
    pats, more = tuple(patterns), tuple(extra)

    def build() -> ByteDFA:
        content = content_dfa(min_length=min_length, max_length=max_length, patterns=pats,
                              extra=more, budget=budget, cache=cache)  # fmt: skip
        return encode_json_string(content, budget)

    return _memo(cache, ("json_string", min_length, max_length, pats, more), budget, build)


def json_string_any(budget: Budget | None = None) -> ByteDFA:
    """Every JSON string, in corral's canonical form (``json.dumps(..., ensure_ascii=False)``)."""
    return encode_json_string(utf8_strings(budget), budget)
