"""corral: grammar-constrained structured generation.

Compile a grammar (Lark, GBNF, regex, choices) for a tokenizer, then let a :class:`Matcher`
mask, at every decoding step, every token that cannot lead to a valid output.

>>> import corral
>>> tok = corral.Tokenizer.default()                      # doctest: +SKIP
>>> cg = corral.compile(corral.Grammar.from_regex(r"[0-9]+"), tok)  # doctest: +SKIP
>>> m = corral.Matcher(cg)                                # doctest: +SKIP
"""

from __future__ import annotations

from corral.automata import AutomataCache
from corral.backends import (
    Model,
    Regex,
    RunStats,
    constrained,
    function,
    generate,
    generate_json,
    load_model,
)
from corral.constraint_engine.bitmask import (
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
)
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.compiler import compile_grammar as compile
from corral.constraint_engine.grammar_cache import GrammarCache, grammar_fingerprint
from corral.constraint_engine.mask_cache import MaskCache
from corral.constraint_engine.matcher import Matcher
from corral.constraint_engine.native_matcher import fill_next_token_bitmask_batch
from corral.errors import (
    CorralError,
    GrammarError,
    LimitExceeded,
    SchemaIssue,
    TokenizerError,
    UnsupportedSchemaError,
)
from corral.grammars.ir import Grammar
from corral.limits import Budget, Limits
from corral.tokenizers import Tokenizer

__all__ = [
    "AutomataCache",
    "Budget",
    "CompiledGrammar",
    "CorralError",
    "Grammar",
    "GrammarCache",
    "GrammarError",
    "LimitExceeded",
    "Limits",
    "MaskCache",
    "Matcher",
    "Model",
    "Regex",
    "RunStats",
    "SchemaIssue",
    "Tokenizer",
    "TokenizerError",
    "UnsupportedSchemaError",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "compile",
    "constrained",
    "fill_next_token_bitmask_batch",
    "function",
    "generate",
    "generate_json",
    "grammar_fingerprint",
    "load_model",
]

__version__ = "0.1.0"
