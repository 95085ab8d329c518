"""Where one lexeme can take a template automaton: the terminal × template product.

For terminal ``t`` (its byte automaton, restricted to bytes the tokenizer can spell) and a state
``p`` of the template automaton, :meth:`Spans.ends` gives every state ``q`` such that some word of
``t`` leads the template from ``p`` to ``q`` — breadth-first search of the product automaton from
``(start, p)`` (the intersection of a DFA with an NFA, Rabin & Scott 1959), which also yields the
shortest such word, kept for completions. Results are computed on demand and memoised per
``(t, p)``; every product state visited counts against the check's work bound.

At a token boundary inside a token hole (a trie root), the search moves a whole token at a time
(:mod:`.token_moves`): to the next boundary in every automaton state some token leads to, and to
the nodes inside a token where the lexeme may end; it walks bytes only from inside a token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from corral.automata.dfa import ByteDFA
from corral.infill.template import Pattern
from corral.infill.token_moves import TokenMoves, Walk

__all__ = ["Spans", "Step"]

Step = int | npt.NDArray[np.int64] | None
"""How one product state follows another (:meth:`Spans.successors`)."""

_NONE: Mapping[int, tuple[int, int]] = MappingProxyType({})
"""No end (shared, read-only)."""


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
    moves:
        The grammar's whole-token moves (shared by the checks of one canvas).
    """

    def __init__(
        self,
        dfas: tuple[ByteDFA, ...],
        pattern: Pattern,
        charge: Callable[[int], None],
        moves: TokenMoves,
    ) -> None:
        self.dfas = dfas
        self.pattern = pattern
        self.charge = charge
        self.moves = moves
        self._ends: dict[tuple[int, int], Mapping[int, tuple[int, int]]] = {}
        self._parents: dict[
            tuple[int, int],
            tuple[dict[int, tuple[int, int]], dict[tuple[int, int], tuple[int, int, Step]]],
        ] = {}

    def ends(self, t: int, p: int) -> Mapping[int, tuple[int, int]]:
        """The states a lexeme of ``t`` begun at ``p`` can end at, each with a product state
        where the search met it accepting (:meth:`word` searches again, with parents)."""
        key = (t, p)
        got = self._ends.get(key)
        if got is not None:
            return got
        pat = self.pattern
        if p < len(pat.chain_byte) and not pat.loop[p]:  # one fixed byte (or none) leaves p
            b = pat.chain_byte[p]
            if b < 0 or self.dfas[t].rows[1][b] == 0:
                self._ends[key] = _NONE
                return _NONE
        acc, rows = self.dfas[t].accept_list, self.dfas[t].rows
        chain, loop, n_chain, entries = pat.chain_byte, pat.loop, len(pat.chain_byte), pat.entries
        start = (1, p)
        seen = {start}
        ends: dict[int, tuple[int, int]] = {}
        frontier = [start]
        while frontier:
            nxt: list[tuple[int, int]] = []
            for d, r in frontier:
                if r < n_chain and not loop[r]:  # fixed bytes: one successor each, followed
                    steps = 1
                    while chain[r] >= 0:
                        b = chain[r]
                        steps += 2
                        d = rows[d][b]
                        if d == 0:
                            break
                        if r + 1 < n_chain and not loop[r + 1] and r + 1 not in entries:
                            r += 1  # the next state of the chain, with no ε-move or loop
                            if (d, r) in seen:
                                break
                            seen.add((d, r))
                            if acc[d] and r not in ends and not self._merged(t, r):
                                ends[r] = (d, r)
                            continue
                        for r2 in pat.step(r, b):  # a hole or a loop ahead: the general search
                            if (d, r2) not in seen:
                                seen.add((d, r2))
                                nxt.append((d, r2))
                                if acc[d] and r2 not in ends and not self._merged(t, r2):
                                    ends[r2] = (d, r2)
                        break
                    self.charge(steps)
                    continue
                if r < n_chain:  # a loop: any byte stays, so one step per next state
                    targets = self.moves.targets(t, d)
                    self.charge(2 + len(targets))
                    moves = [(d2, r2) for d2 in targets for r2 in pat.closure(r)]
                    if chain[r] >= 0 and rows[d][chain[r]]:
                        moves += [(rows[d][chain[r]], r2) for r2 in pat.closure(r + 1)]
                    for node in moves:
                        if node not in seen:
                            seen.add(node)
                            nxt.append(node)
                            d2, r2 = node
                            if acc[d2] and r2 not in ends and not self._merged(t, r2):
                                ends[r2] = node
                    continue
                if pat.root_move(r) is not None:
                    self._across(t, d, r, seen, ends, nxt)
                    continue
                if (d, r) == start:  # begun inside a token: the rest of its tokens at once
                    self._below(t, d, r, seen, ends, nxt)
                    continue
                for node, how in self.successors(t, d, r):
                    if node in seen:
                        continue
                    seen.add(node)
                    d2, r2 = node
                    if how is not None:  # a byte: walked on
                        nxt.append(node)
                    if r2 in ends or not acc[d2]:  # (an end inside a token accepts)
                        continue
                    if not isinstance(how, int) or not self._merged(t, r2):
                        ends[r2] = node
            frontier = nxt
        self._ends[key] = ends
        return ends

    def _across(
        self,
        t: int,
        d0: int,
        r0: int,
        seen: set[tuple[int, int]],
        ends: dict[int, tuple[int, int]],
        out: list[tuple[int, int]],
    ) -> None:
        """:meth:`ends`'s search from ``(d0, r0)``, ``r0`` a token boundary of a token hole,
        across the hole one whole token at a time (what :meth:`successors` yields, in one loop
        per slot rather than one search step per product state). Product states it reaches
        past the hole's next boundaries (its exit, a following hole) go to ``out``."""
        pat, acc = self.pattern, self.dfas[t].accept_list
        hole = pat._hole_of(r0)
        nodes = hole.nodes
        moves = self.moves.for_trie(hole.trie)
        slot = (r0 - hole.base) // nodes
        level = [d0]
        while level:
            copy = hole.base + slot * nodes
            slot += 1
            target = hole.base + slot * nodes if slot < hole.slots else hole.exit
            after = pat.closure(target)
            nxt: list[int] = []
            for d in level:
                walk = moves.at(t, d, self.charge)
                self.charge(1 + len(walk.whole) * len(after) + len(walk.inner))
                for d2 in walk.whole:
                    for r2 in after:
                        node = (d2, r2)
                        if node in seen:
                            continue
                        seen.add(node)
                        if acc[d2] and r2 not in ends:
                            ends[r2] = node
                        if r2 == target and slot < hole.slots:
                            nxt.append(d2)
                        else:
                            out.append(node)
                _inner_ends(walk, copy, seen, ends)
            level = nxt

    def _below(
        self,
        t: int,
        d: int,
        r: int,
        seen: set[tuple[int, int]],
        ends: dict[int, tuple[int, int]],
        out: list[tuple[int, int]],
    ) -> None:
        """:meth:`ends`'s search from ``(d, r)``, ``r`` inside a token of a token hole: the
        subtrie below ``r``'s node walked at once (:meth:`TokenMoves.below`) instead of a
        search step per node. Its lexeme ends inside tokens are ends; where its tokens end, the
        product states after them (the next boundary, or the hole's exit) go to ``out``."""
        pat, acc = self.pattern, self.dfas[t].accept_list
        hole = pat._hole_of(r)
        j, inside = divmod(r - hole.base, hole.nodes)
        copy = hole.base + j * hole.nodes
        walk = self.moves.for_trie(hole.trie).below(t, d, inside, self.charge)
        after = pat.closure(hole.base + (j + 1) * hole.nodes if j + 1 < hole.slots else hole.exit)
        self.charge(1 + len(walk.whole) * len(after) + len(walk.inner))
        for d2 in walk.whole:
            for r2 in after:
                node = (d2, r2)
                if node in seen:
                    continue
                seen.add(node)
                out.append(node)
                if acc[d2] and r2 not in ends and not self._merged(t, r2):
                    ends[r2] = node
        _inner_ends(walk, copy, seen, ends)

    def _search(
        self, t: int, p: int
    ) -> tuple[dict[int, tuple[int, int]], dict[tuple[int, int], tuple[int, int, Step]]]:
        """Breadth-first search of the product from ``(start, p)`` one :meth:`successors` step
        at a time, with parent pointers (for :meth:`word`): the same ends as :meth:`ends`."""
        acc = self.dfas[t].accept_list
        start = (1, p)
        parents: dict[tuple[int, int], tuple[int, int, Step]] = {start: (-1, -1, None)}
        ends: dict[int, tuple[int, int]] = {}
        frontier = [start]
        while frontier:
            nxt: list[tuple[int, int]] = []
            for d, r in frontier:
                for node, how in self.successors(t, d, r):
                    if node in parents:
                        continue
                    parents[node] = (d, r, how)
                    d2, r2 = node
                    if how is not None:  # a byte or a whole token: walked on
                        nxt.append(node)
                    if r2 in ends or not acc[d2]:  # (an end inside a token accepts)
                        continue
                    if not isinstance(how, int) or not self._merged(t, r2):
                        ends[r2] = node
            frontier = nxt
        return ends, parents

    def successors(self, t: int, d: int, r: int) -> Iterator[tuple[tuple[int, int], Step]]:
        """The product states ``(d', r')`` that follow ``(d, r)`` for terminal ``t``, each with
        how: a byte (``int``) from inside a token or a fixed part; at a token boundary, the
        trie nodes of the whole tokens that lead there, or ``None`` for a lexeme end inside a
        token (a state not walked further: :mod:`.token_moves`)."""
        pat = self.pattern
        root = pat.root_move(r)
        if root is not None:
            walk = self.moves.for_trie(pat._hole_of(r).trie).at(t, d, self.charge)
            after = pat.closure(root[0])
            self.charge(1 + len(walk.whole) * len(after) + len(walk.inner))
            for d2, tokens in walk.whole.items():
                for r2 in after:
                    yield (d2, r2), tokens
            for inside, d2 in walk.inner:
                yield (d2, root[1] + inside), None
            return
        dfa = self.dfas[t]
        cands = pat.candidates(r, dfa.out_bytes[d])
        self.charge(1 + len(cands))
        for b in cands:
            d2 = dfa.rows[d][b]
            if d2 != 0:
                for r2 in pat.step(r, b):
                    yield (d2, r2), b

    def _merged(self, t: int, r: int) -> bool:
        """Whether a lexeme of ``t`` ending at ``r`` may be left out
        (:meth:`TokenMoves.dropped_before` the bytes that may leave ``r``): never at the final
        state, a token boundary or a ``Hole()``. A state no byte leaves (a token hole's entry)
        is always left out: it holds nothing its ε-successors, where the lexeme ends too, do
        not."""
        pat = self.pattern
        if r == pat.final or pat.root_move(r) is not None:
            return False
        if r < len(pat.chain_byte):
            if pat.loop[r]:
                return False
            b = pat.chain_byte[r]
            return self.moves.dropped_before(t, (b,) if b >= 0 else ())
        hole = pat._hole_of(r)
        return self.moves.for_trie(hole.trie).dropped_end(t, (r - hole.base) % hole.nodes)

    def word(self, t: int, p: int, q: int) -> bytes:
        """A shortest word of ``t`` that leads the template from ``p`` to ``q`` (one of
        :meth:`ends`)."""
        key = (t, p)
        got = self._parents.get(key)
        if got is None:
            got = self._parents[key] = self._search(t, p)
        node, parents = got[0][q], got[1]
        pat = self.pattern
        chunks: list[bytes] = []
        while True:
            d, r, how = parents[node]
            if d < 0:
                break
            if isinstance(how, int):
                chunks.append(bytes((how,)))
            elif how is not None:  # a whole token from the boundary r
                moves = self.moves.for_trie(pat._hole_of(r).trie)
                chunks.append(moves.node_bytes(int(how[0])))
            else:
                hole = pat._hole_of(node[1])
                inside = (node[1] - hole.base) % hole.nodes
                chunks.append(self.moves.for_trie(hole.trie).node_bytes(inside))
            node = (d, r)
        return b"".join(reversed(chunks))


def _inner_ends(
    walk: Walk, copy: int, seen: set[tuple[int, int]], ends: dict[int, tuple[int, int]]
) -> None:
    """The lexeme ends inside tokens of ``walk``, in the trie copy whose root is ``copy``."""
    for inside, d2 in walk.inner:
        node = (d2, copy + inside)
        if node not in seen:
            seen.add(node)
            ends.setdefault(copy + inside, node)
