"""Figure 3 — audit throughput: an in-process audit of a generated ``pulumi stack export`` (version 3) vs the floor,
``json.load`` plus one pass over the resources.

"Ours" is what ``china-site audit state.json --filings F --today D`` does: read and validate the artifact
(``china_site.engine.artifacts.read_artifact``), load the pack in-process (``china_site.engine.runner.load_pack``)
and check the records (``runner.check`` → ``china_site.engine.driver.evaluate``: the pack's own Policy objects driven
through the SDK's servicer exactly as the engine would, Remediate and Analyze per resource, AnalyzeStack once), with
a registry consistent with the stack. Caches the pack keeps per process (the
registry, resolved settings) are cleared before every round: each round is one command run. The same driver with a
single no-op policy is reported too (``sdk_noop_s``): the part of the time that is the SDK's, not our policies'.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bench._common import POLICIES_DIR, TODAY, Sizes, check, figure, interleaved, median, timed

NAME = "audit_throughput"
TITLE = "Audit throughput (stack export, in-process)"
GOAL = 3.0


def load_pack() -> tuple[Any, Any]:
    """The pack as ``china-site`` loads it in-process (``china_site.engine.runner.load_pack``) and its ``_adapter``."""
    from china_site.engine.runner import load_pack as load

    pack = load(POLICIES_DIR)
    return pack, sys.modules["china_site.policies._adapter"]


def reset_pack_caches(adapter: Any) -> None:
    """Forget what the pack and the core cache per process, so a round costs what one command run costs: the pack's
    loaded registries, resolved settings and stack config (``reset_run_state``), and the registries
    ``china_site.filings.load_registry`` keeps per file content."""
    from china_site.filings import clear_registry_cache

    reset = getattr(adapter, "reset_run_state", None)
    if callable(reset):
        reset()
    for name in ("_REGISTRIES", "_SETTINGS", "_FAILED_SINCE_STACK_CHECK"):
        cache = getattr(adapter, name, None)
        if isinstance(cache, dict):
            cache.clear()
    clear_registry_cache()


def noop_policy() -> Any:
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    return ResourceValidationPolicy(
        name="no-op",
        description="Does nothing.",
        validate=lambda args, report: None,
        enforcement_level=EnforcementLevel.ADVISORY,
    )


def floor_pass(path: Path) -> int:
    """``json.load`` and one pass over the resources, touching what any audit must read."""
    with path.open("rb") as fh:
        doc = json.load(fh)
    seen = 0
    for resource in doc["deployment"]["resources"]:
        if resource.get("type") and resource.get("urn") and isinstance(resource.get("inputs", {}), dict):
            seen += 1
    return seen


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    from bench import gen
    from china_site.engine.artifacts import read_artifact
    from china_site.engine.driver import evaluate
    from china_site.engine.runner import check as check_records

    export, registry = gen.stack_export(sz.audit_resources, seed=303)
    path = work / "state.json"
    path.write_text(json.dumps(export, indent=4, ensure_ascii=False), encoding="utf-8")  # as `pulumi stack export`
    registry_path = work / "filings.json"
    registry_path.write_text(json.dumps(registry, ensure_ascii=False), encoding="utf-8")
    pack, adapter = load_pack()
    today = dt.date.fromisoformat(TODAY)

    def audit() -> tuple[int, int]:
        reset_pack_caches(adapter)
        artifact = read_artifact(str(path))
        checked = check_records(
            artifact.records,
            pack=pack,
            stack_config=artifact.config,
            filings=str(registry_path),
            today=today,
            stack=artifact.stack,
            project=artifact.project,
        )
        return len(artifact.records), len(checked.diagnostics)

    noop = [noop_policy()]

    def sdk_only() -> int:
        artifact = read_artifact(str(path))
        return len(evaluate(noop, artifact.records).diagnostics)

    audit()  # warm-up: lazy imports, data files
    floor_times, our_times, n, (resources, diagnostics) = interleaved(sz.audit_rounds, lambda: floor_pass(path), audit)
    parse_s = median([timed(lambda: read_artifact(str(path)))[0] for _ in range(sz.audit_rounds)])
    noop_s = median([timed(sdk_only)[0] for _ in range(sz.audit_rounds)])
    floor, mine = median(floor_times), median(our_times)
    primary = check("audit vs json.load + one pass", floor=floor, ours=mine, unit="s", goal=GOAL, n=resources)
    return figure(
        primary,
        resources=resources,
        file_mb=path.stat().st_size / 1e6,
        diagnostics=diagnostics,
        resources_per_s=resources / mine,
        per_resource_s=mine / resources,
        read_artifact_s=parse_s,
        sdk_noop_s=noop_s,
        ratio_vs_sdk_noop=mine / noop_s,
        floor_resources=n,
    )
