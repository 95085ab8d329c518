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

__all__ = ["Grammar", "GrammarError", "Rule", "Terminal", "library_path"]

constructors.install(Grammar)


def library_path(name: str) -> str:
    """Path of a shipped grammar in :mod:`corral.grammars.library` (e.g. ``"json.lark"``)."""
    return os.path.join(os.path.dirname(__file__), "library", name)
