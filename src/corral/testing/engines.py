"""Engines under test: a small protocol and adapters for corral, llguidance and XGrammar.

An engine compiles a :class:`~corral.testing.sources.GrammarSource` for a tokenizer it was built
with, and hands out matchers with the public matcher API (the one corral, XGrammar and
llguidance share): ``accept_token``, ``fill_next_token_bitmask`` (``int32``, bit ``i % 32`` of
word ``i // 32``), ``rollback``, ``is_accepting``, ``is_terminated``, ``forced_bytes``. End of
sequence is a token: any of :attr:`Engine.eos_token_ids`, accepted when the output is complete,
after which the matcher is terminated.

``compile`` returns an :class:`Unsupported` value (never raises) when the engine does not take
the grammar's dialect or refuses the grammar; adapters import their engine lazily and raise
:class:`EngineNotInstalled` with the package to install.

llguidance and XGrammar are driven on the same vocabulary as corral (the token bytes of a
:class:`corral.Tokenizer`, its special tokens never allowed, its EOS ids as stop tokens), with
JSON Schemas in the compact shape (separators ``","`` and ``":"``, no whitespace); XGrammar with
``strict_mode=False`` (its default ``True`` forbids the additional properties and items that the
specification allows).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from corral.constraint_engine.compiler import compile_grammar
from corral.constraint_engine.matcher import Matcher
from corral.errors import CorralError
from corral.testing.sources import GrammarSource
from corral.tokenizers import Tokenizer

__all__ = [
    "ENGINE_NAMES",
    "CorralEngine",
    "Engine",
    "EngineMatcher",
    "EngineNotInstalled",
    "LLGuidanceEngine",
    "Unsupported",
    "XGrammarEngine",
    "make_engine",
]

ENGINE_NAMES: tuple[str, ...] = ("corral", "llguidance", "xgrammar")


@runtime_checkable
class EngineMatcher(Protocol):
    """The public matcher API the checks drive."""

    def accept_token(self, token_id: int) -> bool:
        """Advance by one token; ``False`` (state unchanged) when it is not allowed."""

    def fill_next_token_bitmask(self, bitmask: np.ndarray, index: int = 0) -> None:
        """Write the allowed tokens into row ``index`` of an ``int32`` bitmask."""

    def rollback(self, n_tokens: int = 1) -> None:
        """Undo the last ``n_tokens`` accepted tokens."""

    def is_accepting(self) -> bool:
        """Whether the output so far is complete (EOS may come)."""

    def is_terminated(self) -> bool:
        """Whether EOS has been accepted."""

    def forced_bytes(self) -> bytes:
        """Bytes every valid continuation takes next (may be empty)."""


class Engine(Protocol):
    """An engine under test, bound to one tokenizer.

    Attributes
    ----------
    name:
        A short label (``"corral"``, ``"llguidance"``, ...).
    eos_token_ids:
        The tokens that end the output.
    vocab_size:
        Number of token ids the bitmask covers.
    supports_forced_bytes:
        Whether :meth:`EngineMatcher.forced_bytes` is meaningful.
    """

    name: str
    eos_token_ids: frozenset[int]
    vocab_size: int
    supports_forced_bytes: bool

    def compile(self, source: GrammarSource) -> Any:
        """A compiled handle for ``source``, or an :class:`Unsupported` value."""

    def new_matcher(self, handle: Any) -> EngineMatcher:
        """A fresh matcher for a handle from :meth:`compile`."""


@dataclass(frozen=True)
class Unsupported:
    """An engine does not take a grammar (its dialect, or the engine refused it).

    Attributes
    ----------
    engine:
        The engine's name.
    reason:
        Why, in the engine's words where it gave any.
    """

    engine: str
    reason: str

    def __str__(self) -> str:
        return f"{self.engine}: unsupported: {self.reason}"


class EngineNotInstalled(RuntimeError):
    """The engine's Python package is not installed."""


