"""Earley parsing over a template automaton: is some completion of the template in the language?

The matcher's language is the grammar's terminal strings with each terminal replaced by the words
of its automaton (every split of the bytes into lexemes is tried) and ignored lexemes anywhere
between them. A template denotes a regular language (:mod:`.template`), so "can it be completed"
is the emptiness of a context-free language intersected with a regular one (Bar-Hillel, Perles
& Shamir 1961). It is decided here by Earley's recogniser run over the template automaton
instead of over a string — the chart is indexed by automaton states, not positions (as in
parsing word lattices) — computed as a least fixed point with a worklist, because a hole's loop
makes the automaton cyclic:

* an item ``(dotted, origin)`` *at* state ``r`` says the template can go from ``origin`` to ``r``
  on a string the production's symbols before the dot derive;
* prediction adds ``(B -> • γ, r)`` at ``r``; a terminal after the dot is scanned through the
  lexeme spans of :mod:`.spans` (``r`` to every ``q`` a lexeme of it reaches); a complete item of
  ``A`` from ``o`` to ``r`` advances every item at ``o`` waiting on ``A``, found through two tables
  (spans of ``A`` found, and items waiting on ``A``), so the order of discovery does not matter —
  this also covers nullable symbols without Aycock & Horspool's look-ahead;
* an item at ``r`` is also at every ``q`` an ignored lexeme leads ``r`` to;
* a production is predicted at ``r`` only if it is nullable or a terminal of its ``FIRST`` set
  can read a byte that may leave ``r`` (:mod:`.lookahead`: exact, and what keeps the states
  inside tokens, where lexemes end mid-token, from holding the whole grammar).

The template can be completed exactly when ``$start -> start •`` with origin ``0`` stands at the
final state. Items per state are at most (dotted items × states), so the work is polynomial in
the template's length; it is bounded by ``Limits.max_infill_work``. Every item keeps the first
cause that added it, and causes only point to items added before, so a completion is read back
without cycles (:meth:`Chart.text`).
"""

from __future__ import annotations

from collections import defaultdict

from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import LimitExceeded
from corral.infill.spans import Spans
from corral.infill.template import Pattern
from corral.infill.token_moves import TokenMoves

__all__ = ["Chart"]

Item = tuple[int, int]  # (dotted, origin)
Ref = tuple[int, Item]  # (state, item)
# causes: ("predict",) | ("scan", t, p, q, prev) | ("ignore", t, p, q, prev) |
#         ("complete", prev, child)
Cause = tuple[object, ...]


class _Meter:
    """The work of one chart against its bound. The chart's span search charges it too; being
    its own object, it keeps the search from holding the chart (a cycle that only the garbage
    collector would free: a timed-out chart of millions of items, freed in one pause later)."""

    __slots__ = ("limit", "work")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.work = 0

    def charge(self, n: int) -> None:
        """Count ``n`` steps of work; past the bound, raise."""
        self.work += n
        if self.work > self.limit:
            raise LimitExceeded(
                f"infilling check took more than {self.limit} steps (Limits.max_infill_work)",
                limit="max_infill_work",
                value=self.limit,
            )


