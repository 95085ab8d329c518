"""Resource bounds of grammar compilation, as explicit objects (no process-wide state).

:class:`Limits` gathers the bounds that keep compilation finite and small: the CPU time one
compilation may take, and the state bounds of the automaton constructions (Thompson NFAs, subset
and product constructions, string counters, counting rules of JSON Schema objects and arrays).
:class:`Budget` is one compilation's running account: a deadline in CPU time of the compiling thread
(``time.thread_time()``: insensitive to machine load, and to other threads, so that compilations
running side by side do not spend each other's time) fixed when the compilation starts, plus the
limits in force. Constructions take a ``budget`` argument and call :meth:`Budget.check` in their
loops; ``None`` means "no deadline, default bounds". Nothing here is shared between compilations,
so two threads (or a re-entrant compilation) never see each other's deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace

from corral.errors import DeadlineExceeded

__all__ = ["DEFAULT_LIMITS", "Budget", "Limits", "limits_of"]


def _compared(limits: Limits) -> tuple[object, ...]:
    """The compared fields of ``limits``, in order."""
    return tuple(getattr(limits, f.name) for f in fields(limits) if f.compare)


@dataclass(frozen=True)
class Limits:
    """Bounds on one grammar compilation.

    Attributes
    ----------
    compile_seconds:
        CPU seconds (of the compiling thread) one compilation may take (``None``:
        unbounded). JSON Schema compilation uses 8.0 by default.
    max_dfa_states:
        States of one automaton built by a subset or product construction (regexes,
        intersection, union, difference, concatenation).
    max_nfa_states:
        States of the Thompson (1968) NFA of one regex.
    max_string_states:
        States of one JSON Schema string automaton (length counters, literal tries, the JSON
        encoding; the encoding's intermediate table may take twice as many).
    max_count_states:
        Counting states (member or item counts, long-string blocks) of one JSON Schema object or
        array.
    max_schema_bytes:
        Length of a JSON Schema given as text.
    max_schema_depth:
        Nesting depth of a JSON Schema document.
    max_schema_nodes:
        Schema objects in one JSON Schema document.
    max_grammar_bytes:
        Length of a grammar text (Lark, GBNF), of a regex, or of all choices together.
    max_nesting_depth:
        Nesting depth of brackets in a grammar text or regex (groups, alternatives,
        repetitions): the parsers descend recursively, so deeper input is refused up front.
    max_enum_values:
        Values of one JSON Schema ``enum`` (and of one ``enum``/``const`` conjunction).
    max_number_digits:
        Digits of an integer in a JSON Schema (``const``, ``enum``, bounds, ``multipleOf``).
    max_input_bytes:
        Run time: bytes one explicit ``Matcher.accept_bytes`` or ``valid_prefix_length`` call
        may take (more raises :class:`~corral.errors.LimitExceeded`; tokens are never bounded).
    max_earley_set_work:
        Run time: item steps (items added or found already present) of building one Earley set
        in an explicit ``accept_bytes`` or ``valid_prefix_length`` call (more raises
        :class:`~corral.errors.LimitExceeded`). Ambiguous grammars such as
        ``start: start "+" start | "1"`` cost about ``n**2 / 2`` per set after ``n`` terms;
        real grammars take a few hundred. ``accept_token`` and masks are never bounded: the
        matcher does not raise on model output.
    max_alternatives:
        Alternatives of one grammar: ``|`` separators of a Lark or GBNF text (counted before
        parsing), distinct strings of a choices list, and alternatives of all rules of a
        grammar given to ``corral.compile``. Each alternative costs Lark's loader and the
        compiler some CPU time, so this bound refuses in a moment what
        :attr:`compile_seconds` would refuse only after seconds (or, inside Lark's own
        loader, which cannot be interrupted, never).
    max_infill_work:
        Run time: steps (chart items added, automaton product states visited) of one
        infilling check (:mod:`corral.infill`); more raises
        :class:`~corral.errors.LimitExceeded`.
    """

    compile_seconds: float | None = 8.0
    max_dfa_states: int = 60_000
    max_nfa_states: int = 100_000
    max_string_states: int = 60_000
    max_count_states: int = 20_000
    max_schema_bytes: int = 8_000_000
    max_schema_depth: int = 200
    max_schema_nodes: int = 200_000
    max_grammar_bytes: int = 8_000_000
    max_nesting_depth: int = 100
    max_enum_values: int = 10_000
    max_number_digits: int = 1_000
    max_input_bytes: int = 8_000_000
    max_earley_set_work: int = 100_000
    max_alternatives: int = 10_000
    max_infill_work: int = 5_000_000
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # limits are part of every automata cache key: hashed once here, not per lookup
        object.__setattr__(self, "_hash", hash(_compared(self)))

    def __hash__(self) -> int:
        return self._hash

    def with_time(self, seconds: float | None) -> Limits:
        """A copy with another :attr:`compile_seconds`."""
        return replace(self, compile_seconds=seconds)

    def state_bounds(self) -> Limits:
        """The limits without the time bound: what a cached automaton depends on."""
        return replace(self, compile_seconds=None)

    def budget(self) -> Budget:
        """A :class:`Budget` whose deadline is :attr:`compile_seconds` from now."""
        return Budget.start(self)


DEFAULT_LIMITS = Limits()
"""The default bounds (a frozen, immutable value)."""


class Budget:
    """One compilation's deadline (thread CPU time) and the limits in force.

    Parameters
    ----------
    deadline:
        ``time.thread_time()`` value after which :meth:`check` raises; ``None``: never.
    limits:
        The bounds constructions read (default :data:`DEFAULT_LIMITS`).

    Notes
    -----
    :meth:`check` costs one clock read; constructions call it every few dozen steps. The clock
    is the CPU time of the calling thread, so a budget belongs to the thread that started it
    (compilation is single-threaded).
    """

    __slots__ = ("deadline", "limits")

    def __init__(self, deadline: float | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.deadline = deadline
        self.limits = limits

    @classmethod
    def start(cls, limits: Limits = DEFAULT_LIMITS) -> Budget:
        """A budget starting now, with ``limits.compile_seconds`` to run."""
        secs = limits.compile_seconds
        return cls(None if secs is None else time.thread_time() + secs, limits)

    @classmethod
    def unlimited(cls, limits: Limits = DEFAULT_LIMITS) -> Budget:
        """A budget without a deadline (state bounds still apply)."""
        return cls(None, limits)

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.deadline is not None and time.thread_time() > self.deadline

    def check(self) -> None:
        """Raise :class:`~corral.errors.DeadlineExceeded` if the deadline has passed."""
        if self.deadline is not None and time.thread_time() > self.deadline:
            raise DeadlineExceeded("compilation exceeded its time bound")

    def __repr__(self) -> str:
        return f"Budget(deadline={self.deadline!r}, limits={self.limits!r})"


def limits_of(budget: Budget | None) -> Limits:
    """The limits of ``budget`` (:data:`DEFAULT_LIMITS` for ``None``)."""
    return DEFAULT_LIMITS if budget is None else budget.limits
