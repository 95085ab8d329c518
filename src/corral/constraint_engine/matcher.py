"""The incremental matcher: one generation's parse state, advanced token by token.

State after ``k`` bytes (see ``docs/design/matcher.md``):

* ``sets[p]`` — the Earley set (Earley 1970) at each byte position ``p`` where a lexeme ended
  (``None`` where none did), kept as a stack indexed by position;
* ``threads[p]`` — the lexer threads alive at ``p``: ``(origin, terminal, automaton state)``,
  one per terminal expected at an earlier set and still matching the bytes since.

A byte steps every thread through its terminal's byte automaton; a thread reaching an accepting
state completes a lexeme, which the Earley scan step applies to the set at the thread's origin
(an *ignored* terminal leaves that set as it was). Every split of the input into lexemes is kept
— the lexer is nondeterministic, as lark's ``dynamic_complete`` Earley lexer — so no valid string
is lost to a lexing decision. Rollback truncates the stacks: O(1) per token. Masks and
completions only read the stacks (their temporary Earley sets go onto an overlay); the compiled
grammar they share is immutable but for its run-time cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from corral.constraint_engine.args import bytes_arg, count_arg, int_arg, mask_row
from corral.constraint_engine.bitmask import bitmask_words, pack_bitmask
from corral.constraint_engine.completion import complete
from corral.constraint_engine.earley import EarleySet, closure, equal_copy, scan_kernel
from corral.constraint_engine.mask import Thread, compute_allowed_tokens
from corral.constraint_engine.unique import (
    INITIAL_SCAN,
    Scan,
    close_verdict,
    scan_step,
    thread_verdict,
)
from corral.constraint_engine.unique_mask import exact_completion, filter_allowed
from corral.errors import LimitExceeded

if TYPE_CHECKING:
    from corral.constraint_engine.compiler import CompiledGrammar
    from corral.limits import Limits

__all__ = ["Matcher"]

MAX_FORCED_BYTES = 4096


class Matcher:
    """Tracks one generation against a :class:`~corral.CompiledGrammar`.

    Parameters
    ----------
    compiled:
        The compiled grammar. Several matchers may share one.
    limits:
        Run-time bounds of the explicit calls ``accept_bytes`` and ``valid_prefix_length``
        (:attr:`~corral.limits.Limits.max_input_bytes`,
        :attr:`~corral.limits.Limits.max_earley_set_work`); default: the compiled grammar's.

    Notes
    -----
    At run time the matcher never raises on model output: a token that cannot extend the parse
    is refused (``accept_token`` returns ``False``) and the state is left unchanged. Arguments
    of the wrong type raise ``TypeError`` (:mod:`corral.constraint_engine.args`).
    """

    def __new__(cls, compiled: CompiledGrammar, *, limits: Limits | None = None) -> Matcher:
        """A :class:`~corral.constraint_engine.native_matcher.NativeMatcher` where
        ``compiled.engine == "native"``; this reference matcher otherwise."""
        if cls is Matcher and compiled.engine == "native":
            from corral.constraint_engine.native_matcher import NativeMatcher

            return super().__new__(NativeMatcher)
        return super().__new__(cls)

    @classmethod
    def reference(cls, compiled: CompiledGrammar, *, limits: Limits | None = None) -> Matcher:
        """A reference (pure Python) matcher, whatever ``compiled.engine`` says."""
        matcher = object.__new__(Matcher)
        matcher.__init__(compiled, limits=limits)  # type: ignore[misc]
        return matcher

    def __init__(self, compiled: CompiledGrammar, *, limits: Limits | None = None) -> None:
        self.compiled = compiled
        self.limits = compiled.limits if limits is None else limits
        self._last_work = 0
        self._sets: list[EarleySet | None] = []
        self._threads: list[list[Thread]] = []
        self._marks: list[int] = []  # stack size before each step
        self._input = bytearray()  # kept for the unique-item check (unique.py) only
        self._scans: list[Scan] = []
        self._terminated = False
        # finishing values of shortest completions per position (completion.complete)
        self._finish: dict[int, dict[int, bytes]] = {}
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return to the initial state (nothing consumed)."""
        cg = self.compiled
        init = cg.initial_set
        self._sets = [init]
        self._threads = [[(0, t, 1) for t in cg.tables.expected_terminals_of(init)]]
        self._marks = []
        self._terminated = False
        self._finish = {}
        self._input = bytearray()
        self._scans = [INITIAL_SCAN]

    @property
    def num_bytes(self) -> int:
        """Bytes consumed so far."""
        return len(self._sets) - 1

    def is_accepting(self) -> bool:
        """Whether the bytes consumed so far form a complete string of the language."""
        cur = self._sets[-1]
        return cur is not None and cur.accepting

    def is_terminated(self) -> bool:
        """Whether an end-of-sequence token has been accepted."""
        return self._terminated

    def _push_byte(self, byte: int) -> bool:
        cg = self.compiled
        sets = self._sets
        k = len(sets) - 1
        new_threads: list[Thread] = []
        seen: set[Thread] = set()
        done: set[tuple[int, int]] = set()
        dfas = cg.dfas
        ut = cg.unique
        sc = INITIAL_SCAN if ut is None else scan_step(self._scans[-1], byte, k)
        if ut is not None:
            self._input.append(byte)
        for j, t, d in self._threads[k]:
            dfa = dfas[t]
            d2 = dfa.rows[d][byte]
            if d2 == 0:
                continue
            acc = dfa.accept_list[d2]
            if ut is not None and t in ut.terminals:
                alive, acc = thread_verdict(ut, t, d2, acc, sc, self._input, k + 1, j)
                if not alive:
                    continue
            elif (
                ut is not None
                and t in ut.closers
                and not close_verdict(sc, self._input, k + 1, acc)
            ):
                continue
            th = (j, t, d2)
            if th not in seen:
                seen.add(th)
                new_threads.append(th)
            if acc:
                done.add((j, t))
        new_set: EarleySet | None = None
        self._last_work = 0
        if done:
            kernel = []
            copies: list[EarleySet] = []
            for j, t in sorted(done):
                src = sets[j]
                if src is None:
                    continue
                if t in cg.ignore_set:
                    if src not in copies:
                        copies.append(src)
                else:
                    kernel.extend(scan_kernel(src, t))
            if kernel or len(copies) > 1:
                new_set = closure(cg.tables, kernel, k + 1, sets, copies)
                self._last_work = new_set.work
                same = equal_copy(new_set, copies) if ut is None else None
                if same is not None:
                    new_set = copies[same]
            elif copies:
                new_set = copies[0]
        if new_set is not None:
            for t in cg.tables.expected_terminals_of(new_set):
                th = (k + 1, t, 1)
                if th not in seen:
                    seen.add(th)
                    new_threads.append(th)
        elif not new_threads:
            if ut is not None:
                del self._input[k:]
            return False
        sets.append(new_set)
        self._threads.append(new_threads)
        if ut is not None:
            self._scans.append(sc)
        return True

    def _truncate(self, n_positions: int) -> None:
        del self._sets[n_positions:]
        del self._threads[n_positions:]
        if self.compiled.unique is not None:
            del self._scans[n_positions:]
            del self._input[n_positions - 1 :]
        if self._finish:
            self._finish = {p: v for p, v in self._finish.items() if p < n_positions}

    def _feed(self, data: bytes) -> bool:
        start = len(self._sets)
        for b in data:
            if not self._push_byte(b):
                self._truncate(start)
                return False
        return True

    def _feed_bounded(self, data: bytes, call: str) -> int:
        """Push the bytes of ``data`` while they extend the input, under the limits; the
        number pushed. The caller truncates. Raises :class:`LimitExceeded` (after truncating
        to where it started)."""
        limits = self.limits
        if len(data) > limits.max_input_bytes:
            raise LimitExceeded(
                f"{call}: {len(data)} bytes exceed Limits.max_input_bytes "
                f"({limits.max_input_bytes})",
                limit="max_input_bytes",
                value=limits.max_input_bytes,
            )
        bound = limits.max_earley_set_work
        start = len(self._sets)
        n = 0
        for b in data:
            if not self._push_byte(b):
                break
            if self._last_work > bound:
                self._truncate(start)
                raise LimitExceeded(
                    f"{call}: building the Earley set after byte {n} took {self._last_work} "
                    f"item steps, over Limits.max_earley_set_work ({bound}); the grammar is "
                    "too ambiguous for this input",
                    limit="max_earley_set_work",
                    value=bound,
                )
            n += 1
        return n

    # ------------------------------------------------------------------ advancing
    def accept_bytes(self, data: bytes | bytearray | memoryview) -> bool:
        """Consume raw bytes (one rollback step). ``False`` leaves the state unchanged.

        Raises
        ------
        TypeError
            If ``data`` is not bytes-like (``bytes``, ``bytearray``, ``memoryview``).
        LimitExceeded
            Past :attr:`~corral.limits.Limits.max_input_bytes` bytes, or where one Earley set
            takes more than :attr:`~corral.limits.Limits.max_earley_set_work` item steps; the
            state is left unchanged.
        """
        raw = bytes_arg(data, "data")
        if self._terminated:
            return False
        start = len(self._sets)
        if self._feed_bounded(raw, "accept_bytes") < len(raw):
            self._truncate(start)
            return False
        self._marks.append(start)
        return True

    def accept_token(self, token_id: int) -> bool:
        """Consume one token (one rollback step). ``False`` leaves the state unchanged.

        An end-of-sequence token is accepted only where the input so far is complete; it then
        terminates the matcher. Special and padding tokens are always refused.
        """
        if self._terminated:
            return False
        token_id = int_arg(token_id, "token_id")
        cg = self.compiled
        if token_id in cg.eos_ids:
            if not self.is_accepting():
                return False
            self._marks.append(len(self._sets))
            self._terminated = True
            return True
        data = cg.token_bytes(token_id)
        if data is None:
            return False
        start = len(self._sets)
        if not self._feed(data):
            return False
        self._marks.append(start)
        return True

    def rollback(self, n_tokens: int = 1) -> None:
        """Undo the last ``n_tokens`` successful ``accept_token``/``accept_bytes`` calls.

        Raises
        ------
        TypeError
            If ``n_tokens`` is not an integer (``bool`` included).
        ValueError
            If ``n_tokens`` is negative or more steps than were taken.
        """
        n_tokens = count_arg(n_tokens, "n_tokens")
        if n_tokens > len(self._marks):
            raise ValueError(
                f"cannot roll back {n_tokens} steps: {len(self._marks)} steps were taken"
            )
        if n_tokens == 0:
            return
        start = self._marks[-n_tokens]
        del self._marks[-n_tokens:]
        self._truncate(start)
        self._terminated = False

    def valid_prefix_length(self, data: bytes | bytearray | memoryview) -> int:
        """Length of the longest prefix of ``data`` that can be consumed (state unchanged).

        Raises
        ------
        TypeError, LimitExceeded
            As :meth:`accept_bytes`.
        """
        raw = bytes_arg(data, "data")
        start = len(self._sets)
        n = self._feed_bounded(raw, "valid_prefix_length")
        self._truncate(start)
        return n

    # ------------------------------------------------------------------ masks
    def allowed_token_mask(self) -> np.ndarray:
        """Boolean array over the vocabulary: the tokens that may come next."""
        cg = self.compiled
        if self._terminated:
            result = np.zeros(cg.vocab_size, dtype=bool)
            result[list(cg.eos_ids)] = True
            return result
        allowed = compute_allowed_tokens(cg, self._sets, self._threads[-1], self.is_accepting())
        if cg.unique is not None:
            allowed = allowed.copy()
            filter_allowed(cg, bytes(self._input), self._scans[-1], allowed, self._try_token)
        return allowed

    def _try_token(self, token_id: int) -> bool:
        """Whether ``accept_token(token_id)`` would succeed (the state is unchanged)."""
        if self.accept_token(token_id):
            self.rollback(1)
            return True
        return False

    def allowed_tokens(self) -> list[int]:
        """The ids of the allowed tokens, ascending."""
        return [int(i) for i in np.nonzero(self.allowed_token_mask())[0]]

    def fill_next_token_bitmask(self, bitmask: object, index: int = 0) -> None:
        """Write the allowed-token mask into row ``index`` of an int32 ``bitmask``.

        Bit ``i % 32`` of word ``i // 32`` is set if and only if token ``i`` is allowed (the
        layout of XGrammar and llguidance). ``bitmask`` — a NumPy array or a CPU tensor
        (PyTorch, through DLPack; written in place) — has shape ``(batch, words)`` with
        ``0 <= index < batch``, or ``(words,)`` with ``index == 0``, and
        ``words >= ceil(vocab_size / 32)``; words past the vocabulary are zeroed.

        Raises
        ------
        TypeError
            Not an array or CPU tensor, dtype not ``int32``, ``index`` not an integer.
        ValueError
            ndim not 1 or 2, too few words, ``index`` out of range, a tensor off the CPU, a
            read-only array. Nothing is written then.
        """
        row = mask_row(bitmask, index, bitmask_words(self.compiled.vocab_size))
        words = pack_bitmask(self.allowed_token_mask())
        row[: words.shape[0]] = words
        row[words.shape[0] :] = 0

    def shortest_completion(self) -> bytes | None:
        """Shortest bytes that complete the input so far to a string of the language.

        ``b""`` when the input is already complete (or the matcher is terminated), ``None``
        when no completion exists. The state is unchanged. See
        :mod:`corral.constraint_engine.completion`.
        """
        if self._terminated:
            return b""
        if self.compiled.grammar.is_empty:
            return None
        first = complete(self.compiled, self._sets, self._threads[-1], self._finish)
        if self.compiled.unique is None:
            return first
        cg = self.compiled
        return exact_completion(
            self, lambda: complete(cg, self._sets, self._threads[-1], self._finish), first
        )

    def forced_bytes(self) -> bytes:
        """Bytes that every valid continuation must take next (for jump-forward decoding).

        Empty where the input so far is complete, where several next bytes are possible, or
        after termination.
        """
        if self._terminated:
            return b""
        start = len(self._sets)
        out = bytearray()
        dfas = self.compiled.dfas
        while len(out) < MAX_FORCED_BYTES and not self.is_accepting():
            nxt: set[int] = set()
            for _, t, d in self._threads[-1]:
                nxt.update(dfas[t].out_bytes[d])
                if len(nxt) > 1:
                    break
            if len(nxt) != 1:
                break
            b = nxt.pop()
            if not self._push_byte(b):
                break
            out.append(b)
        self._truncate(start)
        return bytes(out)
