"""``china-site audit`` in a pipeline never passes silently: a failed run, a stream that lacks resources its summary
counts, engine events that lack what a policy needs. Fixtures: tests/data/engine (see tests/data/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from registry_data import TODAY, write_registry
from typer.testing import CliRunner

from china_site.cli import app

ENGINE = Path(__file__).resolve().parent / "data" / "engine"
REFUSED_PREVIEW = ENGINE / "mainland-refused-preview.json"
HK_PREVIEW_SAMES = ENGINE / "hongkong-update-preview-show-sames.json"
UP_EVENTS = ENGINE / "mainland-unfiled-up-events.jsonl"
BYHAND_EVENTS = ENGINE / "byhand-unfiled-streaming-preview-events.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_registry(tmp_path_factory.mktemp("pipeline-registry")))


def audit(registry: str, *args: str, input: str | None = None) -> Any:
    return runner.invoke(app, ["audit", *args, "--filings", registry, "--today", TODAY], input=input)


def report(result: Any) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def findings(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["policy"], f["enforcement"]) for f in data["findings"]}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_lines(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# A failed run is a mandatory finding


def test_a_refused_preview_piped_into_audit_fails(registry: str) -> None:
    """`pulumi preview --json --show-sames | china-site audit -` of the sample program refusing the mainland (written
    by the real engine): before, exit 0 and "No findings" (only the root stack is in the steps; the refusal is in
    `diagnostics`, without a urn)."""
    result = audit(registry, "-", "--format", "json", input=REFUSED_PREVIEW.read_text(encoding="utf-8"))
    assert result.exit_code == 1, result.output
    data = report(result)
    assert findings(data) == {("run-failed", "mandatory")}
    message = data["findings"][0]["message"]
    assert "hosting: mainland was asked for www.harbour-lantern.com" in message  # the program's own refusal, quoted
    assert "program exited with non-zero exit code" in message  # and the engine's own error line
    assert "运行失败" in message and "Fix:" in message
    table = audit(registry, "-", input=REFUSED_PREVIEW.read_text(encoding="utf-8"))
    assert table.exit_code == 1 and "run-failed" in table.stdout and "No findings" not in table.stdout


def test_a_preview_that_failed_before_any_resource_fails(registry: str, tmp_path: Path) -> None:
    doc = json.loads(REFUSED_PREVIEW.read_text(encoding="utf-8"))
    doc["steps"] = []
    (tmp_path / "p.json").write_text(json.dumps(doc), encoding="utf-8")
    result = audit(registry, str(tmp_path / "p.json"), "--format", "json")
    assert result.exit_code == 1, result.output  # before: exit 2, "nothing to audit"
    assert findings(report(result)) == {("run-failed", "mandatory")}
    doc["diagnostics"] = [d for d in doc["diagnostics"] if d["severity"] != "error"]
    (tmp_path / "p.json").write_text(json.dumps(doc), encoding="utf-8")
    assert audit(registry, str(tmp_path / "p.json")).exit_code == 2  # no failure, no resource: nothing to audit


def test_a_successful_preview_has_no_run_finding(registry: str, tmp_path: Path) -> None:
    doc = json.loads(HK_PREVIEW_SAMES.read_text(encoding="utf-8"))
    doc["diagnostics"] = [
        {"message": "warning: something\n", "severity": "warning"},
        {"message": "x", "severity": "info"},
        {"message": "stderr line", "severity": "info#err"},
    ]
    (tmp_path / "p.json").write_text(json.dumps(doc), encoding="utf-8")
    result = audit(registry, str(tmp_path / "p.json"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert report(result)["findings"] == []


@pytest.mark.parametrize(
    "failure",
    [
        {
            "diagnosticEvent": {
                "prefix": "<{%fg 1%}>error: <{%reset%}>",
                "message": "update failed<{%reset%}>\n",
                "color": "raw",
                "severity": "error",
            }
        },
        {"resOpFailedEvent": {"metadata": {"op": "create", "urn": "urn:pulumi:byhand::china-site::x:y:Z::z"}}},
        {"summaryEvent": {"resourceChanges": {"create": 3}, "result": "cancelled"}},
    ],
    ids=["error-diagnostic", "operation-failed", "cancelled"],
)
def test_failed_events_are_a_finding(registry: str, tmp_path: Path, failure: dict[str, Any]) -> None:
    events = [e for e in lines(BYHAND_EVENTS) if e.get("diagnosticEvent", {}).get("severity") != "error"]
    for e in events:
        e.get("summaryEvent", {}).pop("result", None)
    ok = write_lines(tmp_path / "ok.jsonl", events)
    assert "run-failed" not in {f["policy"] for f in report(audit(registry, str(ok), "--format", "json"))["findings"]}
    failed = write_lines(tmp_path / "failed.jsonl", [*events[:-2], {"sequence": 99, **failure}, *events[-2:]])
    result = audit(registry, str(failed), "--format", "json")
    assert result.exit_code == 1
    assert ("run-failed", "mandatory") in findings(report(result))
    [run] = [f for f in report(result)["findings"] if f["policy"] == "run-failed"]
    assert "<{%" not in run["message"]  # Pulumi's colour directives are not text


def test_a_failed_summary_alone_is_a_finding(registry: str, tmp_path: Path) -> None:
    events = [e for e in lines(BYHAND_EVENTS) if e.get("diagnosticEvent", {}).get("severity") != "error"]
    assert any(e.get("summaryEvent", {}).get("result") == "failed" for e in events)
    data = report(audit(registry, str(write_lines(tmp_path / "e.jsonl", events)), "--format", "json"))
    [run] = [f for f in data["findings"] if f["policy"] == "run-failed"]
    assert "result: failed" in run["message"]


def test_engine_blocked_events_say_so(registry: str) -> None:
    """The real engine's events of a preview it blocked: the policy violation and the failed run."""
    data = report(audit(registry, str(BYHAND_EVENTS), "--format", "json"))
    assert findings(data) == {("icp-filing-required", "mandatory"), ("run-failed", "mandatory")}
    assert data["disagreements"] == []  # run-failed is not a policy of the pack: no disagreement
    [run] = [f for f in data["findings"] if f["policy"] == "run-failed"]
    assert "preview failed" in run["message"]


