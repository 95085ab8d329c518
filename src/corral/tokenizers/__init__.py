"""Tokenizers for grammar-constrained decoding: exact token bytes, special ids, BPE encoding.

Loaders read GGUF model files (the GGUF specification), Hugging Face ``tokenizer.json`` files and
tiktoken files; encoding is byte-pair encoding (Sennrich et al. 2016), byte-level (GPT-2's
byte-to-unicode mapping) or SentencePiece-style. See :class:`Tokenizer`.
"""

from __future__ import annotations

from corral.errors import TokenizerError
from corral.tokenizers.base import Tokenizer
from corral.tokenizers.default import default_gguf_path, qwen_tiktoken_path

__all__ = ["Tokenizer", "TokenizerError", "default_gguf_path", "qwen_tiktoken_path"]
