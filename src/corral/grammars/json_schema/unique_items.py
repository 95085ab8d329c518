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

Items that may be arrays or *open* objects (undeclared keys allowed) are checked by value
instead: their closing bracket is an *item-closing* terminal, and the matcher compares the
item's canonical text (whitespace dropped, members sorted) with the earlier container items'.
That check is exact for acceptance; masks stay exact (no dead end) when every such container
can always take one more member, which :func:`open_refusal` asks: then any item begun has
infinitely many distinct completions. :func:`positions` plans the items of one array that way,
one language per ``prefixItems`` position and one for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from corral.automata.dfa import ByteDFA
from corral.automata.distances import COUNT_CAP, suffix_counts
from corral.automata.ops import concat, empty_dfa, is_empty, union
from corral.automata.regex import literal_dfa
from corral.grammars.json_schema.algebra import ArraySpec, Conj, Lang, ObjectSpec, Refuse
from corral.grammars.json_schema.protocols import LangSource
from corral.grammars.json_schema.scalars import flat_long_strings
from corral.grammars.json_schema.values import has_integral_float, json_text

__all__ = ["Position", "item_dfa", "item_refusal", "items_lang", "open_refusal", "positions"]


def items_lang(b: LangSource, conj: Conj) -> Lang:
    """The language of items ``conj`` with its strings counted in blocks made part of its
    automaton (:func:`~.scalars.flat_long_strings`): items are compared by their texts.

    Raises
    ------
    Refuse
        Where a string bound is too long for one automaton.
    """
    flat = flat_long_strings(b.ctx, b.lang_of(conj))
    if flat is None:
        raise Refuse("uniqueItems", "enforced only over items without very long strings")
    return flat


def item_refusal(b: LangSource, conj: Conj, draft: int) -> str | None:
    """Why the items ``conj`` have no automaton of canonical texts (``None`` if they have)."""
    try:
        _check(b, conj, set(), draft)
    except Refuse as exc:
        return exc.reason
    return None


def _check(b: LangSource, conj: Conj, visiting: set[Conj], draft: int) -> None:
    lang = items_lang(b, conj)
    if lang.arrays:
        raise Refuse("uniqueItems", "enforced only over items without arrays inside")
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
    lang = items_lang(b, conj)
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
    keys = [literal_dfa(json_text(p.name) + ":", budget=budget) for p in props]
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


def _witness(b: LangSource, conj: Conj) -> bool:
    """Whether ``conj`` surely has a value (any value, or some scalar)."""
    lang = b.lang_of(conj)
    return conj == () or not is_empty(lang.scalar) or bool(lang.long_strings)


def open_refusal(b: LangSource, lang: Lang) -> str | None:
    """Why the containers of ``lang`` cannot always take one more member (``None`` if they can:
    arrays without ``maxItems``, ``maxContains`` or ``uniqueItems`` whose positions all have a
    known value; objects without ``maxProperties`` or existential constraints, with a region of
    infinitely many undeclared keys whose values have a known value)."""
    for a in lang.arrays:
        if (
            a.max_items is not None
            or a.unique
            or any(mx is not None for _, _, mx in a.contains)
            or a.items is None
            or not all(_witness(b, c) for c in (*a.prefix, a.items))
        ):
            return "array items that cannot always take one more item"
    for o in lang.objects:
        if (
            o.max_props is not None
            or o.exists
            or not any(
                suffix_counts(r.keys)[1] >= COUNT_CAP and _witness(b, r.value) for r in o.regions
            )
        ):
            return "object items that cannot always take one more undeclared member"
    return None


@dataclass(frozen=True)
class Position:
    """The items of one ``prefixItems`` position (or the rest) of a ``uniqueItems`` array:
    texts checked by a unique-item terminal, and containers closed by item-closing ones."""

    texts: ByteDFA
    arrays: tuple[ArraySpec, ...]
    objects: tuple[ObjectSpec, ...]


def positions(b: LangSource, spec: ArraySpec, draft: int) -> list[Position]:
    """Plan the run-time check of ``uniqueItems`` array ``spec`` position by position.

    Exact, with no dead end: item ``i`` of a ``prefixItems`` position always has a value none
    of the ``i`` earlier items took (more than ``i`` values, or infinitely many), and the rest
    has more values than the array can hold before it.

    Raises
    ------
    Refuse
        Where that cannot be guaranteed (or the values are not canonical).
    """
    conjs = [*spec.prefix, *([spec.items] if spec.items is not None else [])]
    langs = [items_lang(b, c) for c in conjs]
    boxed = any(
        lang.arrays or (lang.objects and item_refusal(b, c, 2020) is not None)
        for c, lang in zip(conjs, langs, strict=True)
    )
    hi = spec.max_items
    out: list[Position] = []
    for i, (c, lang) in enumerate(zip(conjs, langs, strict=True)):
        if draft <= 4 and (lang.objects or lang.arrays or has_integral_float(lang.scalar)):
            raise Refuse("uniqueItems", "draft 4 writes 5 and 5.0 differently although equal")
        if boxed:
            why = open_refusal(b, lang)
            if why is not None:
                raise Refuse("uniqueItems", why)
            texts = lang.scalar
            pos = Position(texts, tuple(lang.arrays), tuple(lang.objects))
        else:
            texts = item_dfa(b, c)
            pos = Position(texts, (), ())
        count = COUNT_CAP if pos.arrays or pos.objects else _count(texts)
        rest = spec.items is not None and i == len(conjs) - 1
        if count < COUNT_CAP:
            if rest and (hi is None or count < hi):
                raise Refuse("uniqueItems", "items of a finite language after prefixItems")
            if not rest and (hi is None or i < hi) and count <= i:
                raise Refuse("uniqueItems", f"prefixItems position {i} has at most {i} values")
        out.append(pos)
    return out


def _count(dfa: ByteDFA) -> int:
    return 0 if is_empty(dfa) else suffix_counts(dfa)[1]
