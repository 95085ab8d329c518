"""Build script for corral's native extension (``corral._native``, built from
the C sources in ``csrc/``: pure C11 behind ``csrc/corral/corral.h``, and ``binding.c``, the only
file that includes ``Python.h``).

Everything else lives in ``pyproject.toml``. ``CORRAL_SANITIZE=1`` adds ASan/UBSan.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

NATIVE_DIR = "csrc"

compile_args = ["-std=c11", "-O2", "-pthread", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing"]
link_args: list[str] = ["-pthread"]
if os.environ.get("CORRAL_SANITIZE") == "1":
    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
    compile_args += san
    link_args += san

native = Extension(
    "corral._native",
    sources=sorted(
        os.path.join(NATIVE_DIR, name) for name in os.listdir(NATIVE_DIR) if name.endswith(".c")
    ),
    depends=[os.path.join(NATIVE_DIR, "corral", "corral.h")],
    include_dirs=[NATIVE_DIR],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=[native])
