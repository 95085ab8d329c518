"""Type stub of the C extension ``corral.constraint_engine._native``."""

from collections.abc import Iterable
from typing import SupportsIndex

from typing_extensions import Buffer

def apply_token_bitmask_inplace(
    logits: Buffer,
    bitmask: Buffer,
    *,
    vocab_size: SupportsIndex | None = None,
    indices: Iterable[SupportsIndex] | None = None,
) -> None:
    """Set the logits of tokens whose bit is 0 in the packed bitmask to ``-inf``, in place."""
