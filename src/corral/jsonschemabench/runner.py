"""Run benchmark cases through an engine and record one verdict summary per schema.

The rule (JSONSchemaBench, Geng et al. 2025, arXiv:2501.10868): a schema *passes* when the
engine compiles it and gives the right verdict on every test instance: each valid instance's
serialization is accepted (every prefix allowed, complete at the end) and each invalid one is
rejected somewhere. A refusal, an error or a timeout is never a pass. Instances that have no
JSON text (NaN, lone surrogates) are counted apart as unserializable.

Each schema runs in a worker process (:mod:`corral.jsonschemabench.pool`) under a hard
timeout; compile times over :data:`COMPILE_BOUND_MS` are flagged.
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from corral.jsonschemabench.engines import (
    ENGINES,
    EngineError,
    EngineRefusal,
    EngineResources,
    Verdict,
    compile_corral,
    compile_llguidance,
    serialize,
)
from corral.jsonschemabench.loader import Case
from corral.jsonschemabench.pool import run_pool

__all__ = [
    "COMPILE_BOUND_MS",
    "STATUSES",
    "WHITESPACE_MODES",
    "Record",
    "Task",
    "lost_record",
    "make_tasks",
    "run_case",
    "run_cases",
]

COMPILE_BOUND_MS = 10_000.0
STATUSES: tuple[str, ...] = ("compiled", "refused", "error", "timeout")
WHITESPACE_MODES: tuple[str, ...] = ("compact", "flexible")
MAX_FAILURES_KEPT = 5
TASKS_PER_WORKER = 400
OUT_OF_MEMORY = "MemoryError: the worker's memory limit was reached"


@dataclass
class Record:
    """The outcome of one schema for one engine (and whitespace mode).

    Attributes
    ----------
    status:
        ``"compiled"``, ``"refused"``, ``"error"`` or ``"timeout"``.
    error_kind:
        For errors: ``"engine"`` (a deliberate error of the engine, e.g. a ``CorralError``),
        ``"crash"`` (any other exception), ``"worker"`` (the worker process died); else ``""``.
    refused:
        ``{"pointer", "keyword", "reason"}`` for each refused keyword occurrence.
    failures:
        The first few wrong verdicts: test index, validity, offset of rejection, text.
    compile_ms, compile_cpu_ms:
        Wall-clock and CPU time of the compilation (to a grammar and for the tokenizer),
        including a refusal or an error; ``None`` when the worker was lost.
    slow_compile:
        The compilation took over :data:`COMPILE_BOUND_MS` of CPU time (CPU time, not wall
        time, so that other load on the machine does not flag it).
    passed:
        Compiled, and no valid instance rejected nor invalid instance accepted.
    """

    engine: str
    whitespace: str
    split: str
    name: str
    status: str
    error_kind: str = ""
    error: str = ""
    refused: list[dict[str, str]] = field(default_factory=list)
    n_valid: int = 0
    n_invalid: int = 0
    valid_rejected: int = 0
    invalid_accepted: int = 0
    unserializable: int = 0
    compile_ms: float | None = None
    compile_cpu_ms: float | None = None
    total_ms: float = 0.0
    slow_compile: bool = False
    passed: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict of all fields."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Record:
        """Rebuild a record from :meth:`to_json` output."""
        return cls(**raw)


@dataclass(frozen=True)
class Task:
    """One unit of work: a case, an engine from :data:`ENGINES`, a whitespace mode."""

    case: Case
    engine: str
    whitespace: str = "compact"


def _compile(task: Task, resources: EngineResources) -> Verdict:
    if task.engine == "corral":
        return compile_corral(task.case.schema, task.whitespace, resources)
    if task.engine == "llguidance":
        if task.whitespace != "compact":
            raise ValueError("llguidance runs in compact mode only")
        return compile_llguidance(task.case.schema, resources)
    raise ValueError(f"unknown engine {task.engine!r}; known: {', '.join(ENGINES)}")


def _check_instances(
    task: Task, verdict: Verdict, record: Record, resources: EngineResources
) -> None:
    for index, test in enumerate(task.case.tests):
        try:
            data = serialize(
                test.data,
                task.case.schema,
                task.engine,
                task.whitespace,
                resources.automata_cache,
            )
        except ValueError:
            record.unserializable += 1
            continue
        accepted, offset = verdict(data)
        if accepted == test.valid:
            continue
        if test.valid:
            record.valid_rejected += 1
        else:
            record.invalid_accepted += 1
        if len(record.failures) < MAX_FAILURES_KEPT:
            text = data.decode("utf-8", "replace")
            record.failures.append(
                {"index": index, "valid": test.valid, "offset": offset, "text": text[:300]}
            )


def run_case(task: Task, resources: EngineResources | None = None) -> Record:
    """Compile the task's schema and check every test instance; never raises.

    Parameters
    ----------
    task:
        The case, engine and whitespace mode.
    resources:
        The worker's tokenizers and caches (loaded here when not given).

    Returns
    -------
    Record
        The outcome; exceptions become ``status="error"`` records.
    """
    case = task.case
    record = Record(task.engine, task.whitespace, case.split, case.name, "compiled")
    record.n_valid = sum(1 for t in case.tests if t.valid)
    record.n_invalid = len(case.tests) - record.n_valid
    if resources is None:
        try:
            resources = EngineResources.load((task.engine,))
        except Exception as e:
            record.status = "error"
            record.error_kind = "crash"
            record.error = f"loading {task.engine}: {type(e).__name__}: {e}"[:2000]
            return record
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        try:
            verdict = _compile(task, resources)
        finally:
            record.compile_ms = (time.perf_counter() - started) * 1000.0
            record.compile_cpu_ms = (time.process_time() - cpu_started) * 1000.0
            record.slow_compile = record.compile_cpu_ms > COMPILE_BOUND_MS
        _check_instances(task, verdict, record, resources)
    except EngineRefusal as e:
        record.status = "refused"
        record.refused = e.issues
        record.error = str(e)[:2000]
    except EngineError as e:
        record.status = "error"
        record.error_kind = "engine"
        record.error = str(e)[:2000]
    except MemoryError:
        record.status = "error"
        record.error_kind = "crash"
        record.error = OUT_OF_MEMORY
    except Exception as e:
        record.status = "error"
        record.error_kind = "crash"
        tail = "".join(traceback.format_exception(e)[-3:])
        record.error = f"{type(e).__name__}: {e}\n{tail}"[:2000]
    record.total_ms = (time.perf_counter() - started) * 1000.0
    record.passed = (
        record.status == "compiled" and record.valid_rejected == 0 and record.invalid_accepted == 0
    )
    return record


def lost_record(task: Task, status: str, message: str) -> Record:
    """The record of a task whose worker was killed (``"timeout"``) or died (``"error"``)."""
    case = task.case
    record = Record(task.engine, task.whitespace, case.split, case.name, status, error=message)
    if status == "error":
        record.error_kind = "worker"
    record.n_valid = sum(1 for t in case.tests if t.valid)
    record.n_invalid = len(case.tests) - record.n_valid
    return record


def make_tasks(
    cases: Iterable[Case], engines: Sequence[str], whitespaces: Sequence[str]
) -> list[Task]:
    """Tasks for every case: corral in each whitespace mode, llguidance in compact mode.

    Tasks are grouped by engine and mode (all cases of one, then of the next), so that a
    worker's caches never hold the automata of the same schema compiled in another mode.
    """
    cases = list(cases)
    tasks: list[Task] = []
    for engine in engines:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
        for ws in whitespaces if engine == "corral" else ("compact",):
            tasks.extend(Task(case, engine, ws) for case in cases)
    return tasks


def run_cases(
    tasks: Sequence[Task],
    *,
    jobs: int = 1,
    timeout: float = 60.0,
    memory_mb: int | None = 6144,
    progress: Callable[[int, Record], None] | None = None,
) -> list[Record]:
    """Run tasks in ``jobs`` worker processes, each task under a hard ``timeout`` (seconds).

    Each worker is replaced after :data:`TASKS_PER_WORKER` tasks and after running out of
    memory (``memory_mb`` of address space); a task that ran out of memory or killed a worker
    that had run other tasks is rerun once in a fresh worker (see
    :func:`~corral.jsonschemabench.pool.run_pool`).

    Returns
    -------
    list[Record]
        One record per task, in task order.
    """
    engines = tuple(sorted({t.engine for t in tasks}))
    return run_pool(
        run_case,
        tasks,
        jobs=jobs,
        timeout=timeout,
        on_lost=lost_record,
        warmup=functools.partial(EngineResources.load, engines),
        memory_mb=memory_mb,
        recycle=_out_of_memory,
        max_tasks=TASKS_PER_WORKER,
        progress=progress,
    )


def _out_of_memory(record: Record) -> bool:
    return record.error == OUT_OF_MEMORY
