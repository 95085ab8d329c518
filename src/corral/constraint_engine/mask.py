"""Token masks: which tokens can extend the current parse.

A token is allowed when its bytes can be consumed from the current state: some lexer thread
(a terminal's automaton, started where the parser expected that terminal) either stays alive
through all of the token's bytes, or reaches an accepting state inside the token, after which
the parser — advanced over that lexeme by an Earley scan — must be able to consume the rest.
Because lexing is nondeterministic (every split into terminals counts), both continuations are
explored.

The walk is over the token trie, one level at a time (:mod:`corral.constraint_engine.trie_walk`).
The current lexer threads walk the whole trie from the root; those walks do not depend on the
parse and are kept per ``(terminal, state)`` in the compiled grammar's run-time cache
(:meth:`CompiledGrammar.root_walk`). Where lexemes end inside tokens, the
walk goes on breadth-first, one trie level (one byte position) at a time, as in Earley's
algorithm: all lexemes ending at a node are merged into the one Earley set of that node (nodes
with equal sets of ending lexemes share it, built once per mask), and the walkers alive at a
node are deduplicated as ``(node, Earley set, lexer automaton, state)``. A walker runs the
product automaton of every terminal its Earley set expects
(:mod:`corral.constraint_engine.lexer_dfa`). The work is thus bounded by the trie size times
the number of distinct parser configurations, however many ways a token splits into lexemes.

The Earley sets of trie nodes are pushed onto a :class:`~corral.constraint_engine.earley.SetOverlay`
above the matcher's stack, which is only read. This is the reference ("Python twin") mask: exact,
and the contract a native engine must match bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from corral.constraint_engine.earley import EarleySet, SetOverlay, equal_copy, scan_kernel
from corral.constraint_engine.trie_walk import SMALL, step_level, step_lists

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar
    from corral.constraint_engine.lexer_dfa import LexerDFA

__all__ = ["Thread", "compute_allowed_tokens"]

Thread = tuple[int, int, int]  # (origin position, terminal, automaton state)


class _Walk:
    """One mask computation: lexeme ends pending by depth, configurations, walkers.

    Walkers are rows ``(node, configuration, lexer, state)``: ``configuration`` is the position
    id of an Earley set in :attr:`sets`, ``lexer`` an index into :attr:`lexers` (this walk's own
    numbering of the cached lexer automata).
    """

    def __init__(self, cg: CompiledGrammar, sets: Sequence[EarleySet | None]) -> None:
        self.cg = cg
        self.sets = SetOverlay(sets)
        self.sources: list[tuple[int, int]] = []
        self.source_ids: dict[tuple[int, int], int] = {}
        self.pending: dict[int, list[tuple[np.ndarray, int]]] = {}
        self.configs: dict[tuple[int, ...], int] = {}
        self.config_lexers: dict[int, tuple[int, ...]] = {}
        self.lexers: list[LexerDFA] = []
        self.lexer_ids: dict[tuple[int, ...], int] = {}
        self.marked: list[np.ndarray] = []

    def register(self, depth: int, nodes: np.ndarray, origin: int, terminal: int) -> None:
        """Lexemes of ``terminal`` begun at set ``origin`` end at ``nodes`` (at ``depth``)."""
        key = (origin, terminal)
        sid = self.source_ids.get(key)
        if sid is None:
            sid = self.source_ids[key] = len(self.sources)
            self.sources.append(key)
        self.pending.setdefault(depth, []).append((nodes, sid))

    def config(self, key: tuple[int, ...]) -> int:
        """Position id of the Earley set after the lexemes of source ids ``key``."""
        got = self.configs.get(key)
        if got is not None:
            return got
        cg, sets = self.cg, self.sets
        kernel = []
        copies: list[EarleySet] = []
        copy_pos: list[int] = []
        for sid in key:
            origin, terminal = self.sources[sid]
            src = sets[origin]
            assert src is not None
            if terminal in cg.ignore_set:
                if src not in copies:
                    copies.append(src)
                    copy_pos.append(origin)
            else:
                kernel.extend(scan_kernel(src, terminal))
        if not kernel and len(copies) == 1:
            got = copy_pos[0]
        else:
            got = sets.push_closure(cg.tables, kernel, copies)
            closed = sets[got]
            assert closed is not None
            same = equal_copy(closed, copies) if cg.unique is None else None
            if same is not None:
                got = copy_pos[same]
        self.configs[key] = got
        return got

    def lexers_of(self, pos: int) -> tuple[int, ...]:
        """This walk's ids of the lexers of the terminals the set at ``pos`` expects."""
        got = self.config_lexers.get(pos)
        if got is None:
            eset = self.sets[pos]
            assert eset is not None
            terms = eset.expected
            ids = []
            for lexer in self.cg.lexers_for(terms) if terms else ():
                lid = self.lexer_ids.get(lexer.terminals)
                if lid is None:
                    lid = self.lexer_ids[lexer.terminals] = len(self.lexers)
                    self.lexers.append(lexer)
                ids.append(lid)
            got = self.config_lexers[pos] = tuple(ids)
        return got

    def groups(self, depth: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
        """Nodes where lexemes end at ``depth``, grouped by the set of lexemes ending there."""
        entries = self.pending.pop(depth)
        if len(entries) == 1:
            nodes, sid = entries[0]
            return [((sid,), nodes)]
        if sum(n.shape[0] for n, _ in entries) <= SMALL:
            per_node: dict[int, set[int]] = {}
            for n, sid in entries:
                for node in n.tolist():
                    per_node.setdefault(node, set()).add(sid)
            keyed: dict[tuple[int, ...], list[int]] = {}
            for node, sids in per_node.items():
                keyed.setdefault(tuple(sorted(sids)), []).append(node)
            return [(k, np.array(v, dtype=np.int64)) for k, v in keyed.items()]
        all_nodes = np.concatenate([n for n, _ in entries])
        all_src = np.repeat(
            np.array([sid for _, sid in entries], dtype=np.int64),
            [n.shape[0] for n, _ in entries],
        )
        n_src = len(self.sources)
        pairs = np.unique(all_nodes * n_src + all_src)
        all_nodes, all_src = pairs // n_src, pairs % n_src
        uniq, starts, counts = np.unique(all_nodes, return_index=True, return_counts=True)
        out: list[tuple[tuple[int, ...], np.ndarray]] = []
        single = counts == 1
        if single.any():
            s_nodes, s_src = uniq[single], all_src[starts[single]]
            for sid in np.unique(s_src).tolist():
                out.append(((int(sid),), s_nodes[s_src == sid]))
        multi: dict[tuple[int, ...], list[int]] = {}
        for node, st, c in zip(
            uniq[~single].tolist(), starts[~single].tolist(), counts[~single].tolist(), strict=True
        ):
            multi.setdefault(tuple(all_src[st : st + c].tolist()), []).append(node)
        for src_key, nodes_list in multi.items():
            out.append((src_key, np.array(nodes_list, dtype=np.int64)))
        return out

    def step(self, depth: int, walkers: np.ndarray) -> np.ndarray:
        """Advance walkers one trie level to ``depth``; register the lexemes ending there."""
        if walkers.shape[0] <= SMALL:
            return self._step_small(depth, walkers)
        trie = self.cg.trie
        kids, pidx, nxt = step_level(trie, self.lexers, walkers[:, 0], walkers[:, 2], walkers[:, 3])
        if not kids.shape[0]:
            return walkers[:0]
        self.marked.append(kids)
        parents = walkers[pidx]
        has_kids = trie.n_children[kids] > 0
        for lid in np.unique(parents[:, 2]).tolist():
            lexer = self.lexers[lid]
            sel = np.nonzero((parents[:, 2] == lid) & has_kids)[0]
            sel = sel[lexer.accepting[nxt[sel]]]
            if not sel.shape[0]:
                continue
            done_nodes, done_cfg, done_state = kids[sel], parents[sel, 1], nxt[sel]
            n_states = lexer.table.shape[0]
            key = done_cfg * n_states + done_state
            order = np.argsort(key, kind="stable")
            key, done_nodes = key[order], done_nodes[order]
            cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
            bounds = [0, *cuts.tolist(), key.shape[0]]
            for a, b in itertools.pairwise(bounds):
                cfg, st = divmod(int(key[a]), n_states)
                here = done_nodes[a:b]
                for t in lexer.accept_terms[st]:
                    self.register(depth, here, cfg, t)
        out: np.ndarray = np.stack([kids, parents[:, 1], parents[:, 2], nxt], axis=1)[has_kids]
        return out

    def _step_small(self, depth: int, walkers: np.ndarray) -> np.ndarray:
        """:meth:`step` on Python lists (:func:`step_lists`), cheaper for a few walkers."""
        nodes, cfgs, lids, states = walkers.T.tolist()
        alive, inner = step_lists(self.cg.trie, self.lexers, nodes, lids, states)
        if not alive:
            return walkers[:0]
        self.marked.append(np.array(alive, dtype=np.int64))
        if not inner:
            return walkers[:0]
        lexers = self.lexers
        out: list[tuple[int, int, int, int]] = []
        done: dict[tuple[int, int], list[int]] = {}
        last = -1
        cfg = lid = 0
        acc: list[bool] = []
        terms: tuple[tuple[int, ...], ...] = ()
        for c, s2, w in inner:
            if w != last:
                last, cfg, lid = w, cfgs[w], lids[w]
                acc, terms = lexers[lid].accept_list, lexers[lid].accept_terms
            out.append((c, cfg, lid, s2))
            if acc[s2]:
                for t in terms[s2]:
                    done.setdefault((cfg, t), []).append(c)
        for (cfg, t), done_nodes in done.items():
            self.register(depth, np.array(done_nodes, dtype=np.int64), cfg, t)
        return np.array(out, dtype=np.int64)

    def spawn(self, depth: int) -> list[np.ndarray]:
        """Walkers starting at the nodes where lexemes end at ``depth``."""
        out: list[np.ndarray] = []
        for key, nodes in self.groups(depth):
            pos = self.config(key)
            for lid in self.lexers_of(pos):
                block = np.empty((nodes.shape[0], 4), dtype=np.int64)
                block[:, 0] = nodes
                block[:, 1] = pos
                block[:, 2] = lid
                block[:, 3] = 1
                out.append(block)
        return out


def _dedupe(walkers: np.ndarray) -> np.ndarray:
    """Remove duplicate walker rows (order is irrelevant)."""
    if walkers.shape[0] <= SMALL:
        return np.array(sorted(set(map(tuple, walkers.tolist()))), dtype=np.int64).reshape(-1, 4)
    top = walkers.max(axis=0) + 1
    bits = [int(v).bit_length() for v in top.tolist()]
    if sum(bits) > 62:
        out: np.ndarray = np.unique(walkers, axis=0)
        return out
    key = walkers[:, 0].copy()
    for col in range(1, 4):
        key = (key << bits[col]) | walkers[:, col]
    _, first = np.unique(key, return_index=True)
    return walkers[first]


def compute_allowed_tokens(
    cg: CompiledGrammar,
    sets: Sequence[EarleySet | None],
    threads: Sequence[Thread],
    accepting: bool,
) -> np.ndarray:
    """Boolean mask over the model vocabulary (``cg.vocab_size``) of the allowed tokens.

    ``sets`` is the matcher's position-indexed stack of Earley sets and ``threads`` its lexer
    threads at the last position; both are only read.
    """
    trie = cg.trie
    result = np.zeros(cg.vocab_size, dtype=bool)
    tok_part = result[: trie.vocab_size]
    walk = _Walk(cg, sets)
    fresh: dict[int, list[int]] = {}
    for j, t, d in threads:
        if d == 1 and sets[j] is not None:
            fresh.setdefault(j, []).append(t)
            continue
        allowed, completing = cg.root_walk(t, d)
        tok_part |= allowed
        for level, (nodes, _) in enumerate(completing):
            if nodes.shape[0]:
                walk.register(level + 1, nodes, j, t)
    for j, terms in fresh.items():
        for lexer in cg.lexers_for(tuple(sorted(terms))):
            allowed, levels = cg.lexer_walk(lexer)
            tok_part |= allowed
            accept_terms = lexer.accept_terms
            for level, (nodes, states) in enumerate(levels):
                if not nodes.shape[0]:
                    continue
                for st in np.unique(states).tolist():
                    here = nodes[states == st]
                    for t in accept_terms[st]:
                        walk.register(level + 1, here, j, t)
    walkers = np.zeros((0, 4), dtype=np.int64)
    depth = 0
    while walkers.shape[0] or walk.pending:
        depth += 1
        if walkers.shape[0]:
            walkers = walk.step(depth, walkers)
        if depth in walk.pending:
            blocks = walk.spawn(depth)
            if blocks:
                walkers = _dedupe(np.concatenate([walkers, *blocks]))
        elif not walkers.shape[0] and walk.pending:
            depth = min(walk.pending) - 1
    if walk.marked:
        nodes = np.unique(np.concatenate(walk.marked))
        tok_part[trie.tokens_at(nodes)] = True
    if accepting:
        for eos in cg.eos_ids:
            result[eos] = True
    return result
