"""The matcher on the native engine: :class:`Matcher`'s API, its state in C.

``Matcher(compiled)`` gives a :class:`NativeMatcher` when ``compiled.engine == "native"``. The
state — Earley sets, lexer threads, one position per byte — lives in a C matcher
(``csrc/engine_*.c``), the twin of the reference :class:`Matcher`, which is its specification:
same steps, same sets, same masks bit for bit (``docs/design/native-engine.md``). Rollback
marks (which positions each accepted step began at) and termination are kept here.

Shortest completions are the reference's (:mod:`corral.constraint_engine.completion`), run on a
reference matcher that replays the accepted steps when a completion is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

import numpy as np

from corral.constraint_engine.args import bytes_arg, count_arg, int_arg, mask_row
from corral.constraint_engine.bitmask import bitmask_words, pack_bitmask
from corral.constraint_engine.matcher import MAX_FORCED_BYTES, Matcher
from corral.constraint_engine.unique import INITIAL_SCAN, Scan, scan_bytes
from corral.constraint_engine.unique_mask import filter_allowed, filter_words
from corral.errors import LimitExceeded

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar
    from corral.limits import Limits

try:
    import corral._native as native
except ImportError:  # pragma: no cover - depends on the build; compile() then refuses "native"
    native = None  # type: ignore[assignment]

__all__ = ["NativeMatcher", "fill_next_token_bitmask_batch"]


class NativeMatcher(Matcher):
    """A :class:`Matcher` whose parse state is kept and advanced in C (same API)."""

    def __init__(self, compiled: CompiledGrammar, *, limits: Limits | None = None) -> None:
        if compiled.native is None:
            raise ValueError("this compiled grammar has no native tables (engine='reference')")
        self._handle = native.engine_matcher(compiled.native)
        self._eos = np.array(sorted(compiled.eos_ids), dtype=np.int32).tobytes()
        self._steps: list[bytes] = []
        self._shadow: Matcher | None = None
        self._shadow_steps: list[bytes] = []
        self._step_scans: list[Scan] = [INITIAL_SCAN]  # after each step (unique items only)
        self._step_ends: list[int] = [0]  # input bytes after each step, as far as scanned
        super().__init__(compiled, limits=limits)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return to the initial state (nothing consumed)."""
        native.engine_reset(self._handle)
        self._marks = []
        self._steps = []
        self._step_scans = [INITIAL_SCAN]
        self._step_ends = [0]
        self._terminated = False

    @property
    def num_bytes(self) -> int:
        """Bytes consumed so far."""
        positions: int = native.engine_state(self._handle)[0]
        return positions - 1

    def is_accepting(self) -> bool:
        """Whether the bytes consumed so far form a complete string of the language."""
        accepting: bool = native.engine_state(self._handle)[1]
        return accepting

    def _positions(self) -> int:
        positions: int = native.engine_state(self._handle)[0]
        return positions

    def _feed_native(self, data: bytes, call: str, bounded: bool) -> int:
        limits = self.limits
        if bounded and len(data) > limits.max_input_bytes:
            raise LimitExceeded(
                f"{call}: {len(data)} bytes exceed Limits.max_input_bytes "
                f"({limits.max_input_bytes})",
                limit="max_input_bytes",
                value=limits.max_input_bytes,
            )
        bound = limits.max_earley_set_work if bounded else 2**62
        start = self._positions()
        n, over = native.engine_feed(self._handle, data, bound)
        if over >= 0:
            native.engine_truncate(self._handle, start)
            raise LimitExceeded(
                f"{call}: building the Earley set after byte {n} took {over} item steps, over "
                f"Limits.max_earley_set_work ({bound}); the grammar is too ambiguous for this "
                "input",
                limit="max_earley_set_work",
                value=bound,
            )
        done: int = n
        return done

    # ------------------------------------------------------------------ advancing
    def accept_bytes(self, data: bytes | bytearray | memoryview) -> bool:
        """As :meth:`Matcher.accept_bytes`."""
        raw = bytes_arg(data, "data")
        if self._terminated:
            return False
        start = self._positions()
        if self._feed_native(raw, "accept_bytes", True) < len(raw):
            native.engine_truncate(self._handle, start)
            return False
        self._marks.append(start)
        self._steps.append(raw)
        return True

    def accept_token(self, token_id: int) -> bool:
        """As :meth:`Matcher.accept_token`."""
        if self._terminated:
            return False
        token_id = int_arg(token_id, "token_id")
        cg = self.compiled
        if token_id in cg.eos_ids:
            if not self.is_accepting():
                return False
            self._marks.append(self._positions())
            self._steps.append(b"")
            self._terminated = True
            return True
        data = cg.token_bytes(token_id)
        if data is None:
            return False
        start = self._positions()
        if self._feed_native(data, "accept_token", False) < len(data):
            native.engine_truncate(self._handle, start)
            return False
        self._marks.append(start)
        self._steps.append(data)
        return True

    def rollback(self, n_tokens: int = 1) -> None:
        """As :meth:`Matcher.rollback`."""
        n_tokens = count_arg(n_tokens, "n_tokens")
        if n_tokens > len(self._marks):
            raise ValueError(
                f"cannot roll back {n_tokens} steps: {len(self._marks)} steps were taken"
            )
        if n_tokens == 0:
            return
        start = self._marks[-n_tokens]
        del self._marks[-n_tokens:]
        del self._steps[-n_tokens:]
        del self._step_scans[len(self._steps) + 1 :]
        del self._step_ends[len(self._steps) + 1 :]
        native.engine_truncate(self._handle, start)
        self._terminated = False

    def valid_prefix_length(self, data: bytes | bytearray | memoryview) -> int:
        """As :meth:`Matcher.valid_prefix_length`."""
        raw = bytes_arg(data, "data")
        start = self._positions()
        try:
            return self._feed_native(raw, "valid_prefix_length", True)
        finally:
            native.engine_truncate(self._handle, start)

    # ------------------------------------------------------------------ masks
    def _mask_words(self) -> np.ndarray:
        cg = self.compiled
        words = np.frombuffer(native.engine_mask(self._handle), dtype=np.int32).copy()
        if self.is_accepting():
            for eos in cg.eos_ids:
                words[eos >> 5] |= np.int32(np.uint32(1 << (eos & 31)).view(np.int32))
        return words

    def allowed_token_mask(self) -> np.ndarray:
        """As :meth:`Matcher.allowed_token_mask`."""
        cg = self.compiled
        if self._terminated:
            result = np.zeros(cg.vocab_size, dtype=bool)
            result[list(cg.eos_ids)] = True
            return result
        bits = np.unpackbits(self._mask_words().view(np.uint8), bitorder="little")
        out: np.ndarray = bits[: cg.vocab_size].astype(bool)
        if cg.unique is not None:
            data = b"".join(self._steps)
            found = set(self._candidates().tolist())
            filter_allowed(cg, data, self._scan(), out, self._try_token, found)
        return out

    def _scan(self) -> Scan:
        """The item scanner's state after the input so far (kept per step)."""
        scans = self._step_scans
        ends = self._step_ends
        for step in self._steps[len(scans) - 1 :]:
            scans.append(scan_bytes(scans[-1], step, ends[-1]))
            ends.append(ends[-1] + len(step))
        return scans[-1]

    def _candidates(self) -> np.ndarray:
        """The native twin of :func:`~corral.constraint_engine.unique_mask.trie_candidates`
        (ascending token ids)."""
        return np.frombuffer(native.engine_uq_candidates(self._handle), dtype=np.int32)

    def fill_next_token_bitmask(self, bitmask: object, index: int = 0) -> None:
        """As :meth:`Matcher.fill_next_token_bitmask`."""
        cg = self.compiled
        if cg.unique is not None:
            row = mask_row(bitmask, index, bitmask_words(cg.vocab_size))
            if self._terminated:
                words = pack_bitmask(self.allowed_token_mask())
            else:
                words = self._mask_words()
                data = b"".join(self._steps)
                filter_words(cg, data, self._scan(), words, self._try_token, self._candidates())
            row[: words.shape[0]] = words
            row[words.shape[0] :] = 0
            return
        if not self._terminated and native.engine_fill_at(self._handle, bitmask, index, self._eos):
            return  # a plain int32 NumPy row, chosen and checked natively
        row = mask_row(bitmask, index, bitmask_words(cg.vocab_size))
        if not self._terminated and row.flags.c_contiguous and row.flags.aligned:
            native.engine_fill(self._handle, row, self._eos)  # in place, EOS and tail included
            return
        if self._terminated:
            words = np.zeros(bitmask_words(cg.vocab_size), dtype=np.int32)
            for eos in cg.eos_ids:
                words[eos >> 5] |= np.int32(np.uint32(1 << (eos & 31)).view(np.int32))
        else:
            words = self._mask_words()
        row[: words.shape[0]] = words
        row[words.shape[0] :] = 0

    def shortest_completion(self) -> bytes | None:
        """As :meth:`Matcher.shortest_completion` (computed by the reference)."""
        if self._terminated:
            return b""
        shadow = self._shadow
        if shadow is None:
            unbounded = replace(self.limits, max_input_bytes=2**62, max_earley_set_work=2**62)
            shadow = self._shadow = Matcher.reference(self.compiled, limits=unbounded)
            self._shadow_steps = []
        common = 0
        have = self._shadow_steps
        while common < min(len(have), len(self._steps)) and have[common] is self._steps[common]:
            common += 1
        if len(have) > common:
            shadow.rollback(len(have) - common)
            del have[common:]
        for step in self._steps[common:]:
            accepted = shadow.accept_bytes(step)
            assert accepted, "the reference matcher refused what the native one accepted"
            have.append(step)
        return shadow.shortest_completion()

    def forced_bytes(self) -> bytes:
        """As :meth:`Matcher.forced_bytes`."""
        if self._terminated:
            return b""
        out: bytes = native.engine_forced(self._handle, MAX_FORCED_BYTES)
        return out


