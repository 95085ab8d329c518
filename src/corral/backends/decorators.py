"""Decorators on generation functions.

* :func:`function` — the function's docstring (or a ``prompt=`` template) is the prompt, its
  arguments fill the template's ``{name}`` fields, and its return annotation is the constraint:
  calling it generates with the model and returns a validated value of that type (the feel of
  magentic's ``@prompt`` or marvin's ``@fn``; here the grammar guarantees the output's shape).
* :func:`constrained` — on the user's own generation function that takes a ``logits_processor``
  argument (a transformers ``generate`` call or a llama-cpp-python call): each call gets a fresh
  processor for the constraint.

Everything that can be checked is checked at decoration time: the annotation, the template's
fields against the signature, and the constraint's grammar.
"""

from __future__ import annotations

import functools
import inspect
import string
import typing
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from corral.backends.api import Model, as_model, constraint_grammar, generate
from corral.backends.types import constraint_for_type
from corral.grammars.ir import Grammar

__all__ = ["constrained", "function"]

P = ParamSpec("P")
R = TypeVar("R")


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise ValueError(f"bad prompt template: {exc}") from exc


def function(
    model: Any,
    *,
    prompt: str | None = None,
    system: str | None = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    seed: int | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a typed, documented function into a constrained generation call.

    Parameters
    ----------
    model:
        As for :func:`corral.generate`; a path or ``"smollm2"`` is loaded once, at decoration.
    prompt:
        Template of the user message, with ``{argument}`` fields; default: the docstring.
    system, max_tokens, temperature, seed:
        As for :func:`corral.generate`.

    Raises
    ------
    TypeError
        At decoration: no return annotation, a type that cannot be a constraint, no prompt, or
        template fields that are not parameters of the function.
    """
    mdl = as_model(model)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except NameError as exc:
            raise TypeError(f"cannot resolve the annotations of {fn.__qualname__}: {exc}") from exc
        if "return" not in hints:
            raise TypeError(f"{fn.__qualname__} needs a return annotation: the output's type")
        constraint = constraint_for_type(hints["return"])
        template = prompt if prompt is not None else inspect.getdoc(fn)
        if not template:
            raise TypeError(f"{fn.__qualname__} needs a docstring or prompt=: the prompt")
        signature = inspect.signature(fn)
        unknown = _template_fields(template) - set(signature.parameters)
        if unknown:
            raise TypeError(
                f"prompt fields {sorted(unknown)} are not parameters of {fn.__qualname__}"
            )
        mdl.compile(constraint.grammar)

        @functools.wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            text = generate(
                mdl,
                template.format(**bound.arguments),
                grammar=constraint.grammar,
                system=system,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
            )
            value: R = constraint.parse(text)
            return value

        return call

    return decorate


def constrained(
    *,
    schema: Any = None,
    grammar: Grammar | str | None = None,
    regex: str | None = None,
    choices: Sequence[str] | None = None,
    type: Any = None,
    model: Any,
    max_tokens: int | None = None,
    complete_on_budget: bool = True,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Inject a fresh grammar-enforcing ``logits_processor`` into each call of a function.

    Parameters
    ----------
    schema, grammar, regex, choices, type:
        Exactly one constraint, as for :func:`corral.generate`.
    model:
        What the function generates with: a ``llama_cpp.Llama`` (the processor is a
        ``LogitsProcessorList`` of a :class:`~corral.backends.llama_cpp.LlamaLogitsProcessor`),
        an ``(hf_model, hf_tokenizer)`` pair (a list of one
        :class:`~corral.backends.transformers.HFLogitsProcessor`) or a :class:`Model`.
    max_tokens, complete_on_budget:
        The budget the function uses, for guaranteed completion.

    Raises
    ------
    TypeError
        At decoration, when the function has no ``logits_processor`` parameter or the
        constraint keywords are wrong.
    """
    target = constraint_grammar(
        schema=schema, grammar=grammar, regex=regex, choices=choices, type=type
    )
    mdl: Model = as_model(model)
    compiled = mdl.compile(target)

    def processor() -> Any:
        if mdl.runtime.name == "llama.cpp":
            from llama_cpp import LogitsProcessorList

            from corral.backends.llama_cpp import LlamaLogitsProcessor

            return LogitsProcessorList(
                [
                    LlamaLogitsProcessor(
                        compiled, max_tokens=max_tokens, complete_on_budget=complete_on_budget
                    )
                ]
            )
        from corral.backends.transformers import HFLogitsProcessor

        return [
            HFLogitsProcessor(
                compiled, max_tokens=max_tokens, complete_on_budget=complete_on_budget
            )
        ]

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        if "logits_processor" not in inspect.signature(fn).parameters:
            raise TypeError(f"{fn.__qualname__} has no logits_processor parameter to inject")

        @functools.wraps(fn)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            kwargs["logits_processor"] = processor()
            return fn(*args, **kwargs)

        return call

    return decorate
