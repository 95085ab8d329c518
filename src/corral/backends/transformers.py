"""The Hugging Face transformers backend.

* :class:`HFLogitsProcessor` — a ``LogitsProcessor`` for ``model.generate(logits_processor=
  [...])``: one matcher per row of the batch, rows of different grammars allowed. Masks are
  applied by the native apply on CPU float32/float16 tensors (through DLPack, in place) and by
  ``masked_fill`` elsewhere (other devices and dtypes).
* :class:`HFRuntime` — a forward pass with a key/value cache, for corral's own decoding loop
  (:func:`corral.backends.loop.decode`).

Beam search is refused: its rows are reordered between steps, which a per-row matcher cannot
follow; the processor notices a row whose history changed and raises.
``torch`` and ``transformers`` are imported only when one of these is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from corral.backends.steering import Steering
from corral.constraint_engine.bitmask import (
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    unpack_bitmask,
)
from corral.tokenizers import Tokenizer

if TYPE_CHECKING:
    import numpy.typing as npt

    from corral.constraint_engine.compiler import CompiledGrammar

__all__ = ["HFLogitsProcessor", "HFRuntime", "load_hf"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("the transformers backend needs torch and transformers") from exc
    return torch


def load_hf(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Load model and tokenizer from a GGUF file (dequantized; no network access)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such model file: {os.fspath(path)}")
    folder, name = os.path.split(os.path.abspath(path))
    tokenizer: Any = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    model.eval()
    return model, tokenizer


class HFLogitsProcessor:
    """A transformers ``LogitsProcessor`` enforcing one grammar per row of the batch.

    One processor serves one ``generate`` call: make a fresh one per call.

    Parameters
    ----------
    compiled:
        One compiled grammar for every row, or one per row (the batch size must then match).
        Each must be compiled with ``vocab_size`` the model's (``model.config.vocab_size``):
        the padding ids past the tokenizer are then masked.
    max_tokens:
        ``max_new_tokens`` of the call, for guaranteed completion.
    complete_on_budget:
        Guaranteed-complete output (default on when ``max_tokens`` is given).

    Raises
    ------
    ValueError
        A batch whose size does not match the grammars, logits of another vocabulary size, beam
        search (a row's history changed), or reuse for a second call.
    """

    def __init__(
        self,
        compiled: CompiledGrammar | Sequence[CompiledGrammar],
        *,
        max_tokens: int | None = None,
        complete_on_budget: bool = True,
    ) -> None:
        self._grammars = compiled
        self._max_tokens = max_tokens
        self._complete = complete_on_budget
        self.rows: list[Steering] = []
        self._history: list[list[int]] = []
        self._done: list[bool] = []
        self._prompt_len = -1
        self._mask: npt.NDArray[np.int32] | None = None

    def _start(self, batch: int, prompt_len: int, vocab: int) -> None:
        grammars = (
            list(self._grammars) if isinstance(self._grammars, Sequence) else [self._grammars]
        )
        if len(grammars) == 1:
            grammars = grammars * batch
        if len(grammars) != batch:
            raise ValueError(
                f"the batch has {batch} rows but {len(grammars)} grammars were given "
                "(beam search and num_return_sequences > 1 are not supported)"
            )
        for cg in grammars:
            if cg.vocab_size != vocab:
                raise ValueError(
                    f"the model's logits have {vocab} columns but a grammar was compiled for "
                    f"{cg.vocab_size} token ids: compile with vocab_size={vocab}"
                )
        self.rows = [
            Steering(cg, max_tokens=self._max_tokens, complete_on_budget=self._complete)
            for cg in grammars
        ]
        self._history = [[] for _ in grammars]
        self._done = [False] * batch
        self._prompt_len = prompt_len
        self._mask = allocate_token_bitmask(batch, vocab)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        batch, length = int(input_ids.shape[0]), int(input_ids.shape[1])
        if self._mask is None:
            self._start(batch, length, int(scores.shape[-1]))
        mask = self._mask
        assert mask is not None
        start = self._prompt_len
        if batch != len(self.rows) or length < start + len(self._history[0]):
            raise ValueError(
                "an HFLogitsProcessor serves one generate() call without beams: make a new one"
            )
        ids = input_ids.detach().cpu().numpy()
        for row, steering in enumerate(self.rows):
            history = self._history[row]
            if history and ids[row, start : start + len(history)].tolist() != history:
                raise ValueError("beam search is not supported: a row's history changed")
            for token in ids[row, start + len(history) :].tolist():
                history.append(int(token))
                if not self._done[row]:
                    self._done[row] = steering.advance(int(token)) or steering.finished
            if self._done[row]:
                mask[row] = 0
                for eos in steering.compiled.eos_ids:
                    mask[row, eos >> 5] |= np.int32(np.uint32(1 << (eos & 31)).view(np.int32))
            else:
                steering.fill(mask, row, scores[row].detach().float().cpu().numpy())
        self._apply(scores, mask)
        return scores

    def _apply(self, scores: Any, mask: npt.NDArray[np.int32]) -> None:
        torch = _torch()
        if scores.device.type == "cpu" and scores.dtype in (torch.float32, torch.float16):
            apply_token_bitmask_inplace(scores, mask)
            return
        allowed = torch.from_numpy(unpack_bitmask(mask, int(scores.shape[-1])))
        scores.masked_fill_(~allowed.to(scores.device), float("-inf"))


class HFRuntime:
    """A causal LM's forward pass with a key/value cache, for corral's decoding loop.

    Parameters
    ----------
    model:
        A transformers causal language model.
    hf_tokenizer:
        Its tokenizer (for the chat template and the prompt).
    tokenizer:
        corral's tokenizer; default ``Tokenizer.from_hf(hf_tokenizer)``.
    """

    name = "transformers"

    def __init__(self, model: Any, hf_tokenizer: Any, tokenizer: Tokenizer | None = None) -> None:
        self._torch = _torch()
        self.model = model
        self.hf_tokenizer = hf_tokenizer
        self.tokenizer = tokenizer if tokenizer is not None else Tokenizer.from_hf(hf_tokenizer)
        self.vocab_size = int(model.config.vocab_size)
        self.n_ctx = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        if self.vocab_size < self.tokenizer.vocab_size:
            raise ValueError(
                f"the model has {self.vocab_size} token ids, fewer than its tokenizer's "
                f"{self.tokenizer.vocab_size}"
            )
        self._past: Any = None
        import transformers

        # transformers 5 renamed the key/value cache argument and output field.
        major = int(str(transformers.__version__).split(".")[0])
        self._cache_name = "cache" if major >= 5 else "past_key_values"

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str | None:
        """The prompt text of ``messages`` under the tokenizer's chat template (``None``: none)."""
        if not getattr(self.hf_tokenizer, "chat_template", None):
            return None
        text: str = self.hf_tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True
        )
        return text

    def encode_prompt(self, text: str) -> list[int]:
        """Token ids of a prompt (special tokens of a chat template included)."""
        return [int(t) for t in self.hf_tokenizer(text, add_special_tokens=True)["input_ids"]]

    def start(self, prompt_ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Forget earlier state, evaluate the prompt; the logits of its last position."""
        self._past = None
        return self.eval(prompt_ids)

    def eval(self, ids: Sequence[int]) -> npt.NDArray[np.float32]:
        """Evaluate ``ids`` after the tokens so far; the last position's logits (a copy)."""
        torch = self._torch
        with torch.no_grad():
            out = self.model(
                input_ids=torch.tensor([list(ids)], dtype=torch.long),
                use_cache=True,
                **{self._cache_name: self._past},
            )
        self._past = getattr(out, self._cache_name)
        logits: npt.NDArray[np.float32] = out.logits[0, -1].to(torch.float32).cpu().numpy().copy()
        return logits
