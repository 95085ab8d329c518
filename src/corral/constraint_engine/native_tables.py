"""Flat tables of a compiled grammar for the native matcher (``csrc/corral/engine.h``).

Each terminal automaton goes over as a table of byte *classes* (bytes whose columns are equal
share one, as XGrammar and llguidance compress their lexers): ``states × classes`` next states
and a 256-entry class map, usually a tenth of the ``states × 256`` table or less.

The native engine reads the same frozen data as the reference — Earley tables
(:class:`~corral.constraint_engine.earley.EarleyTables`), terminal byte automata and the
tokenizer's token trie — lowered to arrays of integers and handed to C once: the trie once per
tokenizer (:func:`native_trie`, kept on the :class:`~corral.tokenizers.token_trie.TokenTrie`),
the grammar once per compiled grammar (:func:`native_grammar`). C copies and range-checks them
(``csrc/binding_engine.c``), so nothing handed over later can make it read out of bounds.

The root-walk cache keys walks by *depth classes* (:func:`depth_classes`): states that no string
as long as the longest token tells apart share one walk. They are made from an automaton and the
trie's depth alone, so they are kept with the automaton (:meth:`ByteDFA.derived`): the grammars
that share it through the JSON Schema compiler's cache compute them once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from corral.automata.minimize import bounded_classes

if TYPE_CHECKING:
    from corral.automata.dfa import ByteDFA
    from corral.constraint_engine.earley import EarleyTables
    from corral.constraint_engine.unique import UniqueTables
    from corral.tokenizers.token_trie import TokenTrie

__all__ = ["END", "TRIE_CACHE_BYTES", "depth_classes", "native_grammar", "native_trie"]

END = -(2**31)  # dotted_next of an item at the end of its production (CORRAL_END)
TRIE_CACHE_BYTES = 64 * 2**20
"""Bound on a native trie's cache of root walks, shared by every grammar of its tokenizer."""


def _i32(values: Any) -> bytes:
    return np.ascontiguousarray(values, dtype=np.int32).tobytes()


def native_trie(trie: TokenTrie) -> object:
    """The native copy of ``trie`` (a capsule), built on first use and kept with the trie."""
    got = trie.native_handle
    if got is None:
        import corral._native as native

        got = native.engine_trie(
            _i32(trie.child_ptr),
            _i32(trie.child_ids),
            np.ascontiguousarray(trie.node_byte, dtype=np.uint8).tobytes(),
            _i32(trie.node_tok_ptr),
            _i32(trie.node_tok_ids),
            trie.vocab_size,
            TRIE_CACHE_BYTES,
        )
        trie.keep_native_handle(got)
    return got


def depth_classes(dfa: ByteDFA, rounds: int) -> np.ndarray:
    """Moore's partition of ``dfa``'s states after ``rounds`` rounds (the trie's longest token in
    bytes; :func:`corral.automata.minimize.bounded_classes`), as ``int32``, kept with ``dfa``.

    An automaton of at most ``rounds + 2`` states gives every state its own class without the
    rounds: in a minimal automaton of ``n`` states two states are told apart by a string of at
    most ``n - 2`` bytes (Moore 1956), so that is the same partition; for one that is not
    minimal it is finer, which costs sharing, never correctness.
    """
    if dfa.n_states <= rounds + 2:
        return np.arange(dfa.n_states, dtype=np.int32)
    return dfa.derived(("depth_classes", rounds), lambda: _bounded(dfa, rounds))


def _bounded(dfa: ByteDFA, rounds: int) -> np.ndarray:
    _, _, small = dfa.class_table()
    return bounded_classes(small, dfa.accepting, rounds).astype(np.int32)


def native_grammar(
    tables: EarleyTables,
    dfas: tuple[ByteDFA, ...],
    trie: TokenTrie,
    vocab_size: int,
    unique: UniqueTables | None = None,
) -> object:
    """The native tables of a compiled grammar (a capsule that keeps its trie alive; root walks
    go to the trie's cache, shared by the grammars of its tokenizer)."""
    import corral._native as native

    dnext = [END if s is None else s for s in tables.dotted_next]
    pred_ptr = np.zeros(len(tables.predictions) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in tables.predictions], out=pred_ptr[1:])
    pred_ids = [d for p in tables.predictions for d in p]
    base = np.zeros(len(dfas) + 1, dtype=np.int64)
    np.cumsum([d.n_states for d in dfas], out=base[1:])
    widths, classes, parts = [], [], []
    for d in dfas:
        width, cls, small = d.class_table()
        widths.append(width)
        classes.append(cls)
        parts.append(small.reshape(-1))
    table = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    accept = (
        np.concatenate([d.accepting for d in dfas]).astype(np.uint8)
        if dfas
        else np.zeros(0, dtype=np.uint8)
    )
    class_bytes = np.concatenate(classes).tobytes() if classes else b""
    return native.engine_grammar(
        native_trie(trie),
        len(tables.terminal_names),
        len(tables.nonterminal_names),
        tables.final_dotted,
        _i32(dnext),
        _i32(tables.dotted_lhs),
        _i32(pred_ptr),
        _i32(pred_ids),
        np.array(tables.nullable, dtype=np.uint8).tobytes(),
        _i32(sorted(tables.ignore)),
        base.tobytes(),
        _i32(widths),
        class_bytes,
        table.tobytes(),
        accept.tobytes(),
        vocab_size,
        bytes(_kind(unique, t) for t in range(len(dfas))),
        _counts(unique, base).tobytes(),
        _i32(np.concatenate([depth_classes(d, trie.max_depth) for d in dfas])) if dfas else b"",
    )


def _kind(unique: UniqueTables | None, t: int) -> int:
    """Terminal ``t``'s part in the unique-item check: 1 unique item, 2 item-closing, 0 none."""
    if unique is None:
        return 0
    return 1 if t in unique.terminals else 2 if t in unique.closers else 0


def _counts(unique: UniqueTables | None, base: np.ndarray) -> np.ndarray:
    """Per automaton state (terminal ``t``'s from ``base[t]``), its terminal's continuation
    count: zeros but for the unique-item terminals."""
    out = np.zeros(int(base[-1]), dtype=np.int32)
    if unique is not None:
        for t in unique.terminals:
            out[base[t] : base[t + 1]] = unique.counts[t]
    return out
