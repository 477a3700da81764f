"""Issue 20: pilot zones at their real granularity, foreign share, pre-approvals, domain holder, registry consistency.

Each registry here is written as the YAML a user would write; every rule has a passing and a failing case.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest

from china_site import consistency, eligibility, rules
from china_site.errors import RegistryError
from china_site.filings import FilingRegistry, parse_registry
from china_site.model import Exposure, RuleOptions

TODAY = dt.date(2026, 11, 28)

# (province, city, district, pilot_zone, ICP prefix, permit prefix) per place.
PLACES: dict[str, tuple[str, str | None, str | None, str | None, str, str]] = {
    "guangzhou": ("44", "4401", None, None, "粤", "粤"),
    "shenzhen": ("44", "4403", None, None, "粤", "粤"),
    "chengdu": ("51", "5101", None, None, "蜀", "川"),
    "pudong": ("31", "3101", "310115", None, "沪", "沪"),
    "xuhui": ("31", "3101", "310104", None, "沪", "沪"),
    "lingang-fengxian": ("31", "3101", "310120", "shanghai-lingang", "沪", "沪"),
    "fengxian": ("31", "3101", "310120", None, "沪", "沪"),
    "beijing": ("11", "1101", None, None, "京", "京"),
}


def registry(
    place: str = "chengdu",
    *,
    ownership: str = "foreign-invested",
    entity_extra: str = "",
    site_extra: str = "",
    permit: bool = True,
) -> FilingRegistry:
    province, city, district, zone, icp_char, permit_char = PLACES[place]
    lines = [f"    city: '{city}'"] if city else []
    if district:
        lines.append(f"    district: '{district}'")
    if zone:
        lines.append(f"    pilot_zone: {zone}")
    held = f"{{number: {permit_char}B2-20220001, kind: B25, issued: 2022-03-01, expires: 2027-03-01}}"
    permits = f"    permits:\n      - {held}\n" if permit else ""
    text = f"""\
