"""The generation benchmark on Hugging Face transformers: corral vs unconstrained, and vs the
transformers integrations of XGrammar and llguidance where they are installed.

The same schemas, prompt and metrics as :mod:`corral.jsonschemabench.generation`; the model is
SmolLM2 dequantized from the same GGUF (:func:`corral.backends.transformers.load_hf`), greedy
(``do_sample=False``), batch of one. Conditions, each a ``model.generate`` call whose
``logits_processor`` list starts with the timing processor that stamps every step:

* ``unconstrained``;
* ``corral`` — :class:`~corral.backends.transformers.HFLogitsProcessor`;
* ``corral loop`` — corral's own decoding loop on :class:`~corral.backends.transformers.HFRuntime`
  (jump-forward; per-token times from the gaps between its chunks, as on llama.cpp);
* ``xgrammar`` — ``xgrammar.contrib.hf.LogitsProcessor`` over
  ``GrammarCompiler.compile_json_schema`` with XGrammar's defaults;
* ``llguidance`` — llguidance ships no transformers processor, only the pieces of one
  (``llguidance.hf.from_tokenizer``, ``LLMatcher``, ``llguidance.torch``'s fill and apply);
  :class:`LLGuidanceProcessor` is the few lines that join them, with the options of
  :data:`~corral.jsonschemabench.engines.LLGUIDANCE_OPTIONS`.

A peer that raises or reports an error on a schema counts as not compiled.
"""

from __future__ import annotations

import functools
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from corral.backends.api import Model, RunStats, generate
from corral.backends.transformers import HFLogitsProcessor
from corral.errors import CorralError
from corral.grammars.ir import Grammar
from corral.jsonschemabench.engines import LLGUIDANCE_OPTIONS
from corral.jsonschemabench.generation import (
    Outcome,
    Stamps,
    loop_steps,
    measured,
    prompt_text,
    run_cases,
)

__all__ = ["LLGuidanceProcessor", "Peers", "run_hf_generation_bench"]


class LLGuidanceProcessor:
    """A transformers logits processor over an ``llguidance.LLMatcher`` (one row, one call)."""

    def __init__(self, matcher: Any, vocab_size: int) -> None:
        from llguidance.torch import allocate_token_bitmask

        self.matcher = matcher
        self.mask = allocate_token_bitmask(1, vocab_size)
        self.started = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        from llguidance.torch import apply_token_bitmask_inplace, fill_next_token_bitmask

        if self.started:
            self.matcher.consume_token(int(input_ids[0, -1]))
        self.started = True
        fill_next_token_bitmask(self.matcher, self.mask, 0)
        apply_token_bitmask_inplace(scores, self.mask)
        return scores


class Peers:
    """The peer engines installed here, set up once for the model's tokenizer.

    Parameters
    ----------
    hf_tokenizer:
        The model's (fast) transformers tokenizer.
    vocab_size:
        The model's vocabulary size (columns of its logits).
    """

    def __init__(self, hf_tokenizer: Any, vocab_size: int) -> None:
        self.vocab_size = vocab_size
        self.xgrammar: Any = None
        self.llguidance: Any = None
        try:
            import xgrammar

            info = xgrammar.TokenizerInfo.from_huggingface(hf_tokenizer, vocab_size=vocab_size)
            self.xgrammar = xgrammar.GrammarCompiler(info)
        except ImportError:
            pass
        try:
            import llguidance.hf

            self.llguidance = llguidance.hf.from_tokenizer(hf_tokenizer, n_vocab=vocab_size)
        except ImportError:
            pass

    @property
    def names(self) -> list[str]:
        """The peers available, in the order they run."""
        return [n for n in ("xgrammar", "llguidance") if getattr(self, n) is not None]

    def processor(self, name: str, schema: Any) -> Any:
        """A fresh processor of peer ``name`` for ``schema``; raises if it cannot compile it."""
        if name == "xgrammar":
            import xgrammar.contrib.hf

            compiled = self.xgrammar.compile_json_schema(json.dumps(schema))
            return xgrammar.contrib.hf.LogitsProcessor(compiled)
        import llguidance

        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            schema, defaults=cast("Any", dict(LLGUIDANCE_OPTIONS))
        )
        matcher = llguidance.LLMatcher(self.llguidance, grammar, log_level=0)
        if matcher.is_error():
            raise ValueError(matcher.get_error())
        return LLGuidanceProcessor(matcher, self.vocab_size)


