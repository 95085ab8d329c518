"""Generation backends: llama.cpp and transformers runtimes, corral's decoding loop, the
high-level :func:`generate` API and decorators, and the diffusion sampler.

Floor 5: built on the constraint engine and infilling; ``llama_cpp``, ``torch`` and
``transformers`` are imported only when a backend that needs them is used.
"""

from __future__ import annotations

from corral.backends.api import (
    Model,
    RunStats,
    as_model,
    constraint_grammar,
    generate,
    generate_json,
    load_model,
)
from corral.backends.decorators import constrained, function
from corral.backends.diffusion import DiffusionResult, diffusion_generate
from corral.backends.jump_forward import TokenBoundary
from corral.backends.sampling import Sampler
from corral.backends.steering import GenerationStats, Steering, TokenRejected
from corral.backends.types import Regex, constraint_for_type

__all__ = [
    "DiffusionResult",
    "GenerationStats",
    "Model",
    "Regex",
    "RunStats",
    "Sampler",
    "Steering",
    "TokenBoundary",
    "TokenRejected",
    "as_model",
    "constrained",
    "constraint_for_type",
    "constraint_grammar",
    "diffusion_generate",
    "function",
    "generate",
    "generate_json",
    "load_model",
]
