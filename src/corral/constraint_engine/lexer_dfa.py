"""One automaton for all the terminals a parser state expects (a lexer DFA).

Where the Earley set after a lexeme expects several terminals (and the ignored ones), the mask
walk would otherwise walk the token trie once per terminal. Instead the terminals' byte automata
are run in parallel as one product automaton, restricted to the reachable tuples of states (the
classic construction of a scanner generator's DFA from per-token DFAs, as in lex; llguidance's
lexer builds the same object lazily from regex derivatives). Each product state records which
terminals accept in it. Built once per set of terminals and kept in the compiled grammar's
run-time cache (:mod:`corral.constraint_engine.mask_cache`); bounded in size, beyond which the
caller falls back to one walk per terminal. A built automaton is immutable.

:func:`build_lexer_dfa` runs the native construction (``_native.lexer_product``, C) when the
extension is built; :func:`build_lexer_dfa_py` is its Python twin and the specification. Both
number the product states in the same breadth-first order, so their automata are identical
(``tests/unit/test_lexer_product.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from corral.automata.dfa import ByteDFA, row_lists
from corral.automata.native import native_function

__all__ = ["LexerDFA", "build_lexer_dfa", "build_lexer_dfa_native", "build_lexer_dfa_py"]

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
        ``table`` and ``accepting`` as Python lists, for scalar stepping (the rows of a large
        table are converted when first used, :func:`corral.automata.dfa.row_lists`).
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
        object.__setattr__(self, "rows", row_lists(self.table))
        object.__setattr__(self, "accept_list", [bool(a) for a in self.accepting])

    @property
    def nbytes(self) -> int:
        """Estimated memory (arrays and their list copies), for the run-time cache's bound."""
        return int(self.table.nbytes) * 10 + 64 * len(self.accept_terms)


_NATIVE_PRODUCT = native_function("lexer_product")


def build_lexer_dfa(terminals: tuple[int, ...], dfas: list[ByteDFA]) -> LexerDFA | None:
    """Product of ``dfas[t]`` for ``t`` in ``terminals``; ``None`` past the size bound.

    A single terminal is never refused: its product is its own automaton. Native when the
    extension is built (:func:`build_lexer_dfa_native`), else :func:`build_lexer_dfa_py`.
    """
    if _NATIVE_PRODUCT is None:  # pragma: no cover - depends on the build
        return build_lexer_dfa_py(terminals, dfas)
    return build_lexer_dfa_native(terminals, dfas)


def build_lexer_dfa_native(terminals: tuple[int, ...], dfas: list[ByteDFA]) -> LexerDFA | None:
    """:func:`build_lexer_dfa_py` in C (``_native.lexer_product``); the same automaton.

    Raises
    ------
    ImportError
        When the native extension is not built.
    """
    if _NATIVE_PRODUCT is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    tables = [np.ascontiguousarray(dfas[t].table, dtype=np.int32) for t in terminals]
    bound = MAX_LEXER_STATES if len(terminals) > 1 else np.iinfo(np.int32).max
    got = _NATIVE_PRODUCT(tables, int(bound))
    if got is None:
        return None
    table_bytes, tuple_bytes, n = got
    table = np.frombuffer(table_bytes, dtype=np.int32).reshape(n, 256)
    tuples = np.frombuffer(tuple_bytes, dtype=np.int32).reshape(n, len(terminals))
    if terminals:
        accepts = np.stack(
            [dfas[t].accepting[tuples[:, k]] for k, t in enumerate(terminals)], axis=1
        )
    else:
        accepts = np.zeros((n, 0), dtype=bool)
    packed = np.packbits(accepts, axis=1)
    memo: dict[bytes, tuple[int, ...]] = {}
    accept_terms = []
    for i in range(n):
        key = packed[i].tobytes()
        terms = memo.get(key)
        if terms is None:
            terms = memo[key] = tuple(terminals[k] for k in np.flatnonzero(accepts[i]).tolist())
        accept_terms.append(terms)
    return LexerDFA(
        terminals=terminals,
        table=table,
        accepting=np.asarray(accepts.any(axis=1), dtype=bool),
        accept_terms=tuple(accept_terms),
    )


def build_lexer_dfa_py(terminals: tuple[int, ...], dfas: list[ByteDFA]) -> LexerDFA | None:
    """Product of ``dfas[t]`` for ``t`` in ``terminals``; ``None`` past the size bound (the
    specification of :func:`build_lexer_dfa`).

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
