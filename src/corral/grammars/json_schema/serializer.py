"""Serialisation of instances in the shape corral's JSON Schema grammars produce.

This is the output-shape policy of ``docs/design/json_schema.md`` written as a function, so that
tests can feed any valid instance to a compiled grammar: object members come in the order of the
object specification the grammar uses (declared properties in declaration order, then the other
members in their own order), scalars in their canonical text (:mod:`.values`), and whitespace
either none (compact) or one newline plus a bounded indentation after each opening bracket and
comma (flexible).
"""

from __future__ import annotations

from typing import Any

from corral.grammars.json_schema.algebra import ArraySpec, Conj, ObjectSpec, Refuse
from corral.grammars.json_schema.builder import LangBuilder
from corral.grammars.json_schema.objects import key_in, witness_value
from corral.grammars.json_schema.values import scalar_text

__all__ = ["Serializer"]

MAX_INDENT = 12


class Serializer:
    """Serialises instances for one schema (see the module docstring).

    Parameters
    ----------
    builder:
        The :class:`LangBuilder` of the schema (shared with compilation when possible).
    whitespace:
        ``"compact"`` or ``"flexible"``.
    """

    def __init__(self, builder: LangBuilder, whitespace: str = "compact") -> None:
        self.b = builder
        self.flexible = whitespace == "flexible"

    def dumps(self, instance: Any) -> str:
        """The text of ``instance``; ``ValueError`` if it has none (NaN, lone surrogates)."""
        out: list[str] = []
        self._value(instance, ("",), 0, out)
        text = "".join(out)
        text.encode("utf-8")  # raises UnicodeEncodeError (a ValueError) on lone surrogates
        return text + ("\n" if self.flexible else "")

    def _nl(self, depth: int) -> str:
        return "\n" + " " * min(2 * depth, MAX_INDENT) if self.flexible else ""

    def _specs(self, conj: Conj | None) -> tuple[list[ObjectSpec], list[ArraySpec]]:
        if conj is None:
            return [], []
        try:
            lang = self.b.lang_of(conj)
        except Refuse:
            return [], []
        return lang.objects, lang.arrays

    # ------------------------------------------------------------------ membership
    def accepts(self, v: Any, conj: Conj) -> bool:
        """Whether ``v`` is in the language of ``conj`` (used to pick the specification whose
        property order applies when a union offers several)."""
        try:
            lang = self.b.lang_of(conj)
        except Refuse:
            return True
        if isinstance(v, dict):
            return any(self._fits(s, v) for s in lang.objects)
        if isinstance(v, (list, tuple)):
            return any(self._fits_array(a, list(v)) for a in lang.arrays)
        if isinstance(v, str) and any(
            lo <= len(v) and (hi is None or len(v) <= hi) for lo, hi in lang.long_strings
        ):
            return True
        try:
            return lang.scalar.matches(scalar_text(v, self.b.draft <= 4).encode("utf-8"))
        except (ValueError, TypeError):
            return False

    def _fits(self, spec: ObjectSpec, v: dict[str, Any]) -> bool:
        if len(v) < spec.min_props or (spec.max_props is not None and len(v) > spec.max_props):
            return False
        declared = {p.name: p for p in spec.props}
        if any(p.required and p.name not in v for p in spec.props):
            return False
        for k, x in v.items():
            p = declared.get(k)
            if p is not None:
                if not self.accepts(x, p.value):
                    return False
                continue
            region = next((r for r in spec.regions if key_in(r.keys, k)), None)
            if region is None or not self.accepts(x, region.value):
                return False
        return _union(self._witnesses(spec, v)) == spec.all_exists

    def _witnesses(self, spec: ObjectSpec, v: dict[str, Any]) -> dict[str, int]:
        """For each member that witnesses constraints of ``spec.exists``, the bit set of those
        it is taken to witness (the first member that can, for each); a constraint without
        witness is missing from every set."""
        out: dict[str, int] = {}
        for j, e in enumerate(spec.exists):
            k = next((k for k, x in v.items() if key_in(e.keys, k) and self.accepts(x, e.value)),
                     None)  # fmt: skip
            if k is not None:
                out[k] = out.get(k, 0) | 1 << j
        return out

    def _fits_array(self, spec: ArraySpec, v: list[Any]) -> bool:
        if len(v) < spec.min_items or (spec.max_items is not None and len(v) > spec.max_items):
            return False
        for i, x in enumerate(v):
            sub = spec.prefix[i] if i < len(spec.prefix) else spec.items
            if sub is None or not self.accepts(x, sub):
                return False
        return True

    def _value(self, v: Any, conj: Conj | None, depth: int, out: list[str]) -> None:
        if isinstance(v, dict):
            self._object(v, conj, depth, out)
        elif isinstance(v, (list, tuple)):
            self._array(list(v), conj, depth, out)
        else:
            out.append(scalar_text(v, self.b.draft <= 4))

    def _object(self, v: dict[str, Any], conj: Conj | None, depth: int, out: list[str]) -> None:
        objects, _ = self._specs(conj)
        spec = next((s for s in objects if self._fits(s, v)), objects[0] if objects else None)
        order: list[str] = []
        values: dict[str, Conj | None] = {}
        if spec is not None:
            for p in spec.props:
                if p.name in v:
                    order.append(p.name)
                    values[p.name] = p.value
        for k in v:
            if k not in values:
                order.append(k)
                region = None if spec is None else next(
                    (r for r in spec.regions if key_in(r.keys, k)), None)  # fmt: skip
                values[k] = None if region is None else region.value
        if spec is not None and spec.exists:
            met = self._witnesses(spec, v)
            if _union(met) == spec.all_exists:
                for k, bits in met.items():
                    base = values[k]
                    if base is not None:
                        values[k] = witness_value(base, spec, bits)
        out.append("{")
        for i, k in enumerate(order):
            if i:
                out.append(",")
            out.append(self._nl(depth + 1))
            out.append(scalar_text(k))
            out.append(": " if self.flexible else ":")
            self._value(v[k], values[k], depth + 1, out)
        if order:
            out.append(self._nl(depth))
        out.append("}")

    def _array(self, v: list[Any], conj: Conj | None, depth: int, out: list[str]) -> None:
        _, arrays = self._specs(conj)
        spec = next((a for a in arrays if self._fits_array(a, v)), arrays[0] if arrays else None)
        # under uniqueItems, object items are written compactly (their canonical text)
        compact_items = (
            spec is not None
            and spec.unique
            and not (spec.max_items is not None and spec.max_items <= 1)
        )
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            out.append(self._nl(depth + 1))
            sub: Conj | None = None
            if spec is not None:
                sub = spec.prefix[i] if i < len(spec.prefix) else spec.items
            if compact_items and isinstance(x, (dict, list)):
                flexible, self.flexible = self.flexible, False
                try:
                    self._value(x, sub, depth + 1, out)
                finally:
                    self.flexible = flexible
            else:
                self._value(x, sub, depth + 1, out)
        if v:
            out.append(self._nl(depth))
        out.append("]")


def _union(sets: dict[str, int]) -> int:
    """The union of bit sets."""
    out = 0
    for bits in sets.values():
        out |= bits
    return out
