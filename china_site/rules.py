"""DOMAIN.md §3 as pure functions: (Exposure, FilingRegistry, today, RuleOptions) → list[Finding].

Every rule is written once here. The components ask :mod:`china_site.hosting`, which calls these; the policy pack
turns a resource into an :class:`~china_site.model.Exposure` and reports these findings; the CLI does the same from
artifacts. No Pulumi imports. What all rules share (where an exposure is, the names it serves, the bilingual finding
builders, the Alibaba Cloud error per family) is in :mod:`china_site.rule_findings`; who may run what (foreign share,
pilot zones, pre-approvals, domain holder) in :mod:`china_site.eligibility`; the registry's consistency notes in
:mod:`china_site.consistency`; which access provider a product needs in :mod:`china_site.access`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Final

from china_site import domains
from china_site import rule_findings as rf
from china_site.access import needs_provider_access
from china_site.errors import ChinaSiteError
from china_site.filings import Entity, FilingRegistry, Permit, Site, days_after
from china_site.model import (
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    FILED_DOMAIN_OFF_MAINLAND,
    FILING_REGISTRY_AVAILABLE,
    FILING_REGISTRY_CONSISTENT,
    ICP_FILING_REQUIRED,
    ICP_NUMBER_DISPLAYED,
    MIIT_LINK,
    MPS_LINK,
    PSB_FILING_REQUIRED,
    Exposure,
    Finding,
    RuleOptions,
)

__all__ = [
    "RULES",
    "check_commercial_permit",
    "check_domain_eligible",
    "check_filed_domain_off_mainland",
    "check_icp_filing",
    "check_icp_number_displayed",
    "check_psb_filing",
    "evaluate",
    "permit_valid",
    "psb_deadline",
    "registry_unavailable",
]

PERMIT_LINK = rf.PERMIT_LINK

Rule = Callable[[Exposure, FilingRegistry, dt.date, RuleOptions], list[Finding]]


def _invalid_host(exposure: Exposure, raw: str) -> Finding:
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    return rf.icp_finding(
        exposure,
        f"{rf.what(exposure)} serves '{shown}' in {rf.where(exposure)}, which is not a valid host name, so its ICP "
        "filing cannot be checked.",
        f"{rf.what(exposure)} 的域名 '{shown}' 不是有效的主机名，无法核对 ICP 备案。",
        "use the exact host name the site serves (for example www.example.cn)",
    )


# ---------------------------------------------------------------------------------------------------------------
# Rule 1–3, 8, 9: mainland exposure needs an approved filing accessed through Alibaba Cloud.


def check_icp_filing(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not rf.applies_mainland(exposure):
        return []
    what, where, where_zh = rf.what(exposure), rf.where(exposure), rf.where_zh(exposure)
    note = rf.unknown_note(exposure)
    served = list(rf.served_domains(exposure))
    if not served and not rf.invalid_domains(exposure) and exposure.domain_unreadable:
        names = ", ".join(exposure.domain_unreadable)
        return [
            rf.icp_finding(
                exposure,
                f"{what} is reachable from the internet in {where}, but its domain ({names}) cannot be read as a "
                f"host name (missing, a number, a list or an IP address), so it is read as unfiled: this type is "
                f"only public under a domain, whose ICP filing must be checked{note}.",
                f"{what} 在{where_zh}对公网开放，但其域名（{names}）无法读取为主机名，按未备案处理。",
                f"set {names} to the exact host name the site serves (for example www.example.cn); it must have an "
                "approved ICP filing through Alibaba Cloud before it is served from the mainland",
                alibaba_error=rf.unfiled_error(exposure),
            )
        ]
    if not served and not rf.invalid_domains(exposure):
        if options.untied_exposure == "disabled":
            return []
        return [
            rf.icp_finding(
                exposure,
                f"{what} is reachable from the internet in {where}, but no domain is tied to it, so its ICP "
                f"filing cannot be checked{note}.",
                f"{what} 在{where_zh}对公网开放，但未关联任何域名，无法核对 ICP 备案。",
                "tag the resource with china-site:domain=<domain> (or point a DNS record of this stack at it); "
                "a mainland server may only serve web content under an ICP-filed domain",
                enforcement=options.untied_exposure,
                alibaba_error=rf.BLOCKED,
            )
        ]
    findings: list[Finding] = [_invalid_host(exposure, raw) for raw in rf.invalid_domains(exposure)]
    for host, shown in served:
        site = registry.covering(host)
        err = rf.unfiled_error(exposure)
        if site is None:
            findings.append(
                rf.icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where}, but {shown} has no ICP filing in the registry "
                    f"({registry.source}){note}.",
                    f"{what} 在{where_zh}为 {shown} 提供服务，但备案清单文件中该域名没有 ICP 备案。",
                    f"file {_registrable(host)} for ICP "
                    + (
                        "through Alibaba Cloud's filing system"
                        if needs_provider_access(exposure.product)
                        else "(through any access provider's filing system; Alibaba Cloud's needs a mainland instance)"
                    )
                    + " and wait for approval before serving it from the mainland; or serve it from Hong Kong "
                    "(region cn-hongkong, CDN scope overseas), which needs no filing",
                    alibaba_error=err,
                    domain=host,
                )
            )
            continue
        status = registry.effective_status(site)
        entity = registry.entity_of(site)
        if status == "cancelled":
            why = "its entity's filing was cancelled" if entity.status == "cancelled" else "its filing was cancelled"
            findings.append(
                rf.icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where}, but {why} ({site.icp_number or 'no number'}): a cancelled "
                    f"filing makes the site unfiled at once{note}.",
                    f"{what} 为 {shown} 提供服务，但其 ICP 备案已注销，网站立即成为未备案网站。",
                    f"file {site.domain} again (new ICP filing through Alibaba Cloud) before serving it from the "
                    "mainland, or serve it from Hong Kong meanwhile",
                    alibaba_error=err,
                    domain=host,
                )
            )
        elif status == "pending" or site.approved is None or site.approved > today:
            findings.append(
                rf.icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where}, but its ICP filing is still pending: during a first-time "
                    f"filing the site must not be reachable{note}.",
                    f"{what} 为 {shown} 提供服务，但其 ICP 备案仍在审核中：首次备案期间网站不得开通访问。",
                    "wait for the approval (the registry then records status: approved and the approval date) "
                    "before exposing it; keep it private or serve it from Hong Kong meanwhile",
                    alibaba_error=err,
                    domain=host,
                )
            )
        elif needs_provider_access(exposure.product) and options.access_provider not in site.access_providers:
            providers = ", ".join(site.access_providers) or "none"
            findings.append(
                rf.icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where} from an origin Alibaba Cloud hosts, but filing "
                    f"{site.icp_number} lists only {providers} as access provider; Alibaba Cloud blocks domains not "
                    f"accessed through it where it hosts the origin (acceleration products such as CDN, DCDN and "
                    f"Global Accelerator need only a valid filing from any provider){note}.",
                    f"{what} 在阿里云{where_zh}为 {shown} 提供源站服务，但备案 {site.icp_number} 的接入商不包含阿里云；"
                    "源站托管在阿里云时须新增接入（CDN、DCDN、全球加速等加速产品只需任一接入商的有效备案）。",
                    "submit an access filing (新增接入) for this domain through Alibaba Cloud's filing system "
                    "(same ICP number) and record alibaba-cloud in access_providers once approved; or keep the "
                    "origin private behind Alibaba Cloud CDN (a private OSS bucket), which needs no Alibaba access",
                    alibaba_error=err,
                    domain=host,
                )
            )
        if status == "approved" and site.approved is not None and site.approved <= today:
            findings.extend(_sector_findings(exposure, site, entity, host, shown))
    return findings


def _sector_findings(exposure: Exposure, site: Site, entity: Entity, host: str, shown: str) -> list[Finding]:
    """Rule 13 (前置审批) and rule 6 (sectors closed to foreign investment) for a filed site's declared sectors."""
    from china_site import eligibility

    what = rf.what(exposure)
    out = [
        rf.icp_finding(exposure, f"{shown} ({what}) {en}", f"{shown} {zh}", fix, domain=host, need="icp-filing")
        for en, zh, fix in eligibility.pre_approval_problems(site)
    ]
    out += [
        rf.icp_finding(exposure, f"{shown} ({what}) {en}", f"{shown} {zh}", fix, domain=host, need="china-entity")
        for en, zh, fix in eligibility.closed_sector_problems(site, entity)
    ]
    return out


