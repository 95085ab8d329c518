"""The command line with JSON Schemas: ``explain``, ``check``, ``mask`` and ``match``.

Exit codes (``corral.cli``): 0 success, 1 text rejected, 2 usage (a missing file, an option that
needs ``--json-schema``), 3 refused keywords (``explain``, and ``check``/``mask``/``match`` without
``--lenient``), 4 a schema that is not valid (not JSON, not UTF-8, a bad keyword value).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from corral.cli import main

PERSON = {
    "type": "object",
    "title": "person",
    "properties": {"age": {"type": "integer", "minimum": 0}, "name": {"type": "string"}},
    "required": ["age"],
    "additionalProperties": False,
}
REFUSED = {
    "type": "object",
    "properties": {"a": {"type": "integer"}},
    "unevaluatedProperties": False,
}


def write(tmp_path: Path, schema: Any, name: str = "schema.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema), encoding="utf-8")
    return str(path)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_explain_all_enforced(tmp_path: Path) -> None:
    code, text = run("explain", write(tmp_path, PERSON))
    assert code == 0
    lines = text.splitlines()
    assert "/\ttype\tenforced" in lines
    assert "/properties/age\tminimum\tenforced" in lines
    assert any(line.startswith("/\ttitle\tignored") for line in lines)
    assert lines[-1].endswith(", 0 refused")


def test_explain_refused_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("explain", write(tmp_path, REFUSED))
    assert code == 3
    assert "--lenient" in capsys.readouterr().err
    assert any(line.startswith("/\tunevaluatedProperties\trefused") for line in text.splitlines())
    assert text.splitlines()[-1].endswith(", 1 refused")


def test_explain_json_format(tmp_path: Path) -> None:
    code, text = run("explain", write(tmp_path, REFUSED), "--format", "json")
    assert code == 3
    rows = json.loads(text)
    assert {"pointer", "keyword", "status"} == set(rows[0])
    by_key = {(r["pointer"], r["keyword"]): r["status"] for r in rows}
    assert by_key[("", "type")] == "enforced"
    assert by_key[("", "unevaluatedProperties")].startswith("refused")
    code, text = run("explain", write(tmp_path, PERSON), "--format", "json")
    assert code == 0
    assert all(not r["status"].startswith("refused") for r in json.loads(text))


def test_explain_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "type": not json', encoding="utf-8")
    assert run("explain", str(bad))[0] == 4
    assert capsys.readouterr().err == f"error: {bad}:2:11: not valid JSON: Expecting value\n"
    assert run("explain", str(tmp_path / "missing.json"))[0] == 2
    assert "missing.json: No such file" in capsys.readouterr().err
    path = write(tmp_path, {"type": 5})
    assert run("explain", path)[0] == 4
    assert capsys.readouterr().err.startswith(f"error: {path}: ")


def test_schema_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"enum": ["café"]}'.encode("latin-1"))
    for argv in (["explain", str(path)], ["check", "--json-schema", str(path)]):
        assert run(*argv) == (4, "")
        err = capsys.readouterr().err
        assert err == f"error: {path}:1:15: not valid UTF-8 (byte 0xe9)\n"


def test_schema_errors_name_the_pointer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"properties": {"a": {"type": 5}}})
    assert run("check", "--json-schema", path)[0] == 4
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and "/properties/a" in err


def test_schema_options_need_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    for option, argv in (
        ("--lenient", ["check", "--regex", "a", "--lenient"]),
        ("--whitespace", ["match", "json", "--whitespace", "flexible", "--text", "1"]),
        ("--whitespace", ["mask", "--choices", "a", "--whitespace", "compact"]),
    ):
        assert run(*argv) == (2, "")
        assert capsys.readouterr().err == f"error: {option} applies only with --json-schema\n"


def test_json_file_as_grammar_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PERSON)
    assert run("check", path)[0] == 2
    assert f"--json-schema {path}" in capsys.readouterr().err


def test_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, PERSON)
    code, text = run("check", "--json-schema", path)
    assert code == 0
    assert text.startswith(f"ok: {path}: ")
    assert "not enforced" not in text


def test_check_refused_lists_issues(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, REFUSED)
    code, text = run("check", "--json-schema", path)
    assert code == 3
    assert text == ""
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"error: {path}: JSON Schema not enforceable exactly: 1 keyword")
    assert "--lenient" in lines[0]
    assert lines[1].startswith("  refused: /: unevaluatedProperties: ")
    assert len(lines) == 2


def test_check_lenient(tmp_path: Path) -> None:
    code, text = run("check", "--json-schema", write(tmp_path, REFUSED), "--lenient")
    assert code == 0
    lenient = [line for line in text.splitlines() if line.startswith("not enforced (lenient): ")]
    assert len(lenient) == 1
    assert "unevaluatedProperties" in lenient[0]


def test_mask_after_prefix(tmp_path: Path) -> None:
    path = write(tmp_path, PERSON)
    code, text = run("mask", "--json-schema", path, "--prefix", '{"age":', "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert doc["accepting"] is False
    assert doc["count"] == len(doc["tokens"]) > 0
    for t in doc["tokens"]:
        assert not t["eos"]
        assert t["text"][0] in "0123456789", t
    code, text = run("mask", "--json-schema", path, "--prefix", '{"age":12}')
    assert code == 0
    assert "accepting: yes" in text.splitlines()
    assert "<eos>" in text


def test_mask_forced_and_rejected_prefix(tmp_path: Path) -> None:
    path = write(tmp_path, PERSON)
    code, text = run("mask", "--json-schema", path)
    assert code == 0
    assert 'forced: {"age":' in text
    code, text = run("mask", "--json-schema", path, "--prefix", '{"name":')
    assert code == 1
    assert text.startswith("error: prefix rejected at byte offset")


def test_mask_refused_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("mask", "--json-schema", write(tmp_path, REFUSED))[0] == 3
    assert "unevaluatedProperties" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "whitespace", "code"),
    [
        ('{"age":30,"name":"Ann"}', "compact", 0),
        ('{"age":30}', "compact", 0),
        ('{"name":"Ann","age":30}', "compact", 1),
        ('{"age":-1}', "compact", 1),
        ('{"age":30,"x":1}', "compact", 1),
        ('{"age": 30}', "compact", 1),
        ('{"age":30', "compact", 1),
        ('{ "age": 30 }', "flexible", 0),
        ('{\n  "age": 30,\n  "name": "Ann"\n}\n', "flexible", 0),
    ],
)
def test_match(tmp_path: Path, text: str, whitespace: str, code: int) -> None:
    path = write(tmp_path, PERSON)
    got, out = run("match", "--json-schema", path, "--whitespace", whitespace, "--text", text)
    assert got == code
    assert out.startswith("accepted" if code == 0 else "rejected")


def test_match_lenient(tmp_path: Path) -> None:
    path = write(tmp_path, REFUSED)
    assert run("match", "--json-schema", path, "--text", '{"a":1}')[0] == 3
    assert run("match", "--json-schema", path, "--lenient", "--text", '{"a":1,"b":2}')[0] == 0
    assert run("match", "--json-schema", path, "--lenient", "--text", '{"a":"x"}')[0] == 1


def test_a_schema_no_value_satisfies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It compiles (the empty language): check says so, match rejects, explain notes it."""
    path = write(tmp_path, {"allOf": [{"type": "string"}, {"type": "integer"}]})
    code, text = run("check", "--json-schema", path)
    assert code == 0 and "empty language: the schema admits no JSON value" in text
    code, _ = run("match", "--json-schema", path, "--text", '"a"')
    assert code == 1
    code, _ = run("explain", path)
    assert code == 0 and "every instance is invalid" in capsys.readouterr().err
