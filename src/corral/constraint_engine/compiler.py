"""Compilation of a grammar against a tokenizer: automata, Earley tables, token trie.

``compile(grammar, tokenizer)`` does all work that does not depend on the generation state and
freezes it in a :class:`CompiledGrammar`: terminal automata (:mod:`corral.automata.dfa`), Earley
tables (:mod:`corral.constraint_engine.earley`), the initial Earley set, and the tokenizer's
token trie (:meth:`corral.Tokenizer.token_trie`, built once per tokenizer and shared). These
frozen tables are the future native boundary (``docs/design/engine.md``).

No dead end: the language is cut to the strings the tokenizer can spell. Each terminal automaton
loses its transitions on bytes that occur in no (non-special) token and is trimmed and minimised
again (Moore 1956, :func:`corral.automata.ops.minimize`), which intersects it with
``(spellable bytes)*``; terminals left empty make their alternatives unproductive, and those are
pruned from the Earley tables (:func:`~corral.constraint_engine.earley.productive_symbols`).
When every spellable byte is also a one-byte token (SmolLM2, Qwen), the spellable strings are
exactly the token strings, so every state the matcher can reach has a token path to acceptance.

What masks build on demand — lexer product automata, walks of the whole trie from an automaton
state, completion tables — goes into the compiled grammar's run-time cache, an explicit, bounded,
thread-safe :class:`~corral.constraint_engine.mask_cache.MaskCache` that every
:class:`~corral.constraint_engine.matcher.Matcher` of the compiled grammar shares.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.native import native_function
from corral.automata.ops import minimize_over
from corral.automata.regex import compile_regex, literal_dfa
from corral.constraint_engine.earley import (
    EarleySet,
    EarleyTables,
    closure,
    productive_symbols,
)
from corral.constraint_engine.lexer_dfa import LexerDFA, build_lexer_dfa
from corral.constraint_engine.mask_cache import DEFAULT_MAX_BYTES, MaskCache
from corral.constraint_engine.native_tables import native_grammar
from corral.constraint_engine.trie_walk import RootWalk, walk_root
from corral.constraint_engine.unique import UniqueTables
from corral.errors import CompileLimitExceeded, DeadlineExceeded, GrammarError
from corral.limits import DEFAULT_LIMITS, Budget, Limits
from corral.tokenizers.token_trie import TokenTrie

if TYPE_CHECKING:
    from corral.grammars.ir import Grammar
    from corral.tokenizers import Tokenizer

__all__ = ["DEFAULT_ENGINE", "CompiledGrammar", "compile_grammar", "spellable_bytes"]

DEFAULT_ENGINE = "native"  # where the extension is built; "reference" otherwise


def spellable_bytes(
    token_bytes: Sequence[bytes], special_ids: frozenset[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Byte values that occur in some non-special token, and those that are one-byte tokens.

    Returns
    -------
    spellable, single:
        ``bool`` arrays ``(256,)``. Where ``spellable == single`` (the precondition of the
        no-dead-end guarantee), the strings made of spellable bytes are exactly the strings
        made of tokens.
    """
    usable = [b for i, b in enumerate(token_bytes) if b and i not in special_ids]
    spellable = np.zeros(256, dtype=bool)
    if usable:
        spellable[np.frombuffer(b"".join(usable), dtype=np.uint8)] = True
    single = np.zeros(256, dtype=bool)
    single[[b[0] for b in usable if len(b) == 1]] = True
    return spellable, single


def _bits(values: np.ndarray) -> int:
    """The bytes ``values`` as the bits of an ``int`` (bit ``b`` for byte ``b``)."""
    out = 0
    for b in values.tolist():
        out |= 1 << b
    return out


