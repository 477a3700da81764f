"""Hong Kong vs mainland: the advisor (``china-site advise``) and the components' hosting decision.

Both ask the rules in :mod:`china_site.rules`; nothing here restates a rule. The advisor adds the questions the
registry cannot answer (entity, registrar, payments, games) as requirements with their reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from china_site import regions
from china_site.errors import ChinaSiteError, InputError
from china_site.filings import FilingRegistry
from china_site.model import Exposure, Finding, RuleOptions

HostingMode = Literal["mainland", "hongkong", "auto"]
CdnScope = Literal["domestic", "global", "overseas"]
EntityKind = Literal["domestic", "foreign-invested", "foreign", "individual"]

DEFAULT_MAINLAND_REGION = "cn-shanghai"
# The Site's default layout: a CDN domain in front of a private OSS bucket (only the CDN is public).
SITE_PRODUCTS: tuple[str, ...] = ("cdn",)
HONGKONG_REGION = "cn-hongkong"

# What mainland hosting may still need (DESIGN.md advise contract), in display order.
NEEDS: tuple[str, ...] = (
    "china-entity",
    "china-registrar-domain",
    "icp-filing",
    "psb-filing",
    "commercial-permit",
    "edi-permit",
    "game-publishing-partner",
)
# psb-filing is due within 30 days of launch: it never stops a mainland deploy by itself.
BLOCKING_NEEDS = frozenset(NEEDS) - {"psb-filing"}


class HostingError(ChinaSiteError):
    """Raised at program time when ``hosting: mainland`` is asked for a domain the rules do not allow.

    ``headline`` is the first sentence; ``findings`` are the rules' mandatory findings behind the refusal (empty
    when no registry was configured), so adapters never parse the message.
    """

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        headline: str = "",
        findings: tuple[Finding, ...] = (),
    ) -> None:
        self.headline = headline or what
        self.findings = findings
        super().__init__(what, where=where, fix=fix)


@dataclass(frozen=True)
class HostingDecision:
    hosting: Literal["mainland", "hongkong"]
    region: str
    cdn_scope: CdnScope
    reasons: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)  # what mainland would still need
    icp_number: str | None = None  # number to show in the footer (Guangdong: entity number)
    psb_number: str | None = None


# The console names of the CDN scope values (the API's domestic/global/overseas), for Chinese lines.
SCOPE_ZH: dict[str, str] = {
    "domestic": "仅中国内地",
    "global": "全球",
    "overseas": "全球（不包含中国内地）",
}


def _bilingual(finding: Finding) -> str:
    return f"{finding.message_en} / {finding.message_zh}"


def filed_reason(domain: str, registry: FilingRegistry | None, products: tuple[str, ...]) -> str:
    """Why the filing suffices, in English: accessed through Alibaba Cloud, or (acceleration products only) a valid
    filing from another provider."""
    from china_site.access import needs_provider_access

    site = registry.covering(domain) if registry is not None else None
    listed = site.access_providers if site is not None else ()
    if "alibaba-cloud" in listed or any(needs_provider_access(p) for p in products or ("",)):
        return f"{domain} has an approved ICP filing accessed through Alibaba Cloud"
    providers = ", ".join(listed) or "unknown"
    return (
        f"{domain} has an approved ICP filing (access providers: {providers}); {', '.join(products).upper()} in "
        "front of a private origin needs only a valid filing from any provider"
    )


def _check_mainland_region(region: str, where: str) -> None:
    info = regions.classify(region)
    if info.area != "mainland" or info.guessed or info.internal:
        raise InputError(
            f"mainland region '{region}' is not a known mainland Alibaba Cloud region ({regions.describe(info)})",
            where=where,
            fix="use a mainland region ID such as cn-shanghai, cn-hangzhou, cn-beijing or cn-shenzhen",
        )


def _footer_numbers(
    domain: str, registry: FilingRegistry | None, options: RuleOptions
) -> tuple[str | None, str | None]:
    if registry is None:
        return None, None
    site = registry.covering(domain)
    if site is None or registry.effective_status(site) != "approved":
        return None, None
    from china_site import footer

    return footer.footer_numbers(site, registry.entity_of(site), options)


def site_findings(
    domain: str,
    registry: FilingRegistry,
    *,
    today: dt.date,
    payments: bool = False,
    platform: bool = False,
    region: str = DEFAULT_MAINLAND_REGION,
    options: RuleOptions | None = None,
    products: tuple[str, ...] = SITE_PRODUCTS,
) -> list[Finding]:
    """The rules' findings for serving ``domain`` publicly from a mainland region through ``products`` (the exposing
    products of the site's public resources: ``("cdn",)`` for a CDN in front of a private bucket; ``("alb", "ecs")``
    for a backend). A finding shared by several products is reported once."""
    from china_site import rules

    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for product in products or ("",):
        exposure = Exposure(
            resource="china-site:index:Site",
            name=domain,
            public=True,
            area="mainland",
            region=region,
            domains=(domain,),
            payments=payments,
            platform=platform,
            product=product or None,
        )
        for f in rules.evaluate(exposure, registry, today, options or RuleOptions()):
            key = (f.policy, f.enforcement, f.message_en)
            if key not in seen:
                seen.add(key)
                findings.append(f)
    return findings


def decide(
    domain: str,
    mode: HostingMode,
    registry: FilingRegistry | None,
    *,
    today: dt.date,
    payments: bool = False,
    platform: bool = False,
    mainland_region: str = DEFAULT_MAINLAND_REGION,
    cdn_global: bool = False,
    options: RuleOptions | None = None,
    where: str = "Site args",
    products: tuple[str, ...] = SITE_PRODUCTS,
) -> HostingDecision:
    """Where a site may be hosted. ``mainland`` that the rules refuse raises HostingError (bilingual).

    ``where`` names the caller's arguments in input errors (``Site args``, ``WebBackend 'api'``, …)."""
    options = options or RuleOptions()
    if mode not in get_args(HostingMode):
        raise InputError(
            f"hosting '{mode}' is not one of mainland, hongkong, auto",
            where=f"{where} hosting / china-site:hosting",
            fix="set hosting to mainland, hongkong or auto",
        )
    if mode != "hongkong":
        _check_mainland_region(mainland_region, f"{where} mainland_region / china-site:mainlandRegion")
    icp, psb = _footer_numbers(domain, registry, options)
    if mode == "hongkong":
        reasons = [
            "hosting: hongkong was asked; Hong Kong needs no ICP filing, CDN scope overseas / 已指定香港部署：香港无需 "
            f"ICP 备案，CDN 加速区域为{SCOPE_ZH['overseas']}"
        ]
        return HostingDecision("hongkong", HONGKONG_REGION, "overseas", tuple(reasons), (), icp, psb)

    if registry is None:
        findings: list[Finding] = []
        blocked = True
        reasons = [
            f"no filing registry is configured, so no filing for {domain} can be shown / "
            "未配置备案清单文件，无法确认该域名的 ICP 备案"
        ]
    else:
        findings = site_findings(
            domain,
            registry,
            today=today,
            payments=payments,
            platform=platform,
            region=mainland_region,
            options=options,
            products=products,
        )
        mandatory = [f for f in findings if f.enforcement == "mandatory"]
        blocked = bool(mandatory)
        reasons = [_bilingual(f) for f in mandatory]

    if not blocked:
        scope: CdnScope = "global" if cdn_global else "domestic"
        ok = [
            f"{filed_reason(domain, registry, products)}: mainland {mainland_region} / "
            f"可部署在中国内地（{mainland_region}）"
        ]
        ok += [_bilingual(f) for f in findings]  # advisories (PSB window, footer) travel along
        return HostingDecision("mainland", mainland_region, scope, tuple(ok), tuple(findings), icp, psb)

    if mode == "mainland":
        headline = (
            f"hosting: mainland was asked for {domain}, but Alibaba Cloud would reject or block it / "
            f"已指定在中国内地部署 {domain}，但阿里云会拒绝或拦截"
        )
        lines = [f"{headline}:"]
        if registry is None:
            lines.append("no filing registry configured (china-site:filings) / 未配置备案清单文件，无法确认 ICP 备案。")
        for f in findings:
            if f.enforcement == "mandatory":
                lines.append(f"[{f.policy}] {f.message_en} / {f.message_zh}")
                if f.alibaba_error:
                    lines.append(f"  Alibaba Cloud error: {f.alibaba_error}")
                lines.append(f"  Fix: {f.fix}")
        raise HostingError(
            " ".join(lines),
            where=f"Site '{domain}'",
            fix="file the domain first, or set hosting: auto or hongkong (Hong Kong needs no ICP filing) / "
            "请先完成备案，或改为 hosting: auto 或 hongkong（香港无需 ICP 备案）",
            headline=headline,
            findings=tuple(f for f in findings if f.enforcement == "mandatory"),
        )

    reasons = [
        f"{domain} cannot be served from the mainland yet, so it is served from Hong Kong (cn-hongkong, "
        f"CDN scope overseas), which needs no ICP filing / {domain} 暂不能在中国内地提供服务，改为部署在中国香港"
        f"（cn-hongkong，CDN 加速区域为{SCOPE_ZH['overseas']}），香港无需 ICP 备案",
        *(f"on the mainland / 中国内地: {r}" for r in reasons),
    ]
    return HostingDecision("hongkong", HONGKONG_REGION, "overseas", tuple(reasons), tuple(findings), icp, psb)


