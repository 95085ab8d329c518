"""The automata memo table: least-recently-used eviction by entries and by the bytes of the
automata it holds, and the sizes it counts."""

from __future__ import annotations

import numpy as np
import pytest

import corral
from corral.automata import compile_regex
from corral.automata.cache import DEFAULT_CACHE_BYTES, AutomataCache, held_bytes
from corral.automata.dfa import KEEP_FULL_UP_TO, ByteDFA


def test_held_bytes_counts_arrays_inside_automata_and_containers() -> None:
    dfa = compile_regex("[a-z]{1,100}")  # over KEEP_FULL_UP_TO states: held over its classes
    width, _, small = dfa.class_table()
    own = small.nbytes + dfa.accepting.nbytes + 256  # the table over classes and the class map
    assert dfa.n_states > KEEP_FULL_UP_TO and width == 2 and small.shape == (dfa.n_states, 2)
    assert held_bytes(dfa) == dfa.nbytes == own
    assert held_bytes((dfa, ["note"], frozenset({1}))) == own
    assert held_bytes([np.zeros(10, dtype=np.int64), (dfa, dfa)]) == 80 + 2 * own
    assert held_bytes("text") == held_bytes(None) == held_bytes(3) == 0


def test_full_table_is_counted_once_made() -> None:
    dfa = compile_regex("[a-z]{1,100}")
    before = held_bytes(dfa)
    full = dfa.table  # made on first use and kept
    assert full.shape == (dfa.n_states, 256) and full.flags.c_contiguous
    assert held_bytes(dfa) == before + full.nbytes
    assert dfa.table is full


def test_small_automaton_keeps_its_full_table() -> None:
    full = compile_regex("[a-z]{1,5}").table
    dfa = ByteDFA(full, np.arange(full.shape[0]) > 1)
    assert dfa.n_states <= KEEP_FULL_UP_TO and held_bytes(dfa) == full.nbytes + dfa.n_states
    _, _, small = dfa.class_table()  # made on first use, counted from then on
    assert held_bytes(dfa) == full.nbytes + dfa.n_states + small.nbytes + 256


def test_trim_drops_least_recently_used_entries_past_the_byte_bound() -> None:
    big = np.zeros(1000, dtype=np.uint8)  # 1,000 bytes an entry, plus the overhead
    cache = AutomataCache(max_bytes=3_000)
    for key in "abcd":
        cache.get_or_build(key, lambda: big.copy())
    assert len(cache) == 4  # nothing is dropped while a compilation may still use it
    cache.get_or_build("b", lambda: pytest.fail("b was kept"))  # b is now the most recent
    cache.trim()  # drops a and c, the least recently used
    assert len(cache) == 2 and cache.nbytes <= 3_000
    assert cache.get_or_build("b", lambda: None) is not None
    assert cache.get_or_build("d", lambda: None) is not None
    assert cache.get_or_build("c", lambda: "rebuilt") == "rebuilt"


def test_cache_drops_entries_past_its_entry_bound_at_once() -> None:
    cache = AutomataCache(maxsize=2)
    for key in "abc":
        cache.get_or_build(key, str)
    assert len(cache) == 2
    assert cache.get_or_build("a", lambda: "rebuilt") == "rebuilt"  # a was dropped


def test_trim_keeps_an_entry_larger_than_the_bound_alone() -> None:
    cache = AutomataCache(max_bytes=10)
    cache.get_or_build("a", lambda: np.zeros(100))
    cache.get_or_build("b", lambda: np.zeros(100))
    cache.trim()
    assert len(cache) == 1 and cache.nbytes > 10
    assert isinstance(cache.get_or_build("b", lambda: "rebuilt"), np.ndarray)
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_cache_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        AutomataCache(max_bytes=0)
    with pytest.raises(ValueError, match="maxsize"):
        AutomataCache(maxsize=0)
    assert AutomataCache().max_bytes == DEFAULT_CACHE_BYTES


def test_a_small_cache_compiles_the_same_grammar() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 40, "pattern": "^[A-Z][a-z]+$"},
            "when": {"type": "string", "format": "date-time"},
            "n": {"type": "integer", "minimum": -5, "maximum": 12345},
        },
        "required": ["name"],
    }
    small = AutomataCache(max_bytes=4096)
    texts = {
        corral.grammar_fingerprint(corral.Grammar.from_json_schema(schema, cache=cache))
        for cache in (small, AutomataCache(), None)
    }
    assert len(texts) == 1
    assert small.nbytes <= 4096 or len(small) == 1  # trimmed when the compilation ended