def _restrict(dfa: ByteDFA, unspellable: np.ndarray, bits: int) -> tuple[ByteDFA, list[int]]:
    """``dfa`` without its transitions on the ``unspellable`` bytes (trimmed and minimised);
    the unspellable bytes it had transitions on. ``dfa`` itself is only read; the result is
    kept with it (:meth:`ByteDFA.derived`), so a terminal automaton shared between grammars
    is cut once per tokenizer and its class table (:meth:`ByteDFA.class_table`) built once."""
    if not dfa.used_bytes & bits:  # ``bits``: the unspellable bytes, as :func:`_bits` gives
        return dfa, []  # no transition to cut (Qwen spells every byte)
    key = ("restrict", unspellable.tobytes())
    return dfa.derived(key, lambda: _restrict_now(dfa, unspellable))


def _restrict_now(dfa: ByteDFA, unspellable: np.ndarray) -> tuple[ByteDFA, list[int]]:
    width, classes, small = dfa.class_table()
    used = small[:, classes[unspellable]].any(axis=0)
    if not used.any():
        return dfa, []
    # the unspellable bytes read an extra column of dead transitions
    byte_col = classes.astype(np.int64)
    byte_col[unspellable] = width
    table = np.concatenate([small, np.zeros((small.shape[0], 1), dtype=np.int32)], axis=1)
    cut = unspellable[used].tolist()
    kept = np.zeros(width, dtype=bool)
    kept[byte_col[byte_col < width]] = True
    if kept[classes[unspellable[used]]].all():
        # Each cut byte acts as some kept byte in every state, so any word through a cut
        # byte has a twin through the kept one: no state loses reachability, the path to
        # acceptance or what tells it from the others, and the table stays trim and minimal.
        return ByteDFA.from_classes(table, byte_col, dfa.accepting), cut
    return minimize_over(table, byte_col, dfa.accepting), cut


def _terminal_dfa(grammar: Grammar, name: str, budget: Budget) -> ByteDFA:
    term = grammar.terminals[name]
    where = f"{grammar.source}: terminal {name!r}" + (
        f" (line {term.line})" if term.line is not None else ""
    )
    if isinstance(term.dfa, ByteDFA):
        dfa = term.dfa
    elif term.literal and "s" not in term.flags:
        dfa = literal_dfa(term.pattern, "i" in term.flags, budget=budget, what=where)
    else:
        dfa = compile_regex(term.regex(), where, budget=budget)
    if dfa.n_states <= 1 or dfa.accepts_nothing:
        raise GrammarError(f"{where}: matches no non-empty string", rule=name, line=term.line)
    return dfa


def _walk_nbytes(walk: RootWalk) -> int:
    allowed, levels = walk
    return int(allowed.nbytes) + sum(int(n.nbytes) + int(s.nbytes) + 64 for n, s in levels)


