"""``china-site preflight``: the sample program and the real pack, offline, through the command line.

Exit codes (DESIGN.md): 0 = no mandatory finding, 1 = mandatory findings (a program-time refusal included),
2 = bad input or a program crash, as one line on stderr.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from china_site.cli import app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
TODAY = "2026-11-28"  # the sample registry is consistent as of this date
SITE_URN = "urn:pulumi:{stack}::china-site::china-site:index:Site::site"
runner = CliRunner()


def preflight(*args: str) -> Any:
    return runner.invoke(app, ["preflight", str(ROOT), "--today", TODAY, *args])


def findings(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


@pytest.fixture(scope="module")
def empty_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "filings.yaml"
    path.write_text("version: 1\nentities: {}\nsites: []\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# The sample stacks with the bundled registry


def test_mainland_stack_passes() -> None:
    result = preflight("--stack", "mainland", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["mandatory"] == 0
    # the Stack, the Site component, 2 providers (the site's alicloud one, china-site's default), 12 resources (the
    # content, 3 of them the CDN ownership verification)
    assert data["summary"]["resources"] == 16
    # The filed, PSB-filed, permit-holding shop raises nothing; at most the advisory about the bucket website
    # endpoint, which shows no domain of its own.
    assert data["findings"] == []


def test_hongkong_stack_passes() -> None:
    result = preflight("--stack", "hongkong", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "findings": [],
        "summary": {"resources": 13, "mandatory": 0, "advisory": 0},
    }


def test_table_shows_the_plan_and_the_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")  # rich folds long type tokens at 80 columns
    result = preflight("--stack", "mainland")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Plan / 部署计划 — china-site/mainland" in out
    for text in ("site-cdn", "alicloud:cdn/domainNew:DomainNew", "cn-shanghai", "mainland", "domestic",
                 "www.mingyue-tea.cn", "site-dns"):  # fmt: skip
        assert text in out, text
    assert "0 mandatory" in out
    hk = preflight("--stack", "hongkong")
    assert hk.exit_code == 0 and "cn-hongkong" in hk.stdout and "overseas" in hk.stdout
    assert "No findings" in hk.stdout
    assert "Hong Kong" in hk.stdout  # the program's own decision, shown as a note


# ---------------------------------------------------------------------------------------------------------------
# A registry that lacks the domain


def test_mainland_stack_fails_without_its_filing(empty_registry: Path) -> None:
    result = preflight("--stack", "mainland", "--filings", str(empty_registry), "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    icp = [f for f in data["findings"] if f["policy"] == "icp-filing-required"]
    assert len(icp) == 1 and icp[0]["enforcement"] == "mandatory"
    assert icp[0]["urn"] == SITE_URN.format(stack="mainland")
    assert (icp[0]["type"], icp[0]["name"]) == ("china-site:index:Site", "site")
    message = icp[0]["message"]
    assert "www.mingyue-tea.cn" in message and "no ICP filing" in message and "没有 ICP 备案" in message
    assert "DomainNotRegistration" in message
    assert data["summary"]["mandatory"] >= 1
    table = preflight("--stack", "mainland", "--filings", str(empty_registry))
    assert table.exit_code == 1
    assert "The program refused to deploy / 程序拒绝部署" in table.stdout
    assert "www.mingyue-tea.cn" in table.stdout and "mandatory" in table.stdout


def test_hongkong_stack_passes_without_any_filing(empty_registry: Path) -> None:
    result = preflight("--stack", "hongkong", "--filings", str(empty_registry), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["mandatory"] == 0


def test_two_runs_in_one_process_do_not_interfere(empty_registry: Path) -> None:
    assert preflight("--stack", "mainland", "--filings", str(empty_registry)).exit_code == 1
    assert preflight("--stack", "mainland").exit_code == 0
    assert preflight("--stack", "mainland", "--filings", str(empty_registry)).exit_code == 1


def test_relative_filings_is_relative_to_the_current_directory(
    empty_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(empty_registry.parent)
    assert preflight("--stack", "mainland", "--filings", "filings.yaml").exit_code == 1


def test_filings_flag_wins_over_policy_config(tmp_path: Path) -> None:
    # The policy config points every policy at a registry that does not exist; --filings (the bundled one) wins.
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "mandatory", "icp-filing-required": {"filings": "/nonexistent.yaml"}}))
    result = preflight(
        "--stack", "mainland", "--filings", str(ROOT / "filings.yaml"), "--policy-config", str(config),
        "--format", "json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert "filing-registry-available" not in {f["policy"] for f in data["findings"]}
    # "all": "mandatory" reached the pack: the advisory (if any) is now mandatory.
    assert all(f["enforcement"] == "mandatory" for f in data["findings"])
    assert result.exit_code == (1 if data["findings"] else 0)


def test_policy_config_can_disable_a_policy(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"untied-mainland-exposure": "disabled"}))
    result = preflight("--stack", "mainland", "--policy-config", str(config), "--format", "json")
    assert result.exit_code == 0 and findings(result) == []


# ---------------------------------------------------------------------------------------------------------------
# Formats and --output


def test_sarif_is_valid_and_locates_the_site(empty_registry: Path) -> None:
    result = preflight("--stack", "mainland", "--filings", str(empty_registry), "--format", "sarif")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    results = doc["runs"][0]["results"]
    icp = next(r for r in results if r["ruleId"] == "icp-filing-required")
    assert icp["level"] == "error"
    assert icp["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == SITE_URN.format(stack="mainland")
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {"icp-filing-required", "psb-filing-required", "filing-registry-available"} <= rules


def test_junit_parses(empty_registry: Path) -> None:
    result = preflight("--stack", "mainland", "--filings", str(empty_registry), "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.split("?>", 1)[1])
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert any(c.get("classname") == SITE_URN.format(stack="mainland") for c in failures)
    ok = preflight("--stack", "hongkong", "--format", "junit")
    assert ok.exit_code == 0
    cases = list(ET.fromstring(ok.stdout.split("?>", 1)[1]).iter("testcase"))
    assert cases and all(c.find("failure") is None for c in cases)


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = preflight("--stack", "hongkong", "--format", "json", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["mandatory"] == 0
    table = tmp_path / "report.txt"
    assert preflight("--stack", "hongkong", "--output", str(table)).exit_code == 0
    assert "cn-hongkong" in table.read_text(encoding="utf-8") and "\x1b[" not in table.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Bad input: exit 2, one line


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("china-site: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_usage_errors(tmp_path: Path) -> None:
    assert "one of: hongkong, mainland" in one_line_error(runner.invoke(app, ["preflight", str(ROOT)]))
    assert "no stack 'staging'" in one_line_error(preflight("--stack", "staging"))
    assert "not an ISO date" in one_line_error(preflight("--stack", "mainland", "--today", "28/11/2026"))
    assert "no Pulumi.yaml" in one_line_error(runner.invoke(app, ["preflight", str(tmp_path), "--stack", "x"]))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in one_line_error(preflight("--stack", "mainland", "--policy-config", str(bad)))
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"no-such-policy": "mandatory"}), encoding="utf-8")
    assert "no-such-policy" in one_line_error(preflight("--stack", "mainland", "--policy-config", str(unknown)))


def test_unreadable_registry_in_the_program_is_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "filings.yaml"
    broken.write_text("version: 1\nsites: [{domain: x.cn}]\n", encoding="utf-8")
    line = one_line_error(preflight("--stack", "mainland", "--filings", str(broken)))
    assert str(broken) in line


def test_program_crash_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text("import pulumi\n1 / 0\n", encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["preflight", str(tmp_path)]))  # the only stack is the default
    assert "crashed with ZeroDivisionError" in line and "__main__.py:2" in line


def test_secrets_from_stack_files_never_reach_a_report(tmp_path: Path) -> None:
    # A program whose secret config ends up in resource inputs: no format prints it (offline it is a placeholder;
    # the ciphertext is never shown either).
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  alicloud:region: cn-shanghai\n  demo:token:\n    secure: v1:Q0lQSEVSVEVYVC1WQUxVRQ==\n",
        encoding="utf-8",
    )
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nimport pulumi_alicloud as alicloud\n"
        "alicloud.ecs.EipAddress('ip', tags={'token': pulumi.Config().require_secret('token'),"
        " 'china-site:domain': 'api.unfiled-shop.cn'})\n",
        encoding="utf-8",
    )
    for fmt in ("table", "json", "sarif", "junit"):
        result = runner.invoke(app, ["preflight", str(tmp_path), "--format", fmt, "--today", TODAY])
        assert result.exit_code == 1, result.output  # mainland EIP for an unfiled domain (no registry: fail closed)
        assert "Q0lQSEVSVEVYVC1WQUxVRQ" not in result.output and "v1:" not in result.output


def test_progress_bar_stays_off_stderr_when_not_a_terminal() -> None:
    result = preflight("--stack", "hongkong", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