version: 1
entities:
  co:
    name: 测试网络科技有限公司
    type: enterprise
    ownership: {ownership}
    province: {province}
{chr(10).join(lines)}
{textwrap.indent(textwrap.dedent(entity_extra), "    ")}{permits}sites:
  - domain: shop.cn
    entity: co
    icp_number: {icp_char}ICP备2020012345号-1
    status: approved
    approved: 2021-06-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2021-06-05
{textwrap.indent(textwrap.dedent(site_extra), "    ")}"""
    import yaml

    return parse_registry(yaml.safe_load(text), source="test.yaml")


def cdn(payments: bool = True) -> Exposure:
    return Exposure(
        resource="alicloud:cdn/domainNew:DomainNew",
        name="shop-cdn",
        region="cn-shanghai",
        domains=("www.shop.cn",),
        payments=payments,
        product="cdn",
    )


def permit_findings(reg: FilingRegistry, options: RuleOptions = RuleOptions()) -> list[Any]:
    return rules.check_commercial_permit(cdn(), reg, TODAY, options)


# --- pilot zones and foreign share --------------------------------------------------------------------------------


def test_guangzhou_wfoe_with_payments_is_mandatory() -> None:
    # Done-when: the pilot is Shenzhen, not all of Guangdong.
    [f] = permit_findings(registry("guangzhou", entity_extra="foreign_share: wfoe\n"))
    assert (f.policy, f.enforcement, f.need) == ("commercial-permit-required", "mandatory", "commercial-permit")
    assert "wholly foreign-owned (WFOE)" in f.message_en and "city 4401" in f.message_en
    assert "Shenzhen (not all of Guangdong)" in f.message_en
    assert "外商独资企业" in f.message_zh and "深圳（并非广东全省）" in f.message_zh


def test_guangzhou_wfoe_without_a_permit_is_told_both() -> None:
    # A permit alone would not do: the foreign share puts B25 out of reach in Guangzhou; both findings say so.
    permit, foreign = permit_findings(registry("guangzhou", entity_extra="foreign_share: wfoe\n", permit=False))
    assert "holds no B25 permit" in permit.message_en and "pilot zones" in foreign.message_en
    [only] = permit_findings(registry("guangzhou", entity_extra="foreign_share: 30\n", permit=False))
    assert "holds no B25 permit" in only.message_en  # a 30% JV only lacks the permit


def test_shenzhen_wfoe_needs_the_pilot_approval() -> None:
    [f] = permit_findings(registry("shenzhen", entity_extra="foreign_share: wfoe\n"))
    assert "pilot_approval" in f.message_en and "试点批复" in f.message_zh
    approved = registry("shenzhen", entity_extra="foreign_share: wfoe\npilot_approval: 工信部试点批复〔2024〕1号\n")
    assert permit_findings(approved) == []
    # The option narrows the zones: with Beijing only, Shenzhen is outside.
    [g] = permit_findings(approved, RuleOptions(pilot_zones=("beijing",)))
    assert "not registered in one" in g.message_en


def test_jv_with_49_percent_foreign_equity_holds_b25_in_chengdu() -> None:
    # Done-when: at or below 50% the cap does not bite, anywhere.
    assert permit_findings(registry("chengdu", entity_extra="foreign_share: 49\n")) == []
    assert permit_findings(registry("chengdu", entity_extra="foreign_share: jv-50-or-less\n")) == []
    assert permit_findings(registry("chengdu", entity_extra="foreign_share: '50%'\n")) == []


def test_jv_above_50_percent_in_chengdu_is_mandatory() -> None:
    [f] = permit_findings(registry("chengdu", entity_extra="foreign_share: 51\n"))
    assert "51% foreign equity" in f.message_en and "外资股比 51%" in f.message_zh
    [g] = permit_findings(registry("chengdu", entity_extra="foreign_share: jv-over-50\n"))
    assert "more than 50%" in g.message_en


def test_foreign_invested_without_a_share_reads_as_above_half() -> None:
    [f] = permit_findings(registry("chengdu"))
    assert "no foreign_share recorded" in f.message_en and "未登记外资股比" in f.message_zh


@pytest.mark.parametrize(
    ("place", "passes"),
    [("pudong", True), ("xuhui", False), ("lingang-fengxian", True), ("fengxian", False), ("beijing", True)],
)
def test_shanghai_zones_are_districts_and_a_declared_new_area(place: str, passes: bool) -> None:
    reg = registry(place, entity_extra="foreign_share: wfoe\npilot_approval: 试点批复1号\n")
    assert (permit_findings(reg) == []) is passes


def test_domestic_entity_needs_no_zone() -> None:
    assert permit_findings(registry("guangzhou", ownership="domestic")) == []


def test_foreign_share_rule_is_stated_exactly() -> None:
    en, zh = eligibility.foreign_share_rule()
    assert "at most 50% foreign equity may hold B25 anywhere" in en
    assert "News, publishing, audio-visual and internet culture stay closed to any foreign share" in en
    assert "外资不超过 50% 的合资企业可在各地取得 B25" in zh and "新闻、出版、视听、网络文化业务" in zh


# --- sectors: closed to foreign investment, pre-approvals ---------------------------------------------------------


def icp(reg: FilingRegistry) -> list[Any]:
    return rules.check_icp_filing(cdn(payments=False), reg, TODAY)


def test_closed_sector_is_blocked_for_any_foreign_share() -> None:
    sectors = "sectors: [{sector: news, approval: 国网信办许可10001号}]\n"
    [f] = icp(registry("beijing", entity_extra="foreign_share: 10\n", site_extra=sectors))
    assert (f.policy, f.enforcement, f.need) == ("icp-filing-required", "mandatory", "china-entity")
    assert "closed to foreign investment whatever the share" in f.message_en and "互联网新闻信息服务" in f.message_zh
    assert icp(registry("beijing", ownership="domestic", site_extra=sectors)) == []


def test_pre_approval_missing_names_the_authority() -> None:
    reg = registry("beijing", ownership="domestic", site_extra="sectors: [{sector: drugs-medical-devices}]\n")
    [f] = icp(reg)
    assert f.enforcement == "mandatory" and "provincial medical products administration" in f.message_en
    assert "省级药品监督管理部门" in f.message_zh and "前置审批" in f.message_en
    approved = "sectors: [{sector: drugs-medical-devices, approval: (京)-非经营性-2024-0001}]\n"
    assert icp(registry("beijing", ownership="domestic", site_extra=approved)) == []


def test_abolished_pre_approvals_need_no_number() -> None:
    reg = registry("beijing", ownership="domestic", site_extra="sectors: [{sector: education}, {sector: medical}]\n")
    assert icp(reg) == []


def test_unknown_sector_is_rejected_with_the_known_ones() -> None:
    with pytest.raises(RegistryError) as err:
        registry("beijing", ownership="domestic", site_extra="sectors: [{sector: gambling}]\n")
    assert "unknown sector" in str(err.value) and "drugs-medical-devices" in str(err.value)


def test_sector_data_names_abolition_dates_and_sources() -> None:
    from china_site import datafiles

    data = datafiles.load("sectors")["sectors"]
    abolished = {k: v["abolished"] for k, v in data.items() if "abolished" in v}
    assert set(abolished) == {"education", "medical"}
    assert all(v["date"] and v["source"] for v in abolished.values())


# --- the registry contract grows compatibly ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("foreign_share: 120\n", "not between 0 and 100"),
        ("foreign_share: most\n", "'most' is neither a kind nor a percentage"),
        ("foreign_share: .nan\n", "not between 0 and 100"),
        ("foreign_share: true\n", "neither a kind nor a percentage"),
        ("pilot_zone: atlantis\n", "unknown pilot zone"),
        ("city: '4403'\n", "not in the entity's province"),
        ("favourite_colour: red\n", "unknown key"),
    ],
)
def test_bad_new_fields_are_one_line_errors(extra: str, says: str) -> None:
    with pytest.raises(RegistryError) as err:
        registry("beijing", entity_extra=extra)
    assert says in str(err.value)


def test_share_must_agree_with_ownership() -> None:
    with pytest.raises(RegistryError, match="set ownership: foreign-invested"):
        registry("beijing", ownership="domestic", entity_extra="foreign_share: 30\n")
    with pytest.raises(RegistryError, match="set ownership: domestic"):
        registry("beijing", entity_extra="foreign_share: domestic\n")


def test_pilot_zone_must_lie_in_the_province() -> None:
    with pytest.raises(RegistryError, match="lies in Guangdong"):
        registry("beijing", entity_extra="pilot_zone: shenzhen\n")


# --- domain holder --------------------------------------------------------------------------------------------------


def holder(site_extra: str, entity_extra: str = "legal_representative: 张三\n") -> list[Any]:
    reg = registry("beijing", ownership="domestic", entity_extra=entity_extra, site_extra=site_extra)
    return rules.check_domain_eligible(cdn(payments=False), reg, TODAY)


def test_domain_holder_entity_or_legal_representative_passes() -> None:
    assert holder("domain_holder: 测试网络科技有限公司\n") == []
    assert holder("domain_holder: 张三\n") == []
    assert holder("domain_holder: 张三\ndomain_holder_role: legal-representative\n") == []


def test_shareholder_or_manager_needs_proof() -> None:
    [f] = holder("domain_holder: 李四\ndomain_holder_role: shareholder\n")
    assert "no proof" in f.message_en and "股东" in f.message_zh
    assert holder("domain_holder: 李四\ndomain_holder_role: shareholder\ndomain_holder_proof: 股东名册 2024\n") == []
    proof = "domain_holder: 王五\ndomain_holder_role: senior-manager\ndomain_holder_proof: 任命书\n"
    assert holder(proof) == []


def test_other_holder_fails() -> None:
    [f] = holder("domain_holder: 赵六\n")
    assert "not by the filing entity" in f.message_en and "法定代表人" in f.message_zh
    [g] = holder("domain_holder: 赵六\ndomain_holder_role: legal-representative\n")
    assert "legal representative is '张三'" in g.message_en


# --- registry consistency (advisory) --------------------------------------------------------------------------------


def test_consistent_registry_has_no_notes() -> None:
    reg = registry("beijing", ownership="domestic", site_extra="real_name_verified_on: 2021-05-01\n")
    assert reg.warnings == ()
    assert rules.check_registry_consistency(cdn(), reg, TODAY) == []


def test_permit_longer_than_five_years_is_a_warning() -> None:
    entity = registry("beijing", ownership="domestic").entities["co"]
    long = entity.permits[0].model_copy(update={"expires": dt.date(2027, 3, 2)})
    [note] = consistency.entity_notes(entity.model_copy(update={"permits": (long,)}))
    assert note.field == "permits[0].expires" and "longer than the 5 years" in note.en and "含当日" in note.zh


@pytest.mark.parametrize(
    ("site_extra", "field", "says"),
    [
        ("submitted: 2021-05-20\nreal_name_verified_on: 2021-05-18\n", "real_name_verified_on", "2 day(s) before"),
        ("real_name_verified_on: 2021-05-31\n", "real_name_verified_on", "1 day(s) before the filing was approved"),
    ],
)
def test_real_name_verification_too_close_to_the_filing(site_extra: str, field: str, says: str) -> None:
    reg = registry("beijing", ownership="domestic", site_extra=site_extra)
    [warning] = reg.warnings
    assert f"field '{field}'" in warning and says in warning and "实名认证" in warning
    [f] = rules.check_registry_consistency(cdn(), reg, TODAY)
    assert (f.policy, f.enforcement) == ("filing-registry-consistent", "advisory")


def test_launch_before_approval_and_psb_before_launch() -> None:
    site = registry("beijing", ownership="domestic").sites[0]
    early = site.model_copy(update={"launched": dt.date(2021, 5, 30), "psb_filed": dt.date(2021, 5, 29)})
    fields = [n.field for n in consistency.site_notes(early)]
    assert fields == ["launched", "psb_filed"]
    assert consistency.site_notes(site) == []


# --- self-operated sales (strict by default, said so) --------------------------------------------------------------


def test_own_goods_sales_stay_strict_and_the_message_names_the_exemptions_and_the_switch() -> None:
    reg = registry("beijing", ownership="domestic", permit=False, site_extra="own_goods: true\n")
    [f] = permit_findings(reg)
    assert f.enforcement == "mandatory" and "Henan 2023" in f.message_en and "ownGoodsNeedPermit" in f.message_en
    assert "河南等十个省级通信管理局" in f.message_zh and "ownGoodsNeedPermit" in f.message_zh
    assert permit_findings(reg, RuleOptions(own_goods_need_permit=False)) == []


def test_pilot_zone_exclusions_are_the_sectors_closed_to_foreign_investment() -> None:
    from china_site import datafiles

    excluded = set(datafiles.load("pilot_zones")["excluded_sectors"])
    closed = {k for k, v in datafiles.load("sectors")["sectors"].items() if v["closed_to_foreign"]}
    assert excluded == closed == {"news", "publishing", "audio-visual", "culture"}
    assert all("2026-" in text for text in datafiles.load("pilot_zones")["sources"].values())  # dated sources


def test_an_unknown_key_in_a_sector_names_the_sector_keys() -> None:
    with pytest.raises(RegistryError) as err:
        registry("beijing", ownership="domestic", site_extra="sectors: [{sector: news, approvl: x}]\n")
    assert "sectors[0].approvl" in str(err.value) and "allowed keys here: sector, approval" in str(err.value)
