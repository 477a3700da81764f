"""The filing registry: models, normalisation, cross-field rules, lookups and the local-file loader."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import registry_data
import yaml

from china_site import domains, filings
from china_site.errors import RegistryError
from china_site.filings import FilingRegistry, load_registry, parse_registry

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "filings.yaml"
TODAY = dt.date(2026, 11, 28)


def base() -> dict[str, Any]:
    """A small valid registry (fresh copy each call)."""
    return {
        "version": 1,
        "entities": {
            "acme": registry_data.entity("acme"),
            "yuebei": {
                "name": "广州粤北科技有限公司",
                "type": "enterprise",
                "ownership": "domestic",
                "province": "44",
            },
        },
        "sites": [
            registry_data.site("example.cn"),
            {
                "domain": "shop.com.cn",
                "entity": "acme",
                "icp_number": "沪ICP备2021012345号-2",
                "status": "approved",
                "approved": "2022-01-10",
                "access_providers": ["alibaba-cloud"],
            },
        ],
    }


def fails(data: object, source: str = "test.yaml") -> RegistryError:
    with pytest.raises(RegistryError) as info:
        parse_registry(data, source=source)
    return info.value


def only_problem(data: object) -> str:
    err = fails(data)
    assert len(err.problems) == 1, err.problems
    return err.problems[0]


def ok(data: object) -> FilingRegistry:
    return parse_registry(data, source="test.yaml")


# --- the sample ---------------------------------------------------------------------------------------------------


def test_sample_registry_validates_and_covers_the_documented_cases() -> None:
    reg = load_registry(str(SAMPLE))
    assert reg.source == str(SAMPLE)
    assert reg.warnings == ()
    by_domain = {s.domain: s for s in reg.sites}
    tea = by_domain["mingyue-tea.cn"]
    assert reg.effective_status(tea) == "approved"
    assert tea.access_providers == ("alibaba-cloud",)
    assert tea.psb_number is not None
    assert any(p.kind == "B25" and p.expires >= dt.date(2028, 1, 1) for p in reg.entity_of(tea).permits)
    assert reg.entity_of(tea).province == "31"
    assert reg.entities["yunfan"].province == "44"
    yunfan = reg.covering("www.yunfan-mall.com.cn")
    assert yunfan is not None and yunfan.icp() is not None and yunfan.icp().on_licence  # type: ignore[union-attr]
    statuses = {reg.effective_status(s) for s in reg.sites}
    assert statuses == {"approved", "pending", "cancelled"}
    assert reg.effective_status(by_domain["xishan-culture.com"]) == "cancelled"  # entity cancelled
    assert by_domain["jinli-food.cn"].access_providers == ("tencent-cloud",)
    assert reg.entities["huitong"].ownership == "foreign-invested"
    assert [p.kind for p in reg.entities["huitong"].permits] == ["B21"]
    assert reg.covering("明月茶.cn") is by_domain[domains.to_ascii("明月茶.cn")]
    # A site launched recently without PSB yet, and a permit expiring soon.
    assert reg.expiring(30, TODAY) == [
        ("psb", "mingyue-gift.cn", dt.date(2026, 12, 10)),
        ("permit", "jinli: 川B2-20211208 (B25)", dt.date(2026, 12, 20)),
    ]
    # Dates are consistent with "today": nothing happens in the future.
    for site in reg.sites:
        for day in (site.approved, site.launched, site.psb_filed, site.cancelled):
            assert day is None or day <= TODAY


def test_base_fixture_is_valid_and_normalised() -> None:
    reg = ok(base())
    assert reg.entities["acme"].province == "31"
    assert reg.entities["yuebei"].province == "44"
    assert reg.sites[0].access_providers == ("alibaba-cloud",)
    assert reg.sites[0].approved == dt.date(2021, 6, 1)
    assert reg.warnings == ()


def test_round_trip_through_json(tmp_path: Path) -> None:
    reg = ok(base())
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(reg.model_dump(mode="json", exclude={"source"}), ensure_ascii=False), "utf-8")
    again = load_registry(str(path))
    assert again.model_dump(exclude={"source"}) == reg.model_dump(exclude={"source"})


# --- field normalisation and validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "code"), [(31, "31"), ("31", "31"), (" 44 ", "44"), (11, "11")])
def test_province_accepts_int_or_str(given: object, code: str) -> None:
    data = base()
    data["entities"]["acme"]["province"] = given
    data["sites"] = []
    data["entities"]["acme"].pop("icp_number")
    data["entities"]["acme"].pop("permits")
    assert ok(data).entities["acme"].province == code


@pytest.mark.parametrize("given", [99, "71", "sh", True, 3.1, [31], None])
def test_province_must_be_a_known_code(given: object) -> None:
    data = base()
    data["entities"]["yuebei"]["province"] = given
    line = only_problem(data)
    assert "entities.yuebei, field 'province'" in line
    assert "Fix:" in line


def test_entity_number_must_be_an_entity_number() -> None:
    data = base()
    data["entities"]["acme"]["icp_number"] = "沪ICP备2021012345号-1"
    line = only_problem(data)
    assert "entities.acme, field 'icp_number'" in line
    assert "website filing number" in line and "沪ICP备2021012345号" in line


def test_site_number_must_be_a_site_number() -> None:
    data = base()
    data["sites"][0]["icp_number"] = "沪ICP备2021012345号"
    line = only_problem(data)
    assert "sites[0] (example.cn), field 'icp_number'" in line
    assert "entity filing number" in line


def test_numbers_are_parsed_and_normalised() -> None:
    data = base()
    data["sites"][0]["icp_number"] = " 沪ICP备 2021012345号－1 "
    data["sites"][0]["psb_number"] = "沪公网安备 31011502012345号"
    reg = ok(data)
    assert reg.sites[0].icp_number == "沪ICP备2021012345号-1"
    assert reg.sites[0].psb_number == "沪公网安备31011502012345号"
    assert reg.sites[0].psb() is not None and reg.sites[0].psb().digits == "31011502012345"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("sites", 0, "icp_number"), "ICP-12345", "sites[0] (example.cn), field 'icp_number'"),
        (("entities", "acme", "icp_number"), "沪ICP备12号", "entities.acme, field 'icp_number'"),
        (("sites", 0, "psb_number"), "沪公网安备123号", "sites[0] (example.cn), field 'psb_number'"),
        (("sites", 0, "psb_number"), 31011502012345, "sites[0] (example.cn), field 'psb_number'"),
        (
            ("entities", "acme", "permits", 0, "number"),
            "沪ICP备2021012345号",
            "entities.acme.permits[0], field 'number'",
        ),
        (("entities", "acme", "permits", 0, "number"), "B2-123", "entities.acme.permits[0], field 'number'"),
    ],
)
def test_malformed_numbers_are_rejected(path: tuple[Any, ...], value: object, where: str) -> None:
    data = base()
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    line = only_problem(data)
    assert where in line, line


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.CN", "example.cn"),
        ("example.cn.", "example.cn"),
        ("例子.cn", "xn--fsqu00a.cn"),
        ("xn--fsqu00a.cn", "xn--fsqu00a.cn"),
        ("other.com.cn", "other.com.cn"),
        ("公司.中国", domains.to_ascii("公司.中国")),
    ],
)
def test_domain_is_stored_as_ascii_registrable_domain(given: str, stored: str) -> None:
    data = base()
    data["sites"][0]["domain"] = given
    assert ok(data).sites[0].domain == stored


@pytest.mark.parametrize(
    ("given", "expect"),
    [
        ("www.example.cn", "use domain: example.cn"),
        ("a.b.shop.com.cn", "use domain: shop.com.cn"),
        ("www.例子.cn", "use domain: xn--fsqu00a.cn"),
        ("com.cn", "public suffix"),
        ("192.0.2.1", "IP address"),
        ("https://example.cn/", "not a bare host name"),
        ("", "empty"),
    ],
)
def test_domain_must_be_a_registrable_domain(given: str, expect: str) -> None:
    data = base()
    data["sites"][0]["domain"] = given
    line = only_problem(data)
    assert "field 'domain'" in line and expect in line, line


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("aliyun", "alibaba-cloud"),
        ("alibaba", "alibaba-cloud"),
        ("alibabacloud", "alibaba-cloud"),
        ("alicloud", "alibaba-cloud"),
        ("Alibaba Cloud", "alibaba-cloud"),
        ("阿里云", "alibaba-cloud"),
        ("ALIBABA_CLOUD", "alibaba-cloud"),
        ("qcloud", "tencent-cloud"),
        ("Tencent Cloud", "tencent-cloud"),
        ("腾讯云", "tencent-cloud"),
        ("华为云", "huawei-cloud"),
        ("Huawei Cloud", "huawei-cloud"),
        ("Baidu Cloud", "baidu-cloud"),
        ("China  Unicom_IDC", "china-unicom-idc"),
    ],
)
def test_access_providers_are_normalised(given: str, canonical: str) -> None:
    data = base()
    data["sites"][0]["access_providers"] = [given]
    assert ok(data).sites[0].access_providers == (canonical,)


def test_access_providers_deduplicated_and_single_string_accepted() -> None:
    data = base()
    data["sites"][0]["access_providers"] = ["aliyun", "阿里云", "qcloud", "alibaba-cloud"]
    data["sites"][1]["access_providers"] = "Alibaba Cloud"
    reg = ok(data)
    assert reg.sites[0].access_providers == ("alibaba-cloud", "tencent-cloud")
    assert reg.sites[1].access_providers == ("alibaba-cloud",)
    bad = base()
    bad["sites"][0]["access_providers"] = ["aliyun", " "]
    assert "field 'access_providers'" in only_problem(bad)


@pytest.mark.parametrize("given", ["2021-06-01", dt.date(2021, 6, 1)])
def test_dates_accept_iso_dates(given: object) -> None:
    data = base()
    data["sites"][0]["approved"] = given
    assert ok(data).sites[0].approved == dt.date(2021, 6, 1)


@pytest.mark.parametrize(
    "given", ["2021/06/01", "01-06-2021", "2021-02-30", "yesterday", 1622505600, dt.datetime(2021, 6, 1, 10, 0)]
)
def test_dates_reject_other_forms(given: object) -> None:
    data = base()
    data["sites"][0]["approved"] = given
    line = only_problem(data)
    assert "sites[0] (example.cn), field 'approved'" in line and "YYYY-MM-DD" in line


# --- unknown keys and wrong types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ((), "test.yaml, field 'colour'"),
        (("entities", "acme"), "entities.acme, field 'colour'"),
        (("entities", "acme", "permits", 0), "entities.acme.permits[0], field 'colour'"),
        (("sites", 1), "sites[1] (shop.com.cn), field 'colour'"),
    ],
)
def test_unknown_keys_are_rejected(path: tuple[Any, ...], where: str) -> None:
    data = base()
    target: Any = data
    for part in path:
        target = target[part]
    target["colour"] = "red"
    line = only_problem(data)
    assert where in line and "unknown key" in line, line


def test_source_is_not_a_file_key() -> None:
    data = base()
    data["source"] = "elsewhere"
    line = only_problem(data)
    assert "field 'source'" in line and "unknown key" in line


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.__setitem__("sites", {"domain": "example.cn"}), "field 'sites'"),
        (lambda d: d.__setitem__("entities", ["acme"]), "field 'entities'"),
        (lambda d: d["sites"].__setitem__(0, "example.cn"), "sites[0]"),
        (lambda d: d["sites"][0].__setitem__("registrar_in_china", "maybe"), "field 'registrar_in_china'"),
        (lambda d: d["sites"][0].__setitem__("status", "active"), "field 'status'"),
        (lambda d: d["entities"]["acme"].__setitem__("type", "company"), "field 'type'"),
        (lambda d: d["entities"]["acme"].__setitem__("ownership", "wfoe"), "field 'ownership'"),
        (lambda d: d["entities"]["acme"]["permits"][0].__setitem__("kind", "B26"), "field 'kind'"),
        (lambda d: d.__setitem__("version", 2), "field 'version'"),
        (lambda d: d["sites"][0].pop("status"), "field 'status'"),
        (lambda d: d["entities"]["acme"].pop("name"), "field 'name'"),
        (lambda d: d["sites"][0].__setitem__("entity", 5), "field 'entity'"),
    ],
)
def test_wrong_types_and_values_are_rejected(mutate: Any, where: str) -> None:
    data = base()
    mutate(data)
    err = fails(data)
    assert where in str(err), str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize("data", [None, [], "version: 1", 42])
def test_registry_must_be_a_mapping(data: object) -> None:
    err = fails(data)
    assert str(err).startswith("test.yaml: ")
    assert "empty" in str(err) or "mapping" in str(err)


def test_empty_sections_are_allowed() -> None:
    reg = ok({"version": 1, "entities": None, "sites": None})
    assert reg.entities == {} and reg.sites == ()


# --- cross-field rules (one pass + one fail each) -----------------------------------------------------------------


def test_site_must_reference_an_existing_entity() -> None:
    data = base()
    data["sites"][1]["entity"] = "acmee"
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'entity'" in line
    assert "unknown entity 'acmee'" in line and "known: acme, yuebei" in line


def test_site_number_province_must_match_entity_province() -> None:
    data = base()
    data["sites"][1]["entity"] = "yuebei"
    data["sites"][1]["icp_number"] = "粤ICP备2020012345号-1"
    ok(data)
    data["sites"][1]["icp_number"] = "京ICP备2020012345号-1"
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'icp_number'" in line
    assert "Beijing" in line and "Guangdong" in line and "Fix:" in line


def test_entity_number_province_must_match_entity_province() -> None:
    data = base()
    data["entities"]["yuebei"]["icp_number"] = "粤ICP备2020012345号"
    ok(data)
    data["entities"]["yuebei"]["icp_number"] = "沪ICP备2020012345号"
    line = only_problem(data)
    assert "entities.yuebei, field 'icp_number'" in line and "Shanghai" in line


def test_permit_province_must_match_entity_province() -> None:
    data = base()
    permits = data["entities"]["yuebei"]["permits"] = [
        {"number": "粤B2-20190001", "kind": "B25", "issued": "2024-01-01", "expires": "2029-01-01"},
        {"number": "合字B2-20190001", "kind": "B21", "issued": "2024-01-01", "expires": "2029-01-01"},  # no char
        {"number": "B2-20190002", "kind": "B21", "issued": "2024-01-01", "expires": "2029-01-01"},  # MIIT
    ]
    ok(data)
    permits[0]["number"] = "浙B2-20190001"
    line = only_problem(data)
    assert "entities.yuebei.permits[0] (浙B2-20190001), field 'number'" in line and "Zhejiang" in line


def test_licence_based_filing_number_province_must_match() -> None:
    data = base()
    data["entities"]["yuebei"]["icp_number"] = "粤B2-20090059"
    data["sites"].append(
        {
            "domain": "yuebei.cn",
            "entity": "yuebei",
            "icp_number": "粤B2-20090059-5",
            "status": "approved",
            "approved": "2020-01-01",
        }
    )
    ok(data)
    data["sites"][2]["entity"] = "acme"
    err = fails(data)
    assert any("sites[2] (yuebei.cn), field 'icp_number'" in p and "Guangdong" in p for p in err.problems)


def test_site_number_base_must_be_the_entity_number() -> None:
    data = base()
    data["sites"][1]["icp_number"] = "沪ICP备2021099999号-2"
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'icp_number'" in line
    assert "沪ICP备2021012345号" in line and "base is 沪ICP备2021099999号" in line
    # Without an entity number, any number of the right province is accepted.
    del data["entities"]["acme"]["icp_number"]
    ok(data)


def test_psb_digits_must_match_entity_province() -> None:
    data = base()
    data["sites"][0]["psb_number"] = "沪公网安备44030502001234号"  # prefix and digits disagree: a warning
    line = only_problem(data)
    assert "sites[0] (example.cn), field 'psb_number'" in line and "Guangdong" in line and "Shanghai" in line
    data["sites"][0]["psb_number"] = "31011502012345"  # without the marker: not a PSB number at all
    assert "field 'psb_number'" in only_problem(data)


def test_approved_status_needs_date_and_number() -> None:
    data = base()
    del data["sites"][1]["approved"]
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'approved'" in line and "approval date" in line
    data = base()
    del data["sites"][1]["icp_number"]
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'icp_number'" in line and "website filing number" in line


@pytest.mark.parametrize("status", ["pending", "cancelled"])
def test_pending_and_cancelled_need_neither_date_nor_number(status: str) -> None:
    data = base()
    site = data["sites"][1]
    del site["approved"], site["icp_number"]
    site["status"] = status
    assert ok(data).sites[1].status == status


def test_cancelled_date_needs_cancelled_status() -> None:
    data = base()
    data["sites"][1]["cancelled"] = "2025-01-01"
    line = only_problem(data)
    assert "sites[1] (shop.com.cn), field 'cancelled'" in line
    data["sites"][1]["status"] = "cancelled"
    assert ok(data).sites[1].cancelled == dt.date(2025, 1, 1)


@pytest.mark.parametrize("expires", ["2022-03-01", "2021-12-31"])
def test_permit_must_expire_after_it_is_issued(expires: str) -> None:
    data = base()
    data["entities"]["acme"]["permits"][0]["expires"] = expires
    line = only_problem(data)
    assert "entities.acme.permits[0], field 'expires'" in line and "not after issued" in line


def test_permit_kind_must_fit_the_number() -> None:
    data = base()
    permit = data["entities"]["acme"]["permits"][0]
    permit.update(number="沪ICP证123456号", kind="B25")
    assert ok(data).entities["acme"].permits[0].kind == "B25"
    permit["kind"] = "B21"
    assert "entities.acme.permits[0], field 'kind'" in only_problem(data)
    permit.update(number="沪B1-20220001", kind="B25")
    assert "without B2" in only_problem(data)


def test_foreign_entity_cannot_hold_a_filing() -> None:
    data = base()
    data["entities"]["northwind"] = {
        "name": "Northwind Trading GmbH",
        "type": "enterprise",
        "ownership": "foreign",
        "province": 31,
    }
    ok(data)  # a foreign entity with nothing filed is fine (e.g. recorded for `advise`)
    with_number = copy.deepcopy(data)
    with_number["entities"]["northwind"]["icp_number"] = "沪ICP备2021000001号"
    assert "entities.northwind, field 'icp_number'" in only_problem(with_number)
    with_permit = copy.deepcopy(data)
    with_permit["entities"]["northwind"]["permits"] = [
        {"number": "沪B2-20220002", "kind": "B25", "issued": "2022-01-01", "expires": "2027-01-01"}
    ]
    assert "entities.northwind, field 'permits'" in only_problem(with_permit)
    with_site = copy.deepcopy(data)
    with_site["sites"][1]["entity"] = "northwind"
    with_site["sites"][1].pop("icp_number")
    with_site["sites"][1]["status"] = "pending"
    line = only_problem(with_site)
    assert "sites[1] (shop.com.cn), field 'entity'" in line and "foreign" in line and "PRC" in line


def test_psb_filed_needs_psb_number() -> None:
    data = base()
    del data["sites"][0]["psb_number"]
    line = only_problem(data)
    assert "sites[0] (example.cn), field 'psb_number'" in line and "psb_filed" in line
    data = base()
    del data["sites"][0]["psb_filed"]
    assert ok(data).sites[0].psb_filed is None  # a number without its date is fine


@pytest.mark.parametrize("duplicate", ["example.cn", "EXAMPLE.CN.", "例子.cn"])
def test_duplicate_domains_are_rejected(duplicate: str) -> None:
    data = base()
    data["sites"][0]["domain"] = "例子.cn" if duplicate == "例子.cn" else "example.cn"
    data["sites"][1]["domain"] = duplicate if duplicate != "例子.cn" else "xn--fsqu00a.cn"
    line = only_problem(data)
    assert "sites[1]" in line and "field 'domain'" in line and "already listed as sites[0]" in line


def test_cancelled_entity_cancels_its_sites() -> None:
    data = base()
    data["sites"][1]["status"] = "pending"
    reg = ok(data)
    assert [reg.effective_status(s) for s in reg.sites] == ["approved", "pending"]
    data["entities"]["acme"]["status"] = "cancelled"
    reg = ok(data)
    assert [reg.effective_status(s) for s in reg.sites] == ["cancelled", "cancelled"]
    assert [s.status for s in reg.sites] == ["approved", "pending"]  # the record itself is unchanged


# --- aggregation and warnings -------------------------------------------------------------------------------------


def test_all_problems_are_aggregated_into_one_error() -> None:
    data = base()
    data["sites"][0]["domain"] = "www.example.cn"  # field error
    data["sites"][1]["colour"] = "red"  # unknown key
    data["entities"]["acme"]["province"] = 99  # field error
    err = fails(data, source="reg.yaml")
    assert len(err.problems) == 3
    message = str(err)
    assert "\n" not in message
    assert message.startswith("reg.yaml, ") and "(and 2 more problems)" in message
    assert message.startswith(err.problems[0].rstrip(".").split(". Fix:")[0].rsplit(" (", 1)[0])
    assert err.source == "reg.yaml" and err.entry is not None and err.field is not None
    assert all(p.startswith("reg.yaml, ") and "Fix:" in p for p in err.problems)


def test_cross_field_problems_are_aggregated_too() -> None:
    data = base()
    data["sites"][0]["icp_number"] = "京ICP备2021012345号-1"  # province + base mismatch
    data["sites"][1]["entity"] = "nobody"
    err = fails(data)
    assert len(err.problems) == 3
    assert "(and 2 more problems)" in str(err)
    assert sum("sites[0] (example.cn), field 'icp_number'" in p for p in err.problems) == 2
    assert any("sites[1] (shop.com.cn), field 'entity'" in p for p in err.problems)


def test_single_problem_has_no_count() -> None:
    data = base()
    data["sites"][1]["entity"] = "nobody"
    err = fails(data)
    assert "more problem" not in str(err) and err.problems == [str(err)]


def test_alias_characters_give_warnings_not_errors() -> None:
    data = base()
    data["entities"]["shu"] = {
        "name": "成都某某科技有限公司",
        "type": "enterprise",
        "ownership": "domestic",
        "province": 51,
        "icp_number": "川ICP备2020045678号",
    }
    data["sites"].append(
        {
            "domain": "chengdu-example.cn",
            "entity": "shu",
            "icp_number": "川ICP备2020045678号-1",
            "status": "approved",
            "approved": "2020-01-01",
            "psb_number": "川公网安备51010702000456号",  # 川 is normal in PSB numbers: no warning
        }
    )
    reg = ok(data)
    assert len(reg.warnings) == 2
    assert any(w.startswith("test.yaml, entities.shu, field 'icp_number': ") and "蜀" in w for w in reg.warnings)
    assert any("sites[2] (chengdu-example.cn), field 'icp_number'" in w for w in reg.warnings)
    assert ok(base()).warnings == ()


def test_number_without_hao_is_a_warning() -> None:
    data = base()
    data["sites"][0]["psb_number"] = "沪公网安备31011502012345"
    reg = ok(data)
    assert reg.sites[0].psb_number == "沪公网安备31011502012345号"
    assert len(reg.warnings) == 1 and "field 'psb_number'" in reg.warnings[0] and "号" in reg.warnings[0]


# --- lookups ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("shop.com.cn", "shop.com.cn"),
        ("a.b.shop.com.cn", "shop.com.cn"),
        ("WWW.Example.CN.", "example.cn"),
        ("*.example.cn", "example.cn"),
        ("cdn.例子.cn", "xn--fsqu00a.cn"),
        ("cdn.xn--fsqu00a.cn", "xn--fsqu00a.cn"),
        ("例子.cn", "xn--fsqu00a.cn"),
    ],
)
def test_covering_finds_the_registrable_domain(host: str, domain: str) -> None:
    data = base()
    data["sites"].append(
        {"domain": "例子.cn", "entity": "acme", "icp_number": "沪ICP备2021012345号-3", "status": "pending"}
    )
    site = ok(data).covering(host)
    assert site is not None and site.domain == domain


@pytest.mark.parametrize(
    "host", ["com.cn", "cn", "notshop.com.cn", "shop.com", "example.cn.evil.com", "192.0.2.1", "", "http://x", "例.cn"]
)
def test_covering_returns_none_when_nothing_covers(host: str) -> None:
    assert ok(base()).covering(host) is None


def test_covering_does_not_consult_the_public_suffix_list(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = ok(base())

    def boom(host: str) -> str:
        raise AssertionError("registrable_domain called during lookup")

    monkeypatch.setattr(domains, "registrable_domain", boom)
    site = reg.covering("x.y.z.shop.com.cn")
    assert site is not None and site.domain == "shop.com.cn"


def test_entity_of_and_sites_of() -> None:
    reg = ok(base())
    assert reg.entity_of(reg.sites[0]).name == "上海阿克米信息技术有限公司"
    assert [s.domain for s in reg.sites_of("acme")] == ["example.cn", "shop.com.cn"]
    assert reg.sites_of("yuebei") == ()
    assert reg.sites_of("nobody") == ()
    stray = reg.sites[0].model_copy(update={"entity": "nobody"})
    with pytest.raises(RegistryError, match="unknown entity 'nobody'"):
        reg.entity_of(stray)


def test_expiring_lists_permits_and_psb_deadlines() -> None:
    data = base()
    acme = data["entities"]["acme"]
    acme["permits"].append({"number": "沪B2-20150001", "kind": "B21", "issued": "2020-01-01", "expires": "2025-01-01"})
    data["sites"][1]["launched"] = "2026-11-10"  # PSB due 2026-12-10
    data["sites"].append(
        {
            "domain": "later.cn",
            "entity": "acme",
            "icp_number": "沪ICP备2021012345号-3",
            "status": "approved",
            "approved": "2026-11-01",
            "launched": "2026-11-27",  # due 2026-12-27: outside a 20-day window
        }
    )
    data["sites"].append({"domain": "notyet.cn", "entity": "acme", "status": "pending", "launched": "2026-11-01"})
    reg = ok(data)
    assert reg.expiring(20, TODAY) == [
        ("permit", "acme: 沪B2-20150001 (B21)", dt.date(2025, 1, 1)),  # already expired: listed first
        ("psb", "shop.com.cn", dt.date(2026, 12, 10)),
    ]
    assert [e.subject for e in reg.expiring(100, TODAY)] == [
        "acme: 沪B2-20150001 (B21)",
        "shop.com.cn",
        "later.cn",
        "acme: 沪B2-20220001 (B25)",
    ]
    assert reg.expiring(20, TODAY, psb_grace_days=10)[1] == ("psb", "shop.com.cn", dt.date(2026, 11, 20))
    data["entities"]["acme"]["status"] = "cancelled"
    assert ok(data).expiring(1000, TODAY) == []


# --- local loader -------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return str(path)


@pytest.mark.parametrize("name", ["reg.yaml", "reg.yml", "registry", "reg.txt"])
def test_load_yaml_by_extension_or_default(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, yaml.safe_dump(base(), allow_unicode=True))
    reg = load_registry(path)
    assert reg.source == path and len(reg.sites) == 2 and reg.fetch is None


def test_load_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "reg.json", json.dumps(base(), ensure_ascii=False))
    assert load_registry(path).sites[0].domain == "example.cn"
    assert load_registry("file://" + path).sites[1].domain == "shop.com.cn"


def test_yaml_dates_and_int_province_come_through(tmp_path: Path) -> None:
    text = SAMPLE.read_text("utf-8")
    assert "province: 31" in text and "approved: 2021-06-01" in text
    assert load_registry(_write(tmp_path, "copy.yaml", text)).sites[0].approved == dt.date(2021, 6, 1)


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert str(info.value).startswith(f"{path}: file not found")
    # the fix says where relative paths start: the project folder for config, the current directory for --filings
    assert "starts at the Pulumi project folder" in str(info.value) and "--filings, at the current" in str(info.value)


def test_directory_is_not_a_registry(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="is a directory"):
        load_registry(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:  # pragma: no cover - depends on the user
    path = _write(tmp_path, "reg.yaml", "version: 1\n")
    os.chmod(path, 0)
    with pytest.raises(RegistryError, match="permission denied"):
        load_registry(path)


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", "version: 1\nentities:\n  acme:\n    name: [unclosed\n    type: x\n")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert message.startswith(f"{path}: malformed YAML at line ")
    assert "column" in message and "\n" not in message
    bad_indent = _write(tmp_path, "indent.yaml", "version: 1\nsites:\n  - domain: a.cn\n   entity: x\n")
    with pytest.raises(RegistryError, match=r"malformed YAML at line 4, column 4"):
        load_registry(bad_indent)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.json", '{\n  "version": 1,\n  "sites": [,]\n}\n')
    with pytest.raises(RegistryError, match=r"malformed JSON at line 3, column 13"):
        load_registry(path)


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    text = "version: 1\nentities:\n  acme: {name: A, type: other, ownership: domestic, province: 31}\n"
    text += "  acme: {name: B, type: other, ownership: domestic, province: 44}\n"
    with pytest.raises(RegistryError, match=r"line 4, column 3: found duplicate key 'acme'"):
        load_registry(_write(tmp_path, "dup.yaml", text))
    with pytest.raises(RegistryError, match="duplicate key 'version'"):
        load_registry(_write(tmp_path, "dup.json", '{"version": 1, "version": 1}'))


def test_yaml_merge_keys_still_work(tmp_path: Path) -> None:
    text = (
        "version: 1\nentities:\n  a: &e {name: A, type: other, ownership: domestic, province: 31}\n"
        "  b:\n    <<: *e\n    name: B\n"
    )
    reg = load_registry(_write(tmp_path, "merge.yaml", text))
    assert reg.entities["b"].name == "B" and reg.entities["b"].province == "31"


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("empty.yaml", "", "empty"),
        ("comment.yaml", "# nothing\n", "empty"),
        ("list.yaml", "- a\n- b\n", "must be a mapping"),
        ("scalar.json", "42", "must be a mapping"),
        ("latin1.yaml", "name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_not_a_registry(tmp_path: Path, name: str, content: str | bytes, expect: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(RegistryError, match=expect) as info:
        load_registry(path)
    assert str(info.value).startswith(path)


def test_invalid_content_names_file_entry_and_field(tmp_path: Path) -> None:
    data = base()
    data["sites"][1]["icp_number"] = "京ICP备2021012345号-2"
    path = _write(tmp_path, "reg.yaml", yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert str(info.value).startswith(f"{path}, sites[1] (shop.com.cn), field 'icp_number': ")


@pytest.mark.parametrize(
    ("source", "expect"),
    [
        ("", "no registry given"),
        ("  ", "no registry given"),
        ("https://example.com/filings.yaml", "unsupported source scheme 'https://'"),
        ("oss://bucket-only", "oss://BUCKET/KEY"),
        ("s3:///key.yaml", "oss://BUCKET/KEY"),
    ],
)
def test_bad_sources(source: str, expect: str) -> None:
    with pytest.raises(RegistryError, match=re.escape(expect)):
        load_registry(source)


def test_importing_the_module_does_not_import_boto3() -> None:
    code = "import sys, china_site.filings; sys.exit(1 if 'boto3' in sys.modules or 'botocore' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()


def test_problems_attribute_defaults_for_other_callers() -> None:
    err = RegistryError("file not found", source="x.yaml")
    assert err.problems == [str(err)]
    assert filings.RegistryError is RegistryError


def test_programmatic_construction_keeps_checks_and_warnings() -> None:
    entity = filings.Entity(
        name="成都某某科技有限公司",
        type="enterprise",
        ownership="domestic",
        province=51,
        icp_number="川ICP备2020045678号",
    )
    site = filings.Site(domain="Chengdu-Example.cn", entity="shu", icp_number="蜀ICP备2020045678号-1", status="pending")
    reg = FilingRegistry(entities={"shu": entity}, sites=(site,))
    assert reg.covering("www.chengdu-example.cn") is site
    assert len(reg.warnings) == 1 and "entities.shu" in reg.warnings[0]
    with pytest.raises(ValueError, match="unknown entity"):
        FilingRegistry(entities={}, sites=(site,))


def test_covering_follows_a_copy_with_other_sites() -> None:
    reg = ok(base())
    other = reg.model_copy(update={"sites": reg.sites[:1]})
    assert other.covering("shop.com.cn") is None and reg.covering("shop.com.cn") is not None


# --- the per-process cache of local registries ------------------------------------------------------------------


class _ParseSpy:
    """Wraps ``filings.parse_registry`` (what ``load_registry`` calls for a file it has not parsed yet)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self._real = filings.parse_registry
        monkeypatch.setattr(filings, "parse_registry", self)

    def __call__(self, data: object, *, source: str) -> FilingRegistry:
        self.calls += 1
        return self._real(data, source=source)


