"""Grammar front-ends, all lowering to one IR (:mod:`corral.grammars.ir`)."""

from __future__ import annotations

from corral.errors import GrammarError
from corral.grammars.ir import Grammar, Rule, Terminal

__all__ = ["Grammar", "GrammarError", "Rule", "Terminal", "library_path"]


def library_path(name: str) -> str:
    """Path of a shipped grammar in :mod:`corral.grammars.library` (e.g. ``"json.lark"``)."""
    import os

    return os.path.join(os.path.dirname(__file__), "library", name)
