"""A cache of compiled grammars keyed by content, and the content fingerprint of a grammar.

Compiling builds every terminal's automaton and the Earley tables, and a compiled grammar's
run-time cache (lexer automata, trie walks) is what makes its masks fast once warm; serving many
requests with the same grammar should reuse one compiled grammar. :class:`GrammarCache` maps
``(grammar fingerprint, tokenizer, vocabulary size)`` to a compiled grammar: bounded (least
recently used entries are dropped), thread-safe, and held by its user — there is no process-wide
cache.

The fingerprint (:func:`grammar_fingerprint`) is a BLAKE2b digest of what defines the language:
terminals in order (name, pattern, literal, flags and the bytes of a prebuilt automaton's tables),
rules with their alternatives, the start rule and the ignored terminals. Source labels and line
numbers only name things in error messages and are left out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.mask_cache import DEFAULT_MAX_BYTES
from corral.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from corral.grammars.ir import Grammar
    from corral.tokenizers import Tokenizer

__all__ = ["GrammarCache", "grammar_fingerprint"]


def _feed_array(h: hashlib.blake2b, arr: np.ndarray) -> None:
    data = np.ascontiguousarray(arr)
    h.update(repr((data.dtype.str, data.shape)).encode())
    h.update(data.tobytes())


def grammar_fingerprint(grammar: Grammar) -> str:
    """A stable hex digest of the content of ``grammar`` (equal grammars, equal digests).

    Covers terminals (in order: name, pattern, literal, flags, and the tables of a prebuilt
    :class:`~corral.automata.dfa.ByteDFA`), rules (in order, with their alternatives), the
    start rule and the ignored terminals; not the source label or line numbers.
    """
    h = hashlib.blake2b(digest_size=20)
    h.update(repr(("start", grammar.start, "ignore", tuple(grammar.ignore))).encode())
    h.update(repr(("unique", tuple(grammar.unique))).encode())
    h.update(repr(("unique_close", tuple(grammar.unique_close))).encode())
    h.update(repr(("empty", grammar.empty_reason)).encode())
    for name, term in grammar.terminals.items():
        h.update(repr(("terminal", name, term.pattern, term.literal, term.flags)).encode())
        if isinstance(term.dfa, ByteDFA):
            _, classes, table = term.dfa.class_table()  # canonical: equal tables, equal bytes
            h.update(b"dfa")
            _feed_array(h, classes)
            _feed_array(h, table)
            _feed_array(h, term.dfa.accepting)
    for name, rule in grammar.rules.items():
        h.update(repr(("rule", name, rule.alternatives)).encode())
    return h.hexdigest()


class GrammarCache:
    """Compiled grammars by content: bounded, least recently used first out, thread-safe.

    Parameters
    ----------
    max_entries:
        The most compiled grammars kept.
    cache_bytes:
        Bound on the run-time cache of each compiled grammar (see :func:`compile_grammar`).

    Attributes
    ----------
    hits, misses : int
        Counters of :meth:`compile` calls served from the cache or compiled.

    Notes
    -----
    Entries are keyed by :func:`grammar_fingerprint`, the tokenizer's identity (the entry holds
    the tokenizer, so the identity cannot be reused while it is cached), the vocabulary size
    and the :class:`~corral.limits.Limits` (a frozen value).
    A compile runs outside the lock; when two threads compile the same grammar at once, the
    first result published is kept and returned to both.
    """

    def __init__(self, max_entries: int = 32, *, cache_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = int(max_entries)
        self.cache_bytes = int(cache_bytes)
        self._entries: OrderedDict[tuple[str, int, int, Limits, str | None], CompiledGrammar] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def compile(
        self,
        grammar: Grammar,
        tokenizer: Tokenizer,
        *,
        vocab_size: int | None = None,
        limits: Limits | None = None,
        engine: str | None = None,
    ) -> CompiledGrammar:
        """The compiled grammar of ``grammar`` for ``tokenizer``, compiled once per content.

        Same parameters and errors as :func:`compile_grammar`; errors are not cached.
        """
        size = int(tokenizer.vocab_size if vocab_size is None else vocab_size)
        limits = DEFAULT_LIMITS if limits is None else limits
        key = (grammar_fingerprint(grammar), id(tokenizer), size, limits, engine)
        with self._lock:
            got = self._entries.get(key)
            if got is not None and got.tokenizer is tokenizer:
                self._entries.move_to_end(key)
                self.hits += 1
                return got
            self.misses += 1
        compiled = compile_grammar(
            grammar,
            tokenizer,
            vocab_size=vocab_size,
            cache_bytes=self.cache_bytes,
            limits=limits,
            engine=engine,
        )
        with self._lock:
            got = self._entries.get(key)
            if got is not None and got.tokenizer is tokenizer:
                self._entries.move_to_end(key)
                return got
            self._entries[key] = compiled
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._entries.clear()
