"""Byte automata: the floor below grammars and the constraint engine.

Regexes become deterministic automata over bytes (:mod:`.regex`, with UTF-8 byte ranges from
:mod:`.utf8`), trimmed and minimised (:mod:`.minimize`); :mod:`.ops` has their algebra (product
intersection, union, difference, concatenation, finite-language enumeration). Nothing here
imports from :mod:`corral.grammars` or :mod:`corral.constraint_engine`.
"""

from __future__ import annotations

from corral.automata.cache import AutomataCache
from corral.automata.dfa import MAX_DFA_STATES, ByteDFA
from corral.automata.minimize import trim_and_minimize
from corral.automata.ops import (
    concat,
    difference,
    empty_dfa,
    finite_strings,
    intersect,
    is_empty,
    minimize,
    union,
    utf8_strings,
)
from corral.automata.regex import compile_regex, literal_dfa
from corral.automata.utf8 import MAX_UNICODE, utf8_sequences

__all__ = [
    "MAX_DFA_STATES",
    "MAX_UNICODE",
    "AutomataCache",
    "ByteDFA",
    "compile_regex",
    "concat",
    "difference",
    "empty_dfa",
    "finite_strings",
    "intersect",
    "is_empty",
    "literal_dfa",
    "minimize",
    "trim_and_minimize",
    "union",
    "utf8_sequences",
    "utf8_strings",
]
