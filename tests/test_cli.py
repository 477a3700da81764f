"""Every command through typer's runner: JSON contracts and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from registry_data import RULES_REGISTRY_YAML, write_registry
from typer.testing import CliRunner

from china_site.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def reg(tmp_path: Path) -> str:
    return str(write_registry(tmp_path, text=RULES_REGISTRY_YAML))


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


# --- advise ------------------------------------------------------------------------------------------------------


def test_advise_foreign_entity_json() -> None:
    r = run("advise", "--entity", "foreign", "--mainland-audience", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["hosting"] == "hongkong" and data["region"] == "cn-hongkong" and data["cdn_scope"] == "overseas"
    assert "china-entity" in data["required"] and data["reasons"]


def test_advise_with_registry(reg: str) -> None:
    r = run("advise", "--domain", "www.example.cn", "--filings", reg, "--today", "2026-11-28", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hosting"] == "mainland"


def test_advise_unfileable_tld_and_unfiled_domain(reg: str) -> None:
    args = ("--filings", reg, "--today", "2026-11-28", "--format", "json")
    hk = json.loads(run("advise", "--domain", "www.example.hk", *args).stdout)
    assert hk["hosting"] == "hongkong"
    assert hk["required"] == ["china-registrar-domain", "icp-filing", "psb-filing"]
    assert any(".hk is not on MIIT's list" in r for r in hk["reasons"])
    cn = json.loads(run("advise", "--domain", "unfiled.cn", *args).stdout)
    assert cn["required"] == ["icp-filing", "psb-filing"]
    assert not any("cannot be ICP-filed" in r for r in cn["reasons"])
    bad = run("advise", "--domain", "https://x.hk/", *args)
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_advise_origin_decides_which_access_provider_the_filing_needs(reg: str) -> None:
    # elsewhere.cn is filed through Tencent Cloud (issue 20): fine for CDN in front of a private bucket ...
    args = ("advise", "--domain", "elsewhere.cn", "--filings", reg, "--today", "2026-11-28", "--format", "json")
    private = json.loads(run(*args).stdout)
    assert private["hosting"] == "mainland" and "icp-filing" not in private["required"]
    # ... not for an origin Alibaba Cloud hosts publicly.
    alibaba = json.loads(run(*args, "--origin", "alibaba").stdout)
    assert alibaba["hosting"] == "hongkong" and "icp-filing" in alibaba["required"]
    assert any("新增接入" in r for r in alibaba["reasons"])
    assert run(*args, "--origin", "moon").exit_code == 2


def test_advise_asks_about_third_party_sellers() -> None:
    asked = json.loads(run("advise", "--payments", "--format", "json").stdout)
    assert any("do third parties sell on the platform?" in r and "第三方商家" in r for r in asked["reasons"])
    own = json.loads(run("advise", "--payments", "--no-third-party-sellers", "--format", "json").stdout)
    [reason] = [r for r in own["reasons"] if "you said no third parties sell" in r]
    assert "Henan 2023" in reason and "ownGoodsNeedPermit" in reason and "commercial-permit" in own["required"]
    sellers = json.loads(run("advise", "--payments", "--third-party-sellers", "--format", "json").stdout)
    assert "edi-permit" in sellers["required"]


def test_advise_table_output_names_the_console_scope() -> None:
    r = run("advise", "--no-mainland-audience")
    assert r.exit_code == 0 and "全球（不包含中国内地）" in r.stdout


def test_advise_table_output() -> None:
    r = run("advise", "--payments", "--registrar-abroad")
    assert r.exit_code == 0
    assert "hongkong" in r.stdout and "commercial-permit" in r.stdout


def test_advise_domain_without_filings_is_usage_error() -> None:
    r = run("advise", "--domain", "example.cn")
    assert r.exit_code == 2 and "--filings" in r.stderr


def test_advise_unknown_region_is_usage_error() -> None:
    r = run("advise", "--region", "mars-1")
    assert r.exit_code == 2 and "mars-1" in r.stderr and "Traceback" not in r.output


def test_advise_bad_entity_is_usage_error() -> None:
    assert run("advise", "--entity", "martian").exit_code == 2


# --- filings -----------------------------------------------------------------------------------------------------


def test_validate_ok(reg: str) -> None:
    r = run("filings", "validate", reg, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["valid"] is True and data["sites"] == 8 and data["entities"] == 4


def test_validate_lists_consistency_warnings_and_stays_valid(tmp_path: Path) -> None:
    from registry_data import PACK_REGISTRY_YAML

    path = write_registry(tmp_path, text=PACK_REGISTRY_YAML)  # early.cn: launched before its approval
    r = run("filings", "validate", str(path), "--format", "json")
    assert r.exit_code == 0, r.output
    [warning] = [w for w in json.loads(r.stdout)["warnings"] if "early.cn" in w]
    assert "field 'launched'" in warning and "早于 ICP 备案通过日期" in warning
    table = run("filings", "validate", str(path))
    assert table.exit_code == 0 and "launched 2026-05-25 is before the ICP approval" in table.stdout


def test_show_prints_the_new_registry_fields() -> None:
    r = run("filings", "show", "huitong-market.com", "--filings", str(ROOT / "filings.yaml"))
    assert r.exit_code == 0, r.output
    assert "district 310104" in r.stdout and "foreign_share wfoe" in r.stdout


def test_validate_sample_registry() -> None:
    r = run("filings", "validate", str(ROOT / "filings.yaml"))
    assert r.exit_code == 0, r.output
    assert "valid" in r.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("version: 1\nentities: [\n", "filings.yaml"),  # malformed YAML
        ("version: 1\nsurprise: true\n", "surprise"),  # unknown key
        ("version: 1\nsites:\n  - domain: a.cn\n    entity: nobody\n    status: pending\n", "nobody"),
    ],
)
def test_validate_bad_registry_one_line_exit_2(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "filings.yaml"
    path.write_text(content, encoding="utf-8")
    r = run("filings", "validate", str(path))
    assert r.exit_code == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_validate_missing_file_exit_2(tmp_path: Path) -> None:
    r = run("filings", "validate", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "nope.yaml" in r.stderr


def test_show_found_and_not_found(reg: str) -> None:
    r = run("filings", "show", "shop.a.example.cn", "--filings", reg, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["domain"] == "example.cn" and data["entity"]["id"] == "acme"
    assert data["access_providers"] == ["alibaba-cloud"]
    r = run("filings", "show", "unfiled.cn", "--filings", reg)
    assert r.exit_code == 1
    r = run("filings", "show", "example.cn", "--filings", reg)
    assert r.exit_code == 0 and "沪ICP备2021012345号-1" in r.stdout


def test_show_invalid_host_exit_2(reg: str) -> None:
    assert run("filings", "show", "not a host", "--filings", reg).exit_code == 2


def test_expiring(reg: str) -> None:
    r = run("filings", "expiring", "--within", "120", "--filings", reg, "--today", "2026-11-28", "--format", "json")
    assert r.exit_code == 1, r.output
    items = json.loads(r.stdout)["items"]
    whats = " ".join(i["what"] for i in items)
    assert "沪B2-20220001" in whats  # expires 2027-03-01
    assert "fresh.cn" in whats  # PSB due 2026-11-28
    r = run("filings", "expiring", "--within", "0", "--filings", reg, "--today", "2020-01-01")
    assert r.exit_code == 0


def test_expiring_bad_date_exit_2(reg: str) -> None:
    r = run("filings", "expiring", "--within", "30", "--filings", reg, "--today", "28/11/2026")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.stderr


# --- footer ------------------------------------------------------------------------------------------------------


def test_footer_links(reg: str) -> None:
    r = run("footer", "example.cn", "--filings", reg)
    assert r.exit_code == 0, r.output
    assert "https://beian.miit.gov.cn/" in r.stdout and "沪ICP备2021012345号-1" in r.stdout
    assert "https://beian.mps.gov.cn/#/query/webSearch?code=31011502012345" in r.stdout


def test_footer_guangdong_shows_entity_number(reg: str) -> None:
    r = run("footer", "wfoe-shop.cn", "--filings", reg)
    assert r.exit_code == 0 and "粤ICP备2020011111号<" in r.stdout.replace("号-1", "号-1X")


def test_footer_unfiled_exit_2(reg: str) -> None:
    r = run("footer", "unfiled.cn", "--filings", reg)
    assert r.exit_code == 2 and "no filing" in r.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    quiet = run("filings", "validate", missing)
    assert quiet.exit_code == 2
    assert quiet.exception is None or isinstance(quiet.exception, SystemExit)  # one line, no traceback
    loud = run("--debug", "filings", "validate", missing)
    assert loud.exit_code != 0
    assert loud.exception is not None and not isinstance(loud.exception, SystemExit)  # the error itself propagates
