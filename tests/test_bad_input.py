"""Bad input found by trying to break the CLI: each case is one line on stderr and exit 2, never a traceback and
never a silent pass; the same command on good input still works."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from china_site.cli import app
from china_site.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
FILINGS = str(ROOT / "filings.yaml")
EXPORT = ROOT / "tests" / "data" / "alicloud" / "mainland-filed-export-v3.json"
runner = CliRunner()


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("china-site: error: "), result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit, type(None)))
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled project (program, stack files, registry, content)."""
    for name in ("Pulumi.yaml", "__main__.py", "filings.yaml", "Pulumi.mainland.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "site", tmp_path / "site")
    return tmp_path


def preflight(directory: Path, *args: str) -> Any:
    return runner.invoke(app, ["preflight", str(directory), "--stack", "mainland", "--today", "2026-11-28", *args])


# --- Pulumi.yaml / Pulumi.<stack>.yaml ---------------------------------------------------------------------------


def test_typo_in_a_stack_config_key_is_named(project: Path) -> None:
    stack = project / "Pulumi.mainland.yaml"
    stack.write_text(stack.read_text(encoding="utf-8").replace("china-site:hosting", "china-site:hostng"), "utf-8")
    line = one_line_error(preflight(project))
    assert "field 'china-site:hostng'" in line and "stack 'mainland'" in line
    assert "unknown key" in line and "did you mean 'china-site:hosting'" in line


def test_known_stack_config_keys_pass() -> None:
    from china_site.policy_config import check_stack_keys

    check_stack_keys({"china-site:psbGraceDays": "30", "china-site:backend.imageId": "x", "alicloud:region": "x"},
                     where="stack")  # fmt: skip
    with pytest.raises(InputError, match="field 'china-site:psbGraceDay'"):
        check_stack_keys({"china-site:psbGraceDay": "30"}, where="stack")


@pytest.mark.parametrize("name", ["Pulumi.mainland.yaml", "Pulumi.yaml"])
def test_binary_project_files(project: Path, name: str) -> None:
    (project / name).write_bytes(b"\x95\x81\xff\x00garbage" * 50)
    line = one_line_error(preflight(project))
    assert name in line and "not UTF-8" in line


def test_impossible_date_in_stack_config(project: Path) -> None:
    stack = project / "Pulumi.mainland.yaml"
    stack.write_text(stack.read_text(encoding="utf-8") + "  china-site:today: 2026-02-30\n", encoding="utf-8")
    line = one_line_error(preflight(project))
    assert "Pulumi.mainland.yaml" in line and "out of range" in line


# --- --policy-config ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"icp-filing-required": {"typoKey": 1}}, "field 'typoKey': unknown key"),
        ({"icp-filing-required": {"today": "2026-02-30"}}, "field 'today'"),
        ({"icp-filling-required": {}}, "policy 'icp-filling-required': names no policy"),
    ],
)
def test_bad_policy_config_is_one_line(tmp_path: Path, config: dict[str, Any], expected: str) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    args = ["audit", str(EXPORT), "--filings", FILINGS, "--policy-config", str(path)]  # --today would override today
    line = one_line_error(runner.invoke(app, args))
    assert expected in line and str(path) in line


def test_good_policy_config_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"icp-filing-required": {"today": "2026-11-28", "psbGraceDays": 30}}), "utf-8")
    args = ["audit", str(EXPORT), "--filings", FILINGS, "--policy-config", str(path), "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert "configuration of policy" not in result.stdout


# --- registry endpoint, advise, expiring -------------------------------------------------------------------------


def test_invalid_registry_endpoint_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", "http://user:TOPSECRET@[::1")
    line = one_line_error(runner.invoke(app, ["filings", "validate", "oss://bucket/filings.yaml"]))
    assert "not a valid URL" in line and "TOPSECRET" not in line


def test_advise_rejects_a_malformed_domain() -> None:
    line = one_line_error(runner.invoke(app, ["advise", "--domain", "not a domain", "--filings", FILINGS]))
    assert "not a domain" in line
    good = runner.invoke(app, ["advise", "--domain", "www.mingyue-tea.cn", "--filings", FILINGS, "--format", "json",
                               "--today", "2026-11-28"])  # fmt: skip
    assert good.exit_code == 0 and json.loads(good.stdout)["hosting"] == "mainland"


@pytest.mark.parametrize(("within", "today"), [("99999999999", "2026-11-28"), ("30", "9999-12-31")])
def test_expiring_far_horizon(within: str, today: str) -> None:
    args = ["filings", "expiring", "--within", within, "--filings", FILINGS, "--today", today, "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.output
    assert json.loads(result.stdout)["items"]


def test_expiring_horizon_is_clamped() -> None:
    from china_site.filings import load_registry

    registry = load_registry(FILINGS)
    assert registry.expiring(10**9, dt.date(2026, 11, 28)) == registry.expiring(3_000_000, dt.date(2026, 11, 28))
