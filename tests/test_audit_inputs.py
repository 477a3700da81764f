"""``china-site audit`` of ordinary previews (no ``--show-sames``, optional ``--state``) and of JSON engine events
(``pulumi up --json``, streaming previews, Automation API ``on_event``), with the engine's own policy verdicts beside
ours. Fixtures: tests/data/engine (see tests/data/README.md: written from Pulumi's apitype Go source, not by the CLI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from registry_data import TODAY, write_registry
from typer.testing import CliRunner

from china_site.cli import app
from china_site.engine.artifacts import read_artifact

ENGINE = Path(__file__).resolve().parent / "data" / "engine"
HK_PREVIEW = ENGINE / "hongkong-update-preview.json"
HK_PREVIEW_SAMES = ENGINE / "hongkong-update-preview-show-sames.json"
HK_STATE = ENGINE / "hongkong-state-export.json"
UP_EVENTS = ENGINE / "mainland-unfiled-up-events.jsonl"
AUTOMATION_EVENTS = ENGINE / "mainland-unfiled-automation-events.jsonl"
CDN_URN = "urn:pulumi:prod::shop::china-site:index:Site$alicloud:cdn/domainNew:DomainNew::www-cdn"
BUCKET_URN = "urn:pulumi:prod::shop::china-site:index:Site$alicloud:oss/bucket:Bucket::www-bucket"
RUN_FAILED_PROD = ("run-failed", "mandatory", "shop-prod")  # the events' run failed: the engine blocked it
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_registry(tmp_path_factory.mktemp("inputs-registry")))


def audit(registry: str, *args: str) -> Any:
    return runner.invoke(app, ["audit", *args, "--filings", registry, "--today", TODAY])


def as_json(result: Any) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def findings(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]}


# ---------------------------------------------------------------------------------------------------------------
# A preview without --show-sames: the unchanged explicit provider is not in it


def test_preview_without_sames_says_the_provider_is_missing(registry: str) -> None:
    data = as_json(audit(registry, str(HK_PREVIEW), "--format", "json"))
    # Not an invented ICP violation of a Hong Kong site (before: icp-filing-required on www-cname, the region being
    # unknown and read as mainland): the reason and the fix, for each resource of the missing provider.
    # And the unchanged resources the preview only counts are named as not checked (found by the real engine).
    # The CDN's scope (overseas) alone decides where it serves: it is judged (no finding), not left unchecked.
    assert findings(data) == {
        ("provider-not-in-artifact", "mandatory", "www-cname"),
        ("resources-not-in-artifact", "mandatory", "shop-hk"),
    }
    message = next(f["message"] for f in data["findings"] if f["policy"] == "provider-not-in-artifact")
    assert "www-provider" in message and "--show-sames" in message and "--state state.json" in message
    assert "not read as mainland" in message and "无法确定其地域" in message
    assert data["summary"] == {"resources": 3, "mandatory": 2, "advisory": 0}
    assert audit(registry, str(HK_PREVIEW)).exit_code == 1


def test_state_export_gives_the_provider(registry: str) -> None:
    result = audit(registry, str(HK_PREVIEW), "--state", str(HK_STATE), "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["findings"] == []
    art = read_artifact(str(HK_PREVIEW), state=read_artifact(str(HK_STATE)))
    cdn = next(r for r in art.records if r.name == "www-cdn")
    assert cdn.provider is not None and cdn.provider.inputs["region"] == "cn-hongkong"
    assert art.missing_providers == ()


def test_show_sames_preview_needs_nothing_else(registry: str) -> None:
    result = audit(registry, str(HK_PREVIEW_SAMES), "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["findings"] == []


def test_state_must_be_an_export(registry: str) -> None:
    result = audit(registry, str(HK_PREVIEW), "--state", str(HK_PREVIEW_SAMES))
    assert result.exit_code == 2
    assert "--state needs a `pulumi stack export`" in result.output and "pulumi stack export --file" in result.output


def test_a_mainland_provider_from_state_is_still_judged(registry: str, tmp_path: Path) -> None:
    """--state resolves the region; it does not waive anything: the same CDN in cn-hangzhou with scope domestic."""
    preview = json.loads(HK_PREVIEW.read_text(encoding="utf-8"))
    preview["steps"][1]["newState"]["inputs"]["scope"] = "domestic"  # the CDN update
    state = json.loads(HK_STATE.read_text(encoding="utf-8"))
    for res in state["deployment"]["resources"]:
        if res["type"] == "pulumi:providers:alicloud":
            res["inputs"]["region"] = res["outputs"]["region"] = "cn-hangzhou"
    (tmp_path / "p.json").write_text(json.dumps(preview), encoding="utf-8")
    (tmp_path / "s.json").write_text(json.dumps(state), encoding="utf-8")
    data = as_json(audit(registry, str(tmp_path / "p.json"), "--state", str(tmp_path / "s.json"), "--format", "json"))
    assert {("icp-filing-required", "mandatory", "www-cdn"), ("icp-filing-required", "mandatory", "www-cname")} <= (
        findings(data)
    )
    assert not any(f["policy"] == "provider-not-in-artifact" for f in data["findings"])


# ---------------------------------------------------------------------------------------------------------------
# Engine events


@pytest.mark.parametrize("events", [UP_EVENTS, AUTOMATION_EVENTS], ids=["cli-json", "automation-api"])
def test_events_are_audited_and_agree_with_the_engine(registry: str, events: Path) -> None:
    result = audit(registry, str(events), "--format", "json")
    assert result.exit_code == 1, result.output
    data = as_json(result)
    # The engine blocked the run ("preview failed: 1 mandatory policy violation"): that is a finding of its own.
    assert findings(data) == {("icp-filing-required", "mandatory", "www-cdn"), RUN_FAILED_PROD}
    assert data["summary"] == {"resources": 6, "mandatory": 2, "advisory": 0}
    assert data["engine_compared"] is True
    assert [(e["policy"], e["enforcement"], e["urn"], e["pack"]) for e in data["engine_policy_events"]] == [
        ("icp-filing-required", "mandatory", CDN_URN, "china-site")
    ]
    assert data["disagreements"] == []
    # The secret access key of the provider stays masked.
    assert "EXAMPLEACCESSKEY" not in result.stdout


# Written by the real engine (tests/e2e/test_e2e_events.py with CHINA_SITE_E2E_SAVE_EVENTS): the hand-made program of
# tests/e2e/test_e2e_pack_blocks.py, a mainland CDN domain for the unfiled shop.unfiled-example.com, previewed with the
# pack. The Automation API's Python EngineEvent has no field for policyLoadEvent, policyAnalyzeSummaryEvent,
# policyRemediateSummaryEvent or policyAnalyzeStackSummaryEvent: those arrive as bare {sequence, timestamp}.
REAL_STREAMING = ENGINE / "byhand-unfiled-streaming-preview-events.jsonl"
REAL_AUTOMATION = ENGINE / "byhand-unfiled-automation-events.jsonl"
REAL_CDN_URN = "urn:pulumi:byhand::china-site::alicloud:cdn/domainNew:DomainNew::cdn"


@pytest.mark.parametrize("events", [REAL_STREAMING, REAL_AUTOMATION], ids=["streaming-preview", "automation-api"])
def test_events_the_real_engine_wrote_are_audited_and_agree(registry: str, events: Path) -> None:
    lines = _lines(events)
    bare = [e for e in lines if set(e) == {"sequence", "timestamp"}]
    assert (len(bare) > 0) == (events == REAL_AUTOMATION)  # what the Automation API drops, as the engine showed
    result = audit(registry, str(events), "--format", "json")
    assert result.exit_code == 1, result.output
    data = as_json(result)
    blocked = ("run-failed", "mandatory", "china-site-byhand")  # "preview failed": the engine blocked it
    assert findings(data) == {("icp-filing-required", "mandatory", "cdn"), blocked}
    assert data["engine_compared"] is True
    assert [(e["policy"], e["enforcement"], e["urn"]) for e in data["engine_policy_events"]] == [
        ("icp-filing-required", "mandatory", REAL_CDN_URN)
    ]
    assert data["disagreements"] == []


def test_automation_events_without_the_policy_summaries_still_show_the_pack_ran(registry: str, tmp_path: Path) -> None:
    # Only summaryEvent.PolicyPacks says the pack ran there: with its policyEvent taken out, the engine reported
    # nothing and ours is flagged — not "nothing to compare".
    events = [e for e in _lines(REAL_AUTOMATION) if not e.get("policyEvent")]
    data = as_json(audit(registry, _write(tmp_path, events), "--format", "json"))
    assert data["engine_compared"] is True and data["engine_policy_events"] == []
    assert [(d["policy"], d["reported_by"]) for d in data["disagreements"]] == [("icp-filing-required", "china-site")]


def test_events_read_like_the_export(registry: str) -> None:
    art = read_artifact(str(UP_EVENTS))
    assert art.kind == "events" and (art.stack, art.project) == ("prod", "shop")
    provider = next(r for r in art.records if r.name == "www-cdn").provider
    assert provider is not None and provider.inputs["region"] == "cn-hangzhou"
    assert provider.inputs["accessKey"] != "[secret]"  # masked → the secret wire form (value unknown)
    assert art.policy_packs == {"china-site": "0.1.0"}
    assert art.config["china-site:domain"] == "www.unfiled-shop.cn"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(tmp_path: Path, events: list[dict[str, Any]], name: str = "events.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return str(path)


def test_disagreements_are_flagged_both_ways(registry: str, tmp_path: Path) -> None:
    events = [e for e in _lines(UP_EVENTS) if "policyEvent" not in e]  # the engine did not flag the CDN …
    extra = {
        "resourceUrn": BUCKET_URN,  # … but flagged the bucket, which we do not
        "message": "x",
        "color": "never",
        "policyName": "domain-eligible",
        "policyPackName": "china-site",
        "policyPackVersion": "0.1.0",
        "policyPackVersionTag": "0.1.0",
        "enforcementLevel": "mandatory",
    }
    events.insert(5, {"sequence": 99, "timestamp": 0, "policyEvent": extra})
    events.insert(6, {"sequence": 100, "timestamp": 0, "policyEvent": {**extra, "policyPackName": "other-pack"}})
    path = _write(tmp_path, events)
    data = as_json(audit(registry, path, "--format", "json"))
    got = {(d["policy"], d["urn"], d["enforcement"], d["reported_by"]) for d in data["disagreements"]}
    assert got == {
        ("icp-filing-required", CDN_URN, "mandatory", "china-site"),
        ("domain-eligible", BUCKET_URN, "mandatory", "engine"),
    }
    assert all("reported by" in d["detail"] for d in data["disagreements"])
    table = audit(registry, path)
    assert "DISAGREEMENT" in table.stdout and "domain-eligible" in table.stdout
    assert "The engine's own policy verdicts" in table.stdout


def test_events_without_the_pack_are_not_compared(registry: str, tmp_path: Path) -> None:
    events = [e for e in _lines(UP_EVENTS) if not {"policyEvent", "policyAnalyzeSummaryEvent"} & set(e)]
    for e in events:
        if "summaryEvent" in e:
            e["summaryEvent"] = {k: v for k, v in e["summaryEvent"].items() if k not in ("policyPacks", "PolicyPacks")}
    data = as_json(audit(registry, _write(tmp_path, events), "--format", "json"))
    assert data["engine_compared"] is False and data["disagreements"] == []
    assert findings(data) == {("icp-filing-required", "mandatory", "www-cdn"), RUN_FAILED_PROD}


def test_cut_off_events_never_pass_silently(registry: str, tmp_path: Path) -> None:
    """A stream without the summaryEvent that ends every engine run was cut off: a mandatory finding, not a pass."""
    events = _lines(UP_EVENTS)
    head = [e for e in events if "summaryEvent" not in e][:2]  # the prelude and the first resource event
    result = audit(registry, _write(tmp_path, head), "--format", "json")
    data = as_json(result)
    assert ("resources-not-in-artifact", "mandatory") in {(f["policy"], f["enforcement"]) for f in data["findings"]}
    assert result.exit_code == 1
    whole = as_json(audit(registry, _write(tmp_path, events), "--format", "json"))
    assert "resources-not-in-artifact" not in {f["policy"] for f in whole["findings"]}


def test_event_batch_and_array_forms(registry: str, tmp_path: Path) -> None:
    events = _lines(UP_EVENTS)
    (tmp_path / "batch.json").write_text(json.dumps({"events": events}), encoding="utf-8")
    (tmp_path / "array.json").write_text(json.dumps(events), encoding="utf-8")
    for name in ("batch.json", "array.json"):
        data = as_json(audit(registry, str(tmp_path / name), "--format", "json"))
        assert findings(data) == {("icp-filing-required", "mandatory", "www-cdn"), RUN_FAILED_PROD}
        assert data["disagreements"] == []


def test_automation_api_objects_round_trip(tmp_path: Path) -> None:
    """The real Python EngineEvent, built from the CLI's JSON and saved with event_to_json, reads the same."""
    from pulumi.automation.events import EngineEvent

    from china_site.engine.events import event_to_json

    saved = "".join(event_to_json(EngineEvent.from_json(e)) for e in _lines(UP_EVENTS))
    (tmp_path / "saved.jsonl").write_text(saved, encoding="utf-8")
    again = read_artifact(str(tmp_path / "saved.jsonl"))
    original = read_artifact(str(UP_EVENTS))
    assert [(r.urn, r.inputs, r.provider) for r in again.records] == [
        (r.urn, r.inputs, r.provider) for r in original.records
    ]
    assert [(p.policy, p.urn, p.enforcement) for p in again.policy_events] == [
        (p.policy, p.urn, p.enforcement) for p in original.policy_events
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}}\n{not json\n', "line 2 is not valid JSON"),
        ('{"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}}\n', "describe no resources"),
        (
            '{"sequence": 0, "timestamp": 0, "resourcePreEvent": {"metadata": {"urn": "urn:pulumi:a::b::t::n"}}}\n{}\n',
            "field 'resourcePreEvent.metadata.op'",
        ),
    ],
)
def test_bad_events_are_one_line(registry: str, tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    result = audit(registry, str(path))
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output
