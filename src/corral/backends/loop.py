"""corral's own decoding loop: eval, mask, sample, accept — with jump-forward and
guaranteed completion.

Per step (``docs/design/generation.md``):

1. if the budget requires it (:meth:`Steering.completion_plan`), the tokens of the shortest
   completion are emitted without evaluating the model, and decoding stops;
2. else, with jump-forward on, the tokens that the forced bytes determine
   (:meth:`TokenBoundary.forced_tokens`) are accepted and evaluated as **one batch** — unless
   taking them could leave too few tokens for a complete output
   (:meth:`Steering.may_jump`): then they are sampled one by one under the budget;
3. else a token is sampled from the *unmasked* logits and kept if the grammar allows it and
   a complete output still fits after it (:meth:`Steering.try_advance`: exact for greedy and
   plain temperature sampling, which is when it is used); only if not, the mask is computed
   and applied to the logits (native apply, in place), a token is sampled again, checked
   against the budget (:meth:`Steering.choose`: if a complete output
   would no longer fit after it, the shortest completion is taken instead), accepted, and
   evaluated on the next step; end-of-sequence ends decoding.

The runtime is anything with ``start(prompt_ids) -> logits`` and ``eval(ids) -> logits``
(:class:`~corral.backends.llama_cpp.LlamaRuntime`,
:class:`~corral.backends.transformers.HFRuntime`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from corral.constraint_engine.bitmask import apply_token_bitmask_inplace

if TYPE_CHECKING:
    import numpy.typing as npt

    from corral.backends.jump_forward import TokenBoundary
    from corral.backends.sampling import Sampler
    from corral.backends.steering import Steering

__all__ = ["Runtime", "decode"]


class Runtime(Protocol):
    """What the loop needs of a model runtime."""

    def start(self, prompt_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Evaluate a prompt from scratch; the logits of its last position."""

    def eval(self, ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Evaluate more tokens; the logits of the last one."""


def decode(
    runtime: Runtime,
    prompt_ids: Sequence[int],
    steering: Steering,
    sampler: Sampler,
    *,
    boundary: TokenBoundary | None = None,
) -> Iterator[bytes]:
    """Generate under ``steering``; yields the bytes of each step (one or more tokens).

    ``boundary`` turns jump-forward on. End-of-sequence is never yielded.
    """
    tokenizer = steering.compiled.tokenizer
    logits = runtime.start(prompt_ids)
    while not steering.finished:
        plan = steering.completion_plan()
        if plan:
            chosen = list(plan[: steering.remaining])
            for token in chosen:
                steering.advance(token)
            yield tokenizer.decode(chosen)
            return
        if boundary is not None:
            ids = boundary.forced_tokens(steering.matcher.forced_bytes())
            if ids and steering.may_jump(len(ids), len(tokenizer.decode(ids))):
                for token in ids:
                    steering.advance(token, forced=True)
                yield tokenizer.decode(ids)
                if steering.finished:
                    return
                logits = runtime.eval(ids)
                continue
        token = sampler(logits) if sampler.unbiased else -1
        done = steering.try_advance(token) if token >= 0 else None
        if done is None:
            mask = steering.single_mask()
            apply_token_bitmask_inplace(logits, mask[0])
            token = steering.choose(sampler(logits))
            done = steering.advance(token)
        if done:
            return
        yield tokenizer.token_bytes(token)
        if steering.finished:
            return
        logits = runtime.eval([token])
