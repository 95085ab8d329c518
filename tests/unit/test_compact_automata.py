"""Automata held over their byte classes: the native minimisation of a table given over columns
(``corral._native.minimize_classes``) against the Python twin on the widened table, the
canonical class tables of :class:`ByteDFA`, column classes of narrow tables, and the input
checks of both kernels."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LIBRARY, compiled_library
from corral import _native
from corral.automata.dfa import ByteDFA, column_classes_of, column_classes_py
from corral.automata.minimize import minimize_classes_native, trim_and_minimize_py
from corral.automata.ops import minimize_over


@st.composite
def narrow_tables(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A table of n states over `width` columns, the column of each byte (some columns read by
    no byte, some by many) and acceptance flags."""
    n = draw(st.integers(2, 30))
    width = draw(st.integers(1, 6))
    rng = random.Random(draw(st.integers(0, 2**32)))
    table = np.array(
        [[0] * width]
        + [[rng.randrange(n) if rng.random() < 0.7 else 0 for _ in range(width)]
           for _ in range(n - 1)],
        dtype=np.int32,
    )  # fmt: skip
    byte_col = np.array([rng.randrange(width) for _ in range(256)], dtype=np.int64)
    if draw(st.booleans()):
        byte_col[:] = rng.randrange(width)  # every byte reads one column: the rest are unread
    accepting = np.array([s > 0 and rng.random() < 0.3 for s in range(n)], dtype=bool)
    return table, byte_col, accepting