def _hf_completion(
    model: Model, prompt: str, max_tokens: int, extra: list[Any]
) -> tuple[str, int, list[float], float]:
    """One greedy ``generate`` call: text, tokens (end-of-sequence excluded), step times in ms,
    time to first token in ms."""
    import torch
    from transformers import LogitsProcessorList

    runtime = model.runtime
    hf_model, hf_tok = runtime.model, runtime.hf_tokenizer
    ids = torch.tensor([runtime.encode_prompt(prompt)], dtype=torch.long)
    eos = model.tokenizer.eos_token_ids
    stamps = Stamps()
    start = time.perf_counter()
    with torch.no_grad():
        out = hf_model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
            do_sample=False, temperature=None, top_p=None, top_k=None,
            logits_processor=LogitsProcessorList([stamps, *extra]),
            pad_token_id=min(eos), eos_token_id=sorted(eos),
        )  # fmt: skip
    end = time.perf_counter()
    new = [int(t) for t in out[0, ids.shape[1] :]]
    while new and new[-1] in eos:
        new.pop()
    times = [*stamps.times, end]
    steps = [1000 * (b - a) for a, b in itertools.pairwise(times)]
    first = 1000 * ((stamps.times[0] if stamps.times else end) - start)
    text: str = hf_tok.decode(new, skip_special_tokens=True)
    return text, len(new), steps, first


def _hf_conditions(
    model: Model, peers: Peers, name: str, schema: Any, prompt: str, max_tokens: int
) -> Iterator[Outcome]:
    outcome = functools.partial(measured, name, schema, max_tokens)

    yield outcome("unconstrained", *_hf_completion(model, prompt, max_tokens, []))
    try:
        compiled = model.compile(Grammar.from_json_schema(schema))
    except CorralError as exc:
        for cond in ("corral", "corral loop"):
            yield Outcome(name, cond, False, error=str(exc)[:200])
    else:
        proc = HFLogitsProcessor(compiled, max_tokens=max_tokens)
        result = _hf_completion(model, prompt, max_tokens, [proc])
        yield outcome("corral", *result, completion_tokens=proc.rows[0].stats.completion_tokens)
        stats = RunStats()
        text = generate(model, prompt, grammar=compiled.grammar, max_tokens=max_tokens,
                        chat=False, stats=stats)  # fmt: skip
        g = stats.generation
        per = loop_steps(stats)
        yield outcome("corral loop", text, g.tokens, per,
                      1000 * stats.first_token_seconds, forced_tokens=g.forced_tokens,
                      completion_tokens=g.completion_tokens)  # fmt: skip
    for peer in peers.names:
        try:
            proc = peers.processor(peer, schema)
        except Exception as exc:  # any failure of a peer counts as "not compiled"
            yield Outcome(name, peer, False, error=f"{type(exc).__name__}: {exc}"[:200])
            continue
        yield outcome(peer, *_hf_completion(model, prompt, max_tokens, [proc]))


def run_hf_generation_bench(
    model: Model,
    cases: Sequence[tuple[str, Any]],
    *,
    max_tokens: int = 200,
    progress: Any = None,
) -> list[Outcome]:
    """Run every condition on every case (a transformers :class:`Model`), interleaved per
    schema, after one untimed warm-up run of every condition (torch's first call, each engine's
    first mask and per-tokenizer tables)."""
    runtime = model.runtime
    peers = Peers(runtime.hf_tokenizer, runtime.vocab_size)
    warm = {"type": "object", "properties": {"a": {"type": "integer"}}}
    list(_hf_conditions(model, peers, "warm-up", warm, prompt_text(model, warm), 4))
    return run_cases(
        model,
        cases,
        lambda name, schema, prompt: _hf_conditions(model, peers, name, schema, prompt, max_tokens),
        progress,
    )
