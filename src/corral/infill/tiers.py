"""Narrowed vocabularies: decide most token-hole checks on small tries, exactly.

A token hole of ``n`` tokens is ``n`` copies of the vocabulary's trie (:mod:`.template`), and
on a grammar with free text (identifiers, strings) lexemes end inside thousands of its tokens:
a mostly masked canvas costs seconds. Most such templates are decided by smaller automata that
bracket the exact language:

* **From below.** Exactly ``n`` tokens of a sub-vocabulary ``V' ⊆ V`` are a subset of exactly
  ``n`` tokens of ``V``; a completion found over ``V'`` is a completion. Two sub-vocabularies:

  1. one single-byte token per byte — a hole of ``n`` tokens becomes ``n`` bytes, with no
     token interiors;
  2. those, the tokens of 2 to ``_PUNCT_LEN`` bytes made only of the ASCII punctuation the
     grammar's finite terminals use (JSON's ``{"``, ``":"``, ``","``: the tokens that cross
     lexeme boundaries), and every token that spells a factor of a word of a terminal with
     finitely many (keywords, property names, enumerations).

  Each token hole has its own trie, so between the two come *mixed* tiers: the holes of at most
  ``_SHORT`` tokens over tier 2 (short holes need dense tokens), the others over tier 1.

* **From above.** Any number of tokens is a subset of ``Σ*``: every token hole a loop, one
  state instead of ``n`` copies of a trie, so a cheap chart, tried first of the two. ``n``
  tokens are at least ``n`` bytes, so exactly ``n`` tokens is also a subset of ``Σ^n Σ*``
  (tighter, dearer). No completion there, none at all.

A lower tier that passes its share of the work bound tries again with the grammar's large
terminals cut to their short words (:mod:`.short_lexemes`), a subset of the language; only a
completion found there counts. Only what the bounds leave open goes to the full trie. Every
tier is a chart of :mod:`.chart` over a template automaton with other tries, so each answer it
gives is exact by the argument of that chart; the tiers only choose which chart answers (the
sandwich of an under- and an over-approximation used by abstraction refinement, Clarke et al.
2000, with the refinement taken all at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeGuard

import numpy as np
import numpy.typing as npt

from corral.automata.dfa import ByteDFA
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import LimitExceeded
from corral.infill.chart import Chart
from corral.infill.short_lexemes import short_lexeme_grammar
from corral.infill.template import Hole, Part, pattern_of
from corral.infill.token_moves import TokenMoves
from corral.tokenizers.token_trie import TokenTrie

__all__ = ["Tiers", "finite_terminals"]

_PUNCT_LEN = 4
"""The longest punctuation token tier 2 takes."""
_FINITE_STATES = 256
"""The largest automaton whose words tier 2 reads tokens from."""
_FACTOR_NODES = 4096
"""The most trie nodes walked for one terminal's factors; past it the terminal is left out."""
_SHORT = (4, 12)
"""Mixed tiers: token holes of at most this many tokens take tier 2, the others tier 1 (short
holes need dense tokens; long ones have room for single bytes)."""
_TIER_SHARE = 16
"""Each narrowed tier may spend ``max_infill_work // _TIER_SHARE`` steps before giving up."""


