"""One constrained sequence: its matcher, its mask, and guaranteed-complete output.

:class:`Steering` is what every backend drives, one per generated sequence:

* :meth:`Steering.fill` writes the allowed-token mask of the next step;
* :meth:`Steering.advance` consumes the token that was sampled;
* with a token budget (``max_tokens``) and ``complete_on_budget`` on, once the tokens left
  are no more than the tokens the *shortest completion* of the current state needs, the mask
  allows only the next token of that completion, so output cut by the budget is still a string
  of the language (``docs/design/generation.md``).

The shortest completion is computed by :meth:`corral.Matcher.shortest_completion`. It is
asked for at a step only when it may matter: since every byte of a completion is a token of
its own (the compiler keeps only spellable bytes), a completion of ``n`` bytes never needs more
than ``n`` tokens, so while ``n`` is below the tokens left, nothing is tokenized.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from corral.constraint_engine.bitmask import allocate_token_bitmask, unpack_bitmask
from corral.constraint_engine.matcher import Matcher
from corral.errors import GrammarError

if TYPE_CHECKING:
    import numpy.typing as npt

    from corral.constraint_engine.compiler import CompiledGrammar

__all__ = ["CANDIDATES", "ZONE_BYTES", "GenerationStats", "Steering", "TokenRejected"]

ZONE_BYTES = 64
"""Near the budget's end — once the shortest completion is within this many bytes of the tokens
left — a mask computed with the sampler's scores allows only verified tokens."""
CANDIDATES = 8
"""Best-scored allowed tokens verified per step near the budget's end."""


def _only(bitmask: npt.NDArray[np.int32], index: int, tokens: list[int]) -> None:
    """Make row ``index`` of ``bitmask`` allow exactly ``tokens``."""
    row = bitmask[index].view(np.uint32)
    row[:] = 0
    for token in tokens:
        row[token >> 5] |= np.uint32(1 << (token & 31))


