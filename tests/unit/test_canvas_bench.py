"""The decoding loops of ``corral bench infill`` (``corral.jsonschemabench.canvas_bench``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import smollm2
from corral import Grammar
from corral import compile as compile_grammar
from corral.jsonschemabench import canvas_bench
from helpers import PERSON_SCHEMA


def test_every_loop_sees_the_same_denoiser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mask, proposal and unconstrained loops each get a fresh denoiser of the same seed:
    one loop's denoiser calls do not change what the next one sees (they shared one stream,
    so a mask loop that ran longer changed the proposal loop's whole run)."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON_SCHEMA), smollm2())
    first: dict[str, np.ndarray] = {}
    generate = canvas_bench.diffusion_generate

    def recorded(compiled: Any, denoise: Any, length: int, *, mode: str, **kw: Any) -> Any:
        first[mode] = np.asarray(denoise([None] * length))  # one call more, in every mode
        return generate(compiled, denoise, length, mode=mode, **kw)

    monkeypatch.setattr(canvas_bench, "diffusion_generate", recorded)
    got = canvas_bench._loop(cg, 20, 5)
    assert set(first) == {"mask", "propose", "none"}
    assert np.array_equal(first["mask"], first["propose"])
    assert np.array_equal(first["mask"], first["none"])
    assert got["mask"]["in_language"] and got["propose"]["in_language"]