def _rewrite_keeping_size_and_mtime(path: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (same length) and put the file's timestamps back as they were."""
    assert len(old.encode()) == len(new.encode())
    before = os.stat(path)
    text = Path(path).read_text("utf-8")
    assert text.count(old) == 1
    Path(path).write_text(text.replace(old, new), "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_unchanged_file_is_parsed_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filings.clear_registry_cache()
    spy = _ParseSpy(monkeypatch)
    path = _write(tmp_path, "reg.yaml", yaml.safe_dump(base(), allow_unicode=True))
    first = load_registry(path)
    again = load_registry(path)
    assert again is first and spy.calls == 1
    # After clear_registry_cache() the same file is parsed again: a new, equal registry.
    filings.clear_registry_cache()
    fresh = load_registry(path)
    assert fresh is not first and spy.calls == 2
    assert fresh.sites == first.sites and fresh.source == path


def test_cache_is_keyed_on_the_source_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filings.clear_registry_cache()
    spy = _ParseSpy(monkeypatch)
    text = yaml.safe_dump(base(), allow_unicode=True)
    one = load_registry(_write(tmp_path, "one.yaml", text))
    other_path = _write(tmp_path, "two.yaml", text)
    two = load_registry(other_path)
    # Same bytes, other source: parsed again, and the registry names its own source in its messages.
    assert two is not one and spy.calls == 2
    assert two.source == other_path and one.source != other_path


def test_edited_file_is_read_again_even_with_same_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filings.clear_registry_cache()
    spy = _ParseSpy(monkeypatch)
    path = _write(tmp_path, "reg.yaml", yaml.safe_dump(base(), allow_unicode=True))
    first = load_registry(path)
    assert first.sites[1].approved == dt.date(2022, 1, 10)

    _rewrite_keeping_size_and_mtime(path, "2022-01-10", "2022-01-11")
    edited = load_registry(path)
    assert edited is not first and spy.calls == 2
    assert edited.sites[1].approved == dt.date(2022, 1, 11)
    assert load_registry(path) is edited and spy.calls == 2  # the edited bytes are cached in turn

    # Editing it back gives the original bytes: their registry is still cached.
    _rewrite_keeping_size_and_mtime(path, "2022-01-11", "2022-01-10")
    assert load_registry(path) is first and spy.calls == 2


def test_a_file_that_fails_validation_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filings.clear_registry_cache()
    spy = _ParseSpy(monkeypatch)
    broken = base()
    broken["sites"][1]["entity"] = "nobody"
    path = _write(tmp_path, "reg.yaml", yaml.safe_dump(broken, allow_unicode=True))
    for attempt in (1, 2):  # the error is raised again on every load, each time from a fresh parse
        with pytest.raises(RegistryError, match="unknown entity"):
            load_registry(path)
        assert spy.calls == attempt

    # Fixed: the next load succeeds at once.
    _write(tmp_path, "reg.yaml", yaml.safe_dump(base(), allow_unicode=True))
    fixed = load_registry(path)
    assert fixed.sites[1].entity == "acme" and spy.calls == 3

    # Broken again (same size and mtime as the valid file): the valid registry cached before is not returned.
    _rewrite_keeping_size_and_mtime(path, "2022-01-10", "2022-13-10")
    with pytest.raises(RegistryError, match="not a calendar date"):
        load_registry(path)
    assert spy.calls == 4
    with pytest.raises(RegistryError, match="not a calendar date"):
        load_registry(path)
    assert spy.calls == 5
