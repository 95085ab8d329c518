"""Sampling a token from masked logits: greedy, temperature, top-k and nucleus (top-p).

Masked tokens have logit ``-inf`` and probability 0 under every rule below, so the sampled
token is always one the grammar allows. Nucleus sampling follows Holtzman et al. 2020 ("The
Curious Case of Neural Text Degeneration"): the smallest set of most likely tokens whose
probability reaches ``top_p``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Sampler"]


class Sampler:
    """Pick the next token from a row of logits.

    Parameters
    ----------
    temperature:
        ``0`` (default) samples greedily (the first of equal maxima); otherwise logits are
        divided by it.
    top_p:
        Nucleus mass in ``(0, 1]``.
    top_k:
        Keep the ``top_k`` most likely tokens (``0``: all).
    seed:
        Seed of the random generator (``None``: fresh entropy).
    """

    def __init__(
        self,
        *,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
    ) -> None:
        if not temperature >= 0.0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.top_k = int(top_k)
        self._rng = np.random.default_rng(seed)

    @property
    def unbiased(self) -> bool:
        """Whether a draw restricted to a token subset equals a draw from the logits masked to
        that subset (no top-k or top-p truncation, which depends on the whole vocabulary)."""
        return self.top_k == 0 and self.top_p == 1.0

    @property
    def greedy(self) -> bool:
        """Whether sampling is deterministic (temperature 0)."""
        return self.temperature == 0.0

    def __call__(self, logits: npt.NDArray[np.floating]) -> int:
        """Return the sampled token id (an index of ``logits``)."""
        if self.greedy:
            return int(np.argmax(logits))
        scaled = np.asarray(logits, dtype=np.float64) / self.temperature
        ids = np.flatnonzero(np.isfinite(scaled))
        if ids.size == 0:
            return int(np.argmax(logits))
        values = scaled[ids]
        if 0 < self.top_k < ids.size:
            keep = np.argpartition(-values, self.top_k - 1)[: self.top_k]
            ids, values = ids[keep], values[keep]
        order = np.argsort(-values, kind="stable")
        ids, values = ids[order], values[order]
        probs = np.exp(values - values[0])
        probs /= probs.sum()
        if self.top_p < 1.0:
            cut = int(np.searchsorted(np.cumsum(probs), self.top_p)) + 1
            ids, probs = ids[:cut], probs[:cut] / probs[:cut].sum()
        return int(self._rng.choice(ids, p=probs))
