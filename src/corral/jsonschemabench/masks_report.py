"""Reports of ``corral bench masks`` (:mod:`corral.jsonschemabench.masks`): a terminal table, a
JSON file, a Markdown table and a PNG chart (mask-time CDF per engine, log scale)."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from corral.jsonschemabench.masks import MaskBenchResult

__all__ = ["format_table", "write_mask_results"]

ROWS = (("compile_us", "compile"), ("first_mask_us", "first mask"), ("mask_us", "mask"),
        ("accept_us", "accept"))  # fmt: skip


def format_table(summary: dict[str, Any]) -> str:
    """The summary as a Markdown table (microseconds), ratios and differences below."""
    lines = ["| engine | what | n | p50 µs | p90 µs | p99 µs | max µs |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, e in summary["engines"].items():
        for key, label in ROWS:
            s = e[key]
            if not s.get("count"):
                continue
            lines.append(f"| {name} | {label} | {s['count']} | {s['p50']:.1f} | {s['p90']:.1f} | "
                         f"{s['p99']:.1f} | {s['max']:.1f} |")  # fmt: skip
    for pair, per in summary["ratios"].items():
        mask = per.get("mask_us", {})
        comp = per.get("compile_us", {})
        first = per.get("first_mask_us", {})
        lines.append("")
        lines.append(
            f"{pair}: mask p50 {mask.get('p50', float('nan')):.2f}x, p99 "
            f"{mask.get('p99', float('nan')):.2f}x, max {mask.get('max', float('nan')):.2f}x; "
            f"compile p50 {comp.get('p50', float('nan')):.2f}x, p99 "
            f"{comp.get('p99', float('nan')):.2f}x; first mask p50 "
            f"{first.get('p50', float('nan')):.2f}x"
        )
    for name, e in summary["engines"].items():
        if name == "corral":
            continue
        lines.append("")
        lines.append(f"{name}: {e['masks_differing_from_corral']} masks differ from corral's; "
                     f"refused {e['refused']} schemas")  # fmt: skip
        for token, count in e["commonest_differing_tokens"]:
            lines.append(f"  {count:6d}  {token}")
    lines.append("")
    lines.append(
        f"{summary['schemas']} schemas compiled by corral, {summary['paths']} token paths "
        f"({summary['paths_rejected']} rejected by some engine); RSS "
        f"{summary['rss_mb']['start']:.0f} -> {summary['rss_mb']['end']:.0f} MB; corral's "
        f"compiled grammars hold {summary['corral_memory_bytes_mb']:.1f} MB"
    )
    return "\n".join(lines)


def write_mask_results(result: MaskBenchResult, out_dir: Path, command: str) -> dict[str, Any]:
    """Write ``masks.json``, ``masks.md`` and (with matplotlib) ``masks.png``; the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    summary["command"] = command
    summary["machine"] = {"platform": platform.platform(), "python": sys.version.split()[0]}
    (out_dir / "masks.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out_dir / "masks.md").write_text(f"`{command}`\n\n{format_table(summary)}\n")
    _chart(result, out_dir / "masks.png")
    return summary


def _chart(result: MaskBenchResult, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a test dependency
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, t in result.engines.items():
        values = np.sort(np.asarray(t.mask, dtype=float))
        if values.shape[0] == 0:
            continue
        ax.plot(values, np.arange(1, values.shape[0] + 1) / values.shape[0], label=name)
    ax.set_xscale("log")
    ax.set_xlabel("mask time (µs, log scale)")
    ax.set_ylabel("share of masks")
    ax.set_title(f"Mask time CDF, {result.args['tokenizer']} ({result.schemas} schemas)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
