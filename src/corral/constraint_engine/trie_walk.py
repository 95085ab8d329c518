"""Stepping automata down the token trie, one level (one byte position) at a time.

A *walker* is a trie node with an automaton state (and, in the mask walk, the automaton that
owns the state). One level of the walk gathers the children of every walker's node from the
trie's compressed-sparse-row arrays, steps each child's state by the child's byte with one table
lookup, and drops the dead children together with their subtries — the level-synchronous trie
walk of llguidance's and XGrammar's token masks, vectorised with NumPy. Levels with at most
:data:`SMALL` walkers are stepped in plain Python, which is cheaper than NumPy calls on tiny
arrays (:func:`step_lists`); both return the same children in the same order.

:func:`step_level` (on arrays; :func:`step_lists` on Python lists, which it uses for small
frontiers) is the one implementation of that step; :func:`walk_root_py` runs it from the
trie's root to the leaves for one automaton (the cached root walks of
:class:`~corral.constraint_engine.compiler.CompiledGrammar`), and the mask walk
(:mod:`corral.constraint_engine.mask`) runs it on walkers that carry parser configurations.
:func:`walk_root` is the native root walk (``_native.trie_walk``, C) when the extension is
built; :func:`walk_root_py` is its Python twin and specification, and both give the same nodes
in the same order (``tests/unit/test_native_walk.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from corral.automata.native import native_function
from corral.tokenizers.token_trie import TokenTrie

__all__ = [
    "SMALL",
    "Automaton",
    "RootWalk",
    "step_level",
    "step_lists",
    "walk_root",
    "walk_root_native",
    "walk_root_py",
]

SMALL = 48  # frontiers (and walker sets) up to this size are handled in plain Python

RootWalk = tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]


class Automaton(Protocol):
    """A byte automaton with state 0 dead (:class:`~corral.automata.dfa.ByteDFA`, lexers)."""

    @property
    def table(self) -> np.ndarray:
        """``(n_states, 256)`` next-state table."""

    @property
    def accepting(self) -> np.ndarray:
        """``bool`` per state."""

    @property
    def rows(self) -> list[list[int]]:
        """``table`` as nested Python lists."""


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def step_level(
    trie: TokenTrie,
    automata: Sequence[Automaton],
    nodes: np.ndarray,
    which: np.ndarray | None,
    states: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance a frontier of walkers one trie level, with NumPy (for frontiers over SMALL).

    Parameters
    ----------
    trie:
        The token trie.
    automata:
        The automata the walkers run.
    nodes, states:
        Per walker, its trie node and automaton state.
    which:
        Per walker, the index of its automaton in ``automata``; ``None`` when all walkers run
        ``automata[0]``.

    Returns
    -------
    (kids, parent, next_states):
        The children whose automaton state is not dead, for each the index of its walker in
        the frontier, and its state after the child's byte; children are in frontier order,
        each node's children in trie order.
    """
    kids, parent = trie.children(nodes)
    if not kids.shape[0]:
        return kids, parent, _empty()
    byte = trie.node_byte[kids]
    from_states = states[parent]
    if which is None:
        nxt: np.ndarray = automata[0].table[from_states, byte]
    else:
        owner = which[parent]
        kinds = np.unique(owner).tolist()
        if len(kinds) == 1:
            nxt = automata[kinds[0]].table[from_states, byte]
        else:
            nxt = np.zeros(kids.shape[0], dtype=np.int64)
            for a in kinds:
                sel = owner == a
                nxt[sel] = automata[a].table[from_states[sel], byte[sel]]
    keep = np.flatnonzero(nxt)
    return kids[keep], parent[keep], nxt[keep]