@dataclass(frozen=True, eq=False)
class CompiledGrammar:
    """A grammar compiled for one tokenizer (and model vocabulary size); immutable.

    Made by :func:`compile_grammar` (``corral.compile``). The fields are frozen tables; the
    run-time cache (:attr:`cache`) is the one mutable part, held by reference.

    Attributes
    ----------
    grammar:
        The IR grammar (only read, never changed).
    tokenizer:
        The tokenizer the masks are for.
    vocab_size:
        Model vocabulary size (bitmask width in tokens); ids at or past the tokenizer's
        vocabulary are padding and never allowed.
    tables:
        Earley tables.
    dfas:
        Byte automaton of each terminal, by terminal index.
    ignore_set:
        Indices of the ignored terminals.
    trie:
        The tokenizer's token trie.
    eos_ids:
        End-of-sequence ids below ``vocab_size``.
    special_ids:
        Ids never allowed by the grammar.
    token_byte_strings:
        Bytes of each token id of the tokenizer.
    initial_set:
        The Earley set before any input.
    cache:
        The run-time cache shared by the matchers of this compiled grammar.
    limits:
        The bounds in force (:class:`corral.limits.Limits`); matchers read their run-time
        bounds (input bytes and Earley work per explicit call) from it.
    engine:
        ``"native"`` (matchers run in C, :mod:`~corral.constraint_engine.native_matcher`) or
        ``"reference"`` (the pure-Python specification).
    native:
        The native engine's copy of the tables (``None`` for the reference engine).
    unique:
        The unique-item terminals and their continuation counts (``None`` when the grammar
        has none; :mod:`corral.constraint_engine.unique`).
    """

    grammar: Grammar
    tokenizer: Tokenizer
    vocab_size: int
    tables: EarleyTables
    dfas: tuple[ByteDFA, ...]
    ignore_set: frozenset[int]
    trie: TokenTrie
    eos_ids: tuple[int, ...]
    special_ids: frozenset[int]
    token_byte_strings: tuple[bytes, ...] = field(repr=False)
    initial_set: EarleySet = field(repr=False)
    cache: MaskCache = field(repr=False)
    limits: Limits = field(default=DEFAULT_LIMITS, repr=False)
    engine: str = "reference"
    native: object | None = field(default=None, repr=False)
    unique: UniqueTables | None = field(default=None, repr=False)

    def token_bytes(self, token_id: int) -> bytes | None:
        """Bytes of a grammar-visible token, or ``None`` for special/padding/out-of-range ids."""
        if token_id < 0 or token_id >= len(self.token_byte_strings) or token_id in self.special_ids:
            return None
        data = self.token_byte_strings[token_id]
        return data or None

    def root_walk(self, terminal: int, state: int) -> RootWalk:
        """Walk of the whole trie by a terminal's automaton from ``state`` (cached).

        See :func:`corral.constraint_engine.trie_walk.walk_root`; the completing nodes say
        where a lexeme of ``terminal`` can end inside a longer token.
        """
        return self.cache.get_or_build(
            ("walk", terminal, state),
            lambda: walk_root(self.trie, self.dfas[terminal], state),
            _walk_nbytes,
        )

    def lexer_walk(self, lexer: LexerDFA) -> RootWalk:
        """Walk of the whole trie by a lexer automaton from its initial state (cached).

        Like :meth:`root_walk`, for all the fresh threads of one Earley set at once; the
        completing nodes come with their lexer states (which say which terminals end there).
        """
        return self.cache.get_or_build(
            ("lexer-walk", lexer.terminals),
            lambda: walk_root(self.trie, lexer, 1),
            _walk_nbytes,
        )

    def lexers_for(self, terminals: tuple[int, ...]) -> tuple[LexerDFA, ...]:
        """The automata that together lex ``terminals`` (sorted), cached.

        Normally one product automaton; one per terminal where the product would be too large.
        """
        return self.cache.get_or_build(
            ("lexers", terminals),
            lambda: self._build_lexers(terminals),
            lambda lexers: sum(lex.nbytes for lex in lexers),
        )

    def _build_lexers(self, terminals: tuple[int, ...]) -> tuple[LexerDFA, ...]:
        product = build_lexer_dfa(terminals, list(self.dfas))
        if product is not None:
            return (product,)
        parts = []
        for t in terminals:
            lex = build_lexer_dfa((t,), list(self.dfas))
            assert lex is not None  # a single terminal is never refused
            parts.append(lex)
        return tuple(parts)

    def memory_bytes(self) -> int:
        """Bytes this compiled grammar holds now: terminal automata, Earley tables, the native
        engine's tables and the run-time cache (bounded by ``cache_bytes``). The tokenizer's
        trie and the native root-walk cache kept with it (bounded by
        :data:`~corral.constraint_engine.native_tables.TRIE_CACHE_BYTES`), shared by every
        grammar of the tokenizer, are not counted."""
        total = sum(d.nbytes for d in self.dfas)
        t = self.tables
        total += sys.getsizeof(t.dotted_next) + sys.getsizeof(t.dotted_lhs)
        total += sum(sys.getsizeof(p) for p in t.predictions) + 8 * len(t.nullable)
        total += self.cache.nbytes
        if self.native is not None:
            import corral._native as native

            tables, _shared = native.engine_memory(self.native)
            total += int(tables)
        return total

    def stats(self) -> dict[str, int]:
        """Sizes, for reports."""
        return {
            **self.grammar.stats(),
            "dfa_states": sum(d.n_states for d in self.dfas),
            "earley_items": len(self.tables.dotted_next),
            "trie_nodes": self.trie.n_nodes,
            "vocab_size": self.vocab_size,
        }