# ---------------------------------------------------------------------------------------------------------------
# The advisor.


@dataclass(frozen=True)
class AdviceInput:
    entity: EntityKind = "domestic"
    payments: bool = False
    platform: bool = False
    game: bool = False
    mainland_audience: bool = True
    registrar_in_china: bool = True
    domain: str | None = None
    registry: FilingRegistry | None = None
    today: dt.date | None = None
    mainland_region: str = DEFAULT_MAINLAND_REGION
    options: RuleOptions = field(default_factory=RuleOptions)
    # The exposing products of the mainland site (data/access_providers.yaml): the Site's default layout is a CDN in
    # front of a private bucket; an origin Alibaba Cloud hosts publicly (ECS, load balancer, public bucket) needs
    # Alibaba Cloud as access provider.
    products: tuple[str, ...] = SITE_PRODUCTS
    # Do third parties sell on the platform? None: not asked (the strict default: payments need a permit).
    third_party_sellers: bool | None = None


@dataclass(frozen=True)
class Advice:
    hosting: Literal["mainland", "hongkong"]
    region: str
    cdn_scope: CdnScope
    required: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "hosting": self.hosting,
            "region": self.region,
            "cdn_scope": self.cdn_scope,
            "required": list(self.required),
            "reasons": list(self.reasons),
        }


