"""Shortest completion of a matcher's input to a complete string of the language.

Shortest yields of rules come from Knuth's (1977) generalisation of Dijkstra's algorithm to
context-free grammars (a rule's value is fixed only once every symbol of its witness alternative
is). The completion then climbs the Earley sets: an item ``A -> α • β`` with origin ``o`` is
finished by the shortest yield of ``β`` followed by the cheapest way to finish ``A`` at ``o`` —
an item of set ``o`` waiting on ``A`` — up to the augmented start item. Values per set are
found by Bellman–Ford relaxation, since items predicted in a set wait on nonterminals of that
same set.

Random walks over allowed tokens end with this completion, so that what the walk produced can be
checked, complete, by an independent parser (the compliance side of the conformance suite).

The shortest yields (:class:`Yields`) depend only on the compiled grammar and live in its run-time
cache; the temporary Earley sets of a completion go onto a
:class:`~corral.constraint_engine.earley.SetOverlay`, so the matcher's stacks are only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from corral.automata.distances import UNREACHABLE as _INF
from corral.automata.distances import dfa_distances
from corral.constraint_engine.earley import EarleySet, SetOverlay, scan_kernel

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar
    from corral.constraint_engine.mask import Thread
    from corral.constraint_engine.matcher import Matcher

__all__ = ["Yields", "complete", "shortest_completion"]

Sets = Sequence[EarleySet | None] | SetOverlay


class Yields:
    """Shortest byte strings of every terminal and nonterminal of a compiled grammar.

    Terminals: a shortest path to acceptance in the terminal's automaton (by distances to
    acceptance); nonterminals: Knuth's (1977) shortest-derivation algorithm.
    """

    def __init__(self, cg: CompiledGrammar) -> None:
        self.tables = tables = cg.tables
        self.dfas = cg.dfas
        self.dist = [dfa_distances(d) for d in cg.dfas]
        self.nbytes = 64 * len(tables.dotted_next) + sum(8 * len(d) + 64 for d in self.dist)
        self.term_str: list[bytes | None] = [
            self.dfa_path(i, 1, need_byte=True) if d.accepting.any() else None
            for i, d in enumerate(cg.dfas)
        ]
        n_nt = len(tables.nonterminal_names)
        prods: list[tuple[int, list[int]]] = []
        for first in range(len(tables.dotted_next)):
            if first == 0 or tables.dotted_next[first - 1] is None:
                rhs: list[int] = []
                d = first
                while tables.dotted_next[d] is not None:
                    rhs.append(tables.dotted_next[d])  # type: ignore[arg-type]
                    d += 1
                prods.append((tables.dotted_lhs[first], rhs))
        self.nt_str: list[bytes | None] = [None] * n_nt
        while True:
            best: tuple[int, int, list[int]] | None = None
            for lhs, rhs in prods:
                if self.nt_str[lhs] is not None:
                    continue
                parts = [self._sym_str(s) for s in rhs]
                if any(p is None for p in parts):
                    continue
                cost = sum(len(p) for p in parts if p is not None)
                if best is None or cost < best[0]:
                    best = (cost, lhs, rhs)
            if best is None:
                break
            self.nt_str[best[1]] = b"".join(self._sym_str(s) or b"" for s in best[2])

    def dfa_path(self, term: int, state: int, need_byte: bool) -> bytes:
        """Shortest bytes taking ``term``'s automaton from ``state`` to acceptance.

        ``need_byte`` asks for at least one byte (a lexeme is never empty).
        """
        dfa, dist = self.dfas[term], self.dist[term]
        out = bytearray()
        s = state
        while need_byte or not dfa.accept_list[s]:
            need_byte = False
            b = min(dfa.out_bytes[s], key=lambda x: (dist[dfa.rows[s][x]], x))
            out.append(b)
            s = dfa.rows[s][b]
        return bytes(out)

    def _sym_str(self, sym: int) -> bytes | None:
        return self.term_str[sym] if sym >= 0 else self.nt_str[-sym - 1]

    def rest(self, dotted: int) -> bytes:
        """Shortest yield of the symbols after the dot."""
        tables = self.tables
        out = bytearray()
        d = dotted
        while tables.dotted_next[d] is not None:
            out += self._sym_str(tables.dotted_next[d]) or b""  # type: ignore[arg-type]
            d += 1
        return bytes(out)


def _finish_values(
    y: Yields, sets: Sets, pos: int, memo: dict[int, dict[int, bytes]]
) -> dict[int, bytes]:
    """For set ``pos``: nonterminal A -> shortest bytes finishing A started at ``pos``."""
    got = memo.get(pos)
    if got is not None:
        return got
    eset = sets[pos]
    tables = y.tables
    values: dict[int, bytes] = {}
    if eset is not None:
        changed = True
        while changed:
            changed = False
            for nt, waiting in eset.waiting_nt.items():
                for d, o in waiting:
                    lhs = tables.dotted_lhs[d]
                    if lhs == 0 and o == 0:
                        up: bytes | None = b""
                    elif o < pos:
                        up = _finish_values(y, sets, o, memo).get(lhs)
                    else:
                        up = values.get(lhs)
                    if up is None:
                        continue
                    cand = y.rest(d + 1) + up
                    if nt not in values or len(cand) < len(values[nt]):
                        values[nt] = cand
                        changed = True
    memo[pos] = values
    return values


def _set_completion(
    y: Yields, sets: Sets, pos: int, memo: dict[int, dict[int, bytes]]
) -> bytes | None:
    eset = sets[pos]
    if eset is None:
        return None
    if eset.accepting:
        return b""
    tables = y.tables
    best: bytes | None = None
    for d, o in eset.items:
        lhs = tables.dotted_lhs[d]
        if lhs == 0 and o == 0:
            cand: bytes | None = y.rest(d)
        elif o < pos:
            up = _finish_values(y, sets, o, memo).get(lhs)
            cand = None if up is None else y.rest(d) + up
        else:
            continue
        if cand is not None and (best is None or len(cand) < len(best)):
            best = cand
    return best


def yields_of(cg: CompiledGrammar) -> Yields:
    """The shortest yields of ``cg``, built once into its run-time cache."""
    return cg.cache.get_or_build(("yields",), lambda: Yields(cg), lambda y: y.nbytes)


def complete(
    cg: CompiledGrammar,
    sets: Sequence[EarleySet | None],
    threads: Sequence[Thread],
    memo: dict[int, dict[int, bytes]] | None = None,
) -> bytes | None:
    """Shortest bytes completing the input whose Earley sets and last lexer threads are given.

    ``sets`` is a matcher's position-indexed stack and ``threads`` its threads at the last
    position; both are only read. ``b""`` when the input is already complete, ``None`` when no
    completion exists.

    ``memo`` keeps the finishing values of the positions of ``sets`` between calls: they
    depend only on the sets up to that position, so a matcher that passes its own memo and
    drops the entries of the positions it truncates (:meth:`corral.Matcher.rollback`) pays
    only for the positions added since its last call, not for the whole stack. Entries of the
    temporary positions of this call are removed before it returns.
    """
    y = yields_of(cg)
    k = len(sets) - 1
    overlay = SetOverlay(sets)
    if memo is None:
        memo = {}
    try:
        return _complete(cg, y, overlay, k, threads, memo)
    finally:
        for pos in range(k + 1, len(overlay)):
            memo.pop(pos, None)


def _complete(
    cg: CompiledGrammar,
    y: Yields,
    overlay: SetOverlay,
    k: int,
    threads: Sequence[Thread],
    memo: dict[int, dict[int, bytes]],
) -> bytes | None:
    best = _set_completion(y, overlay, k, memo)
    for j, t, d in threads:
        if y.dist[t][d] >= _INF:
            continue
        src = overlay[j]
        if src is None:
            continue
        tail = y.dfa_path(t, d, need_byte=d == 1)
        if t in cg.ignore_set:
            rest = _set_completion(y, overlay, j, memo)
        else:
            pos = overlay.push_closure(cg.tables, scan_kernel(src, t))
            rest = _set_completion(y, overlay, pos, memo)
        if rest is not None and (best is None or len(tail) + len(rest) < len(best)):
            best = tail + rest
    return best


def shortest_completion(matcher: Matcher) -> bytes | None:
    """Shortest bytes that make the matcher's input complete, or ``None`` if there are none.

    ``b""`` when the input is already complete. The matcher's state is left unchanged. Same as
    :meth:`corral.Matcher.shortest_completion`.
    """
    return matcher.shortest_completion()
