#!/usr/bin/env bash
# The main job: set up (corral, llama-cpp-python built once, the SmolLM2 GGUF), then generate
# JSON for the shipped example schema with SmolLM2 on llama.cpp, validate it, and print
# tokens/s with and without the constraint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh main
.venv/bin/python examples/main_job.py
