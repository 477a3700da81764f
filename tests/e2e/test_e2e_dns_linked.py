"""A DNS record that points an unfiled name at a public mainland resource of the same stack, under the real engine.

The hand-made program: an internet ALB in cn-shanghai and an Alibaba Cloud DNS record ``shop.unfiled-example.com``
CNAME'd to the ALB's ``dnsName`` (known only after create). At preview the record's value is unknown: the pack ties
it to the ALB through the record's dependencies and blocks the run with ``dns-linked-exposure`` (mandatory). The
engine events of that preview (``--event-log``) never carry dependencies, so ``china-site audit`` of them must not be
more lenient than the engine: ``links-not-in-artifact`` (or the engine's finding itself); given a ``pulumi stack
export`` of the deployed stack with ``--state``, it reads the links and reports ``dns-linked-exposure`` itself.

Then an update of the deployed stack renames the record: its value is known (the ALB exists), the events link it by
value and audit reports ``dns-linked-exposure`` without ``--state``.

``CHINA_SITE_E2E_SAVE_EVENTS=<folder>`` keeps the files the engine wrote there (how tests/data/engine/dnslink-* were
made; the fast tests in tests/test_audit_dnslink.py audit them).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from e2e_helpers import TODAY, PolicyFinding, Project, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_audit import engine_set, findings
from test_e2e_events import _keep
from test_e2e_pack_blocks import write_config

FQDN = "shop.unfiled-example.com"
PROGRAM = """
import pulumi
import pulumi_alicloud as alicloud

mainland = alicloud.Provider("mainland", region="cn-shanghai")
opts = pulumi.ResourceOptions(provider=mainland)
vpc = alicloud.vpc.Network("vpc", vpc_name="shop-vpc", cidr_block="10.0.0.0/16", opts=opts)
lb_a = alicloud.vpc.Switch("lb-a", vpc_id=vpc.id, cidr_block="10.0.1.0/24", zone_id="cn-shanghai-e", opts=opts)
lb_b = alicloud.vpc.Switch("lb-b", vpc_id=vpc.id, cidr_block="10.0.2.0/24", zone_id="cn-shanghai-f", opts=opts)
alb = alicloud.alb.LoadBalancer(
    "alb",
    load_balancer_name="shop-alb",
    vpc_id=vpc.id,
    address_type="Internet",
    address_allocated_mode="Dynamic",
    load_balancer_edition="Standard",
    load_balancer_billing_config=alicloud.alb.LoadBalancerLoadBalancerBillingConfigArgs(pay_type="PayAsYouGo"),
    zone_mappings=[
        alicloud.alb.LoadBalancerZoneMappingArgs(zone_id="cn-shanghai-e", vswitch_id=lb_a.id),
        alicloud.alb.LoadBalancerZoneMappingArgs(zone_id="cn-shanghai-f", vswitch_id=lb_b.id),
    ],
    opts=opts,
)
alicloud.dns.AlidnsRecord(
    "shop", domain_name="unfiled-example.com", rr="shop", type="CNAME", value=alb.dns_name, opts=opts
)
"""
STACK = "dnslink"
RECORD = f"urn:pulumi:{STACK}::china-site::alicloud:dns/alidnsRecord:AlidnsRecord::shop"


def dns_linked(project: Project) -> Project:
    (project.dir / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    for stack_file in project.dir.glob("Pulumi.*.yaml"):
        stack_file.unlink()
    project.stack(STACK, **{"china-site:filings": "filings.yaml"})
    return project


def small_export(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``pulumi stack export`` as committed: without the source positions' stack traces (paths of this machine)
    and the passphrase secrets provider's state (the stack has no secret)."""
    deployment = doc["deployment"]
    deployment.pop("secrets_providers", None)
    for resource in deployment["resources"]:
        resource.pop("stackTrace", None)
    return doc


