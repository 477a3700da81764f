"""The advisor's answers to the seed's five questions (DOMAIN.md §5) and the components' hosting decision."""

from __future__ import annotations

import datetime as dt

import pytest
from registry_data import parse_test_registry
from test_rules import TODAY

from china_site.errors import InputError
from china_site.filings import FilingRegistry
from china_site.hosting import AdviceInput, HostingError, advise, decide
from china_site.model import RuleOptions


@pytest.fixture(scope="module")
def registry() -> FilingRegistry:
    return parse_test_registry()


# --- the five questions ------------------------------------------------------------------------------------------


def test_q1_overseas_registrar_domain_is_not_usable() -> None:
    a = advise(AdviceInput(registrar_in_china=False, today=TODAY))
    assert a.hosting == "hongkong"
    assert "china-registrar-domain" in a.required and "icp-filing" in a.required
    assert any("Chinese registrar" in r or "accredited registrar" in r for r in a.reasons)


def test_q2_hong_kong_needs_no_filing() -> None:
    a = advise(AdviceInput(mainland_audience=False, today=TODAY))
    assert (a.hosting, a.region, a.cdn_scope, a.required) == ("hongkong", "cn-hongkong", "overseas", ())
    assert any("no filing" in r for r in a.reasons)
    b = advise(AdviceInput(today=TODAY))  # no filing yet: Hong Kong as the relay
    assert b.hosting == "hongkong" and any("relay" in r for r in b.reasons)


def test_q3_online_game_needs_a_chinese_partner() -> None:
    a = advise(AdviceInput(entity="foreign", game=True, today=TODAY))
    assert "game-publishing-partner" in a.required
    assert any("partner" in r for r in a.reasons)


def test_q4_own_shop_needs_a_commercial_permit_tmall_store_none() -> None:
    a = advise(AdviceInput(payments=True, today=TODAY))
    assert "commercial-permit" in a.required
    assert any("Tmall" in r for r in a.reasons)
    assert "commercial-permit" not in advise(AdviceInput(today=TODAY)).required


def test_q5_no_legal_entity_cannot_file() -> None:
    a = advise(AdviceInput(entity="foreign", today=TODAY))
    assert a.hosting == "hongkong"
    assert a.required == ("china-entity", "icp-filing", "psb-filing")  # entity first, then it can file
    assert any("cannot file" in r for r in a.reasons)


def test_platform_needs_edi_permit() -> None:
    assert "edi-permit" in advise(AdviceInput(platform=True, today=TODAY)).required


def test_json_contract() -> None:
    data = advise(AdviceInput(entity="foreign", today=TODAY)).to_json()
    assert set(data) == {"hosting", "region", "cdn_scope", "required", "reasons"}
    assert set(data["required"]) <= {  # type: ignore[arg-type]
        "china-entity",
        "china-registrar-domain",
        "icp-filing",
        "psb-filing",
        "commercial-permit",
        "edi-permit",
        "game-publishing-partner",
    }


# --- with the registry -------------------------------------------------------------------------------------------


def test_registry_approved_with_alibaba_means_mainland(registry: FilingRegistry) -> None:
    a = advise(AdviceInput(domain="www.example.cn", registry=registry, today=TODAY))
    assert (a.hosting, a.region, a.cdn_scope, a.required) == ("mainland", "cn-shanghai", "domestic", ())


@pytest.mark.parametrize("domain", ["waiting.com.cn", "dropped.cn", "unfiled.cn"])
def test_registry_pending_cancelled_unfiled_mean_hong_kong(registry: FilingRegistry, domain: str) -> None:
    a = advise(AdviceInput(domain=domain, registry=registry, today=TODAY))
    assert a.hosting == "hongkong" and "icp-filing" in a.required


