"""Benchmark infilling checks (``corral.infill.is_completable``) on real documents.

The same run as ``corral bench infill`` (:mod:`corral.jsonschemabench.infill_bench`): valid
documents with 1, 2 and 3 random spans replaced by holes — JSONSchemaBench instances with their
schemas' grammars, and words of the shipped C-like and SQL grammars. Every answer must be
``True``. Prints the table and writes ``infill.json``/``.md``/``.png``::

    python benchmarks/bench_infill.py --n 60
"""

from __future__ import annotations

import sys

from corral.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "infill", *sys.argv[1:]]))
