"""Finite languages: ``enum`` and ``const`` in a conjunction of subschemas.

The candidates are the values every ``enum``/``const`` of the conjunction allows (JSON Schema
equality, :func:`~corral.grammars.json_schema.values.json_equal`, looked up through a hash of a
coarse key so that large enums cost linear time); each is then validated with ``jsonschema``
against the other keywords of the conjunction (``enum``/``const`` themselves are already
satisfied and are left out: ``jsonschema`` checks an ``enum`` by linear search, which made large
enums quadratic). The deadline is checked as the loops go.

When the other keywords are only ``type``, string lengths and ``not`` of a schema every value
satisfies (and keywords no draft knows, which every validator ignores), the candidates are
checked here (:func:`by_type`), with ``jsonschema``'s meaning of each in the schema's draft (a
float with an integral value is an ``integer`` from draft 6 on, not in drafts 3 and 4):
importing ``jsonschema`` and its format checkers costs about 100 ms, once per process, and most
enums sit next to a ``type`` alone.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, Protocol

from corral.errors import GrammarError
from corral.grammars.json_schema.algebra import Conj, Lang
from corral.grammars.json_schema.keywords import ANNOTATIONS, ASSERTIONS
from corral.grammars.json_schema.values import candidates_lang, json_equal
from corral.limits import Budget

__all__ = ["FiniteSource", "by_type", "finite_lang", "intersect_values"]

_SKIP = frozenset({"enum", "const"}) | ANNOTATIONS
# ``minLength``/``maxLength``: the bound each draft puts on a string's length in code points
_LENGTHS = {"minLength": 1, "maxLength": -1}
# keywords that send a conjunction to jsonschema: every assertion but ``type`` and the string
# lengths, and draft 3's
_VALIDATED = (ASSERTIONS - {"type", *_LENGTHS}) | {"disallow", "extends", "divisibleBy"}
# the Python type of each JSON type name but the numeric ones
_KIND: dict[str, type] = {"null": type(None), "boolean": bool, "string": str, "array": list,
                          "object": dict}  # fmt: skip


def _has_type(value: Any, name: object, draft: int) -> bool | None:
    """Whether ``value`` (a JSON value as :mod:`json` loads it) is of JSON Schema type
    ``name`` in ``draft``, as ``jsonschema`` says (booleans are no numbers; an integral float
    is an integer from draft 6 on); ``None`` where ``name`` is no type name."""
    if name == "integer" and isinstance(value, float):
        return draft >= 6 and value.is_integer()
    if name == "number" or name == "integer":
        allowed: tuple[type, ...] = (int, float) if name == "number" else (int,)
        return isinstance(value, allowed) and not isinstance(value, bool)
    if not isinstance(name, str) or name not in _KIND:
        return None
    return isinstance(value, _KIND[name])


def _refuses_all(node: dict[str, Any], draft: int) -> bool:
    """Whether ``node`` has ``not`` of a schema every value satisfies: ``{}`` (draft 4 on;
    draft 3 has no ``not``) or ``true`` (draft 6 on, which has boolean schemas)."""
    if "not" not in node or draft < 4:
        return False
    inner = node["not"]
    return (type(inner) is dict and not inner) or (inner is True and draft >= 6)


def by_type(
    rest: list[dict[str, Any]], cands: list[Any], budget: Budget, draft: int = 2020
) -> list[Any] | None:
    """The candidates every node of ``rest`` allows in ``draft``, when its keywords are at
    most ``type``, ``minLength``/``maxLength`` with integer bounds (a string's length is its
    number of code points, as ``len`` of the decoded string gives it; other values have no
    length), ``not`` of a schema every value satisfies (then none) and keywords no draft knows
    (``x-`` ones included); ``None`` when some node needs ``jsonschema`` (another keyword, a
    type that is no name, a bound that is no non-negative integer)."""
    wanted: list[list[object]] = []
    lo, hi = 0, math.inf
    none = False
    for node in rest:
        refuses = _refuses_all(node, draft)
        none = none or refuses
        if not _VALIDATED.isdisjoint(node.keys() - {"not"} if refuses else node):
            return None
        if "type" in node:
            t = node["type"]
            wanted.append([t] if isinstance(t, str) else t if isinstance(t, list) else [None])
        for name, sign in _LENGTHS.items():
            if name in node:
                bound = node[name]
                if type(bound) is not int or bound < 0:  # as jsonschema reads it: left to it
                    return None
                lo, hi = (max(lo, bound), hi) if sign > 0 else (lo, min(hi, bound))
    if none:
        return []
    kept = []
    for i, v in enumerate(cands):
        if i & 1023 == 0:
            budget.check()
        ok = not isinstance(v, str) or lo <= len(v) <= hi
        for names in wanted:
            answers = [_has_type(v, n, draft) for n in names]
            if None in answers:
                return None
            ok = ok and any(answers)
        if ok:
            kept.append(v)
    return kept


class FiniteSource(Protocol):
    """What :func:`finite_lang` needs of the builder."""

    draft: int

    def synthesize(self, lang: Lang) -> Conj:
        """A conjunction naming a computed language."""
        ...

    def and_(self, a: Lang, b: Lang) -> Lang:
        """Intersection."""
        ...

    def synth_lang(self, ptr: str) -> Lang:
        """The language of a synthesized name (``@n`` or ``@~k``)."""
        ...

    def validator(self) -> Any:
        """The ``jsonschema`` validator of the root schema."""
        ...

    def note_all(self, node: dict[str, Any], ptr: str, how: str) -> None:
        """Record every keyword of ``node`` with status ``how``."""
        ...


def _key(value: Any) -> Hashable:
    """A key equal for values :func:`json_equal` calls equal (not conversely)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)  # 1 and 1.0 hash alike
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", len(value))
    if isinstance(value, dict):
        return ("d", frozenset(value))
    return ("o", type(value).__name__)


