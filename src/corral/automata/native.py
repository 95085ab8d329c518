"""The C extension :mod:`corral._native`, looked up by function name.

Each native kernel has a Python twin that is its specification; callers use the native
function where the extension is built and the twin where it is not. This module is the one
place that knows how to ask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["native_function"]


def native_function(name: str) -> Callable[..., Any] | None:
    """The function ``name`` of :mod:`corral._native`, or ``None`` where it is not built."""
    try:
        import corral._native as native
    except ImportError:  # pragma: no cover - depends on the build
        return None
    fn: Callable[..., Any] = getattr(native, name)
    return fn