def _registrable(host: str) -> str:
    try:
        return domains.registrable_domain(host)
    except ChinaSiteError:
        return host


def _approved_site(
    registry: FilingRegistry, host: str, today: dt.date, options: RuleOptions
) -> tuple[Site, Entity] | None:
    site = registry.covering(host)
    if site is None or registry.effective_status(site) != "approved" or site.approved is None:
        return None
    if site.approved > today:
        return None
    return site, registry.entity_of(site)


# ---------------------------------------------------------------------------------------------------------------
# Rule 4: PSB filing within 30 days of launch.


def psb_deadline(site: Site, today: dt.date, options: RuleOptions = RuleOptions()) -> tuple[dt.date, dt.date]:
    """(launch day, last day of the PSB window). An unlaunched site launches with this deploy (today)."""
    launch = site.launched or today
    deadline = site.psb_deadline(options.psb_grace_days) or days_after(launch, options.psb_grace_days)
    return launch, deadline


def check_psb_filing(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not rf.applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = rf.what(exposure)
    for host, shown in rf.served_domains(exposure):
        found = _approved_site(registry, host, today, options)
        if found is None:
            continue  # check_icp_filing reports it; the PSB filing follows the ICP filing
        site, _entity = found
        if site.psb_number:
            continue
        launch, deadline = psb_deadline(site, today, options)
        days_left = (deadline - today).days
        since = "launch" if site.launched else "this deploy (no launch date in the registry)"
        if days_left >= 0:
            findings.append(
                rf.psb_finding(
                    exposure,
                    host,
                    "advisory",
                    f"{shown} ({what}) has no public-security (PSB) filing yet; it is due within "
                    f"{options.psb_grace_days} days of {since} ({launch.isoformat()}), by {deadline.isoformat()} "
                    f"({days_left} days left).",
                    f"{shown} 尚未办理公安联网备案；须在网站开通之日起 {options.psb_grace_days} 日内"
                    f"（截至 {deadline.isoformat()}，含当日）完成。",
                    "file at the national Internet security filing platform (beian.mps.gov.cn), then record "
                    "psb_number and psb_filed in the registry and show the number in the footer",
                )
            )
        else:
            findings.append(
                rf.psb_finding(
                    exposure,
                    host,
                    "mandatory",
                    f"{shown} ({what}) is served from the mainland without a public-security (PSB) filing, "
                    f"{-days_left} days past the {options.psb_grace_days}-day deadline ({deadline.isoformat()}; "
                    f"launched {launch.isoformat()}); the penalty is a warning or shutdown for up to 6 months.",
                    f"{shown} 开通已超过 {options.psb_grace_days} 日仍未办理公安联网备案"
                    f"（截至 {deadline.isoformat()}，含当日），可被警告或停机整顿最长六个月。",
                    "file at beian.mps.gov.cn now, then record psb_number and psb_filed in the registry",
                    alibaba_error="none at deploy time: the police bureau orders the fix or the shutdown",
                )
            )
    return findings


# ---------------------------------------------------------------------------------------------------------------
# Rule 5, 6: payments need a valid commercial permit held by an eligible entity.


def permit_valid(permit: Permit, today: dt.date) -> bool:
    """A permit is valid from ``issued`` through ``expires``: the expiry day is still valid (like waivers)."""
    return permit.valid_on(today)


def pilot_zone_scope() -> tuple[str, str]:
    """(English, Chinese): which services the pilot-zone notice opens (kept here for callers; see eligibility)."""
    from china_site import eligibility

    return eligibility.pilot_zone_scope()


def check_commercial_permit(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not rf.applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = rf.what(exposure)
    for host, shown in rf.served_domains(exposure):
        site = registry.covering(host)
        payments = exposure.payments or bool(site and site.payments)
        platform = exposure.platform or bool(site and site.platform)
        if not payments and not platform:
            continue
        own_goods = exposure.own_goods or bool(site and site.own_goods)
        if own_goods and not platform and not options.own_goods_need_permit:
            continue  # relaxed by configuration (disputed point, DOMAIN.md §3.5)
        kind = "B21" if platform else "B25"
        need = "edi-permit" if platform else "commercial-permit"
        label = "EDI permit (B21, 在线数据处理与交易处理)" if platform else "commercial ICP permit (B25, ICP经营许可证)"
        label_zh = "EDI 许可证（B21）" if platform else "ICP 经营许可证（B25）"
        fix = (
            f"obtain a {label} for the filing entity from the provincial communications administration (or MIIT), "
            "record it under the entity's permits in the registry"
            + ("" if platform else "; or sell inside a marketplace (Tmall, Taobao) whose operator holds the permit")
        )
        note_en = note_zh = ""
        if not platform:  # the disputed point (DOMAIN.md amendments, rule 5): strict by default, said so
            from china_site.eligibility import own_goods_note

            note_en, note_zh = own_goods_note()
            note_en, note_zh = f" Note: {note_en}.", f"说明：{note_zh}。"
        if site is None:
            findings.append(
                rf.permit_finding(
                    exposure,
                    host,
                    need,
                    f"{shown} ({what}) takes payments on the mainland, but no filing entity is known for it, so no "
                    f"{label} can be found.{note_en}",
                    f"{shown} 在中国内地提供收费服务，但未找到备案主体，无法确认 {label_zh}。{note_zh}",
                    fix,
                )
            )
            continue
        entity = registry.entity_of(site)
        permits = [p for p in entity.permits if p.kind == kind]
        valid = [p for p in permits if permit_valid(p, today)]
        if not valid:
            if permits:
                latest = max(permits, key=lambda p: p.expires)
                state = (
                    f"permit {latest.number} expired on {latest.expires.isoformat()}"
                    if latest.expires < today
                    else f"permit {latest.number} is valid only from {latest.issued.isoformat()}"
                )
            else:
                state = f"entity '{entity.name}' holds no {kind} permit"
            findings.append(
                rf.permit_finding(
                    exposure,
                    host,
                    need,
                    f"{shown} ({what}) takes payments on the mainland, which needs a valid {label}, but {state}."
                    f"{note_en}",
                    f"{shown} 在中国内地提供收费服务，须持有有效的 {label_zh}，但未找到有效许可证。{note_zh}",
                    fix,
                )
            )
        if kind == "B25":  # with or without a permit: the foreign share may put B25 out of reach here at all
            from china_site import eligibility

            problem = eligibility.b25_foreign_problem(entity, options)
            if problem is not None:
                en, zh, fix_text = problem
                findings.append(
                    rf.permit_finding(exposure, host, need, f"{shown} ({what}): {en}", f"{shown}：{zh}", fix_text)
                )
    return findings


# ---------------------------------------------------------------------------------------------------------------
# Rule 7: the domain itself must be eligible.


def _domain_problems(
    site: Site, entity: Entity, today: dt.date, options: RuleOptions
) -> Iterable[tuple[str, str, str]]:
    """(English, Chinese, fix) for each registrar-side problem of a filed domain (rule 7)."""
    if options.require_registrar_in_china and not site.registrar_in_china:
        yield (
            "is registered with a registrar outside China; ICP filing needs a registrar accredited by MIIT.",
            "的注册商不是工信部认可的境内注册商，无法办理或保持 ICP 备案。",
            "transfer the domain to an MIIT-accredited registrar (for example Alibaba Cloud) or buy a new domain "
            "there and file it; then set registrar_in_china: true",
        )
    if options.require_real_name and not site.real_name_verified:
        yield (
            "has not passed real-name verification; the holder must be verified and be the filing entity.",
            "未完成域名实名认证；域名持有者须完成实名认证且与备案主体一致。",
            "complete real-name verification at the registrar with the filing entity as holder, then set "
            "real_name_verified: true",
        )
    from china_site.eligibility import domain_holder_problem

    holder = domain_holder_problem(site, entity)
    if holder is not None:
        yield holder
    holders = domains.tld_holders(site.domain)
    if holders is not None and entity.type not in holders:
        note = domains.tld_note(site.domain) or "a restricted suffix"
        kinds = " or ".join(holders)
        kinds_zh = "或".join(_HOLDER_ZH.get(k, k) for k in holders)
        yield (
            f"is under a restricted suffix ({note}); only a {kinds} entity may hold and file it, and the filing "
            f"entity '{entity.name}' is of type {entity.type}.",
            f"的后缀仅限{kinds_zh}注册，备案主体（{entity.name}）的类型为{_HOLDER_ZH.get(entity.type, entity.type)}，"
            "不符合要求。",
            f"use a domain under an open suffix (.cn, .com.cn, .com, …), or file through a {kinds} entity that "
            "holds this domain; if the registry's entity type is wrong, correct it",
        )
    if site.domain_expires is not None and site.domain_expires <= today:
        yield (
            f"expired on {site.domain_expires.isoformat()} (domain registration); an expired domain loses its ICP "
            "filing.",
            f"的域名已于 {site.domain_expires.isoformat()} 过期，过期域名的备案将被注销。",
            "renew the domain at the registrar, then update domain_expires",
        )


_HOLDER_ZH: Final = {
    "enterprise": "企业",
    "individual": "个人",
    "government": "政府机关",
    "institution": "事业单位",
    "other": "其他组织",
}


def suffix_problem(host: str, options: RuleOptions = RuleOptions()) -> tuple[str, str]:
    """(English, Chinese) for a suffix that is not approved: disputed (on the filing-suffix list, but sources
    disagree) or not listed at all. Only meaningful when ``domains.tld_approved`` is False."""
    suffix = domains.to_unicode(domains.tld_of(host))
    status = domains.tld_status(host, extra=options.approved_tlds, denied=options.denied_tlds)
    if status == "disputed":
        note = domains.tld_note(host) or "sources disagree"
        return (
            f"cannot be ICP-filed by default: the filing status of its suffix .{suffix} is disputed ({note}).",
            f"使用的后缀 .{suffix} 能否备案存在争议，默认按不可备案处理；"
            "如接入商确认可以备案，可将其加入 approvedTlds 设置。",
        )
    if status == "denied":
        return (
            f"cannot be ICP-filed: its suffix .{suffix} is marked as not fileable by the deniedTlds setting.",
            f"使用的后缀 .{suffix} 已被 deniedTlds 设置标记为不可备案。",
        )
    return (
        f"cannot be ICP-filed: its suffix .{suffix} is not on MIIT's list of approved top-level domains (the "
        "filing-suffix list).",
        f"使用的后缀 .{suffix} 不在工信部批准的可备案顶级域名列表中，无法备案。",
    )


def check_domain_eligible(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not rf.applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = rf.what(exposure)
    for host, shown in rf.served_domains(exposure):
        if not domains.tld_approved(host, extra=options.approved_tlds, denied=options.denied_tlds):
            findings.append(
                rf.domain_finding(
                    exposure,
                    host,
                    "icp-filing",
                    f"{shown} ({what}) {suffix_problem(host, options)[0]}",
                    f"{shown} {suffix_problem(host, options)[1]}",
                    "use a domain under an approved suffix (.cn, .com.cn, .com, .net, …); if you know the suffix "
                    "is approved, add it to the approvedTlds setting",
                    alibaba_error=(
                        "the filing system rejects the domain; CDN AddCdnDomain returns DomainNotRegistration"
                    ),
                )
            )
        site = registry.covering(host)
        if site is None:
            continue  # unknown registrar and real-name state: check_icp_filing reports the missing filing
        for en, zh, fix in _domain_problems(site, registry.entity_of(site), today, options):
            findings.append(
                rf.domain_finding(
                    exposure, host, "china-registrar-domain", f"{shown} ({what}) {en}", f"{shown} {zh}", fix
                )
            )
    return findings


# ---------------------------------------------------------------------------------------------------------------
# Rule 10: a filed domain served from Hong Kong or overseas risks its access record.


def check_filed_domain_off_mainland(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not exposure.public or exposure.area == "mainland":
        return []
    findings: list[Finding] = []
    for host, shown in rf.served_domains(exposure):
        site = registry.covering(host)
        if site is None or registry.effective_status(site) != "approved":
            continue
        if options.access_provider not in site.access_providers:
            continue
        findings.append(
            rf.finding(
                FILED_DOMAIN_OFF_MAINLAND,
                "advisory",
                f"{shown} ({rf.what(exposure)}) is filed ({site.icp_number}) with Alibaba Cloud as access provider but "
                f"is served from {rf.where(exposure)}; Alibaba Cloud sends 'inaccurate access' notices and may remove "
                "the access record, leaving an empty filing.",
                f"{shown} 已通过阿里云备案，但解析到{rf.where_zh(exposure)}；可能收到接入信息不准确通知并被取消接入，"
                "成为空壳备案。",
                "keep at least the main site on a mainland Alibaba Cloud resource (region cn-*, CDN scope domestic or "
                "global), or accept the risk and record it as a waiver",
                link=MIIT_LINK,
                domain=host,
                resource=exposure.resource,
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------------------------
# Footer: the ICP (and PSB) number shown on the homepage.


def check_icp_number_displayed(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not rf.applies_mainland(exposure):
        return []
    if exposure.icp_number_displayed is None and exposure.psb_number_displayed is None:
        return []
    findings: list[Finding] = []
    for host, shown in rf.served_domains(exposure):
        found = _approved_site(registry, host, today, options)
        if found is None:
            continue
        site, entity = found
        if exposure.icp_number_displayed is False:
            from china_site.footer import footer_numbers

            number = footer_numbers(site, entity, options)[0] or site.icp_number
            findings.append(
                rf.footer_finding(
                    exposure,
                    host,
                    MIIT_LINK,
                    f"the homepage of {shown} does not show its ICP number {number} linked to {MIIT_LINK} "
                    "(fine ¥5,000–10,000).",
                    f"{shown} 首页底部未展示 ICP 备案号 {number} 并链接至工信部备案系统（可处五千至一万元罚款）。",
                    f"add the footer from `china-site footer {site.domain} --filings …` to the homepage",
                )
            )
        if site.psb_number and exposure.psb_number_displayed is False:
            findings.append(
                rf.footer_finding(
                    exposure,
                    host,
                    MPS_LINK,
                    f"the homepage of {shown} does not show its public-security filing number {site.psb_number} "
                    "linked to beian.mps.gov.cn (due within 30 days of the PSB approval).",
                    f"{shown} 首页未展示公安联网备案号 {site.psb_number}（须在备案后 30 日内展示）。",
                    f"add the footer from `china-site footer {site.domain} --filings …` to the homepage",
                )
            )
    return findings


# ---------------------------------------------------------------------------------------------------------------
# Rule 14: the registry's dates must agree with the filing rules (advisory; data/consistency in consistency.py).


def check_registry_consistency(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    """Advisory: the inconsistencies of the filings behind the domains a mainland exposure serves."""
    if not rf.applies_mainland(exposure):
        return []
    from china_site import consistency

    findings: list[Finding] = []
    for host, shown in rf.served_domains(exposure):
        site = registry.covering(host)
        if site is None:
            continue
        entity = registry.entity_of(site)
        notes = [(f"site {site.domain}", n) for n in consistency.site_notes(site)]
        notes += [(f"entity {site.entity}", n) for n in consistency.entity_notes(entity)]
        for entry, note in notes:
            findings.append(
                rf.finding(
                    FILING_REGISTRY_CONSISTENT,
                    "advisory",
                    f"{shown} ({rf.what(exposure)}): the filing registry ({registry.source}), {entry}, field "
                    f"'{note.field}': {note.en}.",
                    f"{shown}：备案清单文件中 {note.field} 字段：{note.zh}。",
                    note.fix,
                    link=MIIT_LINK,
                    domain=host,
                    resource=exposure.resource,
                )
            )
    return findings


# ---------------------------------------------------------------------------------------------------------------

RULES: dict[str, Rule] = {
    ICP_FILING_REQUIRED: check_icp_filing,
    PSB_FILING_REQUIRED: check_psb_filing,
    COMMERCIAL_PERMIT_REQUIRED: check_commercial_permit,
    DOMAIN_ELIGIBLE: check_domain_eligible,
    FILED_DOMAIN_OFF_MAINLAND: check_filed_domain_off_mainland,
    ICP_NUMBER_DISPLAYED: check_icp_number_displayed,
    FILING_REGISTRY_CONSISTENT: check_registry_consistency,
}


def evaluate(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    """Every exposure rule, in a stable order."""
    findings: list[Finding] = []
    for rule in RULES.values():
        findings.extend(rule(exposure, registry, today, options))
    return findings


def registry_project_unknown(source: str, reason: str) -> Finding:
    """The fail-closed finding when a relative (or the default) registry path cannot be resolved: the pack runs
    outside the Pulumi project and cannot tell which folder the path starts from (never a guess)."""
    return rf.finding(
        FILING_REGISTRY_AVAILABLE,
        "mandatory",
        f"the filing registry {source} is a path relative to the Pulumi project, but the policy pack cannot tell "
        f"which folder the project is in ({reason}), so no mainland exposure can be checked",
        f"备案清单文件 {source} 是相对于 Pulumi 项目目录的路径，但策略包无法确定项目所在目录，"
        "因此无法核对任何内地资源的备案情况。请改用绝对路径或 oss:// 地址，"
        "或设置环境变量 CHINA_SITE_PROJECT_DIR 为项目目录。",
        "set china-site:filings (or the pack's `filings` policy config) to an absolute path or an oss://BUCKET/KEY "
        "URL, or set CHINA_SITE_PROJECT_DIR to the folder that holds Pulumi.yaml",
        link=MIIT_LINK,
    )


def registry_unavailable(error: Exception, source: str) -> Finding:
    """The fail-closed finding when the registry cannot be read or is invalid (never a silent pass)."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return rf.finding(
        FILING_REGISTRY_AVAILABLE,
        "mandatory",
        f"the filing registry {source} cannot be used, so no mainland exposure can be checked: {detail}",
        f"备案清单文件 {source} 无法读取或校验失败，无法核对任何内地资源的备案情况。",
        "fix the registry (run `china-site filings validate " + source + "`) or point the `filings` setting "
        "(stack config china-site:filings) at a readable copy",
        link=MIIT_LINK,
    )
