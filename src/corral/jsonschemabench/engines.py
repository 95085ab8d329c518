"""The engines under test: corral's JSON Schema compiler and, for comparison, llguidance.

Each engine compiles a schema into a *verdict* function: given the UTF-8 bytes of a serialized
instance it answers whether the constrained decoder would produce exactly those bytes, i.e.
every byte is allowed after the ones before it (every prefix stays viable) and the whole is
complete at the end. This is the acceptance rule of JSONSchemaBench (Geng et al. 2025,
arXiv:2501.10868, §4) applied at the byte level.

llguidance (Moskal et al., https://github.com/guidance-ai/llguidance) is run with its default
strict options (``lenient`` off) and the compact separators ``","`` and ``":"`` without
whitespace, on the same SmolLM2 vocabulary as corral: the text is tokenized with corral's BPE
encoder and fed token by token; llguidance accepts non-canonical tokenizations. Each engine gets
the instance with object keys in the order it enforces (see :func:`serialize`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

__all__ = [
    "ENGINES",
    "EngineError",
    "EngineRefusal",
    "EngineResources",
    "Verdict",
    "compile_corral",
    "compile_llguidance",
    "llguidance_tokenizer",
    "serialize",
]

ENGINES: tuple[str, ...] = ("corral", "llguidance")

Verdict = Callable[[bytes], tuple[bool, int]]
"""``verdict(data) -> (accepted, offset)``: offset is the length of the longest allowed prefix."""

LLGUIDANCE_OPTIONS: dict[str, Any] = {
    "whitespace_flexible": False,
    "item_separator": ",",
    "key_separator": ":",
    "lenient": False,
}

_UNIMPLEMENTED = re.compile(r"Unimplemented keys: \[([^\]]*)\]")


class EngineRefusal(Exception):
    """An engine declined a schema, naming what it does not support.

    Attributes
    ----------
    issues:
        ``{"pointer", "keyword", "reason"}`` for every refused keyword occurrence.
    """

    def __init__(self, message: str, issues: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.issues = issues


class EngineError(Exception):
    """An engine reported a clean, deliberate error for a schema (bad schema, bound exceeded)."""


@dataclass
class EngineResources:
    """What one worker loads once and reuses for every schema (nothing in module globals).

    Attributes
    ----------
    corral_tokenizer:
        :meth:`corral.Tokenizer.default` (its token trie built), or ``None``.
    automata_cache:
        A :class:`corral.automata.AutomataCache` shared by the worker's JSON Schema compiles.
    llguidance_tokenizer:
        An ``llguidance.LLTokenizer`` over the same vocabulary, or ``None``.
    """

    corral_tokenizer: Any = None
    automata_cache: Any = None
    llguidance_tokenizer: Any = None

    @classmethod
    def load(cls, engines: tuple[str, ...]) -> EngineResources:
        """Load what ``engines`` (names from :data:`ENGINES`) need, so that compile times
        exclude tokenizer loading and the token trie build."""
        import corral
        from corral.automata import AutomataCache

        out = cls(corral_tokenizer=corral.Tokenizer.default(), automata_cache=AutomataCache())
        if "corral" in engines:
            cg = corral.compile(corral.Grammar.from_regex("[ab]"), out.corral_tokenizer)
            corral.Matcher(cg).accept_bytes(b"a")
        if "llguidance" in engines:
            out.llguidance_tokenizer = llguidance_tokenizer(out.corral_tokenizer)
        return out


def llguidance_tokenizer(tok: Any) -> Any:
    """An ``llguidance.LLTokenizer`` over the vocabulary of the corral tokenizer ``tok``.

    Token bytes, special ids and end-of-sequence ids are those of ``tok``; text is tokenized
    with corral's BPE encoder.
    """
    import llguidance

    class _Wrapped:
        def __init__(self) -> None:
            self.eos_token_id = tok.eos_token_ids[0]
            self.bos_token_id = tok.bos_token_id
            self.tokens = tok.all_token_bytes()
            self.special_token_ids = sorted(tok.special_token_ids)

        def __call__(self, data: bytes) -> list[int]:
            return list(tok.encode(data))

    wrapper = llguidance.TokenizerWrapper(_Wrapped())
    return llguidance.LLTokenizer(wrapper, eos_token=list(tok.eos_token_ids))


def compile_corral(schema: Any, whitespace: str, resources: EngineResources) -> Verdict:
    """Compile ``schema`` with corral for its default tokenizer.

    Raises
    ------
    EngineRefusal
        For :class:`corral.errors.UnsupportedSchemaError`, with its issues.
    EngineError
        For any other :class:`corral.errors.CorralError`.
    """
    import corral
    from corral.errors import CorralError, UnsupportedSchemaError
    from corral.grammars.json_schema import compile_json_schema

    try:
        grammar = compile_json_schema(schema, whitespace=whitespace, cache=resources.automata_cache)
        compiled = corral.compile(grammar, resources.corral_tokenizer)
    except UnsupportedSchemaError as e:
        issues = [
            {"pointer": i.pointer, "keyword": i.keyword, "reason": i.reason} for i in e.issues
        ]
        raise EngineRefusal(str(e), issues) from e
    except CorralError as e:
        raise EngineError(f"{type(e).__name__}: {e}") from e

    def verdict(data: bytes) -> tuple[bool, int]:
        m = corral.Matcher(compiled)
        if m.accept_bytes(data):
            return m.is_accepting(), len(data)
        return False, m.valid_prefix_length(data)

    return verdict


def compile_llguidance(schema: Any, resources: EngineResources) -> Verdict:
    """Compile ``schema`` with llguidance (see the module docstring for the options).

    Raises
    ------
    EngineRefusal
        When llguidance reports unimplemented keywords.
    EngineError
        For any other error llguidance reports.
    """
    import llguidance

    lltok = resources.llguidance_tokenizer
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            schema, defaults=cast("Any", dict(LLGUIDANCE_OPTIONS))
        )
    except (ValueError, TypeError) as e:
        raise EngineError(f"llguidance: {e}") from e
    matcher = llguidance.LLMatcher(lltok, grammar, log_level=0)
    if matcher.is_error():
        message = matcher.get_error()
        found = _UNIMPLEMENTED.search(message)
        if found:
            keywords = [k.strip().strip('"') for k in found.group(1).split(",") if k.strip()]
            issues = [
                {"pointer": "", "keyword": k, "reason": "not implemented by llguidance"}
                for k in keywords
            ]
            raise EngineRefusal(message, issues)
        raise EngineError(f"llguidance: {message}")

    def verdict(data: bytes) -> tuple[bool, int]:
        m = matcher.deep_copy()
        tokens = lltok.tokenize_bytes(data)
        consumed = m.try_consume_tokens(tokens)
        if consumed == len(tokens):
            return bool(m.is_accepting()) and not m.is_error(), len(data)
        return False, len(lltok.decode_bytes(tokens[:consumed]))

    return verdict


def _compact_dumps(instance: Any) -> str:
    return json.dumps(instance, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def serialize(instance: Any, schema: Any, engine: str, whitespace: str, cache: Any = None) -> bytes:
    """Serialize a test instance as the engine is asked to accept it.

    For corral, :func:`corral.grammars.json_schema.serialize_instance`: the canonical text,
    object keys in corral's property order. For llguidance, compact ``json.dumps`` with the keys
    in the order the test data gives them (llguidance orders keys by ``properties``, not by
    corral's policy; this order reproduces llguidance's published JSONSchemaBench figure).

    Raises
    ------
    ValueError
        If the instance has no JSON text (NaN, infinities, lone surrogates).
    """
    if engine == "llguidance":
        return _compact_dumps(instance).encode("utf-8")
    from corral.grammars.json_schema import serialize_instance

    text: str = serialize_instance(instance, schema, whitespace=whitespace, cache=cache)
    return text.encode("utf-8")
