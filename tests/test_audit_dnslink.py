"""What the real engine revealed about a DNS record linked to a public mainland resource of its stack (fast tests of
the files tests/e2e/test_e2e_dns_linked.py saved; see tests/data/README.md).

The hand-made program: an internet ALB in cn-shanghai and ``shop.unfiled-example.com`` CNAME'd to the ALB's
``dnsName``. The engine blocked its preview with ``dns-linked-exposure`` (mandatory) on the record. Its events carry
no dependencies, so audit of them says ``links-not-in-artifact`` on the record — never more lenient than the engine —
and, with ``--state`` (the deployed stack's export), reports ``dns-linked-exposure`` itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from registry_data import TODAY, write_registry
from typer.testing import CliRunner

from china_site.cli import app

ENGINE = Path(__file__).resolve().parent / "data" / "engine"
BLOCKED_EVENTS = ENGINE / "dnslink-blocked-preview-events.jsonl"
STATE = ENGINE / "dnslink-state-export.json"
UPDATE_EVENTS = ENGINE / "dnslink-update-preview-events.jsonl"
RECORD = "urn:pulumi:dnslink::china-site::alicloud:dns/alidnsRecord:AlidnsRecord::shop"
ALB = "urn:pulumi:dnslink::china-site::alicloud:alb/loadBalancer:LoadBalancer::alb"
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_registry(tmp_path_factory.mktemp("dnslink-registry")))


def audit(registry: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["audit", *args, "--filings", registry, "--today", TODAY, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["policy"], f["urn"] or "", f["enforcement"]) for f in data["findings"]}


def test_the_engine_blocked_the_preview_with_dns_linked_exposure_on_the_record() -> None:
    """The file is what the test below is about: the engine's mandatory verdict on the record, at preview."""
    events = [json.loads(line) for line in BLOCKED_EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    policy = [e["policyEvent"] for e in events if "policyEvent" in e]
    verdicts = {(p["policyName"], p.get("resourceUrn", "")) for p in policy}
    assert ("dns-linked-exposure", RECORD) in verdicts
    pre = [e["resourcePreEvent"]["metadata"] for e in events if "resourcePreEvent" in e]
    [record] = [meta["new"] for meta in pre if meta["urn"] == RECORD]
    assert "dependencies" not in record and "propertyDependencies" not in record  # what events never carry


def test_audit_of_the_blocked_previews_events_is_never_more_lenient(registry: str) -> None:
    code, data = audit(registry, str(BLOCKED_EVENTS))
    assert code == 1
    got = findings(data)
    assert ("run-failed", "", "mandatory") in got
    assert ("links-not-in-artifact", RECORD, "mandatory") in got
    [gap] = [f for f in data["findings"] if f["policy"] == "links-not-in-artifact"]
    assert "shop.unfiled-example.com" in gap["message"] and "--state state.json" in gap["message"]
    # No false finding: the record is not judged without its link, the ALB only gets the advisory one.
    assert ("dns-linked-exposure", RECORD, "mandatory") not in got
    assert {f for f in got if f[2] == "mandatory"} == {
        ("run-failed", "", "mandatory"),
        ("links-not-in-artifact", RECORD, "mandatory"),
    }
    assert ("untied-mainland-exposure", ALB, "advisory") in got


def test_the_engines_verdict_that_the_link_gap_stands_for_is_no_disagreement(registry: str) -> None:
    """Found by the real engine: its dns-linked-exposure on the record was listed as a DISAGREEMENT ("different
    registry, date, policy config or pack version?"), though audit's own mandatory links-not-in-artifact on that
    record says why it could not judge it — a false lead for whoever reads the report."""
    _, data = audit(registry, str(BLOCKED_EVENTS))
    shown = {(e["policy"], e["urn"], e["enforcement"]) for e in data["engine_policy_events"]}
    assert ("dns-linked-exposure", RECORD, "mandatory") in shown  # still shown beside ours
    assert data["engine_compared"] is True
    assert data["disagreements"] == [], data["disagreements"]


def test_the_state_gives_the_events_their_links(registry: str) -> None:
    code, data = audit(registry, str(BLOCKED_EVENTS), "--state", str(STATE))
    assert code == 1
    got = findings(data)
    assert ("links-not-in-artifact", RECORD, "mandatory") not in got
    assert ("dns-linked-exposure", RECORD, "mandatory") in got
    [dns] = [f for f in data["findings"] if f["policy"] == "dns-linked-exposure"]
    assert "shop.unfiled-example.com" in dns["message"] and "'alb'" in dns["message"]
    assert data["disagreements"] == [], data["disagreements"]  # the engine's verdict, now audit's own


def test_the_deployed_stacks_export_alone_has_the_violation(registry: str) -> None:
    code, data = audit(registry, str(STATE))
    assert code == 1
    assert ("dns-linked-exposure", RECORD, "mandatory") in findings(data)


def test_a_filed_name_on_the_same_link_is_no_gap_and_no_violation(registry: str, tmp_path: Path) -> None:
    """The passing case: the same real events with the record renamed to a filed name (www.example.cn, ICP and PSB
    in order in the test registry): no link can make it a violation, so neither finding (the failed run stays)."""
    events = tmp_path / "filed.jsonl"
    out = []
    for line in BLOCKED_EVENTS.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        for kind in ("resourcePreEvent", "resOutputsEvent"):
            meta = (event.get(kind) or {}).get("metadata") or {}
            if meta.get("urn") == RECORD:
                for props in (meta["new"].get("inputs"), meta["new"].get("outputs")):
                    if props:
                        props.update(domainName="example.cn", rr="www")
        out.append(json.dumps(event) + "\n")
    events.write_text("".join(out), encoding="utf-8")
    assert '"domainName": "example.cn"' in events.read_text(encoding="utf-8")
    code, data = audit(registry, str(events))
    got = {p for p, *_ in findings(data)}
    assert "links-not-in-artifact" not in got and "dns-linked-exposure" not in got
    assert code == 1 and "run-failed" in got  # the engine's block of the original run is still in the file


def test_an_update_renaming_the_record_is_linked_by_its_known_value(registry: str) -> None:
    """The deployed stack with the record renamed to buy.unfiled-example.com: the ALB exists, so the record's value
    is its dnsName, known at preview; the events tie the name to the ALB by that value, no --state needed."""
    code, data = audit(registry, str(UPDATE_EVENTS))
    assert code == 1
    got = findings(data)
    assert ("dns-linked-exposure", RECORD, "mandatory") in got
    assert ("links-not-in-artifact", RECORD, "mandatory") not in got
    [dns] = [f for f in data["findings"] if f["policy"] == "dns-linked-exposure"]
    assert "buy.unfiled-example.com" in dns["message"] and "'alb'" in dns["message"]
    assert data["disagreements"] == [], data["disagreements"]


def test_a_state_without_the_record_leaves_the_gap(registry: str, tmp_path: Path) -> None:
    """A --state exported before the record existed has no links for it: the finding stays (never a silent pass)."""
    doc = json.loads(STATE.read_text(encoding="utf-8"))
    doc["deployment"]["resources"] = [r for r in doc["deployment"]["resources"] if r["urn"] != RECORD]
    state = tmp_path / "state.json"
    state.write_text(json.dumps(doc), encoding="utf-8")
    code, data = audit(registry, str(BLOCKED_EVENTS), "--state", str(state))
    assert code == 1
    got = findings(data)
    assert ("links-not-in-artifact", RECORD, "mandatory") in got
    assert ("dns-linked-exposure", RECORD, "mandatory") not in got
