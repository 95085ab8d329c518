#!/usr/bin/env bash
# Build the native extension with AddressSanitizer + UndefinedBehaviorSanitizer in a scratch copy
# of the source tree and run the native tests against it. Exits non-zero on any failure or report
# (--capture=sys: the sanitizers write to file descriptor 2, which then reaches the log).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# The tests run from a scratch copy: point them at the benchmark data beside this checkout.
export CORRAL_JSONSCHEMABENCH="${CORRAL_JSONSCHEMABENCH:-$(cd "$root/.." && pwd)/shared/jsonschemabench}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r setup.py pyproject.toml README.md csrc src tests "$work"/
find "$work/src" -name '*.so' -delete
cd "$work"
CORRAL_SANITIZE=1 "$root/.venv/bin/python" setup.py -q build_ext --inplace >/dev/null
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
LD_PRELOAD="$asan:$ubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONPATH="$work/src:$work/tests" \
  "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider --capture=sys tests/unit/test_bitmask.py \
  tests/unit/test_native_garbage.py tests/unit/test_native_minimize.py tests/unit/test_native_byte_classes.py tests/unit/test_native_product.py tests/unit/test_native_walk.py \
  tests/unit/test_lexer_product.py tests/unit/test_native_engine_inputs.py tests/unit/test_token_trie_build.py \
  tests/property/test_native_differential.py tests/unit/test_unique_items.py \
  tests/unit/test_unique_values.py tests/unit/test_bounded_classes.py tests/unit/test_compact_automata.py \
  tests/unit/test_acyclic_minimize.py tests/unit/test_native_subset.py tests/unit/test_infill_walks.py
