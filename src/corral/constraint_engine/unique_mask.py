"""Masks under run-time ``uniqueItems`` (``docs/design/unique_items.md``), for both engines.

The engines compute a mask without the unique-item check, which is a superset of the true mask:
the check only ever removes lexer threads and lexeme ends. A token of that superset can be wrong
only where one of its bytes puts some array item on a text that is, or may only become, the text
of an earlier item of the same array. Such an item either began before the token (its text runs
along an earlier item's text: found by walking the token trie along the earlier items' texts) or
begins inside the token after a ``,`` outside strings (found among the tokens that hold such a
comma before another byte, a set fixed per scanner mode and kept with the token trie). Those
candidates are flagged by replaying the item scanner over their bytes, and each flagged one is
decided exactly by the matcher itself (accept the token, roll back). Under item-closing
terminals, so are the tokens holding a ``]`` or ``}`` outside strings (a set per scanner mode,
kept with the token trie) that close a container item of an array with earlier container items.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from corral.constraint_engine.unique import (
    ESC,
    OUT,
    STR,
    Scan,
    UniqueTables,
    scan_step,
)

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar

__all__ = ["exact_completion", "filter_allowed", "filter_words", "trie_candidates"]

MAX_REPAIR_PUSHES = 4096

_WS = frozenset(b" \t\n\r")


class _Earlier:
    """The texts of an array's earlier items, sorted, for prefix counts by bisection."""

    def __init__(self, texts: list[bytes]) -> None:
        self.sorted = sorted(texts)
        self.texts = set(texts)
        self.pad = b"\xff" * (max((len(t) for t in texts), default=0) + 1)

    def span(self, prefix: bytes) -> tuple[int, int]:
        """Indices ``[lo, hi)`` of the sorted texts that start with ``prefix``."""
        lo = bisect_left(self.sorted, prefix)
        return lo, bisect_left(self.sorted, prefix + self.pad, lo)

    def next_bytes(self, prefix: bytes) -> set[int]:
        """The bytes that follow ``prefix`` in the texts that start with it (by bisection:
        O(distinct bytes × log n))."""
        lo, hi = self.span(prefix)
        k = len(prefix)
        srt = self.sorted
        while lo < hi and len(srt[lo]) == k:
            lo += 1  # texts equal to the prefix sort first (a plain array may repeat one)
        out: set[int] = set()
        while lo < hi:
            b = srt[lo][k]
            out.add(b)
            if b == 0xFF:
                break
            lo = bisect_left(srt, prefix + bytes([b + 1]), lo, hi)
        return out


def _risky(ut: UniqueTables, cg: CompiledGrammar, prefix: bytes, earlier: _Earlier) -> bool:
    """Whether item text ``prefix`` may already be (or only lead to) an earlier item's text."""
    lo, hi = earlier.span(prefix)
    n = hi - lo
    if n == 0:
        return False
    if prefix in earlier.texts:
        return True
    for t in ut.terminals:
        dfa = cg.dfas[t]
        q = 1
        for b in prefix:
            q = dfa.rows[q][b]
            if q == 0:
                break
        if q and ut.counts[t][q] <= n:
            return True
    return False


def _flagged(
    cg: CompiledGrammar,
    ut: UniqueTables,
    data: bytes,
    sc: Scan,
    tok: bytes,
    memo: dict[tuple[tuple[int, int], ...], _Earlier],
) -> bool:
    """Replay the scanner over ``tok``: does some array item (of any open array) become risky
    on its bytes? (``memo``: the sorted earlier texts per tuple of item spans, for one mask.)"""
    buf = data + tok
    k = len(data)
    closing = bool(ut.closers)
    for i, b in enumerate(tok):
        before = sc
        sc = scan_step(sc, b, k + i)
        if closing and _closes_item(before, sc, b, buf):
            return True
        for f in sc.frames:
            if not f.is_array or f.cur == -1 or not f.items:
                continue
            earlier = memo.get(f.items)
            if earlier is None:
                earlier = memo[f.items] = _Earlier([buf[a:b] for a, b in f.items])
            if _risky(ut, cg, buf[f.cur : k + i + 1], earlier):
                return True
    return False


