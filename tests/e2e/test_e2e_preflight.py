"""preflight vs the real preview: for both sample stacks, ``china-site preflight`` (the program under mocks, the pack
in-process) lists the same resources (URN type and name), regions and verdicts as ``pulumi preview`` with the pack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from e2e_helpers import TODAY, Project, policy_events
from sample_stacks import CHINA_SITE_PROVIDER

NO_REGION = "—"


def real_plan(steps: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(type, name) → region of every resource the real preview would create: a provider's own ``region`` input; for
    other resources, the region of the provider they use; "—" for components."""

    def type_name(urn: str) -> tuple[str, str]:
        parts = urn.split("::")
        return parts[2].split("$")[-1], parts[3]

    by_urn = {s["urn"]: s for s in steps}
    plan: dict[tuple[str, str], str] = {}
    for s in steps:
        t, name = type_name(s["urn"])
        if t == "pulumi:pulumi:Stack":
            continue
        state = s.get("newState") or {}
        region = NO_REGION
        if t == "pulumi:providers:alicloud":
            region = state.get("inputs", {}).get("region", NO_REGION)
        elif s.get("provider") or state.get("provider"):
            provider_urn = (s.get("provider") or state["provider"]).rsplit("::", 1)[0]
            provider = by_urn.get(provider_urn, {}).get("newState") or {}
            region = provider.get("inputs", {}).get("region", NO_REGION)
        plan[(t, name)] = region
    return plan


def preflight_plan(table: str) -> dict[tuple[str, str], str]:
    """(type, name) → region column of preflight's plan table (a row is two lines: name, then type)."""
    rows = [
        [c.strip() for c in line.strip().strip("│").split("│")]
        for line in table.splitlines()
        if line.startswith("│") and "│" in line[1:]
    ]
    plan: dict[tuple[str, str], str] = {}
    for first, second in zip(rows[0::2], rows[1::2], strict=False):
        plan[(second[0], first[0])] = first[1]
    return plan


@pytest.mark.parametrize("stack", ["mainland", "hongkong"])
def test_preflight_lists_what_the_real_preview_does(stack: str, project: Project) -> None:
    project.stack(stack)
    preview = project.pulumi("preview", "--policy-pack", "policies", "--json", "--show-sames")
    real = real_plan(preview.json()["steps"])

    table = project.china_site("preflight", "--stack", stack, "--today", TODAY, env={"COLUMNS": "250"})
    assert table.returncode == 0, table.stdout + table.stderr
    offline = preflight_plan(table.stdout)
    # The real preview's JSON leaves out default providers (the engine registers them; the display hides them):
    # preflight lists the china-site plugin's default provider (SiteContent, the ownership check), the preview does not.
    default_providers = {k for k in offline if k[0].startswith("pulumi:providers:") and k[1].startswith("default")}
    assert default_providers == {("pulumi:providers:china-site", CHINA_SITE_PROVIDER)}
    assert not {k for k in real if k[1].startswith("default")}
    assert set(offline) - default_providers == set(real)
    shown = {key: region for key, region in offline.items() if region != NO_REGION}
    assert shown, offline
    assert shown == {key: real[key] for key in shown}

    verdicts = project.china_site("preflight", "--stack", stack, "--today", TODAY, "--format", "json")
    report = json.loads(verdicts.stdout)
    offline_findings = {(f["policy"], f["urn"], f["enforcement"]) for f in report["findings"]}
    assert offline_findings == policy_events(preview)
    assert report["summary"]["resources"] == len(offline) + 1  # and the stack resource
