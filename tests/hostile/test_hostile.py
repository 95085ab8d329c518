"""The hostile corpus: every case of ``cases.json`` run as a real ``corral`` subprocess.

Each case gives a command line (after ``corral``), the accepted exit codes — each with the
substring its one ``error:`` line on stderr must contain (``null``: no check of stderr beyond the
rules below; a list: any of them) —, a time bound in seconds and a memory bound in MiB. The
process runs under an address-space limit (``RLIMIT_AS``, :data:`ADDRESS_SPACE`) and a CPU-time
limit of ``seconds * 1.2 + STARTUP`` (``RLIMIT_CPU``: the kernel kills it with SIGXCPU; CPU time,
not wall time, so that a loaded two-core machine running the cases side by side judges them
fairly); a process still alive after ``WALL_SLACK`` times that much wall time (blocked, not
computing) is killed too. Every case checks:

* the exit code is one of the accepted ones, and the process finished within its limits;
* stderr holds no ``Traceback`` nor leaked Python advice (:data:`FORBIDDEN`);
* for an accepted code with a substring: exactly one line of stderr contains ``error:``, it is at
  most :data:`MAX_ERROR_LINE` characters long, and stderr contains the substring
  (case-insensitive; in the error line or in the detail lines under it);
* ``stdout`` (optional): every listed substring is in the standard output;
* the peak resident memory (``ru_maxrss`` of the child) is within ``memory_mb``.

Command-line arguments are strings, ``{"hex": "..."}`` for raw bytes (invalid UTF-8),
``{"expand": "w{i}", "count": N}`` for N arguments, or a list of parts (strings and
``{"repeat": S, "times": N}``) joined into one argument. ``{gen}`` is the path of the case's
``"generate"`` input, written by ``make_corpus.py`` into the test's temporary directory.
``sigint_after_cpu``: send SIGINT once the child has used that many CPU seconds.

Run ``python tests/hostile/test_hostile.py [NAME ...]`` for a one-line-per-case status table.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from make_corpus import generate  # noqa: E402

CASES: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
STARTUP = 3.0
WALL_SLACK = 4.0
ADDRESS_SPACE = 4 << 30
MAX_ERROR_LINE = 1_000
FORBIDDEN = ("Traceback", "set_int_max_str_digits", "surrogates not allowed")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    """What one case's process did, and what was wrong with it."""

    returncode: int | None
    stdout: str
    stderr: str
    wall: float
    cpu: float
    maxrss_mb: float
    problems: list[str] = field(default_factory=list)


def corral_command() -> list[str]:
    """The ``corral`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "corral"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "corral.cli"]


def _argument(item: Any, gen: Path | None) -> list[str | bytes]:
    if isinstance(item, str):
        return [item.replace("{gen}", str(gen)) if gen is not None else item]
    if isinstance(item, list):
        parts = [p if isinstance(p, str) else p["repeat"] * p["times"] for p in item]
        return ["".join(parts)]
    if "hex" in item:
        return [bytes.fromhex(item["hex"])]
    if "expand" in item:
        return [item["expand"].format(i=i) for i in range(item["count"])]
    raise ValueError(f"unknown argument form {item!r}")


def build_argv(case: dict[str, Any], tmp: Path) -> list[str | bytes]:
    """The full command line of ``case``, writing its generated input into ``tmp``."""
    gen = generate(case["generate"], tmp) if "generate" in case else None
    argv: list[str | bytes] = list(corral_command())
    for item in case["argv"]:
        argv.extend(_argument(item, gen))
    return argv


def cpu_limit(case: dict[str, Any]) -> int:
    """CPU seconds the case's process may use (its bound, 20% slack, interpreter start-up)."""
    return math.ceil(float(case["seconds"]) * 1.2 + STARTUP)