# ---------------------------------------------------------------------------------------------------------------
# A stream that lacks resources its summary counts


def test_events_without_resources_their_summary_counts(registry: str, tmp_path: Path) -> None:
    events = lines(UP_EVENTS)
    whole = report(audit(registry, str(UP_EVENTS), "--format", "json"))
    assert "resources-not-in-artifact" not in {f["policy"] for f in whole["findings"]}
    cdn = [e for e in events if "cdn/domainNew" not in json.dumps(e.get("resourcePreEvent"))]
    assert len(cdn) == len(events) - 1  # the CDN's event filtered out (a `grep -v`, a lossy log shipper)
    result = audit(registry, str(write_lines(tmp_path / "e.jsonl", cdn)), "--format", "json")
    assert result.exit_code == 1
    data = report(result)
    [gap] = [f for f in data["findings"] if f["policy"] == "resources-not-in-artifact"]
    assert gap["enforcement"] == "mandatory"
    assert "counts 6 resource(s) but the events describe 5" in gap["message"]


# ---------------------------------------------------------------------------------------------------------------
# Engine events lack a DNS record's dependencies: a finding, or --state gives them

DNS_URN = "urn:pulumi:prod::shop::china-site:index:Site$alicloud:dns/alidnsRecord:AlidnsRecord::www-dns"
CDN_URN = "urn:pulumi:prod::shop::china-site:index:Site$alicloud:cdn/domainNew:DomainNew::www-cdn"
PROVIDER_URN = "urn:pulumi:prod::shop::china-site:index:Site$pulumi:providers:alicloud::www-provider"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _unknown_dns_events(tmp_path: Path) -> Path:
    """The up events, with the www record renamed to shop (a name the CDN does not show) and its CNAME value unknown
    at preview (it comes from the CDN's cname output): only its dependencies tie it to the CDN."""
    events = lines(UP_EVENTS)
    for e in events:
        meta = (e.get("resourcePreEvent") or {}).get("metadata") or {}
        if meta.get("urn") == DNS_URN:
            meta["new"]["inputs"].update(rr="shop", value=UNKNOWN)
        if meta.get("urn") in (DNS_URN, CDN_URN):  # outputs at preview, as the real engine's resOutputsEvent has them
            meta["new"]["outputs"] = {**meta["new"]["inputs"], "cname": UNKNOWN}
    return write_lines(tmp_path / "events.jsonl", events)


