"""The pack blocks what a program does by hand: a CDN domain with scope ``domestic`` for an unfiled domain through an
explicit mainland provider, no china-site component in sight. The real CLI runs the pack and prints the violation;
``remediate`` rewrites the engine's inputs; a waiver turns it advisory; the engine's ``environments`` key is fine."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from e2e_helpers import TODAY, Project, policy_events
from localcloud.fixtures import LocalCloud

DOMAIN = "shop.unfiled-example.com"
PROGRAM = f"""
import pulumi
import pulumi_alicloud as alicloud

mainland = alicloud.Provider("mainland", region="cn-shanghai")
alicloud.cdn.DomainNew(
    "cdn",
    domain_name="{DOMAIN}",
    cdn_type="web",
    scope="domestic",
    sources=[alicloud.cdn.DomainNewSourceArgs(content="origin.example.com", type="domain", port=80, priority=20,
                                              weight=10)],
    opts=pulumi.ResourceOptions(provider=mainland),
)
"""


def hand_made(project: Project) -> Project:
    (project.dir / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    for stack_file in project.dir.glob("Pulumi.*.yaml"):
        stack_file.unlink()
    project.stack("byhand", **{"china-site:filings": "filings.yaml"})
    return project


def cdn_urn(project: Project) -> str:
    return "urn:pulumi:byhand::china-site::alicloud:cdn/domainNew:DomainNew::cdn"


def write_config(project: Project, config: dict[str, object]) -> Path:
    path = project.dir.parent / "policy-config.json"
    path.write_text(json.dumps(config))
    return path


def test_preview_fails_with_a_mandatory_icp_violation(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    pre = project.pulumi("preview", "--policy-pack", "policies", check=False)
    assert pre.returncode != 0
    assert ("icp-filing-required", cdn_urn(project), "mandatory") in policy_events(pre)
    # As the CLI prints it: the pack, then the level, severity, policy and resource, then our bilingual message.
    assert re.search(r"Policies:\n\s+❌ china-site@v0\.1\.0 \(local: policies\)\n", pre.stdout), pre.stdout[-4000:]
    assert re.search(
        r"- \[mandatory\] \[severity: critical\]\s+icp-filing-required\s+\(alicloud:cdn:DomainNew: cdn\)", pre.stdout
    ), pre.stdout[-4000:]
    assert "DomainNotRegistration" in pre.stdout and "没有 ICP 备案" in pre.stdout
    assert DOMAIN in pre.stdout
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", check=False)
    assert up.returncode != 0
    assert local_cloud.resources("alicloud:cdn/domainNew:DomainNew") == []


def test_remediate_rewrites_the_scope_to_overseas(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    cfg = write_config(project, {"icp-filing-required": {"enforcementLevel": "remediate"}})
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", "--policy-pack-config", str(cfg))
    assert not {e for e in policy_events(up) if e[2] == "mandatory"}
    remediations = [e["policyRemediationEvent"] for e in up.events if "policyRemediationEvent" in e]
    assert [r["policyName"] for r in remediations] == ["icp-filing-required"]
    (cdn,) = local_cloud.resources("alicloud:cdn/domainNew:DomainNew")
    assert cdn["inputs"]["scope"] == "overseas"
    creates = local_cloud.calls("Create", type="alicloud:cdn/domainNew:DomainNew")
    assert [c["inputs"]["scope"] for c in creates] == ["overseas"]


def test_a_waiver_makes_it_advisory(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    waiver = {"policy": "icp-filing-required", "resource": "cdn", "reason": "filing submitted, test", "expires": TODAY}
    cfg = write_config(project, {"icp-filing-required": {"waivers": [waiver]}})
    pre = project.pulumi("preview", "--policy-pack", "policies", "--policy-pack-config", str(cfg))
    found = policy_events(pre)
    assert pre.returncode == 0
    assert not {e for e in found if e[2] == "mandatory"}, found  # advisory findings (if any) only
    # An active waiver relaxes, it never hides: the violation at advisory level, naming the waiver.
    assert ("icp-filing-required", cdn_urn(project), "advisory") in found
    assert "WAIVED until" in pre.stdout and "filing submitted, test" in pre.stdout
    # china-site audit of the same run, with the same config: the same advisory finding, naming the waiver.
    pack = ["--policy-pack", "policies", "--policy-pack-config", str(cfg)]
    plan = project.pulumi("preview", "--json", "--show-sames", *pack)
    done = project.china_site("audit", "-", "--policy-config", str(cfg), "--format", "json", stdin=plan.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    [waived] = [f for f in json.loads(done.stdout)["findings"] if f["policy"] == "icp-filing-required"]
    assert waived["enforcement"] == "advisory" and "WAIVED until" in waived["message"]
    assert "filing submitted, test" in waived["message"]


def test_a_config_file_with_the_engines_environments_key_is_accepted(project: Project) -> None:
    hand_made(project)
    cfg = write_config(project, {"environments": [], "icp-filing-required": {"enforcementLevel": "advisory"}})
    pre = project.pulumi("preview", "--policy-pack", "policies", "--policy-pack-config", str(cfg))
    assert ("icp-filing-required", cdn_urn(project), "advisory") in policy_events(pre)
