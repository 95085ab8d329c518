"""Infilling: can a partial output with holes still be completed in the grammar's language?

Fill-in-the-middle and template filling leave holes between fixed text; corral decides exactly
whether such a *template* has a completion in a compiled grammar's language (the matcher's
language: all-splits lexing, ignored terminals, the tokenizer's spellable bytes) and finds one.
The specification and the algorithm are in ``docs/design/infilling.md``.

>>> import corral                                                      # doctest: +SKIP
>>> from corral.infill import Hole, complete, is_completable           # doctest: +SKIP
>>> cg = corral.compile(corral.Grammar.from_json_schema(schema), tok)  # doctest: +SKIP
>>> is_completable(cg, ['{"name":', Hole(), ',"age":', Hole(), "}"])  # doctest: +SKIP
True

Diffusion models fill a :class:`Canvas` of token positions in any order; its masks
(:meth:`Canvas.allowed`) keep it completable, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import GrammarError
from corral.infill.canvas import Canvas
from corral.infill.chart import Chart
from corral.infill.template import Hole, Part, pattern_of, resolve_tokens
from corral.infill.tiers import Tiers
from corral.infill.token_moves import TokenMoves

__all__ = ["Canvas", "Hole", "completable_bytes", "complete", "complete_bytes", "is_completable"]


def _chart(
    compiled: CompiledGrammar, template: Sequence[Part], utf8: bool = True, causes: bool = True
) -> Chart | None:
    if compiled.unique is not None:
        raise GrammarError(
            f"{compiled.grammar.source}: infilling is not available for grammars with run-time "
            "uniqueItems checks (they are not context-free)"
        )
    parts = resolve_tokens(template, compiled)
    if compiled.grammar.is_empty:
        pattern_of(parts, compiled.limits, compiled.trie, utf8=utf8)  # the template's errors
        return None
    return Tiers(compiled, TokenMoves(compiled)).chart(parts, utf8=utf8, causes=causes)


def is_completable(compiled: CompiledGrammar, template: Sequence[Part]) -> bool:
    """Whether some completion of ``template`` is in ``compiled``'s language.

    Parameters
    ----------
    compiled:
        A compiled grammar (either engine; the answer is the same).
    template:
        Fixed parts (``bytes`` or ``str``, valid UTF-8, or a list or tuple of token ids, whose
        bytes may cut characters) and :class:`Hole` s, in order:
        ``Hole()`` any bytes (possibly none), ``Hole(tokens=n)`` exactly ``n`` vocabulary
        tokens, ``Hole(max_tokens=n)`` at most ``n`` (special tokens never).

    Returns
    -------
    bool
        Exact: never ``True`` for a template no completion of which is in the language, never
        ``False`` for one that has such a completion.

    Raises
    ------
    TypeError, ValueError
        A malformed template (see :func:`~corral.infill.template.pattern_of`), or a token id
        that is not a text token of the vocabulary.
    GrammarError
        The grammar has run-time ``uniqueItems`` checks.
    LimitExceeded
        The check went past ``Limits.max_infill_work`` steps.
    """
    chart = _chart(compiled, template, causes=False)
    return chart is not None and chart.completable


def complete(compiled: CompiledGrammar, template: Sequence[Part]) -> bytes | None:
    """One completion of ``template`` in ``compiled``'s language, ``None`` when there is none.

    The fixed parts appear in order, the holes filled; each lexeme the completion crosses a
    hole with is a shortest one for its place, so completions are short, not always the
    shortest. Parameters and errors as for :func:`is_completable`.
    """
    chart = _chart(compiled, template)
    return None if chart is None else chart.text()


def completable_bytes(compiled: CompiledGrammar, template: Sequence[Part]) -> bool:
    """:func:`is_completable` for fixed parts that may cut UTF-8 characters (token bytes)."""
    chart = _chart(compiled, template, utf8=False, causes=False)
    return chart is not None and chart.completable


def complete_bytes(compiled: CompiledGrammar, template: Sequence[Part]) -> bytes | None:
    """:func:`complete` for fixed parts that may cut UTF-8 characters (token bytes)."""
    chart = _chart(compiled, template, utf8=False)
    return None if chart is None else chart.text()
