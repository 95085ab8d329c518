"""JSON Schema numeric keywords as exact byte automata over JSON number text.

The keywords are those of JSON Schema Validation 2020-12 §6.2 (``multipleOf``, ``maximum``,
``exclusiveMaximum``, ``minimum``, ``exclusiveMinimum``); the texts are RFC 8259 §6 numbers and
their values are the exact decimals they spell, never binary floats.

Output shape. Without numeric keywords a ``number`` is any RFC 8259 number and an ``integer`` is
``0|-?[1-9][0-9]*``. With any of them, texts are positional, ``-?(0|[1-9][0-9]*)(\\.[0-9]+)?``
(integers without the fraction), and negative zero (``-0``, ``-0.0``, ...) is never produced.

Bounds. A magnitude text is compared with a bound the way decimal strings are compared: by the
length of the integer part (no leading zeros), then its digits in order, then the fraction digit
by digit against the bound's fraction padded with zeros. Each comparison is a Moore machine whose
output is ``<``, ``=`` or ``>``; the machines of all bounds run in product, one product per sign
(a negative value's bounds are mirrored onto its magnitude), and the product is explored
breadth-first and minimised (:mod:`corral.automata.minimize`). Its size grows with the bounds'
digit counts only.

``multipleOf``. The step is written ``p / 10**q`` with integers ``p``, ``q >= 0`` and ``q``
least. A value is a multiple iff it has no non-zero fraction digit beyond position ``q`` and its
digits up to there, read as an integer, are ``0 mod p``: the classical divisibility automaton
(Horner's rule modulo ``p``) with a fraction-position counter, intersected with the bounds
automaton (product construction, Rabin & Scott 1959).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from corral.automata import ops
from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA
from corral.automata.regex import compile_regex
from corral.errors import GrammarError
from corral.limits import Budget, limits_of

__all__ = [
    "MAX_DIGITS",
    "MAX_MULTIPLE",
    "NumberUnsupported",
    "integer_type_regex",
    "number_dfa",
    "number_type_regex",
]

Num = int | float | Decimal
"""A schema number as :func:`json.loads` gives it, or an exact :class:`~decimal.Decimal`."""

MAX_DIGITS = 1000
"""Most digits a bound or step may have when written positionally (``1e308`` has 309)."""
MAX_MULTIPLE = 10_000
"""Largest ``p`` of a ``multipleOf`` step ``p / 10**q``."""
_RESIDUE_STATES = 20_000

LT, EQ, GT = -1, 0, 1
_ALPHABET = "0123456789.-"
_COLUMN = np.full(256, len(_ALPHABET), dtype=np.intp)
for _i, _ch in enumerate(_ALPHABET):
    _COLUMN[ord(_ch)] = _i

State = tuple[Any, ...]
Bound = tuple[Decimal, bool]  # (value, exclusive)


class NumberUnsupported(ValueError):
    """A numeric keyword that cannot be enforced exactly.

    Attributes
    ----------
    keyword:
        The JSON Schema keyword concerned, e.g. ``"multipleOf"``.
    reason:
        Why it cannot be enforced.
    """

    def __init__(self, keyword: str, reason: str) -> None:
        super().__init__(f"{keyword}: {reason}")
        self.keyword = keyword
        self.reason = reason


def number_type_regex() -> str:
    """Regex of every RFC 8259 number text (the unconstrained ``number`` shape)."""
    return r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"


def integer_type_regex() -> str:
    """Regex of the integer texts corral produces (no fraction, no exponent, no ``-0``)."""
    return r"0|-?[1-9][0-9]*"


def _exact(value: object, keyword: str) -> Decimal:
    """``value`` as an exact Decimal with no redundant zeros, or :class:`NumberUnsupported`."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise NumberUnsupported(keyword, f"{value!r} is not a number")
    if isinstance(value, Decimal | float) and not (
        value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    ):
        raise NumberUnsupported(keyword, f"{value!r} is not finite")
    dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    sign, digits, exp = dec.as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    core = text.rstrip("0")
    exp += len(text) - len(core)
    core = core.lstrip("0")
    if not core:
        return Decimal(0)
    positional = max(len(core) + exp, 1) + max(-exp, 0)
    if positional > MAX_DIGITS:
        raise NumberUnsupported(keyword, f"more than {MAX_DIGITS} digits in positional notation")
    return Decimal((sign, tuple(int(c) for c in core), exp))