def fill_next_token_bitmask_batch(
    matchers: Sequence[Matcher], bitmask: object, *, n_threads: int | None = None
) -> None:
    """Write the mask of ``matchers[i]`` into row ``i`` of an int32 ``bitmask``, in parallel.

    The rows of native matchers are filled on up to ``n_threads`` native threads (default: the
    CPU count, at most one per row) with the GIL released, the contract of XGrammar's and
    llguidance's batch fills; reference or terminated matchers are filled in turn. Each row is
    what :meth:`Matcher.fill_next_token_bitmask` writes.

    Parameters
    ----------
    matchers:
        Distinct matchers (one generation each); their compiled grammars may differ or be shared.
    bitmask:
        A NumPy array or CPU tensor of shape ``(batch, words)`` with ``batch >= len(matchers)``
        and enough words for every matcher's vocabulary.
    n_threads:
        Threads to use (``>= 1``).

    Raises
    ------
    TypeError, ValueError
        As :meth:`Matcher.fill_next_token_bitmask`; also a matcher listed twice, a bitmask with
        too few rows, ``n_threads < 1``. Nothing is written then.
    """
    ms = list(matchers)
    if n_threads is None:
        n_threads = max(1, min(len(ms), os.cpu_count() or 1))
    n_threads = int_arg(n_threads, "n_threads")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads}")
    if len({id(m) for m in ms}) != len(ms):
        raise ValueError("a matcher is listed twice: each row needs its own matcher")
    for m in ms:
        if not isinstance(m, Matcher):
            raise TypeError(f"matchers must be corral Matchers, got {type(m).__name__}")
    rows = [mask_row(bitmask, i, bitmask_words(m.compiled.vocab_size)) for i, m in enumerate(ms)]
    fast = [
        i
        for i, m in enumerate(ms)
        if isinstance(m, NativeMatcher) and not m._terminated and m.compiled.unique is None
    ]
    slow = [i for i in range(len(ms)) if i not in set(fast)]
    if fast:
        handles = [cast("NativeMatcher", ms[i])._handle for i in fast]
        for i, raw in zip(fast, native.engine_mask_batch(handles, n_threads), strict=True):
            words = np.frombuffer(raw, dtype=np.int32)
            row = rows[i]
            row[: words.shape[0]] = words
            row[words.shape[0] :] = 0
            m = ms[i]
            if m.is_accepting():
                for eos in m.compiled.eos_ids:
                    row[eos >> 5] |= np.int32(np.uint32(1 << (eos & 31)).view(np.int32))
    for i in slow:
        ms[i].fill_next_token_bitmask(rows[i])
