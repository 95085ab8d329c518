#!/usr/bin/env bash
# The test command: set up, lint, type-check, run the test suite (the hostile-input corpus
# included; generation with the real model in a process of its own), a bounded fuzz run over
# the front-ends, then the native tests under AddressSanitizer/UndefinedBehaviorSanitizer.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
echo "== ruff"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist worksteal --ignore=tests/generation
echo "== pytest: generation with SmolLM2 on llama.cpp and transformers (one process: one load)"
.venv/bin/python -m pytest -q -p no:cacheprovider tests/generation
echo "== fuzz: front-ends (atheris, bounded)"
bash scripts/fuzz.sh 60
echo "== native tests under ASan/UBSan"
bash scripts/sanitize.sh
