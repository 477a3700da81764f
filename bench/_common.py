"""What every figure shares: sizes (full and ``--quick``), timing, and the shape of a result.

A figure measures a **floor** (the least any implementation must spend on the same input: the SDK with a no-op
policy, ``json.load``, a bare ListObjectsV2 pass, …) and **ours** in the same run, interleaved round by round so
that a noisy neighbour on a shared machine slows both, and reports ``ratio = ours / floor`` against a goal.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
POLICIES_DIR = ROOT / "policies"
TRIVIAL_PACK_DIR = BENCH_DIR / "trivial_pack"

# The date the generated registries are consistent on (filings approved before it, PSB windows around it).
TODAY = "2026-11-28"

GoalKind = Literal["max_ratio", "min_rate", "exact"]


@dataclass(frozen=True)
class Sizes:
    """How big each figure's input is. ``quick`` keeps CI's smoke run well under a minute."""

    quick: bool
    call_resources: int  # pack_call_overhead: Analyze calls per round
    call_rounds: int
    startups: int  # pack_startup: start-ups per pack (median)
    audit_resources: int  # audit_throughput: resources in the export
    audit_rounds: int
    registry_small: int  # registry: sites (linearity: per-site load time small vs large)
    registry_large: int
    lookups: int
    registry_rounds: int
    files: int  # content_sync: files in the site
    sync_rounds: int
    preflight_sites: int  # preflight: sites in the program
    preflight_rounds: int
    large_file_mb: int = 1024  # content_sync: one large file (multipart) against `aws s3 cp`
    large_rounds: int = 2


FULL = Sizes(
    quick=False,
    call_resources=1000,
    call_rounds=5,
    startups=11,
    audit_resources=10_000,
    audit_rounds=3,
    registry_small=10_000,
    registry_large=100_000,
    lookups=100_000,
    registry_rounds=3,
    files=2000,
    sync_rounds=5,
    preflight_sites=200,
    preflight_rounds=3,
)

QUICK = Sizes(
    quick=True,
    call_resources=100,
    call_rounds=2,
    startups=3,
    audit_resources=300,
    audit_rounds=1,
    registry_small=100,
    registry_large=1000,
    lookups=10_000,
    registry_rounds=1,
    files=100,
    sync_rounds=1,
    preflight_sites=3,
    preflight_rounds=1,
    large_file_mb=40,
    large_rounds=1,
)


def sizes(quick: bool) -> Sizes:
    return QUICK if quick else FULL


# ---------------------------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call; a full collection first so garbage from the last round is not billed here."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(
    rounds: int, floor: Callable[[], Any], ours: Callable[[], Any]
) -> tuple[list[float], list[float], Any, Any]:
    """Run floor and ours alternately ``rounds`` times (the order flips every round); their times and last results."""
    floor_times: list[float] = []
    our_times: list[float] = []
    floor_result: Any = None
    our_result: Any = None
    for i in range(rounds):
        pair: list[tuple[list[float], Callable[[], Any], str]] = [(floor_times, floor, "f"), (our_times, ours, "o")]
        if i % 2:
            pair.reverse()
        for times, fn, which in pair:
            seconds, result = timed(fn)
            times.append(seconds)
            if which == "f":
                floor_result = result
            else:
                our_result = result
    return floor_times, our_times, floor_result, our_result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------------------------------------------------------
# Results


def check(
    label: str,
    *,
    floor: float,
    ours: float,
    unit: str,
    goal: float,
    kind: GoalKind = "max_ratio",
    n: int | None = None,
    rate: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One measured comparison. ``kind``: ``max_ratio`` (ours/floor ≤ goal), ``min_rate`` (``rate`` ≥ goal, the
    ratio is informative), ``exact`` (ours == goal, e.g. a request count)."""
    ratio = ours / floor if floor else float("inf")
    if kind == "max_ratio":
        met = ratio <= goal
        goal_text = f"≤ {goal:g}×"
    elif kind == "min_rate":
        if rate is None:
            raise ValueError("a min_rate check needs the measured rate")
        met = rate >= goal
        goal_text = f"≥ {goal:,.0f}/s"
    else:
        met = ours == goal
        goal_text = f"= {goal:g}"
    out: dict[str, Any] = {
        "label": label,
        "floor": floor,
        "ours": ours,
        "ratio": ratio,
        "goal": goal,
        "goal_kind": kind,
        "goal_text": goal_text,
        "unit": unit,
        "n": n,
        "met": met,
    }
    if rate is not None:
        out["rate"] = rate
    out.update(extra)
    return out


def figure(primary: dict[str, Any], *, checks: list[dict[str, Any]] | None = None, **absolute: Any) -> dict[str, Any]:
    """A figure's JSON: the primary check's fields at the top, further checks under ``checks``, absolute numbers."""
    out = dict(primary)
    others = checks or []
    out["checks"] = others
    out["all_met"] = bool(primary["met"]) and all(c["met"] for c in others)
    out.update(absolute)
    return out