def _parts(dec: Decimal) -> tuple[str, str]:
    """Integer digits (no leading zeros, ``"0"`` if none) and fraction digits (no trailing
    zeros) of ``|dec|``, ``dec`` being canonical (from :func:`_exact`)."""
    _, digits, exp = dec.as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    if exp >= 0:
        return (text + "0" * exp if text != "0" else "0"), ""
    text = text.rjust(1 - exp, "0")
    return text[:exp], text[exp:]


def _cmp(d: int, ch: str) -> int:
    return (d > int(ch)) - (d < int(ch))


def _explore(
    step: Callable[[State, str], State | None], accept: Callable[[State], bool]
) -> ByteDFA:
    """Breadth-first exploration from state ``()`` over :data:`_ALPHABET`, then minimisation."""
    start: State = ()
    ids: dict[State, int] = {start: 1}
    order: list[State] = [start]
    rows: list[list[int]] = [[0] * (len(_ALPHABET) + 1)]
    i = 0
    while i < len(order):
        key = order[i]
        row = [0] * (len(_ALPHABET) + 1)
        for col, ch in enumerate(_ALPHABET):
            nxt = step(key, ch)
            if nxt is None:
                continue
            sid = ids.get(nxt)
            if sid is None:
                sid = ids[nxt] = len(order) + 1
                order.append(nxt)
            row[col] = sid
        rows.append(row)
        i += 1
    table = np.array(rows, dtype=np.int32)[:, _COLUMN]
    accepting = np.array([False] + [accept(k) for k in order], dtype=bool)
    return ops.minimize(table, accepting)


class _Compare:
    """Moore machine comparing a magnitude text ``(0|[1-9][0-9]*)(\\.[0-9]+)?`` with a bound.

    States: ``S`` start; ``Z`` integer part ``0``; ``I p c``: ``p`` integer digits read, ``c``
    their comparison with the bound's first ``p``; ``L`` more integer digits than the bound;
    ``D r h`` fraction after an integer part that compared ``r``; ``F j c h`` fraction after an
    equal integer part, ``j`` digits compared (capped at the bound's fraction length); ``h``: a
    fraction digit was read.
    """

    def __init__(self, bound: Decimal) -> None:
        self.bi, self.bf = _parts(bound)

    def _int_result(self, s: State) -> int:
        if s[0] == "Z":
            return EQ if self.bi == "0" else LT
        if s[0] == "L":
            return GT
        return int(s[2]) if s[1] == len(self.bi) else LT

    def step(self, s: State, ch: str) -> State | None:
        tag = s[0]
        if ch == "." and tag in ("Z", "I", "L"):
            r = self._int_result(s)
            return ("D", r, False) if r != EQ else ("F", 0, EQ, False)
        if ch in ".-" or tag == "Z":
            return None
        d = ord(ch) - 48
        if tag == "S":
            return ("Z",) if d == 0 else ("I", 1, _cmp(d, self.bi[0]))
        if tag == "I":
            p, c = s[1], s[2]
            return ("L",) if p >= len(self.bi) else ("I", p + 1, c or _cmp(d, self.bi[p]))
        if tag == "L":
            return s
        if tag == "D":
            return ("D", s[1], True)
        j, c = s[1], s[2]
        if j < len(self.bf):
            return ("F", j + 1, c or _cmp(d, self.bf[j]), True)
        return ("F", j, c or (GT if d else EQ), True)

    def result(self, s: State) -> int | None:
        tag = s[0]
        if tag in ("Z", "I", "L"):
            r = self._int_result(s)
            return LT if r == EQ and self.bf else r
        if tag == "S" or not s[-1]:
            return None
        if tag == "D":
            return int(s[1])
        j, c = s[1], s[2]
        return int(c) if c != EQ else (LT if j < len(self.bf) else EQ)


