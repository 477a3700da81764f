"""DOMAIN.md §3: a passing and a failing case for every rule, with the date edges."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import registry_data

from china_site import rules
from china_site.filings import FilingRegistry
from china_site.model import Exposure, RuleOptions

TODAY = dt.date.fromisoformat(registry_data.TODAY)


@pytest.fixture(scope="module")
def registry() -> FilingRegistry:
    return registry_data.parse_test_registry()


def cdn(*domains: str, area: str = "mainland", **kw: object) -> Exposure:
    return Exposure(
        resource="alicloud:cdn/domainNew:DomainNew",
        name="site-cdn",
        area=area,  # type: ignore[arg-type]
        region="cn-shanghai" if area == "mainland" else "cn-hongkong",
        domains=domains,
        product="cdn",
        **kw,  # type: ignore[arg-type]
    )


def policies(findings: list) -> list[tuple[str, str]]:
    return [(f.policy, f.enforcement) for f in findings]


# --- icp-filing-required -----------------------------------------------------------------------------------------


def test_icp_approved_with_alibaba_passes(registry: FilingRegistry) -> None:
    assert rules.check_icp_filing(cdn("www.example.cn"), registry, TODAY) == []


def test_icp_subdomain_of_filed_domain_passes(registry: FilingRegistry) -> None:
    assert rules.check_icp_filing(cdn("a.b.example.cn"), registry, TODAY) == []


def test_icp_unfiled_fails_with_alibaba_error(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(cdn("unfiled.cn"), registry, TODAY)
    assert (f.policy, f.enforcement) == ("icp-filing-required", "mandatory")
    assert "DomainNotRegistration" in (f.alibaba_error or "")
    assert "unfiled.cn" in f.message_en and "备案" in f.message_zh
    assert f.need == "icp-filing"
    lines = f.message.splitlines()
    assert lines[0] == f.message_en and lines[1] == f.message_zh
    assert any(line.startswith("Fix: ") for line in lines)


def test_icp_pending_fails(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(cdn("waiting.com.cn"), registry, TODAY)
    assert "pending" in f.message_en and f.enforcement == "mandatory"


def test_icp_cancelled_site_and_cancelled_entity_fail(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(cdn("dropped.cn"), registry, TODAY)
    assert "cancelled" in f.message_en
    [g] = rules.check_icp_filing(cdn("closed.cn"), registry, TODAY)
    assert "entity" in g.message_en


def ecs(*domains: str) -> Exposure:
    return Exposure(
        resource="alicloud:ecs/instance:Instance",
        name="web",
        area="mainland",
        region="cn-shanghai",
        domains=domains,
        product="ecs",
    )


def test_icp_other_access_provider_fails_where_alibaba_hosts_the_origin(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(ecs("elsewhere.cn"), registry, TODAY)
    assert "tencent-cloud" in f.message_en and "新增接入" in f.fix
    assert f.enforcement == "mandatory" and "新增接入" in f.message_zh


def test_icp_other_access_provider_passes_on_acceleration_products(registry: FilingRegistry) -> None:
    # CDN, DCDN and Global Accelerator need only a valid MIIT filing from any provider (data/access_providers.yaml).
    for product in ("cdn", "dcdn", "ga"):
        exposure = dataclasses.replace(cdn("elsewhere.cn"), product=product)
        assert rules.check_icp_filing(exposure, registry, TODAY) == [], product


def test_icp_unclassified_product_needs_alibaba_access(registry: FilingRegistry) -> None:
    exposure = dataclasses.replace(cdn("elsewhere.cn"), product="not-a-product")
    [f] = rules.check_icp_filing(exposure, registry, TODAY)
    assert "tencent-cloud" in f.message_en


def test_icp_access_provider_is_configurable(registry: FilingRegistry) -> None:
    opts = RuleOptions(access_provider="tencent-cloud")
    assert rules.check_icp_filing(ecs("elsewhere.cn"), registry, TODAY, opts) == []


def test_icp_not_applicable_off_mainland_or_private(registry: FilingRegistry) -> None:
    assert rules.check_icp_filing(cdn("unfiled.cn", area="hongkong"), registry, TODAY) == []
    assert rules.check_icp_filing(cdn("unfiled.cn", area="overseas"), registry, TODAY) == []
    private = dataclasses.replace(cdn("unfiled.cn"), public=False)
    assert rules.check_icp_filing(private, registry, TODAY) == []


def test_icp_unknown_region_fails_closed_and_says_so(registry: FilingRegistry) -> None:
    exp = Exposure(
        resource="alicloud:ecs/eipAddress:EipAddress",
        region="xx-moon-1",
        region_guessed=True,
        domains=("unfiled.cn",),
        product="ecs",
    )
    [f] = rules.check_icp_filing(exp, registry, TODAY)
    assert "unknown" in f.message_en and "xx-moon-1" in f.message_en
    assert "interception" in (f.alibaba_error or "")


def test_icp_untied_exposure_is_advisory_by_default_and_configurable(registry: FilingRegistry) -> None:
    exp = Exposure(resource="alicloud:ecs/instance:Instance", region="cn-beijing", product="ecs")
    [f] = rules.check_icp_filing(exp, registry, TODAY)
    assert f.enforcement == "advisory" and "china-site:domain" in f.fix
    assert rules.check_icp_filing(exp, registry, TODAY, RuleOptions(untied_exposure="mandatory"))[0].enforcement == (
        "mandatory"
    )
    assert rules.check_icp_filing(exp, registry, TODAY, RuleOptions(untied_exposure="disabled")) == []


def test_icp_oss_product_names_misleading_error(registry: FilingRegistry) -> None:
    exp = Exposure(
        resource="alicloud:oss/bucketCname:BucketCname", region="cn-hangzhou", domains=("x.unfiled.cn",), product="oss"
    )
    [f] = rules.check_icp_filing(exp, registry, TODAY)
    assert "NoSuchCnameInRecord" in (f.alibaba_error or "")


@pytest.mark.parametrize(
    ("token", "product", "code", "expected"),
    [
        # WAF 2.0 (API 2019-09-10) rejects an unfiled domain with DomainNotRegisterError (documented).
        ("alicloud:waf/domain:Domain", "waf", "DomainNotRegisterError (CreateDomain, WAF 2.0)", False),
        # WAF 3.0 keeps the other code, and it is only expected.
        ("alicloud:wafv3/domain:Domain", "waf", "Waf.Pullin.DomainNotBeianOrInBlackList", True),
        ("alicloud:cdn/domainNew:DomainNew", "cdn", "DomainNotRegistration (AddCdnDomain)", False),
        ("alicloud:dcdn/domain:Domain", "dcdn", "DomainNotRegistration (AddDcdnDomain", True),
        (
            "alicloud:ga/endpointGroup:EndpointGroup",
            "ga",
            "NoIcpRecord.Domain (CreateDomain, Global Accelerator)",
            False,
        ),
        ("alicloud:fc/v3CustomDomain:V3CustomDomain", "fc", "Function Compute", True),
        ("alicloud:oss/bucketCname:BucketCname", "oss", "NoSuchCnameInRecord (PutCname)", False),
    ],
)
def test_unfiled_error_code_per_resource_family(
    registry: FilingRegistry, token: str, product: str, code: str, expected: bool
) -> None:
    exp = Exposure(resource=token, region="cn-hangzhou", domains=("x.unfiled.cn",), product=product)
    [f] = rules.check_icp_filing(exp, registry, TODAY)
    error = f.alibaba_error or ""
    assert code in error
    assert error.startswith("expected: ") is expected
    assert ("not confirmed" in error) is expected
    if product == "waf":  # each WAF generation names its own code only
        other = "Waf.Pullin" if token.startswith("alicloud:waf/") else "DomainNotRegisterError"
        assert other not in error
    assert f"Alibaba Cloud error the deploy would hit: {error}" in f.message


def test_unfiled_error_of_an_unlisted_family_is_the_interception_page(registry: FilingRegistry) -> None:
    exp = Exposure(resource="alicloud:ecs/instance:Instance", region="cn-hangzhou", domains=("x.unfiled.cn",))
    [f] = rules.check_icp_filing(dataclasses.replace(exp, product="ecs"), registry, TODAY)
    assert "interception page" in (f.alibaba_error or "")


def test_error_codes_file_names_its_sources_and_date() -> None:
    from importlib import resources

    text = resources.files("china_site").joinpath("data", "error_codes.yaml").read_text(encoding="utf-8")
    assert "read 2026-11-30" in text and "document_detail/86652" in text


def test_icp_unknown_values_are_named(registry: FilingRegistry) -> None:
    exp = dataclasses.replace(cdn("unfiled.cn"), unknown=("scope",))
    [f] = rules.check_icp_filing(exp, registry, TODAY)
    assert "scope unknown during preview" in f.message_en


def test_icp_idn_domain(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(cdn("www.例子.中国"), registry, TODAY)
    assert "xn--" in f.message_en and "例子" in f.message_en


# --- psb-filing-required (30-day window) ----------------------------------------------------------------------------


def test_psb_filed_passes(registry: FilingRegistry) -> None:
    assert rules.check_psb_filing(cdn("example.cn"), registry, TODAY) == []


@pytest.mark.parametrize(
    ("today", "enforcement"),
    [
        (dt.date(2026, 10, 29), "advisory"),  # launch day
        (dt.date(2026, 11, 28), "advisory"),  # day 30: last day of the window
        (dt.date(2026, 11, 29), "mandatory"),  # day 31: overdue
    ],
)
def test_psb_window_edges(registry: FilingRegistry, today: dt.date, enforcement: str) -> None:
    [f] = rules.check_psb_filing(cdn("fresh.cn"), registry, today)
    assert (f.policy, f.enforcement) == ("psb-filing-required", enforcement)
    assert "2026-11-28" in f.message_en


def test_psb_grace_is_configurable(registry: FilingRegistry) -> None:
    [f] = rules.check_psb_filing(cdn("fresh.cn"), registry, dt.date(2026, 11, 29), RuleOptions(psb_grace_days=45))
    assert f.enforcement == "advisory"


def test_psb_not_checked_for_unfiled(registry: FilingRegistry) -> None:
    assert rules.check_psb_filing(cdn("unfiled.cn"), registry, TODAY) == []


# --- commercial-permit-required ----------------------------------------------------------------------------------


def test_permit_valid_b25_passes(registry: FilingRegistry) -> None:
    assert rules.check_commercial_permit(cdn("example.cn", payments=True), registry, TODAY) == []


def test_permit_not_needed_without_payments(registry: FilingRegistry) -> None:
    assert rules.check_commercial_permit(cdn("tea-shop.com"), registry, TODAY) == []


def test_permit_missing_fails(registry: FilingRegistry) -> None:
    [f] = rules.check_commercial_permit(cdn("tea-shop.com", payments=True), registry, TODAY)
    assert f.enforcement == "mandatory" and "B25" in f.message_en and "Tmall" in f.fix
    assert f.need == "commercial-permit"


def test_permit_is_valid_through_its_expiry_day(registry: FilingRegistry) -> None:
    # Inclusive, like waivers (DESIGN.md amendments; issue 12 item 7): valid on 2027-03-01, expired the day after.
    assert rules.check_commercial_permit(cdn("example.cn", payments=True), registry, dt.date(2027, 2, 28)) == []
    assert rules.check_commercial_permit(cdn("example.cn", payments=True), registry, dt.date(2027, 3, 1)) == []
    [f] = rules.check_commercial_permit(cdn("example.cn", payments=True), registry, dt.date(2027, 3, 2))
    assert "expired on 2027-03-01" in f.message_en
    [permit] = registry.entities["acme"].permits
    assert rules.permit_valid(permit, dt.date(2027, 3, 1)) and not rules.permit_valid(permit, dt.date(2027, 3, 2))
    assert rules.permit_valid(permit, permit.issued) and not rules.permit_valid(permit, dt.date(2022, 2, 28))


def test_platform_needs_b21(registry: FilingRegistry) -> None:
    [f] = rules.check_commercial_permit(cdn("example.cn", platform=True), registry, TODAY)
    assert "B21" in f.message_en and f.need == "edi-permit"


def test_own_goods_strict_by_default_relaxable(registry: FilingRegistry) -> None:
    exp = cdn("tea-shop.com", payments=True, own_goods=True)
    assert rules.check_commercial_permit(exp, registry, TODAY)
    assert rules.check_commercial_permit(exp, registry, TODAY, RuleOptions(own_goods_need_permit=False)) == []


def test_foreign_invested_b25_outside_pilot_zone(registry: FilingRegistry) -> None:
    # The entity is in Guangzhou (Guangdong, no city recorded): the pilot is Shenzhen only, not all of Guangdong,
    # and a foreign-invested entity without a recorded share is read as above 50% (issue 20).
    for options in (RuleOptions(), RuleOptions(pilot_zones=("beijing",))):
        [f] = rules.check_commercial_permit(cdn("wfoe-shop.cn", payments=True), registry, TODAY, options)
        assert f.enforcement == "mandatory" and "pilot zones" in f.message_en
        assert "Shenzhen (not all of Guangdong)" in f.message_en and "深圳（并非广东全省）" in f.message_zh
        assert "at most 50% foreign equity may hold B25 anywhere" in f.message_en
        assert "外资不超过 50% 的合资企业可在各地取得 B25" in f.message_zh


def test_pilot_zone_scope_comes_from_the_data_file() -> None:
    en, zh = rules.pilot_zone_scope()
    for words in ("[B11]", "[B12]", "[B14]", "[B21]", "information-publishing platforms and delivery services",
                  "information protection and processing services", "excluding news"):  # fmt: skip
        assert words in en
    assert "B25]" not in en  # B25 is opened only in part, never as a whole
    assert "信息发布平台和递送服务" in zh and "不含新闻、出版、视听、文化" in zh


def test_payments_unfiled_domain_needs_permit_too(registry: FilingRegistry) -> None:
    [f] = rules.check_commercial_permit(cdn("unfiled.cn", payments=True), registry, TODAY)
    assert f.policy == "commercial-permit-required"


# --- domain-eligible ---------------------------------------------------------------------------------------------


def test_domain_eligible_passes(registry: FilingRegistry) -> None:
    assert rules.check_domain_eligible(cdn("example.cn"), registry, TODAY) == []


def test_domain_registrar_abroad_and_real_name_fail(registry: FilingRegistry) -> None:
    found = rules.check_domain_eligible(cdn("tea-shop.com"), registry, TODAY)
    assert {f.need for f in found} == {"china-registrar-domain"}
    assert len(found) == 2
    relaxed = RuleOptions(require_registrar_in_china=False, require_real_name=False)
    assert rules.check_domain_eligible(cdn("tea-shop.com"), registry, TODAY, relaxed) == []


def test_domain_disputed_tld_fails_unless_allowed(registry: FilingRegistry) -> None:
    [f] = rules.check_domain_eligible(cdn("project.org"), registry, TODAY)
    assert ".org" in f.message_en
    assert rules.check_domain_eligible(cdn("project.org"), registry, TODAY, RuleOptions(approved_tlds=("org",))) == []


# --- filed-domain-off-mainland -----------------------------------------------------------------------------------


def test_filed_domain_in_hongkong_is_advisory(registry: FilingRegistry) -> None:
    [f] = rules.check_filed_domain_off_mainland(cdn("example.cn", area="hongkong"), registry, TODAY)
    assert (f.policy, f.enforcement) == ("filed-domain-off-mainland", "advisory")


def test_filed_domain_on_mainland_or_unfiled_in_hongkong_passes(registry: FilingRegistry) -> None:
    assert rules.check_filed_domain_off_mainland(cdn("example.cn"), registry, TODAY) == []
    assert rules.check_filed_domain_off_mainland(cdn("unfiled.cn", area="hongkong"), registry, TODAY) == []


# --- icp-number-displayed ----------------------------------------------------------------------------------------


def test_footer_shown_passes_and_missing_is_advisory(registry: FilingRegistry) -> None:
    ok = cdn("example.cn", icp_number_displayed=True, psb_number_displayed=True)
    assert rules.check_icp_number_displayed(ok, registry, TODAY) == []
    bad = cdn("example.cn", icp_number_displayed=False, psb_number_displayed=False)
    found = rules.check_icp_number_displayed(bad, registry, TODAY)
    assert [f.policy for f in found] == ["icp-number-displayed"] * 2
    assert "沪ICP备2021012345号-1" in found[0].message_en


def test_footer_guangdong_shows_entity_number(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_number_displayed(cdn("wfoe-shop.cn", icp_number_displayed=False), registry, TODAY)
    assert "粤ICP备2020011111号 " in f.message_en


def test_footer_unchecked_is_silent(registry: FilingRegistry) -> None:
    assert rules.check_icp_number_displayed(cdn("example.cn"), registry, TODAY) == []


# --- evaluate / registry ---------------------------------------------------------------------------------------------


def test_evaluate_filed_site_is_clean(registry: FilingRegistry) -> None:
    assert rules.evaluate(cdn("www.example.cn", payments=True), registry, TODAY) == []


def test_evaluate_collects_every_rule(registry: FilingRegistry) -> None:
    found = rules.evaluate(cdn("tea-shop.com", payments=True), registry, TODAY)
    assert {f.policy for f in found} == {"commercial-permit-required", "domain-eligible"}


def test_registry_unavailable_is_mandatory() -> None:
    f = rules.registry_unavailable(RuntimeError("cannot reach oss://b/filings.yaml"), "oss://b/filings.yaml")
    assert (f.policy, f.enforcement) == ("filing-registry-available", "mandatory")
    assert "cannot reach" in f.message_en


def test_icp_invalid_host_name_fails_closed(registry: FilingRegistry) -> None:
    [f] = rules.check_icp_filing(cdn("not a host!"), registry, TODAY)
    assert f.enforcement == "mandatory" and "not a valid host name" in f.message_en


# --- edges the cases above do not reach (each pins one branch of rules.py) -----------------------------------------


def _custom_registry(entities: dict[str, dict], sites: list[dict]) -> FilingRegistry:
    from china_site.filings import parse_registry

    return parse_registry({"version": 1, "entities": entities, "sites": sites}, source="custom.yaml")


def test_filed_domain_off_mainland_needs_an_alibaba_access_record(registry: FilingRegistry) -> None:
    # Rule 10 is about losing Alibaba Cloud as access provider: a filing accessed elsewhere has nothing to lose here.
    assert rules.check_filed_domain_off_mainland(cdn("elsewhere.cn", area="hongkong"), registry, TODAY) == []
    opts = RuleOptions(access_provider="tencent-cloud")
    [f] = rules.check_filed_domain_off_mainland(cdn("elsewhere.cn", area="hongkong"), registry, TODAY, opts)
    assert f.enforcement == "advisory" and "沪ICP备2021012345号-3" in f.message_en


@pytest.mark.parametrize("domain", ["dropped.cn", "closed.cn", "waiting.com.cn"])
def test_filed_domain_off_mainland_ignores_filings_not_approved(registry: FilingRegistry, domain: str) -> None:
    assert rules.check_filed_domain_off_mainland(cdn(domain, area="hongkong"), registry, TODAY) == []


def test_filed_domain_off_mainland_ignores_private_resources(registry: FilingRegistry) -> None:
    private = dataclasses.replace(cdn("example.cn", area="hongkong"), public=False)
    assert rules.check_filed_domain_off_mainland(private, registry, TODAY) == []
    assert rules.check_filed_domain_off_mainland(cdn("example.cn", area="overseas"), registry, TODAY)


def test_footer_psb_only_once_there_is_a_psb_number(registry: FilingRegistry) -> None:
    # fresh.cn has no PSB number yet: nothing to display, so only the ICP footer is asked for.
    found = rules.check_icp_number_displayed(
        cdn("fresh.cn", icp_number_displayed=False, psb_number_displayed=False), registry, TODAY
    )
    assert [f.link for f in found] == [rules.MIIT_LINK]
    shown = rules.check_icp_number_displayed(
        cdn("example.cn", icp_number_displayed=True, psb_number_displayed=False), registry, TODAY
    )
    assert [f.link for f in shown] == [rules.MPS_LINK]
    assert "沪公网安备31011502012345号" in shown[0].message_en


def test_psb_and_footer_wait_for_the_approval_date(registry: FilingRegistry) -> None:
    # fresh.cn is approved on 2026-10-20: before that day it is not yet filed, so no PSB clock and no footer.
    before = dt.date(2026, 10, 1)
    assert rules.check_psb_filing(cdn("fresh.cn"), registry, before) == []
    assert rules.check_icp_number_displayed(cdn("fresh.cn", icp_number_displayed=False), registry, before) == []
    assert rules.check_icp_number_displayed(cdn("fresh.cn", icp_number_displayed=False), registry, TODAY)


def test_own_goods_relaxation_does_not_cover_platforms(registry: FilingRegistry) -> None:
    relaxed = RuleOptions(own_goods_need_permit=False)
    exp = cdn("tea-shop.com", payments=True, platform=True, own_goods=True)
    [f] = rules.check_commercial_permit(exp, registry, TODAY, relaxed)
    assert f.need == "edi-permit"


def test_registry_payment_and_platform_hints_count() -> None:
    shop = registry_data.site("tea-shop.com")
    reg = _custom_registry(
        {"shop": registry_data.entity("shop")},
        [{**shop, "payments": True}, {**registry_data.site("pay-shop.cn"), "platform": True}],
    )
    [f] = rules.check_commercial_permit(cdn("tea-shop.com"), reg, TODAY)
    assert f.need == "commercial-permit"
    [g] = rules.check_commercial_permit(cdn("pay-shop.cn"), reg, TODAY)
    assert g.need == "edi-permit"


def test_foreign_invested_b21_is_open_outside_the_pilot_zones() -> None:
    wfoe = registry_data.entity("wfoe")
    wfoe["permits"] = [{"number": "粤B2-20210003", "kind": "B21", "issued": "2021-01-01", "expires": "2030-01-01"}]
    reg = _custom_registry({"wfoe": wfoe}, [registry_data.site("wfoe-shop.cn")])
    only_beijing = RuleOptions(pilot_zones=("beijing",))
    assert rules.check_commercial_permit(cdn("wfoe-shop.cn", platform=True), reg, TODAY, only_beijing) == []
    # The same entity taking payments (B25) outside the pilot zones is refused: it holds no B25 at all here.
    assert rules.check_commercial_permit(cdn("wfoe-shop.cn", payments=True), reg, TODAY, only_beijing)


def test_permit_issue_day_edge() -> None:
    # A permit counts from its issue day (inclusive): the day before, the site is refused and told when it starts.
    acme = registry_data.entity("acme")
    acme["permits"] = [{"number": "沪B2-20260001", "kind": "B25", "issued": "2026-12-01", "expires": "2031-12-01"}]
    reg = _custom_registry({"acme": acme}, [registry_data.site("example.cn")])
    [f] = rules.check_commercial_permit(cdn("example.cn", payments=True), reg, dt.date(2026, 11, 30))
    assert "valid only from 2026-12-01" in f.message_en
    assert rules.check_commercial_permit(cdn("example.cn", payments=True), reg, dt.date(2026, 12, 1)) == []


def _shop_registry(**site_fields: object) -> FilingRegistry:
    """The 'shop' entity with tea-shop.com made eligible (China registrar, real name), plus ``site_fields``."""
    tea = {**registry_data.site("tea-shop.com"), "registrar_in_china": True, "real_name_verified": True}
    return _custom_registry({"shop": registry_data.entity("shop")}, [{**tea, **site_fields}])


def test_own_goods_hint_in_the_registry_relaxes_only_when_configured() -> None:
    reg = _shop_registry(own_goods=True)
    exp = cdn("tea-shop.com", payments=True)
    assert rules.check_commercial_permit(exp, reg, TODAY)  # strict by default
    assert rules.check_commercial_permit(exp, reg, TODAY, RuleOptions(own_goods_need_permit=False)) == []
    plain = _shop_registry()  # no hint: relaxing the option changes nothing
    assert rules.check_commercial_permit(exp, plain, TODAY, RuleOptions(own_goods_need_permit=False))


def _holder_registry(holder: str, expires: str) -> FilingRegistry:
    return _shop_registry(domain_holder=holder, domain_expires=expires)


def test_domain_holder_must_be_the_filing_entity() -> None:
    ok = _holder_registry("杭州小店科技有限公司", "2030-01-01")
    assert rules.check_domain_eligible(cdn("www.tea-shop.com"), ok, TODAY) == []
    bad = _holder_registry("张三", "2030-01-01")
    [f] = rules.check_domain_eligible(cdn("www.tea-shop.com"), bad, TODAY)
    assert f.enforcement == "mandatory" and "张三" in f.message_en and "备案主体" in f.message_zh


def _restricted_registry(domain: str, entity_type: str) -> FilingRegistry:
    shop = {**registry_data.entity("shop"), "type": entity_type}
    tea = {**registry_data.site("tea-shop.com"), "registrar_in_china": True, "real_name_verified": True}
    return _custom_registry({"shop": shop}, [{**tea, "domain": domain}])


@pytest.mark.parametrize(
    ("domain", "allowed", "refused"),
    [
        ("tea.gov.cn", "government", "enterprise"),
        ("tea.mil.cn", "government", "institution"),
        ("tea.ac.cn", "institution", "enterprise"),
        ("tea.edu.cn", "institution", "individual"),
        ("茶.政务.cn", "government", "enterprise"),
        ("茶.公益.cn", "other", "enterprise"),
    ],
)
def test_restricted_suffix_needs_its_holder_kind(domain: str, allowed: str, refused: str) -> None:
    ok = _restricted_registry(domain, allowed)
    assert rules.check_domain_eligible(cdn(f"www.{domain}"), ok, TODAY) == []
    bad = _restricted_registry(domain, refused)
    [f] = rules.check_domain_eligible(cdn(f"www.{domain}"), bad, TODAY)
    assert f.enforcement == "mandatory" and "restricted suffix" in f.message_en and refused in f.message_en
    assert allowed in f.message_en and "后缀仅限" in f.message_zh


def test_expired_domain_is_not_eligible_on_its_expiry_day() -> None:
    reg = _holder_registry("杭州小店科技有限公司", "2026-11-28")
    assert rules.check_domain_eligible(cdn("tea-shop.com"), reg, dt.date(2026, 11, 27)) == []
    [f] = rules.check_domain_eligible(cdn("tea-shop.com"), reg, dt.date(2026, 11, 28))
    assert "expired on 2026-11-28" in f.message_en


def test_domain_expiry_is_listed_by_expiring() -> None:
    reg = _holder_registry("杭州小店科技有限公司", "2026-12-20")
    rows = reg.expiring(30, TODAY)
    assert ("domain", "tea-shop.com", dt.date(2026, 12, 20)) in [tuple(r) for r in rows]
    assert all(r.kind != "domain" for r in reg.expiring(10, TODAY))
