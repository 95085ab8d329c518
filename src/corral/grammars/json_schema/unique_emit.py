"""The rules of ``uniqueItems`` arrays (``docs/design/unique_items.md``).

Three ways, tried in order, each exact:

* at most ``MAX_UNIQUE`` canonical texts in all (``prefixItems`` positions included): the
  grammar tracks the subset used (states are subsets; no run-time work);
* one item language of canonical texts (scalars, objects of declared properties): one
  *unique-item* terminal checked at run time, ``maxItems`` lowered to the language's size;
* otherwise, position by position (:func:`~.unique_items.positions`): per ``prefixItems``
  position and for the rest, a unique-item terminal for its scalars and, for its arrays and
  open objects, containers whose closing bracket is an *item-closing* terminal (the matcher then
  compares values, whitespace and member order aside).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corral.automata.dfa import ByteDFA
from corral.automata.distances import COUNT_CAP, suffix_counts
from corral.automata.ops import finite_strings, is_empty
from corral.grammars.ir import Terminal
from corral.grammars.json_schema.algebra import ArraySpec, Refuse
from corral.grammars.json_schema.arrays import MAX_UNIQUE
from corral.grammars.json_schema.unique_items import (
    Position,
    item_dfa,
    item_refusal,
    items_lang,
    positions,
)

if TYPE_CHECKING:
    from corral.grammars.json_schema.emit import Emitter

__all__ = ["unique_items"]

Alt = tuple[str, ...]


def unique_items(e: Emitter, spec: ArraySpec) -> str:
    """The rule of the items of ``uniqueItems`` array ``spec`` (after its ``[``).

    Raises
    ------
    Refuse
        Where none of the ways above is exact.
    """
    if spec.contains or (spec.items is None and not spec.prefix):
        raise Refuse("uniqueItems", "uniqueItems with contains")
    conjs = [*spec.prefix, *([spec.items] if spec.items is not None else [])]
    langs = [items_lang(e.b, c) for c in conjs]
    canonical = all(item_refusal(e.b, c, 2020) is None for c in conjs)
    if canonical and not (spec.prefix and any(lang.objects for lang in langs)):
        dfas = [item_dfa(e.b, c) if lang.objects else lang.scalar
                for c, lang in zip(conjs, langs, strict=True)]  # fmt: skip
        finite = [finite_strings(dfa, MAX_UNIQUE) for dfa in dfas]
        union = sorted({t for texts in finite if texts is not None for t in texts})
        if all(texts is not None for texts in finite) and len(union) <= MAX_UNIQUE:
            return _subsets(e, spec, finite, union)
        if not spec.prefix:
            return _run_time(e, spec, dfas[0])
    return _positions(e, spec, positions(e.b, spec, e.b.draft))


def _subsets(
    e: Emitter, spec: ArraySpec, finite: list[list[bytes] | None], union: list[bytes]
) -> str:
    """States are the subsets of ``union`` used so far."""
    lits = [e.literal(t.decode("utf-8")) for t in union]
    n_pre = len(spec.prefix)

    def at(count: int) -> set[int]:
        """Indices of the texts item number ``count`` may take."""
        i = count if count < n_pre else (n_pre if spec.items is not None else -1)
        texts = finite[i] if i >= 0 else None
        return {union.index(t) for t in texts} if texts is not None else set()

    lo, hi = spec.min_items, spec.max_items
    base = e._fresh("u")
    comma = e.punct(",")
    for used in range(1 << len(lits)):
        count = bin(used).count("1")
        alts: list[Alt] = []
        if count >= lo:
            alts.append((e.punct("]"),))
        if hi is None or count < hi:
            sep: Alt = (comma,) if count else ()
            for j in sorted(at(count)):
                if not used >> j & 1:
                    alts.append((*sep, lits[j], f"{base}_{used | 1 << j}"))
        e.rules[f"{base}_{used}"] = alts
    return f"{base}_0"


def _unique_terminal(e: Emitter, texts: ByteDFA) -> str:
    term = e._fresh("U")
    e.terminals[term] = Terminal(term, "<unique item>", dfa=texts)
    e._keep.append(texts)
    e.unique.append(term)
    return term


def _counted(e: Emitter, lo: int, hi: int | None, k: int, item_at: list[str | None]) -> str:
    """States ``0 .. k`` (items so far, capped at ``k`` when unbounded); ``item_at[i]``: the
    item symbol of state ``i`` (``None``: no further item)."""
    if k + 1 > e.max_count:
        raise Refuse("maxItems" if hi is not None else "minItems",
                     "array length too large to track exactly")  # fmt: skip
    base = e._fresh("u")
    comma = e.punct(",")
    for i in range(k + 1):
        alts: list[Alt] = []
        if i >= lo:
            alts.append((e.punct("]"),))
        item = item_at[i]
        if (hi is None or i < hi) and item is not None:
            sep: Alt = (comma,) if i else ()
            nxt = i + 1 if hi is not None else min(i + 1, k)
            alts.append((*sep, item, f"{base}_{nxt}"))
        e.rules[f"{base}_{i}"] = alts
    return f"{base}_0"


def _run_time(e: Emitter, spec: ArraySpec, texts: ByteDFA) -> str:
    """Items as one unique-item terminal; at most as many items as the language has texts
    (so a further distinct item always exists), none if ``minItems`` asks for more."""
    term = _unique_terminal(e, texts)
    total = suffix_counts(texts)[1]
    lo, hi = spec.min_items, spec.max_items
    if total < COUNT_CAP:
        hi = total if hi is None else min(hi, total)
    k = hi if hi is not None else max(lo, 1)
    return _counted(e, lo, hi, k, [term] * (k + 1))


def _positions(e: Emitter, spec: ArraySpec, plan: list[Position]) -> str:
    """Items position by position: a unique-item terminal for the texts, containers closed by
    item-closing terminals."""
    syms: list[str] = []
    for p in plan:
        alts: list[Alt] = []
        if not is_empty(p.texts):
            alts.append((_unique_terminal(e, p.texts),))
        alts.extend((e.arr(a, close=e.closer("]")),) for a in p.arrays)
        alts.extend((e.obj(o, close=e.closer("}")),) for o in p.objects)
        name = e._fresh("ui")
        e.rules[name] = alts
        syms.append(name)
    n_pre = len(spec.prefix)
    rest = syms[n_pre] if spec.items is not None else None
    lo, hi = spec.min_items, spec.max_items
    k = hi if hi is not None else max(n_pre + 1, lo, 1)
    return _counted(e, lo, hi, k, [syms[i] if i < n_pre else rest for i in range(k + 1)])
