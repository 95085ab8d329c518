"""The compile context of one JSON Schema compilation: everything that used to be global.

A :class:`SchemaContext` is created per :func:`~corral.grammars.json_schema.compile_json_schema`
call and handed explicitly to every function that needs it. It holds

- the number model of the schema's draft (up to draft 4, an integral value written ``5.0`` is a
  different instance from ``5``; see ``docs/design/json_schema.md``);
- the :class:`~corral.limits.Budget` (deadline and state bounds) of the compilation;
- the canonical automata (every string, canonical numbers, every scalar, the unconstrained
  object), built at most once per context and then pinned, so that identity shortcuts
  (``b is ctx.all_scalars()``) hold for the whole compilation;
- the memo tables of the Boolean operations on scalar automata (Rabin & Scott 1959 products),
  keyed by the operand objects themselves, so that the table keeps its operands alive and an
  identity is never reused while it is a key; bounded, cleared when full;
- an :class:`~corral.automata.cache.AutomataCache` for value-keyed results (regexes, string,
  number and format automata): private to the context unless the caller passes one to share
  between compilations (it is thread-safe).

Two threads compiling at once, or a compilation started from inside another, each have their
own context and never see each other's state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA
from corral.automata.ops import difference, empty_dfa, intersect, is_empty, union
from corral.automata.regex import compile_regex, literal_dfa
from corral.grammars.json_schema.algebra import ArraySpec, Lang, ObjectSpec, Region
from corral.grammars.json_schema.strings import json_string_any
from corral.grammars.json_schema.values import json_text
from corral.limits import DEFAULT_LIMITS, Budget, Limits

__all__ = ["MAX_MEMO", "SchemaContext"]

MAX_MEMO = 20_000
"""Most memoised Boolean operations per context before the tables are cleared."""

T = TypeVar("T")


class SchemaContext:
    """Per-compilation state of the JSON Schema compiler (see the module docstring).

    Parameters
    ----------
    draft:
        The schema's draft (4, 6, 7, 2019 or 2020): selects the number model.
    limits:
        Bounds (default :data:`~corral.limits.DEFAULT_LIMITS`).
    budget:
        The running budget; by default one started now from ``limits``.
    cache:
        A cache to share between compilations; by default a private one.
    """

    def __init__(
        self,
        *,
        draft: int = 2020,
        limits: Limits | None = None,
        budget: Budget | None = None,
        cache: AutomataCache | None = None,
    ) -> None:
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.budget = budget if budget is not None else Budget.start(self.limits)
        self.draft4 = draft <= 4
        # this compilation's view of the shared cache: keeps what it gets while it runs
        self.cache = (cache if cache is not None else AutomataCache()).session()
        self._bounds = self.limits.state_bounds()
        self._ops: dict[tuple[str, ByteDFA, ByteDFA], ByteDFA] = {}
        self._keys: dict[tuple[ByteDFA, str], bool] = {}
        self._pinned: dict[Hashable, object] = {}

    # ------------------------------------------------------------------ caching
    def memo(self, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """The value of ``build()``, shared through :attr:`cache` under ``key`` (which must
        determine it, together with the state bounds, which are added to the key)."""
        return self.cache.get_or_build((self._bounds, *key), build)

    def _pin(self, key: str, build: Callable[[], T]) -> T:
        got = self._pinned.get(key)
        if got is None:
            got = self._pinned[key] = self.memo(("canon", key), build)
        return got  # type: ignore[return-value]

    # ------------------------------------------------------------------ canonical automata
    def json_string_any(self) -> ByteDFA:
        """Every JSON string in canonical form (also every key: :meth:`any_key`)."""
        return self._pin("string", lambda: json_string_any(self.budget))

    def any_key(self) -> ByteDFA:
        """Every key, as a canonical quoted JSON string."""
        return self.json_string_any()

    def canon_integer(self) -> ByteDFA:
        """Canonical integer texts: no sign on zero, no leading zeros, no fraction or exponent."""
        return self._pin(
            "integer", lambda: compile_regex("0|-?[1-9][0-9]*", "integer", budget=self.budget)
        )

    def canon_number(self, draft4: bool | None = None) -> ByteDFA:
        """Canonical number texts: integers as :meth:`canon_integer`, others positional without
        trailing fractional zeros or exponent, plus ``N.0`` in the draft-4 number model
        (``draft4`` ``None``: this context's model)."""
        d4 = self.draft4 if draft4 is None else draft4
        extra = "|-?(0|[1-9][0-9]*)\\.0" if d4 else ""
        regex = "0|-?[1-9][0-9]*|-?(0|[1-9][0-9]*)\\.[0-9]*[1-9]" + extra
        return self._pin(f"number{d4}", lambda: compile_regex(regex, "number", budget=self.budget))

    def booleans(self) -> ByteDFA:
        """``true`` and ``false``."""
        return self._pin("booleans", lambda: union(literal_dfa("true"), literal_dfa("false")))

    def null(self) -> ByteDFA:
        """``null``."""
        return self._pin("null", lambda: literal_dfa("null"))

    def all_scalars(self) -> ByteDFA:
        """Every scalar JSON value in canonical form (in this context's number model)."""

        def build() -> ByteDFA:
            lits = union(union(literal_dfa("true"), literal_dfa("false")), literal_dfa("null"))
            return union(union(self.json_string_any(), self.canon_number()), lits)

        return self._pin(f"scalars{self.draft4}", build)

    def any_object(self) -> ObjectSpec:
        """The unconstrained object specification."""
        got = self._pinned.get("object")
        if got is None:
            got = self._pinned["object"] = ObjectSpec(regions=(Region(self.any_key(), ()),))
        assert isinstance(got, ObjectSpec)
        return got

    def any_lang(self) -> Lang:
        """Every JSON value."""
        return Lang(self.all_scalars(), [self.any_object()], [ArraySpec()])

    def key_in(self, keys: ByteDFA, name: str) -> bool:
        """Whether the key ``name`` is in the (quoted-text) language of ``keys``, memoised:
        merging object specifications asks it of the same regions and names many times."""
        memo_key = (keys, name)
        got = self._keys.get(memo_key)
        if got is None:
            got = keys.matches(json_text(name).encode("utf-8", "surrogatepass"))
            if len(self._keys) >= MAX_MEMO:  # bounded memory, as for the products
                self._keys.clear()
            self._keys[memo_key] = got
        return got

    # ------------------------------------------------------------------ scalar algebra
    def _op(
        self, name: str, op: Callable[[ByteDFA, ByteDFA, Budget], ByteDFA], a: ByteDFA,
        b: ByteDFA,
    ) -> ByteDFA:  # fmt: skip
        if a.shared and b.shared:  # both kept by the cache: so is the result, for any schema
            return self.memo(("op", name, a, b), lambda: op(a, b, self.budget))
        key = (name, a, b)
        got = self._ops.get(key)
        if got is None:
            got = op(a, b, self.budget)
            if len(self._ops) >= MAX_MEMO:  # bounded memory: drop every result and operand
                self._ops.clear()
            self._ops[key] = got
        return got

    def dfa_and(self, a: ByteDFA, b: ByteDFA) -> ByteDFA:
        """Intersection with shortcuts for empty and universal operands."""
        if a is b:
            return a
        if is_empty(a) or is_empty(b):
            return empty_dfa()
        if b is self.all_scalars():
            return a
        if a is self.all_scalars():
            return b
        return self._op("and", intersect, a, b)

    def dfa_or(self, a: ByteDFA, b: ByteDFA) -> ByteDFA:
        """Union with shortcuts."""
        if a is b or is_empty(b):
            return a
        if is_empty(a):
            return b
        return self._op("or", union, a, b)

    def dfa_minus(self, a: ByteDFA, b: ByteDFA) -> ByteDFA:
        """Difference with shortcuts."""
        if is_empty(b) or is_empty(a):
            return a
        if a is b:
            return empty_dfa()
        return self._op("minus", difference, a, b)

    def lang_or(self, a: Lang, b: Lang) -> Lang:
        """The union of two languages."""
        objs = list(a.objects) + [o for o in b.objects if o not in a.objects]
        arrs = list(a.arrays) + [x for x in b.arrays if x not in a.arrays]
        if any(o.is_any(self.any_key()) for o in objs):
            objs = [self.any_object()]
        if any(x.is_any() for x in arrs):
            arrs = [ArraySpec()]
        longs = a.long_strings + tuple(x for x in b.long_strings if x not in a.long_strings)
        return Lang(self.dfa_or(a.scalar, b.scalar), objs, arrs, longs)
