"""The argument parser of ``corral`` and the checks argparse cannot express.

``mask``, ``check`` and ``match`` share one grammar-source group (exactly one of a grammar file
or shipped name, ``--regex``, ``--choices``, ``--json-schema``) and the JSON Schema options;
options that do not apply to the chosen source are usage errors (exit 2), never ignored.
"""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

import corral
from corral.cli.exits import EXIT_CODES_HELP, EXIT_USAGE, UsageError, printable

__all__ = ["DEFAULT_MAX_BYTES", "build_parser", "validate"]

DEFAULT_MAX_BYTES = 64 << 10
"""Default bound on the text ``corral match`` reads (64 KiB; ``--max-bytes`` raises it): the
reference matcher reads about 15 KB/s and keeps per-byte state for rollback."""

_SIZE = re.compile(r"([0-9]+)([KMG]i?B?)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

DESCRIPTION = """\
Grammar-constrained generation from the command line: which tokens a grammar allows after a
prefix (mask), whether a grammar compiles (check), whether a text is in its language (match),
what happens to each keyword of a JSON Schema (explain), and property-based conformance checks
of an engine (conformance), constrained generation with a model (generate) and
benchmarks (bench). Verdicts go to stdout, diagnostics to stderr."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {printable(message)} (see: {self.prog} --help)\n")


MAX_COUNT = 10**9
"""Largest count a numeric option takes (``--limit``)."""
MAX_EXAMPLES = 100_000
"""Largest ``--examples`` of ``conformance``."""


def _size(text: str) -> int:
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 4096, 64K, 16M, 1G)")
    value = int(m.group(1)) * _UNITS[(m.group(2) or "")[:1].lower()]
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


def _count(text: str) -> int:
    try:
        value = int(text) if len(text) <= 12 else MAX_COUNT + 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"at most {MAX_COUNT}: {text[:20]!r}")
    return value


def _examples(text: str) -> int:
    value = _count(text)
    if value > MAX_EXAMPLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_EXAMPLES} examples per check: {value}")
    return value


def _grammar_sources(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("grammar (exactly one)")
    src = group.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "grammar_pos", nargs="?", metavar="GRAMMAR",
        help="a .lark or .gbnf file, or a shipped grammar: json, json.gbnf, arithmetic, sql, c",
    )  # fmt: skip
    src.add_argument("--grammar", metavar="GRAMMAR", help="the same, as an option")
    src.add_argument("--regex", metavar="REGEX", help="a regular expression (whole-text match)")
    src.add_argument("--choices", nargs="+", metavar="STRING", help="the allowed strings")
    src.add_argument("--json-schema", metavar="FILE", help="a JSON Schema file (.json)")
    schema = p.add_argument_group("JSON Schema options (only with --json-schema)")
    schema.add_argument(
        "--lenient", action="store_true",
        help="compile despite keywords that cannot be enforced exactly (they are listed)",
    )  # fmt: skip
    schema.add_argument(
        "--whitespace", choices=("compact", "flexible"), default=None,
        help="whitespace between JSON tokens: none (compact, the default) or bounded runs",
    )  # fmt: skip


def _tokenizer(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--tokenizer", metavar="NAME|PATH",
        help=f"{what}: smollm2 (the default), qwen, or a .gguf, tokenizer.json or .tiktoken file",
    )  # fmt: skip


def _engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine", choices=("native", "reference"), default=None,
        help="the matcher: native (C, the default where built) or reference (pure Python, "
        "its specification; same answers)",
    )  # fmt: skip


def _add_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    mask = sub.add_parser(
        "mask", help="print the tokens a grammar allows after a prefix",
        description="Print the tokens the grammar allows after --prefix (exit 1: the prefix "
        "is rejected).", epilog=EXIT_CODES_HELP, formatter_class=argparse.RawTextHelpFormatter,
    )  # fmt: skip
    _grammar_sources(mask)
    _tokenizer(mask, "the vocabulary")
    _engine(mask)
    mask.add_argument("--prefix", default="", metavar="TEXT", help="text already generated")
    mask.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    mask.add_argument(
        "--limit", type=_count, metavar="N", help="list at most N tokens (the count is of all)"
    )

    check = sub.add_parser(
        "check", help="compile a grammar; print its sizes or the error",
        description="Compile the grammar and print its rules, terminals and automaton sizes, "
        "or the error (exit 4; 3 for a JSON Schema with refused keywords).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawTextHelpFormatter,
    )  # fmt: skip
    _grammar_sources(check)
    _tokenizer(check, "the vocabulary compiled for")
    _engine(check)

    match = sub.add_parser(
        "match", help="check that a text is in the grammar's language",
        description="Stream a text byte by byte through the grammar; print 'accepted' or the "
        "offset of the first rejected byte (exit 1).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawTextHelpFormatter,
    )  # fmt: skip
    _grammar_sources(match)
    text = match.add_argument_group("text (exactly one)")
    txt = text.add_mutually_exclusive_group(required=True)
    txt.add_argument("--text", metavar="TEXT", help="the text, as given (bytes, any encoding)")
    txt.add_argument("--file", metavar="PATH", help="a file with the text (- for stdin)")
    match.add_argument(
        "--max-bytes", type=_size, default=DEFAULT_MAX_BYTES, metavar="SIZE",
        help=f"read at most SIZE bytes, e.g. 64K, 16M (default {DEFAULT_MAX_BYTES} = 64K)",
    )  # fmt: skip
    _tokenizer(match, "the vocabulary compiled for (the verdict does not depend on it)")
    _engine(match)

    expl = sub.add_parser(
        "explain", help="what happens to each keyword of a JSON Schema (exit 3 if any is refused)",
        description="List each keyword occurrence of a JSON Schema: enforced, ignored (and why) "
        "or refused (and why).", epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )  # fmt: skip
    expl.add_argument("schema", metavar="SCHEMA", help="a JSON Schema file (.json)")
    expl.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    _conformance_parser(sub)
    from corral.cli.generate import add_generate_parser

    add_generate_parser(sub, _grammar_sources)
    from corral.cli.bench import add_bench_parser

    add_bench_parser(sub)


def _conformance_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    from corral.testing.checks import CHECKS
    from corral.testing.engines import ENGINE_NAMES

    conf = sub.add_parser(
        "conformance",
        help="property-based conformance checks of an engine on a grammar (exit 1: counterexample)",
        description="Property-based checks (soundness, compliance, forced bytes) of an engine "
        "on a grammar. Exit 0: all pass; 1: a counterexample; 2: an error.",
    )
    conf.add_argument(
        "grammar", metavar="GRAMMAR",
        help="a .lark/.gbnf file, a JSON Schema .json file, or json|arithmetic|sql|c",
    )  # fmt: skip
    conf.add_argument(
        "--engine", choices=(*ENGINE_NAMES, "all"), default="corral",
        help="the engine to check (default corral)",
    )  # fmt: skip
    conf.add_argument(
        "--examples",
        type=_examples,
        default=50,
        metavar="N",
        help="examples per check (default 50)",
    )
    conf.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    conf.add_argument(
        "--checks", nargs="+", choices=CHECKS, default=list(CHECKS), metavar="CHECK",
        help=f"which checks: {', '.join(CHECKS)} (default all)",
    )  # fmt: skip
    conf.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    _tokenizer(conf, "the vocabulary")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    p = _Parser(
        prog="corral", description=DESCRIPTION, epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("--version", action="version", version=f"corral {corral.__version__}")
    sub = p.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    _add_commands(sub)
    return p


def validate(args: argparse.Namespace) -> None:
    """Merge the grammar sources and refuse options that do not apply (:class:`UsageError`)."""
    if "grammar_pos" not in vars(args):
        return
    if args.grammar_pos is not None:
        args.grammar = args.grammar_pos
    if not args.json_schema:
        for option, given in (("--lenient", args.lenient), ("--whitespace", args.whitespace)):
            if given:
                raise UsageError(f"{option} applies only with --json-schema")
    if args.grammar:
        from corral.cli.inputs import resolve_grammar_path

        args.grammar = resolve_grammar_path(args.grammar)
