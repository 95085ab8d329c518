"""Canvas tasks of ``corral bench infill`` (DLM-style): diffusion canvases filled in random order.

* **Replay.** A valid document (a JSONSchemaBench dev instance with its schema's grammar, or a
  random word of the shipped C-like and SQL grammars), tokenized and padded with end of sequence
  to a canvas of ``length`` tokens, is placed position by position in a random order with
  :meth:`corral.infill.Canvas.place` — each placement one exact completability check. Every
  placement must be accepted (a refusal is a wrong answer), the final text must be the document,
  and a check past ``Limits.max_infill_work`` is a timeout.
* **Decoding loop.** :func:`corral.backends.diffusion.diffusion_generate` on the same grammars
  with a seeded random denoiser, constrained by masks (row ``loop N``), by checked proposals
  (``loop N propose``) and unconstrained; the share of final texts the matcher accepts (the
  constrained loops must reach 100 %). Timeouts count loops stopped by a check past the work
  bound and masks past it whose token the loop drew by checks instead
  (:attr:`~corral.backends.diffusion.DiffusionResult.past_bound`).

Per task: time per placed token (p50, p99, max), wrong answers, timeouts, and the loops'
shares.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from corral.backends.diffusion import Denoiser, diffusion_generate
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.matcher import Matcher
from corral.errors import GrammarError, LimitExceeded
from corral.infill import Canvas
from corral.tokenizers.base import Tokenizer

__all__ = ["LOOP_MODES", "run_canvas_tasks"]

LOOP_MODES = ("mask", "propose")
"""The constrained decoding loops run per task: masks (``Canvas.allowed``) at every placed
position, and checked proposals (the denoiser's best tokens tried with ``Canvas.place``, the
mask only when none fits: :func:`corral.backends.diffusion.diffusion_generate`)."""


def _accepts(cg: CompiledGrammar, text: bytes) -> bool:
    m = Matcher(cg)
    return m.accept_bytes(text) and m.is_accepting()


def _replay(cg: CompiledGrammar, ids: list[int], length: int, rng: random.Random) -> dict[str, Any]:
    seq = ids + [cg.eos_ids[0]] * (length - len(ids))
    canvas = Canvas(cg, length)
    ms: list[float] = []
    wrong = timeouts = 0
    for p in rng.sample(range(length), length):
        start = time.perf_counter()
        try:
            ok = canvas.place(p, seq[p])
        except LimitExceeded:
            timeouts += 1
            break
        ms.append((time.perf_counter() - start) * 1000)
        if not ok:
            wrong += 1
            break
    if (
        not wrong
        and not timeouts
        and canvas.text() != b"".join(cg.token_bytes(t) or b"" for t in ids)
    ):
        wrong += 1
    return {"ms": ms, "wrong": wrong, "timeouts": timeouts}


def _denoiser(vocab: int, seed: int) -> Denoiser:
    """Seeded random logits (a fresh stream per loop: every mode sees the same denoiser)."""
    rng = np.random.default_rng(seed)

    def denoise(tokens: Sequence[int | None]) -> np.ndarray:
        return rng.normal(size=(len(tokens), vocab))

    return denoise


def _loop(cg: CompiledGrammar, length: int, seed: int) -> dict[str, Any]:
    got: dict[str, Any] = {}
    for mode in (*LOOP_MODES, "none"):
        denoise = _denoiser(cg.vocab_size, seed)
        try:
            res = diffusion_generate(cg, denoise, length, mode=mode, per_step=2)
        except LimitExceeded:
            got[mode] = {"ms": [], "timeouts": 1, "in_language": False, "done": False}
            continue
        ms = [s * 1000 for s in res.constraint_seconds]
        got[mode] = {"ms": ms, "timeouts": res.past_bound, "done": True,
                     "in_language": _accepts(cg, res.text)}  # fmt: skip
    return got


def run_canvas_tasks(
    docs: dict[str, list[tuple[CompiledGrammar, bytes]]],
    tok: Tokenizer,
    lengths: Sequence[int],
    *,
    loops: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay every document that fits each canvas length, and run ``loops`` decoding loops per
    task (on its first grammars, at the smallest length); ``{task: {row: stats}}``."""
    rng = random.Random(seed)
    total = sum(len(d) for d in docs.values()) * len(lengths)
    done = 0
    out: dict[str, Any] = {}
    for task, items in docs.items():
        rows = out[task] = {}
        for length in lengths:
            row = rows[f"replay {length}"] = {"ms": [], "wrong": 0, "timeouts": 0, "canvases": 0}
            for cg, word in items:
                done += 1
                ids = tok.encode(word)
                if len(ids) <= length and all(cg.token_bytes(t) is not None for t in ids):
                    got = _replay(cg, ids, length, rng)
                    row["canvases"] += 1
                    row["ms"] += got["ms"]
                    row["wrong"] += got["wrong"]
                    row["timeouts"] += got["timeouts"]
                if progress is not None:
                    progress(done, total)
        length = min(lengths)
        loop_rows: dict[str, dict[str, Any]] = {
            mode: {"ms": [], "wrong": 0, "timeouts": 0, "canvases": 0, "in_language": 0,
                   "free_in_language": 0}
            for mode in LOOP_MODES
        }  # fmt: skip
        for mode, row in loop_rows.items():
            rows[f"loop {length}" + ("" if mode == "mask" else f" {mode}")] = row
        for k, (cg, _) in enumerate(items[:loops]):
            try:
                got = _loop(cg, length, seed + k)
            except GrammarError:  # no word of the grammar fits the canvas
                continue
            for mode, row in loop_rows.items():
                mine = got[mode]
                row["canvases"] += 1
                row["ms"] += mine["ms"]
                row["timeouts"] += mine["timeouts"]
                row["in_language"] += mine["in_language"]
                row["free_in_language"] += got["none"]["in_language"]
                row["wrong"] += mine["done"] and not mine["in_language"]
    return out
