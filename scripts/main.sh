#!/usr/bin/env bash
# The main job: set up, then constrain the default tokenizer (SmolLM2) with the shipped JSON grammar.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh main
.venv/bin/corral mask --grammar src/corral/grammars/library/json.lark --prefix '{"a": ' --limit 40
