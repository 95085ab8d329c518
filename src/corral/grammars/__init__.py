"""Grammar front-ends, all lowering to one IR (:mod:`corral.grammars.ir`).

Importing this package installs the front-end constructors (``Grammar.from_lark``,
``from_gbnf``, ``from_regex``, ``from_choices``, ``from_json_schema``, ``from_pydantic``,
``from_file``) on :class:`~corral.grammars.ir.Grammar`; see :mod:`.constructors` for why they
are defined there and not in the IR module.
"""

from __future__ import annotations

import os

from corral.errors import GrammarError
from corral.grammars import constructors
from corral.grammars.ir import Grammar, Rule, Terminal

__all__ = ["LIBRARY", "Grammar", "GrammarError", "Rule", "Terminal", "library_path"]

LIBRARY: tuple[str, ...] = ("json.lark", "json.gbnf", "arithmetic.lark", "sql.lark", "c.lark")
"""The shipped grammars (files of :mod:`corral.grammars.library`)."""

constructors.install(Grammar)


def library_path(name: str) -> str:
    """Path of a shipped grammar.

    Parameters
    ----------
    name:
        A file of :data:`LIBRARY` (``"json.gbnf"``) or a name without extension, which means
        its Lark file: ``"json"``, ``"arithmetic"``, ``"sql"``, ``"c"``.

    Raises
    ------
    GrammarError
        For a name that is not a shipped grammar (the message lists them).
    """
    file = name if name in LIBRARY else f"{name}.lark"
    if file not in LIBRARY:
        known = ", ".join(sorted({f.rsplit(".", 1)[0] for f in LIBRARY} | set(LIBRARY)))
        raise GrammarError(f"no shipped grammar {name!r} (shipped: {known})")
    return os.path.join(os.path.dirname(__file__), "library", file)