def finite_terminals(dfas: Sequence[ByteDFA]) -> list[int]:
    """The terminals with finitely many words (keywords in any case, property names,
    punctuation, enumerations): automata of at most ``_FINITE_STATES`` states with no cycle
    through a live state."""
    out = []
    for t, dfa in enumerate(dfas):
        if dfa.n_states > _FINITE_STATES:
            continue
        succ = [set(row) for row in dfa.class_table()[2].tolist()]  # over byte classes: small
        colour = [0] * dfa.n_states  # 0 new, 1 on the path, 2 done
        stack = [(1, iter(succ[1]))]
        colour[1] = 1
        finite = True
        while stack and finite:
            state, rest = stack[-1]
            nxt = next(rest, None)
            if nxt is None:
                colour[state] = 2
                stack.pop()
                continue
            if nxt == 0 or colour[nxt] == 2:
                continue
            if colour[nxt] == 1:
                finite = False
            else:
                colour[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
        if finite:
            out.append(t)
    return out


def _in_trie(trie: TokenTrie, token_bytes: Sequence[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(id, bytes)`` of the tokens of ``trie`` (special tokens are not in it)."""
    for i in np.flatnonzero(trie.token_node >= 0).tolist():
        yield i, token_bytes[i]


def _singles(trie: TokenTrie, token_bytes: Sequence[bytes]) -> set[int]:
    """One single-byte token per byte that has one (the lowest id)."""

    def build() -> frozenset[int]:
        got: dict[bytes, int] = {}
        for i, data in _in_trie(trie, token_bytes):
            if len(data) == 1:
                got.setdefault(data, i)
        return frozenset(got.values())

    return set(trie.memo("infill.singles", build))


def _punctuation(trie: TokenTrie, token_bytes: Sequence[bytes], allowed: bytes) -> set[int]:
    """Tokens of 2 to ``_PUNCT_LEN`` bytes, each ASCII punctuation among ``allowed``."""

    def build() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        ids, low, high = [], [], []
        for i, data in _in_trie(trie, token_bytes):
            if 1 < len(data) <= _PUNCT_LEN and all(b < 128 and not chr(b).isalnum() for b in data):
                bits = sum(1 << b for b in set(data))
                ids.append(i)
                low.append(bits & (2**64 - 1))
                high.append(bits >> 64)
        return np.array(ids, np.int64), np.array(low, np.uint64), np.array(high, np.uint64)

    ids, low, high = trie.memo("infill.punctuation", build)
    bits = sum(1 << b for b in set(allowed) if b < 128)
    out = ((low & ~np.uint64(bits & (2**64 - 1))) == 0) & ((high & ~np.uint64(bits >> 64)) == 0)
    return set(ids[out].tolist())


def _factors(trie: TokenTrie, dfas: Sequence[ByteDFA], finite: list[int]) -> set[int]:
    """Tokens that spell a factor of a word of a terminal with finitely many words: the trie
    walked from every state of its automaton while the automaton stays alive (in a finite
    automaton, minimal, every state but the dead one leads to a word)."""
    child_ptr, child_ids, node_byte, _ = trie.lists()
    tok_ptr, tok_ids = trie.node_tok_ptr, trie.node_tok_ids
    root = trie.memo(
        "infill.root_children",
        lambda: {node_byte[c]: c for c in child_ids[child_ptr[0] : child_ptr[1]]},
    )
    out: set[int] = set()
    for t in finite:
        width, classes_a, table = dfas[t].class_table()  # over byte classes: a small table
        rows, classes = table.tolist(), classes_a.tolist()
        members: list[list[int]] = [[] for _ in range(width)]
        for b, k in enumerate(classes):
            members[k].append(b)
        got: set[int] = set()
        budget = _FACTOR_NODES
        for first in range(1, len(rows)):
            stack = []
            for k, to in enumerate(rows[first]):  # the root's children by the bytes that live
                for b in members[k] if to else ():
                    c = root.get(b)
                    if c is not None:
                        budget -= 1
                        got.update(tok_ids[tok_ptr[c] : tok_ptr[c + 1]].tolist())
                        stack.append((c, to))
            while stack and budget > 0:
                node, state = stack.pop()
                for c in child_ids[child_ptr[node] : child_ptr[node + 1]]:
                    nxt = rows[state][classes[node_byte[c]]]
                    if nxt:
                        budget -= 1
                        got.update(tok_ids[tok_ptr[c] : tok_ptr[c + 1]].tolist())
                        stack.append((c, nxt))
        if budget > 0:  # else: free text of bounded length (a short string), not a keyword
            out |= got
    return out


def _any_byte_trie(trie: TokenTrie) -> TokenTrie:
    """A trie whose tokens are the spellable bytes, one each (ids: the byte values)."""

    def build() -> TokenTrie:
        return TokenTrie.build(
            [bytes((b,)) if trie.spellable[b] else b"" for b in range(256)], frozenset()
        )

    return trie.memo("infill.any_byte", build)


def _read_bytes(dfa: ByteDFA) -> set[int]:
    """The bytes some state of ``dfa`` reads to a state other than the dead one (on its table
    of byte classes: one column per class)."""
    _, classes, table = dfa.class_table()
    live = np.asarray(table.any(axis=0))
    return set(np.flatnonzero(live[classes]).tolist())


def _nbytes(tries: Iterable[TokenTrie]) -> int:
    """The memory of narrowed tries' arrays, for the run-time cache's bound."""
    arrays = ("node_byte", "child_ptr", "child_ids", "n_children", "node_tok_ptr",
              "node_tok_ids", "token_node")  # fmt: skip
    return sum(int(getattr(t, a).nbytes) for t in tries for a in arrays)


def _is_hole(p: Part) -> TypeGuard[Hole]:
    """Whether ``p`` is a token hole."""
    return isinstance(p, Hole) and (p.tokens is not None or p.max_tokens is not None)


def _over(parts: Sequence[Part]) -> list[Part]:
    """``parts`` with each token hole widened to ``Σ^n Σ*`` (``Σ*`` for at most ``n``)."""
    out: list[Part] = []
    for p in parts:
        if isinstance(p, Hole) and p.tokens is not None:
            out += [Hole(tokens=p.tokens), Hole()]
        elif isinstance(p, Hole) and p.max_tokens is not None:
            out.append(Hole())
        else:
            out.append(p)
    return out


def _loose(parts: Sequence[Part]) -> list[Part]:
    """``parts`` with each token hole widened to ``Σ*``: looser than :func:`_over`, and a
    cheaper chart (one loop state per hole instead of ``n`` copies of a trie)."""
    return [Hole() if _is_hole(p) else p for p in parts]


class Tiers:
    """The narrowed tries of one compiled grammar and their whole-token moves, made on first
    use and kept (a canvas keeps one for all its checks); ``moves`` are the full trie's.

    Parameters
    ----------
    compiled:
        The grammar.
    moves:
        The grammar's moves over its own trie (shared look-ahead and absorption answers).
    """

    def __init__(self, compiled: CompiledGrammar, moves: TokenMoves) -> None:
        self.compiled = compiled
        self.moves = moves
        self._narrow: list[TokenTrie] = []
        self._wide: TokenTrie | None = None
        self._short: tuple[CompiledGrammar, TokenMoves] | None = None
        self._short_made = False
        self._from = 0  # the ladder's first rung: the last that held a completion
        self.decided = [0, 0, 0, 0, 0, 0]
        """Checks decided by tier 1, tiers 1 and 2 mixed, tier 2, the loose upper bound, the
        counted upper bound, the full trie."""

    def _tries(self) -> list[TokenTrie]:
        if not self._narrow:
            cg = self.compiled
            self._narrow = list(cg.cache.get_or_build(("infill.tiers",), self._build, _nbytes))
        return self._narrow

    def _build(self) -> tuple[TokenTrie, TokenTrie]:
        """Tier 1's and tier 2's tries (kept in the compiled grammar's run-time cache, so the
        canvases and checks of one grammar share them)."""
        trie, spelled = self.compiled.trie, self.compiled.token_byte_strings
        singles = _singles(trie, spelled)
        dfas = self.compiled.dfas
        finite = finite_terminals(dfas)
        used = bytes(sorted(set().union(*(_read_bytes(dfas[t]) for t in finite))))
        wider = singles | _punctuation(trie, spelled, used) | _factors(trie, dfas, finite)
        single = trie.memo("infill.single_trie", lambda: trie.subset(singles, spelled))
        return single, trie.subset(wider, spelled)

    def _upper(self) -> TokenTrie:
        if self._wide is None:
            self._wide = _any_byte_trie(self.compiled.trie)
        return self._wide

    def _chart(
        self,
        parts: Sequence[Part],
        tries: dict[int, TokenTrie],
        utf8: bool,
        limit: int,
        causes: bool = False,
        lower: bool = True,
    ) -> Chart | None:
        """The chart of ``parts`` with these tries, or ``None`` past ``limit`` steps. A
        ``lower`` tier past its share tries the short-lexeme grammar, a subset of the language
        (:mod:`.short_lexemes`): its chart is returned only when it holds a completion."""
        cg = self.compiled
        try:
            pattern = pattern_of(parts, cg.limits, cg.trie, utf8=utf8, tries=tries)
        except (LimitExceeded, ValueError):  # widened past the size bound
            return None
        try:
            return Chart(cg, pattern, self.moves, full=False, limit=limit, causes=causes)
        except LimitExceeded:  # past its share: the short-lexeme grammar may hold a completion
            if not lower:
                return None
        short = self._short_lexemes()
        if short is None:
            return None
        try:
            got = Chart(short[0], pattern, short[1], full=False, limit=limit, causes=causes)
        except LimitExceeded:
            return None
        return got if got.completable else None  # a subset: only its completions count

    def _short_lexemes(self) -> tuple[CompiledGrammar, TokenMoves] | None:
        """The short-lexeme grammar (:mod:`.short_lexemes`) and its moves, made on first use."""
        if not self._short_made:
            short = short_lexeme_grammar(self.compiled)
            self._short = None if short is None else (short, TokenMoves(short))
            self._short_made = True
        return self._short

    def chart(self, parts: Sequence[Part], *, utf8: bool = True, causes: bool = True) -> Chart:
        """A chart that decides ``parts``: a narrowed tier's when it holds a completion, an
        upper bound's when it holds none (first every token hole widened to ``Σ*``, then to
        ``Σ^n Σ*``), else the full trie's; with ``causes`` (for :meth:`Chart.text`) or
        without.

        The narrowed tiers only grow (single bytes, mixed, tier 2 everywhere: each language
        holds the one before), so when one has no completion none before it has: the ladder
        starts at the rung that last held one (consecutive checks of a canvas are alike).

        Raises
        ------
        LimitExceeded
            The full trie's chart went past ``Limits.max_infill_work`` steps.
        """
        sizes = [p.tokens if p.tokens is not None else p.max_tokens for p in parts if _is_hole(p)]
        if sizes:
            share = max(1, self.compiled.limits.max_infill_work // _TIER_SHARE)
            single, wider = self._tries()
            n = len(sizes)
            ladder = [(0, 0, dict.fromkeys(range(n), single))]
            for level, cut in enumerate(_SHORT, 1):  # mixed: holes of at most ``cut`` tokens dense
                short = {k for k, size in enumerate(sizes) if size is not None and size <= cut}
                if 0 < len(short) < n:
                    mixed = {k: wider if k in short else single for k in range(n)}
                    ladder.append((level, 1, mixed))
            ladder.append((len(_SHORT) + 1, 2, dict.fromkeys(range(n), wider)))
            seen: list[dict[int, TokenTrie]] = []
            for level, kind, tries in ladder:
                if tries in seen or level < self._from:
                    continue
                seen.append(tries)
                got = self._chart(parts, tries, utf8, share, causes)
                if got is not None and got.completable:
                    self.decided[kind] += 1
                    self._from = level
                    return got
            got = self._chart(_loose(parts), {}, utf8, share, lower=False)
            if got is not None and not got.completable:
                self.decided[3] += 1
                return got
            widened = _over(parts)
            holes = sum(1 for p in widened if _is_hole(p))
            got = self._chart(
                widened, dict.fromkeys(range(holes), self._upper()), utf8, share, lower=False
            )
            if got is not None and not got.completable:
                self.decided[4] += 1
                return got
        self.decided[5] += 1
        pattern = pattern_of(parts, self.compiled.limits, self.compiled.trie, utf8=utf8)
        return Chart(self.compiled, pattern, self.moves, full=False, causes=causes)
