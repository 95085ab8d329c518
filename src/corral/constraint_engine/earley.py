"""Earley parsing over lexemes: grammar tables, Earley sets, scan and closure.

The recogniser is Earley's (1970) with the nullable-symbol treatment of Aycock & Horspool (2002,
"Practical Earley Parsing"): when a nullable nonterminal is predicted, the predicting item is
also advanced over it at once, so that completions of empty derivations never need to look back
into the set under construction. Items are ``(dotted, origin)`` pairs where ``dotted`` indexes a
table of LR(0) items (a production with a dot position) and ``origin`` is the *position id* of the
Earley set where the item's production was predicted. Position ids only need to be unique; the
matcher uses byte offsets, the mask walk numbers its virtual sets after them (in a
:class:`SetOverlay`, never on the matcher's own stack).

Leo's (1991) right-recursion optimisation is not applied: right-recursive rules cost one item
per nesting level per set, which the grammars corral compiles keep small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from corral.grammars.ir import Grammar
from corral.grammars.ir import productive_symbols as ir_productive_symbols

__all__ = [
    "EarleySet",
    "EarleyTables",
    "SetOverlay",
    "closure",
    "productive_symbols",
    "scan_kernel",
]

Item = tuple[int, int]


def productive_symbols(grammar: Grammar, unusable: frozenset[str] = frozenset()) -> set[str]:
    """Terminals and rules that derive some string, the ``unusable`` terminals left out.

    The least fixed point of "a rule is productive when one of its alternatives has only
    productive symbols", by :func:`corral.grammars.ir.productive_symbols` (sweeps, then a
    linear-time worklist).
    ``unusable`` are terminals whose language is empty for the tokenizer (see
    :func:`corral.constraint_engine.compiler.compile_grammar`).
    """
    rules = ((name, rule.alternatives) for name, rule in grammar.rules.items())
    return ir_productive_symbols(set(grammar.terminals) - unusable, rules)


@dataclass(frozen=True, eq=False)
class EarleyTables:
    """Grammar tables indexed by integers (immutable).

    Terminals are ``0..n_terminals-1``; nonterminal ``k`` is encoded as symbol ``-(k + 1)``.
    Production 0 is the augmented start ``$start -> start``.

    Attributes
    ----------
    terminal_names, nonterminal_names:
        Names by index (nonterminal 0 is ``$start``).
    ignore:
        Ignored terminals.
    dotted_next:
        Per dotted item (a production with a dot position), the symbol after the dot, ``None``
        at the end of the production. A production's items are consecutive.
    dotted_lhs:
        Per dotted item, its production's left-hand nonterminal.
    predictions:
        Per nonterminal, the first dotted item of each of its productions.
    nullable:
        Per nonterminal, whether it derives the empty string.
    final_dotted:
        The dotted item ``$start -> start •``.
    """

    terminal_names: tuple[str, ...]
    nonterminal_names: tuple[str, ...]
    ignore: tuple[int, ...]
    dotted_next: tuple[int | None, ...]
    dotted_lhs: tuple[int, ...]
    predictions: tuple[tuple[int, ...], ...]
    nullable: tuple[bool, ...]
    final_dotted: int = 1  # production 0 is "$start -> start": dotted ids 0 and 1

    @classmethod
    def build(
        cls,
        grammar: Grammar,
        unusable: frozenset[str] = frozenset(),
        productive: set[str] | None = None,
    ) -> EarleyTables:
        """Index a validated grammar (which is only read).

        Productions that use an ``unusable`` terminal or a rule that became unproductive
        without them (:func:`productive_symbols`) are left out, so that every item of the
        tables can be completed; ignored terminals among ``unusable`` are dropped.
        ``productive``, when the caller has it, is ``productive_symbols(grammar, unusable)``.
        """
        terms = list(grammar.terminals)
        t_index = {name: i for i, name in enumerate(terms)}
        nts = ["$start", *grammar.rules]
        n_index = {name: i for i, name in enumerate(nts)}

        codes = {name: -(i + 1) for name, i in n_index.items()}
        codes.update(t_index)  # a name is a terminal or a rule, never both (checked)
        code = codes.__getitem__

        if productive is None:
            productive = productive_symbols(grammar, unusable)
        productions: list[tuple[int, tuple[int, ...]]] = []
        if grammar.start in productive or grammar.is_empty:  # the empty language: no item ends
            productions.append((0, (code(grammar.start),)))
        for name, rule in grammar.rules.items():
            for alt in dict.fromkeys(rule.alternatives):
                if productive.issuperset(alt):
                    productions.append((n_index[name], tuple(map(code, alt))))
        nullable_names = grammar.nullable_rules()
        predictions: list[list[int]] = [[] for _ in nts]
        dotted_next: list[int | None] = []
        dotted_lhs: list[int] = []
        for lhs, rhs in productions:
            predictions[lhs].append(len(dotted_next))
            dotted_next.extend(rhs)
            dotted_next.append(None)  # the dot at the end
            dotted_lhs.extend([lhs] * (len(rhs) + 1))
        return cls(
            terminal_names=tuple(terms),
            nonterminal_names=tuple(nts),
            ignore=tuple(t_index[n] for n in grammar.ignore if n not in unusable),
            dotted_next=tuple(dotted_next),
            dotted_lhs=tuple(dotted_lhs),
            predictions=tuple(tuple(p) for p in predictions),
            nullable=tuple(name in nullable_names for name in nts),
        )

    def expected_terminals_of(self, eset: EarleySet) -> tuple[int, ...]:
        """Terminals some item of ``eset`` can scan next, ignored terminals included (sorted)."""
        return eset.expected


@dataclass(eq=False)
class EarleySet:
    """One Earley set, indexed for scanning (by terminal) and completion (by nonterminal).

    Built by :func:`closure` and never changed afterwards; ``expected`` holds the terminals its
    items can scan next, ignored terminals included (sorted); ``work`` counts the item steps its
    closure took (items added or found present: the measure
    :attr:`corral.limits.Limits.max_earley_set_work` bounds). ``advanced`` is a memo, filled on
    first use: per nonterminal, the items waiting on it advanced over it, as one frozenset, so
    that a completion adds them with one set difference (a pure memo: two threads filling it
    at once store equal values).
    """

    items: list[Item] = field(default_factory=list)
    seen: set[Item] = field(default_factory=set)
    waiting_t: dict[int, list[Item]] = field(default_factory=dict)
    waiting_nt: dict[int, list[Item]] = field(default_factory=dict)
    accepting: bool = False
    expected: tuple[int, ...] = ()
    work: int = 0
    advanced: dict[int, frozenset[Item]] = field(default_factory=dict, repr=False)

    def advanced_over(self, nt: int) -> frozenset[Item]:
        """The items waiting on nonterminal ``nt``, with the dot moved past it (memoised)."""
        got = self.advanced.get(nt)
        if got is None:
            got = frozenset((d + 1, o) for d, o in self.waiting_nt.get(nt, ()))
            self.advanced[nt] = got
        return got


class SetOverlay:
    """Earley sets by position id: a matcher's stack, then temporary sets of one computation.

    Mask walks and completions build Earley sets past the matcher's last position; they push
    them here, never onto the matcher's own stack, which is only read.
    """

    __slots__ = ("base", "extra", "n_base")

    def __init__(self, base: Sequence[EarleySet | None]) -> None:
        self.base = base
        self.n_base = len(base)
        self.extra: list[EarleySet | None] = []

    def __len__(self) -> int:
        return self.n_base + len(self.extra)

    def __getitem__(self, pos: int) -> EarleySet | None:
        return self.base[pos] if pos < self.n_base else self.extra[pos - self.n_base]

    def push_closure(
        self, tables: EarleyTables, kernel: list[Item], copies: Sequence[EarleySet] = ()
    ) -> int:
        """Close ``kernel`` (with ``copies``) as a new set at the next position id; its id."""
        pos = len(self)
        self.extra.append(None)
        self.extra[-1] = closure(tables, kernel, pos, self, copies)
        return pos


def equal_copy(eset: EarleySet, copies: Sequence[EarleySet]) -> int | None:
    """Index of the copy that ``eset``, just closed with ``copies``, equals item for item.

    Where ignored lexemes of two terminals over the same bytes (sql.lark's ignored ``WS`` and
    its separator ``_S``) may split a run of whitespace anywhere, every byte of the run ends
    lexemes begun at every earlier byte, and each new set held its predecessors' items: sets,
    threads and lexeme ends grew with the run. When the closure added no item beyond its
    largest copy, the set *is* that copy (their union is the largest one; no kernel item was
    fresh, so nothing was predicted at the new position and no item has it as origin), and the
    copy can stand at the new position, as a lone ignored lexeme's does. ``None``: no such copy.
    """
    n = len(eset.items)
    for k, other in enumerate(copies):
        if len(other.items) == n:
            return k
    return None


def scan_kernel(eset: EarleySet, terminal: int) -> list[Item]:
    """Items of ``eset`` advanced over ``terminal``."""
    return [(d + 1, o) for d, o in eset.waiting_t.get(terminal, ())]


def closure(
    tables: EarleyTables,
    kernel: list[Item],
    position: int,
    sets: Sequence[EarleySet | None] | SetOverlay,
    copies: Sequence[EarleySet] = (),
) -> EarleySet:
    """Build the Earley set at ``position`` from scanned ``kernel`` items.

    ``copies`` are sets whose (already closed) items are included as they are: an ignored
    terminal between two lexemes leaves the parser where it was. ``sets[o]`` must be the set at
    position id ``o`` for every origin ``o < position`` met.

    Completion is done once per ``(nonterminal, origin)`` and adds the origin set's memoised
    :meth:`EarleySet.advanced_over` with one set difference. Ambiguous grammars still cost up
    to quadratic work per set (Earley is cubic there); the set's ``work`` counts it, for
    :attr:`corral.limits.Limits.max_earley_set_work`.
    """
    if isinstance(sets, SetOverlay):
        base, n_base, extra = sets.base, sets.n_base, sets.extra
    else:
        base, n_base, extra = sets, len(sets), []
    es = EarleySet()
    items, seen = es.items, es.seen
    waiting_t, waiting_nt = es.waiting_t, es.waiting_nt
    dnext, dlhs = tables.dotted_next, tables.dotted_lhs
    for other in copies:
        for it in other.items:
            if it not in seen:
                seen.add(it)
                items.append(it)
                sym = dnext[it[0]]
                if sym is None:
                    continue
                if sym >= 0:
                    waiting_t.setdefault(sym, []).append(it)
                else:
                    waiting_nt.setdefault(-sym - 1, []).append(it)
        es.accepting = es.accepting or other.accepting
    n_copied = len(items)
    for it in kernel:
        if it not in seen:
            seen.add(it)
            items.append(it)
    i = n_copied
    work = len(items)
    predicted: set[int] = set()
    completed: set[Item] = set()
    predictions, nullable, final = tables.predictions, tables.nullable, tables.final_dotted
    while i < len(items):
        item = items[i]
        i += 1
        d, o = item
        sym = dnext[d]
        if sym is None:
            if d == final and o == 0:
                es.accepting = True
            if o == position:
                continue  # empty derivation: handled at prediction (Aycock-Horspool)
            key = (dlhs[d], o)
            if key in completed:
                continue  # another production of the same nonterminal and origin did it
            completed.add(key)
            origin_set = base[o] if o < n_base else extra[o - n_base]
            if origin_set is None:
                continue
            adv = origin_set.advanced_over(key[0])
            work += len(adv)
            fresh = adv - seen
            if fresh:
                seen |= fresh
                items.extend(sorted(fresh))
        elif sym >= 0:
            waiting_t.setdefault(sym, []).append(item)
        else:
            nt = -sym - 1
            waiting_nt.setdefault(nt, []).append(item)
            if nt not in predicted:
                predicted.add(nt)
                for pd in predictions[nt]:
                    new = (pd, position)
                    if new not in seen:
                        seen.add(new)
                        items.append(new)
            if nullable[nt]:
                new = (d + 1, o)
                if new not in seen:
                    seen.add(new)
                    items.append(new)
    es.expected = tuple(sorted(set(waiting_t).union(tables.ignore)))
    es.work = work + len(items)
    return es
