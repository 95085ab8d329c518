"""Tests of corral.constraint_engine.bitmask and its C kernel.

The native apply is checked against the NumPy twin and against a scalar reference, argument
errors are checked on both, and the raw extension function is fed garbage that must raise, never
crash.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.constraint_engine.bitmask import (
    HAS_NATIVE,
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    apply_token_bitmask_inplace_py,
    bitmask_words,
    pack_bitmask,
    unpack_bitmask,
)

native = importlib.import_module("corral._native")
APPLIES = [
    apply_token_bitmask_inplace,
    apply_token_bitmask_inplace_py,
    native.apply_token_bitmask_inplace,
]
APPLY_IDS = ["native", "twin", "raw"]
UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float16): np.uint16}


def random_logits(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Random bit patterns (NaN payloads included) so that any stray write is visible."""
    uint = UINT[np.dtype(dtype)]
    bits = rng.integers(0, np.iinfo(uint).max, size=shape, dtype=uint, endpoint=True)
    return bits.view(dtype)


def random_mask(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Words mixing all-allowed, all-disallowed, random and nearly-allowed (<= 4 zeros) bits."""
    words = rng.integers(-(2**31), 2**31, size=shape, dtype=np.int64).astype(np.int32)
    kind = rng.integers(0, 4, size=shape)
    words[kind == 0] = -1
    words[kind == 1] = 0
    holes = np.zeros(shape, dtype=np.uint32)
    for _ in range(4):
        holes |= np.left_shift(np.uint32(1), rng.integers(0, 32, size=shape).astype(np.uint32))
    words[kind == 2] = (~holes).view(np.int32)[kind == 2]
    return words


def reference(logits: np.ndarray, mask: np.ndarray, n_cols: int, rows: list[int] | None):
    """Scalar reference: the documented layout, one token at a time."""
    out = logits.copy()
    out2d = out.reshape(1, -1) if out.ndim == 1 else out
    mask2d = mask.reshape(1, -1) if mask.ndim == 1 else mask
    for r in range(out2d.shape[0]) if rows is None else rows:
        for i in range(n_cols):
            word = int(mask2d[r, i // 32]) & 0xFFFFFFFF
            if not (word >> (i % 32)) & 1:
                out2d[r, i] = -np.inf
    return out


def bits(array: np.ndarray) -> np.ndarray:
    return array.view(UINT[array.dtype])


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float16]))
    vocab = draw(st.one_of(st.integers(0, 200), st.sampled_from([31, 32, 33, 64, 95, 1000])))
    two_d = draw(st.booleans())
    batch = draw(st.integers(0, 5)) if two_d else 1
    n_cols = draw(st.one_of(st.none(), st.integers(0, vocab)))
    words = bitmask_words(vocab if n_cols is None else n_cols) + draw(st.integers(0, 2))
    logits = random_logits(rng, (batch, vocab) if two_d else (vocab,), dtype)
    mask_shape = (batch, words) if two_d else draw(st.sampled_from([(words,), (1, words)]))
    mask = random_mask(rng, mask_shape)
    if draw(st.booleans()):
        mask = mask.view(np.uint32)
    indices = None
    if batch and draw(st.booleans()):
        indices = draw(st.lists(st.integers(0, batch - 1), max_size=2 * batch))
    return {"logits": logits, "mask": mask, "n_cols": n_cols, "indices": indices}


def test_native_is_used() -> None:
    assert HAS_NATIVE


@settings(max_examples=400, deadline=None)
@given(cases())
def test_native_matches_twin_and_reference(case: dict[str, Any]) -> None:
    logits, mask, n_cols, indices = case["logits"], case["mask"], case["n_cols"], case["indices"]
    expected = reference(logits, mask, logits.shape[-1] if n_cols is None else n_cols, indices)
    for apply in APPLIES:
        out = logits.copy()
        apply(out, mask, vocab_size=n_cols, indices=indices)
        np.testing.assert_array_equal(bits(out), bits(expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("vocab", [151_936, 49_155])
def test_large_vocab_batch(dtype: Any, vocab: int) -> None:
    rng = np.random.default_rng(vocab)
    logits = random_logits(rng, (4, vocab), dtype)
    mask = random_mask(rng, (4, bitmask_words(vocab)))
    a, b = logits.copy(), logits.copy()
    apply_token_bitmask_inplace(a, mask, indices=[3, 1])
    apply_token_bitmask_inplace_py(b, mask, indices=[3, 1])
    np.testing.assert_array_equal(bits(a), bits(b))
    np.testing.assert_array_equal(bits(a[[0, 2]]), bits(logits[[0, 2]]))
    allowed = unpack_bitmask(mask[3], vocab)
    assert np.all(np.isneginf(a[3][~allowed]))
    np.testing.assert_array_equal(bits(a[3][allowed]), bits(logits[3][allowed]))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_documented_layout(dtype: Any) -> None:
    logits = np.zeros(100, dtype)
    mask = np.array([0x0000FFFF, -1, ~0b1001, 0, 0b1010], np.int32)
    apply_token_bitmask_inplace(logits, mask)
    disallowed = [*range(16, 32), 64, 67, *range(96, 100)]
    assert np.flatnonzero(np.isneginf(logits)).tolist() == disallowed
    logits = np.zeros(70, dtype)
    apply_token_bitmask_inplace(logits, mask[[0, 1, 4]])
    assert np.flatnonzero(logits).tolist() == [*range(16, 32), 64, 66, 68, 69]
    assert np.float16(-np.inf).view(np.uint16) == 0xFC00


@pytest.mark.parametrize("apply", APPLIES, ids=APPLY_IDS)
def test_strided_and_unaligned_inputs(apply: Callable[..., None]) -> None:
    rng = np.random.default_rng(7)
    mask = random_mask(rng, (6, 8))
    strided = mask[::-2, ::2]  # negative row stride, word stride of 8 bytes
    buffer = bytearray(3 * 100 * 4 + 1)
    logits = np.frombuffer(buffer, np.float32, count=300, offset=1).reshape(3, 100)
    logits[...] = random_logits(rng, (3, 100), np.float32)
    assert not logits.flags.aligned
    expected = reference(logits, strided, 100, None)
    apply(logits, strided)
    np.testing.assert_array_equal(bits(logits), bits(expected))
    row = np.zeros(64, np.float16)
    apply(row, np.broadcast_to(np.int32(0x5555_5555), (2,)))
    assert np.isneginf(row[1::2]).all() and (row[::2] == 0).all()


@pytest.mark.parametrize("apply", APPLIES, ids=APPLY_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_strided_logits_are_written_in_place(apply: Callable[..., None], dtype: Any) -> None:
    """Record fields (llama-cpp-python's candidates), column slices, reversed and Fortran rows."""
    rng = np.random.default_rng(11)
    records = np.zeros(70, dtype=[("id", np.intc), ("logit", dtype), ("p", np.float32)])
    records["logit"] = random_logits(rng, (70,), dtype)
    views = [
        records["logit"],
        random_logits(rng, (3, 140), dtype)[:, ::2],
        random_logits(rng, (70,), dtype)[::-1],
        np.asfortranarray(random_logits(rng, (3, 70), dtype)),
    ]
    for view in views:
        mask = random_mask(rng, (*view.shape[:-1], 3))
        expected = reference(np.array(view, copy=True), mask, 70, None)
        apply(view, mask)
        np.testing.assert_array_equal(bits(view), bits(expected))
    assert (records["id"] == 0).all() and (records["p"] == 0).all()  # neighbours untouched


def test_empty_inputs() -> None:
    for apply in APPLIES:
        apply(np.zeros((0, 10), np.float32), np.zeros((0, 1), np.int32))
        apply(np.zeros((2, 0), np.float16), np.zeros((2, 0), np.int32))
        logits = np.ones(40, np.float32)
        apply(logits, np.zeros(2, np.int32), vocab_size=0)
        apply(logits, np.zeros(2, np.int32), indices=[])
        assert (logits == 1).all()


def f32(*shape: int) -> np.ndarray:
    return np.zeros(shape, np.float32)


def i32(*shape: int) -> np.ndarray:
    return np.full(shape, 0, np.int32)


def read_only() -> np.ndarray:
    array = f32(64)
    array.flags.writeable = False
    return array


ERRORS: list[tuple[str, Callable[[], tuple[Any, Any, dict[str, Any]]], type, str]] = [
    ("list logits", lambda: ([0.0] * 32, i32(1), {}), TypeError, "logits"),
    ("float64", lambda: (np.zeros(32), i32(1), {}), TypeError, "float32 or float16"),
    ("int logits", lambda: (np.zeros(32, np.int32), i32(1), {}), TypeError, "float32"),
    ("big-endian", lambda: (np.zeros(32, ">f4"), i32(1), {}), TypeError, "float32"),
    ("float mask", lambda: (f32(32), np.zeros(1, np.float32), {}), TypeError, "bitmask dtype"),
    ("int64 mask", lambda: (f32(32), np.zeros(1, np.int64), {}), TypeError, "bitmask dtype"),
    ("list mask", lambda: (f32(32), [-1], {}), TypeError, "bitmask"),
    ("0-d logits", lambda: (np.zeros((), np.float32), i32(1), {}), ValueError, "ndim"),
    ("3-d logits", lambda: (f32(1, 1, 32), i32(1, 1), {}), ValueError, "ndim"),
    ("3-d mask", lambda: (f32(1, 32), i32(1, 1, 1), {}), ValueError, "ndim"),
    ("2-d logits 1-d mask", lambda: (f32(2, 32), i32(1), {}), ValueError, "shape mismatch"),
    ("row mismatch", lambda: (f32(2, 32), i32(3, 1), {}), ValueError, "shape mismatch"),
    ("1-d logits 2 rows", lambda: (f32(32), i32(2, 1), {}), ValueError, "shape mismatch"),
    ("too small", lambda: (f32(2, 33), i32(2, 1), {}), ValueError, "too small"),
    ("vocab too big", lambda: (f32(32), i32(2), {"vocab_size": 33}), ValueError, "vocab_size"),
    ("vocab negative", lambda: (f32(32), i32(1), {"vocab_size": -1}), ValueError, "vocab_size"),
    ("vocab str", lambda: (f32(32), i32(1), {"vocab_size": "3"}), TypeError, "vocab_size"),
    (
        "index high",
        lambda: (f32(2, 32), i32(2, 1), {"indices": [0, 2]}),
        ValueError,
        "out of range",
    ),
    (
        "index negative",
        lambda: (f32(2, 32), i32(2, 1), {"indices": [-1]}),
        ValueError,
        "out of range",
    ),
    (
        "index huge",
        lambda: (f32(2, 32), i32(2, 1), {"indices": [2**70]}),
        ValueError,
        "out of range",
    ),
    ("index float", lambda: (f32(2, 32), i32(2, 1), {"indices": [0.0]}), TypeError, "indices"),
    ("index str", lambda: (f32(2, 32), i32(2, 1), {"indices": "01"}), TypeError, "indices"),
    ("index int", lambda: (f32(2, 32), i32(2, 1), {"indices": 1}), TypeError, "indices"),
    (
        "repeated logit",
        lambda: (np.broadcast_to(f32(1), (32,)), i32(1), {}),
        ValueError,
        "writable|zero stride",
    ),
    ("read-only logits", lambda: (read_only(), i32(2), {}), ValueError, "writable"),
]


@pytest.mark.parametrize("apply", APPLIES, ids=APPLY_IDS)
@pytest.mark.parametrize(
    ("make", "exc", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors(apply: Callable[..., None], make: Callable[[], Any], exc: type, words: str) -> None:
    logits, mask, kwargs = make()
    before = np.array(logits, copy=True) if isinstance(logits, np.ndarray) else None
    with pytest.raises(exc, match=words):
        apply(logits, mask, **kwargs)
    if before is not None:
        np.testing.assert_array_equal(logits, before)


class BadIndex:
    def __index__(self) -> int:
        raise RuntimeError("boom")


class Mutator:
    """An index whose conversion empties the list being read."""

    def __init__(self, target: list[Any]) -> None:
        self.target = target

    def __index__(self) -> int:
        self.target.clear()
        return 0


def test_raw_native_garbage_raises() -> None:
    fn = native.apply_token_bitmask_inplace
    good_mask = np.full(2, -1, np.int32)
    garbage = [
        (b"\x00" * 8, good_mask),
        (bytearray(8), good_mask),
        (memoryview(b"\x00" * 8), good_mask),
        (memoryview(bytearray(16)).cast("d"), good_mask),
        (memoryview(bytearray(16)).cast("i"), good_mask),
        (None, good_mask),
        (3, good_mask),
        ("logits", good_mask),
        (f32(64), b"\xff" * 8),
        (f32(64), memoryview(bytearray(8)).cast("f")),
        (f32(64), memoryview(bytearray(16)).cast("q")),
        (f32(64), None),
    ]
    for logits, mask in garbage:
        with pytest.raises((TypeError, ValueError)):
            fn(logits, mask)
    with pytest.raises(TypeError):
        fn()
    with pytest.raises(TypeError):
        fn(f32(64))
    with pytest.raises(TypeError):
        fn(f32(64), good_mask, 64)
    with pytest.raises(TypeError):
        fn(f32(64), good_mask, bogus=1)
    with pytest.raises(TypeError):
        fn(f32(64), good_mask, vocab_size=1.5)
    with pytest.raises(ValueError, match="vocab_size"):
        fn(f32(64), good_mask, vocab_size=2**80)
    with pytest.raises(RuntimeError, match="boom"):
        fn(f32(1, 64), i32(1, 2), indices=[BadIndex()])
    with pytest.raises(TypeError, match="indices"):
        fn(f32(1, 64), i32(1, 2), indices=object())
    released = memoryview(bytearray(8)).cast("f")
    released.release()
    with pytest.raises(ValueError):
        fn(released, good_mask)


def test_raw_native_tolerates_odd_but_valid_inputs() -> None:
    fn = native.apply_token_bitmask_inplace
    target: list[Any] = []
    target.extend([Mutator(target), 0, 0])
    logits = f32(1, 64)
    fn(logits, i32(1, 2), indices=target)
    assert np.isneginf(logits).all()
    raw = bytearray(128)
    fn(memoryview(raw).cast("f"), memoryview(bytearray(b"\xff" * 4 + b"\x00" * 4)).cast("i"))
    out = np.frombuffer(raw, np.float32)
    assert (out[:32] == 0).all() and np.isneginf(out[32:]).all()
    fn(f32(1, 64), i32(1, 2), indices=(i for i in [0, 0]))
    fn(f32(1, 64), i32(1, 2), indices=np.array([0], np.int64))
    fn(f32(64), memoryview(bytearray(8)).cast("B").cast("I", (1, 2)))
    shared = np.zeros(16, np.int32)
    fn(shared.view(np.float32), shared)


@settings(max_examples=300, deadline=None)
@given(
    logit_dtype=st.sampled_from(["f4", "f2", "f8", "i4", ">f4", "u1"]),
    mask_dtype=st.sampled_from(["i4", "u4", "i8", "f4", ">i4", "i2"]),
    logit_shape=st.lists(st.integers(0, 70), min_size=0, max_size=3).map(tuple),
    mask_shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    vocab_size=st.one_of(st.none(), st.integers(-(2**66), 2**66), st.integers(-2, 80)),
    indices=st.one_of(
        st.none(), st.lists(st.integers(-(2**66), 2**66)), st.lists(st.integers(-2, 5))
    ),
)
def test_raw_native_fuzz_never_crashes(
    logit_dtype: str,
    mask_dtype: str,
    logit_shape: tuple[int, ...],
    mask_shape: tuple[int, ...],
    vocab_size: int | None,
    indices: list[int] | None,
) -> None:
    logits = np.zeros(logit_shape, logit_dtype)
    mask = np.zeros(mask_shape, mask_dtype)
    twin = logits.copy()
    try:
        native.apply_token_bitmask_inplace(logits, mask, vocab_size=vocab_size, indices=indices)
    except (TypeError, ValueError):
        with pytest.raises((TypeError, ValueError)):
            apply_token_bitmask_inplace_py(twin, mask, vocab_size=vocab_size, indices=indices)
        return
    apply_token_bitmask_inplace_py(twin, mask, vocab_size=vocab_size, indices=indices)
    np.testing.assert_array_equal(logits, twin)


def test_allocate_and_words() -> None:
    mask = allocate_token_bitmask(3, 151_936)
    assert mask.shape == (3, 4748) and mask.dtype == np.int32 and (mask == -1).all()
    assert allocate_token_bitmask(2, 33).shape == (2, 2)
    assert [bitmask_words(v) for v in (0, 1, 32, 33, 64)] == [0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="batch_size"):
        allocate_token_bitmask(-1, 10)
    with pytest.raises(TypeError, match="vocab_size"):
        bitmask_words(3.0)


@given(st.lists(st.booleans(), max_size=200), st.integers(1, 3))
def test_pack_unpack_roundtrip(flags: list[bool], batch: int) -> None:
    allowed = np.array([flags] * batch, dtype=bool).reshape(batch, len(flags))
    packed = pack_bitmask(allowed)
    assert packed.dtype == np.int32 and packed.shape == (batch, bitmask_words(len(flags)))
    np.testing.assert_array_equal(unpack_bitmask(packed, len(flags)), allowed)
    np.testing.assert_array_equal(unpack_bitmask(packed[0], len(flags)), allowed[0])
    for i, flag in enumerate(flags):
        assert bool((int(packed[0, i // 32]) >> (i % 32)) & 1) == flag


def test_pack_unpack_errors() -> None:
    with pytest.raises(ValueError, match="too small"):
        unpack_bitmask(np.zeros(1, np.int32), 33)
    with pytest.raises(TypeError, match="dtype"):
        unpack_bitmask(np.zeros(1, np.float32), 3)
    with pytest.raises(ValueError, match="dimension"):
        pack_bitmask(True)


@pytest.mark.parametrize("apply", APPLIES[:2], ids=APPLY_IDS[:2])
def test_torch_cpu_tensors_are_written_in_place(apply: Callable[..., None]) -> None:
    import torch

    rng = np.random.default_rng(7)
    for dtype, tdtype in ((np.float32, torch.float32), (np.float16, torch.float16)):
        logits = rng.standard_normal((3, 100)).astype(dtype)
        mask = rng.integers(-(2**31), 2**31, size=(3, 4), dtype=np.int64).astype(np.int32)
        expected = logits.copy()
        apply_token_bitmask_inplace_py(expected, mask, indices=[0, 2])
        tensor = torch.from_numpy(logits.copy())
        apply(tensor, torch.from_numpy(mask), indices=[0, 2])
        assert tensor.dtype == tdtype
        assert np.array_equal(tensor.numpy(), expected, equal_nan=True)
        row = torch.from_numpy(logits[1].copy())
        apply(row, mask[1])  # a NumPy bitmask with a tensor, and the other way round
        one = logits[1].copy()
        apply(one, torch.from_numpy(mask[1]))
        assert np.array_equal(row.numpy(), one)


@pytest.mark.parametrize("apply", APPLIES[:2], ids=APPLY_IDS[:2])
def test_torch_tensor_errors(apply: Callable[..., None]) -> None:
    import torch

    mask = torch.zeros(1, dtype=torch.int32)
    with pytest.raises(TypeError, match="dtype not supported"):
        apply(torch.zeros(8, dtype=torch.bfloat16), mask)
    with pytest.raises(TypeError, match="logits dtype must be float32 or float16"):
        apply(torch.zeros(8, dtype=torch.float64), mask)
    with pytest.raises(TypeError, match="bitmask dtype must be int32"):
        apply(torch.zeros(8), torch.zeros(1, dtype=torch.int64))
    with pytest.raises(ValueError, match="must be on the CPU"):
        apply(torch.zeros(8, device="meta"), mask)
    with pytest.raises(ValueError, match="cannot export"):
        apply(torch.zeros(8, requires_grad=True), mask)
    strided = torch.zeros(16)[::2]
    apply(strided, mask)
    assert torch.isneginf(strided).all()
