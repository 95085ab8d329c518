"""The llama.cpp backend, on llama-cpp-python.

Two ways in:

* :class:`LlamaLogitsProcessor` — for llama-cpp-python's own API
  (``Llama.create_completion(..., logits_processor=LogitsProcessorList([p]))`` or
  ``create_chat_completion``): it advances a matcher with each sampled token and masks the
  candidates' logits in place with the native apply (llama-cpp-python hands a processor a
  strided view of its candidate records; the apply writes through the strides, no copy);
* :class:`LlamaRuntime` — the low-level calls (``eval``, the last position's logits) that
  corral's own decoding loop (:func:`corral.backends.loop.decode`) drives, with jump-forward
  and guaranteed completion.

``llama_cpp`` is imported only when one of these is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from corral.backends.steering import Steering
from corral.constraint_engine.bitmask import allocate_token_bitmask, apply_token_bitmask_inplace
from corral.tokenizers import Tokenizer

if TYPE_CHECKING:
    import numpy.typing as npt

    from corral.constraint_engine.compiler import CompiledGrammar

__all__ = ["LlamaLogitsProcessor", "LlamaRuntime", "load_llama"]


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the llama.cpp backend needs llama-cpp-python: bash scripts/setup.sh main builds it"
        ) from exc
    return llama_cpp


def load_llama(
    path: str | os.PathLike[str],
    *,
    n_ctx: int = 2048,
    n_threads: int | None = None,
    seed: int = 0,
) -> Any:
    """Load a GGUF model with llama-cpp-python (quietly, CPU threads = cores by default)."""
    llama_cpp = _llama_cpp()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such model file: {os.fspath(path)}")
    threads = n_threads if n_threads is not None else max(1, os.cpu_count() or 1)
    return llama_cpp.Llama(
        model_path=os.fspath(path), n_ctx=n_ctx, n_threads=threads, seed=seed, verbose=False
    )


def _check_vocab(compiled: CompiledGrammar, n_vocab: int) -> None:
    if compiled.vocab_size != n_vocab:
        raise ValueError(
            f"the model has {n_vocab} token ids but the grammar was compiled for "
            f"{compiled.vocab_size} (tokenizer {compiled.tokenizer.name!r}): compile it for "
            "the model's tokenizer, with vocab_size= the model's vocabulary size"
        )


class LlamaLogitsProcessor:
    """A llama-cpp-python logits processor that enforces a compiled grammar.

    One processor serves one generation: make a fresh one per call.

    Parameters
    ----------
    compiled:
        Grammar compiled for the model's tokenizer, with ``vocab_size`` the model's
        ``n_vocab()``.
    max_tokens:
        The ``max_tokens`` of the call; with ``complete_on_budget`` the output is steered to
        the shortest completion before the budget runs out.
    complete_on_budget:
        Guaranteed-complete output (default on when ``max_tokens`` is given).

    Raises
    ------
    ValueError
        When called on logits of another vocabulary size, or reused for a second generation.
    """

    def __init__(
        self,
        compiled: CompiledGrammar,
        *,
        max_tokens: int | None = None,
        complete_on_budget: bool = True,
    ) -> None:
        self.steering = Steering(
            compiled, max_tokens=max_tokens, complete_on_budget=complete_on_budget
        )
        self._mask = allocate_token_bitmask(1, compiled.vocab_size)
        self._prompt_len: int | None = None

    def __call__(
        self, input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]
    ) -> npt.NDArray[np.single]:
        steering = self.steering
        _check_vocab(steering.compiled, int(scores.shape[-1]))
        if self._prompt_len is None:
            self._prompt_len = len(input_ids)
        seen = self._prompt_len + steering.stats.tokens
        if len(input_ids) < seen:
            raise ValueError("a LlamaLogitsProcessor serves one generation: make a new one")
        for token in input_ids[seen:]:
            steering.advance(int(token))
        steering.fill(self._mask, 0, scores)
        apply_token_bitmask_inplace(scores, self._mask[0])
        return scores


class LlamaRuntime:
    """llama-cpp-python's low-level calls, for corral's decoding loop.

    Parameters
    ----------
    llm:
        A ``llama_cpp.Llama``.
    tokenizer:
        corral's tokenizer of the same model; default: read from ``llm.model_path``.
    """

    name = "llama.cpp"

    def __init__(self, llm: Any, tokenizer: Tokenizer | None = None) -> None:
        self._llama_cpp = _llama_cpp()
        self.llm = llm
        self.tokenizer = tokenizer if tokenizer is not None else Tokenizer.from_gguf(llm.model_path)
        self.vocab_size = int(llm.n_vocab())
        self.n_ctx = int(llm.n_ctx())
        if self.vocab_size < self.tokenizer.vocab_size:
            raise ValueError(
                f"the model has {self.vocab_size} token ids, fewer than its tokenizer's "
                f"{self.tokenizer.vocab_size}"
            )

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str | None:
        """The prompt text of ``messages`` under the model's chat template (``None``: none)."""
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        tok = self.tokenizer
        eos = tok.token_bytes(tok.eos_token_ids[0]).decode() if tok.eos_token_ids else ""
        bos = tok.token_bytes(tok.bos_token_id).decode() if tok.bos_token_id is not None else ""
        formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        text: str = formatter(messages=list(messages)).prompt  # type: ignore[arg-type]
        return text

    def encode_prompt(self, text: str) -> list[int]:
        """Token ids of a prompt (special tokens of a chat template included)."""
        return [int(t) for t in self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)]

    def start(self, prompt_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Forget earlier state, evaluate the prompt; the logits of its last position."""
        self.llm.reset()
        return self.eval(prompt_ids)

    def eval(self, ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Evaluate ``ids`` after the tokens so far (one batch); the last position's logits.

        The returned array is llama.cpp's own buffer (writable, valid until the next call).
        """
        self.llm.eval(list(ids))
        pointer = self._llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits: npt.NDArray[np.float32] = np.ctypeslib.as_array(pointer, shape=(self.vocab_size,))
        return logits