def _import(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineNotInstalled(
            f"engine {module!r} is not installed: pip install {package}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


class CorralEngine:
    """corral's reference matcher (``corral.compile`` + ``corral.Matcher``)."""

    supports_forced_bytes = True

    def __init__(self, tokenizer: Tokenizer, name: str = "corral") -> None:
        self.name = name
        self.tokenizer = tokenizer
        self.eos_token_ids = frozenset(tokenizer.eos_token_ids)
        self.vocab_size = tokenizer.vocab_size

    def compile(self, source: GrammarSource) -> Any:
        """Compile with corral's front-end for the source's kind."""
        try:
            return compile_grammar(source.to_grammar(), self.tokenizer)
        except CorralError as exc:
            return Unsupported(self.name, f"{type(exc).__name__}: {_first_line(exc)}")

    def new_matcher(self, handle: Any) -> EngineMatcher:
        """A fresh :class:`corral.Matcher`."""
        return Matcher(handle)


class _LLGuidanceMatcher:
    """llguidance stops by itself where only EOS can follow; EOS is then taken here."""

    def __init__(self, matcher: Any, eos: frozenset[int]) -> None:
        self._m = matcher
        self._eos = eos
        self._done = False  # EOS accepted
        self._virtual = False  # ... while llguidance had already stopped

    def accept_token(self, token_id: int) -> bool:
        m = self._m
        if self._done or m.is_error():
            return False
        if token_id in self._eos:  # validate_tokens never counts EOS
            if m.is_stopped():
                self._done = self._virtual = True
                return True
            if not m.is_accepting() or not m.consume_token(token_id) or m.is_error():
                return False
            self._done = True
            return True
        if m.is_stopped() or m.validate_tokens([token_id]) != 1:
            return False
        return bool(m.consume_token(token_id)) and not m.is_error()

    def fill_next_token_bitmask(self, bitmask: np.ndarray, index: int = 0) -> None:
        words = np.frombuffer(self._m.compute_bitmask(), dtype=np.int32)
        n = min(words.size, bitmask.shape[1])
        bitmask[index, :] = 0
        bitmask[index, :n] = words[:n]

    def rollback(self, n_tokens: int = 1) -> None:
        if n_tokens and self._done:
            self._done = False
            n_tokens -= self._virtual
            self._virtual = False
        if n_tokens and not self._m.rollback(n_tokens):
            raise ValueError(f"llguidance could not roll back {n_tokens} token(s)")

    def is_accepting(self) -> bool:
        return not self._done and bool(self._m.is_accepting())

    def is_terminated(self) -> bool:
        return self._done

    def forced_bytes(self) -> bytes:
        return bytes(self._m.compute_ff_bytes())


class LLGuidanceEngine:
    """llguidance (``LLMatcher``), default strict options; takes Lark, GBNF, regex, JSON Schema."""

    name = "llguidance"
    supports_forced_bytes = True
    json_options: dict[str, Any] = {  # noqa: RUF012 - read-only class constant
        "whitespace_flexible": False,
        "item_separator": ",",
        "key_separator": ":",
        "lenient": False,
    }

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._ll = _import("llguidance", "llguidance")
        self.tokenizer = tokenizer
        self.eos_token_ids = frozenset(tokenizer.eos_token_ids)
        self.vocab_size = tokenizer.vocab_size
        tok = tokenizer

        class _Wrapped:
            def __init__(self) -> None:
                self.eos_token_id = tok.eos_token_ids[0]
                self.bos_token_id = getattr(tok, "bos_token_id", None)
                self.tokens = tok.all_token_bytes()
                self.special_token_ids = sorted(tok.special_token_ids)

            def __call__(self, data: bytes) -> list[int]:
                return list(tok.encode(data))

        wrapper = self._ll.TokenizerWrapper(_Wrapped())
        self._tok = self._ll.LLTokenizer(wrapper, eos_token=list(tokenizer.eos_token_ids))

    def compile(self, source: GrammarSource) -> Any:
        """An ``LLMatcher`` to copy per generation, or :class:`Unsupported`."""
        ll = self._ll
        try:
            if source.kind == "json_schema":
                grammar = ll.LLMatcher.grammar_from_json_schema(
                    source.schema, defaults=dict(self.json_options)
                )
            else:
                grammar = ll.grammar_from(source.kind, source.text)
        except (ValueError, TypeError) as exc:
            return Unsupported(self.name, _first_line(exc))
        matcher = ll.LLMatcher(self._tok, grammar, log_level=0)
        if matcher.is_error():
            return Unsupported(self.name, _first_line(ValueError(matcher.get_error())))
        return matcher

    def new_matcher(self, handle: Any) -> EngineMatcher:
        """A deep copy of the compiled matcher."""
        return _LLGuidanceMatcher(handle.deep_copy(), self.eos_token_ids)


class _XGrammarMatcher:
    def __init__(self, matcher: Any, torch: Any, eos: frozenset[int], vocab_size: int) -> None:
        self._m = matcher
        self._torch = torch
        self._eos = eos
        self._vocab_size = vocab_size

    def accept_token(self, token_id: int) -> bool:
        if self._m.is_terminated():
            return False
        return bool(self._m.accept_token(token_id))

    def fill_next_token_bitmask(self, bitmask: np.ndarray, index: int = 0) -> None:
        row = self._torch.zeros((1, bitmask.shape[1]), dtype=self._torch.int32)
        self._m.fill_next_token_bitmask(row, 0)
        bitmask[index, :] = row.numpy()[0]
        word, tail = divmod(self._vocab_size, 32)  # bits past the vocabulary are zero
        if tail:
            bitmask[index, word] &= np.int32((1 << tail) - 1)
            word += 1
        bitmask[index, word:] = 0

    def rollback(self, n_tokens: int = 1) -> None:
        self._m.rollback(n_tokens)

    def is_accepting(self) -> bool:
        if self._m.is_terminated():
            return False
        mask = np.zeros((1, (self._vocab_size + 31) // 32), dtype=np.int32)
        self.fill_next_token_bitmask(mask)
        return any((int(mask[0, e // 32]) >> (e % 32)) & 1 for e in self._eos)

    def is_terminated(self) -> bool:
        return bool(self._m.is_terminated())

    def forced_bytes(self) -> bytes:
        text: Any = self._m.find_jump_forward_string()
        return text.encode("utf-8") if isinstance(text, str) else bytes(text)


class XGrammarEngine:
    """XGrammar (``GrammarCompiler`` + ``GrammarMatcher``); takes GBNF/EBNF, regex, JSON Schema.

    Lark is not XGrammar's dialect: such sources are :class:`Unsupported`.
    """

    name = "xgrammar"
    supports_forced_bytes = True

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._torch = _import("torch", "torch")
        self._xgr = _import("xgrammar", "xgrammar")
        xgr = self._xgr
        self.tokenizer = tokenizer
        self.eos_token_ids = frozenset(tokenizer.eos_token_ids)
        self.vocab_size = tokenizer.vocab_size
        special = tokenizer.special_token_ids
        # Special tokens get empty text, which XGrammar treats as "never allowed".
        vocab = [b"" if i in special else b for i, b in enumerate(tokenizer.all_token_bytes())]
        info = xgr.TokenizerInfo(
            vocab,
            vocab_type=xgr.VocabType.RAW,
            vocab_size=tokenizer.vocab_size,
            stop_token_ids=list(tokenizer.eos_token_ids),
        )
        self._compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)

    def compile(self, source: GrammarSource) -> Any:
        """A ``CompiledGrammar``, or :class:`Unsupported` (Lark sources, refused grammars)."""
        c = self._compiler
        try:
            if source.kind == "json_schema":
                return c.compile_json_schema(
                    source.text, any_whitespace=False, separators=(",", ":"), strict_mode=False
                )
            if source.kind == "gbnf":
                return c.compile_grammar(source.text, root_rule_name="root")
            if source.kind == "regex":
                return c.compile_regex(source.text)
        except (RuntimeError, ValueError, TypeError) as exc:
            return Unsupported(self.name, _first_line(exc))
        return Unsupported(self.name, f"XGrammar takes EBNF/GBNF, not {source.kind}")

    def new_matcher(self, handle: Any) -> EngineMatcher:
        """A fresh ``GrammarMatcher``."""
        return _XGrammarMatcher(
            self._xgr.GrammarMatcher(handle), self._torch, self.eos_token_ids, self.vocab_size
        )


def make_engine(name: str, tokenizer: Tokenizer) -> Engine:
    """The adapter called ``name`` (one of :data:`ENGINE_NAMES`) for ``tokenizer``.

    Raises
    ------
    ValueError
        For an unknown name.
    EngineNotInstalled
        When the engine's package is missing.
    """
    if name == "corral":
        return CorralEngine(tokenizer)
    if name == "llguidance":
        return LLGuidanceEngine(tokenizer)
    if name == "xgrammar":
        return XGrammarEngine(tokenizer)
    raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINE_NAMES)}")
