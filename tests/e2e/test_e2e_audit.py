"""Audit parity with the real engine: ``china-site audit`` of what the CLI writes (``pulumi stack export``,
``pulumi preview --json --show-sames``, ``pulumi up --json``) finds exactly the (policy, resource, level) set the
engine's policy events reported for the same stack. A plain ``pulumi preview --json`` of an update (unchanged
providers omitted) finds the same set or names the resources it cannot judge — never a false mandatory finding."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import TODAY, PolicyFinding, Project, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_pack_blocks import hand_made, write_config

LEVELS = {"mandatory": "mandatory", "advisory": "advisory", "disallowed": "mandatory", "remediate": "mandatory"}


def audit(
    project: Project, artifact: str, policy_config: Path | None = None, *, allow_bad_input: bool = False
) -> tuple[int, dict[str, Any]]:
    """``china-site audit --format json`` of an artifact: (exit code, report); exit 2 gives ``{"error": stderr}``."""
    path = project.dir.parent / f"artifact-{len(project.runs)}.json"
    path.write_text(artifact)
    args = ["audit", str(path), "--today", TODAY, "--format", "json"]
    if policy_config is not None:
        args += ["--policy-config", str(policy_config)]
    done = project.china_site(*args)
    if done.returncode == 2 and allow_bad_input:
        return 2, {"error": done.stderr + done.stdout}
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(report: dict[str, Any]) -> set[PolicyFinding]:
    return {(f["policy"], f["urn"] or "", f["enforcement"]) for f in report["findings"]}


def engine_set(found: set[PolicyFinding]) -> set[PolicyFinding]:
    return {(p, urn, LEVELS[level]) for p, urn, level in found}


def sample(name: str) -> Callable[[Project], Path | None]:
    def setup(project: Project) -> Path | None:
        project.stack(name)
        return None

    return setup


def by_hand_advisory(project: Project) -> Path | None:
    """The hand-made mainland CDN domain, with icp-filing-required made advisory so that `up` goes through."""
    hand_made(project)
    return write_config(project, {"icp-filing-required": {"enforcementLevel": "advisory"}})


SCENARIOS = {"mainland": sample("mainland"), "hongkong": sample("hongkong"), "by-hand": by_hand_advisory}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_audit_matches_the_engines_policy_events(scenario: str, project: Project, local_cloud: LocalCloud) -> None:
    cfg = SCENARIOS[scenario](project)
    pack = ["--policy-pack", "policies"] + (["--policy-pack-config", str(cfg)] if cfg else [])

    preview = project.pulumi("preview", *pack, "--json", "--show-sames")
    real_preview = engine_set(policy_events(preview))
    code, report = audit(project, preview.stdout, cfg)
    assert findings(report) == real_preview
    assert code == (1 if any(level == "mandatory" for *_, level in real_preview) else 0)

    up = project.pulumi("up", "--yes", "--skip-preview", *pack, "--json")
    real_up = engine_set(policy_events(up))
    assert real_up == real_preview  # the same verdicts at preview and at update

    export = project.pulumi("stack", "export")
    _, report = audit(project, export.stdout, cfg)
    assert findings(report) == real_up

    # An ordinary preview of the next update omits unchanged resources, providers included: the same set, or a
    # finding that names what cannot be judged and how to fix it — never a false mandatory finding.
    plain = project.pulumi("preview", *pack, "--json")
    _, report = audit(project, plain.stdout, cfg)
    got = findings(report)
    explained = {f for f in got if "--show-sames" in _message(report, f)}
    assert got - explained <= real_up  # no false finding; whatever is missing is named, with the fix
    # what the engine reported and the audit lacks is covered by a finding naming the omission (with the fix)
    named = {policy for policy, *_ in explained} & {"resources-not-in-artifact", "provider-not-in-artifact"}
    assert real_up <= got or named, report

    # `pulumi up --json`: the engine's own events, one per line.
    _, report = audit(project, up.stdout, cfg)
    assert findings(report) == real_up


def _message(report: dict[str, Any], finding: PolicyFinding) -> str:
    for f in report["findings"]:
        if (f["policy"], f["urn"] or "", f["enforcement"]) == finding:
            return str(f["message"])
    return ""
