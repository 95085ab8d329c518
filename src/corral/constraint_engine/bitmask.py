"""Packed token bitmasks and applying them to logits.

A token bitmask packs one bit per vocabulary token into ``int32`` words: token ``i`` is allowed
when bit ``i % 32`` of word ``i // 32`` is 1 and disallowed when it is 0. This is the layout
XGrammar and llguidance use, so masks can be exchanged with them unchanged. A batch of masks is an
``int32`` array of shape ``(batch, ceil(vocab / 32))``.

Applying a mask sets the logits of disallowed tokens to ``-inf`` in place.
:func:`apply_token_bitmask_inplace` runs the C kernel of :mod:`corral._native`
when the extension is built and falls back to :func:`apply_token_bitmask_inplace_py`, a pure
NumPy twin with bit-identical results, when it is not. Both reject bad arguments with the same
exception types (``TypeError`` for types and dtypes, ``ValueError`` for shapes and values).
Logits and bitmasks may be NumPy arrays or CPU tensors of another library (PyTorch): those are
viewed as NumPy arrays through DLPack (:func:`corral.constraint_engine.args.as_array`), so the
tensor itself is written; a tensor on another device is refused.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from corral.constraint_engine.args import as_array

__all__ = [
    "HAS_NATIVE",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "apply_token_bitmask_inplace_py",
    "bitmask_words",
    "pack_bitmask",
    "unpack_bitmask",
]

WORD_BITS = 32

Logits: TypeAlias = npt.NDArray[np.float32] | npt.NDArray[np.float16]
Bitmask: TypeAlias = npt.NDArray[np.int32] | npt.NDArray[np.uint32]
Indices: TypeAlias = Sequence[int] | npt.NDArray[np.integer[Any]]

_LOGIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))
_MASK_DTYPES = (np.dtype(np.int32), np.dtype(np.uint32))
_NativeApply: TypeAlias = Callable[..., None]


def _load_native() -> _NativeApply | None:
    try:
        from corral._native import apply_token_bitmask_inplace
    except ImportError:
        return None
    return apply_token_bitmask_inplace


_NATIVE_APPLY = _load_native()
HAS_NATIVE: bool = _NATIVE_APPLY is not None
"""Whether the C extension is available (otherwise the NumPy twin is used)."""


def bitmask_words(vocab_size: int) -> int:
    """Return the number of 32-bit words needed to hold one bit per token.

    Parameters
    ----------
    vocab_size
        Number of tokens, ``>= 0``.

    Returns
    -------
    int
        ``ceil(vocab_size / 32)``.
    """
    vocab_size = _as_count(vocab_size, "vocab_size")
    return (vocab_size + WORD_BITS - 1) // WORD_BITS


def allocate_token_bitmask(batch_size: int, vocab_size: int) -> npt.NDArray[np.int32]:
    """Allocate a batch of bitmasks with every token allowed.

    Parameters
    ----------
    batch_size
        Number of rows, ``>= 0``.
    vocab_size
        Number of tokens per row, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``int32`` array of shape ``(batch_size, ceil(vocab_size / 32))`` filled with ``-1``.
    """
    batch_size = _as_count(batch_size, "batch_size")
    return np.full((batch_size, bitmask_words(vocab_size)), -1, dtype=np.int32)


def unpack_bitmask(bitmask_row: Bitmask, vocab_size: int) -> npt.NDArray[np.bool_]:
    """Expand packed bitmask words into one boolean per token.

    Parameters
    ----------
    bitmask_row
        ``int32`` (or ``uint32``) words of shape ``(W,)``, or ``(B, W)`` for a batch.
    vocab_size
        Number of tokens to unpack; ``vocab_size <= 32 * W``.

    Returns
    -------
    numpy.ndarray
        ``bool`` array of shape ``(vocab_size,)`` (or ``(B, vocab_size)``); True means allowed.
    """
    mask = _check_mask_array(bitmask_row)
    vocab_size = _as_count(vocab_size, "vocab_size")
    if mask.shape[-1] * WORD_BITS < vocab_size:
        raise ValueError(
            f"bitmask too small: {mask.shape[-1]} words cannot hold {vocab_size} tokens"
        )
    mask2d = mask.reshape(1, -1) if mask.ndim == 1 else mask
    bits = _unpack_rows(mask2d, vocab_size)
    return bits.astype(np.bool_).reshape((*mask.shape[:-1], vocab_size))


def pack_bitmask(allowed: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Pack booleans (True = allowed) into ``int32`` bitmask words.

    Parameters
    ----------
    allowed
        Array of shape ``(..., V)``; packed along the last axis.

    Returns
    -------
    numpy.ndarray
        ``int32`` array of shape ``(..., ceil(V / 32))``. Padding bits beyond ``V`` are 0.
    """
    flags = np.asarray(allowed).astype(np.bool_, copy=False)
    if flags.ndim == 0:
        raise ValueError("pack_bitmask needs an array with at least one dimension")
    vocab = flags.shape[-1]
    words = bitmask_words(vocab)
    padded = np.zeros((*flags.shape[:-1], words * WORD_BITS), dtype=np.bool_)
    padded[..., :vocab] = flags
    packed = np.packbits(padded, axis=-1, bitorder="little")
    return packed.view("<i4").astype(np.int32, copy=False)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Validated arguments of an apply call, normalised to 2-D views."""

    logits: npt.NDArray[Any]
    mask: npt.NDArray[Any]
    n_cols: int
    rows: list[int] | None


def apply_token_bitmask_inplace(
    logits: Logits,
    bitmask: Bitmask,
    *,
    vocab_size: int | None = None,
    indices: Indices | None = None,
) -> None:
    """Set the logits of disallowed tokens to ``-inf``, in place.

    Parameters
    ----------
    logits
        Writable ``float32`` or ``float16`` array (or CPU tensor), ``(V,)`` or ``(B, V)``,
        with any strides: a strided view (llama-cpp-python's candidate records) is written in
        place, without a copy.
    bitmask
        ``int32`` (or ``uint32``) words: ``(W,)`` or ``(1, W)`` for 1-D logits, ``(B, W)`` for
        2-D logits, with ``32 * W >= vocab_size``. Token ``i`` is disallowed when bit ``i % 32``
        of word ``i // 32`` is 0.
    vocab_size
        Number of leading columns to mask (``<= V``); defaults to ``V``. Later columns and bits
        are ignored.
    indices
        Rows (of both arrays) to mask; the others are left untouched. Defaults to every row.

    Raises
    ------
    TypeError
        An argument that is neither a NumPy array nor a CPU tensor, or a wrong dtype.
    ValueError
        A wrong ndim, mismatched shapes, a too-small bitmask, out-of-range indices, or
        read-only logits, a zero column stride, a tensor off the CPU.
    """
    logits = as_array(logits, "logits")
    bitmask = as_array(bitmask, "bitmask")
    if _NATIVE_APPLY is None:
        _apply_numpy(_validate(logits, bitmask, vocab_size, indices))
        return
    # Only the checks the buffer protocol cannot express; the C function validates the rest.
    _check_logits_type(logits)
    _check_mask_type(bitmask)
    _NATIVE_APPLY(logits, bitmask, vocab_size=vocab_size, indices=indices)


def apply_token_bitmask_inplace_py(
    logits: Logits,
    bitmask: Bitmask,
    *,
    vocab_size: int | None = None,
    indices: Indices | None = None,
) -> None:
    """Pure NumPy twin of :func:`apply_token_bitmask_inplace`, with identical results.

    Parameters
    ----------
    logits, bitmask, vocab_size, indices
        As for :func:`apply_token_bitmask_inplace`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`apply_token_bitmask_inplace`.
    """
    logits = as_array(logits, "logits")
    bitmask = as_array(bitmask, "bitmask")
    _apply_numpy(_validate(logits, bitmask, vocab_size, indices))


def _as_count(value: Any, name: str) -> int:
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if count < 0:
        raise ValueError(f"{name} must be >= 0, got {count}")
    return count


def _check_logits_type(logits: object) -> npt.NDArray[Any]:
    if not isinstance(logits, np.ndarray):
        raise TypeError(f"logits must be a numpy.ndarray, got {type(logits).__name__}")
    if logits.dtype not in _LOGIT_DTYPES:
        raise TypeError(f"logits dtype must be float32 or float16, got {logits.dtype}")
    return logits


def _check_mask_type(bitmask: object) -> npt.NDArray[Any]:
    if not isinstance(bitmask, np.ndarray):
        raise TypeError(f"bitmask must be a numpy.ndarray, got {type(bitmask).__name__}")
    if bitmask.dtype not in _MASK_DTYPES:
        raise TypeError(f"bitmask dtype must be int32 (or uint32), got {bitmask.dtype}")
    return bitmask


def _check_mask_array(bitmask: object) -> npt.NDArray[Any]:
    mask = _check_mask_type(bitmask)
    if mask.ndim not in (1, 2):
        raise ValueError(f"bitmask must be 1-D or 2-D, got ndim={mask.ndim}")
    return mask


def _validate(array: object, bitmask: object, vocab_size: object, indices: object) -> _Plan:
    logits = _check_logits_type(array)
    if logits.ndim not in (1, 2):
        raise ValueError(f"logits must be 1-D or 2-D, got ndim={logits.ndim}")
    if not logits.flags.writeable:
        raise ValueError("logits must be writable, got a read-only array")
    if logits.size > 1 and logits.strides[-1] == 0 and logits.shape[-1] > 1:
        raise ValueError("logits must not repeat one element along a row (a zero stride)")
    mask = _check_mask_array(bitmask)
    if logits.ndim == 2 and mask.ndim != 2:
        raise ValueError(
            f"bitmask shape mismatch: 2-D logits of shape {logits.shape} need a 2-D bitmask "
            f"of shape ({logits.shape[0]}, W), got {mask.shape}"
        )
    logits2d = logits[np.newaxis, :] if logits.ndim == 1 else logits  # a view, whatever strides
    mask2d = mask.reshape(1, -1) if mask.ndim == 1 else mask
    batch, vocab = logits2d.shape
    if mask2d.shape[0] != batch:
        raise ValueError(
            f"bitmask shape mismatch: bitmask has {mask2d.shape[0]} rows but logits have {batch}"
        )
    n_cols = vocab if vocab_size is None else _as_count(vocab_size, "vocab_size")
    if n_cols > vocab:
        raise ValueError(f"vocab_size {n_cols} exceeds the logits' last dimension {vocab}")
    needed = bitmask_words(n_cols)
    if mask2d.shape[1] < needed:
        raise ValueError(
            f"bitmask too small: it has {mask2d.shape[1]} words per row but {n_cols} tokens "
            f"need {needed} words (W * 32 must be >= vocab size)"
        )
    rows = None if indices is None else _check_indices(indices, batch)
    return _Plan(logits2d, mask2d, n_cols, rows)


def _check_indices(indices: object, batch: int) -> list[int]:
    if isinstance(indices, np.ndarray):
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(
                f"indices must be a 1-D integer array, got {indices.dtype} with ndim={indices.ndim}"
            )
        rows: list[int] = [int(i) for i in indices.tolist()]
    elif isinstance(indices, Iterable) and not isinstance(indices, (str, bytes, bytearray)):
        rows = []
        for k, item in enumerate(indices):
            try:
                rows.append(operator.index(item))
            except TypeError:
                raise TypeError(
                    f"indices[{k}] must be an integer, got {type(item).__name__}"
                ) from None
    else:
        raise TypeError(
            f"indices must be a sequence of integers or None, got {type(indices).__name__}"
        )
    for k, row in enumerate(rows):
        if not 0 <= row < batch:
            raise ValueError(f"indices[{k}] = {row} is out of range for {batch} rows")
    return rows


def _unpack_rows(mask2d: npt.NDArray[Any], n_cols: int) -> npt.NDArray[np.uint8]:
    """Return ``(rows, n_cols)`` uint8 bits (1 = allowed) of the first ``n_cols`` tokens."""
    words = bitmask_words(n_cols)
    little = np.ascontiguousarray(mask2d[:, :words]).view(np.uint32).astype("<u4", copy=False)
    return np.unpackbits(little.view(np.uint8), axis=1, count=n_cols, bitorder="little")


def _apply_numpy(plan: _Plan) -> None:
    if plan.n_cols == 0 or plan.logits.shape[0] == 0:
        return
    if plan.rows is None:
        mask = plan.mask
        target = None
    else:
        target = np.asarray(plan.rows, dtype=np.intp)
        mask = plan.mask[target]
    r, c = np.nonzero(_unpack_rows(mask, plan.n_cols) == 0)
    rows = r if target is None else target[r]
    plan.logits[rows, c] = plan.logits.dtype.type(-np.inf)
