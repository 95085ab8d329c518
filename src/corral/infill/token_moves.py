"""Whole-token moves of a lexer automaton: a token hole crossed one token at a time.

A lexeme that enters a token hole at a trie root (a token boundary) either reads whole tokens
and goes on, or ends inside a token. Walking the trie byte by byte for every such lexeme, slot
after slot, multiplies the trie's size by the hole's length. Instead, as llguidance walks its
token trie once per lexer state, :class:`TokenMoves` walks the trie once per (terminal, automaton
state) pair, level by level with NumPy, and keeps

* ``whole``: for each automaton state ``d'``, the trie nodes of the tokens that lead ``d`` to
  ``d'`` (alive all along) — a move from a root to the next root in one step;
* ``inner``: the nodes (with children) where the automaton accepts: a lexeme may end there,
  inside a token, and the next one begins at that node.

So a hole of ``n`` slots costs a product state per (slot, automaton state) instead of per (slot,
trie node), and mid-token states appear only where a lexeme ends inside a token. The walks depend
only on the compiled grammar and are kept for the lifetime of the :class:`TokenMoves` object (a
canvas keeps one for all its checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from corral.automata.dfa import ByteDFA
from corral.automata.native import native_function
from corral.constraint_engine.compiler import CompiledGrammar
from corral.infill.lookahead import Lookahead
from corral.tokenizers.token_trie import TokenTrie

__all__ = ["TokenMoves", "Walk"]

_NODES_PER_STEP = 64
"""Nodes of a vectorised trie level counted as one step of work (the native walk counts the
same: ``csrc/trie_walk.c``)."""
_NATIVE_WALK = native_function("trie_walk")


@dataclass(frozen=True)
class Walk:
    """The trie walked from the root in one automaton state (see the module docstring).

    Attributes
    ----------
    whole:
        Automaton state after a whole token -> the trie nodes where such tokens end.
    inner:
        ``(node, state)``: nodes with children where the automaton accepts, in ``state``.
    """

    whole: dict[int, npt.NDArray[np.int64]]
    inner: tuple[tuple[int, int], ...]


class TokenMoves:
    """Trie walks per (terminal, automaton state) of one compiled grammar over ``trie`` (the
    grammar's own by default), made on demand, and the grammar's prediction look-ahead: what
    the checks of one grammar share."""

    def __init__(self, compiled: CompiledGrammar, trie: TokenTrie | None = None) -> None:
        self.compiled = compiled
        self.trie = compiled.trie if trie is None else trie
        self._walks: dict[tuple[int, int], Walk] = {}
        self._below: dict[tuple[int, int, int], Walk] = {}
        self._lookahead: Lookahead | None = None
        self._absorbs: dict[tuple[int, int, int], bool] = {}
        self._dropped: dict[tuple[int, tuple[int, ...]], bool] = {}
        self._targets: dict[tuple[int, int], tuple[int, ...]] = {}
        self._others: dict[int, TokenMoves] = {}

    def for_trie(self, trie: TokenTrie) -> TokenMoves:
        """The moves of the same grammar over ``trie``: these when it is theirs, else made once
        and kept. They share the look-ahead and the absorption, useless-end and target answers,
        which depend on the grammar and the bytes alone (a narrowed vocabulary: :mod:`.tiers`)."""
        if trie is self.trie:
            return self
        got = self._others.get(id(trie))
        if got is None or got.trie is not trie:
            got = self._others[id(trie)] = TokenMoves(self.compiled, trie)
            got._lookahead = self.lookahead
            got._absorbs = self._absorbs
            got._dropped = self._dropped
            got._targets = self._targets
        return got

    @property
    def lookahead(self) -> Lookahead:
        """The grammar's prediction look-ahead (:mod:`.lookahead`), made on first use."""
        if self._lookahead is None:
            self._lookahead = Lookahead(self.compiled)
        return self._lookahead

    def absorbs(self, a: int, b: int, c: int) -> bool:
        """Whether ``L(a)·L(b) ⊆ L(c)`` for terminals ``a``, ``b``, ``c``, decided once: the
        states of ``c`` after the words of ``a`` (pairs from both starts), then from each of
        them, ``b``'s words never accept where ``c``'s do not."""
        key = (a, b, c)
        got = self._absorbs.get(key)
        if got is None:
            dfas = self.compiled.dfas
            after = {y for x, y in _pairs(dfas[a], dfas[c], {(1, 1)}) if dfas[a].accept_list[x]}
            acc_b, acc_c = dfas[b].accept_list, dfas[c].accept_list
            got = all(
                not acc_b[x] or acc_c[y]
                for x, y in _pairs(dfas[b], dfas[c], {(1, y) for y in after})
            )
            self._absorbs[key] = got
        return got

    def targets(self, t: int, d: int) -> tuple[int, ...]:
        """The states terminal ``t``'s automaton goes to from ``d`` on some byte (each once):
        where a lexeme at a ``Hole()``, which reads any byte, can be next."""
        key = (t, d)
        got = self._targets.get(key)
        if got is None:
            got = self._targets[key] = tuple(sorted(set(self.compiled.dfas[t].rows[d]) - {0}))
        return got

    def dropped_end(self, t: int, node: int) -> bool:
        """Whether a lexeme of ``t`` ending inside a token at trie ``node`` is of no use
        (:meth:`dropped_before` the bytes that follow ``node`` in the trie)."""
        child_ptr, child_ids, node_byte, _ = self.trie.lists()
        return self.dropped_before(
            t, tuple(node_byte[c] for c in child_ids[child_ptr[node] : child_ptr[node + 1]])
        )

    def dropped_before(self, t: int, following: tuple[int, ...]) -> bool:
        """Whether a lexeme of ``t`` ending where only the bytes ``following`` may come next
        (and the text cannot end) is of no use, because:

        * no terminal that may follow ``t`` in the grammar, nor an ignored one, can read one of
          those bytes first; or
        * every split there merges into one lexeme: each terminal ``u`` that can read one of
          them first is absorbed — ``t`` ignored and ``L(t)·L(u) ⊆ L(u)`` (the ignored ``t`` is
          part of the next lexeme), or ``u`` ignored and ``L(t)·L(u) ⊆ L(t)`` (the ignored
          ``u`` is more of ``t``). Whitespace inside whitespace tokens is the case that matters.
        """
        key = (t, following)
        got = self._dropped.get(key)
        if got is None:
            look = self.lookahead
            starters = frozenset().union(*(look.by_byte[b] for b in following))
            got = starters.isdisjoint(look.follow[t] | look.ignore) or all(
                self.absorbs(t, u, u) if t in look.ignore
                else u in look.ignore and self.absorbs(t, u, t)
                for u in starters
            )  # fmt: skip
            self._dropped[key] = got
        return got

    def node_bytes(self, node: int) -> bytes:
        """The bytes from the trie root to ``node``."""
        trie = self.trie
        parent = trie.memo("parent", lambda: _parents(trie.child_ptr, trie.child_ids))
        out = bytearray()
        while node > 0:
            out.append(int(trie.node_byte[node]))
            node = int(parent[node])
        return bytes(reversed(out))

    def at(self, t: int, d: int, charge: Callable[[int], None]) -> Walk:
        """The walk of terminal ``t``'s automaton from state ``d`` (``charge`` counts the work
        of a walk made now)."""
        key = (t, d)
        got = self._walks.get(key)
        if got is None:
            got = self._walks[key] = self._walk(t, d, charge)
        return got

    def below(self, t: int, d: int, node: int, charge: Callable[[int], None]) -> Walk:
        """The walk of terminal ``t``'s automaton from state ``d`` down the subtrie below
        ``node`` (a lexeme begun inside a token): the rest of the tokens through ``node``."""
        key = (t, d, node)
        got = self._below.get(key)
        if got is None:
            got = self._below[key] = self._walk(t, d, charge, node)
        return got

    def _walk(self, t: int, d: int, charge: Callable[[int], None], node: int = 0) -> Walk:
        if _NATIVE_WALK is None:  # pragma: no cover - depends on the build
            return self._walk_py(t, d, charge, node)
        return self._walk_native(t, d, charge, node)

    def _walk_native(self, t: int, d: int, charge: Callable[[int], None], node: int = 0) -> Walk:
        """:meth:`_walk_py` in C (``_native.trie_walk`` with ``moves``, the GIL released): the
        same walk, charged the same work (all at once, after the walk)."""
        if _NATIVE_WALK is None:  # pragma: no cover - depends on the build
            raise ImportError("corral's native extension is not built")
        trie = self.trie
        dfa = self.compiled.dfas[t]
        got = _NATIVE_WALK(
            trie.child_ptr, trie.child_ids, trie.node_byte, trie.node_tok_ptr, trie.node_tok_ids,
            trie.vocab_size, dfa.table, dfa.accepting, d, True, node,
        )  # fmt: skip
        charge(got[7])
        done_nodes = np.frombuffer(got[1], dtype=np.int64).tolist()
        done_states = np.frombuffer(got[2], dtype=np.int64).tolist()
        inner = tuple(
            (n, s)
            for n, s in zip(done_nodes, done_states, strict=True)
            if not self.dropped_end(t, n)
        )
        nodes = np.frombuffer(got[4], dtype=np.int64)
        whole: dict[int, npt.NDArray[np.int64]] = {}
        lo = 0
        for state, hi in zip(
            np.frombuffer(got[5], dtype=np.int64).tolist(),
            np.frombuffer(got[6], dtype=np.int64).tolist(),
            strict=True,
        ):
            whole[state] = nodes[lo:hi]
            lo = hi
        return Walk(whole, inner)

    def _walk_py(self, t: int, d: int, charge: Callable[[int], None], node: int = 0) -> Walk:
        """The trie below ``node`` (the root: all of it) walked level by level with NumPy from
        state ``d`` of terminal ``t``'s automaton (the specification of :meth:`_walk_native`):
        each level charged ``1 + children // _NODES_PER_STEP`` steps."""
        trie = self.trie
        dfa = self.compiled.dfas[t]
        table, accepting = dfa.table, dfa.accepting
        tok_ptr, n_children = trie.node_tok_ptr, trie.n_children
        nodes = np.full(1, node, dtype=np.int64)
        states = np.full(1, d, dtype=np.int64)
        end_nodes: list[npt.NDArray[np.int64]] = []
        end_states: list[npt.NDArray[np.int64]] = []
        inner: list[tuple[int, int]] = []
        while nodes.shape[0]:
            kids, parent = trie.children(nodes)
            charge(1 + kids.shape[0] // _NODES_PER_STEP)
            nxt = table[states[parent], trie.node_byte[kids]].astype(np.int64)
            alive = nxt != 0
            kids, nxt = kids[alive], nxt[alive]
            ends = tok_ptr[kids + 1] > tok_ptr[kids]
            end_nodes.append(kids[ends])
            end_states.append(nxt[ends])
            more = n_children[kids] > 0
            acc = more & accepting[nxt]
            inner.extend(
                (n, s)
                for n, s in zip(kids[acc].tolist(), nxt[acc].tolist(), strict=True)
                if not self.dropped_end(t, n)
            )
            nodes, states = kids[more], nxt[more]
        all_nodes = np.concatenate(end_nodes) if end_nodes else np.zeros(0, dtype=np.int64)
        all_states = np.concatenate(end_states) if end_states else np.zeros(0, dtype=np.int64)
        return Walk(_by_state(all_nodes, all_states), tuple(inner))


def _by_state(
    nodes: npt.NDArray[np.int64], states: npt.NDArray[np.int64]
) -> dict[int, npt.NDArray[np.int64]]:
    """``nodes`` grouped by their ``states`` (each group in the order given)."""
    whole: dict[int, npt.NDArray[np.int64]] = {}
    if nodes.shape[0]:
        order = np.argsort(states, kind="stable")
        s_sorted, n_sorted = states[order], nodes[order]
        keys, starts = np.unique(s_sorted, return_index=True)
        bounds = [*starts.tolist(), s_sorted.shape[0]]
        for k, key in enumerate(keys.tolist()):
            whole[key] = n_sorted[bounds[k] : bounds[k + 1]]
    return whole


def _pairs(x: ByteDFA, y: ByteDFA, start: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs of states of ``x`` and ``y`` the same bytes reach from ``start`` (``x``
    alive; ``y`` may be dead, 0)."""
    seen = set(start)
    todo = list(start)
    while todo:
        a, b = todo.pop()
        for byte in x.out_bytes[a]:
            pair = (x.rows[a][byte], y.rows[b][byte])
            if pair not in seen:
                seen.add(pair)
                todo.append(pair)
    return seen


def _parents(child_ptr: npt.NDArray[np.int64], child_ids: npt.NDArray[np.int64]) -> np.ndarray:
    parent = np.zeros(child_ids.shape[0] + 1, dtype=np.int64)
    counts = np.diff(child_ptr)
    parent[child_ids] = np.repeat(np.arange(counts.shape[0]), counts)
    return parent
