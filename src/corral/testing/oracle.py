"""The oracle of the conformance suite: what is in the language, what is completable.

corral's reference matcher on the grammar answers "is this prefix completable" and "is this
complete" and gives the shortest completion; an independent parser confirms complete strings
where one exists: lark's Earley parser (``lexer="dynamic_complete"``, the language corral
implements) for Lark grammars, :mod:`json` and :mod:`jsonschema` for JSON Schemas.
"""

from __future__ import annotations

import json
import random
from typing import Any

from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.matcher import Matcher
from corral.testing.sources import GrammarSource
from corral.tokenizers import Tokenizer

__all__ = ["Oracle", "Vocabulary"]


class Vocabulary:
    """Token lookups for one tokenizer: bytes to a token id, spellable bytes, random splits.

    Parameters
    ----------
    tokenizer:
        The tokenizer whose (non-special) tokens are used.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.by_bytes: dict[bytes, int] = {}
        special = tokenizer.special_token_ids
        for tid, b in enumerate(tokenizer.all_token_bytes()):
            if b and tid not in special and b not in self.by_bytes:
                self.by_bytes[b] = tid
        self.spellable = frozenset(b for b in range(256) if bytes([b]) in self.by_bytes)

    def encode(self, data: bytes) -> list[int]:
        """The tokenizer's own (canonical) tokenization."""
        return list(self.tokenizer.encode(data))

    def random_split(self, data: bytes, rng: random.Random) -> list[int] | None:
        """A random tokenization of ``data`` (``None`` if a byte has no token)."""
        out: list[int] = []
        i = 0
        while i < len(data):
            options = [
                self.by_bytes[data[i : i + n]]
                for n in range(1, min(16, len(data) - i) + 1)
                if data[i : i + n] in self.by_bytes
            ]
            if not options:
                return None
            tid = rng.choice(options)
            out.append(tid)
            i += len(self.tokenizer.token_bytes(tid))
        return out

    def spell(self, ids: list[int]) -> bytes:
        """The bytes of ``ids``."""
        return b"".join(self.tokenizer.token_bytes(t) for t in ids)


class Oracle:
    """corral's reference matcher on a source, plus an independent parser.

    Parameters
    ----------
    source:
        The grammar.
    tokenizer:
        The tokenizer (only its token bytes matter to the oracle).
    compiled:
        An already compiled grammar for ``source`` (compiled here when ``None``).
    """

    def __init__(
        self, source: GrammarSource, tokenizer: Tokenizer, compiled: CompiledGrammar | None = None
    ) -> None:
        self.source = source
        self.grammar = source.to_grammar()
        self.compiled = compiled or compile_grammar(self.grammar, tokenizer)
        self._lark: Any = None
        self._validator: Any = None

    def matcher(self) -> Matcher:
        """A fresh reference matcher, to follow a walk step by step."""
        return Matcher(self.compiled)

    def completable(self, prefix: bytes) -> bool:
        """Whether some string of the language starts with ``prefix``."""
        return Matcher(self.compiled).accept_bytes(prefix)

    def in_language(self, text: bytes) -> bool:
        """Whether ``text`` is complete according to corral."""
        m = Matcher(self.compiled)
        return m.accept_bytes(text) and m.is_accepting()

    @staticmethod
    def shortest_completion(matcher: Matcher) -> bytes | None:
        """Shortest bytes completing ``matcher``'s input (``None`` when there are none)."""
        method = getattr(matcher, "shortest_completion", None)
        if method is not None:
            got: bytes | None = method()
            return got
        from corral.constraint_engine.completion import shortest_completion

        return shortest_completion(matcher)

    def independent_verdict(self, text: bytes) -> str | None:
        """Why an independent parser rejects a complete ``text``; ``None`` when it accepts it
        (or when the grammar's dialect has no independent parser here)."""
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"not UTF-8: {exc}"
        if self.source.kind == "lark":
            import lark

            if self._lark is None:
                self._lark = lark.Lark(self.source.text, parser="earley", lexer="dynamic_complete")
            try:
                self._lark.parse(decoded)
            except lark.exceptions.LarkError as exc:
                return f"lark rejects it: {str(exc).splitlines()[0]}"
            return None
        if self.source.kind == "json_schema":
            return self.schema_verdict(decoded)
        return None

    def schema_verdict(self, text: str) -> str | None:
        """Why ``text`` is not a JSON instance of the schema (``None`` when it is)."""
        import jsonschema

        try:
            instance = json.loads(text, parse_constant=_no_constants)
        except ValueError as exc:
            return f"not JSON: {exc}"
        if self._validator is None:
            schema = self.source.schema
            cls = jsonschema.validators.validator_for(
                schema, default=jsonschema.Draft202012Validator
            )
            self._validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(instance))
        if error is None:
            return None
        return f"jsonschema rejects it: {error.message[:200]} at {list(error.absolute_path)}"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
