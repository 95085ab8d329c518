"""The command line's hard edges: one ``error:`` line and the right exit code for any input.

Exit codes: 0 ok, 1 rejected, 2 usage, 3 refused, 4 grammar/schema error (or an unexpected
failure), 130 interrupted. In-process tests call ``corral.cli.main``; exit codes, stderr, argv
bytes and Ctrl-C are also checked on a real process.
"""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import corral
from corral.cli import build_parser, main
from corral.cli.progress import with_progress
from corral.errors import GrammarError
from corral.grammars.ir import Grammar


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def diagnostics(capsys: pytest.CaptureFixture[str]) -> str:
    """What was written to stderr, less the "compiling NAME... done in" notes of slow compiles."""
    lines = capsys.readouterr().err.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("compiling "))


def corral_process(*argv: str | bytes, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("CORRAL_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", *argv],
        env=env, capture_output=True, timeout=180, check=False, **kwargs,
    )  # fmt: skip


# --------------------------------------------------------------------------- help and version
def test_version_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--version") == (0, f"corral {corral.__version__}\n")


def test_every_argument_has_plain_help() -> None:
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    assert isinstance(subs, dict)
    assert set(subs) == {"mask", "check", "match", "explain", "conformance", "generate", "bench"}
    for name, sub in subs.items():
        text = sub.format_help()
        assert "``" not in text and "`" not in text and ":class:" not in text, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"
    for name in ("mask", "check", "match"):
        text = subs[name].format_help()
        for option in ("--grammar GRAMMAR", "--regex REGEX", "--choices", "--json-schema FILE"):
            assert option in text, (name, option)
    assert "--max-bytes SIZE" in subs["match"].format_help()
    code, text = run("match", "--help")
    assert code == 0 and text.startswith("usage: corral match") and "exit codes:" in text


