#!/usr/bin/env bash
# Bounded atheris (libFuzzer) runs: corral's front-ends (tests/fuzz/fuzz_frontends.py, seeded
# from tests/fuzz/corpus/) and the native engine against the reference (tests/fuzz/fuzz_engine.py,
# seeded from tests/fuzz/engine_corpus/); the corpora are read only, new inputs go to a
# temporary directory.
#   bash scripts/fuzz.sh [SECONDS]     # default 60 per target; exits non-zero on a finding
# A finding (an exception other than CorralError, a hang past the per-input timeout, or memory
# past the RSS limit) leaves its input as .cache/fuzz-artifacts/crash-* (or timeout-*, oom-*);
# reproduce with: .venv/bin/python tests/fuzz/fuzz_frontends.py --replay .cache/fuzz-artifacts/FILE
# (fuzz_engine.py for the engine's findings, prefixed engine-).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${1:-60}"
PY=.venv/bin/python
if ! "$PY" -c "import atheris" 2>/dev/null; then
    echo "fuzz.sh: atheris is not installed (pip install -e '.[test]')" >&2
    exit 2
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p .cache/fuzz-artifacts
"$PY" tests/fuzz/fuzz_frontends.py "$WORK" tests/fuzz/corpus \
    -max_total_time="$SECONDS_TOTAL" -timeout=10 -rss_limit_mb=3072 -max_len=4096 \
    -artifact_prefix=.cache/fuzz-artifacts/ -print_final_stats=1
mkdir -p "$WORK/engine"
"$PY" tests/fuzz/fuzz_engine.py "$WORK/engine" tests/fuzz/engine_corpus \
    -max_total_time="$SECONDS_TOTAL" -timeout=10 -rss_limit_mb=3072 -max_len=512 \
    -artifact_prefix=.cache/fuzz-artifacts/engine- -print_final_stats=1