def _state_with_the_link(tmp_path: Path) -> Path:
    provider = {
        "urn": PROVIDER_URN,
        "custom": True,
        "id": "2b8d2b63-9a6c-4d4a-8e54-4c7a3dab1f22",
        "type": "pulumi:providers:alicloud",
        "inputs": {"region": "cn-hangzhou"},
        "outputs": {"region": "cn-hangzhou"},
    }
    record = {
        "urn": DNS_URN,
        "custom": True,
        "id": "1234",
        "type": "alicloud:dns/alidnsRecord:AlidnsRecord",
        "inputs": {"domainName": "unfiled-shop.cn", "rr": "shop", "type": "CNAME", "value": "x.kunlunaz.com"},
        "outputs": {},
        "provider": f"{PROVIDER_URN}::2b8d2b63-9a6c-4d4a-8e54-4c7a3dab1f22",
        "dependencies": [CDN_URN],
        "propertyDependencies": {"value": [CDN_URN]},
    }
    doc = {"version": 3, "deployment": {"manifest": {}, "resources": [provider, record]}}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_events_without_a_records_links_are_a_finding(registry: str, tmp_path: Path) -> None:
    data = report(audit(registry, str(_unknown_dns_events(tmp_path)), "--format", "json"))
    [gap] = [f for f in data["findings"] if f["policy"] == "links-not-in-artifact"]
    assert (gap["enforcement"], gap["name"]) == ("mandatory", "www-dns")
    assert "shop.unfiled-shop.cn" in gap["message"] and "--state state.json" in gap["message"]
    assert "dns-linked-exposure" not in {f["policy"] for f in data["findings"]}  # it could not judge: said so
    assert "links-not-in-artifact" not in {d["policy"] for d in data["disagreements"]}


def test_a_record_no_link_can_make_a_violation_is_no_gap(registry: str, tmp_path: Path) -> None:
    """A filed name (www.example.cn: ICP and PSB in order): whatever of the stack it points at, dns-linked-exposure
    has nothing to say, so the missing link changes nothing (the real engine's mainland sample is such a case)."""
    events = lines(_unknown_dns_events(tmp_path))
    for e in events:
        meta = (e.get("resourcePreEvent") or {}).get("metadata") or {}
        if meta.get("urn") == DNS_URN:
            for props in (meta["new"]["inputs"], meta["new"]["outputs"]):
                props.update(domainName="example.cn", rr="www")
    data = report(audit(registry, str(write_lines(tmp_path / "filed.jsonl", events)), "--format", "json"))
    assert "links-not-in-artifact" not in {f["policy"] for f in data["findings"]}


def test_state_gives_the_events_their_links(registry: str, tmp_path: Path) -> None:
    events, state = _unknown_dns_events(tmp_path), _state_with_the_link(tmp_path)
    data = report(audit(registry, str(events), "--state", str(state), "--format", "json"))
    policies = {(f["policy"], f["name"]) for f in data["findings"]}
    assert ("links-not-in-artifact", "www-dns") not in policies
    # Linked now: shop.unfiled-shop.cn served by the mainland CDN, unfiled, as the engine would report it.
    dns = [f for f in data["findings"] if f["policy"] == "dns-linked-exposure"]
    assert dns and all(f["enforcement"] == "mandatory" for f in dns)
    assert any("shop.unfiled-shop.cn" in f["message"] for f in dns)


def test_known_record_values_need_no_links(registry: str) -> None:
    data = report(audit(registry, str(UP_EVENTS), "--format", "json"))
    assert "links-not-in-artifact" not in {f["policy"] for f in data["findings"]}


# ---------------------------------------------------------------------------------------------------------------
# A resource whose own properties decide the verdict is judged even when its provider is missing

HK_PREVIEW = ENGINE / "hongkong-update-preview.json"


def _hk_preview(tmp_path: Path, scope: str) -> Path:
    doc = json.loads(HK_PREVIEW.read_text(encoding="utf-8"))
    doc["steps"][1]["newState"]["inputs"]["scope"] = scope  # the CDN update of a plain (no --show-sames) preview
    path = tmp_path / f"{scope}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def by_name(data: dict[str, Any], name: str) -> set[tuple[str, str]]:
    return {(f["policy"], f["enforcement"]) for f in data["findings"] if f["name"] == name}


@pytest.mark.parametrize("scope", ["domestic", "global"])
def test_a_cdn_scope_decides_without_its_provider(registry: str, tmp_path: Path, scope: str) -> None:
    """Before: only provider-not-in-artifact on the CDN; its scope serves mainland nodes whatever the region."""
    data = report(audit(registry, str(_hk_preview(tmp_path, scope)), "--format", "json"))
    assert by_name(data, "www-cdn") == {("icp-filing-required", "mandatory")}
    # The bucket cname's region is its provider's: still not judged, still said so.
    assert by_name(data, "www-cname") == {("provider-not-in-artifact", "mandatory")}


