"""Fuzz corral's front-ends (Lark, GBNF, regex, JSON Schema text) and what they compile to.

An input is one selector byte and a text: ``data[0] % 4`` picks the front-end (0 Lark, 1 GBNF,
2 regex, 3 JSON Schema given as text), ``data[0] & 0x80`` decodes the rest with
``surrogateescape`` (lone surrogates, as a command line's invalid UTF-8 becomes) instead of
``replace``. The text goes through ``Grammar.from_lark / from_gbnf / from_regex /
from_json_schema`` under small :class:`corral.limits.Limits`; what is accepted is compiled for
SmolLM2's tokenizer and walked for a few tokens (mask, accept, rollback). A
:class:`corral.errors.CorralError` is the expected way to refuse; any other exception is a
finding.

    python tests/fuzz/fuzz_frontends.py tests/fuzz/corpus -max_total_time=60   # atheris
    python tests/fuzz/fuzz_frontends.py --replay FILE_OR_DIR ...               # no atheris

Seed files (``tests/fuzz/corpus/``) start with the selector as an ASCII digit ``0``-``3``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FRONTENDS = ("lark", "gbnf", "regex", "json_schema")
MAX_TEXT = 20_000
STEPS = 4


def small_limits() -> Any:
    """Compile bounds small enough for one fuzz input to finish in about a second."""
    from corral.limits import Limits

    return Limits(
        compile_seconds=1.0,
        max_dfa_states=2_000,
        max_nfa_states=10_000,
        max_string_states=5_000,
        max_count_states=2_000,
        max_schema_bytes=MAX_TEXT,
        max_schema_depth=40,
        max_schema_nodes=2_000,
    )


def decode(data: bytes) -> tuple[str, str]:
    """The front-end name and text an input stands for."""
    if not data:
        return FRONTENDS[0], ""
    errors = "surrogateescape" if data[0] & 0x80 else "replace"
    return FRONTENDS[data[0] % 4], data[1 : MAX_TEXT + 1].decode("utf-8", errors)


def _with_limits(fn: Callable[..., Any], limits: Any) -> dict[str, Any]:
    """``{"limits": limits}`` if ``fn`` takes a ``limits`` keyword (the front-ends gain it)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {"limits": limits} if "limits" in params else {}


def make_target(tokenizer: Any) -> Callable[[bytes], None]:
    """The fuzz target: one input through a front-end, compilation and a short token walk."""
    import corral
    from corral.errors import CorralError

    limits = small_limits()
    constructors: dict[str, Callable[..., Any]] = {
        "lark": corral.Grammar.from_lark,
        "gbnf": corral.Grammar.from_gbnf,
        "regex": corral.Grammar.from_regex,
        "json_schema": corral.Grammar.from_json_schema,
    }
    options = {name: _with_limits(fn, limits) for name, fn in constructors.items()}
    compile_options = _with_limits(corral.compile, limits)

    def target(data: bytes) -> None:
        frontend, text = decode(data)
        try:
            grammar = constructors[frontend](text, **options[frontend])
            compiled = corral.compile(grammar, tokenizer, **compile_options)
            walk(corral.Matcher(compiled), data)
        except CorralError:
            return

    return target


def walk(matcher: Any, data: bytes) -> None:
    """A few steps of generation: mask, accept an allowed token chosen by ``data``, roll back."""
    for step in range(STEPS):
        allowed = matcher.allowed_tokens()
        if not allowed or matcher.is_terminated():  # terminated: the mask holds only EOS
            break
        choice = allowed[(data[step % len(data)] if data else 0) % len(allowed)]
        if not matcher.accept_token(choice):
            raise AssertionError(f"token {choice} was allowed but not accepted")
        matcher.forced_bytes()
        matcher.is_accepting()
    if step:
        matcher.rollback(1)
        matcher.allowed_tokens()


def replay(paths: list[str], target: Callable[[bytes], None]) -> int:
    """Run ``target`` on every file under ``paths``; return the number of inputs run."""
    count = 0
    for name in paths:
        path = Path(name)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            target(file.read_bytes())
            count += 1
    return count


def main(argv: list[str]) -> int:
    if argv[:1] == ["--replay"]:
        import corral

        count = replay(argv[1:], make_target(corral.Tokenizer.default()))
        print(f"replayed {count} inputs")
        return 0
    import atheris

    with atheris.instrument_imports(include=["corral"]):
        import corral
        import corral.constraint_engine
        import corral.grammars
    target = make_target(corral.Tokenizer.default())
    atheris.Setup([sys.argv[0], *argv], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