def test_other_provider_filing_serves_cdn_in_front_of_a_private_bucket(registry: FilingRegistry) -> None:
    # elsewhere.cn is filed through Tencent Cloud: CDN needs only a valid filing (data/access_providers.yaml) ...
    a = advise(AdviceInput(domain="elsewhere.cn", registry=registry, today=TODAY))
    assert a.hosting == "mainland" and "icp-filing" not in a.required
    assert any("any provider" in r and "已有可用于该部署方式的 ICP 备案" in r for r in a.reasons)
    # ... but an origin Alibaba Cloud hosts publicly (ECS) needs Alibaba Cloud as access provider (新增接入).
    b = advise(AdviceInput(domain="elsewhere.cn", registry=registry, today=TODAY, products=("cdn", "ecs")))
    assert b.hosting == "hongkong" and "icp-filing" in b.required
    assert any("新增接入" in r for r in b.reasons)


def test_registry_psb_due_does_not_block_mainland(registry: FilingRegistry) -> None:
    a = advise(AdviceInput(domain="fresh.cn", registry=registry, today=TODAY))
    assert a.hosting == "mainland" and a.required == ("psb-filing",)


def test_registry_payments_without_permit(registry: FilingRegistry) -> None:
    a = advise(AdviceInput(domain="tea-shop.com", registry=registry, payments=True, today=TODAY))
    assert a.hosting == "hongkong"
    assert {"commercial-permit", "china-registrar-domain"} <= set(a.required)


# --- decide (components) -----------------------------------------------------------------------------------------


def test_decide_mainland_filed(registry: FilingRegistry) -> None:
    d = decide("example.cn", "mainland", registry, today=TODAY)
    assert (d.hosting, d.region, d.cdn_scope) == ("mainland", "cn-shanghai", "domestic")
    assert d.icp_number == "沪ICP备2021012345号-1" and d.psb_number == "沪公网安备31011502012345号"
    assert decide("example.cn", "mainland", registry, today=TODAY, cdn_global=True).cdn_scope == "global"


def test_decide_mainland_unfiled_raises_bilingual(registry: FilingRegistry) -> None:
    with pytest.raises(HostingError) as err:
        decide("unfiled.cn", "mainland", registry, today=TODAY)
    text = str(err.value)
    assert "DomainNotRegistration" in text and "备案" in text and "\n" not in text


def test_decide_auto_both_ways(registry: FilingRegistry) -> None:
    assert decide("example.cn", "auto", registry, today=TODAY).hosting == "mainland"
    d = decide("unfiled.cn", "auto", registry, today=TODAY)
    assert (d.hosting, d.region, d.cdn_scope) == ("hongkong", "cn-hongkong", "overseas")
    assert d.findings and d.reasons


def test_decide_hongkong_and_no_registry(registry: FilingRegistry) -> None:
    assert decide("example.cn", "hongkong", registry, today=TODAY).region == "cn-hongkong"
    assert decide("example.cn", "auto", None, today=TODAY).hosting == "hongkong"
    with pytest.raises(HostingError):
        decide("example.cn", "mainland", None, today=TODAY)


def test_decide_rejects_bad_region_and_mode(registry: FilingRegistry) -> None:
    with pytest.raises(InputError):
        decide("example.cn", "mainland", registry, today=TODAY, mainland_region="cn-hongkong")
    with pytest.raises(InputError, match="xx-moon-1"):  # an unknown region is not trusted as mainland
        decide("example.cn", "mainland", registry, today=TODAY, mainland_region="xx-moon-1")
    with pytest.raises(InputError):
        decide("example.cn", "moon", registry, today=TODAY)  # type: ignore[arg-type]