def intersect_values(cands: list[Any], pool: list[Any], budget: Budget) -> list[Any]:
    """The values of ``cands`` equal to some value of ``pool`` (in ``cands`` order)."""
    index: dict[Hashable, list[Any]] = {}
    for i, p in enumerate(pool):
        if i & 1023 == 0:
            budget.check()
        index.setdefault(_key(p), []).append(p)
    out = []
    for i, v in enumerate(cands):
        if i & 1023 == 0:
            budget.check()
        if any(json_equal(v, p) for p in index.get(_key(v), ())):
            out.append(v)
    return out


def finite_lang(b: FiniteSource, nodes: list[tuple[Any, str]], budget: Budget) -> Lang:
    """The language of a conjunction some member of which has ``enum`` or ``const``.

    Parameters
    ----------
    b:
        The builder.
    nodes:
        The conjunction, flattened: schema objects with their pointers, and ``(None, "@n")``
        for synthesized languages.
    budget:
        The compilation's budget.
    """
    cands: list[Any] | None = None
    for node, ptr in nodes:
        if node is None:
            continue
        vals: list[Any] | None = None
        if "const" in node:
            vals = [node["const"]]
        if "enum" in node:
            enum = node["enum"]
            if not isinstance(enum, list):
                raise GrammarError(f"{ptr or '/'}: 'enum' must be an array", pointer=ptr)
            vals = enum if vals is None else intersect_values(vals, enum, budget)
        if vals is not None:
            cands = vals if cands is None else intersect_values(cands, vals, budget)
    assert cands is not None
    if b.draft <= 4:  # 5 and 5.0 are equal but of different types: try both
        cands = [w for v in cands for w in (
            [int(v), float(v)] if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) and v == int(v) else [v])]  # fmt: skip
    rest = [{k: x for k, x in node.items() if k not in _SKIP} for node, _ in nodes if node]
    rest = [r for r in rest if any(not k.startswith("x-") for k in r)]
    kept = by_type(rest, cands, budget, b.draft) if rest else cands
    if kept is None:
        validators = [b.validator().evolve(schema=r) for r in rest]
        kept = []
        for i, v in enumerate(cands):
            if i & 63 == 0:
                budget.check()
            if all(val.is_valid(v) for val in validators):
                kept.append(v)
    for node, ptr in nodes:
        if node is not None:
            b.note_all(node, ptr, "enforced: finite enum/const validated with jsonschema")
    lang = candidates_lang(kept, b.synthesize, b.draft <= 4, budget)
    for node, ptr in nodes:
        if node is None:
            lang = b.and_(lang, b.synth_lang(ptr))
    return lang
