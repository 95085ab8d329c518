"""``corral generate`` and ``corral bench generate`` with the real model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from corral.cli import main

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "examples" / "product.schema.json"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(args, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def test_generate_json_schema_with_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["generate", "--json-schema", str(SCHEMA), "--prompt", "A bread as JSON.",
         "--max-tokens", "60", "--stats"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    jsonschema.validate(json.loads(out), json.loads(SCHEMA.read_text()))
    assert err.startswith("tokens: ") and "/s)" in err and "complete: yes" in err


def test_generate_regex_prompt_file_and_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Write a long number.")
    code, out, _ = run(
        ["generate", "--regex", "[0-9]{30}", "--prompt-file", str(prompt), "--max-tokens", "3",
         "--no-complete"],
        capsys,
    )  # fmt: skip
    assert code == 1 and out.strip().isdigit() and len(out.strip()) < 30
    code, out, _ = run(
        ["generate", "--regex", "[0-9]{1,30}", "--prompt-file", str(prompt), "--max-tokens", "3"],
        capsys,
    )  # fmt: skip
    assert code == 0 and out.strip().isdigit()


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["generate", "--regex", "a", "--prompt", "x", "--max-tokens", "0"], 2, "--max-tokens"),
        (["generate", "--regex", "a"], 2, "--prompt"),
        (["generate", "--regex", "a", "--prompt", "x", "--model", "nope"], 4, "smollm2"),
        (["generate", "--json-schema", "/nonexistent.json", "--prompt", "x"], 2, "nonexistent"),
    ],
)
def test_generate_errors(
    args: list[str], code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = run(args, capsys)
    assert got == code and out == ""
    assert err.startswith("error:") and words in err and "Traceback" not in err


def test_bench_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["bench", "generate", "--n", "2", "--max-tokens", "24", "--out", str(tmp_path)], capsys
    )
    assert code == 0, err
    doc = json.loads((tmp_path / "generation.json").read_text())
    conditions = {o["condition"] for o in doc["outcomes"]}
    assert conditions == {"unconstrained", "llama.cpp grammar", "corral", "corral loop"}
    assert len(doc["outcomes"]) == 8
    for name in ("corral", "corral loop"):
        summary = doc["summary"][name]
        assert summary["valid_of_compiled"] == 1.0
    assert "| corral |" in (tmp_path / "generation.md").read_text()