def _limiter(cpu_seconds: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return limit


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status_mb(pid: int | str, field: str) -> float:
    """A memory field of ``/proc/PID/status`` (``VmHWM``, ``VmRSS``) in MiB; 0 if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env.pop("PYTHONWARNINGS", None)
    return env


def _child_peak(reported: float, parent_rss: float, polled: float) -> float:
    """The child's own peak RSS: ``ru_maxrss`` when above the parent's RSS at the fork (then
    it is the child's), the peak polled from ``/proc`` otherwise."""
    return reported if reported > parent_rss + 1 else max(polled, 0.0)


def run_case(case: dict[str, Any], tmp: Path) -> Outcome:
    """Run ``case`` in a subprocess under its limits and judge the outcome."""
    argv = build_argv(case, tmp)
    cpu_seconds = cpu_limit(case)
    limit = cpu_seconds * WALL_SLACK
    sigint_at = case.get("sigint_after_cpu")
    out_path, err_path = tmp / "stdout", tmp / "stderr"
    # Linux starts a forked child's ru_maxrss at the parent's RSS and keeps it across exec, so
    # a child of a large test process reports at least that: below it, the child's own peak
    # comes from its VmHWM, read while it runs.
    parent_rss = _status_mb("self", "VmRSS")
    polled_peak = 0.0
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            env=_environment(), preexec_fn=_limiter(cpu_seconds), start_new_session=True,
        )  # fmt: skip
    start = time.monotonic()
    timed_out = sigint_sent = False
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > limit:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            polled_peak = max(polled_peak, _status_mb(proc.pid, "VmHWM"))
            if sigint_at is not None and not sigint_sent and _cpu_seconds(proc.pid) >= sigint_at:
                os.kill(proc.pid, signal.SIGINT)
                sigint_sent = True
            time.sleep(0.02)
    except BaseException:  # the test run itself interrupted: leave no process behind
        os.killpg(proc.pid, signal.SIGKILL)
        os.wait4(proc.pid, 0)
        raise
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    outcome = Outcome(
        returncode=None if timed_out else proc.returncode,
        stdout=out_path.read_bytes().decode("utf-8", "backslashreplace"),
        stderr=err_path.read_bytes().decode("utf-8", "backslashreplace"),
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=_child_peak(usage.ru_maxrss / 1024, parent_rss, polled_peak),
    )
    if timed_out:
        outcome.problems.append(f"killed after {wall:.1f} s wall (limit {limit:.1f} s)")
    elif proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or outcome.cpu > cpu_seconds:
        outcome.returncode = None
        outcome.problems.append(
            f"killed at {outcome.cpu:.1f} s CPU (limit {cpu_seconds} s; status {proc.returncode})"
        )
    elif sigint_at is not None and not sigint_sent:
        outcome.problems.append(
            f"finished (exit {proc.returncode}) before {sigint_at} s CPU: SIGINT never sent"
        )
    judge(case, outcome)
    return outcome


def _wanted(spec: str | list[str] | None) -> list[str]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else list(spec)


def judge(case: dict[str, Any], outcome: Outcome) -> None:
    """Append to ``outcome.problems`` every way the outcome departs from the case."""
    problems = outcome.problems
    expect: dict[str, Any] = case["expect"]
    rc = outcome.returncode
    for bad in FORBIDDEN:
        if bad in outcome.stderr:
            problems.append(f"stderr contains {bad!r}")
    if rc is not None and str(rc) not in expect:
        problems.append(f"exit {rc}, expected one of {sorted(int(k) for k in expect)}")
    elif rc is not None and expect[str(rc)] is not None:
        lines = [ln for ln in outcome.stderr.splitlines() if "error:" in ln]
        if len(lines) != 1:
            problems.append(f"{len(lines)} 'error:' lines on stderr, expected exactly one")
        wanted = _wanted(expect[str(rc)])
        if lines and len(lines[0]) > MAX_ERROR_LINE:
            problems.append(f"the error line is {len(lines[0])} characters long")
        err = outcome.stderr.lower()
        if wanted and not any(w.lower() in err for w in wanted):
            problems.append(f"stderr lacks any of {wanted!r}")
    for text in case.get("stdout", []):
        if rc is not None and str(rc) in expect and text not in outcome.stdout:
            problems.append(f"stdout lacks {text!r}")
    if outcome.maxrss_mb > case["memory_mb"]:
        problems.append(f"peak RSS {outcome.maxrss_mb:.0f} MiB > {case['memory_mb']} MiB")


def _describe(case: dict[str, Any], outcome: Outcome) -> str:
    tail = outcome.stderr.strip().splitlines()[-3:]
    return (
        f"{case['name']}: " + "; ".join(outcome.problems)
        + f"\n  exit {outcome.returncode}, {outcome.wall:.1f} s wall, {outcome.cpu:.1f} s CPU, "
        + f"{outcome.maxrss_mb:.0f} MiB\n  stderr: " + "\n          ".join(tail)
    )  # fmt: skip


def test_manifest_is_well_formed() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for case in CASES:
        assert set(case) <= {
            "name", "note", "argv", "expect", "seconds", "memory_mb", "stdout", "generate",
            "sigint_after_cpu",
        }, case["name"]  # fmt: skip
        assert case["expect"] and all(k.lstrip("-").isdigit() for k in case["expect"])
        assert 0 < case["seconds"] <= 30 and 0 < case["memory_mb"] <= ADDRESS_SPACE >> 20


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_case(case: dict[str, Any], tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert not outcome.problems, _describe(case, outcome)


def main(names: list[str]) -> int:
    """Run the cases named (all by default) one after another; print one line per case."""
    import tempfile

    failed = 0
    for case in CASES:
        if names and case["name"] not in names:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run_case(case, Path(tmp))
        status = "FAIL" if outcome.problems else "pass"
        failed += bool(outcome.problems)
        detail = _describe(case, outcome) if outcome.problems else case["name"]
        print(
            f"{status} {outcome.wall:5.1f}s {outcome.cpu:5.1f}cpu {outcome.maxrss_mb:5.0f}MiB "
            f"{detail}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