def _top(values: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` largest ``values``, largest first, ties by index: the first ``k``
    of a stable descending argsort, found by partition (no full sort of the vocabulary)."""
    n = values.shape[0]
    if n <= k:
        return np.argsort(-values, kind="stable")
    kth = np.partition(values, n - k)[n - k]
    above = np.flatnonzero(values > kth)
    ties = np.flatnonzero(values == kth)
    pick = np.concatenate([above, ties[: k - above.shape[0]]])
    out: npt.NDArray[np.intp] = pick[np.argsort(-values[pick], kind="stable")]
    return out


class TokenRejected(RuntimeError):
    """A sampler produced a token the mask did not allow (a backend or sampler bug)."""


@dataclass
class GenerationStats:
    """Counters of one sequence, for ``--stats`` and the benchmark.

    Attributes
    ----------
    tokens:
        Tokens consumed (sampled, forced or completed), end-of-sequence excluded.
    forced_tokens:
        Tokens that jump-forward evaluated without sampling.
    completion_tokens:
        Tokens chosen by guaranteed completion (the budget was running out).
    mask_seconds:
        Time spent computing masks and advancing the matcher.
    """

    tokens: int = 0
    forced_tokens: int = 0
    completion_tokens: int = 0
    mask_seconds: float = 0.0


class Steering:
    """Drive one :class:`~corral.Matcher` through a generation.

    Parameters
    ----------
    compiled:
        The compiled grammar.
    max_tokens:
        The sequence's token budget (end-of-sequence excluded), or ``None`` for none.
    complete_on_budget:
        Steer to the shortest completion when the budget runs out (default on).

    Raises
    ------
    GrammarError
        If the grammar's language is empty (``Grammar.is_empty``: e.g. a JSON Schema no value
        satisfies), before any token: no generation meets an empty mask.
    """

    def __init__(
        self,
        compiled: CompiledGrammar,
        *,
        max_tokens: int | None = None,
        complete_on_budget: bool = True,
    ) -> None:
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if compiled.grammar.is_empty:
            raise GrammarError(
                f"{compiled.grammar.source}: {compiled.grammar.empty_reason}: nothing can be "
                "generated"
            )
        self.compiled = compiled
        self.matcher = Matcher(compiled)
        self.max_tokens = max_tokens
        self.complete_on_budget = complete_on_budget and max_tokens is not None
        self.stats = GenerationStats()
        self._plan: list[int] = []
        self._pending: list[int] = []
        self._verified: frozenset[int] = frozenset()
        self.trace: list[tuple[int, bool]] = []
        """Every token consumed, with whether jump-forward forced it."""
        self._one = allocate_token_bitmask(1, compiled.vocab_size)

    # ------------------------------------------------------------------ state
    @property
    def remaining(self) -> int | None:
        """Tokens left in the budget (``None`` without a budget)."""
        if self.max_tokens is None:
            return None
        return self.max_tokens - self.stats.tokens

    @property
    def finished(self) -> bool:
        """Whether the matcher is terminated or the budget is spent."""
        left = self.remaining
        return self.matcher.is_terminated() or (left is not None and left <= 0)

    def _needed(self, enough: int) -> tuple[bytes, int]:
        """The shortest completion and its token count, or a count ``< enough`` when its
        length in bytes already shows that it needs fewer tokens (nothing is tokenized)."""
        tail = self.matcher.shortest_completion()
        if tail is None:  # no completion exists: the grammar's language is a dead end here
            return b"", 1 << 30
        if len(tail) < enough:
            return tail, len(tail)
        return tail, len(self.compiled.tokenizer.encode(tail))

    def completion_plan(self) -> list[int]:
        """The tokens of the shortest completion when the budget requires it now, else ``[]``."""
        if not self.complete_on_budget:
            return []
        if self._plan:
            return self._plan
        left = self.remaining
        assert left is not None
        if left <= 0:
            return []
        tail, need = self._needed(left)
        if need >= left and tail:
            self._plan = self.compiled.tokenizer.encode(tail)
        return self._plan

    def _fits_after(self, token: int, left_after: int) -> bool:
        """Whether a complete output still fits ``left_after`` tokens after ``token``."""
        if not self.matcher.accept_token(token):
            return False
        try:
            return self.matcher.is_terminated() or self._needed(left_after + 1)[1] <= left_after
        finally:
            self.matcher.rollback(1)

    def choose(self, token: int) -> int:
        """``token`` if a complete output still fits the budget after it, else the first token
        of the shortest completion (which then becomes the plan). Exact; for decoding loops
        that sample themselves."""
        left = self.remaining
        if not self.complete_on_budget or left is None or token in self.compiled.eos_ids:
            return token
        if self._plan or self._fits_after(token, left - 1):
            return token
        tail, _ = self._needed(0)
        self._plan = self.compiled.tokenizer.encode(tail)
        return self._plan[0] if self._plan else token

    def may_jump(self, n_tokens: int, n_bytes: int) -> bool:
        """Whether ``n_tokens`` forced tokens spelling ``n_bytes`` bytes may be taken now and
        still leave the budget for a complete output.

        The forced bytes begin every completion, the shortest one included; what that one
        needs after them is at most one token per byte.
        """
        left = self.remaining
        if left is None or not self.complete_on_budget:
            return True
        tail = self.matcher.shortest_completion()
        need = 0 if tail is None else len(tail) - n_bytes
        return left - n_tokens >= need

    # ------------------------------------------------------------------ steps
    def fill(self, bitmask: npt.NDArray[np.int32], index: int = 0, scores: Any = None) -> None:
        """Write the mask of the next token into row ``index`` of ``bitmask``.

        With ``scores`` (the row of logits the sampler will use) and a budget, near the
        budget's end (the shortest completion within :data:`ZONE_BYTES` bytes of it) only
        verified tokens are allowed: the best-scored allowed ones after which a complete
        output still fits, and the first token of the shortest completion.
        """
        start = time.perf_counter()
        plan = self.completion_plan()
        if plan:
            _only(bitmask, index, [plan[0]])
        else:
            self.matcher.fill_next_token_bitmask(bitmask, index)
            if scores is not None and self.complete_on_budget:
                self._restrict_near_budget(bitmask, index, scores)
        self.stats.mask_seconds += time.perf_counter() - start

    def _restrict_near_budget(
        self, bitmask: npt.NDArray[np.int32], index: int, scores: Any
    ) -> None:
        left = self.remaining
        assert left is not None
        tail = self.matcher.shortest_completion()
        if tail is None or len(tail) + ZONE_BYTES < left:
            return
        allowed = np.flatnonzero(unpack_bitmask(bitmask[index], self.compiled.vocab_size))
        values = np.asarray(scores, dtype=np.float32)[allowed]
        best = allowed[_top(values, CANDIDATES)]
        eos = self.compiled.eos_ids
        safe = [int(t) for t in best if int(t) in eos or self._fits_after(int(t), left - 1)]
        self._verified = frozenset(safe)
        plan = self.compiled.tokenizer.encode(tail)
        if plan:
            safe.append(plan[0])
            self._pending = plan
        _only(bitmask, index, safe)

    def advance(self, token: int, *, forced: bool = False) -> bool:
        """Consume ``token``; ``True`` when it ended the sequence (end-of-sequence).

        Raises
        ------
        TokenRejected
            If the grammar does not allow ``token`` here.
        """
        start = time.perf_counter()
        ok = self.matcher.accept_token(token)
        self.stats.mask_seconds += time.perf_counter() - start
        if not ok:
            raise TokenRejected(
                f"token {token} ({self.compiled.tokenizer.token_bytes(token)!r}) is not allowed "
                f"after {self.stats.tokens} tokens: the sampler ignored the mask"
            )
        return self._record(token, forced)

    def try_advance(self, token: int) -> bool | None:
        """Consume ``token`` if the grammar allows it and a complete output still fits the
        budget after it: ``True``/``False`` as :meth:`advance`; ``None`` (state unchanged)
        otherwise.

        This is the fast path of a loop that samples from the *unmasked* logits first: a token
        drawn from ``p`` that the grammar allows is a draw from ``p`` restricted to the allowed
        tokens (the rejected draws are redrawn from the masked logits), and for greedy
        decoding the unmasked argmax, when allowed, is the masked argmax — so the full mask is
        needed only when the model leaves the grammar.
        """
        if self._plan:
            return None
        start = time.perf_counter()
        try:
            if not self.matcher.accept_token(token):
                return None
            left = self.remaining
            if (
                self.complete_on_budget
                and left is not None
                and not self.matcher.is_terminated()
                and self._needed(left)[1] > left - 1
            ):
                self.matcher.rollback(1)
                return None
        finally:
            self.stats.mask_seconds += time.perf_counter() - start
        return self._record(token, False)

    def _record(self, token: int, forced: bool) -> bool:
        if self.matcher.is_terminated():
            return True
        self.stats.tokens += 1
        self.trace.append((token, forced))
        if forced:
            self.stats.forced_tokens += 1
        if self._plan:
            self.stats.completion_tokens += 1
            if self._plan[0] == token:
                del self._plan[0]
            else:
                self._plan.clear()
        elif self._pending and self._pending[0] == token and token not in self._verified:
            self.stats.completion_tokens += 1
            self._plan = self._pending[1:]
        self._pending = []
        self._verified = frozenset()
        return False

    def single_mask(self) -> npt.NDArray[np.int32]:
        """A fresh one-row mask of the next step (a convenience for one-sequence loops)."""
        self.fill(self._one, 0)
        return self._one
