"""Where one lexeme can take a template automaton: the terminal × template product.

For terminal ``t`` (its byte automaton, restricted to bytes the tokenizer can spell) and a state
``p`` of the template automaton, :meth:`Spans.ends` gives every state ``q`` such that some word of
``t`` leads the template from ``p`` to ``q`` — breadth-first search of the product automaton from
``(start, p)`` (the intersection of a DFA with an NFA, Rabin & Scott 1959), which also yields the
shortest such word, kept for completions. Results are computed on demand and memoised per
``(t, p)``; every product state visited counts against the check's work bound.
"""

from __future__ import annotations

from collections.abc import Callable

from corral.automata.dfa import ByteDFA
from corral.infill.template import Pattern

__all__ = ["Spans"]


class Spans:
    """The lexeme spans of one template for one compiled grammar's terminals.

    Parameters
    ----------
    dfas:
        The terminals' automata (state 1 the start, 0 dead).
    pattern:
        The template automaton.
    charge:
        Called with the number of product states visited (raises past the work bound).
    """

    def __init__(
        self, dfas: tuple[ByteDFA, ...], pattern: Pattern, charge: Callable[[int], None]
    ) -> None:
        self.dfas = dfas
        self.pattern = pattern
        self.charge = charge
        self._ends: dict[tuple[int, int], dict[int, tuple[int, int]]] = {}
        self._parents: dict[tuple[int, int], dict[tuple[int, int], tuple[int, int, int]]] = {}

    def ends(self, t: int, p: int) -> dict[int, tuple[int, int]]:
        """The states a lexeme of ``t`` begun at ``p`` can end at, each with the product state
        where the search first met it accepting (for :meth:`word`)."""
        key = (t, p)
        got = self._ends.get(key)
        if got is not None:
            return got
        dfa, pat = self.dfas[t], self.pattern
        rows, acc, out = dfa.rows, dfa.accept_list, dfa.out_bytes
        start = (1, p)
        parents: dict[tuple[int, int], tuple[int, int, int]] = {start: (-1, -1, -1)}
        ends: dict[int, tuple[int, int]] = {}
        frontier = [start]
        while frontier:
            nxt: list[tuple[int, int]] = []
            for d, r in frontier:
                cands = pat.candidates(r, out[d])
                self.charge(1 + len(cands))
                for b in cands:
                    d2 = rows[d][b]
                    if d2 == 0:
                        continue
                    for r2 in pat.step(r, b):
                        node = (d2, r2)
                        if node in parents:
                            continue
                        parents[node] = (d, r, b)
                        nxt.append(node)
                        if acc[d2] and r2 not in ends:
                            ends[r2] = node
            frontier = nxt
        self._ends[key] = ends
        self._parents[key] = parents
        return ends

    def word(self, t: int, p: int, q: int) -> bytes:
        """A shortest word of ``t`` that leads the template from ``p`` to ``q`` (one of
        :meth:`ends`)."""
        node = self.ends(t, p)[q]
        parents = self._parents[(t, p)]
        out = bytearray()
        while True:
            d, r, b = parents[node]
            if b < 0:
                break
            out.append(b)
            node = (d, r)
        return bytes(reversed(out))
