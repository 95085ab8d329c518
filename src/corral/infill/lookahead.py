"""One-byte look-ahead for predictions: do not predict what cannot start where it stands.

Inside a token hole, lexemes may end in the middle of a token (an identifier ending inside
``intx``), and each such place is a state of the template automaton. Earley's prediction adds
every production of a symbol wherever the symbol is awaited, so each of those states would hold
the whole grammar. A production ``B -> γ`` predicted at ``r`` can only ever be used if a lexeme
of some terminal in ``FIRST(γ)`` begins at ``r``, or ``γ`` derives the empty string, or an
ignored lexeme begins at ``r`` (items move over those). So, as the look-ahead of LR(1)/LL(1)
items and the prediction filters of practical Earley parsers (Aycock & Horspool 2002, §5) do,
a production is predicted at ``r`` only when ``γ`` is nullable or some terminal of
``FIRST(γ)`` can read one of the bytes that may leave ``r``. The test is necessary for a
lexeme to begin, so nothing that could be used is left out: the chart stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corral.constraint_engine.compiler import CompiledGrammar
from corral.infill.template import Pattern

__all__ = ["Lookahead"]


class Lookahead:
    """``FIRST`` sets of a compiled grammar's productions, and the terminals that can begin a
    lexeme with a byte (computed once per grammar)."""

    def __init__(self, compiled: CompiledGrammar) -> None:
        tables = compiled.tables
        nxt = tables.dotted_next
        n_nt = len(tables.predictions)
        first_nt: list[set[int]] = [set() for _ in range(n_nt)]
        changed = True
        while changed:  # least fixed point of FIRST over the productions
            changed = False
            for b, ds in enumerate(tables.predictions):
                for d in ds:
                    got = self._first_of(d, nxt, first_nt, tables.nullable)
                    if not got <= first_nt[b]:
                        first_nt[b] |= got
                        changed = True
        self.first: dict[int, frozenset[int]] = {}
        """First dotted item of a production -> ``FIRST`` of its right-hand side."""
        self.nullable: dict[int, bool] = {}
        """First dotted item of a production -> whether its right-hand side is nullable."""
        for ds in tables.predictions:
            for d in ds:
                self.first[d] = frozenset(self._first_of(d, nxt, first_nt, tables.nullable))
                e = d
                while True:
                    sym = nxt[e]
                    if sym is None or sym >= 0 or not tables.nullable[-sym - 1]:
                        break
                    e += 1
                self.nullable[d] = sym is None
        follow_nt: list[set[int]] = [set() for _ in range(n_nt)]
        follow_t: list[set[int]] = [set() for _ in compiled.dfas]
        changed = True
        while changed:  # least fixed point of FOLLOW (terminals that can come next)
            changed = False
            for a, ds in enumerate(tables.predictions):
                for d in ds:
                    e = d
                    while nxt[e] is not None:
                        sym = nxt[e]
                        assert sym is not None
                        after = self._first_of(e + 1, nxt, first_nt, tables.nullable)
                        if self._nullable_from(e + 1, nxt, tables.nullable):
                            after |= follow_nt[a]
                        target = follow_t[sym] if sym >= 0 else follow_nt[-sym - 1]
                        if not after <= target:
                            target |= after
                            changed = True
                        e += 1
        everything = frozenset(range(len(compiled.dfas)))
        self.follow: list[frozenset[int]] = [
            everything if t in tables.ignore else frozenset(f) for t, f in enumerate(follow_t)
        ]
        """Terminal -> the terminals that may come right after one of its lexemes (ignored
        lexemes between them aside; after an ignored lexeme, any)."""
        first_bytes: list[set[int]] = [set() for _ in range(256)]
        for t, dfa in enumerate(compiled.dfas):
            for b in np.flatnonzero(dfa.row(1)).tolist():
                first_bytes[b].add(t)
        self.by_byte: list[frozenset[int]] = [frozenset(ts) for ts in first_bytes]
        """Byte -> the terminals whose automaton can read it first."""
        self.ignore = frozenset(tables.ignore)
        self._after_byte: dict[int, frozenset[int] | None] = {}  # starters of chain states

    @staticmethod
    def _first_of(
        d: int, nxt: tuple[int | None, ...], first_nt: list[set[int]], nullable: tuple[bool, ...]
    ) -> set[int]:
        out: set[int] = set()
        while True:
            sym = nxt[d]
            if sym is None:
                return out
            if sym >= 0:
                out.add(sym)
                return out
            out |= first_nt[-sym - 1]
            if not nullable[-sym - 1]:
                return out
            d += 1

    @staticmethod
    def _nullable_from(d: int, nxt: tuple[int | None, ...], nullable: tuple[bool, ...]) -> bool:
        while True:
            sym = nxt[d]
            if sym is None:
                return True
            if sym >= 0 or not nullable[-sym - 1]:
                return False
            d += 1

    def starters(self, pattern: Pattern, r: int) -> frozenset[int] | None:
        """The terminals that may begin a lexeme at ``r`` (a superset), or ``None`` for "any":
        where every byte may follow, or an ignored terminal may begin. Only the bytes leaving
        ``r`` itself count: a lexeme begun after an ε-move from ``r`` begins at the state the
        ε-move leads to, which holds every item ``r`` holds (spans end at whole ε-closures)."""
        if pattern.root_move(r) is not None or (r < len(pattern.loop) and pattern.loop[r]):
            return None
        if r < len(pattern.chain_byte):  # one fixed byte, or none, leaves a chain state
            b = pattern.chain_byte[r]
            if b not in self._after_byte:
                self._after_byte[b] = self._starting(() if b < 0 else (b,))
            return self._after_byte[b]
        return self._starting(pattern.candidates(r, range(256)))

    def _starting(self, following: Sequence[int]) -> frozenset[int] | None:
        """The terminals that may begin with one of the bytes ``following`` (``None``: an
        ignored one may, so any may)."""
        out: set[int] = set()
        for b in following:
            out |= self.by_byte[b]
        if out & self.ignore:
            return None
        return frozenset(out)
