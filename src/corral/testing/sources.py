"""Grammar sources handed to the engines under test, in the dialect they were written in.

Every engine compiles a :class:`GrammarSource` itself (llguidance and XGrammar from the text,
corral through its own front-ends), so that the suite tests each engine's whole pipeline and not
a translation made by corral.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Literal

from corral.grammars import library_path
from corral.grammars.ir import Grammar

__all__ = ["LIBRARY_NAMES", "GrammarKind", "GrammarSource", "resolve_sources"]

GrammarKind = Literal["lark", "gbnf", "regex", "json_schema"]

LIBRARY_NAMES: dict[str, tuple[str, ...]] = {
    "json": ("json.lark", "json.gbnf"),
    "arithmetic": ("arithmetic.lark",),
    "sql": ("sql.lark",),
    "c": ("c.lark",),
}
"""Shipped grammar names and their files in :mod:`corral.grammars.library`."""

_SUFFIX_KIND: dict[str, GrammarKind] = {".lark": "lark", ".gbnf": "gbnf", ".json": "json_schema"}


@dataclass(frozen=True)
class GrammarSource:
    """A grammar as its author wrote it.

    Attributes
    ----------
    kind:
        ``"lark"``, ``"gbnf"``, ``"regex"`` or ``"json_schema"``.
    text:
        The grammar text, the regex, or the schema serialized as JSON.
    name:
        A label for reports (a file name, ``"<regex>"``, ...).
    """

    kind: GrammarKind
    text: str
    name: str

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> GrammarSource:
        """Read a ``.lark``, ``.gbnf`` or ``.json`` (JSON Schema) file.

        Raises
        ------
        ValueError
            For any other suffix, or a ``.json`` file that is not JSON.
        """
        name = os.path.basename(os.fspath(path))
        kind = _SUFFIX_KIND.get(os.path.splitext(name)[1])
        if kind is None:
            raise ValueError(f"{path}: expected a .lark, .gbnf or .json (JSON Schema) file")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if kind == "json_schema":
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON: {exc}") from exc
        return cls(kind, text, name)

    @classmethod
    def from_schema(cls, schema: Any, name: str = "<schema>") -> GrammarSource:
        """A JSON Schema given as a Python value."""
        return cls("json_schema", json.dumps(schema), name)

    @classmethod
    def from_regex(cls, pattern: str) -> GrammarSource:
        """A regular expression (the whole output must match it)."""
        return cls("regex", pattern, "<regex>")

    @property
    def schema(self) -> Any:
        """The JSON Schema value (only for ``kind == "json_schema"``)."""
        if self.kind != "json_schema":
            raise ValueError(f"{self.name} is a {self.kind} grammar, not a JSON Schema")
        return json.loads(self.text)

    def to_grammar(self) -> Grammar:
        """corral's IR for this source (its front-end for the kind)."""
        if self.kind == "lark":
            return Grammar.from_lark(self.text, source=self.name)
        if self.kind == "gbnf":
            return Grammar.from_gbnf(self.text, source=self.name)
        if self.kind == "regex":
            return Grammar.from_regex(self.text)
        return Grammar.from_json_schema(self.schema)


def resolve_sources(spec: str) -> list[GrammarSource]:
    """Grammar sources named on the command line.

    Parameters
    ----------
    spec:
        A ``.lark``/``.gbnf``/``.json`` file, or a shipped grammar name (``json``,
        ``arithmetic``, ``sql``, ``c``; ``json`` stands for both ``json.lark`` and ``json.gbnf``),
        or a shipped file name such as ``json.gbnf``.

    Raises
    ------
    ValueError
        If ``spec`` is neither an existing file nor a shipped grammar.
    """
    if os.path.isfile(spec):
        return [GrammarSource.from_file(spec)]
    files = LIBRARY_NAMES.get(spec)
    if files is None and any(spec in names for names in LIBRARY_NAMES.values()):
        files = (spec,)
    if files is None:
        known = ", ".join(sorted(LIBRARY_NAMES))
        raise ValueError(
            f"{spec!r} is neither a grammar/schema file nor a shipped grammar ({known})"
        )
    return [GrammarSource.from_file(library_path(f)) for f in files]
