"""The value languages JSON Schema compiles to, and their Boolean algebra.

A :class:`Lang` is a set of JSON values split by kind: the scalars (strings, numbers, booleans,
null) as one byte automaton over their canonical texts, and objects and arrays as unions of
structural specifications (:class:`ObjectSpec`, :class:`ArraySpec`) whose member values are
given lazily as conjunctions of subschemas (:data:`Conj`). Because every scalar has exactly one
canonical text (see ``docs/design/json_schema.md``), sets of texts are sets of values and the
automaton operations of :mod:`corral.automata.ops` (Rabin & Scott 1959 products)
are exact set operations on values: this is what makes ``not``, ``oneOf`` and ``if``/``then``/
``else`` exact on scalars. Objects and arrays intersect by merging specifications (the way
llguidance and XGrammar merge ``allOf``), and are negated only in the forms where De Morgan's laws
give a finite union of specifications. The operations that need automata shared across one
compilation (the canonical automata, memoised products, the union of languages) are methods of
:class:`~corral.grammars.json_schema.context.SchemaContext`; this module holds only values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from corral.automata.dfa import ByteDFA
from corral.automata.ops import empty_dfa, is_empty
from corral.limits import DEFAULT_LIMITS

__all__ = [
    "MAX_COUNT_STATES",
    "ArraySpec",
    "Conj",
    "Exists",
    "Lang",
    "ObjectSpec",
    "Prop",
    "Refuse",
    "Region",
    "conj_and",
]

Conj = tuple[str, ...]
"""A conjunction of subschemas, each named by its JSON pointer ("@n" names a synthesized one,
"@F" the false schema); the empty tuple is the true schema."""

FALSE: Conj = ("@F",)

MAX_COUNT_STATES = DEFAULT_LIMITS.max_count_states
"""Default bound on the counting states (member/item counts) of one object or array
(:attr:`corral.limits.Limits.max_count_states`)."""


class Refuse(Exception):
    """A keyword cannot be enforced exactly; carries the keyword and the reason."""

    def __init__(self, keyword: str, reason: str) -> None:
        super().__init__(f"{keyword}: {reason}")
        self.keyword = keyword
        self.reason = reason


def conj_and(a: Conj, b: Conj) -> Conj:
    """The conjunction of two conjunctions (order kept, duplicates dropped)."""
    if a == FALSE or b == FALSE:
        return FALSE
    out = list(a)
    for p in b:
        if p not in out:
            out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class Prop:
    """A declared property: its name, value conjunction, and whether it is required."""

    name: str
    value: Conj
    required: bool = False


@dataclass(frozen=True)
class Region:
    """Undeclared keys (canonical quoted JSON strings in ``keys``) and what their values obey."""

    keys: ByteDFA
    value: Conj


@dataclass(frozen=True)
class Exists:
    """Some member has a key in ``keys`` (canonical quoted JSON strings) and a value in
    ``value``: the existential constraint that the complement of a region (a member whose key is
    in the region and whose value is not) or of a forbidden key space needs."""

    keys: ByteDFA
    value: Conj


@dataclass(frozen=True)
class ObjectSpec:
    """Objects: declared properties in order, then any number of undeclared keys by region.

    ``regions`` partition the undeclared key strings that are allowed at all; a key in no region
    is forbidden. ``min_props``/``max_props`` count every member. Every constraint of
    ``exists`` must have a witness among the members (declared or not).
    """

    props: tuple[Prop, ...] = ()
    regions: tuple[Region, ...] = ()
    min_props: int = 0
    max_props: int | None = None
    exists: tuple[Exists, ...] = ()

    def is_any(self, any_key: ByteDFA) -> bool:
        """Whether this is the unconstrained object: one region, of exactly the automaton
        ``any_key`` (the compile context's :meth:`~.context.SchemaContext.any_key`)."""
        return (
            not self.props
            and self.min_props == 0
            and self.max_props is None
            and len(self.regions) == 1
            and self.regions[0].value == ()
            and self.regions[0].keys is any_key
            and not self.exists
        )

    @property
    def all_exists(self) -> int:
        """The bit set of every constraint of :attr:`exists` (met when the object is done)."""
        return (1 << len(self.exists)) - 1


@dataclass(frozen=True)
class ArraySpec:
    """Arrays: positional ``prefix`` items, then ``items`` (``None``: no more items allowed).

    ``contains`` holds (conjunction, minimum count, maximum count or None).
    """

    prefix: tuple[Conj, ...] = ()
    items: Conj | None = ()
    min_items: int = 0
    max_items: int | None = None
    contains: tuple[tuple[Conj, int, int | None], ...] = ()
    unique: bool = False

    def is_any(self) -> bool:
        """Whether this is the unconstrained array."""
        return self == ArraySpec()


@dataclass
class Lang:
    """A set of JSON values (see the module docstring)."""

    scalar: ByteDFA
    objects: list[ObjectSpec] = field(default_factory=list)
    arrays: list[ArraySpec] = field(default_factory=list)
    long_strings: tuple[tuple[int, int | None], ...] = ()
    """Strings with only a length range too long for one automaton: ``(min, max)`` code points
    (``max`` ``None``: unbounded); the language is their union with ``scalar``."""

    @staticmethod
    def empty() -> Lang:
        """No value."""
        return Lang(empty_dfa(), [], [])

    def is_empty(self) -> bool:
        """Whether no value is in the language (structurally; nested emptiness is found later)."""
        return (
            is_empty(self.scalar) and not self.objects and not self.arrays
            and not self.long_strings
        )  # fmt: skip

    def with_scalar(self, scalar: ByteDFA) -> Lang:
        """A copy with another scalar part."""
        return replace(self, scalar=scalar)
