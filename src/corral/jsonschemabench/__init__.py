"""Conformance harness for corral's JSON Schema compiler, with llguidance side by side.

Modules: :mod:`~corral.jsonschemabench.loader` (JSONSchemaBench cases and fixed samples),
:mod:`~corral.jsonschemabench.test_suite` (the official JSON-Schema-Test-Suite, draft 2020-12),
:mod:`~corral.jsonschemabench.engines` (corral and llguidance verdicts),
:mod:`~corral.jsonschemabench.runner` (per-schema records, run in worker processes under a hard
timeout by :mod:`~corral.jsonschemabench.pool`), :mod:`~corral.jsonschemabench.report`
(tables), :mod:`~corral.jsonschemabench.expected` (the committed expected results). Command
line: ``python -m corral.jsonschemabench --help``.
"""
