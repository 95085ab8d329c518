"""Diffusion canvases: a fixed number of token positions, filled in any order, kept completable.

A :class:`Canvas` of ``length`` positions holds a token or nothing (*masked*) at each. Its text
is the bytes of its tokens in order up to the first end-of-sequence token; end of sequence pads
the canvas end, as diffusion models pad, so it may only be followed by more of it. A canvas
stands for the template (:mod:`.template`) of its placed tokens' bytes with every run of masked
positions a token hole — exactly as many tokens as the run, except the run before the padding
(or the canvas end), which may also be padding and so takes at most as many. The canvas is
*completable* when that template is.

* :meth:`Canvas.allowed` — the tokens that keep the canvas completable at one position — puts a
  one-token hole (a *slot*) there, runs the chart of :mod:`.chart`, and reads off the tokens
  that cross the slot on some derivation with the outside pass of :mod:`.outside`; end of
  sequence is one more check with it placed.
* :meth:`Canvas.place` answers from the last ``allowed`` of that position when the canvas has not
  changed since (no new check), otherwise checks the template with the token placed.
* Results are kept per canvas content (a memo of 256 entries, masks packed one bit per
  token), so :meth:`Canvas.unplace` gives back the earlier masks without new work, and the memo
  is exact because a result depends only on the content. A mask that ran past the work bound
  is remembered too, and raises again for the same content without a new chart (it would cost
  as much again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from corral.constraint_engine.bitmask import bitmask_words, pack_bitmask
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import GrammarError, LimitExceeded
from corral.infill.chart import Chart
from corral.infill.outside import slot_tokens
from corral.infill.template import MAX_HOLE_TOKENS, Hole, Part, pattern_of
from corral.infill.tiers import Tiers
from corral.infill.token_moves import TokenMoves

__all__ = ["MAX_CANVAS", "Canvas"]

MAX_CANVAS = MAX_HOLE_TOKENS
"""The most positions of one canvas."""

_SLOT = -1
_MEMO = 256


@dataclass(frozen=True)
class _PastBound:
    """A mask that ran past the work bound, as the memo keeps it."""

    message: str
    limit: str
    value: int


def _index(value: object, name: str, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    v = int(value)
    if not 0 <= v < size:
        raise ValueError(f"{name} {v} is out of range [0, {size})")
    return v


class Canvas:
    """A canvas of ``length`` token positions over ``compiled``'s vocabulary, all masked at
    first.

    Parameters
    ----------
    compiled:
        The grammar the canvas text must end in (either engine).
    length:
        Number of positions, ``1 <= length <= MAX_CANVAS``.
    tokens:
        Optional content to start from: a token id or ``None`` (masked) per position, taken
        as given (the canvas may then not be completable: see :meth:`is_completable`).

    Raises
    ------
    TypeError, ValueError
        ``length`` not an int, or out of range; ``tokens`` not ``length`` ids of the
        vocabulary or ``None``.
    GrammarError
        The grammar has run-time ``uniqueItems`` checks (not context-free).
    """

    def __init__(
        self, compiled: CompiledGrammar, length: int, tokens: Sequence[int | None] | None = None
    ) -> None:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
            raise TypeError(f"length must be an int, not {type(length).__name__}")
        if not 1 <= int(length) <= MAX_CANVAS:
            raise ValueError(f"length {length}: a canvas has 1 to {MAX_CANVAS} positions")
        if compiled.unique is not None:
            raise GrammarError(
                f"{compiled.grammar.source}: infilling is not available for grammars with "
                "run-time uniqueItems checks (they are not context-free)"
            )
        self.compiled = compiled
        self._tokens: list[int | None] = [None] * int(length)
        if tokens is not None:
            if len(tokens) != self.length:
                raise ValueError(f"tokens has {len(tokens)} positions, the canvas {length}")
            self._tokens = [
                None if t is None else _index(t, "token", compiled.vocab_size) for t in tokens
            ]
        self._eos = frozenset(compiled.eos_ids)
        self._memo: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._moves = TokenMoves(compiled)  # trie walks, shared by every check of the canvas
        self._tiers = Tiers(compiled, self._moves)  # and narrowed tries to decide most checks
        self.checks = 0
        """Charts run so far (memo hits and answers read from masks are not counted)."""

    @property
    def length(self) -> int:
        """Number of positions."""
        return len(self._tokens)

    @property
    def tokens(self) -> tuple[int | None, ...]:
        """The token at each position, ``None`` where masked."""
        return tuple(self._tokens)

    def masked(self) -> list[int]:
        """The masked positions, ascending."""
        return [i for i, t in enumerate(self._tokens) if t is None]

    def text(self) -> bytes | None:
        """The canvas text once every position holds a token (bytes up to the first end of
        sequence), else ``None``."""
        if any(t is None for t in self._tokens):
            return None
        out = []
        for t in self._tokens:
            assert t is not None
            if t in self._eos:
                break
            data = self.compiled.token_bytes(t)
            assert data is not None
            out.append(data)
        return b"".join(out)

    def _template(self, tokens: Sequence[int | None]) -> tuple[list[Part], int] | None:
        """The template of a content (``_SLOT`` marks the one-token hole) and the slot's index
        among the token holes (``-1``: none); ``None`` when the content breaks the padding
        rule or holds a token that cannot be placed."""
        n = len(tokens)
        first_eos = next((i for i, t in enumerate(tokens) if t in self._eos), n)
        if any(t is not None and t not in self._eos for t in tokens[first_eos:]):
            return None
        parts: list[Part] = []
        run = holes = 0
        slot = -1
        for t in tokens[:first_eos]:
            if t is None:
                run += 1
                continue
            if run:
                parts.append(Hole(tokens=run))
                holes += 1
                run = 0
            if t == _SLOT:
                slot = holes
                parts.append(Hole(tokens=1))
                holes += 1
                continue
            data = self.compiled.token_bytes(t)
            if data is None:
                return None
            parts.append(data)
        if run:
            parts.append(Hole(max_tokens=run))
        return parts, slot

    def _chart(
        self, tokens: Sequence[int | None], full: bool, causes: bool = False
    ) -> tuple[Chart, int] | None:
        got = self._template(tokens)
        if got is None:
            return None
        parts, slot = got
        if self.compiled.grammar.is_empty:
            return None
        self.checks += 1
        if not full:
            return self._tiers.chart(parts, utf8=False, causes=causes), slot
        pattern = pattern_of(parts, self.compiled.limits, self.compiled.trie, utf8=False)
        return Chart(self.compiled, pattern, self._moves, full=True, causes=causes), slot

    def _remember(self, key: tuple[object, ...], value: object) -> None:
        self._memo[key] = value
        self._memo.move_to_end(key)
        while len(self._memo) > _MEMO:
            self._memo.popitem(last=False)

    def _completable(self, tokens: Sequence[int | None]) -> bool:
        key = ("c", tuple(tokens))
        got = self._memo.get(key)
        if got is None:
            chart = self._chart(tokens, full=False)
            got = chart is not None and chart[0].completable
            self._remember(key, got)
        return bool(got)

    def is_completable(self) -> bool:
        """Whether some way of filling the masked positions puts the text in the language."""
        return self._completable(self._tokens)

    def allowed_mask(self, position: int) -> npt.NDArray[np.bool_]:
        """``bool`` per vocabulary id: the tokens that, at ``position``, keep the canvas
        completable (the token there now, if any, set aside). See :meth:`allowed`."""
        p = _index(position, "position", self.length)
        others = list(self._tokens)
        others[p] = None
        key = ("a", tuple(others), p)
        got = self._memo.get(key)
        if isinstance(got, _PastBound):  # this mask ran past the bound before: it would again
            raise LimitExceeded(got.message, limit=got.limit, value=got.value)
        if got is None:
            try:
                got = np.packbits(self._allowed(others, p))  # kept packed: 1 bit per token
            except LimitExceeded as exc:  # kept without its traceback (which holds the chart)
                self._remember(key, _PastBound(str(exc), exc.limit, exc.value))
                raise
            self._remember(key, got)
        return np.unpackbits(np.asarray(got), count=self.compiled.vocab_size).astype(bool)

    def _allowed(self, others: list[int | None], p: int) -> npt.NDArray[np.bool_]:
        cg = self.compiled
        mask = np.zeros(cg.vocab_size, dtype=bool)
        probe = list(others)
        probe[p] = _SLOT
        chart = self._chart(probe, full=True)
        if chart is not None:
            c, slot = chart
            pattern_slot = c.pattern.token_holes[slot]
            mask[slot_tokens(c, pattern_slot)] = True
        probe[p] = cg.eos_ids[0]
        if self._completable(probe):
            mask[list(cg.eos_ids)] = True
        return mask

    def allowed(self, position: int) -> npt.NDArray[np.int32]:
        """The tokens that keep the canvas completable at ``position``, as an ``int32`` bitmask
        (bit ``i % 32`` of word ``i // 32`` for token ``i``: the matcher's layout).

        Exact: a token is allowed if and only if some filling of the other masked positions,
        with it at ``position``, puts the text in the language. A token already there is set
        aside (the mask is the one :meth:`unplace` would give). End of sequence is allowed
        where the rest of the canvas may be padding.

        Raises
        ------
        TypeError, ValueError
            ``position`` not an int in ``[0, length)``.
        LimitExceeded
            A check went past ``Limits.max_infill_work`` steps (now, or for the same content
            before: remembered, not run again).
        """
        words = pack_bitmask(self.allowed_mask(position))
        out = np.zeros(bitmask_words(self.compiled.vocab_size), dtype=np.int32)
        out[: words.shape[0]] = words
        return out

    def place(self, position: int, token: int) -> bool:
        """Put ``token`` at the masked ``position`` if the canvas stays completable; whether it
        was put.

        Raises
        ------
        TypeError, ValueError
            ``position`` not a masked position in range, ``token`` not an id of the
            vocabulary.
        LimitExceeded
            The check went past ``Limits.max_infill_work`` steps.
        """
        p = _index(position, "position", self.length)
        tok = _index(token, "token", self.compiled.vocab_size)
        if self._tokens[p] is not None:
            raise ValueError(f"position {p} already holds token {self._tokens[p]}; unplace it")
        known = self._memo.get(("a", tuple(self._tokens), p))
        if known is not None and not isinstance(known, _PastBound):
            ok = bool(np.asarray(known)[tok >> 3] >> (7 - (tok & 7)) & 1)
        else:
            probe = list(self._tokens)
            probe[p] = tok
            ok = self._completable(probe)
        if ok:
            self._tokens[p] = tok
        return ok

    def unplace(self, position: int) -> int:
        """Mask ``position`` again; the token it held.

        Raises
        ------
        ValueError
            ``position`` is out of range or already masked.
        """
        p = _index(position, "position", self.length)
        tok = self._tokens[p]
        if tok is None:
            raise ValueError(f"position {p} is masked already")
        self._tokens[p] = None
        return tok

    def completion(self) -> bytes | None:
        """The text of one completion of the canvas (``None`` when there is none)."""
        chart = self._chart(self._tokens, full=False, causes=True)
        return None if chart is None else chart[0].text()