def _closes_item(before: Scan, after: Scan, b: int, buf: bytes) -> bool:
    """Whether byte ``b`` (scanner state ``before`` it, ``after`` it) closed a container item
    of an array that has earlier container items."""
    if before.mode != OUT or b not in (0x5D, 0x7D) or len(after.frames) >= len(before.frames):
        return False
    top = after.frames[-1] if after.frames else None
    return (
        top is not None
        and top.is_array
        and top.cur != -1
        and any(buf[a] in (0x5B, 0x7B) for a, _ in top.items)
    )


def _outside(tok: bytes, mode: int) -> Iterator[int]:
    """The bytes of ``tok`` read outside strings from scanner mode ``mode`` (the quote that
    opens a string included)."""
    m = mode
    for b in tok:
        if m == STR:
            m = ESC if b == 0x5C else (OUT if b == 0x22 else STR)
        elif m == ESC:
            m = STR
        else:
            yield b
            if b == 0x22:
                m = STR


def _token_set(
    cg: CompiledGrammar, key: str, mode: int, needles: bytes, holds: Callable[[Iterator[int]], bool]
) -> np.ndarray:
    """Token ids (one of ``needles`` in them) whose bytes outside strings, from scanner mode
    ``mode``, satisfy ``holds``; kept with the token trie under ``(key, mode)``."""

    def build() -> np.ndarray:
        return np.array(
            [
                tid
                for tid, tok in enumerate(cg.token_byte_strings)
                if any(c in tok for c in needles) and holds(_outside(tok, mode))
            ],
            dtype=np.int64,
        )

    got: np.ndarray = cg.trie.memo((key, mode), build)
    return got


def _closer_tokens(cg: CompiledGrammar, mode: int) -> np.ndarray:
    """Token ids holding, from scanner mode ``mode``, a ``]`` or ``}`` outside strings."""
    return _token_set(
        cg, "unique_closers", mode, b"]}", lambda bs: any(b in (0x5D, 0x7D) for b in bs)
    )


def _comma_then_byte(bs: Iterator[int]) -> bool:
    comma = False
    for b in bs:
        if comma and b not in _WS:
            return True
        if b == 0x2C:
            comma = True
    return False


def _comma_tokens(cg: CompiledGrammar, mode: int) -> np.ndarray:
    """Token ids holding, from scanner mode ``mode``, a comma outside strings followed later by
    a byte that is not whitespace (where an array item may begin inside the token)."""
    return _token_set(cg, "unique_commas", mode, b",", _comma_then_byte)


def trie_candidates(cg: CompiledGrammar, data: bytes, sc: Scan) -> set[int]:
    """Tokens whose bytes run an open array's item in progress (or, in the innermost array, the
    item about to begin) along an earlier item's text to a risky point, with every token below
    that point. Only the trie paths of earlier texts are read."""
    out: set[int] = set()
    frames = sc.frames
    for depth, f in enumerate(frames):
        if not f.is_array or not f.items:
            continue
        if f.cur == -1 and depth != len(frames) - 1:
            continue
        earlier = _Earlier([data[a:b] for a, b in f.items])
        _walk(cg, earlier, data[f.cur :] if f.cur != -1 else None, out)
    return {int(t) for t in out}


def _walk(cg: CompiledGrammar, earlier: _Earlier, start: bytes | None, out: set[int]) -> None:
    """:func:`trie_candidates` for one array: ``start`` is its item's text so far (``None``:
    no item begun, whitespace may come first)."""
    child_ptr, child_ids, _, _ = cg.trie.lists()
    trie = cg.trie
    child = trie.child
    ut = cg.unique
    assert ut is not None

    # (node, item text so far, or None while only whitespace was read before the item)
    stack: list[tuple[int, bytes | None]] = [(0, start)]
    while stack:
        node, text = stack.pop()
        base = b"" if text is None else text
        nxt = earlier.next_bytes(base)
        if text is None:
            nxt |= _WS
        for b in sorted(nxt):
            c = child(node, b)
            if c < 0:
                continue
            if text is None and b in _WS:
                stack.append((c, None))
                continue
            y = base + bytes([b])
            if _risky(ut, cg, y, earlier):
                sub = [c]
                while sub:
                    n = sub.pop()
                    out.update(trie.node_tok_ids[trie.node_tok_ptr[n] : trie.node_tok_ptr[n + 1]])
                    sub.extend(child_ids[child_ptr[n] : child_ptr[n + 1]])
            else:
                stack.append((c, y))


