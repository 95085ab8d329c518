"""What the keyword modules need from the language builder, as a structural type.

:mod:`.combinators` and :mod:`.emit` call back into the
:class:`~corral.grammars.json_schema.builder.LangBuilder` (the language of a subschema, the
algebra of languages, the refusal log). They name it through the :class:`LangSource` protocol
(PEP 544 structural subtyping), so that none of them imports the builder module, which imports
them: the import graph of the package has no cycle.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from corral.grammars.json_schema.algebra import Conj, Lang
from corral.grammars.json_schema.context import SchemaContext

__all__ = ["LangSource"]


class LangSource(Protocol):
    """The builder's interface: languages of conjunctions, their algebra, and the report."""

    ctx: SchemaContext
    draft: int

    def lang_of(self, conj: Conj) -> Lang:
        """The language of a conjunction of subschemas."""
        ...

    def and_(self, a: Lang, b: Lang) -> Lang:
        """Intersection."""
        ...

    def and_at(self, a: Lang, b: Lang, ptr: str, kw: str) -> Lang:
        """Intersection, refusals recorded against ``kw`` at ``ptr``."""
        ...

    def not_(self, a: Lang) -> Lang:
        """Complement."""
        ...

    def negate(self, conj: Conj) -> Conj:
        """A conjunction naming the complement of ``conj``'s language."""
        ...

    def refuse(self, ptr: str, keyword: str, reason: str) -> None:
        """Record that ``keyword`` at ``ptr`` is not enforced."""
        ...

    def note(self, ptr: str, keyword: str, status: str) -> None:
        """Record what happens to ``keyword`` at ``ptr``."""
        ...

    def tracking(self) -> AbstractContextManager[list[bool]]:
        """A scope that says on exit whether a keyword was refused inside it."""
        ...

    def complementing(self, ptr: str, keyword: str) -> AbstractContextManager[None]:
        """A scope in which complements are taken for ``keyword`` at ``ptr``."""
        ...
