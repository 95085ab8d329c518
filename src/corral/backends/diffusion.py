"""A constrained sampler for diffusion language models: unmask the canvas, keep it completable.

Diffusion models (LLaDA, Dream) start from a canvas of masked positions and, step by step,
predict every masked position at once and *unmask* some of them. This loop follows LLaDA's
low-confidence remasking (Nie et al. 2025, "Large Language Diffusion Models", Algorithm 5):
each step calls ``denoise(tokens) -> logits (length × vocab)``, scores each masked position by
the probability of its best token, and fixes the ``per_step`` most confident positions; the
others stay masked for the next step. The constraint is a :class:`corral.infill.Canvas`:

* ``mode="mask"``: the chosen position's logits are masked with
  :meth:`~corral.infill.Canvas.allowed` (exact: the tokens that keep the canvas completable),
  then the token is taken (greedy, or sampled with ``temperature``). A mask that runs past the
  work bound gives way to draws in its law, each checked with
  :meth:`~corral.infill.Canvas.place`: without replacement, greedy down the ranking (the mask's
  best token) or from the softmax over the tokens not yet refused (the softmax restricted to the
  mask); a fully masked canvas, where masks cost most, admits most tokens. Where every position
  before is placed, the draws are taken within the left-to-right matcher's mask (a superset of
  the canvas's, so still in the mask's law). When no draw is taken at a position with masked
  positions before it, the next surest position is tried instead (up to two given up per step)
  and the position waits for more of the canvas to be placed — it is not asked again until a
  position before it is placed: its mask gets cheaper as the canvas fills, and the leftmost
  masked position is never given up;
* ``mode="propose"``: *checked proposals* — the position's tokens are tried best first with
  :meth:`~corral.infill.Canvas.place`, up to ``tries`` of them; where every position before it
  is placed, up to 64 more down the ranking among the tokens the left-to-right matcher allows
  after those (a superset of what the position may take); only then the mask is computed
  (greedy decoding only: with a ``temperature`` the mask is sampled from directly). The token
  taken is the best-ranked one that keeps the canvas completable, as with the mask. When every
  proposal at a position with masked positions before it is refused, the next surest position
  is tried instead (up to two positions passed over per step), leaving that position's mask for
  a later step, when more of the canvas is placed: a mask on a mostly masked canvas is the
  dearest check there is, and on ``c.lark`` and ``sql.lark`` one ran past the work bound where
  the other positions' proposals went through. When too few positions are left to place
  ``per_step``, the surest of those passed over take their masks;
* ``mode="none"``: the same loop with no constraint (the baseline of ``corral bench infill``).

The canvas stays completable after every placed token, so no masked position ever has an empty
mask, and the final canvas's text is in the language: the tokens up to the first end of
sequence (which pads the canvas end, as diffusion models pad).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.matcher import Matcher
from corral.errors import GrammarError, LimitExceeded
from corral.infill.canvas import Canvas

__all__ = ["Denoiser", "DiffusionResult", "diffusion_generate"]

Denoiser = Callable[[Sequence[int | None]], npt.ArrayLike]
"""``denoise(tokens)``: logits of shape ``(length, vocab)`` for a canvas (``None`` = masked);
rows of positions that are not masked are ignored."""

_MODES = ("mask", "propose", "none")
_BOUND_TRIES = 64
"""Proposals tried down the ranking within the matcher's mask (``mode="propose"``, where the
positions before the chosen one are all placed) before the canvas's mask is computed."""
_FALLBACK_TRIES = 16
"""Draws at a position whose mask ran past the work bound (:func:`_in_the_masks_law`)."""
_PASSES = 2
"""Positions passed over per step when every proposal there is refused (``mode="propose"``),
and positions given up per step when their mask ran past the bound and no draw was taken: the
next surest position is tried instead, and the mask is left for a later step, when more of the
canvas is placed (a mask on a mostly masked canvas is the dearest check)."""


@dataclass(frozen=True)
class DiffusionResult:
    """What :func:`diffusion_generate` produced.

    Attributes
    ----------
    tokens:
        The token at each canvas position.
    text:
        The bytes of the tokens up to the first end of sequence.
    steps:
        Denoiser calls.
    checks:
        Completability checks run (charts; answers read from a mask are free).
    refused:
        Proposals that :meth:`~corral.infill.Canvas.place` refused (``mode="propose"``).
    constraint_seconds:
        Time spent in the constraint for each placed token, in placing order.
    past_bound:
        Masks that ran past ``Limits.max_infill_work``: their tokens drawn in the mask's law
        instead, or their positions left for a later step (:func:`diffusion_generate`).
    """

    tokens: tuple[int, ...]
    text: bytes
    steps: int
    checks: int
    refused: int
    constraint_seconds: tuple[float, ...]
    past_bound: int = 0


