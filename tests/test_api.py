"""china_site.api: the typed Python API the CLI itself uses (advise, audit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_data import TODAY, write_registry

from china_site import api
from china_site.errors import InputError

DATA = Path(__file__).resolve().parent / "data"
EXPORT = DATA / "alicloud" / "mainland-unfiled-export-v4.json"
UP_EVENTS = DATA / "engine" / "mainland-unfiled-up-events.jsonl"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_registry(tmp_path_factory.mktemp("api-registry")))


def test_advise_returns_typed_advice() -> None:
    advice = api.advise(entity="foreign", payments=True, today="2026-01-05")
    assert isinstance(advice, api.Advice)
    assert advice.hosting == "hongkong" and advice.region == "cn-hongkong"
    assert "commercial-permit" in advice.required and advice.reasons
    assert "icp-filing" in api.advise().required  # what a domestic company would still need


def test_advise_refuses_half_a_domain_check() -> None:
    with pytest.raises(InputError, match="--domain and --filings go together"):
        api.advise(domain="www.example.cn")


def test_audit_a_file_and_read_each_finding_and_its_reason(registry: str) -> None:
    report = api.audit(EXPORT, filings=registry, today=TODAY)
    assert isinstance(report, api.Report) and report.exit_code == 1 and report.mandatory == 1
    (finding,) = report.diagnostics
    assert (finding.policy, finding.enforcement, finding.name) == ("icp-filing-required", "mandatory", "www-cdn")
    headline, *reason = report.finding_lines(finding)
    # the finding itself, not the policy's description the engine puts first; then its reason and fix
    assert "unfiled-shop.cn" in headline and "Mainland internet exposure" not in headline
    assert any("备案" in line for line in reason) and any(line.startswith("Fix") for line in reason)


def test_audit_decoded_documents_and_events(registry: str) -> None:
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    assert api.audit(doc, filings=registry, today=TODAY).mandatory == 1
    events = [json.loads(line) for line in UP_EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    run = api.run_audit(events, filings=registry, today=TODAY)
    # the engine blocked that run (run-failed) for the same ICP finding, which both sides report
    assert {d.policy for d in run.report.diagnostics if d.enforcement == "mandatory"} == {
        "icp-filing-required",
        "run-failed",
    }
    assert run.engine["engine_compared"] is True and run.engine["disagreements"] == []
    assert run.plan and run.artifact.kind == "events"


def test_audit_input_errors_are_one_line(registry: str) -> None:
    with pytest.raises(InputError, match="did you mean 'psbGraceDays'"):
        api.audit(EXPORT, filings=registry, policy_config={"psb-filing-due": {"psbGraceDayz": 3}})
    with pytest.raises(InputError, match="not an ISO date"):
        api.audit(EXPORT, filings=registry, today="tomorrow")
    with pytest.raises(InputError):
        api.audit({"neither": "export nor preview"})


def test_the_cli_is_a_thin_adapter_over_the_api(monkeypatch: pytest.MonkeyPatch, registry: str) -> None:
    from typer.testing import CliRunner

    from china_site.cli import app

    calls: list[object] = []
    real = api.run_audit

    def spy(*args: object, **kwargs: object) -> api.AuditRun:
        calls.append(args[0])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "run_audit", spy)
    result = CliRunner().invoke(app, ["audit", str(EXPORT), "--filings", registry, "--today", TODAY])
    assert result.exit_code == 1 and calls == [str(EXPORT)]