def _tld_need(domain: str, options: RuleOptions, need: Callable[[str, str], None]) -> None:
    """A domain whose suffix is not on MIIT's approved list can never be filed, whatever the registry says."""
    from china_site import domains

    if domains.tld_approved(domain, extra=options.approved_tlds, denied=options.denied_tlds):
        return
    from china_site.rules import suffix_problem

    en, zh = suffix_problem(domain, options)
    need(
        "china-registrar-domain",
        f"{domain} {en} A mainland site needs a domain under a fileable suffix (.cn, .com.cn, .com, …) from an "
        f"MIIT-accredited registrar / {domain} {zh}",
    )


def advise(inp: AdviceInput) -> Advice:
    """Hong Kong or mainland, and what mainland would still need (DOMAIN.md §5's five questions)."""
    _check_mainland_region(inp.mainland_region, "advise --region")
    today = inp.today or dt.date.today()
    needs: dict[str, str] = {}

    def need(slug: str, reason: str) -> None:
        needs.setdefault(slug, reason)

    reasons: list[str] = []
    if not inp.mainland_audience:
        reasons.append(
            "no mainland audience: host in Hong Kong (or elsewhere); Hong Kong is outside the ICP rules and "
            "needs no filing / 无内地用户：香港无需 ICP 备案"
        )
        return Advice("hongkong", HONGKONG_REGION, "overseas", (), tuple(reasons))

    if inp.entity == "foreign":
        need(
            "china-entity",
            "a company with no legal entity in China cannot file for ICP: set up a PRC entity (or a presence "
            "through a partner) first / 境外公司无法办理 ICP 备案，须先设立境内主体",
        )
    if not inp.registrar_in_china:
        need(
            "china-registrar-domain",
            "a domain bought from an overseas registrar cannot be filed: transfer it to an MIIT-accredited "
            "registrar or buy a new one there, then file it / 境外注册商的域名须转入境内注册商",
        )
    if inp.game:
        need(
            "game-publishing-partner",
            "online games need publishing permits that are practically closed to foreign companies: distribute "
            "through a Chinese publishing partner (often with a software-copyright transfer) / "
            "网络游戏须经境内出版合作方",
        )

    if inp.domain:
        _tld_need(inp.domain, inp.options, need)
    filed_ok = False
    if inp.domain and inp.registry is not None:
        findings = site_findings(
            inp.domain,
            inp.registry,
            today=today,
            payments=inp.payments,
            platform=inp.platform,
            region=inp.mainland_region,
            options=inp.options,
            products=inp.products,
        )
        for f in findings:
            if f.need:
                need(f.need, _bilingual(f))
        if "commercial-permit" in needs and not inp.platform and inp.third_party_sellers is None:
            reasons.append(
                "do third parties sell on the platform? With them it needs an EDI permit (B21) "
                "(--third-party-sellers); without them some provinces exempt own-goods sales "
                "(--no-third-party-sellers) / 平台上是否有第三方商家销售？有则须取得 EDI 许可证（B21），"
                "无则部分省份对自营销售免于许可"
            )
        filed_ok = not any(f.need == "icp-filing" for f in findings)
        if filed_ok:
            reasons.append(
                f"{filed_reason(inp.domain, inp.registry, inp.products)} / {inp.domain} 已有可用于该部署方式的 ICP 备案"
            )
        else:  # the PSB filing follows the ICP filing: still required, due within 30 days of launch
            need(
                "psb-filing",
                f"after the ICP filing of {inp.domain}, the public-security (PSB) filing is due within 30 days of "
                "launch / ICP 备案后，网站开通 30 日内须办理公安联网备案",
            )
    else:
        then = " (once the PRC entity exists, it files)" if inp.entity == "foreign" else ""
        need(
            "icp-filing",
            "a site served from a mainland region needs an approved ICP filing before it is reachable (through "
            "Alibaba Cloud where Alibaba Cloud hosts the origin; any provider's filing for CDN in front of a private "
            f"bucket){then} / 内地服务器上的网站须先完成 ICP 备案（源站托管在阿里云时须经阿里云接入；"
            "CDN 加速私有存储桶只需任一接入商的有效备案）",
        )
        need(
            "psb-filing",
            "the public-security (PSB) filing is due within 30 days of launch / 网站开通 30 日内须办理公安联网备案",
        )
        if inp.platform:
            need(
                "edi-permit",
                "a platform for third-party sellers needs an EDI permit (B21) / 第三方交易平台须取得 EDI 许可证",
            )
        elif inp.payments:
            from china_site.eligibility import own_goods_note

            note_en, note_zh = own_goods_note()
            sellers = (
                "; you said no third parties sell on the platform: "
                if inp.third_party_sellers is False
                else "; do third parties sell on the platform? (--third-party-sellers/--no-third-party-sellers) "
            )
            sellers_zh = "；平台上是否有第三方商家销售？"
            if inp.third_party_sellers is False:
                sellers_zh = "；您表示平台上没有第三方商家："
            need(
                "commercial-permit",
                "taking payments (own e-commerce, paid content) needs a commercial ICP permit (B25) by default; a "
                f"store inside Tmall or Taobao needs none of its own{sellers}{note_en} / 默认情况下在线收费须取得 ICP "
                f"经营许可证（B25），天猫/淘宝店铺无需{sellers_zh}{note_zh}",
            )
    if inp.entity == "foreign-invested" and (inp.payments or inp.platform):
        from china_site.eligibility import foreign_share_rule

        rule_en, rule_zh = foreign_share_rule()
        reasons.append(f"foreign-invested: {rule_en} / 外商投资企业：{rule_zh}")
    if inp.entity == "individual" and (inp.payments or inp.platform):
        need(
            "china-entity",
            "an individual cannot hold a commercial permit: payments need a company as the filing entity / "
            "个人备案不能经营收费业务",
        )

    required = tuple(slug for slug in NEEDS if slug in needs)
    blocking = [slug for slug in required if slug in BLOCKING_NEEDS]
    if not blocking:
        reasons.extend(needs[s] for s in required)
        return Advice("mainland", inp.mainland_region, "domestic", required, tuple(reasons))
    reasons.insert(
        0,
        "Hong Kong for now: servers in Hong Kong need no ICP filing and are a common relay for mainland users "
        "(~28 ms from South China) / 暂用香港：香港服务器无需 ICP 备案",
    )
    reasons.extend(needs[s] for s in required)
    return Advice("hongkong", HONGKONG_REGION, "overseas", required, tuple(reasons))
