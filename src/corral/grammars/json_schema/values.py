"""Concrete JSON values: equality, canonical texts, and finite languages of candidates.

Equality is JSON Schema's (Core 2020-12 §4.2.2): numbers by mathematical value, booleans never
equal to numbers, arrays elementwise, objects by key set and member values. The canonical text of
a number is positional decimal notation without exponent, trailing fractional zeros or negative
zero (integral values have no fraction): exactly one text per value, which is what makes set
operations on scalar automata exact.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.minimize import texts_dfa_native
from corral.automata.ops import empty_dfa, minimize_over
from corral.errors import CompileLimitExceeded
from corral.grammars.json_schema.algebra import ArraySpec, Conj, Lang, ObjectSpec, Prop
from corral.limits import Budget, limits_of

__all__ = [
    "candidates_lang",
    "has_integral_float",
    "json_equal",
    "json_text",
    "number_text",
    "scalar_text",
    "texts_dfa",
    "texts_dfa_py",
]


_ESCAPED = re.compile(r'[\x00-\x1f"\\]')
"""The characters ``json.dumps(..., ensure_ascii=False)`` escapes in a string."""


def json_text(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``: the canonical JSON text of a string, without
    making an encoder where nothing needs escaping (keys and enum strings, mostly)."""
    if _ESCAPED.search(text) is None:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def json_equal(a: Any, b: Any) -> bool:
    """JSON Schema equality of two values."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def number_text(x: int | float, draft4: bool = False) -> str:
    """The canonical text of a number (``ValueError`` for NaN and infinities).

    In the draft-4 model an integral float is written ``N.0`` (see
    :class:`corral.grammars.json_schema.context.SchemaContext`).
    """
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise ValueError(f"{x!r} is not a JSON number")
    if x == int(x):
        return f"{int(x)}.0" if draft4 else str(int(x))
    text = format(Decimal(repr(x)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def scalar_text(value: Any, draft4: bool = False) -> str:
    """The canonical text of a scalar JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_text(value, draft4)
    if isinstance(value, str):
        return json_text(value)
    raise TypeError(f"not a JSON scalar: {type(value).__name__}")


def texts_dfa(
    texts: list[bytes], budget: Budget | None = None, what: str = "enum/const"
) -> ByteDFA:
    """The automaton of exactly the given byte strings (a trie, minimised): in C
    (:func:`~corral.automata.minimize.texts_dfa_native`) when the trie surely fits the state
    bound, else :func:`texts_dfa_py`; both give the same automaton.

    Raises
    ------
    CompileLimitExceeded
        When the trie needs more than ``max_string_states`` states
        (:class:`~corral.limits.Limits`).
    DeadlineExceeded
        When ``budget``'s deadline passes.
    """
    if not texts:
        return empty_dfa()
    if sum(len(t) for t in texts) + 2 <= limits_of(budget).max_string_states:
        if budget is not None:
            budget.check()  # the C build is linear in the texts' length, which is bounded
        got = texts_dfa_native(texts)
        if got is not None:
            return ByteDFA.from_canonical(*got)
    return texts_dfa_py(texts, budget, what)


def texts_dfa_py(
    texts: list[bytes], budget: Budget | None = None, what: str = "enum/const"
) -> ByteDFA:
    """:func:`texts_dfa` built in Python (its specification, and the path for texts whose
    trie may pass the state bound, which it checks as it grows)."""
    if not texts:
        return empty_dfa()
    most = limits_of(budget).max_string_states
    children: list[dict[int, int]] = [{}, {}]
    accepting = [False, False]
    for i, data in enumerate(texts):
        if budget is not None and i & 255 == 0:
            budget.check()
        s = 1
        for b in data:
            nxt = children[s].get(b)
            if nxt is None:
                nxt = children[s][b] = len(children)
                children.append({})
                accepting.append(False)
            s = nxt
        accepting[s] = True
        if len(children) > most:
            raise CompileLimitExceeded(f"{what}: the texts need more than {most} automaton states "
                                "(Limits.max_string_states)")  # fmt: skip
    # one column per byte the texts use, and one (dead) for every other byte, if any
    used = sorted({b for row in children for b in row})
    byte_col = np.full(256, len(used), dtype=np.int64)
    byte_col[used] = np.arange(len(used))
    table = np.zeros((len(children), min(len(used) + 1, 256)), dtype=np.int32)
    for s, row in enumerate(children):
        for b, t in row.items():
            table[s, byte_col[b]] = t
    return minimize_over(table, byte_col, np.array(accepting, dtype=bool))


def candidates_lang(
    values: list[Any], synthesize: Callable[[Lang], Conj], draft4: bool = False,
    budget: Budget | None = None,
) -> Lang:  # fmt: skip
    """The language of exactly ``values`` (objects keep their own key order)."""
    texts: list[bytes] = []
    objects: list[ObjectSpec] = []
    arrays: list[ArraySpec] = []
    for i, v in enumerate(values):
        if budget is not None and i & 255 == 0:
            budget.check()
        if isinstance(v, dict):
            props = tuple(Prop(k, synthesize(candidates_lang([x], synthesize, draft4, budget)),
                               True) for k, x in v.items())  # fmt: skip
            objects.append(ObjectSpec(props=props, regions=(), min_props=0, max_props=None))
        elif isinstance(v, list):
            prefix = tuple(synthesize(candidates_lang([x], synthesize, draft4, budget)) for x in v)
            arrays.append(ArraySpec(prefix=prefix, items=None, min_items=len(v), max_items=len(v)))
        else:
            try:
                texts.append(scalar_text(v, draft4).encode("utf-8"))
            except (UnicodeEncodeError, ValueError):
                continue  # a lone surrogate or a non-finite number has no JSON text
    return Lang(texts_dfa(texts, budget), objects, arrays)


def has_integral_float(dfa: ByteDFA) -> bool:
    """Whether ``dfa`` accepts a number text ``-?D+.0`` (an integral float in the draft-4 model).

    Breadth-first search of the product with that pattern's five-state automaton.
    """
    digits = range(0x30, 0x3A)

    def step(p: int, b: int) -> int:
        if p in (0, 1) and b in digits:
            return 2
        if p == 0 and b == 0x2D:
            return 1
        if p == 2 and b in digits:
            return 2
        if p == 2 and b == 0x2E:
            return 3
        if p == 3 and b == 0x30:
            return 4
        return -1

    seen = {(1, 0)}
    todo = [(1, 0)]
    while todo:
        q, p = todo.pop()
        if p == 4 and dfa.accept_list[q]:
            return True
        for b in dfa.out_bytes[q]:
            nxt = (dfa.rows[q][b], step(p, b))
            if nxt[1] >= 0 and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
