"""``python -m bench [--quick] [--only NAME …] [--output FILE]``: run the figures, print the table, write the JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import ENGINE_FIGURES, FIGURES
from bench._common import BENCH_DIR, sizes


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def _fmt(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "—"
    if unit.startswith("s"):
        if value < 1e-3:
            return f"{value * 1e6:,.1f} µs"
        if value < 1:
            return f"{value * 1e3:,.1f} ms"
        return f"{value:,.2f} s"
    return f"{value:,.6g}"


def _rows(name: str, result: dict[str, Any]) -> list[tuple[str, ...]]:
    if "error" in result:
        return [(name, f"[red]error: {result['error'][:70]}[/red]", "—", "—", "—", "—", "[red]NO[/red]")]
    rows = []
    for i, c in enumerate([result, *result.get("checks", [])]):
        if c["goal_kind"] == "min_rate":
            ours = f"{_fmt(c['ours'], c['unit'])} ({c['rate']:,.0f}/s)"
        else:
            ours = _fmt(c["ours"], c["unit"])
        met = "[green]yes[/green]" if c["met"] else "[red]NO[/red]"
        ratio = f"{c['ratio']:.2f}×" if c["goal_kind"] != "exact" else f"{c['ours']:g}"
        rows.append((name if i == 0 else "", c["label"], _fmt(c["floor"], c["unit"]), ours, ratio, c["goal_text"], met))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run, < 60 s)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*FIGURES, *ENGINE_FIGURES],
        metavar="NAME",
        help=f"run only this figure (repeatable): {', '.join([*FIGURES, *ENGINE_FIGURES])}",
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json", help="JSON results file")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    sz = sizes(args.quick)
    names = args.only or [*FIGURES, *([] if args.quick else ENGINE_FIGURES)]
    results: dict[str, Any] = {
        "_meta": {
            "machine": _machine(),
            "quick": args.quick,
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sizes": sz.__dict__,
        }
    }
    failed = False
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="china-site-bench-") as tmp:
        for name in names:
            work = Path(tmp, name)
            work.mkdir()
            console.print(f"[bold]{name}[/bold] — {({**FIGURES, **ENGINE_FIGURES})[name]} …", highlight=False)
            started = time.perf_counter()
            try:
                module = importlib.import_module(f"bench.{name}")
                result = module.run(sz, work)
            except Exception as exc:  # a broken figure must not hide the others
                failed = True
                result = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
                traceback.print_exc(file=sys.stderr)
            result["wall_s"] = time.perf_counter() - started
            results[name] = result
    results["_meta"]["wall_s"] = time.perf_counter() - total

    table = Table(title=f"china-site benchmarks{' (--quick)' if args.quick else ''}: ours vs a floor in the same run")
    for column in ("figure", "measure", "floor", "ours", "ratio", "goal", "met?"):
        table.add_column(column, justify="left" if column in ("figure", "measure") else "right", no_wrap=True)
    for name in names:
        for row in _rows(name, results[name]):
            table.add_row(*row)
    console.print(table)
    meta = results["_meta"]["machine"]
    console.print(
        f"{meta['cpu']}, {meta['cpus']} CPUs, Python {meta['python']}; load at start {meta['load_average_at_start']}",
        highlight=False,
    )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    console.print(f"wrote {args.output}", highlight=False)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
