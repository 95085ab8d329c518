"""Validation of the matcher's and the bitmask functions' arguments (shared, strict).

One small helper per kind of argument, so that every entry point — and the future native
engine, which must accept and refuse exactly the same values — applies the same rules:

* token ids and counts are Python ``int`` or NumPy integers, never ``bool``, floats or strings
  (``TypeError``); counts are non-negative (``ValueError``);
* raw input is bytes-like (``bytes``, ``bytearray``, ``memoryview``), never an integer (which
  ``bytes(5)`` would read as five zero bytes) or a string (``TypeError``);
* arrays are NumPy arrays or CPU tensors of another library (PyTorch) exchanged through DLPack
  (``numpy.from_dlpack``: a view on the same memory, so writes reach the tensor); a tensor on
  another device is refused (``ValueError``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["as_array", "bytes_arg", "count_arg", "int_arg", "mask_row"]

_DLPACK_CPU = 1  # DLDeviceType.kDLCPU


def int_arg(value: object, name: str) -> int:
    """``value`` as an ``int``: Python or NumPy integers only (not ``bool``).

    Raises
    ------
    TypeError
        For ``bool``, floats, strings and every other type.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    return operator.index(value)


def count_arg(value: object, name: str) -> int:
    """A non-negative integer (see :func:`int_arg`).

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If it is negative.
    """
    count = int_arg(value, name)
    if count < 0:
        raise ValueError(f"{name} must be >= 0, got {count}")
    return count


def bytes_arg(value: object, name: str) -> bytes:
    """``value`` as ``bytes``: ``bytes``, ``bytearray`` or ``memoryview`` only.

    Raises
    ------
    TypeError
        For integers, strings and every other type.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(
        f"{name} must be bytes, bytearray or memoryview, got {type(value).__name__}"
        + (" (encode text first)" if isinstance(value, str) else "")
    )


def as_array(value: object, name: str) -> npt.NDArray[Any]:
    """A NumPy array, or a NumPy view of a CPU tensor through DLPack (same memory).

    Raises
    ------
    TypeError
        If ``value`` is neither an array nor a DLPack tensor, or its dtype has no NumPy
        equivalent.
    ValueError
        For a tensor that is not on the CPU or cannot be exported (e.g. one requiring grad).
    """
    if isinstance(value, np.ndarray):
        return value
    device = getattr(value, "__dlpack_device__", None)
    if device is None or not hasattr(value, "__dlpack__"):
        raise TypeError(
            f"{name} must be a numpy.ndarray or a CPU tensor, got {type(value).__name__}"
        )
    try:
        dev_type, dev_id = device()
    except (RuntimeError, BufferError, ValueError) as exc:
        raise ValueError(f"{name} must be on the CPU ({exc})") from None
    if int(dev_type) != _DLPACK_CPU:
        raise ValueError(
            f"{name} must be on the CPU, got a tensor on device type {int(dev_type)} "
            f"(id {dev_id}); copy it to the CPU first"
        )
    try:
        return np.from_dlpack(value)
    except BufferError as exc:
        raise ValueError(f"{name}: cannot export this tensor ({exc})") from None
    except (RuntimeError, TypeError) as exc:
        raise TypeError(f"{name}: dtype not supported ({exc})") from None


def mask_row(bitmask: object, index: object, n_words: int) -> npt.NDArray[np.int32]:
    """The row of an ``int32`` bitmask that a mask of ``n_words`` words is written to.

    ``bitmask`` is ``(words,)`` (then ``index`` must be 0) or ``(batch, words)`` with
    ``0 <= index < batch``, and ``words >= n_words``.

    Raises
    ------
    TypeError
        A non-array, a dtype other than ``int32``, a non-integer index.
    ValueError
        A wrong ndim, too few words, an index out of range, a read-only array.
    """
    arr = as_array(bitmask, "bitmask")
    if arr.dtype != np.int32:
        raise TypeError(f"bitmask dtype must be int32, got {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"bitmask must be 1-D (words,) or 2-D (batch, words), got ndim={arr.ndim}")
    row_index = int_arg(index, "index")
    if arr.ndim == 1:
        if row_index != 0:
            raise ValueError(f"index must be 0 for a 1-D bitmask, got {row_index}")
        row = arr
    else:
        if not 0 <= row_index < arr.shape[0]:
            raise ValueError(
                f"index {row_index} is out of range for a bitmask of {arr.shape[0]} rows"
            )
        row = arr[row_index]
    if row.shape[0] < n_words:
        raise ValueError(
            f"bitmask rows have {row.shape[0]} words, {n_words} needed "
            "(words * 32 must be >= vocab_size)"
        )
    if not row.flags.writeable:
        raise ValueError("bitmask must be writable, got a read-only array")
    return row
