"""The commands: ``mask``, ``check``, ``match``, ``explain`` and ``conformance``.

Each takes the parsed arguments, writes its verdict to ``out`` (stdout) and diagnostics to
``err`` (stderr), and returns the exit code (:mod:`corral.cli.exits`); errors are raised and
turned into ``error:`` lines by :func:`corral.cli.main`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from types import MappingProxyType
from typing import TextIO

from corral.cli.bench import cmd_bench
from corral.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_REJECTED, EXIT_USAGE, printable
from corral.cli.generate import cmd_generate
from corral.cli.inputs import (
    arg_bytes,
    grammar_label,
    load_grammar,
    load_schema,
    load_tokenizer,
    read_chunks,
)
from corral.cli.progress import with_progress
from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.matcher import Matcher
from corral.grammars.ir import Grammar

__all__ = ["COMMANDS"]


def _show(data: bytes) -> str:
    return repr(data)[2:-1]


def _compile(args: argparse.Namespace, err: TextIO) -> tuple[Grammar, CompiledGrammar]:
    def build() -> tuple[Grammar, CompiledGrammar]:
        grammar = load_grammar(args)
        tok = load_tokenizer(args.tokenizer)
        return grammar, compile_grammar(grammar, tok, engine=getattr(args, "engine", None))

    return with_progress(printable(grammar_label(args) or "grammar"), build, err)


def _mask_json(cg: CompiledGrammar, matcher: Matcher, ids: list[int], shown: list[int]) -> str:
    tokens = []
    for i in shown:
        data = cg.token_bytes(i) or b""
        tokens.append(
            {
                "id": i,
                "bytes_hex": data.hex(),
                "text": data.decode("utf-8", "backslashreplace"),
                "eos": i in cg.eos_ids,
            }
        )
    doc = {
        "count": len(ids),
        "accepting": matcher.is_accepting(),
        "forced": matcher.forced_bytes().decode("utf-8", "backslashreplace"),
        "tokens": tokens,
    }
    return json.dumps(doc, ensure_ascii=False) + "\n"


def cmd_mask(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral mask``: the tokens allowed after ``--prefix``."""
    _, cg = _compile(args, err)
    matcher = Matcher(cg)
    prefix = arg_bytes(args.prefix)
    if not matcher.accept_bytes(prefix):
        offset = matcher.valid_prefix_length(prefix)
        msg = f"prefix rejected at byte offset {offset}"
        if args.format == "json":
            out.write(json.dumps({"error": msg, "offset": offset}) + "\n")
        else:
            out.write(f"error: {msg}\n")
        return EXIT_REJECTED
    ids = matcher.allowed_tokens()
    shown = ids if args.limit is None else ids[: args.limit]
    if args.format == "json":
        out.write(_mask_json(cg, matcher, ids, shown))
        return EXIT_OK
    for i in shown:
        label = "<eos>" if i in cg.eos_ids else _show(cg.token_bytes(i) or b"")
        out.write(f"{i}\t{label}\n")
    out.write(f"count: {len(ids)}\n")
    out.write(f"accepting: {'yes' if matcher.is_accepting() else 'no'}\n")
    forced = matcher.forced_bytes()
    if forced:
        out.write(f"forced: {_show(forced)}\n")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral check``: compile; print the sizes, warnings and unenforced keywords."""
    grammar, cg = _compile(args, err)
    stats = cg.stats()
    what = printable(grammar_label(args) or "grammar")
    out.write(
        f"ok: {what}: {stats['rules']} rules, {stats['alternatives']} alternatives, "
        f"{stats['terminals']} terminals ({stats['ignored']} ignored)\n"
    )
    out.write(
        f"compiled: {stats['dfa_states']} automaton states, {stats['earley_items']} Earley "
        f"items, {stats['vocab_size']} tokens ({printable(args.tokenizer or 'smollm2')})\n"
    )
    if grammar.empty_reason is not None:
        out.write(
            f"empty language: {printable(grammar.empty_reason)} (every input is rejected; "
            "generation refuses to start)\n"
        )
    for warning in grammar.warnings:
        out.write(f"warning: {printable(str(warning))}\n")
    for issue in grammar.unenforced:
        out.write(f"not enforced (lenient): {printable(str(issue))}\n")
    return EXIT_OK


def cmd_match(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral match``: stream the text through a matcher; stop at the first rejected byte."""
    _, cg = _compile(args, err)
    matcher = Matcher(cg)
    total = 0
    for chunk in read_chunks(args):
        if not matcher.accept_bytes(chunk):
            offset = total + matcher.valid_prefix_length(chunk)
            out.write(f"rejected at byte offset {offset}\n")
            return EXIT_REJECTED
        total += len(chunk)
    if not matcher.is_accepting():
        out.write(f"rejected: input ends early (incomplete at byte offset {total})\n")
        return EXIT_REJECTED
    out.write(f"accepted: {total} bytes\n")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral explain``: each keyword of a JSON Schema, enforced or not and why.

    When compilation stops on an error, the keywords are listed all the same (those not reached
    as such) and the error ends the command.
    """
    from corral.grammars.json_schema import explain

    report = explain(load_schema(args.schema))
    refused = sum(not r.enforced for r in report)
    if args.format == "json":
        rows = [{"pointer": r.pointer, "keyword": r.keyword, "status": r.status} for r in report]
        out.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        for r in report:
            out.write(printable(f"{r.pointer or '/'}\t{r.keyword}\t{r.status}") + "\n")
        out.write(f"{len(report)} keyword occurrences, {refused} refused\n")
    error = getattr(report, "error", None)
    if isinstance(error, BaseException):
        raise error  # compilation stopped: the keywords not reached are listed as such
    if report.empty_reason is not None:
        err.write(f"note: {report.empty_reason}: every instance is invalid\n")
    if refused:
        err.write(
            f"note: {refused} keyword occurrence{'s' if refused != 1 else ''} refused: mask, "
            "check and match refuse this schema unless given --lenient\n"
        )
        return EXIT_REFUSED
    return EXIT_OK


def cmd_conformance(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral conformance`` (the suite is :mod:`corral.testing`)."""
    from corral.errors import GrammarError
    from corral.testing.cli_report import run_command
    from corral.testing.engines import EngineNotInstalled

    try:
        return run_command(
            args.grammar, load_tokenizer(args.tokenizer), engines=[args.engine],
            examples=args.examples, seed=args.seed, checks=args.checks, fmt=args.format, out=out,
        )  # fmt: skip
    except GrammarError:
        raise
    except (EngineNotInstalled, ValueError) as exc:
        err.write(f"error: {printable(str(exc))}\n")
        return EXIT_USAGE


COMMANDS: MappingProxyType[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = (
    MappingProxyType(
        {
            "mask": cmd_mask,
            "check": cmd_check,
            "match": cmd_match,
            "explain": cmd_explain,
            "conformance": cmd_conformance,
            "generate": cmd_generate,
            "bench": cmd_bench,
        }
    )
)
"""Command name → handler ``(args, out, err) -> exit code``."""
