"""End-to-end generation benchmark: the same as ``corral bench generate``.

    python benchmarks/bench_generate.py --n 15 --max-tokens 200

SmolLM2-135M-Instruct (Q4_1) on llama.cpp, greedy, a seeded sample of JSONSchemaBench dev
schemas with the paper's prompt (system message + schema): corral (logits processor and its
own loop with jump-forward) vs llama.cpp's JSON-schema grammar vs unconstrained, in one run.
Writes ``benchmarks/results/generation/generation.{json,md,png}``
(:mod:`corral.jsonschemabench.generation`).
"""

from __future__ import annotations

import sys

from corral.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "generate", *sys.argv[1:]]))
