"""Template filling with an autoregressive model: each hole written left to right, the rest of
the template kept completable at every step.

The loop reads a template ``x0 H x1 H … xn`` (fixed parts and ``Hole()``), feeds the fixed parts
to the model as they come, and writes each hole token by token from the model's logits by
*checked proposals*: candidates in order of score, the first one kept for which the text so far,
then the rest of the template, is still completable (:func:`corral.infill.is_completable`). A
candidate that is end of sequence, or whose bytes begin the next fixed part, *closes* the hole
instead (the fixed part is appended), when the text so far may be followed by it. If no candidate
among the first ``tries`` does, or a hole's token budget runs out, the hole is closed by the
shortest way the check finds (:func:`corral.infill.complete`). So the output is always complete
and always in the language, whatever the model proposes.

The model is any runtime with ``start(prompt_ids) -> logits`` and ``eval(ids) -> logits``
(:class:`corral.backends.loop.Runtime`: llama.cpp, transformers, or a synthetic one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import GrammarError
from corral.infill import completable_bytes, complete_bytes, is_completable
from corral.infill.chart import Chart
from corral.infill.outside import slot_tokens
from corral.infill.template import Hole, Part, pattern_of, resolve_tokens

__all__ = ["fill_template"]


def _fixed(part: Part) -> bytes:
    return part.encode("utf-8") if isinstance(part, str) else bytes(part)  # type: ignore[arg-type]


def fill_template(
    runtime: Any,
    prompt_ids: Sequence[int],
    compiled: CompiledGrammar,
    template: Sequence[Part],
    *,
    max_tokens_per_hole: int = 32,
    tries: int = 64,
    masks: bool = False,
) -> bytes:
    """Fill every hole of ``template`` with ``runtime``'s proposals; the completed text.

    Parameters
    ----------
    runtime:
        ``start(prompt_ids) -> logits`` and ``eval(ids) -> logits`` (one row of scores over
        ``compiled``'s vocabulary).
    prompt_ids:
        The prompt's token ids (the template's text follows them).
    compiled:
        The grammar the whole text must be in.
    template:
        Fixed parts (``bytes``/``str``, or lists of token ids) and ``Hole()`` s (any bytes).
    max_tokens_per_hole:
        Tokens the model may write into one hole before it is closed the shortest way.
    tries:
        Candidates tried per step, best first, before the hole is closed the shortest way.
    masks:
        Compute, at each step, the exact set of tokens that keep the rest of the template
        completable (:func:`corral.infill.outside.slot_tokens` on a one-token hole after the
        text so far) and take the best of them, instead of checking the proposals one by one;
        the hole is then closed the shortest way only when no token is left or its budget is
        spent.

    Returns
    -------
    bytes
        A string of the language that keeps every fixed part in order.

    Raises
    ------
    GrammarError
        The template cannot be completed at all, or has token-count holes.
    """
    parts = resolve_tokens(template, compiled)
    if any(isinstance(p, Hole) and (p.tokens is not None or p.max_tokens is not None)
           for p in parts):  # fmt: skip
        raise GrammarError("fill_template: token-count holes are for canvases, not this loop")
    if not is_completable(compiled, parts):
        raise GrammarError("fill_template: no completion of the template is in the language")
    tok = compiled.tokenizer
    eos = set(compiled.eos_ids)
    fixed = [b""]  # the fixed text between holes (consecutive holes are one)
    gap = False
    for p in parts:
        if isinstance(p, Hole):
            if not gap:
                fixed.append(b"")
            gap = True
        else:
            fixed[-1] += _fixed(p)
            gap = False
    text = fixed[0]
    logits = runtime.start([*prompt_ids, *tok.encode(text)])
    for k in range(1, len(fixed)):
        nxt, tail = fixed[k], _tail(fixed, k + 1)
        rest: list[Part] = [Hole(), nxt, *tail]

        def closable(t: bytes, nxt: bytes = nxt, tail: list[Part] = tail) -> bool:
            return completable_bytes(compiled, [t + nxt, *tail])

        closed = False
        fed = b""  # bytes of the hole the model has not read yet
        for _ in range(max_tokens_per_hole):
            scores = np.asarray(logits, dtype=np.float64)[: compiled.vocab_size]
            order = np.argsort(-scores, kind="stable")[:tries]
            inside = _inside(compiled, text, rest) if masks else None
            step: int | None = None
            for v in order.tolist():
                data = b"" if v in eos else tok.token_bytes(v)
                cut = _overlap(data, nxt) if v not in eos else 0
                if cut is not None and closable(text + data[:cut]):
                    text += data[:cut]
                    fed = data[:cut]
                    closed = True
                    break
                if data and (
                    inside[v] if inside is not None
                    else completable_bytes(compiled, [text + data, *rest])
                ):  # fmt: skip
                    step = v
                    break
            if not closed and step is None and inside is not None and inside.any():
                step = int(np.argmax(np.where(inside, scores, -np.inf)))
            if closed or step is None:
                break
            text += tok.token_bytes(step)
            logits = runtime.eval([step])
        if not closed and not closable(text):
            done = complete_bytes(compiled, [text, *rest])
            assert done is not None  # the text so far was kept completable
            return done
        text += nxt
        if k + 1 < len(fixed) and fed + nxt:
            logits = runtime.eval(tok.encode(fed + nxt))
    return text


def _inside(compiled: CompiledGrammar, text: bytes, rest: list[Part]) -> np.ndarray:
    """``bool`` per token: those that, after ``text``, keep ``rest`` completable (the exact
    mask of a one-token hole, :mod:`corral.infill.outside`)."""
    mask = np.zeros(compiled.vocab_size, dtype=bool)
    pattern = pattern_of([text, Hole(tokens=1), *rest], compiled.limits, compiled.trie, utf8=False)
    chart = Chart(compiled, pattern)
    mask[slot_tokens(chart, pattern.token_holes[0])] = True
    return mask


def _overlap(data: bytes, nxt: bytes) -> int | None:
    """Where ``data`` begins the next fixed part: the first ``i`` with ``data[i:]`` a non-empty
    prefix of ``nxt`` (``None``: nowhere)."""
    for i in range(len(data)):
        if nxt.startswith(data[i:]):
            return i
    return None


def _tail(fixed: list[bytes], start: int) -> list[Part]:
    out: list[Part] = []
    for later in fixed[start:]:
        out += [Hole(), later]
    return out