def filter_allowed(
    cg: CompiledGrammar,
    data: bytes,
    sc: Scan,
    allowed: np.ndarray,
    try_token: Callable[[int], bool],
    found: set[int] | None = None,
) -> None:
    """Clear in ``allowed`` (bool, by token id) the tokens the unique-item check refuses.

    ``data`` is the input so far, ``sc`` the item scanner's state after it, ``try_token`` the
    matcher's exact answer for one token (accept and roll back); ``found``, the native
    engine's result of :func:`trie_candidates` where it has one.
    """
    if cg.unique is None:
        return
    cands = trie_candidates(cg, data, sc) if found is None else found
    ids = np.array(sorted(cands), dtype=np.int64)
    for t in _refused(cg, data, sc, ids, allowed, try_token):
        allowed[t] = False


def filter_words(
    cg: CompiledGrammar,
    data: bytes,
    sc: Scan,
    words: np.ndarray,
    try_token: Callable[[int], bool],
    found: np.ndarray,
) -> None:
    """:func:`filter_allowed` on a packed mask (``int32`` words, bit ``t % 32`` of word
    ``t // 32``), as the native engine fills it; ``found`` holds the trie candidates' ids."""
    if cg.unique is None:
        return
    bits = words.view(np.uint32)
    on = np.unpackbits(bits.view(np.uint8), bitorder="little").view(bool)
    for t in _refused(cg, data, sc, found.astype(np.int64), on, try_token):
        bits[t >> 5] &= ~np.uint32(1 << (t & 31))


def _refused(
    cg: CompiledGrammar,
    data: bytes,
    sc: Scan,
    cands: np.ndarray,
    allowed: np.ndarray,
    try_token: Callable[[int], bool],
) -> list[int]:
    """The tokens among ``cands`` and the comma tokens of the scanner's mode that ``allowed``
    (bool, by token id) holds and the unique-item check refuses (flagged, then decided)."""
    ut = cg.unique
    assert ut is not None
    ids = np.concatenate([cands, _comma_tokens(cg, sc.mode)])
    if ut.closers:
        ids = np.concatenate([ids, _closer_tokens(cg, sc.mode)])
    memo: dict[tuple[tuple[int, int], ...], _Earlier] = {}
    return [
        t
        for t in sorted(set(ids[allowed[ids]].tolist()))
        if _flagged(cg, ut, data, sc, cg.token_byte_strings[t], memo) and not try_token(t)
    ]


class _Steps(Protocol):
    """What :func:`exact_completion` needs of a matcher."""

    def accept_bytes(self, data: bytes) -> bool: ...

    def rollback(self, n_tokens: int = 1) -> None: ...

    def is_accepting(self) -> bool: ...

    def valid_prefix_length(self, data: bytes) -> int: ...


def exact_completion(
    m: _Steps, plain: Callable[[], bytes | None], first: bytes | None
) -> bytes | None:
    """A completion the unique-item check accepts, from the completion ``first`` that ignores it.

    Where ``first`` is refused (it repeats an earlier item), the byte where it fails is replaced
    by the smallest other byte the matcher accepts and the rest completed again, depth first,
    within ``MAX_REPAIR_PUSHES`` tries; ``None`` when none is found. Shortest where ``first`` is
    accepted, short otherwise.
    """
    budget = [MAX_REPAIR_PUSHES]

    def go(c: bytes | None) -> bytes | None:
        if c is None or budget[0] <= 0:
            return None
        budget[0] -= 1
        if m.accept_bytes(c):
            done = m.is_accepting()
            m.rollback(1)
            if done:
                return c
            n = len(c)
        else:
            n = m.valid_prefix_length(c)
        head = c[:n]
        if not m.accept_bytes(head):  # pragma: no cover - a valid prefix is accepted
            return None
        try:
            for b in range(256):
                if budget[0] <= 0:
                    return None
                if n < len(c) and b == c[n]:
                    continue
                budget[0] -= 1
                if not m.accept_bytes(bytes([b])):
                    continue
                try:
                    rest = go(plain())
                finally:
                    m.rollback(1)
                if rest is not None:
                    return head + bytes([b]) + rest
            return None
        finally:
            m.rollback(1)

    return go(first)
