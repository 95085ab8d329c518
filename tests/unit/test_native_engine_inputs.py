"""The native matcher's boundary: every wrong table, capsule, id or size gives a clear Python
exception, never a crash (``csrc/binding_engine.c`` checks what C reads)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corral._native as native
from conftest import library_grammar, smollm2
from corral import Grammar, Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.native_tables import END


def i32(values: list[int]) -> bytes:
    return np.array(values, dtype=np.int32).tobytes()


def tiny_trie() -> object:
    # root -> 'a' (token 0) -> 'b' (token 1)
    return native.engine_trie(
        i32([0, 1, 2, 2]), i32([1, 2]), b"\0ab", i32([0, 0, 1, 2]), i32([0, 1]), 2, 1 << 20
    )


def grammar_args(**change: object) -> list[object]:
    # $start -> A ; terminal 0 = "a": 3 states, 2 byte classes ("a" and the rest)
    classes = bytearray(256)
    classes[ord("a")] = 1
    args: dict[str, object] = {
        "trie": tiny_trie(),
        "n_terms": 1,
        "n_nts": 1,
        "final": 1,
        "dnext": i32([0, END]),
        "dlhs": i32([0, 0]),
        "pred_ptr": i32([0, 1]),
        "pred_ids": i32([0]),
        "nullable": b"\0",
        "ignore": b"",
        "base": np.array([0, 3], dtype=np.int64).tobytes(),
        "n_classes": i32([2]),
        "classes": bytes(classes),
        "table": i32([0, 0, 0, 2, 0, 0]),
        "accept": bytes([0, 0, 1]),
        "vocab": 2,
        "uq_term": b"\0",
        "uq_count": i32([0, 0, 0]),
        "wclass": i32([0, 1, 2]),
    }
    args.update(change)
    return list(args.values())


def test_a_tiny_native_grammar_works() -> None:
    g = native.engine_grammar(*grammar_args())
    m = native.engine_matcher(g)
    words = np.frombuffer(native.engine_mask(m), dtype=np.uint32)
    assert words.tolist() == [1]  # "a" allowed, "ab" not
    assert native.engine_feed(m, b"a", 1 << 20) == (1, -1)
    assert native.engine_state(m) == (2, True)
    assert native.engine_forced(m, 10) == b""
    native.engine_truncate(m, 1)
    assert native.engine_forced(m, 10) == b"a"
    tables, cached = native.engine_memory(g)
    assert tables > 0 and cached > 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"dnext": i32([5, END])}, ValueError),
        ({"dnext": i32([0, 0])}, ValueError),
        ({"dlhs": i32([0, 3])}, ValueError),
        ({"pred_ids": i32([9])}, ValueError),
        ({"pred_ptr": i32([0, 2])}, ValueError),
        ({"final": 7}, ValueError),
        ({"ignore": i32([3])}, ValueError),
        ({"base": np.array([0, 9], dtype=np.int64).tobytes()}, ValueError),
        ({"table": i32([0, 0, 0, 5, 0, 0])}, ValueError),
        ({"table": i32([0, 0, 0, 2, 0])}, ValueError),
        ({"table": i32([0, 0, 0, 2, 0, 0, 0])}, ValueError),
        ({"table": b"\0" * 10}, ValueError),
        ({"n_classes": i32([0])}, ValueError),
        ({"n_classes": i32([1])}, ValueError),
        ({"classes": b"\0" * 255}, ValueError),
        ({"accept": b"\0"}, ValueError),
        ({"vocab": 1}, ValueError),
        ({"uq_term": b""}, ValueError),
        ({"uq_term": b"\3"}, ValueError),
        ({"uq_count": i32([0, 0])}, ValueError),
        ({"uq_count": i32([0, -1, 0])}, ValueError),
        ({"wclass": i32([0, 1])}, ValueError),
        ({"wclass": b"\0\1"}, ValueError),
        ({"dnext": "not bytes"}, TypeError),
        ({"trie": object()}, ValueError),
    ],
)
def test_bad_grammar_tables_are_refused(change: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        native.engine_grammar(*grammar_args(**change))


@pytest.mark.parametrize(
    "args",
    [
        (i32([0, 1, 1]), i32([0]), b"\0a", i32([0, 0, 0]), b"", 1, 64),  # child 0 under node 0
        (i32([0, 1, 1]), i32([1]), b"\0a", i32([0, 0, 1]), i32([5]), 1, 64),  # token past vocab
        (i32([0, 2, 1]), i32([1]), b"\0a", i32([0, 0, 0]), b"", 1, 64),  # pointers decrease
        (i32([0, 1]), i32([1]), b"\0a", i32([0, 0, 0]), b"", 1, 64),  # too few pointers
        (i32([0, 1, 1]), b"\1\2\3", b"\0a", i32([0, 0, 0]), b"", 1, 64),  # not whole int32s
        (i32([0, 1, 1]), i32([1]), b"\0a", i32([0, 0, 0]), b"", -1, 64),
        (i32([0, 1, 1]), i32([1]), b"\0a", i32([0, 0, 0]), b"", 1, -1),  # negative cache bound
    ],
)
def test_bad_tries_are_refused(args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        native.engine_trie(*args)


def test_wrong_capsules_and_arguments() -> None:
    g = native.engine_grammar(*grammar_args())
    m = native.engine_matcher(g)
    with pytest.raises(ValueError):
        native.engine_matcher(tiny_trie())
    with pytest.raises(ValueError):
        native.engine_mask(g)
    with pytest.raises(ValueError):
        native.engine_feed(object(), b"a", 1)
    with pytest.raises(TypeError):
        native.engine_feed(m, "a", 1)
    with pytest.raises(ValueError):
        native.engine_truncate(m, 0)
    with pytest.raises(ValueError):
        native.engine_truncate(m, 2)
    with pytest.raises(ValueError):
        native.engine_forced(m, -1)


def test_fill_checks_its_row_and_ids() -> None:
    g = native.engine_grammar(*grammar_args())  # vocabulary of 2 tokens: one mask word
    m = native.engine_matcher(g)
    row = np.full(3, -1, dtype=np.int32)
    native.engine_fill(m, row, i32([]))
    assert row.tolist() == [1, 0, 0]  # token 0 ("a"), the tail zeroed
    assert native.engine_feed(m, b"a", 1 << 20)[0] == 1
    native.engine_fill(m, row, i32([1]))
    assert row.tolist() == [2, 0, 0]  # accepting: EOS id 1 allowed, "a" no longer
    bad: list[tuple[object, bytes, type[Exception]]] = [
        (np.zeros(0, dtype=np.int32), b"", ValueError),  # too short
        (np.zeros(2, dtype=np.int16), b"", ValueError),  # 2-byte items
        (np.zeros(4, dtype=np.int32)[::2], b"", ValueError),  # not contiguous
        (bytes(8), b"", BufferError),  # read-only
        (bytearray(9)[1:], b"", ValueError),  # bytes, not 4-byte items
        (np.zeros(2, dtype=np.int32), i32([32]), ValueError),  # EOS outside the mask
        (np.zeros(2, dtype=np.int32), i32([-1]), ValueError),
        (np.zeros(2, dtype=np.int32), "x", TypeError),  # type: ignore[list-item]
    ]
    for buf, eos, error in bad:
        with pytest.raises(error):
            native.engine_fill(m, buf, eos)
    with pytest.raises(ValueError):
        native.engine_fill(g, row, b"")  # a grammar, not a matcher
    native.engine_fill(m, row, i32([1]))  # unchanged by the refusals
    assert row.tolist() == [2, 0, 0]


def test_fill_at_takes_plain_int32_rows_and_declines_the_rest() -> None:
    g = native.engine_grammar(*grammar_args())  # vocabulary of 2 tokens: one mask word
    m = native.engine_matcher(g)
    table = np.full((3, 2), -1, dtype=np.int32)
    assert native.engine_fill_at(m, table, 1, i32([]))
    assert table.tolist() == [[-1, -1], [1, 0], [-1, -1]]  # row 1 only, its tail zeroed
    flat = np.full(4, -1, dtype=np.int32)
    assert native.engine_fill_at(m, flat, 0, i32([]))
    assert flat.tolist() == [1, 0, 0, 0]
    declined: list[tuple[object, object]] = [
        (table, 3),  # index out of range
        (table, -1),
        (table, np.int64(1)),  # not a Python int: the general path converts it
        (table, True),
        (flat, 1),  # a 1-D mask has row 0 only
        (np.zeros((3, 0), dtype=np.int32), 0),  # too few words
        (np.zeros((3, 4), dtype=np.int32)[:, ::2], 0),  # strided row
        (np.zeros((2, 3), dtype=np.int32, order="F"), 0),
        (np.zeros((3, 2), dtype=np.int64), 0),  # not int32
        (np.zeros((3, 2), dtype=np.uint32), 0),
        (np.zeros((3, 2), dtype=np.float32), 0),
        (np.zeros((1, 2, 2), dtype=np.int32), 0),  # 3-D
        (np.zeros((3, 2), dtype=np.int32)[:, :0], 0),
        (bytes(8), 0),  # read-only
        ([0, 0], 0),  # no buffer
    ]
    readonly = np.zeros((2, 2), dtype=np.int32)
    readonly.flags.writeable = False
    declined.append((readonly, 0))
    for mask, index in declined:
        before = np.array(mask, copy=True) if isinstance(mask, np.ndarray) else None
        assert native.engine_fill_at(m, mask, index, i32([])) is False
        if before is not None:
            np.testing.assert_array_equal(mask, before)  # nothing written
    with pytest.raises(ValueError):
        native.engine_fill_at(g, table, 0, b"")  # a grammar, not a matcher
    with pytest.raises(ValueError):
        native.engine_fill_at(m, table, 0, i32([64]))  # EOS outside the mask
    with pytest.raises(TypeError):
        native.engine_fill_at(m, table, 0, "x")
    with pytest.raises(TypeError, match="4 arguments"):
        native.engine_fill_at(m, table, 0)  # a fast call: its arguments counted here
    with pytest.raises(TypeError, match="4 arguments"):
        native.engine_fill_at(m, table, 0, b"", 1)
    with pytest.raises(TypeError):
        native.engine_fill_at(m, table, 0, 7)


def test_matcher_fill_gives_the_same_row_on_every_path() -> None:
    """NumPy rows go through engine_fill_at, other layouts through the general path."""
    cg = compile_grammar(library_grammar("json"), smollm2(), engine="native")
    m = Matcher(cg)
    for tid in smollm2().encode(b'{"a": [1, 2'):
        assert m.accept_token(tid)
    words = (cg.vocab_size + 31) // 32
    want = np.zeros((2, words), dtype=np.int32)
    ref = Matcher.reference(cg)
    for tid in smollm2().encode(b'{"a": [1, 2'):
        assert ref.accept_token(tid)
    ref.fill_next_token_bitmask(want, 0)
    for layout in ("c", "f", "numpy-index", "1d"):
        got = np.full((2, words + 3), 7, dtype=np.int32)
        if layout == "f":
            got = np.asfortranarray(got)
        if layout == "1d":
            row = np.full(words + 3, 7, dtype=np.int32)
            m.fill_next_token_bitmask(row, 0)
            np.testing.assert_array_equal(row[:words], want[0])
            assert not row[words:].any()
            continue
        m.fill_next_token_bitmask(got, np.int64(0) if layout == "numpy-index" else 0)
        np.testing.assert_array_equal(got[0, :words], want[0])
        assert not got[0, words:].any() and (got[1] == 7).all()


@pytest.fixture(scope="module")
def json_native() -> object:
    return compile_grammar(library_grammar("json.lark"), smollm2(), engine="native")


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.one_of(st.integers(-(2**40), 2**40), st.integers(-3, 49_160)), max_size=12),
    back=st.integers(0, 20),
)
def test_any_token_ids_and_rollbacks(json_native: object, ids: list[int], back: int) -> None:
    nat = Matcher(json_native)  # type: ignore[arg-type]
    ref = Matcher.reference(json_native)  # type: ignore[arg-type]
    for tid in ids:
        assert nat.accept_token(tid) == ref.accept_token(tid)
    if back <= len(nat._marks):
        nat.rollback(back)
        ref.rollback(back)
    else:
        with pytest.raises(ValueError):
            nat.rollback(back)
        return
    assert np.array_equal(nat.allowed_token_mask(), ref.allowed_token_mask())


def test_one_matcher_from_two_threads_never_crashes(json_native: object) -> None:
    m = Matcher(json_native)  # type: ignore[arg-type]
    assert m.accept_bytes(b'{"key": [1, 2, "')
    errors: list[BaseException] = []

    def hammer() -> None:
        for _ in range(30):
            try:
                m.allowed_token_mask()
            except RuntimeError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("another thread" in str(e) for e in errors)
    assert m.allowed_token_mask().any()


def test_engine_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="engine"):
        compile_grammar(Grammar.from_regex("a+"), smollm2(), engine="fast")