def audit_file(project: Project, artifact: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = project.china_site("audit", str(artifact), "--today", TODAY, "--format", "json", *extra)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_record_pointing_an_unfiled_name_at_the_stacks_alb_is_blocked_and_audit_is_never_more_lenient(
    project: Project, local_cloud: LocalCloud
) -> None:
    dns_linked(project)
    blocked = project.pulumi("preview", "--policy-pack", "policies", check=False)
    assert blocked.returncode != 0, blocked.output[-4000:]
    engine = engine_set(policy_events(blocked))
    assert ("dns-linked-exposure", RECORD, "mandatory") in engine, (engine, blocked.output[-4000:])
    assert FQDN in blocked.stdout
    events = project.dir.parent / f"events-{len(project.runs) - 1}.jsonl"  # the engine's own --event-log file
    assert events.exists()
    _keep(events, "dnslink-blocked-preview-events.jsonl")

    # (a) The engine's own events of the blocked preview: never more lenient than the engine.
    code, report = audit_file(project, events)
    assert code == 1
    got = findings(report)
    assert ("run-failed", "", "mandatory") in got
    assert got & {("dns-linked-exposure", RECORD, "mandatory"), ("links-not-in-artifact", RECORD, "mandatory")}, got
    _never_more_lenient(got, engine)
    # The engine's dns-linked-exposure there is what links-not-in-artifact stands for: no disagreement to explain.
    assert report["disagreements"] == [], report["disagreements"]

    # The preview's JSON digest (--show-sames) carries the dependencies: audit judges the record itself.
    digest = project.pulumi("preview", "--policy-pack", "policies", "--json", "--show-sames", check=False)
    plan = project.dir.parent / "plan.json"
    plan.write_text(digest.stdout, encoding="utf-8")
    code, report = audit_file(project, plan)
    assert code == 1
    assert ("dns-linked-exposure", RECORD, "mandatory") in findings(report), report
    _never_more_lenient(findings(report), engine_set(policy_events(digest)))

    # Deploy it with dns-linked-exposure advisory, then export: the state has the record's dependencies.
    cfg = write_config(project, {"dns-linked-exposure": {"enforcementLevel": "advisory"}})
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", "--policy-pack-config", str(cfg))
    assert ("dns-linked-exposure", RECORD, "advisory") in policy_events(up)
    # Audit of the update's own events, with the same config: the engine's verdicts, no disagreement.
    up_events = project.dir.parent / f"events-{len(project.runs) - 1}.jsonl"
    code, report = audit_file(project, up_events, "--policy-config", str(cfg))
    assert code == 0, report
    assert findings(report) == engine_set(policy_events(up)), report
    assert report["disagreements"] == [], report["disagreements"]
    state = project.dir.parent / "state.json"
    state.write_text(json.dumps(small_export(project.pulumi("stack", "export").json()), indent=1), encoding="utf-8")
    _keep(state, "dnslink-state-export.json")

    # (b) The blocked preview's events with --state: the links are read, the violation is audit's own.
    code, report = audit_file(project, events, "--state", str(state))
    assert code == 1
    got = findings(report)
    assert ("dns-linked-exposure", RECORD, "mandatory") in got, report
    assert ("links-not-in-artifact", RECORD, "mandatory") not in got
    [dns] = [f for f in report["findings"] if f["policy"] == "dns-linked-exposure"]
    assert FQDN in dns["message"] and "alb" in dns["message"]
    _never_more_lenient(got, engine)
    assert report["disagreements"] == [], report["disagreements"]

    # The export alone, as the pack judges the deployed stack (without the advisory config): the same violation.
    code, report = audit_file(project, state)
    assert code == 1
    assert ("dns-linked-exposure", RECORD, "mandatory") in findings(report), report

    # An update of the deployed stack: the record renamed (another unfiled name). Its value is known now (the ALB's
    # dnsName): the events link it by value; a plain preview (no --show-sames) is judged or says what it lacks.
    program = project.dir / "__main__.py"
    program.write_text(program.read_text(encoding="utf-8").replace('rr="shop"', 'rr="buy"'), encoding="utf-8")
    update = project.pulumi("preview", "--policy-pack", "policies", check=False)
    assert update.returncode != 0
    engine = engine_set(policy_events(update))
    assert ("dns-linked-exposure", RECORD, "mandatory") in engine, engine
    update_events = project.dir.parent / f"events-{len(project.runs) - 1}.jsonl"
    _keep(update_events, "dnslink-update-preview-events.jsonl")
    code, report = audit_file(project, update_events)
    assert code == 1
    got = findings(report)
    assert ("dns-linked-exposure", RECORD, "mandatory") in got, report
    _never_more_lenient(got, engine)
    assert report["disagreements"] == [], report["disagreements"]
    plain = project.pulumi("preview", "--policy-pack", "policies", "--json", check=False)
    plan.write_text(plain.stdout, encoding="utf-8")
    code, report = audit_file(project, plan)
    assert code == 1
    got = findings(report)
    gaps = {"provider-not-in-artifact", "resources-not-in-artifact", "links-not-in-artifact"}
    assert ("dns-linked-exposure", RECORD, "mandatory") in got or {p for p, *_ in got} & gaps, report


def _never_more_lenient(got: set[PolicyFinding], engine: set[PolicyFinding]) -> None:
    """Every mandatory verdict of the engine is audit's too, or (dns-linked-exposure) the gap is a mandatory
    links-not-in-artifact finding on the same record."""
    for policy, urn, level in engine:
        if level != "mandatory":
            continue
        gap = policy == "dns-linked-exposure" and ("links-not-in-artifact", urn, "mandatory") in got
        assert (policy, urn, level) in got or gap, (policy, urn, got)
