"""The constraint engine: compile a grammar for a tokenizer, then match and mask tokens."""

from __future__ import annotations

from corral.constraint_engine.bitmask import (
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    apply_token_bitmask_inplace_py,
)
from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.grammar_cache import GrammarCache, grammar_fingerprint
from corral.constraint_engine.mask_cache import MaskCache
from corral.constraint_engine.matcher import Matcher

__all__ = [
    "CompiledGrammar",
    "GrammarCache",
    "MaskCache",
    "Matcher",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "apply_token_bitmask_inplace_py",
    "compile_grammar",
    "grammar_fingerprint",
]