def canonical(full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classes of equal columns of a full table numbered by first byte, and the table over
    them (the specification of a ByteDFA's class table)."""
    classes = column_classes_py(full)
    reps = np.unique(classes, return_index=True)[1]
    return classes.astype(np.uint8), full[:, reps]


@settings(max_examples=300, deadline=None)
@given(narrow_tables())
def test_minimize_over_columns_equals_twin_on_the_wide_table(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    table, byte_col, accepting = case
    want_table, want_acc = trim_and_minimize_py(table[:, byte_col], accepting.copy())
    small, classes, acc = minimize_classes_native(table, byte_col, accepting)
    np.testing.assert_array_equal(small[:, classes], want_table)
    np.testing.assert_array_equal(acc, want_acc)
    want_classes, want_small = canonical(want_table)
    np.testing.assert_array_equal(classes, want_classes)
    np.testing.assert_array_equal(small, want_small)
    dfa = minimize_over(table, byte_col, accepting)
    np.testing.assert_array_equal(dfa.table, want_table)


@settings(max_examples=200, deadline=None)
@given(narrow_tables())
def test_from_classes_is_canonical(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    table, byte_col, accepting = case
    dfa = ByteDFA.from_classes(table, byte_col, accepting)
    full = table[:, byte_col]
    width, classes, small = dfa.class_table()
    want_classes, want_small = canonical(full)
    np.testing.assert_array_equal(classes, want_classes)
    np.testing.assert_array_equal(small, want_small)
    assert width == small.shape[1] and small.flags.c_contiguous
    np.testing.assert_array_equal(dfa.table, full)
    for s in range(full.shape[0]):
        assert dfa.rows[s] == full[s].tolist()
        np.testing.assert_array_equal(dfa.row(s), full[s])
        assert dfa.out_bytes[s] == tuple(np.flatnonzero(full[s]).tolist())


@settings(max_examples=200, deadline=None)
@given(narrow_tables())
def test_column_classes_of_narrow_tables(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    table = case[0]
    np.testing.assert_array_equal(column_classes_of(table), column_classes_py(table))


@pytest.mark.parametrize("name", LIBRARY)
def test_library_automata_keep_their_language_over_classes(name: str) -> None:
    for dfa in compiled_library(name).dfas:
        full = dfa.table
        again = ByteDFA(full, dfa.accepting)
        for got in (again, minimize_over(full, None, dfa.accepting)):
            assert got.class_table()[0] == dfa.class_table()[0]
            np.testing.assert_array_equal(got.class_table()[2], dfa.class_table()[2])
            np.testing.assert_array_equal(got.byte_classes(), dfa.byte_classes())


def test_large_automaton_rows_are_widened_one_by_one() -> None:
    n = 5000  # past LAZY_ROWS_ABOVE
    table = np.zeros((n, 1), dtype=np.int32)
    table[1 : n - 1, 0] = np.arange(2, n)
    byte_col = np.zeros(256, dtype=np.int64)
    dfa = ByteDFA.from_classes(table, byte_col, np.arange(n) == n - 1)
    assert dfa.rows[3] == [4] * 256 and dfa.rows[n - 1] == [0] * 256
    assert dfa.nbytes < 100_000  # never widened to 256 columns


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((b"\0" * 8, 2, 1, b"\0" * 256, b"\0"), "accepting"),
        ((b"\0" * 8, 2, 1, b"\1" * 256, b"\0\0"), "colmap a column"),
        ((b"\0" * 8, 2, 1, b"\0" * 255, b"\0\0"), "256 bytes"),
        ((b"\0" * 8, 2, 1, None, b"\0\0"), "None only"),
        ((np.array([0, 2], dtype=np.int32).tobytes(), 2, 1, b"\0" * 256, b"\0\0"), "outside"),
        ((b"\0" * 4, 1, 1, b"\0" * 256, b"\0"), "n_states >= 2"),
        ((b"\0" * 8, 2, 0, b"\0" * 256, b"\0\0"), "n_classes"),
    ],
)
def test_minimize_classes_rejects_bad_input(args: tuple[object, ...], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        _native.minimize_classes(*args)


@pytest.mark.parametrize(
    ("args", "words"),
    [((b"\0" * 8, 2, 0), "width"), ((b"\0" * 8, 3, 1), "n_states * width"), ((b"", 0, 1), ">= 1")],
)
def test_column_classes_rejects_bad_input(args: tuple[object, ...], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        _native.column_classes(*args)


def test_byte_dfa_wants_a_full_table() -> None:
    with pytest.raises(ValueError, match="256"):
        ByteDFA(np.zeros((2, 3), dtype=np.int32), np.zeros(2, dtype=bool))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40) | st.sampled_from([bytes(range(256)), b"", b"\x00" * 5]))
def test_literal_automata_are_built_over_canonical_classes(data: bytes) -> None:
    from corral.automata.regex import literal_dfa

    text = data.decode("latin-1")
    dfa = literal_dfa(text)
    raw = text.encode("utf-8", "surrogatepass")
    full = np.zeros((len(raw) + 2, 256), dtype=np.int32)
    for i, b in enumerate(raw):
        full[i + 1, b] = i + 2
    want_classes, want_small = canonical(full)
    _, classes, small = dfa.class_table()
    np.testing.assert_array_equal(classes, want_classes)
    np.testing.assert_array_equal(small, want_small)
    assert dfa.matches(raw) == bool(raw) and not dfa.matches(raw + b"x")


def test_readers_and_shrink_in_threads_agree() -> None:
    import threading

    from corral.automata.regex import compile_regex

    dfa = compile_regex("[a-c]{1,40}x|[d-f]+")
    want_full = dfa.table.copy()
    want_rows = want_full.tolist()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(300):
                assert dfa.rows[3] == want_rows[3]
                assert np.array_equal(dfa.table, want_full)
                assert np.array_equal(dfa.row(5), want_full[5])
                assert dfa.matches(b"abcx") and not dfa.matches(b"abc")
        except BaseException as exc:  # reported below
            errors.append(exc)

    def shrink() -> None:
        for _ in range(300):
            dfa.shrink()

    threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=shrink)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 9), st.binary(min_size=1, max_size=6), st.integers(1, 9)),
        min_size=1,
        max_size=30,
    )
)
def test_format_edge_tables_equal_the_wide_table(edges: list[tuple[int, bytes, int]]) -> None:
    from corral.grammars.json_schema.formats import _edge_table

    # later edges win a byte, as row assignment in order does
    wide = np.zeros((10, 256), dtype=np.int32)
    for s, data, t in edges:
        wide[s, list(data)] = t
    last: dict[tuple[int, int], int] = {}
    for s, data, t in edges:
        for b in data:
            last[(s, b)] = t
    src, data_of, dst = zip(*edges, strict=True)
    table, byte_col = _edge_table(10, list(src), list(data_of), list(dst))
    got = table[:, byte_col]
    np.testing.assert_array_equal(got, wide)
    for (s, b), t in last.items():
        assert got[s, b] == t