def test_input_errors_name_the_callers_arguments(registry: FilingRegistry) -> None:
    """A WebBackend's (or the CLI's) bad region or mode is not reported as a Site argument."""
    with pytest.raises(InputError) as region_err:
        decide("example.cn", "mainland", registry, today=TODAY, mainland_region="us-east-1", where="WebBackend 'api'")
    assert region_err.value.where == "WebBackend 'api' mainland_region / china-site:mainlandRegion"
    with pytest.raises(InputError) as mode_err:
        decide("example.cn", "moon", registry, today=TODAY, where="WebBackend 'api'")  # type: ignore[arg-type]
    assert mode_err.value.where == "WebBackend 'api' hosting / china-site:hosting"
    with pytest.raises(InputError) as advise_err:
        advise(AdviceInput(mainland_region="us-east-1"))
    assert advise_err.value.where == "advise --region"


def test_today_is_used(registry: FilingRegistry) -> None:
    # Before the approval date the filing does not count yet.
    with pytest.raises(HostingError):
        decide("fresh.cn", "mainland", registry, today=dt.date(2026, 10, 1))


def test_decide_platform_needs_b21_at_program_time(registry: FilingRegistry) -> None:
    assert decide("example.cn", "mainland", registry, today=TODAY, payments=True).hosting == "mainland"
    with pytest.raises(HostingError) as err:
        decide("example.cn", "mainland", registry, today=TODAY, platform=True)
    assert [f.policy for f in err.value.findings] == ["commercial-permit-required"]
    assert "B21" in str(err.value)


# --- branches the cases above do not reach --------------------------------------------------------------------------


def test_decide_footer_numbers_only_for_an_approved_filing(registry: FilingRegistry) -> None:
    # dropped.cn still carries its (cancelled) number in the registry: it must not reach a footer.
    for mode in ("auto", "hongkong"):
        d = decide("dropped.cn", mode, registry, today=TODAY)  # type: ignore[arg-type]
        assert (d.icp_number, d.psb_number) == (None, None)
    assert decide("example.cn", "hongkong", registry, today=TODAY).icp_number == "沪ICP备2021012345号-1"


def test_decide_mainland_carries_advisories_along(registry: FilingRegistry) -> None:
    d = decide("fresh.cn", "mainland", registry, today=TODAY)
    assert d.hosting == "mainland"
    assert [(f.policy, f.enforcement) for f in d.findings] == [("psb-filing-required", "advisory")]
    assert any("public-security" in r for r in d.reasons)


def test_hosting_error_lists_only_the_mandatory_findings(registry: FilingRegistry) -> None:
    # fresh.cn as a platform: B21 missing (mandatory) and the PSB window (advisory); only the first refuses.
    with pytest.raises(HostingError) as err:
        decide("fresh.cn", "mainland", registry, today=TODAY, platform=True)
    assert [(f.policy, f.enforcement) for f in err.value.findings] == [("commercial-permit-required", "mandatory")]


def test_individual_taking_payments_needs_a_company() -> None:
    assert "china-entity" in advise(AdviceInput(entity="individual", payments=True, today=TODAY)).required
    assert "china-entity" not in advise(AdviceInput(entity="individual", today=TODAY)).required


def test_foreign_invested_shop_is_told_about_the_pilot_zones() -> None:
    a = advise(AdviceInput(entity="foreign-invested", payments=True, today=TODAY))
    assert any("pilot zones" in r for r in a.reasons)
    b = advise(AdviceInput(entity="foreign-invested", today=TODAY))
    assert not any("pilot zones" in r for r in b.reasons)


def test_advise_unfiled_domain_is_not_called_filed(registry: FilingRegistry) -> None:
    a = advise(AdviceInput(domain="unfiled.cn", registry=registry, today=TODAY))
    assert not any("has an approved ICP filing" in r for r in a.reasons)
    b = advise(AdviceInput(domain="example.cn", registry=registry, today=TODAY))
    assert any("has an approved ICP filing" in r for r in b.reasons)


def test_overseas_registrar_blocks_mainland_even_when_filed(registry: FilingRegistry) -> None:
    a = advise(AdviceInput(domain="example.cn", registry=registry, registrar_in_china=False, today=TODAY))
    assert a.hosting == "hongkong" and a.required == ("china-registrar-domain",)