# --------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["match", "json", "--text", "1", "--file", "x"], "not allowed with argument --text"),
        (["match", "json"], "one of the arguments --text --file is required"),
        (["match", "json", "--text", "1", "--max-bytes", "lots"], "not a size"),
        (["match", "json", "--text", "12", "--max-bytes", "1"], "longer than --max-bytes 1"),
        (["mask", "--regex", "\udcff"], "--regex: not valid UTF-8"),
        (["mask", "--choices", "a", "--tokenizer", "gpt9"], "unknown tokenizer 'gpt9'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out = run(*argv)
    err = diagnostics(capsys)
    assert (code, out) == (2, ""), err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert needle in err


def test_max_bytes_text_rejected_before_the_bound(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("match", "json", "--text", "]]]]", "--max-bytes", "2") == (
        1,
        "rejected at byte offset 0\n",
    )
    assert run("match", "--regex", "a*", "--text", "aaaa", "--max-bytes", "3")[0] == 2
    assert "its first 3 bytes are a valid prefix" in diagnostics(capsys)


# --------------------------------------------------------------------------- bytes as given
def test_text_and_prefix_are_bytes_as_given() -> None:
    # "\udcff" is how Python spells the byte 0xff of an argv that is not UTF-8
    assert run("match", "json", "--text", '["a\udcff"]') == (1, "rejected at byte offset 3\n")
    assert run("match", "--regex", "(.|\n)*", "--text", "\udcff")[0] == 1
    code, out = run("mask", "json", "--prefix", "[\udcff")
    assert (code, out) == (1, "error: prefix rejected at byte offset 1\n")
    assert run("match", "--choices", "é", "--text", "é") == (0, "accepted: 2 bytes\n")


# --------------------------------------------------------------------------- grammar files
def test_grammar_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "random.lark"
    path.write_bytes(b'start: "a"\n' + bytes(range(256)))
    assert run("check", str(path)) == (4, "")
    assert diagnostics(capsys) == f"error: {path}:3:118: not valid UTF-8 (byte 0x80)\n"


def test_deep_nesting_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lark = tmp_path / "deep.lark"
    lark.write_text("start: " + "(" * 10_000 + '"a"' + ")" * 10_000 + "\n", encoding="utf-8")
    schema = tmp_path / "deep.json"
    schema.write_text('{"items":' * 10_000 + "{}" + "}" * 10_000, encoding="utf-8")
    for argv, name in (
        (["check", str(lark)], lark),
        (["check", "--json-schema", str(schema)], schema),
    ):
        assert run(*argv) == (4, "")
        err = diagnostics(capsys)
        assert err.startswith(f"error: {name}: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- the last resort
@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (RecursionError("maximum recursion depth exceeded"), 4, "nested too deeply"),
        (MemoryError(), 4, "out of memory"),
        (RuntimeError("boom"), 4, "unexpected RuntimeError: boom (CORRAL_DEBUG=1"),
        (GrammarError("bad rule", line=3), 4, "bad rule (line 3)"),
        (GrammarError("bad value", pointer="/properties/a"), 4, "bad value (at /properties/a)"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_any_exception_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    needle: str,
) -> None:
    def boom(*args: object, **kwargs: object) -> Grammar:
        raise exc

    monkeypatch.setattr(Grammar, "from_lark", boom)
    monkeypatch.delenv("CORRAL_DEBUG", raising=False)
    assert run("check", "arithmetic") == (code, "")
    err = diagnostics(capsys)
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err
    if code == 4:
        assert "arithmetic.lark: " in err
    monkeypatch.setenv("CORRAL_DEBUG", "1")
    if isinstance(exc, KeyboardInterrupt):
        assert run("check", "arithmetic")[0] == 130  # Ctrl-C is never a traceback
        return
    with pytest.raises(type(exc)):
        main(["check", "arithmetic"], out=io.StringIO())


def test_broken_pipe_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError

    assert main(["mask", "--choices", "a", "b"], out=Closed()) == 141
    assert diagnostics(capsys) == ""


# --------------------------------------------------------------------------- progress
class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_notes() -> None:
    def slow() -> int:
        time.sleep(0.3)
        return 7

    tty = FakeTTY()
    assert with_progress("g.lark", slow, tty, after=0.05) == 7
    assert tty.getvalue().startswith("compiling g.lark... done in ")
    assert tty.getvalue().endswith(" s\n") and tty.getvalue().count("\n") == 1
    plain = io.StringIO()
    assert with_progress("g.lark", slow, plain, after=0.05) == 7
    assert plain.getvalue().startswith("compiling g.lark... done in ")
    quiet = FakeTTY()
    assert with_progress("g.lark", lambda: 1, quiet, after=5.0) == 1
    assert quiet.getvalue() == ""

    def failing() -> int:
        time.sleep(0.3)
        raise GrammarError("no")

    tty = FakeTTY()
    with pytest.raises(GrammarError):
        with_progress("g.lark", failing, tty, after=0.05)
    assert tty.getvalue() == "compiling g.lark... failed\n"


# --------------------------------------------------------------------------- real processes
def test_process_version_and_argv_bytes() -> None:
    proc = corral_process("--version")
    assert (proc.returncode, proc.stdout) == (0, f"corral {corral.__version__}\n".encode())
    proc = corral_process("match", "json", "--text", b'["a\xff"]')
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == b"rejected at byte offset 3\n"
    assert b"Traceback" not in proc.stderr and b"surrogates" not in proc.stderr


def test_process_bad_utf8_and_grammar_errors(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.gbnf"
    bad.write_bytes('root ::= "caf\xe9"\n'.encode("latin-1"))
    broken = tmp_path / "broken.lark"
    broken.write_text("start: (((\n", encoding="utf-8")
    for path, needle in ((bad, f"{bad}:1:14: not valid UTF-8"), (broken, f"{broken}")):
        proc = corral_process("check", str(path))
        assert proc.returncode == 4 and proc.stdout == b""
        err = proc.stderr.decode()
        assert err.startswith(f"error: {needle}") and err.count("\n") == 1, err


def test_process_dev_zero_is_streamed_and_bounded() -> None:
    start = time.monotonic()
    proc = corral_process("match", "--regex", "\\x00*", "--file", "/dev/zero", "--max-bytes", "8K")
    assert time.monotonic() - start < 120
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.endswith(
        b"error: /dev/zero: longer than --max-bytes 8192 (its first 8192 bytes are a valid "
        b"prefix)\n"
    )
    proc = corral_process("match", "json", "--file", "-", "--max-bytes", "1G", input=b"[1,\0]")
    assert (proc.returncode, proc.stdout) == (1, b"rejected at byte offset 3\n")


def _slow_grammar(tmp_path: Path, rules: int = 2000) -> Path:
    """A Lark grammar whose compilation takes several seconds (Earley tables of many rules)."""
    body = "".join(f'r{i}: "k{i}" r{(i + 1) % rules}?\n' for i in range(rules))
    path = tmp_path / "slow.lark"
    path.write_text("start: " + " | ".join(f"r{i}" for i in range(rules)) + "\n" + body)
    return path


def test_process_ctrl_c_during_compile(tmp_path: Path) -> None:
    """SIGINT while compiling: exit 130, "interrupted", no traceback; stderr is a terminal, so
    the live "compiling..." note shows when the compile has run for a second."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("CORRAL_DEBUG", None)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "corral.cli", "match", str(_slow_grammar(tmp_path)), "--text", "k1"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"compiling" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        assert b"compiling" in seen, seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"Traceback" not in seen
    assert seen.replace(b"\r\n", b"\n").endswith(b" interrupted\nerror: interrupted\n"), seen
    assert proc.stdout is not None and proc.stdout.read() == b""


def test_generate_template_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template without a hole, or an empty marker: usage errors before any model loads."""
    template = tmp_path / "t.txt"
    template.write_text("no hole here")
    for extra, words in (
        (["--template", str(template)], "no hole"),
        (["--template", str(template), "--hole-marker", ""], "--hole-marker"),
    ):
        code = main(["generate", "--regex", "a", "--prompt", "x", *extra], out=io.StringIO())
        err = capsys.readouterr().err
        assert code == 2 and words in err and "Traceback" not in err
