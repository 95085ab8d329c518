"""Short lexemes: the grammar with its large terminals cut to their short words, for the lower
tiers of infilling checks.

A length-bounded string (``maxLength: 4096`` is counted in blocks of 256 characters, each an
automaton of 3,500 states, one per count read and UTF-8 position) makes every token hole walk
the trie once per automaton state it reaches, and a mostly masked canvas reaches thousands:
a narrowed tier (:mod:`.tiers`) runs out of its share of the work bound and the check goes to
the full trie, which runs out of the whole bound.

The *short-lexeme grammar* keeps the grammar's rules and replaces each terminal automaton of
more than :data:`LARGE_STATES` states by the words of at most :data:`SHORT_BYTES` bytes of
its language, ``L(t) ∩ Σ^{≤k}`` (the product with a byte counter, minimised), where that is
at most half its size. Its language is a subset of the grammar's: a word of it is a sequence
of lexemes each in its terminal's language, read by the same rules, so it is a word of the
grammar (the matcher lexes by all splits). A chart over it that holds a completion therefore
holds a completion of the grammar, and a lower tier may use it where its own chart ran out of
work; it never decides that a template has no completion. When every short word of a cut
terminal is refused (a block of exactly 256 characters), it keeps no word at all.

The cut automata are kept with the automata they come from (:meth:`ByteDFA.derived`), so a
compiled grammar's large terminals are cut once.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.ops import intersect
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.mask_cache import MaskCache
from corral.errors import GrammarError
from corral.limits import Budget, Limits

__all__ = ["LARGE_STATES", "SHORT_BYTES", "at_most_bytes", "short_lexeme_grammar"]

SHORT_BYTES = 48
"""The longest lexeme the short-lexeme grammar keeps of a large terminal, in bytes."""
LARGE_STATES = 128
"""Terminal automata of more states than this are cut."""
_CUT_GROWTH = 8
"""The product may reach this many times the automaton's states before the cut is given up."""


def at_most_bytes(k: int) -> ByteDFA:
    """The automaton of every byte string of at most ``k`` bytes (``k >= 0``)."""
    table = np.zeros((k + 2, 256), dtype=np.int32)
    table[1 : k + 1, :] = np.arange(2, k + 2, dtype=np.int32)[:, None]
    accepting = np.ones(k + 2, dtype=bool)
    accepting[0] = False
    return ByteDFA(table, accepting)


def _cut(dfa: ByteDFA, limits: Limits) -> ByteDFA:
    """``L(dfa) ∩ Σ^{≤SHORT_BYTES}``, or ``dfa`` itself where that is not at most half as
    large (or its product passes ``limits.max_dfa_states``, or ``_CUT_GROWTH`` times
    ``dfa``'s states)."""
    bound = min(limits.max_dfa_states, _CUT_GROWTH * dfa.n_states)
    budget = Budget.unlimited(dataclasses.replace(limits, max_dfa_states=bound))
    try:
        cut = intersect(dfa, at_most_bytes(SHORT_BYTES), budget)
    except GrammarError:  # the product passed ``bound`` states
        return dfa
    return cut if cut.n_states <= dfa.n_states // 2 else dfa


def short_lexeme_grammar(compiled: CompiledGrammar) -> CompiledGrammar | None:
    """The short-lexeme grammar of ``compiled`` (module docstring), for infilling charts only
    (no native tables, its own empty mask cache); ``None`` when no terminal is cut.

    Parameters
    ----------
    compiled:
        A compiled grammar.

    Returns
    -------
    CompiledGrammar or None
        The same rules and vocabulary, each large terminal cut to its words of at most
        :data:`SHORT_BYTES` bytes.
    """
    limits = compiled.limits
    key = ("short-lexemes", SHORT_BYTES, limits.max_dfa_states)
    dfas = tuple(
        dfa.derived(key, functools.partial(_cut, dfa, limits))
        if dfa.n_states > LARGE_STATES
        else dfa
        for dfa in compiled.dfas
    )
    if all(a is b for a, b in zip(dfas, compiled.dfas, strict=True)):
        return None
    return dataclasses.replace(
        compiled, dfas=dfas, cache=MaskCache(0), engine="reference", native=None
    )
