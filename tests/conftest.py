"""Shared fixtures: the real default tokenizer (SmolLM2, 49,152 tokens) and compiled grammars."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from corral import Grammar, Tokenizer
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.grammars import library_path

REPO = Path(__file__).resolve().parents[1]

# Where the conformance data live in this checkout (corral itself only takes them as parameters
# or from these variables); a value already set in the environment wins.
os.environ.setdefault("CORRAL_JSONSCHEMABENCH", str(REPO.parent / "shared" / "jsonschemabench"))
os.environ.setdefault("CORRAL_TEST_SUITE_SDIST", str(REPO / ".cache" / "jsonschema-4.26.0.tar.gz"))

LIBRARY = ["json.lark", "json.gbnf", "arithmetic.lark", "sql.lark", "c.lark"]
ENGINES = ["native", "reference"]  # engine tests run over both (the reference is the spec)


@functools.cache
def smollm2() -> Tokenizer:
    return Tokenizer.default()


@functools.cache
def library_grammar(name: str) -> Grammar:
    return Grammar.from_file(library_path(name))


@functools.cache
def compiled_library(name: str, engine: str = "native") -> CompiledGrammar:
    return compile_grammar(library_grammar(name), smollm2(), engine=engine)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine in turn: a test that takes this fixture runs over both."""
    param: str = request.param
    return param


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return smollm2()
