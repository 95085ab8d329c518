"""``corral bench masks``: one run on a tiny sample writes its table, JSON and chart."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from corral.cli import main
from helpers import bench_dir


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(args, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def test_bench_masks_against_llguidance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["bench", "masks", "--data", str(bench_dir()), "--n", "2", "--instances", "1",
         "--split", "Glaiveai2K", "--engines", "corral,llguidance", "--out", str(tmp_path)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "2/2 schemas" in err  # the progress bar
    doc = json.loads((tmp_path / "masks.json").read_text())
    assert doc["args"]["engines"] == ["corral", "llguidance"]
    assert doc["args"]["splits"] == ["Glaiveai2K"]
    corral_masks = doc["engines"]["corral"]["mask_us"]
    assert corral_masks["count"] > 0 and corral_masks["p50"] > 0
    assert doc["engines"]["llguidance"]["mask_us"]["count"] == corral_masks["count"]
    assert "corral/llguidance" in doc["ratios"]
    assert doc["command"].startswith("corral bench masks --tokenizer smollm2 --n 2")
    assert (tmp_path / "masks.png").stat().st_size > 1000
    assert "| corral | mask |" in out and "| corral | mask |" in (tmp_path / "masks.md").read_text()


@pytest.mark.parametrize(
    "args",
    [["--n", "0"], ["--instances", "0"], ["--engines", "llguidance"], ["--engines", "corral,x"]],
)
def test_bench_masks_bad_arguments(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["bench", "masks", "--out", str(tmp_path), *args], capsys)
    assert code == 2 and err.strip()


def test_differing_tokens_match_unpacked_rows() -> None:
    """The bench names the first differing tokens from the differing words only; the same ids,
    in order, as unpacking both rows bit by bit, with which row has each."""
    import numpy as np

    from corral.jsonschemabench.masks import differing_tokens

    rng = np.random.default_rng(7)
    for _ in range(20):
        a = rng.integers(0, 2**32, size=40, dtype=np.uint64).astype(np.uint32)
        b = a.copy()
        for w in rng.choice(40, size=int(rng.integers(0, 6)), replace=False):
            b[w] ^= np.uint32(int(rng.integers(1, 2**32)))
        bits_a = np.unpackbits(a.view(np.uint8), bitorder="little")
        bits_b = np.unpackbits(b.view(np.uint8), bitorder="little")
        want = [(int(t), bool(bits_b[t])) for t in np.flatnonzero(bits_a ^ bits_b)[:16]]
        assert differing_tokens(a, b) == want
