"""Run-time ``uniqueItems``: array items whose texts must differ from every earlier item.

A grammar may mark terminals as *unique items* (``Grammar.unique``; the JSON Schema front-end
does so for the items of ``uniqueItems`` arrays of scalars). A lexeme of such a terminal is an
item of the innermost JSON array open where it starts, and its text must differ from the text of
every item of that array before it. Scalars have one canonical text per value
(``docs/design/json_schema.md``), so equal texts are equal values and the check is exact. The
specification, shared with the native engine, is ``docs/design/unique_items.md``:

* :func:`scan_step` — a JSON *item scanner* run over the input (strings, escapes, the stack of
  open containers, and for each open array the spans of its finished items and the start of the
  item in progress);
* :func:`thread_verdict` — after each byte, a unique-item lexer thread in automaton state ``q``
  with item text ``p`` survives when ``count(q)`` (accepted continuations, capped) exceeds the
  number of earlier items that start with ``p``; its lexeme may end only when ``p`` is none of them.
* :func:`close_verdict` — a thread of an *item-closing* terminal (``Grammar.unique_close``: the
  ``]``/``}`` of a container item) that has read that bracket survives, and may end its lexeme,
  only when the item's :func:`~.unique_values.canonical` text is none of the array's earlier
  container items' canonical texts.

Compiled grammars carry the counts in :class:`UniqueTables`. The masks of both engines are
computed without the check and then filtered (:mod:`.unique_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass

from corral.automata.dfa import ByteDFA
from corral.automata.distances import COUNT_CAP, suffix_counts
from corral.constraint_engine.unique_values import canonical

__all__ = [
    "INITIAL_SCAN",
    "Frame",
    "Scan",
    "UniqueTables",
    "close_verdict",
    "item_state",
    "scan_bytes",
    "scan_step",
    "thread_verdict",
]

OUT, STR, ESC = 0, 1, 2
SEPARATORS = frozenset(b" \t\n\r,")


@dataclass(frozen=True)
class Frame:
    """An open container: for an array, its finished items (``(start, end)`` byte spans) and the
    start of the item in progress (``-1``: none)."""

    is_array: bool
    items: tuple[tuple[int, int], ...] = ()
    cur: int = -1


@dataclass(frozen=True)
class Scan:
    """The item scanner's state: mode (outside strings, in a string, after a backslash) and
    the open containers, innermost last."""

    mode: int = OUT
    frames: tuple[Frame, ...] = ()


INITIAL_SCAN = Scan()


def scan_step(sc: Scan, b: int, pos: int) -> Scan:
    """The scanner's state after byte ``b`` at input position ``pos``.

    An item of an array starts at its first byte that is not whitespace, ``,`` or ``]``, and
    ends at the next whitespace, ``,`` or ``]`` outside strings met while that array is the
    innermost open container (so a string item ends after its closing quote's separator, and
    a container item after its own closing bracket's). Brackets that close nothing are ignored.
    """
    mode = sc.mode
    if mode == STR:
        if b == 0x5C:
            return Scan(ESC, sc.frames)
        return Scan(OUT, sc.frames) if b == 0x22 else sc
    if mode == ESC:
        return Scan(STR, sc.frames)
    frames = sc.frames
    top = frames[-1] if frames else None
    if b in SEPARATORS or b == 0x5D:
        if top is not None and top.is_array and top.cur != -1:
            top = Frame(True, (*top.items, (top.cur, pos)), -1)
            frames = (*frames[:-1], top)
        if b == 0x5D and top is not None:
            frames = frames[:-1]
        return Scan(OUT, frames) if frames is not sc.frames else sc
    if b == 0x7D:
        return Scan(OUT, frames[:-1]) if frames else sc
    if top is not None and top.is_array and top.cur == -1:
        frames = (*frames[:-1], Frame(True, top.items, pos))
    if b == 0x22:
        return Scan(STR, frames)
    if b == 0x5B:
        return Scan(OUT, (*frames, Frame(True)))
    if b == 0x7B:
        return Scan(OUT, (*frames, Frame(False)))
    return Scan(OUT, frames) if frames is not sc.frames else sc


def scan_bytes(sc: Scan, data: bytes, start: int) -> Scan:
    """The scanner's state after ``data``, whose first byte is at position ``start``."""
    for i, b in enumerate(data):
        sc = scan_step(sc, b, start + i)
    return sc


def item_state(
    sc: Scan, data: bytes | bytearray, end: int, start: int
) -> tuple[bytes, list[bytes]] | None:
    """The item that began at ``start`` and the texts of the finished items of its array (the
    innermost open array whose item in progress began there), ``data`` being the input up to
    ``end``; ``None`` when no open array has an item in progress that began at ``start``."""
    for f in reversed(sc.frames):
        if f.is_array and f.cur == start:
            return bytes(data[start:end]), [bytes(data[a:b]) for a, b in f.items]
    return None


@dataclass(frozen=True)
class UniqueTables:
    """The unique-item terminals of a compiled grammar and, per terminal and automaton state,
    the number of accepted continuations (capped at ``COUNT_CAP``); and the item-closing
    terminals."""

    terminals: frozenset[int]
    counts: dict[int, tuple[int, ...]]
    closers: frozenset[int] = frozenset()

    @classmethod
    def build(
        cls,
        names: list[str],
        unique: tuple[str, ...],
        dfas: tuple[ByteDFA, ...],
        close: tuple[str, ...] = (),
    ) -> UniqueTables | None:
        """The tables for the terminals named in ``unique`` and ``close`` (``None`` when there
        are none)."""
        idx = [names.index(n) for n in unique if n in names]
        shut = frozenset(names.index(n) for n in close if n in names)
        if not idx and not shut:
            return None
        return cls(frozenset(idx), {t: tuple(suffix_counts(dfas[t])) for t in idx}, shut)

    @property
    def checked(self) -> frozenset[int]:
        """Every terminal the run-time check looks at."""
        return self.terminals | self.closers

    def viable(self, t: int, q: int, prefix: bytes, earlier: list[bytes]) -> bool:
        """Whether item text ``prefix`` (state ``q`` of terminal ``t``) has a completion that
        is none of ``earlier``."""
        count = self.counts[t][q]
        if count >= COUNT_CAP:
            return True
        return count > sum(1 for s in earlier if s.startswith(prefix))


def thread_verdict(
    ut: UniqueTables,
    t: int,
    q: int,
    accepting: bool,
    sc: Scan,
    data: bytes | bytearray,
    end: int,
    start: int,
) -> tuple[bool, bool]:
    """``(alive, may_end)`` for a unique-item thread of terminal ``t`` now in state ``q``.

    ``sc`` is the scanner's state after the byte just read, ``data[:end]`` the input so far,
    ``start`` where the thread's lexeme began (its origin position: the item's first byte).
    The thread stays alive when its item text has a completion none of the array's earlier items
    equal; its lexeme may end here (Earley scan) when it is accepting and its text is none of them.
    """
    if ut.counts[t][q] >= COUNT_CAP and not accepting:
        return True, False
    got = item_state(sc, data, end, start)
    if got is None:
        return True, accepting
    prefix, earlier = got
    if accepting and prefix in earlier:
        return ut.viable(t, q, prefix, earlier), False
    return ut.viable(t, q, prefix, earlier), accepting


def close_verdict(sc: Scan, data: bytes | bytearray, end: int, accepting: bool) -> bool:
    """Whether an item-closing thread that is ``accepting`` (it has read the item's ``]`` or
    ``}``: ``sc`` is the scanner's state after it, ``data[:end]`` the input) survives and may
    end its lexeme: the item's canonical text is none of the earlier container items'. A thread
    still before its bracket is left alone."""
    if not accepting or not sc.frames:
        return True
    top = sc.frames[-1]
    if not top.is_array or top.cur == -1:
        return True
    mine = canonical(bytes(data[top.cur : end]))
    return all(
        data[a] not in (0x5B, 0x7B) or canonical(bytes(data[a:b])) != mine for a, b in top.items
    )