Conds = list[tuple[_Compare, frozenset[int]]]
_AT_LEAST = {False: frozenset({EQ, GT}), True: frozenset({GT})}
_AT_MOST = {False: frozenset({EQ, LT}), True: frozenset({LT})}


def _sides(lo: Bound | None, hi: Bound | None) -> list[Conds | None]:
    """Magnitude conditions for non-negative values and for negative values (``None``: no
    value of that sign satisfies the bounds). Negative zero is excluded (magnitude > 0)."""
    pos: Conds = [(_Compare(Decimal(0)), _AT_LEAST[False])]
    neg: Conds = [(_Compare(Decimal(0)), _AT_LEAST[True])]
    neg_ok = pos_ok = True
    if lo is not None:
        lo_value, lo_strict = lo
        if lo_value >= 0:
            pos.append((_Compare(lo_value), _AT_LEAST[lo_strict]))
            neg_ok = False
        else:
            neg.append((_Compare(lo_value.copy_abs()), _AT_MOST[lo_strict]))
    if hi is not None:
        hi_value, hi_strict = hi
        if hi_value < 0:
            neg.append((_Compare(hi_value.copy_abs()), _AT_LEAST[hi_strict]))
            pos_ok = False
        else:
            pos.append((_Compare(hi_value), _AT_MOST[hi_strict]))
    return [pos if pos_ok else None, neg if neg_ok else None]


def _bounds_dfa(integer: bool, lo: Bound | None, hi: Bound | None) -> ByteDFA:
    """Positional number texts (no negative zero) whose value lies within the bounds."""
    sides = _sides(lo, hi)

    def step(key: State, ch: str) -> State | None:
        if integer and ch == ".":
            return None
        if not key:
            side = 1 if ch == "-" else 0
            conds = sides[side]
            if conds is None:
                return None
            key = (side, tuple(("S",) for _ in conds))
            if side:
                return key
        side, subs = key
        out = []
        for (machine, _), sub in zip(sides[side] or (), subs, strict=True):
            nxt = machine.step(sub, ch)
            if nxt is None:
                return None
            out.append(nxt)
        return (side, tuple(out))

    def accept(key: State) -> bool:
        return bool(key) and all(
            machine.result(sub) in ok
            for (machine, ok), sub in zip(sides[key[0]] or (), key[1], strict=True)
        )

    return _explore(step, accept)


def _multiple_dfa(integer: bool, step_value: Decimal) -> ByteDFA:
    """Texts ``-?[0-9]+(\\.[0-9]+)?`` whose value is a multiple of ``step_value`` (> 0).

    With ``step_value = p / 10**q``: the digits up to fraction position ``q``, read as an integer,
    are ``0 mod p`` and later fraction digits are zeros. States: ``("I", r)`` in the integer part,
    ``("F", r, j, h)`` after ``j`` fraction digits (``h``: one was read); ``r`` the residue.
    """
    _, digits, exp = step_value.as_tuple()
    assert isinstance(exp, int)
    p, q = int("".join(map(str, digits))) * 10 ** max(exp, 0), max(-exp, 0)
    if p > MAX_MULTIPLE:
        raise NumberUnsupported(
            "multipleOf", f"{step_value} = p / 10**q with p > {MAX_MULTIPLE} is not supported"
        )
    if p + (0 if integer else sum(min(p, 10 ** min(k, 5)) for k in range(q + 1))) > _RESIDUE_STATES:
        raise NumberUnsupported(
            "multipleOf", f"{step_value} needs more than {_RESIDUE_STATES} states"
        )

    def frac(r: int, j: int, h: bool) -> State | None:
        # live iff some fraction digits x < 10**(q - j) make r * 10**(q - j) + x = 0 (mod p)
        return ("F", r, j, h) if q - j > 4 or -r * 10 ** (q - j) % p < 10 ** (q - j) else None

    def step(key: State, ch: str) -> State | None:
        if not key:
            return ("N",) if ch == "-" else step(("I", 0), ch)
        if ch == "-" or (ch == "." and (integer or key[0] != "I")):
            return None
        if key[0] == "N":
            return step(("I", 0), ch)
        r = key[1]
        if ch == ".":
            return frac(r, 0, False)
        d = ord(ch) - 48
        if key[0] == "I":
            return ("I", (10 * r + d) % p)
        j = key[2]
        if j < q:
            return frac((10 * r + d) % p, j + 1, True)
        return ("F", r, j, True) if d == 0 else None

    def accept(key: State) -> bool:
        if not key or key[0] == "N" or (key[0] == "F" and not key[3]):
            return False
        j = key[2] if key[0] == "F" else 0
        return bool(key[1] * pow(10, q - j, p) % p == 0)

    return _explore(step, accept)


