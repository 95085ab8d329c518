"""The ``corral`` command line: ``mask``, ``check``, ``match``, ``explain``, ``conformance``,
``generate`` and ``bench``.

Verdicts go to stdout, diagnostics to stderr. Every failure is one ``error:`` line on stderr
naming the file (and, where known, the line and column or the JSON pointer), never a traceback
(``CORRAL_DEBUG=1`` re-raises, for developers). Exit codes (:mod:`corral.cli.exits`): 0 success;
1 rejected (``match``, ``mask --prefix``); 2 usage; 3 refused (a JSON Schema with keywords that
cannot be enforced exactly; ``--lenient`` compiles without them); 4 grammar or schema error, or
an unexpected failure; 130 interrupted (Ctrl-C). ``conformance``: 0 all checks pass, 1 a
counterexample, 2 errors. ``generate``: 0 the output is complete, 1 it was cut by
``--max-tokens`` (only with ``--no-complete``).

Modules: :mod:`~corral.cli.parser` (arguments), :mod:`~corral.cli.inputs` (files, shipped
grammars, tokenizers, texts), :mod:`~corral.cli.commands`, :mod:`~corral.cli.generate` and
:mod:`~corral.cli.bench` (generation with a model), :mod:`~corral.cli.progress` (stderr notes for
long compiles), :mod:`~corral.cli.exits` (exit codes and error lines).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from corral.cli.exits import EXIT_BROKEN_PIPE, EXIT_USAGE, debug_enabled, describe
from corral.cli.inputs import grammar_label, load_tokenizer
from corral.cli.parser import build_parser, validate

__all__ = ["build_parser", "load_tokenizer", "main"]


def _parse(argv: Sequence[str] | None, out: TextIO) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse chose (``--help``, ``--version``, errors)."""
    try:
        with contextlib.redirect_stdout(out):
            return build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _silence_stdout() -> None:
    """After a broken pipe on stdout: point it at /dev/null so the final flush stays quiet."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv:
        The arguments (default ``sys.argv[1:]``).
    out:
        Where verdicts go (default stdout); diagnostics go to ``sys.stderr``.
    """
    out = out if out is not None else sys.stdout
    err = sys.stderr
    args: argparse.Namespace | None = None
    try:
        from corral.cli.commands import COMMANDS

        parsed = _parse(argv, out)
        if isinstance(parsed, int):
            return parsed
        args = parsed
        validate(args)
        return COMMANDS[args.command](args, out, err)
    except BrokenPipeError:
        if out is sys.stdout:
            _silence_stdout()
        return EXIT_BROKEN_PIPE
    except BaseException as exc:
        if isinstance(exc, SystemExit) or (debug_enabled() and isinstance(exc, Exception)):
            raise
        subject = grammar_label(args) if args is not None else None
        failure = describe(exc, subject)
        err.write(f"error: {failure.message}\n")
        for line in failure.details:
            err.write(f"  {line}\n")
        err.flush()
        return failure.code
