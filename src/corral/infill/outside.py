"""Which tokens of one slot some completion uses: the outside pass over an infilling chart.

A canvas position left open is a one-token hole (``Hole(tokens=1)``, a copy of the token trie,
the *slot*). The chart of :mod:`.chart` says whether the template can be completed, but its
states forget which token crossed the slot. The tokens some completion uses are found in two
passes over what the chart already holds, as the outside pass of inside–outside parsing (Baker
1979) or the usefulness pass of CFG ∩ regular intersection (Bar-Hillel et al. 1961):

1. **Useful items.** The goal ``$start -> start •`` at the final state is useful; the premises of
   every way a useful item can be derived — the scanned item and the lexeme span before it, the
   waiting item and the complete child, the same item before an ignored lexeme — are useful
   when they are in the chart. Every useful item and span is on some derivation of the goal.
   The walk stops at items before the slot's exit: their premises are no further along, so no
   span that crosses the slot is found behind them.
2. **Useful exits.** A token crosses the slot's exit inside the lexeme that reads its last byte,
   so only useful spans that begin at or before the slot and end after it matter. For each, the
   terminal × template product is searched forward from its start, then backward from its
   accepting ends; a product edge that leaves the slot and lands on a co-reachable node is the
   last byte of a token some completion uses — every token ending at that trie node.

Both passes are linear in what the forward chart and its span searches built, and their steps
count against the same work bound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Set as AbstractSet

import numpy as np
import numpy.typing as npt

from corral.infill.chart import Chart, Item
from corral.infill.template import _TokenHole

__all__ = ["slot_tokens"]


def _region(chart: Chart, s: int) -> int:
    """Twice the chain position of state ``s`` (``+ 1`` inside a token hole's tries)."""
    pat = chart.pattern
    if s < len(pat.chain_byte):
        return 2 * s
    return 2 * (pat._hole_of(s).exit - 1) + 1


def _useful_spans(chart: Chart, after: int) -> dict[tuple[int, int], set[int]]:
    """Pass 1: ``(terminal, start state) -> end states`` of the spans some derivation uses,
    walked back from the goal only through items at states of region ``after`` or more (past
    the slot): the premises of an item are never further along than it, so an item before
    the slot cannot lead back to a span that crosses it."""
    tables = chart.cg.tables
    nxt_sym, lhs_of = tables.dotted_next, tables.dotted_lhs
    firsts = {d for ds in tables.predictions for d in ds}
    complete_of: list[list[int]] = [[] for _ in tables.predictions]
    for b, ds in enumerate(tables.predictions):
        for d in ds:
            while nxt_sym[d] is not None:
                d += 1
            complete_of[b].append(d)
    # reverse indexes of what the forward pass found: where spans and complete items begin
    back_span: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for (t, r), ends in chart.spans._ends.items():
        for q in ends:
            back_span[(t, q)].add(r)
    back_done: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for (a, o), done in chart._done.items():
        for q in done:
            back_done[(a, q)].add(o)
    items = chart.items
    at: defaultdict[Item, set[int]] = defaultdict(set)  # item -> the states it stands at
    for s, here in items.items():
        for it in here:
            at[it].add(s)
    goal_item = (tables.final_dotted, 0)
    useful: defaultdict[Item, set[int]] = defaultdict(set)  # item -> states where it is useful
    useful[goal_item].add(chart.pattern.final)
    stack = [(chart.pattern.final, goal_item)]
    used: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    none: frozenset[int] = frozenset()
    completed: defaultdict[tuple[int, int], set[int]] = defaultdict(set)

    region: dict[int, int] = {}

    def mark(states: AbstractSet[int], it: Item) -> None:
        """Mark ``it`` useful at ``states`` (none of which it was useful at before)."""
        useful[it] |= states
        for s in states:
            reg = region.get(s)
            if reg is None:
                reg = region[s] = _region(chart, s)
            if reg >= after:
                stack.append((s, it))

    while stack:
        q, item = stack.pop()
        chart.charge(1)
        d, o = item
        for t in tables.ignore:
            got = back_span.get((t, q), none) & at[item]
            for r in got:
                used[(t, r)].add(q)
            if got := got - useful[item]:
                mark(got, item)
        if d in firsts:
            continue
        prev = (d - 1, o)
        sym = nxt_sym[d - 1]
        assert sym is not None
        if sym >= 0:
            got = back_span.get((sym, q), none) & at.get(prev, none)
            for r in got:
                used[(sym, r)].add(q)
            if got := got - useful[prev]:
                mark(got, prev)
        else:
            b = -sym - 1
            origins = back_done.get((b, q), none) & at.get(prev, none)
            if fresh := origins - useful[prev]:
                mark(fresh, prev)
            if fresh := origins - completed[(b, q)]:  # their complete children: marked once
                completed[(b, q)] |= fresh
                here = items[q]
                for m in fresh:
                    for dc in complete_of[b]:
                        if (dc, m) in here and q not in useful[(dc, m)]:
                            assert lhs_of[dc] == b
                            mark({q}, (dc, m))
    return used


def _exits(
    chart: Chart, slot: _TokenHole, t: int, r: int, ends: set[int]
) -> list[npt.NDArray[np.int64]]:
    """Pass 2 for one terminal and start: the trie nodes whose tokens leave the slot on a path
    of the product from ``(start, r)`` to an accepting ``(d, q)``, ``q`` in ``ends``."""
    acc = chart.cg.dfas[t].accept_list
    lo, hi = slot.base, slot.base + slot.nodes
    start = (1, r)
    seen = {start}
    rev: defaultdict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    exits: list[tuple[npt.NDArray[np.int64], tuple[int, int]]] = []
    frontier = [start]
    while frontier:
        nxt: list[tuple[int, int]] = []
        for d, s in frontier:
            in_slot = lo <= s < hi
            for node, how in chart.spans.successors(t, d, s):
                rev[node].append((d, s))
                if in_slot and isinstance(how, int) and not lo <= node[1] < hi:
                    exits.append((np.array([slot.trie.child(s - lo, how)]), node))
                elif in_slot and how is not None and not isinstance(how, int):
                    exits.append((how, node))
                if node not in seen:
                    seen.add(node)
                    if how is not None:
                        nxt.append(node)
        frontier = nxt
    back = [n for n in seen if acc[n[0]] and n[1] in ends]
    co = set(back)
    while back:
        n = back.pop()
        chart.charge(1)
        for m in rev.get(n, ()):
            if m not in co:
                co.add(m)
                back.append(m)
    return [c for c, node in exits if node in co]


def slot_tokens(chart: Chart, slot: _TokenHole) -> npt.NDArray[np.int64]:
    """The ids of the tokens that fill the one-token hole ``slot`` in some completion of the
    chart's template (empty when it has none), ascending."""
    if not chart.completable:
        return np.zeros(0, dtype=np.int64)
    entry = 2 * (slot.exit - 1) + 1
    after = 2 * slot.exit
    nodes: list[npt.NDArray[np.int64]] = []
    for (t, r), ends in _useful_spans(chart, after).items():
        if _region(chart, r) > entry:
            continue
        crossing = {q for q in ends if _region(chart, q) >= after}
        if crossing:
            nodes += _exits(chart, slot, t, r, crossing)
    if not nodes:
        return np.zeros(0, dtype=np.int64)
    return np.unique(slot.trie.tokens_at(np.unique(np.concatenate(nodes))))
