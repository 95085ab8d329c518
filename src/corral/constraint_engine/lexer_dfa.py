"""One automaton for all the terminals a parser state expects (a lexer DFA).

Where the Earley set after a lexeme expects several terminals (and the ignored ones), the mask
walk would otherwise walk the token trie once per terminal. Instead the terminals' byte automata
are run in parallel as one product automaton, restricted to the reachable tuples of states (the
classic construction of a scanner generator's DFA from per-token DFAs, as in lex; llguidance's
lexer builds the same object lazily from regex derivatives). Each product state records which
terminals accept in it. Built once per set of terminals and kept in the compiled grammar's
run-time cache (:mod:`corral.constraint_engine.mask_cache`); bounded in size, beyond which the
caller falls back to one walk per terminal. A built automaton is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from corral.automata.dfa import ByteDFA

__all__ = ["LexerDFA", "build_lexer_dfa"]

MAX_LEXER_STATES = 4096


@dataclass(frozen=True, eq=False)
class LexerDFA:
    """Product automaton of several terminals (state 0 dead, 1 initial); immutable.

    Attributes
    ----------
    terminals:
        The terminals it lexes (sorted).
    table:
        ``int32`` ``(n_states, 256)``, read-only.
    accepting:
        ``bool`` per state: some terminal accepts.
    accept_terms:
        Per state, the terminals that accept.
    rows, accept_list:
        ``table`` and ``accepting`` as Python lists, for scalar stepping.
    """

    terminals: tuple[int, ...]
    table: np.ndarray
    accepting: np.ndarray
    accept_terms: tuple[tuple[int, ...], ...]
    rows: list[list[int]] = field(init=False, repr=False)
    accept_list: list[bool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.table.flags.writeable = False
        self.accepting.flags.writeable = False
        object.__setattr__(self, "rows", self.table.tolist())
        object.__setattr__(self, "accept_list", [bool(a) for a in self.accepting])

    @property
    def nbytes(self) -> int:
        """Estimated memory (arrays and their list copies), for the run-time cache's bound."""
        return int(self.table.nbytes) * 10 + 64 * len(self.accept_terms)


def build_lexer_dfa(terminals: tuple[int, ...], dfas: list[ByteDFA]) -> LexerDFA | None:
    """Product of ``dfas[t]`` for ``t`` in ``terminals``; ``None`` past the size bound.

    A single terminal is never refused: its product is its own automaton.
    """
    parts = [dfas[t] for t in terminals]
    start = tuple(1 for _ in parts)
    ids: dict[tuple[int, ...], int] = {start: 1}
    order: list[tuple[int, ...]] = [tuple(0 for _ in parts), start]
    rows: list[list[int]] = [[0] * 256]
    i = 1
    while i < len(order):
        cur = order[i]
        row = [0] * 256
        live = [(k, parts[k].rows[s]) for k, s in enumerate(cur) if s]
        for b in range(256):
            nxt = [0] * len(parts)
            any_live = False
            for k, prow in live:
                s2 = prow[b]
                if s2:
                    nxt[k] = s2
                    any_live = True
            if not any_live:
                continue
            key = tuple(nxt)
            sid = ids.get(key)
            if sid is None:
                sid = len(order)
                if sid >= MAX_LEXER_STATES and len(parts) > 1:
                    return None
                ids[key] = sid
                order.append(key)
            row[b] = sid
        rows.append(row)
        i += 1
    accept_terms = tuple(
        tuple(terminals[k] for k, s in enumerate(st) if s and parts[k].accept_list[s])
        for st in order
    )
    return LexerDFA(
        terminals=terminals,
        table=np.array(rows, dtype=np.int32),
        accepting=np.array([bool(a) for a in accept_terms], dtype=bool),
        accept_terms=accept_terms,
    )
