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
give a finite union of specifications.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from corral.automata.dfa import ByteDFA
from corral.automata.ops import difference, empty_dfa, intersect, is_empty, union
from corral.automata.regex import compile_regex, literal_dfa

__all__ = [
    "MAX_COUNT_STATES",
    "ArraySpec",
    "Conj",
    "Lang",
    "ObjectSpec",
    "Prop",
    "Refuse",
    "Region",
    "all_scalars",
    "canon_integer",
    "canon_number",
    "conj_and",
    "dfa_and",
    "dfa_minus",
    "dfa_or",
    "use_draft",
]

Conj = tuple[str, ...]
"""A conjunction of subschemas, each named by its JSON pointer ("@n" names a synthesized one,
"@F" the false schema); the empty tuple is the true schema."""

FALSE: Conj = ("@F",)

MAX_COUNT_STATES = 20_000
"""Most counting states (member/item counts) one object or array may need."""


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


@lru_cache(maxsize=1)
def canon_integer() -> ByteDFA:
    """Canonical integer texts: no sign on zero, no leading zeros, no fraction or exponent."""
    return compile_regex("0|-?[1-9][0-9]*", "integer")


_MODE = {"draft4": False}


def use_draft(draft: int) -> None:
    """Select the number model of ``draft``: up to draft 4, ``integer`` means "written without
    a fraction", so an integral value written ``5.0`` is a different instance from ``5`` and has
    its own canonical text (``5.0``); from draft 6 on they are the same value, written ``5``."""
    _MODE["draft4"] = draft <= 4


@lru_cache(maxsize=2)
def _canon_number(draft4: bool) -> ByteDFA:
    extra = "|-?(0|[1-9][0-9]*)\\.0" if draft4 else ""
    return compile_regex("0|-?[1-9][0-9]*|-?(0|[1-9][0-9]*)\\.[0-9]*[1-9]" + extra, "number")


def canon_number(draft4: bool | None = None) -> ByteDFA:
    """Canonical number texts: integers as :func:`canon_integer`, others positional without
    trailing fractional zeros or exponent (plus ``N.0`` in the draft-4 model, see
    :func:`use_draft`)."""
    return _canon_number(_MODE["draft4"] if draft4 is None else draft4)


@lru_cache(maxsize=2)
def _all_scalars(draft4: bool) -> ByteDFA:
    from corral.grammars.json_schema.strings import json_string_any

    lits = union(union(literal_dfa("true"), literal_dfa("false")), literal_dfa("null"))
    return union(union(json_string_any(), _canon_number(draft4)), lits)


def all_scalars() -> ByteDFA:
    """Every scalar JSON value in canonical form (in the current number model)."""
    return _all_scalars(_MODE["draft4"])


_AND: dict[tuple[int, int], ByteDFA] = {}
_OR: dict[tuple[int, int], ByteDFA] = {}
_MINUS: dict[tuple[int, int], ByteDFA] = {}
_KEEP: list[ByteDFA] = []  # keeps cached operands alive so their ids stay unique


def _cached(cache: dict[tuple[int, int], ByteDFA], op, a: ByteDFA, b: ByteDFA) -> ByteDFA:  # type: ignore[no-untyped-def]
    key = (id(a), id(b))
    got = cache.get(key)
    if got is None:
        got = op(a, b)
        if len(_KEEP) > 40_000:  # bounded memory: drop every cached result and operand
            for c in (_AND, _OR, _MINUS):
                c.clear()
            _KEEP.clear()
        cache[key] = got
        _KEEP.extend((a, b))
    return got


def dfa_and(a: ByteDFA, b: ByteDFA) -> ByteDFA:
    """Intersection with shortcuts for empty and universal operands."""
    if a is b:
        return a
    if is_empty(a) or is_empty(b):
        return empty_dfa()
    if b is all_scalars():
        return a
    if a is all_scalars():
        return b
    return _cached(_AND, intersect, a, b)


def dfa_or(a: ByteDFA, b: ByteDFA) -> ByteDFA:
    """Union with shortcuts."""
    if a is b or is_empty(b):
        return a
    if is_empty(a):
        return b
    return _cached(_OR, union, a, b)


def dfa_minus(a: ByteDFA, b: ByteDFA) -> ByteDFA:
    """Difference with shortcuts."""
    if is_empty(b) or is_empty(a):
        return a
    if a is b:
        return empty_dfa()
    return _cached(_MINUS, difference, a, b)


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
class ObjectSpec:
    """Objects: declared properties in order, then any number of undeclared keys by region.

    ``regions`` partition the undeclared key strings that are allowed at all; a key in no region
    is forbidden. ``min_props``/``max_props`` count every member.
    """

    props: tuple[Prop, ...] = ()
    regions: tuple[Region, ...] = ()
    min_props: int = 0
    max_props: int | None = None
    open: bool = False  # regions are exactly "every undeclared key, any value"

    def is_any(self) -> bool:
        """Whether this is the unconstrained object."""
        return (
            not self.props
            and self.min_props == 0
            and self.max_props is None
            and len(self.regions) == 1
            and self.regions[0].value == ()
            and self.regions[0].keys is _any_key()
        )


@lru_cache(maxsize=1)
def _any_key() -> ByteDFA:
    from corral.grammars.json_schema.strings import json_string_any

    return json_string_any()


def any_key() -> ByteDFA:
    """Every key, as a canonical quoted JSON string."""
    return _any_key()


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


ANY_OBJECT_SPEC: ObjectSpec | None = None


def any_object() -> ObjectSpec:
    """The unconstrained object specification."""
    global ANY_OBJECT_SPEC
    if ANY_OBJECT_SPEC is None:
        ANY_OBJECT_SPEC = ObjectSpec(regions=(Region(_any_key(), ()),), open=True)
    return ANY_OBJECT_SPEC


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
    def any() -> Lang:
        """Every JSON value."""
        return Lang(all_scalars(), [any_object()], [ArraySpec()])

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

    def or_(self, other: Lang) -> Lang:
        """Union."""
        objs = list(self.objects) + [o for o in other.objects if o not in self.objects]
        arrs = list(self.arrays) + [a for a in other.arrays if a not in self.arrays]
        if any(o.is_any() for o in objs):
            objs = [any_object()]
        if any(a.is_any() for a in arrs):
            arrs = [ArraySpec()]
        longs = self.long_strings + tuple(x for x in other.long_strings
                                          if x not in self.long_strings)  # fmt: skip
        return Lang(dfa_or(self.scalar, other.scalar), objs, arrs, longs)

    def with_scalar(self, scalar: ByteDFA) -> Lang:
        """A copy with another scalar part."""
        return replace(self, scalar=scalar)