def _number_dfa(
    integer: bool, lo: Bound | None, hi: Bound | None, multiple: Decimal | None,
    budget: Budget | None,
) -> ByteDFA:  # fmt: skip
    if lo is None and hi is None and multiple is None:
        regex = integer_type_regex() if integer else number_type_regex()
        return compile_regex(regex, "JSON number", budget=budget)
    dfa = _bounds_dfa(integer, lo, hi)
    if multiple is None or ops.is_empty(dfa):
        return dfa
    try:
        return ops.intersect(dfa, _multiple_dfa(integer, multiple), budget)
    except GrammarError as exc:
        raise NumberUnsupported("multipleOf", f"{multiple} with these bounds: {exc}") from exc


def number_dfa(
    *,
    integer: bool,
    minimum: Num | None = None,
    maximum: Num | None = None,
    exclusive_minimum: Num | None = None,
    exclusive_maximum: Num | None = None,
    multiple_of: Num | None = None,
    budget: Budget | None = None,
    cache: AutomataCache | None = None,
) -> ByteDFA:
    """The automaton of the JSON number texts whose value satisfies numeric keywords.

    Parameters
    ----------
    integer:
        ``True`` for ``"type": "integer"`` (no fraction), ``False`` for ``"number"``.
    minimum, maximum, exclusive_minimum, exclusive_maximum:
        Bounds (draft 2020-12 numeric forms), or ``None``. Floats are read through their
        shortest ``repr``, so ``0.1`` is the decimal 0.1.
    multiple_of:
        ``multipleOf``, a positive number, or ``None``.
    budget:
        Deadline and state bounds (``None``: no deadline, default bounds).
    cache:
        Where to find or keep the automaton (``None``: build it).

    Returns
    -------
    ByteDFA
        Without keywords, every RFC 8259 number (``integer``: ``0|-?[1-9][0-9]*``). With any,
        exactly the positional texts ``-?(0|[1-9][0-9]*)(\\.[0-9]+)?`` (integers: no fraction),
        negative zero excluded, whose exact decimal value satisfies all keywords. It may be
        empty (:func:`~corral.automata.ops.is_empty`).

    Raises
    ------
    NumberUnsupported
        A value is not a finite number or has more than :data:`MAX_DIGITS` positional digits;
        ``multipleOf`` is not positive, its coefficient exceeds :data:`MAX_MULTIPLE`, or its
        automaton (alone or with the bounds) is too large.
    """
    lows: list[Bound] = []
    highs: list[Bound] = []
    for value, keyword, strict, into in (
        (minimum, "minimum", False, lows),
        (exclusive_minimum, "exclusiveMinimum", True, lows),
        (maximum, "maximum", False, highs),
        (exclusive_maximum, "exclusiveMaximum", True, highs),
    ):
        if value is not None:
            into.append((_exact(value, keyword), strict))
    multiple = None
    if multiple_of is not None:
        multiple = _exact(multiple_of, "multipleOf")
        if multiple <= 0:
            raise NumberUnsupported("multipleOf", f"{multiple_of!r} is not positive")
    # the tightest bound on each side; on a tie the exclusive one
    lo = max(lows, key=lambda b: (b[0], b[1]), default=None)
    hi = min(highs, key=lambda b: (b[0], not b[1]), default=None)
    if cache is None:
        return _number_dfa(integer, lo, hi, multiple, budget)
    key = ("number", integer, lo, hi, multiple, limits_of(budget).state_bounds())
    return cache.get_or_build(key, lambda: _number_dfa(integer, lo, hi, multiple, budget))
