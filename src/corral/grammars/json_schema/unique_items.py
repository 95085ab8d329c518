"""Item languages for ``uniqueItems`` as one automaton of canonical texts.

The matcher checks ``uniqueItems`` on a *unique-item* terminal (``docs/design/unique_items.md``):
equal items must have equal texts. Scalars have one canonical text each. An object does too when
its key order is fixed — every member declared (no ``additionalProperties``/
``patternProperties`` region, no existential constraint), one object specification per value —
and it is written compactly (no whitespace inside, in either whitespace mode: the canonical
shape under ``uniqueItems``). Such a language, without arrays and without recursion, is regular:
``{`` then the declared properties in order, each present or (when optional) absent, commas
between, then ``}``, built here by concatenation and union of automata (Thompson-style
composition, the subset construction of :func:`corral.automata.ops.concat`), with the member
count tracked for ``minProperties``/``maxProperties``.
"""

from __future__ import annotations

import json

from corral.automata.dfa import ByteDFA
from corral.automata.ops import concat, empty_dfa, is_empty, union
from corral.automata.regex import literal_dfa
from corral.grammars.json_schema.algebra import Conj, ObjectSpec, Refuse
from corral.grammars.json_schema.protocols import LangSource

__all__ = ["item_dfa", "item_refusal"]


def item_refusal(b: LangSource, conj: Conj, draft: int) -> str | None:
    """Why the items ``conj`` have no automaton of canonical texts (``None`` if they have)."""
    try:
        _check(b, conj, set(), draft)
    except Refuse as exc:
        return exc.reason
    return None


def _check(b: LangSource, conj: Conj, visiting: set[Conj], draft: int) -> None:
    lang = b.lang_of(conj)
    if lang.arrays:
        raise Refuse("uniqueItems", "enforced only over items without arrays inside")
    if lang.long_strings:
        raise Refuse("uniqueItems", "enforced only over items without very long strings")
    if not lang.objects:
        return
    if draft <= 4:
        raise Refuse("uniqueItems", "object items under draft 4 (5 and 5.0 are equal there)")
    if len(lang.objects) > 1:
        raise Refuse("uniqueItems", "object items of several shapes (key order not canonical)")
    if conj in visiting:
        raise Refuse("uniqueItems", "recursive object items")
    spec = lang.objects[0]
    if spec.regions or spec.exists:
        raise Refuse("uniqueItems", "object items with undeclared keys (in free order)")
    visiting.add(conj)
    for p in spec.props:
        _check(b, p.value, visiting, draft)
    visiting.discard(conj)


def item_dfa(b: LangSource, conj: Conj) -> ByteDFA:
    """The automaton of the canonical (compact) texts of the items ``conj``.

    Raises
    ------
    Refuse
        Where :func:`item_refusal` gives a reason (or an automaton passes its bound).
    """
    why = item_refusal(b, conj, 2020)
    if why is not None:
        raise Refuse("uniqueItems", why)
    return _value(b, conj)


def _value(b: LangSource, conj: Conj) -> ByteDFA:
    lang = b.lang_of(conj)
    dfa = lang.scalar
    for spec in lang.objects:
        dfa = union(dfa, _object(b, spec), b.ctx.budget)
    return dfa


def _object(b: LangSource, spec: ObjectSpec) -> ByteDFA:
    """``{`` members ``}``: state (property index, members so far up to ``max(minProperties,
    maxProperties, 1)``), built from the end."""
    budget = b.ctx.budget
    props = spec.props
    n = len(props)
    lo, hi = spec.min_props, spec.max_props
    comma = literal_dfa(",", budget=budget)
    close = literal_dfa("}", budget=budget)
    keys = [literal_dfa(json.dumps(p.name, ensure_ascii=False) + ":", budget=budget) for p in props]
    values = [_value(b, p.value) for p in props]
    # member counts past max(lo, hi, 1) act alike: O(n) states, not O(n²)
    cap = max(lo, hi if hi is not None else 0, 1)
    memo: dict[tuple[int, int], ByteDFA] = {}
    for i in range(n, -1, -1):
        for c in range(min(i, cap), -1, -1):
            if i == n:
                memo[(i, c)] = close if c >= lo else empty_dfa()
                continue
            rest = empty_dfa() if props[i].required else memo[(i + 1, c)]
            if (hi is None or c < hi) and not is_empty(values[i]):
                seq = [comma] if c else []
                after = memo[(i + 1, min(c + 1, cap))]
                taken = concat([*seq, keys[i], values[i], after], budget)
                rest = union(rest, taken, budget)
            memo[(i, c)] = rest
    return concat([literal_dfa("{", budget=budget), memo[(0, 0)]], budget)
