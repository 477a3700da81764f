"""``china-site audit``: real Pulumi CLI artifacts (AWS stacks) and Alibaba Cloud exports/previews (tests/data/alicloud,
see its README for each file's expected verdict), every report format, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from registry_data import TODAY, write_registry
from typer.testing import CliRunner

from china_site.cli import app

DATA = Path(__file__).resolve().parent / "data"
PULUMI = DATA / "pulumi"
ALICLOUD = DATA / "alicloud"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
runner = CliRunner()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_registry(tmp_path_factory.mktemp("audit-registry")))


def audit(artifact: str | Path, registry: str | None, *args: str, input: str | None = None) -> Any:
    extra = ["--filings", registry, "--today", TODAY] if registry else []
    return runner.invoke(app, ["audit", str(artifact), *extra, *args], input=input)


def report(result: Any) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def verdicts(result: Any) -> set[tuple[str, str, str]]:
    return {(f["policy"], f["enforcement"], f["name"]) for f in report(result)["findings"]}


# ---------------------------------------------------------------------------------------------------------------
# Real Pulumi CLI artifacts (AWS): they parse, nothing to say about them


@pytest.mark.parametrize(("name", "resources"), [("stratify-export.json", 17), ("stratify-preview-creates.json", 16)])
def test_real_pulumi_artifacts(name: str, resources: int, registry: str) -> None:
    result = audit(PULUMI / name, registry, "--format", "json")
    assert result.exit_code == 0, result.output
    assert report(result) == {"findings": [], "summary": {"resources": resources, "mandatory": 0, "advisory": 0}}
    # Without any registry setting as well: no Alibaba Cloud resource needs one.
    assert audit(PULUMI / name, None, "--format", "json").exit_code == 0


def test_stdin(registry: str) -> None:
    text = (PULUMI / "stratify-preview-creates.json").read_text(encoding="utf-8")
    result = audit("-", registry, "--format", "json", input=text)
    assert result.exit_code == 0, result.output
    assert report(result)["summary"]["resources"] == 16
    unfiled = (ALICLOUD / "mainland-unfiled-export-v4.json").read_text(encoding="utf-8")
    assert audit("-", registry, input=unfiled).exit_code == 1


# ---------------------------------------------------------------------------------------------------------------
# Alibaba Cloud exports and previews


def test_mainland_filed_export_v3(registry: str) -> None:
    result = audit(ALICLOUD / "mainland-filed-export-v3.json", registry, "--format", "json")
    assert result.exit_code == 0 and report(result)["findings"] == []


def test_mainland_unfiled_export_v4(registry: str) -> None:
    result = audit(ALICLOUD / "mainland-unfiled-export-v4.json", registry, "--format", "json")
    assert result.exit_code == 1
    data = report(result)
    assert verdicts(result) == {("icp-filing-required", "mandatory", "www-cdn")}
    finding = data["findings"][0]
    assert finding["urn"] == "urn:pulumi:prod::shop::china-site:index:Site$alicloud:cdn/domainNew:DomainNew::www-cdn"
    assert "www.unfiled-shop.cn" in finding["message"] and "DomainNotRegistration" in finding["message"]


def test_mainland_unfiled_without_a_registry_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No --filings and nothing in the artifact: filings.yaml of the project around the current directory, which
    # does not exist here — a mandatory finding, never a pass.
    monkeypatch.chdir(tmp_path)
    result = audit(ALICLOUD / "mainland-filed-export-v3.json", None, "--format", "json")
    assert result.exit_code == 1
    assert ("filing-registry-available", "mandatory") in {(p, e) for p, e, _ in verdicts(result)}


def test_hongkong_preview(registry: str) -> None:
    result = audit(ALICLOUD / "hongkong-preview.json", registry, "--format", "json")
    assert result.exit_code == 0 and report(result)["findings"] == []


def test_region_only_in_preview_config(registry: str, tmp_path: Path) -> None:
    path = ALICLOUD / "region-in-config-preview.json"
    result = audit(path, registry, "--format", "json")
    assert result.exit_code == 1
    assert verdicts(result) == {
        ("icp-filing-required", "mandatory", "api-ip"),
        ("icp-filing-required", "mandatory", "api-server"),
    }
    assert "cn-beijing" in report(result)["findings"][0]["message"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["config"]["alicloud:region"] = "cn-hongkong"
    hk = tmp_path / "hk.json"
    hk.write_text(json.dumps(doc), encoding="utf-8")
    assert audit(hk, registry, "--format", "json").exit_code == 0
    del doc["config"]["alicloud:region"]  # no region anywhere: unknown → treated as mainland (fail closed)
    nowhere = tmp_path / "nowhere.json"
    nowhere.write_text(json.dumps(doc), encoding="utf-8")
    assert audit(nowhere, registry, "--format", "json").exit_code == 1


def test_unknowns_at_preview(registry: str) -> None:
    result = audit(ALICLOUD / "unknowns-preview.json", registry, "--format", "json")
    assert result.exit_code == 0, result.output
    assert verdicts(result) == {
        ("untied-mainland-exposure", "advisory", "later-cdn"),
        ("untied-mainland-exposure", "advisory", "lb"),
    }


SECRETS = (
    "hidden-shop",  # the secret domain name (and its registrable domain)
    "LTAI5tPLAINTEXTKEYVALUE",  # the provider's access key
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",  # the private key
    "Wm9vYmFy",  # ciphertexts
    "cGFzc3BocmFzZQ",
)


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "junit"])
@pytest.mark.parametrize("name", ["secrets-export-show-secrets.json", "mainland-filed-export-v3.json",
                                  "unknowns-preview.json"])  # fmt: skip
def test_secrets_never_appear_in_any_format(name: str, fmt: str, registry: str, tmp_path: Path) -> None:
    result = audit(ALICLOUD / name, registry, "--format", fmt)
    assert result.exit_code in (0, 1), result.output
    written = tmp_path / "report"
    assert audit(ALICLOUD / name, registry, "--format", fmt, "--output", str(written)).exit_code == result.exit_code
    for text in (result.output, written.read_text(encoding="utf-8")):
        for secret in SECRETS:
            assert secret not in text, (secret, fmt)
    if name.startswith("secrets"):
        assert result.exit_code == 1  # the secret domain is unfiled: reported, with the domain masked
        assert "[secret]" in result.output or fmt == "table"


# ---------------------------------------------------------------------------------------------------------------
# Formats


def test_sarif_validates(registry: str) -> None:
    for name in ("mainland-unfiled-export-v4.json", "mainland-filed-export-v3.json"):
        result = audit(ALICLOUD / name, registry, "--format", "sarif")
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, SCHEMA)
    run = doc["runs"][0]
    assert run["results"] == [] and {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"icp-filing-required"}
    unfiled = json.loads(audit(ALICLOUD / "mainland-unfiled-export-v4.json", registry, "--format", "sarif").stdout)
    result_ = unfiled["runs"][0]["results"][0]
    assert result_["ruleId"] == "icp-filing-required" and result_["level"] == "error"
    assert result_["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "mainland-unfiled-export-v4.json"
    )


def test_junit_parses(registry: str) -> None:
    result = audit(ALICLOUD / "mainland-unfiled-export-v4.json", registry, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.split("?>", 1)[1])
    cases = list(root.iter("testcase"))
    assert len(cases) == 6 * 13  # resources × policies
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("classname", "").rsplit("::", 1)[-1], c.get("name")) for c in failed] == [
        ("www-cdn", "icp-filing-required")
    ]


def test_table(registry: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    result = audit(ALICLOUD / "mainland-unfiled-export-v4.json", registry)
    assert result.exit_code == 1
    for text in ("Plan / 部署计划 — shop/prod", "www-cdn", "cn-hangzhou", "domestic", "icp-filing-required",
                 "mandatory", "1 mandatory"):  # fmt: skip
        assert text in result.stdout, text


def test_policy_config_waiver(registry: str, tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    waiver = {"policy": "icp-filing-required", "resource": "www-cdn", "reason": "filing in progress",
              "expires": "2026-12-31"}  # fmt: skip
    config.write_text(json.dumps({"icp-filing-required": {"waivers": [waiver]}}), encoding="utf-8")
    path = ALICLOUD / "mainland-unfiled-export-v4.json"
    waived = audit(path, registry, "--policy-config", str(config), "--format", "json")
    # Not hidden: advisory, naming the waiver, its reason and its expiry (tests/test_audit_pipeline.py: all formats).
    assert waived.exit_code == 0
    [finding] = report(waived)["findings"]
    assert (finding["policy"], finding["enforcement"]) == ("icp-filing-required", "advisory")
    assert "WAIVED until 2026-12-31" in finding["message"] and "filing in progress" in finding["message"]
    later = runner.invoke(app, ["audit", str(path), "--filings", registry, "--today", "2027-01-05",
                                "--policy-config", str(config), "--format", "json"])  # fmt: skip
    assert later.exit_code == 1 and "Waiver expired" in later.stdout


# ---------------------------------------------------------------------------------------------------------------
# Bad artifacts: exit 2, one line naming the file


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("china-site: error: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("", "is empty"),
        ("   \n", "is empty"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hello": "world"}', "neither a `pulumi stack export`"),
        ('{"version": 2, "deployment": {"resources": []}}', "unsupported export version 2"),
        ('{"version": 5, "deployment": {"resources": []}}', "unsupported export version 5"),
        ('{"version": 3, "deployment": {"resources": [{"urn": "nope"}]}}', "not a Pulumi URN"),
        ('{"steps": [{"op": "create"}]}', "field 'urn'"),
    ],
)
def test_bad_artifacts(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "artifact.json"
    path.write_text(content, encoding="utf-8")
    line = one_line_error(audit(path, None))
    assert expected in line and str(path) in line
    assert expected in one_line_error(audit("-", None, input=content))


def test_missing_artifact_and_bad_options(tmp_path: Path, registry: str) -> None:
    assert "cannot read the file" in one_line_error(audit(tmp_path / "absent.json", None))
    good = ALICLOUD / "hongkong-preview.json"
    assert "not an ISO date" in one_line_error(runner.invoke(app, ["audit", str(good), "--today", "tomorrow"]))
    bad_config = tmp_path / "cfg.json"
    bad_config.write_text(json.dumps({"icp-filing-required": {"psbGraceDays": "thirty"}}), encoding="utf-8")
    line = one_line_error(audit(good, registry, "--policy-config", str(bad_config)))
    assert "psbGraceDays" in line and str(bad_config) in line
    bad_registry = tmp_path / "filings.yaml"
    bad_registry.write_text("version: 1\nsites: [{domain: x.cn}]\n", encoding="utf-8")
    # An unusable registry is a finding in audit (the pack's fail-closed policy), not a crash.
    result = audit(ALICLOUD / "mainland-filed-export-v3.json", str(bad_registry), "--format", "json")
    assert result.exit_code == 1
    assert ("filing-registry-available", "mandatory") in {(p, e) for p, e, _ in verdicts(result)}
