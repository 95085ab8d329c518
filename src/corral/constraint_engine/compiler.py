"""Compilation of a grammar against a tokenizer: automata, Earley tables, token trie.

``compile(grammar, tokenizer)`` does all work that does not depend on the generation state:
terminal automata (:mod:`corral.automata.dfa`), Earley tables
(:mod:`corral.constraint_engine.earley`) and the token trie
(:mod:`corral.constraint_engine.token_trie`, built once per tokenizer and shared). Per-automaton-
state walks of the trie are cached lazily on the :class:`CompiledGrammar`, so every
:class:`~corral.constraint_engine.matcher.Matcher` made from it shares them.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.regex import compile_regex, literal_dfa
from corral.constraint_engine.earley import EarleySet, EarleyTables, closure
from corral.constraint_engine.lexer_dfa import LexerDFA, build_lexer_dfa
from corral.constraint_engine.token_trie import TokenTrie
from corral.errors import GrammarError

if TYPE_CHECKING:
    from corral.grammars.ir import Grammar
    from corral.tokenizers import Tokenizer

__all__ = ["CompiledGrammar", "compile_grammar", "token_trie_for"]

SMALL_LEVEL = 48
_TRIES: weakref.WeakKeyDictionary[object, TokenTrie] = weakref.WeakKeyDictionary()


def token_trie_for(tokenizer: Tokenizer) -> TokenTrie:
    """The (cached) token trie of ``tokenizer``; special tokens are left out."""
    trie = _TRIES.get(tokenizer)
    if trie is None:
        trie = TokenTrie.build(tokenizer.all_token_bytes(), tokenizer.special_token_ids)
        _TRIES[tokenizer] = trie
    return trie


def _terminal_dfa(grammar: Grammar, name: str) -> ByteDFA:
    term = grammar.terminals[name]
    where = f"{grammar.source}: terminal {name!r}" + (
        f" (line {term.line})" if term.line is not None else ""
    )
    if isinstance(term.dfa, ByteDFA):
        dfa = term.dfa
    elif term.literal and "s" not in term.flags:
        dfa = literal_dfa(term.pattern, "i" in term.flags)
    else:
        dfa = compile_regex(term.regex(), where)
    if dfa.n_states <= 1 or not dfa.accepting.any():
        raise GrammarError(f"{where}: matches no non-empty string", rule=name, line=term.line)
    return dfa


class CompiledGrammar:
    """A grammar compiled for one tokenizer (and model vocabulary size).

    Attributes
    ----------
    grammar:
        The validated IR grammar.
    tokenizer:
        The tokenizer the masks are for.
    vocab_size:
        Model vocabulary size (bitmask width in tokens); ids at or past the tokenizer's
        vocabulary are padding and never allowed.
    """

    def __init__(self, grammar: Grammar, tokenizer: Tokenizer, vocab_size: int | None = None):
        grammar.validate()
        self.grammar = grammar
        self.tokenizer = tokenizer
        tok_vocab = int(tokenizer.vocab_size)
        if vocab_size is None:
            vocab_size = tok_vocab
        if vocab_size < tok_vocab:
            raise ValueError(
                f"vocab_size {vocab_size} is smaller than the tokenizer's vocabulary ({tok_vocab})"
            )
        self.vocab_size = int(vocab_size)
        self.tables = EarleyTables.build(grammar)
        self.dfas: list[ByteDFA] = [_terminal_dfa(grammar, n) for n in self.tables.terminal_names]
        self.ignore_set = frozenset(self.tables.ignore)
        self.dfa_starts = [d.table[1] != 0 for d in self.dfas]
        self.trie = token_trie_for(tokenizer)
        self.eos_ids = tuple(int(i) for i in tokenizer.eos_token_ids if 0 <= i < self.vocab_size)
        self.special_ids = frozenset(int(i) for i in tokenizer.special_token_ids)
        self._token_bytes = tokenizer.all_token_bytes()
        self.initial_set: EarleySet = closure(self.tables, [(0, 0)], 0, [None])
        self.lexers: list[LexerDFA] = []
        self._lexer_ids: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._root_lexer_cache: dict[
            int, tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]
        ] = {}
        self._root_cache: dict[tuple[int, int], tuple[np.ndarray, list[np.ndarray]]] = {}

    def token_bytes(self, token_id: int) -> bytes | None:
        """Bytes of a grammar-visible token, or ``None`` for special/padding/out-of-range ids."""
        if token_id < 0 or token_id >= len(self._token_bytes) or token_id in self.special_ids:
            return None
        data = self._token_bytes[token_id]
        return data or None

    def root_walk(self, terminal: int, state: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Cached walk of the whole trie by one automaton from one state.

        Returns
        -------
        (allowed, completing):
            ``allowed`` is a boolean array over the tokenizer's vocabulary: tokens whose bytes
            keep the automaton alive. ``completing[i]`` lists the trie nodes at depth ``i + 1``
            (with children) where a lexeme of ``terminal`` can end, for the walk to continue
            past the lexeme.
        """
        key = (terminal, state)
        got = self._root_cache.get(key)
        if got is None:
            allowed, levels = _walk_root(self.trie, self.dfas[terminal], state)
            got = (allowed, [nodes for nodes, _ in levels])
            self._root_cache[key] = got
        return got

    def root_walk_lexer(
        self, lexer_id: int
    ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Cached walk of the whole trie by a lexer automaton from its initial state.

        Like :meth:`root_walk`, for all the fresh threads of one Earley set at once; the
        completing nodes of each level come with their lexer states (which say which terminals
        end there).
        """
        got = self._root_lexer_cache.get(lexer_id)
        if got is None:
            got = self._root_lexer_cache[lexer_id] = _walk_root(self.trie, self.lexers[lexer_id], 1)
        return got

    def lexers_for(self, terminals: tuple[int, ...]) -> tuple[int, ...]:
        """Ids (in :attr:`lexers`) of the automata that together lex ``terminals``.

        Normally one product automaton; one per terminal where the product would be too large.
        """
        got = self._lexer_ids.get(terminals)
        if got is None:
            product = build_lexer_dfa(terminals, self.dfas)
            parts = (
                [product]
                if product is not None
                else [build_lexer_dfa((t,), self.dfas) for t in terminals]
            )
            ids = []
            for lex in parts:
                assert lex is not None
                ids.append(len(self.lexers))
                self.lexers.append(lex)
            got = self._lexer_ids[terminals] = tuple(ids)
        return got

    def stats(self) -> dict[str, int]:
        """Sizes, for reports."""
        return {
            **self.grammar.stats(),
            "dfa_states": sum(d.n_states for d in self.dfas),
            "earley_items": len(self.tables.dotted_next),
            "trie_nodes": self.trie.n_nodes,
            "vocab_size": self.vocab_size,
        }


def walk_automaton(
    trie: TokenTrie,
    dfa: ByteDFA | LexerDFA,
    state: int,
    frontier: np.ndarray,
    first: tuple[np.ndarray, np.ndarray] | None = None,
    start_states: np.ndarray | None = None,
) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """Walk the subtries below ``frontier`` with ``dfa`` started in ``state``.

    Level by level, each child's automaton state is its parent's state stepped by the child's
    byte; dead children are dropped with their subtrees. Returns the alive nodes (a list of
    arrays) and, per level ``i`` (``i + 1`` bytes below the frontier), the alive nodes with
    children where the automaton accepts, with their states (empty arrays where none). ``first`` may
    give ``trie.children(frontier)``, when the caller has it already; ``start_states`` gives
    one start state per frontier node instead of ``state``. Levels with few children are
    walked in plain Python, which is cheaper than NumPy calls on tiny arrays.
    """
    table, accepting = dfa.table, dfa.accepting
    nodes = frontier
    states = (
        np.full(frontier.shape[0], state, dtype=np.int32)
        if start_states is None
        else start_states.astype(np.int32)
    )
    alive_parts: list[np.ndarray] = []
    completing: list[tuple[np.ndarray, np.ndarray]] = []
    while nodes.shape[0]:
        if first is not None:
            kids, pidx = first
            first = None
        elif int(trie.n_children[nodes].sum()) <= SMALL_LEVEL:
            _walk_small(trie, dfa, nodes.tolist(), states.tolist(), alive_parts, completing)
            break
        else:
            kids, pidx = trie.children(nodes)
        if not kids.shape[0]:
            break
        nxt = table[states[pidx], trie.node_byte[kids]]
        keep = nxt != 0
        kids = kids[keep]
        nxt = nxt[keep]
        if not kids.shape[0]:
            break
        alive_parts.append(kids)
        acc = accepting[nxt] & (trie.n_children[kids] > 0)
        completing.append((kids[acc], nxt[acc]))
        nodes, states = kids, nxt
    return alive_parts, completing


def _walk_root(
    trie: TokenTrie, dfa: ByteDFA | LexerDFA, state: int
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Walk the whole trie: tokens kept alive (over the vocabulary) and completions per level."""
    alive_parts, levels = walk_automaton(trie, dfa, state, np.zeros(1, dtype=np.int64))
    allowed = np.zeros(trie.vocab_size, dtype=bool)
    if alive_parts:
        allowed[trie.tokens_at(np.concatenate(alive_parts))] = True
    return allowed, levels


def _walk_small(
    trie: TokenTrie,
    dfa: ByteDFA | LexerDFA,
    nodes: list[int],
    states: list[int],
    alive_parts: list[np.ndarray],
    completing: list[tuple[np.ndarray, np.ndarray]],
) -> None:
    """The rest of :func:`walk_automaton` in plain Python, for narrow levels."""
    ptr, ids, byte, nkids = trie.lists()
    rows, acc = dfa.rows, dfa.accept_list
    while nodes:
        kids: list[int] = []
        kstates: list[int] = []
        done: list[int] = []
        done_states: list[int] = []
        for n, st in zip(nodes, states, strict=True):
            row = rows[st]
            for c in ids[ptr[n] : ptr[n + 1]]:
                s2 = row[byte[c]]
                if s2:
                    kids.append(c)
                    kstates.append(s2)
                    if acc[s2] and nkids[c]:
                        done.append(c)
                        done_states.append(s2)
        if not kids:
            return
        alive_parts.append(np.array(kids, dtype=np.int64))
        completing.append((np.array(done, dtype=np.int64), np.array(done_states, dtype=np.int32)))
        if sum(nkids[c] for c in kids) > SMALL_LEVEL:
            walk_rest = walk_automaton(
                trie, dfa, 0, np.array(kids, dtype=np.int64), None, np.array(kstates)
            )
            alive_parts.extend(walk_rest[0])
            completing.extend(walk_rest[1])
            return
        nodes, states = kids, kstates


def compile_grammar(
    grammar: Grammar, tokenizer: Tokenizer, *, vocab_size: int | None = None
) -> CompiledGrammar:
    """Compile ``grammar`` for ``tokenizer``.

    Parameters
    ----------
    grammar:
        A grammar in corral's IR (see :class:`corral.Grammar` and its front-ends).
    tokenizer:
        The tokenizer whose tokens the masks cover.
    vocab_size:
        The model's vocabulary size when larger than the tokenizer's (padding ids are masked).

    Raises
    ------
    GrammarError
        For any problem in the grammar; nothing raises later, at generation time.
    """
    return CompiledGrammar(grammar, tokenizer, vocab_size)
