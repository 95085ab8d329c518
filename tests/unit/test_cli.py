"""The ``corral`` command line: ``mask``, ``check`` and ``match``, their output and exit codes.

Exit codes: 0 success; 1 the input text is rejected; 2 usage (options, missing files, tokenizer);
4 a grammar error. Errors, hostile input and the process-level behaviour (Ctrl-C, ``--version``,
streaming) are in ``test_cli_errors.py``.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LIBRARY
from corral.cli import main
from corral.cli.inputs import CHUNK_BYTES
from corral.grammars import library_path
from corral.tokenizers import default_gguf_path

JSON_LARK = library_path("json.lark")
JSON_GBNF = library_path("json.gbnf")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def parse_mask(text: str) -> tuple[dict[int, str], dict[str, str]]:
    """Split ``mask`` text output into ``{id: label}`` and the trailing ``key: value`` lines."""
    tokens: dict[int, str] = {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        if "\t" in line:
            tid, label = line.split("\t", 1)
            tokens[int(tid)] = label
        else:
            key, value = line.split(": ", 1)
            info[key] = value
    return tokens, info


# --------------------------------------------------------------------------- mask
@pytest.fixture(scope="module")
def json_mask() -> tuple[int, str]:
    return run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": ')


def test_mask_text_after_key(json_mask: tuple[int, str]) -> None:
    code, text = json_mask
    assert code == 0
    tokens, info = parse_mask(text)
    labels = set(tokens.values())
    for s in ['"', *"0123456789", "[", "{", "true", "null", "false", "-", " ", "\\n", "\\t"]:
        assert s in labels, s
    for s in ("}", ":", ",", "]"):
        assert s not in labels, s
    assert int(info["count"]) == len(tokens) > 20
    assert info["accepting"] == "no"
    assert "<eos>" not in labels
    assert list(tokens) == sorted(tokens)


def test_mask_json_format(json_mask: tuple[int, str]) -> None:
    code, out = run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": ', "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"count", "accepting", "tokens"}
    assert doc["accepting"] is False
    tokens, info = parse_mask(json_mask[1])
    assert doc["count"] == int(info["count"]) == len(doc["tokens"])
    assert [t["id"] for t in doc["tokens"]] == list(tokens)
    by_text = {t["text"]: t for t in doc["tokens"]}
    assert by_text["true"]["bytes_hex"] == b"true".hex()
    assert '"' in by_text and "}" not in by_text
    assert not any(t["eos"] for t in doc["tokens"])


def test_mask_accepting_lists_eos() -> None:
    code, out = run("mask", "--grammar", JSON_LARK, "--prefix", "[1]", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["accepting"] is True
    assert [t["id"] for t in doc["tokens"] if t["eos"]] == [2]
    code, text = run("mask", "--grammar", JSON_LARK, "--prefix", "[1]")
    tokens, info = parse_mask(text)
    assert info["accepting"] == "yes"
    assert tokens[2] == "<eos>"


def test_mask_regex_and_limit() -> None:
    code, text = run("mask", "--regex", "[0-9]+")
    assert code == 0
    tokens, info = parse_mask(text)
    assert sorted(tokens.values()) == list("0123456789")  # SmolLM2 splits digits
    assert int(info["count"]) == 10
    code, text = run("mask", "--regex", "[a-z]+")
    assert code == 0
    tokens, info = parse_mask(text)
    assert len(tokens) == int(info["count"]) > 1000
    assert all(re.fullmatch("[a-z]+", label) for label in tokens.values())
    code, text = run("mask", "--regex", "[a-z]+", "--limit", "3")
    assert code == 0
    limited, info2 = parse_mask(text)
    assert list(limited) == list(tokens)[:3]
    assert info2["count"] == info["count"]  # the count is of all allowed tokens
    code, out = run("mask", "--regex", "[a-z]+", "--limit", "0", "--format", "json")
    doc = json.loads(out)
    assert doc["tokens"] == [] and doc["count"] == len(tokens)


def test_mask_choices_forced() -> None:
    code, text = run("mask", "--choices", "yes", "no", "maybe", "--prefix", "m")
    assert code == 0
    tokens, info = parse_mask(text)
    assert info["forced"] == "aybe"
    assert all("aybe".startswith(label) for label in tokens.values())
    assert "a" in tokens.values()
    code, out = run("mask", "--choices", "yes", "no", "--prefix", "y", "--format", "json")
    doc = json.loads(out)
    assert doc["forced"] == "es"
    assert {t["text"] for t in doc["tokens"]} <= {"e", "es"}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_mask_invalid_prefix(fmt: str) -> None:
    code, out = run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": }', "--format", fmt)
    assert code == 1
    if fmt == "json":
        doc = json.loads(out)
        assert doc["offset"] == 6 and "6" in doc["error"]
    else:
        assert "offset 6" in out
        assert out.startswith("error:")


def test_mask_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("mask", "--regex", "(?=a)b")
    assert code == 4  # a grammar error
    assert capsys.readouterr().err.startswith("error: --regex: ")
    code, _ = run("mask", "--regex", "a", "--tokenizer", "nonsense")
    assert code == 2
    assert "unknown tokenizer" in capsys.readouterr().err
    assert run("mask", "--regex", "a", "--choices", "b")[0] == 2  # mutually exclusive
    err = capsys.readouterr().err
    assert err.startswith("error: argument --choices: not allowed with argument --regex")
    assert err.count("\n") == 1
    assert run("mask", "--regex", "a", "--limit", "-1")[0] == 2
    assert "must not be negative" in capsys.readouterr().err


# --------------------------------------------------------------------------- check
@pytest.mark.parametrize("name", LIBRARY)
def test_check_library(name: str) -> None:
    path = library_path(name)
    code, out = run("check", path)
    assert code == 0
    assert re.match(
        r"compiled: [1-9]\d* automaton states, \d+ Earley items, 49152 tokens", out.splitlines()[1]
    )
    m = re.match(
        r"ok: (.+): (\d+) rules, (\d+) alternatives, (\d+) terminals \((\d+) ignored\)$",
        out.splitlines()[0],
    )
    assert m is not None, out
    assert m.group(1) == path
    assert int(m.group(2)) > 0 and int(m.group(4)) > 0
    assert int(m.group(3)) >= int(m.group(2))


@pytest.mark.parametrize(
    ("filename", "text", "needle"),
    [
        ("undef.lark", "start: value\nvalue: missing_rule\n", "missing_rule"),
        ("syntax.gbnf", 'root ::= "a" (\n', "syntax.gbnf: line 1"),
        ("unterminated.gbnf", 'root ::= "abc\n', "unterminated string"),
        ("empty.lark", "start: start\n", "language is empty"),
        ("grammar.txt", "start: 'a'\n", "unknown grammar file type"),
    ],
)
def test_check_broken_grammar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], filename: str, text: str, needle: str
) -> None:
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    code, out = run("check", str(path))
    assert code == 4
    assert out == ""
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1
    assert needle in err and str(path) in err


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("check", str(tmp_path / "nope.lark"))
    assert code == 2
    assert "nope.lark" in capsys.readouterr().err


# --------------------------------------------------------------------------- match
@pytest.mark.parametrize("grammar", [JSON_LARK, JSON_GBNF])
def test_match_text(grammar: str) -> None:
    doc = '{"a": [1, 2.5e-3, "é😀"], "b": null}'
    code, out = run("match", grammar, "--text", doc)
    assert code == 0
    assert out == f"accepted: {len(doc.encode('utf-8'))} bytes\n"
    code, out = run("match", grammar, "--text", '{"a": 1]')
    assert code == 1
    assert out.strip() == "rejected at byte offset 7"
    code, out = run("match", grammar, "--text", '{"a": 1')
    assert code == 1
    assert "ends early" in out and "offset 7" in out
    code, out = run("match", grammar, "--text", "")
    assert code == 1 and "offset 0" in out


@pytest.mark.parametrize("command", ["match", "mask", "check"])
def test_engine_option_gives_the_same_answers(command: str) -> None:
    extra = {
        "match": ["--text", '{"a": [1, 2'],
        "mask": ["--prefix", '{"a": [1, 2', "--limit", "5"],
        "check": [],
    }[command]
    outs = [run(command, JSON_LARK, "--engine", e, *extra) for e in ("native", "reference")]
    assert outs[0] == outs[1]
    assert outs[0][1]
    assert run(command, JSON_LARK, "--engine", "fast", *extra)[0] == 2


def test_match_file(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(b'[true, false,\n  {"k": "v\\n"}]\n')
    code, out = run("match", JSON_LARK, "--file", str(good))
    assert code == 0
    assert out.startswith(f"accepted: {len(good.read_bytes())} bytes")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"[1, 2,, 3]")
    code, out = run("match", JSON_LARK, "--file", str(bad))
    assert code == 1
    assert out.strip() == "rejected at byte offset 6"
    code, _ = run("match", JSON_LARK, "--file", str(tmp_path / "missing.json"))
    assert code == 2


def test_match_streams_long_file(tmp_path: Path) -> None:
    """Inputs longer than a chunk: the offset of the first rejected byte is of the whole file."""
    data = b"[" + b"1," * 3000
    path = tmp_path / "long.json"
    path.write_bytes(data + b"]")
    assert len(data) > CHUNK_BYTES
    code, out = run("match", JSON_LARK, "--file", str(path))
    assert code == 1 and out == f"rejected at byte offset {len(data)}\n"
    path.write_bytes(data + b"1]")
    assert run("match", JSON_LARK, "--file", str(path)) == (0, f"accepted: {len(data) + 2} bytes\n")


def test_shipped_grammars_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("check", "json")
    assert code == 0 and out.startswith(f"ok: {JSON_LARK}: ")
    code, out = run("check", "--grammar", "json.gbnf")
    assert code == 0 and out.startswith(f"ok: {JSON_GBNF}: ")
    assert run("match", "arithmetic", "--text", "1+2*3")[0] == 0
    assert run("mask", "--grammar", "sql", "--limit", "1")[0] == 0
    assert run("check", "no-such-grammar")[0] == 2
    err = capsys.readouterr().err
    assert "no-such-grammar" in err
    for name in ("json", "json.gbnf", "arithmetic", "sql", "c"):
        assert name in err


def test_tokenizer_gguf_path_and_qwen() -> None:
    gguf = default_gguf_path()
    assert gguf.endswith(".gguf")
    c1, t1 = run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": ', "--tokenizer", gguf)
    c2, t2 = run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": ')
    assert c1 == c2 == 0
    assert t1 == t2  # the default tokenizer is that file
    code, text = run("mask", "--grammar", JSON_LARK, "--prefix", '{"a": ', "--tokenizer", "qwen")
    assert code == 0
    tokens, info = parse_mask(text)
    labels = set(tokens.values())
    assert {'"', "0", "[", "{", "true", "null", " "} <= labels
    assert not {"}", ":", ","} & labels
    assert info["accepting"] == "no"
    assert max(tokens) > 49_152  # ids from Qwen's larger vocabulary
    code, out = run("match", JSON_GBNF, "--text", '{"ok": true}', "--tokenizer", "qwen")
    assert (code, out) == (0, "accepted: 12 bytes\n")


def test_entry_point_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run(
        [sys.executable, "-m", "corral.cli", "mask", "--choices", "yes", "no", "--prefix", "n"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    tokens, info = parse_mask(proc.stdout)
    assert info["count"] == str(len(tokens))
    assert set(tokens.values()) == {"o"}
    assert info["forced"] == "o"
    bad = tmp_path / "bad.lark"
    bad.write_text("start: nothing_here\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "corral.cli", "check", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: {bad}")
    assert "nothing_here" in proc.stderr and "Traceback" not in proc.stderr


def test_conformance_corral_on_json_gbnf_passes() -> None:
    code, text = run("conformance", library_path("json.gbnf"), "--examples", "3")
    assert code == 0, text
    assert text.count("PASS") == 3 and "json.gbnf" in text


def test_conformance_json_report_and_unsupported_engine(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "array", "items": {"type": "boolean"}, "maxItems": 2}))
    code, text = run(
        "conformance", str(schema), "--engine", "xgrammar", "--examples", "3", "--format", "json",
        "--checks", "soundness", "compliance",
    )  # fmt: skip
    body = json.loads(text)
    assert code == 0 and body["passed"], text
    assert [r["check"] for r in body["reports"]] == ["soundness", "compliance"]
    code, text = run("conformance", "arithmetic", "--engine", "xgrammar", "--examples", "2")
    assert code == 0 and "UNSUPPORTED" in text and "not lark" in text


def test_conformance_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("conformance", "no-such-grammar")[0] == 2
    assert "neither a grammar" in capsys.readouterr().err