def _logits(denoise: Denoiser, tokens: Sequence[int | None], vocab: int) -> np.ndarray:
    raw = np.asarray(denoise(tokens), dtype=np.float64)
    if raw.ndim != 2 or raw.shape[0] != len(tokens) or raw.shape[1] < vocab:
        raise ValueError(
            f"denoise returned logits of shape {raw.shape}, expected ({len(tokens)}, >= {vocab})"
        )
    out = raw[:, :vocab].copy()
    out[np.isnan(out)] = -np.inf
    return out


def _pick(scores: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature <= 0:
        return int(np.argmax(scores))
    finite = np.isfinite(scores)
    z = np.where(finite, scores / temperature, -np.inf)
    z -= z[finite].max()
    p = np.exp(z)
    return int(rng.choice(scores.shape[0], p=p / p.sum()))


def _prefix_bound(canvas: Canvas, p: int) -> npt.NDArray[np.bool_] | None:
    """Where every position before ``p`` holds a text token, the tokens the left-to-right
    matcher allows after them (end of sequence where it accepts), else ``None``. A superset of
    what ``p`` may take: a completion's text starts with those tokens and ``p``'s, a prefix of
    a word of the language, and the matcher's mask is exact on prefixes."""
    cg = canvas.compiled
    eos = set(cg.eos_ids)
    matcher = Matcher(cg)
    for t in canvas.tokens[:p]:
        data = None if t is None or t in eos else cg.token_bytes(t)
        if data is None or not matcher.accept_bytes(data):
            return None
    return matcher.allowed_token_mask()


def _proposals(canvas: Canvas, p: int, row: np.ndarray, tries: int) -> tuple[int, int, bool]:
    """Greedy checked proposals at ``p`` (module docstring): the token placed (``-1``: none),
    the proposals refused, and, when none was placed, whether every position before ``p``
    holds a text token (the matcher's mask was then searched too; ``True`` once one is placed).
    """
    refused = 0
    ranked = np.argsort(-row, kind="stable")
    for cand in ranked[:tries].tolist():
        if np.isfinite(row[cand]) and canvas.place(p, cand):
            return cand, refused, True
        refused += 1
    bound = _prefix_bound(canvas, p)
    if bound is not None:  # on down the ranking, within the matcher's mask
        more = ranked[tries:][bound[ranked[tries:]]][:_BOUND_TRIES]
        for cand in more.tolist():
            if not np.isfinite(row[cand]):
                break  # the ranking is descending: the rest is -inf too
            if canvas.place(p, cand):
                return cand, refused, True
            refused += 1
    return -1, refused, bound is not None


def _masked(
    canvas: Canvas, p: int, row: np.ndarray, temperature: float, rng: np.random.Generator
) -> tuple[int, bool]:
    """The token taken at ``p`` from the canvas's mask (placed), and whether the mask ran past
    the work bound (the token then came from :func:`_in_the_masks_law`)."""
    try:
        allowed = canvas.allowed_mask(p)
    except LimitExceeded:
        tok = _in_the_masks_law(canvas, p, row, temperature, rng)
        if tok < 0:
            raise
        return tok, True
    tok = _pick(np.where(allowed, row, -np.inf), temperature, rng)
    if not allowed[tok]:  # every allowed token scored -inf: take one anyway
        tok = int(np.flatnonzero(allowed)[0])
    placed = canvas.place(p, tok)
    assert placed, "a token of the mask keeps the canvas completable"
    return tok, False


def _in_the_masks_law(
    canvas: Canvas, p: int, row: np.ndarray, temperature: float, rng: np.random.Generator
) -> int:
    """Where the mask at ``p`` ran past the work bound: the token drawn as from the mask, by
    :meth:`Canvas.place` checks (placed; ``-1`` when none is taken within
    ``_FALLBACK_TRIES`` draws, or a check runs past the bound too). Draws go without
    replacement: greedy, down the ranking, so the first token taken is the mask's best; sampled,
    from the softmax over the tokens not yet refused, so a token ``t`` the canvas takes is
    drawn with probability ``p(t) / p(taken)``, the softmax restricted to the mask. Where every
    position before ``p`` holds a text token, only tokens of the left-to-right matcher's mask
    (:func:`_prefix_bound`, a superset of the canvas's) are drawn: the same law, fewer draws
    spent on tokens the canvas refuses."""
    scores = row.copy()
    bound = _prefix_bound(canvas, p)
    if bound is not None:  # a superset of the mask: drawing within it keeps the mask's law
        scores[~bound[: scores.shape[0]]] = -np.inf
    for _ in range(_FALLBACK_TRIES):
        if not np.isfinite(scores).any():
            return -1
        cand = _pick(scores, temperature, rng)
        try:
            if canvas.place(p, cand):
                return cand
        except LimitExceeded:
            return -1
        scores[cand] = -np.inf
    return -1


def _confidence(row: np.ndarray) -> float:
    finite = row[np.isfinite(row)]
    if finite.shape[0] == 0:
        return 0.0
    top = finite.max()
    return float(1.0 / np.exp(finite - top).sum())


def diffusion_generate(
    compiled: CompiledGrammar,
    denoise: Denoiser,
    length: int,
    *,
    mode: str = "mask",
    per_step: int = 1,
    tries: int = 8,
    temperature: float = 0.0,
    seed: int | None = None,
) -> DiffusionResult:
    """Fill a canvas of ``length`` positions with ``denoise``'s predictions, in the order of
    LLaDA's low-confidence remasking, keeping the canvas completable (see the module docstring).

    Parameters
    ----------
    compiled:
        The grammar the text must be in (and the vocabulary).
    denoise:
        ``denoise(tokens) -> logits`` of shape ``(length, vocab)``; columns past the compiled
        vocabulary are ignored, NaN counts as minus infinity.
    length:
        Canvas positions (``1 <= length <= corral.infill.canvas.MAX_CANVAS``).
    mode:
        ``"mask"``, ``"propose"`` or ``"none"`` (unconstrained).
    per_step:
        Positions unmasked per denoiser call (``>= 1``).
    tries:
        Proposals tried per position before the mask (``mode="propose"``; ``>= 1``).
    temperature:
        ``0``: the best allowed token; above: sampled from the softmax over allowed tokens.
    seed:
        Seed of the sampling generator.

    Returns
    -------
    DiffusionResult
        With ``mode`` ``"mask"`` or ``"propose"``, ``text`` is always in the language.

    Raises
    ------
    GrammarError
        No text of the language fits in ``length`` tokens (nothing is generated), or the
        grammar has run-time ``uniqueItems`` checks.
    TypeError, ValueError
        A bad argument, or logits of the wrong shape.
    LimitExceeded
        A proposal's check went past ``Limits.max_infill_work`` steps, or a mask did and no
        token was taken in the mask's law within 16 draws at a position that may not wait (where
        a mask runs past the bound, its token is drawn by :meth:`~corral.infill.Canvas.place`
        checks instead, without replacement: greedy, down the ranking — the mask's best token;
        sampled, from the softmax over the tokens not yet refused — the softmax restricted to
        the mask; when none is taken, a position with masked positions before it waits, at most
        two per step; counted in :attr:`DiffusionResult.past_bound`).
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    for name, value in (("per_step", per_step), ("tries", tries)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    canvas = Canvas(compiled, length)
    if mode != "none" and not canvas.is_completable():
        raise GrammarError(
            f"{compiled.grammar.source}: no text of the language fits in {length} tokens: "
            "nothing can be generated"
        )
    rng = np.random.default_rng(seed)
    tokens: list[int | None] = [None] * length
    spent: list[float] = []
    steps = refused = past_bound = 0
    waiting: dict[int, int] = {}  # position -> positions placed before it when it last waited
    while any(t is None for t in tokens):
        logits = _logits(denoise, tuple(tokens), compiled.vocab_size)
        steps += 1
        masked = [i for i, t in enumerate(tokens) if t is None]
        order = sorted(masked, key=lambda i: -_confidence(logits[i]))
        if mode == "none":
            for p in order[:per_step]:
                tokens[p] = _pick(logits[p], temperature, rng)
            continue
        placed_now = 0
        passed: list[int] = []  # positions whose proposals were all refused, this step
        given_up: list[int] = []  # positions whose mask and draws found no token, this step
        start = time.perf_counter()
        for p in order:
            if placed_now == per_step:
                break
            before = p - tokens[:p].count(None)
            if waiting.get(p) == before:
                continue  # its mask ran past the bound: asked again once more is placed before
            row = logits[p]
            tok = -1
            if mode == "propose" and temperature <= 0:
                tok, n_refused, placed_before = _proposals(canvas, p, row, tries)
                refused += n_refused
                if tok < 0 and not placed_before and len(passed) < _PASSES:
                    passed.append(p)
                    continue
            if tok < 0:
                try:
                    tok, past = _masked(canvas, p, row, temperature, rng)
                except LimitExceeded:
                    if len(given_up) == _PASSES or None not in tokens[:p]:
                        raise
                    given_up.append(p)  # its mask waits for more of the canvas
                    waiting[p] = before
                    past_bound += 1
                    continue
                past_bound += past
            tokens[p] = tok
            placed_now += 1
            spent.append(time.perf_counter() - start)
            start = time.perf_counter()
        for p in passed:  # too few placed: the surest positions passed over take their masks
            if placed_now == per_step:
                break
            tokens[p], past = _masked(canvas, p, logits[p], temperature, rng)
            past_bound += past
            placed_now += 1
            spent.append(time.perf_counter() - start)
            start = time.perf_counter()
    final = [t for t in tokens if t is not None]
    eos = set(compiled.eos_ids)
    text = b"".join(
        compiled.token_bytes(t) or b"" for t in final[: next(
            (i for i, t in enumerate(final) if t in eos), len(final)
        )]
    )  # fmt: skip
    return DiffusionResult(
        tuple(final), text, steps, canvas.checks, refused, tuple(spent), past_bound
    )
