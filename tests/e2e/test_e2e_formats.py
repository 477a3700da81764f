"""Every event format the real CLI writes, read by ``china-site audit`` exactly as the README shows the commands
(issue 21, item 2): ``pulumi up --json`` (the preview document first, then the update's events), ``--event-log``
(offered only with ``PULUMI_DEBUG_COMMANDS=true``, which the e2e environment sets) and ``pulumi policy analyze
--json`` (the pack's verdicts on exported state, audited with ``--state``). Each report agrees with the engine.
"""

from __future__ import annotations

import json

from e2e_helpers import Project, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_audit import audit, engine_set, findings
from test_e2e_pack_blocks import cdn_urn, hand_made, write_config


def test_up_json_with_its_leading_preview_document_is_audited(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    config = write_config(project, {"icp-filing-required": {"enforcementLevel": "advisory"}})
    up = project.pulumi("up", "--yes", "--json", "--policy-pack", "policies", "--policy-pack-config", str(config))
    first = up.stdout.lstrip()[:1]
    assert first == "{" and up.stdout.count("\n") > 1
    try:
        json.loads(up.stdout)
        whole = True
    except json.JSONDecodeError:
        whole = False
    assert not whole  # several JSON values: what made `audit` fail before ("line 1 is not valid JSON")
    engine = engine_set(policy_events(up))
    assert ("icp-filing-required", cdn_urn(project), "advisory") in engine
    code, report = audit(project, up.stdout, config)
    assert code == 0, report  # advisory only
    assert report["engine_compared"] is True and report["disagreements"] == [], report["disagreements"]
    assert findings(report) == engine


def test_an_event_log_is_audited(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    pre = project.pulumi("preview", "--policy-pack", "policies", check=False)  # writes --event-log (e2e_helpers)
    assert pre.returncode != 0
    log = project.dir.parent / f"events-{len(project.runs) - 1}.jsonl"
    assert log.is_file()
    code, report = audit(project, log.read_text(encoding="utf-8"))
    assert code == 1
    assert report["disagreements"] == []
    # the engine's verdicts, and the failed run itself (the preview the pack blocked)
    assert findings(report) == engine_set(policy_events(pre)) | {("run-failed", "", "mandatory")}


def test_policy_analyze_json_is_audited_on_the_state_it_analysed(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project)
    project.pulumi("up", "--yes")  # no pack: the unfiled mainland CDN domain is deployed
    state = project.dir.parent / "state.json"
    project.pulumi("stack", "export", "--file", str(state))
    analyzed = project.pulumi(
        "policy", "analyze", "--file", str(state), "--policy-pack", "policies", "--json", check=False
    )
    assert analyzed.returncode != 0  # a mandatory violation on the state
    verdicts = [json.loads(line) for line in analyzed.stdout.splitlines() if line.strip()]
    assert any(e.get("policyEvent") for e in verdicts) and not any(e.get("resourcePreEvent") for e in verdicts)
    path = project.dir.parent / "analyze.json"
    path.write_text(analyzed.stdout)
    done = project.china_site("audit", str(path), "--state", str(state), "--today", "2026-11-28", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert ("icp-filing-required", cdn_urn(project), "mandatory") in findings(report)
    assert report["engine_compared"] is True and report["disagreements"] == [], report["disagreements"]


def test_a_mistyped_key_of_an_advisory_policy_blocks_the_real_preview(
    project: Project, local_cloud: LocalCloud
) -> None:
    # the engine accepts the unknown key (the schema allows extra properties); the pack blocks instead of letting
    # psb-filing-due stop checking silently
    project.stack("mainland")
    config = write_config(project, {"psb-filing-due": {"psbGraceDayz": 10}})
    pre = project.pulumi("preview", "--policy-pack", "policies", "--policy-pack-config", str(config), check=False)
    assert pre.returncode != 0
    found = policy_events(pre)
    assert any(p == "filing-registry-available" and level.lower() == "mandatory" for p, _urn, level in found), found
    assert "did you mean 'psbGraceDays'" in pre.stdout + pre.stderr
