"""Figure 1 — pack call overhead: Analyze calls over gRPC, the china-site pack vs a pack with one no-op policy.

Both packs are started as the engine starts them, configured as the engine configures them (ours with a generated
registry consistent with the resources and a fixed ``today``), warmed up with one pass (ours loads the registry on
its first call: reported as ``first_call_s``), then sent the same pre-built ``AnalyzeRequest`` messages one after the
other, the two packs alternating round by round. A third pack — the no-op policy ten times — shows what the SDK
itself costs per policy (pulumi_policy deserialises the properties once per policy per call), which is the part of
our time a pack of ten policies cannot avoid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench._common import POLICIES_DIR, TODAY, TRIVIAL_PACK_DIR, Sizes, check, figure, interleaved, median, timed

NAME = "pack_call_overhead"
TITLE = "Pack call overhead (gRPC Analyze, per call)"
GOAL = 1.25


def inputs(n: int, work: Path) -> tuple[list[Any], Path]:
    """``n`` AnalyzeRequests for mixed alicloud resources (with their providers' regions) and the registry path."""
    from bench import gen
    from china_site.engine.artifacts import parse_document
    from china_site.engine.driver import analyze_request

    export, registry = gen.stack_export(int(n * 1.6) + 20, seed=101)
    records = [r for r in parse_document(export, "generated").records if r.type.startswith("alicloud:")][:n]
    path = work / "call-filings.json"
    path.write_text(json.dumps(registry, ensure_ascii=False), encoding="utf-8")
    return [analyze_request(r) for r in records], path


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    from bench._pack import Pack

    requests, registry = inputs(sz.call_resources, work)
    n = len(requests)
    config = {"filings": str(registry), "today": TODAY}

    def pass_over(pack: Pack) -> int:
        analyze = pack.stub.Analyze
        diagnostics = 0
        for request in requests:
            diagnostics += len(analyze(request).diagnostics)
        return diagnostics

    with (
        Pack(TRIVIAL_PACK_DIR) as trivial,
        Pack(POLICIES_DIR) as ours,
        Pack(TRIVIAL_PACK_DIR, extra_env={"BENCH_TRIVIAL_POLICIES": "10"}) as ten,
    ):
        trivial.configure()
        ten.configure()
        policies = ours.configure(config)
        first_call, _ = timed(lambda: ours.stub.Analyze(requests[0]))
        pass_over(trivial)  # warm-up: connection, caches, lazy imports
        pass_over(ten)
        pass_over(ours)
        floor_times, our_times, _, violations = interleaved(
            sz.call_rounds, lambda: pass_over(trivial), lambda: pass_over(ours)
        )
        ten_times = [timed(lambda: pass_over(ten))[0] for _ in range(max(1, sz.call_rounds // 2))]
        if ours.process.poll() is not None:
            raise RuntimeError(f"the china-site pack exited: {ours.stderr()[-2000:]}")

    floor = median(floor_times) / n
    mine = median(our_times) / n
    primary = check("per Analyze call vs 1 no-op policy", floor=floor, ours=mine, unit="s/call", goal=GOAL, n=n)
    return figure(
        primary,
        calls_per_s_floor=1 / floor,
        calls_per_s_ours=1 / mine,
        sdk_10_noop_policies_per_call_s=median(ten_times) / n,
        ratio_vs_10_noop_policies=mine / (median(ten_times) / n),
        policies=len(policies),
        violations_per_pass=violations,
        first_call_s=first_call,
        rounds=sz.call_rounds,
    )
