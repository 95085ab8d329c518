"""``corral generate`` and ``corral bench generate`` with the real model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from corral.backends.api import Model
from corral.cli import main
from corral.jsonschemabench.generation import is_valid, sample_cases, write_results
from corral.jsonschemabench.generation_hf import run_hf_generation_bench
from helpers import bench_dir

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
    """Every compiled schema's output is valid: guaranteed completion needs a budget that holds
    the shortest valid output (88 SmolLM2 tokens for the second sampled schema, Snowplow
    sp_236), so the budget is 128."""
    code, _, err = run(
        ["bench", "generate", "--n", "2", "--max-tokens", "128", "--out", str(tmp_path)], capsys
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


def test_bench_generate_transformers(hf: Model, tmp_path: Path) -> None:
    """The transformers half: corral, its loop, XGrammar and llguidance beside unconstrained."""
    cases = sample_cases(bench_dir(), 1, 0)
    outcomes = run_hf_generation_bench(hf, cases, max_tokens=16)
    by = {o.condition: o for o in outcomes}
    assert set(by) == {"unconstrained", "corral", "corral loop", "xgrammar", "llguidance"}
    for name in ("corral", "corral loop"):
        assert by[name].compiled and by[name].valid and by[name].tokens <= 16
    assert by["corral loop"].forced_tokens > 0
    loop = by["corral loop"]
    assert 0 < len(loop.step_ms) < loop.tokens and all(ms > 0 for ms in loop.step_ms)
    summary = write_results(outcomes, tmp_path, {"n": 1}, stem="generation_hf", title="t")
    assert summary["corral"]["valid_of_compiled"] == 1.0
    assert "| xgrammar |" in (tmp_path / "generation_hf.md").read_text()


def test_bench_generate_bad_threads(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["bench", "generate", "--runtime", "transformers", "--threads", "0"],
                         capsys)  # fmt: skip
    assert code == 2 and out == "" and "--threads" in err and "Traceback" not in err


def test_validity_reads_numbers_as_decimals_on_request() -> None:
    schema = {"type": "number", "multipleOf": 0.01}
    assert not is_valid("10000.89", schema)  # binary floats: 10000.89 / 0.01 is not whole
    assert is_valid("10000.89", schema, decimal=True)
    assert not is_valid("10000.891", schema, decimal=True)
    assert not is_valid("[1", schema, decimal=True)


def test_generate_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--template``: the model fills each hole; the whole is valid and keeps the fixed text."""
    schema = {
        "type": "object", "additionalProperties": False, "required": ["name", "tags", "age"],
        "properties": {"name": {"type": "string"}, "tags": {"type": "array",
                       "items": {"type": "string"}}, "age": {"type": "integer", "minimum": 0}},
    }  # fmt: skip
    schema_file = tmp_path / "person.json"
    schema_file.write_text(json.dumps(schema))
    template = tmp_path / "person.template"
    template.write_text('{"name":▢,"tags":[▢],"age":▢}\n', encoding="utf-8")
    code, out, err = run(
        ["generate", "--json-schema", str(schema_file), "--template", str(template),
         "--prompt", "Alice, 30, likes tennis and chess. As JSON.", "--max-tokens", "16"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    value = json.loads(out)
    jsonschema.validate(value, schema)
    text = out.strip()
    assert text.startswith('{"name":') and ',"tags":[' in text and text.endswith("}")
    code, out, err = run(
        ["generate", "--json-schema", str(schema_file), "--template", str(template),
         "--template-masks", "--prompt", "Bob, 41, likes golf. As JSON.", "--max-tokens", "8"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    jsonschema.validate(json.loads(out), schema)
    assert out.strip().startswith('{"name":') and ',"tags":[' in out
