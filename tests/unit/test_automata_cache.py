"""The automata memo table: least-recently-used eviction by entries and by the bytes of the
automata it holds, and the sizes it counts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import corral
from corral.automata import compile_regex
from corral.automata.cache import ADMIT_BYTES, DEFAULT_CACHE_BYTES, AutomataCache, held_bytes
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


def _counting(value: object) -> tuple[list[int], Callable[[], object]]:
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return value

    return calls, build


def test_a_large_value_enters_on_its_second_build() -> None:
    cache = AutomataCache(admit_bytes=1_000)
    calls, build = _counting(np.zeros(2_000, dtype=np.uint8))
    cache.get_or_build("big", build)
    assert len(cache) == 0  # built once: a one-off is not kept
    cache.get_or_build("big", build)
    assert len(cache) == 1  # asked for again: kept
    cache.get_or_build("big", build)
    assert len(calls) == 2


def test_a_small_value_enters_at_once() -> None:
    cache = AutomataCache(admit_bytes=1_000)
    calls, build = _counting(np.zeros(10, dtype=np.uint8))
    for _ in range(3):
        cache.get_or_build("small", build)
    assert len(cache) == 1 and len(calls) == 1


def test_clear_forgets_the_first_builds() -> None:
    cache = AutomataCache(admit_bytes=1_000)
    calls, build = _counting(np.zeros(2_000, dtype=np.uint8))
    cache.get_or_build("big", build)
    cache.clear()
    cache.get_or_build("big", build)
    assert len(cache) == 0 and len(calls) == 2


def test_a_session_builds_a_value_once_and_the_shared_cache_keeps_it_from_the_second() -> None:
    shared = AutomataCache(admit_bytes=1_000)
    calls, build = _counting(np.zeros(2_000, dtype=np.uint8))
    first = shared.session()
    got = first.get_or_build("big", build)
    assert first.get_or_build("big", build) is got  # kept by the session though not shared
    assert len(calls) == 1 and len(shared) == 0
    shared.session().get_or_build("big", build)  # a second compilation asks: now shared
    assert len(calls) == 2 and len(shared) == 1
    shared.session().get_or_build("big", build)
    assert len(calls) == 2


def test_admission_bound_is_checked() -> None:
    with pytest.raises(ValueError, match="admit_bytes"):
        AutomataCache(admit_bytes=-1)
    assert AutomataCache().admit_bytes == ADMIT_BYTES


def test_matching_a_lexeme_makes_no_row_lists() -> None:
    """The JSON Schema compiler matches keys against shared automata: stepping the class table
    keeps no (n, 256) lists on them."""
    dfa = compile_regex('"[a-z]{1,8}"', "key")
    texts = [b'"abc"', b'"abcdefgh"', b'"abcdefghi"', b'"ab1"', b'""', b""]
    got = [dfa.matches(t) for t in texts]
    assert dfa._rows is None
    dfa.rows  # noqa: B018 - made now, then used by matches
    assert [dfa.matches(t) for t in texts] == got == [True, True, False, False, False, False]


def test_what_a_cached_automaton_derives_counts_against_the_bound() -> None:
    """A terminal automaton keeps its restriction to a tokenizer's bytes with it
    (``ByteDFA.derived``): once the automaton is cached, those bytes join its entry."""
    cache = AutomataCache()
    dfa = cache.get_or_build("k", lambda: compile_regex("[a-z]+x", "t"))
    before = cache.nbytes
    other = compile_regex("[a-y]+", "u")
    assert dfa.derived("cut", lambda: (other, [1, 2])) == (other, [1, 2])
    assert cache.nbytes == before + other.nbytes
    dfa.derived("cut", lambda: pytest.fail("derived twice"))
    dfa.derived("itself", lambda: (dfa, []))  # the automaton itself: nothing more
    assert cache.nbytes == before + other.nbytes
    cache.trim()
    cache.clear()  # the entry is gone: what the automaton derives later counts nowhere
    dfa.derived("later", lambda: (compile_regex("q+", "v"), []))
    assert cache.nbytes == 0


def test_an_automaton_not_kept_reports_to_no_cache() -> None:
    cache = AutomataCache(admit_bytes=0)  # every value waits for its second build
    dfa = cache.get_or_build("k", lambda: compile_regex("[a-z]+x", "t"))
    assert len(cache) == 0 and dfa.on_derived is None
    dfa.derived("cut", lambda: (compile_regex("[a-y]+", "u"), []))
    assert cache.nbytes == 0