def test_an_overseas_cdn_without_its_provider_passes(registry: str, tmp_path: Path) -> None:
    data = report(audit(registry, str(_hk_preview(tmp_path, "overseas")), "--format", "json"))
    assert by_name(data, "www-cdn") == set()
    assert by_name(data, "www-cname") == {("provider-not-in-artifact", "mandatory")}


def test_decided_by_itself() -> None:
    from china_site.engine.artifacts import read_artifact
    from china_site.engine.pipeline import decided_by_itself

    records = {r.name: r for r in read_artifact(str(HK_PREVIEW)).records}
    assert decided_by_itself(records["www-cdn"])  # scope
    assert not decided_by_itself(records["www-cname"])  # its provider's region
    assert not decided_by_itself(records["shop-hk"])  # not an exposing type: nothing says the region is moot


# ---------------------------------------------------------------------------------------------------------------
# A waived violation: advisory, naming the waiver, its reason and its expiry, in every format

WAIVER = {"policy": "icp-filing-required", "resource": "www-cdn", "reason": "CS-42 filing under review",
          "expires": "2026-12-31"}  # fmt: skip


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "junit"])
def test_a_waived_violation_is_shown_in_every_format(registry: str, tmp_path: Path, fmt: str) -> None:
    import xml.etree.ElementTree as ET

    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"icp-filing-required": {"waivers": [WAIVER]}}), encoding="utf-8")
    out = tmp_path / f"report.{fmt}"
    result = audit(registry, str(UP_EVENTS), "--policy-config", str(config), "--format", fmt, "--output", str(out))
    text = out.read_text(encoding="utf-8")
    for said in ("WAIVED until 2026-12-31", "CS-42 filing under review", "icp-filing-required"):
        assert said in text, (fmt, text[-2000:])
    assert "1 advisory" in result.output  # the summary line on stderr: counted as advisory, not hidden
    if fmt == "json":
        [f] = [f for f in json.loads(text)["findings"] if f["policy"] == "icp-filing-required"]
        assert f["enforcement"] == "advisory" and "resource: www-cdn" in f["message"]
    elif fmt == "sarif":
        [r] = [r for r in json.loads(text)["runs"][0]["results"] if r["ruleId"] == "icp-filing-required"]
        assert r["level"] == "warning"
    elif fmt == "junit":
        case = next(
            c
            for c in ET.fromstring(text).iter("testcase")
            if c.get("name") == "icp-filing-required" and "www-cdn" in (c.get("classname") or "")
        )
        assert case.find("failure") is None and "WAIVED" in (case.findtext("system-out") or "")


def test_without_the_waiver_it_is_mandatory(registry: str) -> None:
    data = report(audit(registry, str(UP_EVENTS), "--format", "json"))
    [f] = [f for f in data["findings"] if f["policy"] == "icp-filing-required"]
    assert f["enforcement"] == "mandatory" and "WAIVED" not in f["message"]


def test_an_expired_waiver_is_mandatory_again(registry: str, tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"icp-filing-required": {"waivers": [WAIVER]}}), encoding="utf-8")
    result = runner.invoke(
        app,
        ["audit", str(UP_EVENTS), "--filings", registry, "--today", "2027-01-01", "--policy-config", str(config),
         "--format", "json"],
    )  # fmt: skip
    [f] = [f for f in report(result)["findings"] if f["policy"] == "icp-filing-required"]
    assert f["enforcement"] == "mandatory" and "\nWaiver expired on 2026-12-31" in f["message"]


def test_a_preview_whose_steps_were_filtered(registry: str, tmp_path: Path) -> None:
    doc = json.loads(HK_PREVIEW_SAMES.read_text(encoding="utf-8"))
    whole = report(audit(registry, str(HK_PREVIEW_SAMES), "--format", "json"))
    assert "resources-not-in-artifact" not in {f["policy"] for f in whole["findings"]}
    doc["steps"] = [s for s in doc["steps"] if s["op"] != "update"]  # the CDN update cut out (`jq`, a size limit)
    (tmp_path / "p.json").write_text(json.dumps(doc), encoding="utf-8")
    data = report(audit(registry, str(tmp_path / "p.json"), "--format", "json"))
    [gap] = [f for f in data["findings"] if f["policy"] == "resources-not-in-artifact"]
    assert gap["enforcement"] == "mandatory" and "counts 2 created, updated or replaced" in gap["message"]