def step_lists(
    trie: TokenTrie,
    automata: Sequence[Automaton],
    nodes: list[int],
    which: list[int] | None,
    states: list[int],
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """:func:`step_level` on Python lists, for a few walkers (no NumPy call at all).

    Returns
    -------
    (alive, inner):
        ``alive`` lists the children that stay alive (as ``kids`` of :func:`step_level`);
        ``inner`` lists those of them that have children in turn — the next frontier — as
        ``(kid, next state, walker index)``.
    """
    ptr, ids, byte, nkids = trie.lists()
    alive: list[int] = []
    inner: list[tuple[int, int, int]] = []
    owners = [0] * len(nodes) if which is None else which
    for w, (n, a, st) in enumerate(zip(nodes, owners, states, strict=True)):
        row = automata[a].rows[st]
        for c in ids[ptr[n] : ptr[n + 1]]:
            s2 = row[byte[c]]
            if s2:
                alive.append(c)
                if nkids[c]:
                    inner.append((c, s2, w))
    return alive, inner


_NATIVE_WALK = native_function("trie_walk")


def walk_root(trie: TokenTrie, automaton: Automaton, state: int) -> RootWalk:
    """Walk the whole trie with ``automaton`` started in ``state`` at the root: native when the
    extension is built (:func:`walk_root_native`), else :func:`walk_root_py`."""
    if _NATIVE_WALK is None:  # pragma: no cover - depends on the build
        return walk_root_py(trie, automaton, state)
    return walk_root_native(trie, automaton, state)


def walk_root_native(trie: TokenTrie, automaton: Automaton, state: int) -> RootWalk:
    """:func:`walk_root_py` in C (``_native.trie_walk``, the GIL released); the same result.

    Raises
    ------
    ImportError
        When the native extension is not built.
    """
    if _NATIVE_WALK is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    allowed_b, nodes_b, states_b, ends_b = _NATIVE_WALK(
        trie.child_ptr,
        trie.child_ids,
        trie.node_byte,
        trie.node_tok_ptr,
        trie.node_tok_ids,
        trie.vocab_size,
        np.ascontiguousarray(automaton.table, dtype=np.int32),
        np.ascontiguousarray(automaton.accepting, dtype=bool),
        state,
    )
    allowed = np.frombuffer(allowed_b, dtype=bool)  # read-only: it is cached and shared
    done_nodes = np.frombuffer(nodes_b, dtype=np.int64)
    done_states = np.frombuffer(states_b, dtype=np.int64)
    completing = []
    lo = 0
    for hi in np.frombuffer(ends_b, dtype=np.int64).tolist():
        completing.append((done_nodes[lo:hi], done_states[lo:hi]))
        lo = hi
    return allowed, completing


def walk_root_py(trie: TokenTrie, automaton: Automaton, state: int) -> RootWalk:
    """Walk the whole trie with ``automaton`` started in ``state`` at the root (the
    specification of :func:`walk_root`).

    Returns
    -------
    (allowed, completing):
        ``allowed`` is a boolean array over the tokenizer's vocabulary: the tokens whose bytes
        keep the automaton alive. ``completing[i]`` holds the trie nodes at depth ``i + 1``
        that have children and where the automaton accepts, with their states: where a lexeme
        can end inside a longer token. The arrays are read-only (they are cached and shared).
    """
    automata = (automaton,)
    accepting = automaton.accepting
    acc_list = [bool(a) for a in accepting.tolist()]
    nodes = np.zeros(1, dtype=np.int64)
    states = np.full(1, state, dtype=np.int64)
    alive: list[np.ndarray] = []
    completing: list[tuple[np.ndarray, np.ndarray]] = []
    while nodes.shape[0]:
        if nodes.shape[0] <= SMALL:
            kid_list, inner = step_lists(trie, automata, nodes.tolist(), None, states.tolist())
            if not kid_list:
                break
            alive.append(np.array(kid_list, dtype=np.int64))
            done = [(c, s2) for c, s2, _ in inner if acc_list[s2]]
            completing.append(
                (
                    np.array([c for c, _ in done], dtype=np.int64),
                    np.array([s2 for _, s2 in done], dtype=np.int64),
                )
            )
            nodes = np.array([c for c, _, _ in inner], dtype=np.int64)
            states = np.array([s2 for _, s2, _ in inner], dtype=np.int64)
            continue
        kids, _, nxt = step_level(trie, automata, nodes, None, states)
        if not kids.shape[0]:
            break
        alive.append(kids)
        has_kids = trie.n_children[kids] > 0
        done_mask = accepting[nxt] & has_kids
        completing.append((kids[done_mask], nxt[done_mask]))
        nodes, states = kids[has_kids], nxt[has_kids]
    allowed = np.zeros(trie.vocab_size, dtype=bool)
    if alive:
        allowed[trie.tokens_at(np.concatenate(alive))] = True
    allowed.flags.writeable = False
    for done_nodes, done_states in completing:
        done_nodes.flags.writeable = False
        done_states.flags.writeable = False
    return allowed, completing