def compile_grammar(
    grammar: Grammar,
    tokenizer: Tokenizer,
    *,
    vocab_size: int | None = None,
    cache_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    engine: str | None = None,
) -> CompiledGrammar:
    """Compile ``grammar`` for ``tokenizer``.

    Terminal automata lose the bytes that occur in no token (module docstring); productions
    left unproductive by that are pruned from the Earley tables.

    Parameters
    ----------
    grammar:
        A grammar in corral's IR (see :class:`corral.Grammar` and its front-ends). It is
        checked (:meth:`~corral.Grammar.check`) and only read, never changed.
    tokenizer:
        The tokenizer whose tokens the masks cover.
    vocab_size:
        The model's vocabulary size when larger than the tokenizer's (padding ids are masked).
    cache_bytes:
        Bound on the memory of the run-time cache (:class:`MaskCache`) of the compiled grammar.
    limits:
        Automaton state bounds for compiling terminals, the CPU time of the compilation
        (:attr:`~corral.limits.Limits.compile_seconds`), the number of alternatives
        (:attr:`~corral.limits.Limits.max_alternatives`), and the run-time bounds of the
        matchers (:attr:`corral.limits.Limits.max_input_bytes`,
        :attr:`~corral.limits.Limits.max_earley_work`); default :data:`DEFAULT_LIMITS`.
    engine:
        ``"native"`` (the C engine) or ``"reference"`` (the pure-Python engine, its
        specification); both give the same masks bit for bit. Default: :data:`DEFAULT_ENGINE`
        where the C extension is built, ``"reference"`` where it is not.

    Raises
    ------
    GrammarError
        For any problem in the grammar; nothing raises later, at generation time. Also when
        the language has no string this tokenizer can spell (naming the terminals left empty
        and their unspellable bytes), and when the tokenizer has no end-of-sequence id below
        ``vocab_size`` (a complete output could then be followed by nothing).
    CompileLimitExceeded
        (A ``GrammarError``.) When the grammar has more alternatives than
        ``limits.max_alternatives``, or a literal terminal needs more automaton states than
        ``limits.max_dfa_states``.
    DeadlineExceeded
        (A ``GrammarError``.) When compiling the terminals takes more CPU time than
        ``limits.compile_seconds``.
    ValueError
        If ``vocab_size`` is smaller than the tokenizer's vocabulary, or ``engine`` is neither
        ``"native"`` nor ``"reference"`` (or ``"native"`` where the extension is not built).
    """
    if engine is None:
        engine = DEFAULT_ENGINE if native_function("engine_grammar") is not None else "reference"
    if engine not in ("native", "reference"):
        raise ValueError(f"engine must be 'native' or 'reference', got {engine!r}")
    if engine == "native" and native_function("engine_grammar") is None:
        raise ValueError("engine='native' needs the C extension corral._native, not built here")
    checked = grammar.checked_productive()
    limits = DEFAULT_LIMITS if limits is None else limits
    tok_vocab = int(tokenizer.vocab_size)
    if vocab_size is None:
        vocab_size = tok_vocab
    if vocab_size < tok_vocab:
        raise ValueError(
            f"vocab_size {vocab_size} is smaller than the tokenizer's vocabulary ({tok_vocab})"
        )
    eos_ids = tuple(int(i) for i in tokenizer.eos_token_ids if 0 <= i < vocab_size)
    if not eos_ids:
        raise GrammarError(
            f"tokenizer {tokenizer.name!r} has no end-of-sequence token below vocab_size "
            f"{vocab_size}: a complete output that nothing may follow would leave no token "
            "allowed"
        )
    special_ids = frozenset(int(i) for i in tokenizer.special_token_ids)
    token_byte_strings = tokenizer.token_bytes_tuple()
    trie = tokenizer.token_trie()
    unspellable = np.flatnonzero(~trie.spellable)  # spellable_bytes, kept with the trie
    unspellable_bits = _bits(unspellable)
    budget = Budget.start(limits)
    n_alternatives = sum(len(rule.alternatives) for rule in grammar.rules.values())
    if n_alternatives > limits.max_alternatives:
        raise CompileLimitExceeded(
            f"{grammar.source}: the grammar has {n_alternatives} alternatives, more than "
            f"{limits.max_alternatives} (Limits.max_alternatives)"
        )
    names = list(grammar.terminals)
    dfas_list: list[ByteDFA] = []
    emptied: dict[str, list[int]] = {}
    for name in names:
        if budget.expired():
            raise DeadlineExceeded(
                f"{grammar.source}: compilation took more than {limits.compile_seconds} s of "
                "CPU time (Limits.compile_seconds)"
            )
        try:
            terminal_dfa = _terminal_dfa(grammar, name, budget)
        except DeadlineExceeded:
            raise DeadlineExceeded(
                f"{grammar.source}: terminal {name!r}: compilation took more than "
                f"{limits.compile_seconds} s of CPU time (Limits.compile_seconds)"
            ) from None
        dfa, cut = _restrict(terminal_dfa, unspellable, unspellable_bits)
        if dfa.accepts_nothing:
            emptied[name] = cut
        dfas_list.append(dfa)
    unusable = frozenset(emptied)
    # the check's productive symbols are these when no terminal is unusable
    productive = checked if not unusable else productive_symbols(grammar, unusable)
    if grammar.start not in productive and not grammar.is_empty:
        raise _unspellable_error(grammar, emptied)
    tables = EarleyTables.build(grammar, unusable, productive)
    assert tables.terminal_names == tuple(names)
    dfas = tuple(dfas_list)
    unique = UniqueTables.build(names, grammar.unique, dfas, grammar.unique_close)
    if unique is not None and tables.ignore:
        raise GrammarError(
            f"{grammar.source}: unique-item terminals need a grammar without ignored terminals "
            "(an item's lexeme must begin where its origin set was made)"
        )
    return CompiledGrammar(
        grammar=grammar,
        tokenizer=tokenizer,
        vocab_size=int(vocab_size),
        tables=tables,
        dfas=dfas,
        ignore_set=frozenset(tables.ignore),
        trie=trie,
        eos_ids=eos_ids,
        special_ids=special_ids,
        token_byte_strings=token_byte_strings,
        initial_set=closure(tables, [(0, 0)], 0, [None]),
        cache=MaskCache(cache_bytes),
        limits=limits,
        engine=engine,
        native=native_grammar(tables, dfas, trie, vocab_size, unique)
        if engine == "native"
        else None,
        unique=unique,
    )


def _unspellable_error(grammar: Grammar, emptied: dict[str, list[int]]) -> GrammarError:
    """The error for a language left empty by the tokenizer's unspellable bytes."""
    parts = [
        f"terminal {name!r} matches no string this tokenizer can spell (bytes "
        + ", ".join(f"0x{b:02X}" for b in cut)
        + " are in no token)"
        for name, cut in list(emptied.items())[:5]
    ]
    more = f" (and {len(emptied) - 5} more)" if len(emptied) > 5 else ""
    first = next(iter(emptied), None)
    return GrammarError(
        f"{grammar.source}: the language has no string this tokenizer can spell: "
        + "; ".join(parts)
        + more,
        rule=first,
        line=grammar.terminals[first].line if first is not None else None,
    )