class Chart:
    """The fixed point for one compiled grammar and template (run by the constructor); token
    holes are crossed with ``moves`` (a new :class:`TokenMoves` when not given). With
    ``full=False`` the run stops once the goal item is found: enough to decide and to read a
    completion back, not for the outside pass of :mod:`.outside`. The work is bounded by
    ``limit`` steps (``Limits.max_infill_work`` when not given). With ``causes=False`` the
    causes are not kept: the answer only, no :meth:`text`."""

    def __init__(
        self,
        cg: CompiledGrammar,
        pattern: Pattern,
        moves: TokenMoves | None = None,
        *,
        full: bool = True,
        limit: int | None = None,
        causes: bool = True,
    ) -> None:
        self.cg = cg
        self.pattern = pattern
        self._meter = _Meter(cg.limits.max_infill_work if limit is None else limit)
        self.charge = self._meter.charge
        """Count ``n`` steps of work; past the bound, raise :class:`LimitExceeded`."""
        self.moves = TokenMoves(cg) if moves is None else moves
        self.spans = Spans(cg.dfas, pattern, self.charge, self.moves)
        self.items: defaultdict[int, set[Item]] = defaultdict(set)
        self.cause: dict[Ref, Cause] = {}
        self._done: dict[tuple[int, int], dict[int, Item]] = {}  # (nt, origin) -> end -> item
        self._waiting: dict[tuple[int, int], list[Item]] = {}  # (origin, nt) -> items there
        self._ignore: dict[int, list[tuple[int, int]]] = {}  # state -> [(terminal, end)]
        self._start_memo: dict[int, frozenset[int] | bool | None] = {}
        self._todo: list[Ref] = []
        self._goal: Ref = (pattern.final, (cg.tables.final_dotted, 0))
        self._found = False
        self._full = full
        self._causes = causes
        for r in pattern.closure(0):
            self._add(r, (0, 0), ("predict",))
        self._run()

    @property
    def work(self) -> int:
        """Steps of work spent so far."""
        return self._meter.work

    @property
    def limit(self) -> int:
        """The bound on :attr:`work`."""
        return self._meter.limit

    @property
    def completable(self) -> bool:
        """Whether some completion of the template is in the language."""
        return (self.cg.tables.final_dotted, 0) in self.items[self.pattern.final]

    def _add(self, r: int, item: Item, cause: Cause) -> None:
        here = self.items[r]
        if item in here:
            return
        meter = self._meter
        meter.work += 1
        if meter.work > meter.limit:
            meter.charge(0)
        here.add(item)
        if self._causes:
            self.cause[(r, item)] = cause
        ref = (r, item)
        if ref == self._goal:
            self._found = True
        self._todo.append(ref)

    def _ignored(self, r: int) -> list[tuple[int, int]]:
        got = self._ignore.get(r)
        if got is None:
            got = self._ignore[r] = [
                (t, q) for t in self.cg.tables.ignore for q in self.spans.ends(t, r)
            ]
        return got

    def _starters(self, r: int) -> frozenset[int] | None:
        got = self._start_memo.get(r, False)
        if got is False:
            got = self._start_memo[r] = self.moves.lookahead.starters(self.pattern, r)
        return got  # type: ignore[return-value]

    def _run(self) -> None:
        tables = self.cg.tables
        nxt_sym, lhs_of, predictions = tables.dotted_next, tables.dotted_lhs, tables.predictions
        items, add = self.items, self._add
        look = self.moves.lookahead
        first, nullable = look.first, look.nullable
        while self._todo:
            r, item = self._todo.pop()
            if self._found and not self._full:
                return
            d, o = item
            for t, q in self._ignored(r):
                if item not in items[q]:
                    add(q, item, ("ignore", t, r, q, (r, item)))
            sym = nxt_sym[d]
            if sym is None:
                a = lhs_of[d]
                ends = self._done.setdefault((a, o), {})
                if r in ends:
                    continue
                ends[r] = item
                here = items[r]
                for w in self._waiting.get((o, a), ()):
                    nxt = (w[0] + 1, w[1])
                    if nxt not in here:
                        add(r, nxt, ("complete", (o, w), (r, item)))
            elif sym < 0:
                b = -sym - 1
                self._waiting.setdefault((r, b), []).append(item)
                nxt = (d + 1, o)
                for q, child in self._done.get((b, r), {}).items():
                    if nxt not in items[q]:
                        add(q, nxt, ("complete", (r, item), (q, child)))
                here = items[r]
                starters = self._starters(r)
                for d0 in predictions[b]:
                    if (d0, r) not in here and (
                        starters is None or nullable[d0] or not first[d0].isdisjoint(starters)
                    ):
                        add(r, (d0, r), ("predict",))
            else:
                nxt = (d + 1, o)
                for q in self.spans.ends(sym, r):
                    if nxt not in items[q]:
                        add(q, nxt, ("scan", sym, r, q, (r, item)))

    def text(self) -> bytes | None:
        """The bytes of one completion (``None`` when there is none), read back from the
        first causes of ``$start -> start •`` at the final state."""
        if not self.completable:
            return None
        if not self._causes:
            raise ValueError("this chart was run without its causes")
        out: list[bytes] = []
        words: list[bytes] = []
        stack: list[Ref] = [(self.pattern.final, (self.cg.tables.final_dotted, 0))]
        while stack:
            ref = stack.pop()
            if ref[0] < 0:  # a marker: the word scanned after its item's earlier part
                out.append(words[ref[1][0]])
                continue
            cause = self.cause[ref]
            if cause[0] == "predict":
                continue
            if cause[0] in ("scan", "ignore"):
                _, t, p, q, prev = cause
                words.append(self.spans.word(t, p, q))  # type: ignore[arg-type]
                stack.append((-1, (len(words) - 1, 0)))
                stack.append(prev)  # type: ignore[arg-type]
            else:
                _, prev, child = cause
                stack.append(child)  # type: ignore[arg-type]
                stack.append(prev)  # type: ignore[arg-type]
        return b"".join(out)