def test_foreign_company_is_told_the_entity_files_once_it_exists() -> None:
    a = advise(AdviceInput(entity="foreign", today=TODAY))
    assert any("once the PRC entity exists" in r for r in a.reasons)
    assert not any("once the PRC entity exists" in r for r in advise(AdviceInput(today=TODAY)).reasons)


# --- issue 12 item 7 and issue 14: readings found in review ---------------------------------------------------------


def test_advise_unfiled_domain_lists_psb_filing(registry: FilingRegistry) -> None:
    unfiled = advise(AdviceInput(domain="unfiled.cn", registry=registry, today=TODAY))
    assert unfiled.required == ("icp-filing", "psb-filing")
    assert any("public-security (PSB) filing" in r for r in unfiled.reasons)
    assert "psb-filing" in advise(AdviceInput(domain="waiting.com.cn", registry=registry, today=TODAY)).required
    filed = advise(AdviceInput(domain="example.cn", registry=registry, today=TODAY))
    assert "psb-filing" not in filed.required and filed.hosting == "mainland"


@pytest.mark.parametrize("domain", ["www.example.hk", "shop.example.io", "例子.香港"])
def test_advise_says_the_tld_cannot_be_filed_even_when_the_registry_lacks_the_domain(
    registry: FilingRegistry, domain: str
) -> None:
    assert registry.covering(domain) is None
    a = advise(AdviceInput(domain=domain, registry=registry, today=TODAY))
    assert a.hosting == "hongkong" and "china-registrar-domain" in a.required
    [reason] = [r for r in a.reasons if "cannot be ICP-filed" in r]
    assert "not on MIIT's list of approved top-level domains" in reason and "无法备案" in reason


def test_advise_approved_or_approvable_tld_is_not_called_unfileable(registry: FilingRegistry) -> None:
    for domain in ("unfiled.cn", "new-shop.studio", "例子.游戏"):
        a = advise(AdviceInput(domain=domain, registry=registry, today=TODAY))
        assert not any("cannot be ICP-filed" in r for r in a.reasons), domain
        assert "china-registrar-domain" not in a.required
    org = advise(AdviceInput(domain="project.org", registry=registry, today=TODAY))
    assert any("cannot be ICP-filed" in r and "(.org: listed by some providers" in r for r in org.reasons)
    assert any("能否备案存在争议" in r for r in org.reasons)
    relaxed = RuleOptions(approved_tlds=("org",))
    a = advise(AdviceInput(domain="unfiled.org", registry=registry, today=TODAY, options=relaxed))
    assert not any("cannot be ICP-filed" in r for r in a.reasons)


def test_foreign_invested_advice_names_the_pilot_zone_scope() -> None:
    a = advise(AdviceInput(entity="foreign-invested", payments=True, today=TODAY))
    [reason] = [r for r in a.reasons if "pilot zones" in r]
    assert "〔2024〕107号" in reason and "not for all of B25" in reason
    assert "information-publishing platforms and delivery services" in reason
    assert "excluding news, publishing, audio-visual and internet culture" in reason
    assert "information protection and processing" in reason and "并非全部 B25" in reason
    domestic = advise(AdviceInput(entity="domestic", payments=True, today=TODAY))
    assert not any("107号" in r for r in domestic.reasons)


def test_advise_asks_about_third_party_sellers_with_the_registry_too(registry: FilingRegistry) -> None:
    b = advise(AdviceInput(domain="unfiled.cn", registry=registry, today=TODAY, payments=True))
    assert "commercial-permit" in b.required
    assert any("do third parties sell on the platform?" in r and "第三方商家" in r for r in b.reasons)
    c = advise(
        AdviceInput(domain="unfiled.cn", registry=registry, today=TODAY, payments=True, third_party_sellers=False)
    )
    assert not any("do third parties sell on the platform?" in r for r in c.reasons)
