"""Every user-facing message is bilingual (English, then Chinese) and its Chinese line is Chinese (issue 20, item 9).

The messages come from the real code paths over many cases: every rule over the test registry's domains in every
area and product, the eligibility cases, the advisor's answers, the hosting decisions (both ways), the refusal
and the registry's consistency warnings. A message without a Chinese line fails; so does a Chinese line carrying
an English word where a Chinese one belongs (``government``, ``enterprise``, raw API values such as ``overseas``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re

import pytest
import registry_data

from china_site import hosting, rules
from china_site.filings import FilingRegistry
from china_site.hosting import AdviceInput, HostingError, advise, decide
from china_site.model import Exposure, Finding, RuleOptions

TODAY = dt.date.fromisoformat(registry_data.TODAY)
CJK = re.compile(r"[\u4e00-\u9fff]")

# English words that have no business in a Chinese line: entity kinds, statuses, areas, raw API values, and words the
# Chinese line must translate. Identifiers (domains, field and option names, type tokens, numbers) are left alone.
FORBIDDEN = (
    "government",
    "enterprise",
    "institution",
    "individual",
    "pending",
    "approved",
    "cancelled",
    "mainland",
    "overseas",
    "domestic",
    "global",
    "registry",
    "permit",
    "filing",
    "MIIT",
    "WFOE",
    "its domain",
    "not",
)
# Identifier-like spans: type tokens, domains, dotted/underscored/camelCase names, quoted names, URLs, commands.
_IDENTIFIER = re.compile(r"`[^`]*`|'[^']*'|https?://\S+|[A-Za-z0-9_.:/*-]*[._:/][A-Za-z0-9_.:/*-]+|[a-z]+[A-Z]\w*")


def _english_words(chinese_line: str) -> list[str]:
    text = _IDENTIFIER.sub(" ", chinese_line)
    return [w for w in FORBIDDEN if re.search(rf"(?<![A-Za-z-]){re.escape(w)}(?![A-Za-z-])", text)]


def _check_finding(f: Finding) -> None:
    assert f.message_en and not CJK.search(f.message_en.split("(")[0][:1] or "x"), f.message_en
    assert CJK.search(f.message_zh), f"no Chinese line: {f.message_en}"
    assert _english_words(f.message_zh) == [], (f.message_zh, _english_words(f.message_zh))
    lines = f.message.splitlines()
    assert lines[0] == f.message_en and lines[1] == f.message_zh


def _check_bilingual(text: str) -> None:
    """A reason line: English, then ' / ', then the Chinese."""
    assert " / " in text, f"no Chinese part: {text}"
    zh = text.rsplit(" / ", 1)[1]
    assert CJK.search(zh), f"no Chinese part: {text}"


@pytest.fixture(scope="module")
def registry() -> FilingRegistry:
    return registry_data.parse_test_registry()


DOMAINS = (
    "www.example.cn",
    "fresh.cn",
    "waiting.com.cn",
    "elsewhere.cn",
    "tea-shop.com",
    "wfoe-shop.cn",
    "closed.cn",
    "dropped.cn",
    "unfiled.cn",
    "project.org",
    "site.tech",
    "shop.example.io",
    "bad host!",
)
PRODUCTS = ("cdn", "ecs", "oss", "ga", None)


def _exposures() -> list[Exposure]:
    out: list[Exposure] = []
    for domain, product, area in itertools.product(DOMAINS, PRODUCTS, ("mainland", "hongkong")):
        out.append(
            Exposure(
                resource="alicloud:cdn/domainNew:DomainNew",
                name="site",
                area=area,  # type: ignore[arg-type]
                region="cn-shanghai" if area == "mainland" else "cn-hongkong",
                domains=(domain,),
                payments=True,
                product=product,
                icp_number_displayed=False,
                psb_number_displayed=False,
            )
        )
    base = out[0]
    out += [
        dataclasses.replace(base, domains=()),
        dataclasses.replace(base, domains=(), domain_unreadable=("domainName",)),
        dataclasses.replace(base, region="cn-nowhere-9", region_guessed=True),
        dataclasses.replace(base, domains=("wfoe-shop.cn",), platform=True),
        dataclasses.replace(base, domains=("www.example.cn",), unknown=("scope",)),
    ]
    return out


def test_every_rule_finding_is_bilingual(registry: FilingRegistry) -> None:
    findings: list[Finding] = []
    for exposure in _exposures():
        for today in (TODAY, TODAY + dt.timedelta(days=120)):
            findings += rules.evaluate(exposure, registry, today, RuleOptions(untied_exposure="mandatory"))
    policies = {f.policy for f in findings}
    assert len(findings) > 100 and len(policies) >= 6, policies  # the cases reach (nearly) every rule
    for f in findings:
        _check_finding(f)
    _check_finding(rules.registry_unavailable(OSError("gone"), "filings.yaml"))


def test_every_eligibility_finding_is_bilingual() -> None:
    import test_eligibility as cases

    regs = [
        cases.registry("guangzhou", entity_extra="foreign_share: wfoe\n"),
        cases.registry("shenzhen", entity_extra="foreign_share: wfoe\n"),
        cases.registry("chengdu", entity_extra="foreign_share: 51\n"),
        cases.registry("chengdu"),
        cases.registry(
            "beijing",
            entity_extra="foreign_share: 10\nlegal_representative: 张三\n",
            site_extra="sectors: [{sector: news}, {sector: finance}]\ndomain_holder: 李四\n"
            "domain_holder_role: shareholder\nreal_name_verified_on: 2021-05-31\nlaunched: 2021-05-20\n",
        ),
        cases.registry("beijing", ownership="domestic", permit=False, site_extra="own_goods: true\n"),
    ]
    findings = [f for reg in regs for f in rules.evaluate(cases.cdn(), reg, TODAY)]
    assert {f.policy for f in findings} >= {
        "commercial-permit-required",
        "icp-filing-required",
        "domain-eligible",
        "filing-registry-consistent",
    }
    for f in findings:
        _check_finding(f)


def test_every_advice_reason_is_bilingual(registry: FilingRegistry) -> None:
    reasons: list[str] = []
    for entity, payments, platform, game, audience, registrar, sellers in itertools.product(
        ("domestic", "foreign-invested", "foreign", "individual"),
        (False, True),
        (False, True),
        (False, True),
        (True, False),
        (True, False),
        (None, False),
    ):
        advice = advise(
            AdviceInput(
                entity=entity,  # type: ignore[arg-type]
                payments=payments,
                platform=platform,
                game=game,
                mainland_audience=audience,
                registrar_in_china=registrar,
                third_party_sellers=sellers,
                today=TODAY,
            )
        )
        reasons += advice.reasons
    for domain in DOMAINS[:-1]:
        for products in (("cdn",), ("cdn", "ecs")):
            a = advise(AdviceInput(domain=domain, registry=registry, today=TODAY, payments=True, products=products))
            reasons += a.reasons
    assert len(reasons) > 50
    for reason in reasons:
        _check_bilingual(reason)
        assert _english_words(reason.rsplit(" / ", 1)[1]) == [], reason


def test_every_hosting_decision_reason_and_refusal_is_bilingual(registry: FilingRegistry) -> None:
    texts: list[str] = []
    for domain in ("www.example.cn", "unfiled.cn", "fresh.cn", "elsewhere.cn"):
        for mode in ("auto", "hongkong"):
            d = decide(domain, mode, registry, today=TODAY, products=("cdn", "ecs"))  # type: ignore[arg-type]
            texts += d.reasons
    texts += decide("www.example.cn", "auto", None, today=TODAY).reasons
    for text in texts:
        _check_bilingual(text)
    with pytest.raises(HostingError) as err:
        decide("unfiled.cn", "mainland", registry, today=TODAY)
    assert CJK.search(err.value.headline) and CJK.search(err.value.fix or "")
    for f in err.value.findings:
        _check_finding(f)
    assert hosting.SCOPE_ZH["overseas"] == "全球（不包含中国内地）"


def test_registry_consistency_warnings_are_bilingual() -> None:
    import test_eligibility as cases

    reg = cases.registry(
        "beijing",
        ownership="domestic",
        site_extra="real_name_verified_on: 2021-05-31\nlaunched: 2021-05-20\npsb_number: 京公网安备11010502012345号\n"
        "psb_filed: 2021-05-19\n",
    )
    assert len(reg.warnings) == 3
    for warning in reg.warnings:
        _check_bilingual(warning)


def test_the_check_itself_catches_an_english_only_message_and_an_english_word() -> None:
    bad = Finding(policy="x", enforcement="advisory", message_en="English only.", message_zh="English only.", fix="f")
    with pytest.raises(AssertionError):
        _check_finding(bad)
    assert _english_words("备案主体类型为 government，不符合要求") == ["government"]
    assert _english_words("加速区域改为 overseas") == ["overseas"]
    assert _english_words("shop.cn 的 pilot_approval 字段：见 beian.miit.gov.cn") == []
    with pytest.raises(AssertionError):
        _check_bilingual("hosting: hongkong was asked")
