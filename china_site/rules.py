"""DOMAIN.md §3 as pure functions: (Exposure, FilingRegistry, today, RuleOptions) → list[Finding].

Every rule is written once here. The components ask :mod:`china_site.hosting`, which calls these; the policy pack
turns a resource into an :class:`~china_site.model.Exposure` and reports these findings; the CLI does the same from
artifacts. No Pulumi imports.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles, domains
from china_site.errors import ChinaSiteError
from china_site.filings import Entity, FilingRegistry, Permit, Site, days_after
from china_site.model import (
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    FILED_DOMAIN_OFF_MAINLAND,
    FILING_REGISTRY_AVAILABLE,
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

PERMIT_LINK = "https://tsm.miit.gov.cn/"

Rule = Callable[[Exposure, FilingRegistry, dt.date, RuleOptions], list[Finding]]

_BLOCKED = "no API error: Alibaba Cloud serves its interception page (unfiled Host/SNI blocked)"


class _ErrorCode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    operation: str = Field(min_length=1)
    confirmed: bool
    note: str | None = None

    def text(self) -> str:
        """For messages: ``DomainNotRegisterError (CreateDomain, WAF 2.0)``; unconfirmed codes say "expected"."""
        where = self.operation if self.confirmed else f"{self.operation}; not confirmed in Alibaba Cloud's docs"
        text = f"{self.code} ({where})"
        if not self.confirmed:
            text = "expected: " + text
        return f"{text}; {self.note}" if self.note else text


class _Family(_ErrorCode):
    modules: dict[str, _ErrorCode] = Field(default_factory=dict)


class _ErrorCodeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    families: dict[str, _Family] = Field(min_length=1)


@functools.cache
def _error_codes() -> dict[str, _Family]:
    """The unfiled-domain error per resource family (``data/error_codes.yaml``)."""
    return datafiles.validated("error_codes", _ErrorCodeFile).families


def _unfiled_error(exposure: Exposure) -> str:
    """The Alibaba Cloud error (or behaviour) a deploy hits when ``exposure``'s domain has no ICP filing: by the
    resource's family (its product), or by the Pulumi module of its type token where that module's API differs."""
    family = _error_codes().get(exposure.product or "")
    if family is None:
        return _BLOCKED
    module = exposure.resource.split(":", 2)[1].split("/", 1)[0] if exposure.resource.count(":") >= 2 else ""
    return family.modules.get(module, family).text()


def _what(exposure: Exposure) -> str:
    label = exposure.resource
    if exposure.name:
        label += f" '{exposure.name}'"
    return label


# Products placed by a CDN-like scope (scope / coverage) rather than a region (china_site/data/exposure_types.yaml).
_SCOPED_PRODUCTS: Final = frozenset({"cdn", "dcdn", "vod", "live", "esa"})


def _where(exposure: Exposure) -> str:
    if exposure.region_guessed:
        region = exposure.region or "none given"
        why = f"; {exposure.region_note}" if exposure.region_note else ""
        return f"mainland China (region {region} is unknown, treated as mainland: fail closed{why})"
    if exposure.product in _SCOPED_PRODUCTS and exposure.area == "mainland" and exposure.region is None:
        return "mainland China (CDN scope serves mainland nodes)"
    if exposure.region:
        return f"{exposure.area} ({exposure.region})"
    return exposure.area


def _where_zh(exposure: Exposure) -> str:
    if exposure.region_guessed:
        return "中国内地（地域未知，按内地处理）"
    return {"mainland": "中国内地", "hongkong": "中国香港", "overseas": "境外"}[exposure.area]


def _unknown_note(exposure: Exposure) -> str:
    if not exposure.unknown:
        return ""
    names = ", ".join(exposure.unknown)
    return f" ({names} unknown during preview: assumed the stricter value; checked again at update)"


def _host(host: str) -> tuple[str, str]:
    """(ASCII, display) for a host name; display shows Unicode for IDNs."""
    ascii_host = domains.to_ascii(host)
    if "xn--" not in ascii_host:  # no punycode label: the display form is the ASCII form (no IDNA decoding)
        return ascii_host, ascii_host
    try:
        shown = domains.to_unicode(ascii_host)
    except ChinaSiteError:
        shown = ascii_host
    return ascii_host, shown if shown == ascii_host else f"{shown} ({ascii_host})"


def _served_domains(exposure: Exposure) -> Iterable[tuple[str, str]]:
    """Host names an exposure serves, skipping IP literals and names that are not valid hosts."""
    seen: set[str] = set()
    for raw in exposure.domains:
        try:
            if domains.is_ip(raw):
                continue
            ascii_host, shown = _host(raw)
        except ChinaSiteError:
            continue
        if ascii_host not in seen:
            seen.add(ascii_host)
            yield ascii_host, shown


def _invalid_domains(exposure: Exposure) -> list[str]:
    """Names that are neither IP literals nor valid host names: fail closed, never skipped silently."""
    bad: list[str] = []
    for raw in exposure.domains:
        try:
            if not domains.is_ip(raw):
                domains.to_ascii(raw)
        except ChinaSiteError:
            bad.append(raw)
    return bad


def _invalid_host(exposure: Exposure, raw: str) -> Finding:
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    return _icp_finding(
        exposure,
        f"{_what(exposure)} serves '{shown}' in {_where(exposure)}, which is not a valid host name, so its ICP "
        "filing cannot be checked.",
        f"{_what(exposure)} 的域名 '{shown}' 不是有效的主机名，无法核对 ICP 备案。",
        "use the exact host name the site serves (for example www.example.cn)",
    )


def _applies_mainland(exposure: Exposure) -> bool:
    return exposure.public and exposure.area == "mainland"


def _finding(policy: str, enforcement: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    return Finding(policy=policy, enforcement=enforcement, message_en=en, message_zh=zh, fix=fix, **kw)  # type: ignore[arg-type]


# One helper per rule family: what all of the family's findings share (policy, link, need; the resource and domain).


def _icp_finding(
    exposure: Exposure, en: str, zh: str, fix: str, *, enforcement: str = "mandatory", **kw: object
) -> Finding:
    """Rules 1–3, 8, 9; ``kw``: the domain and the Alibaba Cloud error, where known."""
    kw.update(link=MIIT_LINK, resource=exposure.resource, need="icp-filing")
    return _finding(ICP_FILING_REQUIRED, enforcement, en, zh, fix, **kw)


def _psb_finding(exposure: Exposure, host: str, enforcement: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    kw.update(link=MPS_LINK, domain=host, resource=exposure.resource, need="psb-filing")
    return _finding(PSB_FILING_REQUIRED, enforcement, en, zh, fix, **kw)


def _permit_finding(exposure: Exposure, host: str, need: str, en: str, zh: str, fix: str) -> Finding:
    kw = {"link": PERMIT_LINK, "domain": host, "resource": exposure.resource, "need": need}
    return _finding(COMMERCIAL_PERMIT_REQUIRED, "mandatory", en, zh, fix, **kw)


def _domain_finding(exposure: Exposure, host: str, need: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    kw.update(link=MIIT_LINK, domain=host, resource=exposure.resource, need=need)
    return _finding(DOMAIN_ELIGIBLE, "mandatory", en, zh, fix, **kw)


def _footer_finding(exposure: Exposure, host: str, link: str, en: str, zh: str, fix: str) -> Finding:
    kw = {"link": link, "domain": host, "resource": exposure.resource}
    return _finding(ICP_NUMBER_DISPLAYED, "advisory", en, zh, fix, **kw)


# ---------------------------------------------------------------------------------------------------------------
# Rule 1–3, 8, 9: mainland exposure needs an approved filing accessed through Alibaba Cloud.


def check_icp_filing(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not _applies_mainland(exposure):
        return []
    what, where, where_zh = _what(exposure), _where(exposure), _where_zh(exposure)
    note = _unknown_note(exposure)
    served = list(_served_domains(exposure))
    if not served and not _invalid_domains(exposure) and exposure.domain_unreadable:
        names = ", ".join(exposure.domain_unreadable)
        return [
            _icp_finding(
                exposure,
                f"{what} is reachable from the internet in {where}, but its domain ({names}) cannot be read as a "
                f"host name (missing, a number, a list or an IP address), so it is read as unfiled: this type is "
                f"only public under a domain, whose ICP filing must be checked{note}.",
                f"{what} 在{where_zh}对公网开放，但其域名（{names}）无法读取为主机名，按未备案处理。",
                f"set {names} to the exact host name the site serves (for example www.example.cn); it must have an "
                "approved ICP filing through Alibaba Cloud before it is served from the mainland",
                alibaba_error=_unfiled_error(exposure),
            )
        ]
    if not served and not _invalid_domains(exposure):
        if options.untied_exposure == "disabled":
            return []
        return [
            _icp_finding(
                exposure,
                f"{what} is reachable from the internet in {where}, but no domain is tied to it, so its ICP "
                f"filing cannot be checked{note}.",
                f"{what} 在{where_zh}对公网开放，但未关联任何域名，无法核对 ICP 备案。",
                "tag the resource with china-site:domain=<domain> (or point a DNS record of this stack at it); "
                "a mainland server may only serve web content under an ICP-filed domain",
                enforcement=options.untied_exposure,
                alibaba_error=_BLOCKED,
            )
        ]
    findings: list[Finding] = [_invalid_host(exposure, raw) for raw in _invalid_domains(exposure)]
    for host, shown in served:
        site = registry.covering(host)
        err = _unfiled_error(exposure)
        if site is None:
            findings.append(
                _icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where}, but {shown} has no ICP filing in the registry "
                    f"({registry.source}){note}.",
                    f"{what} 在{where_zh}为 {shown} 提供服务，但该域名在备案登记中没有 ICP 备案。",
                    f"file {_registrable(host)} for ICP through Alibaba Cloud's filing system and wait for approval "
                    "before serving it from the mainland; or serve it from Hong Kong (region cn-hongkong, CDN scope "
                    "overseas), which needs no filing",
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
                _icp_finding(
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
                _icp_finding(
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
        elif options.access_provider not in site.access_providers:
            providers = ", ".join(site.access_providers) or "none"
            findings.append(
                _icp_finding(
                    exposure,
                    f"{what} serves {shown} in {where} on Alibaba Cloud, but filing {site.icp_number} lists only "
                    f"{providers} as access provider; Alibaba Cloud blocks domains not accessed through it{note}.",
                    f"{what} 在阿里云{where_zh}为 {shown} 提供服务，但备案 {site.icp_number} 的接入商不包含阿里云。",
                    "submit an access filing (新增接入) for this domain through Alibaba Cloud's filing system "
                    "(same ICP number) and record alibaba-cloud in access_providers once approved",
                    alibaba_error=err,
                    domain=host,
                )
            )
    return findings


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
    if not _applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = _what(exposure)
    for host, shown in _served_domains(exposure):
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
                _psb_finding(
                    exposure,
                    host,
                    "advisory",
                    f"{shown} ({what}) has no public-security (PSB) filing yet; it is due within "
                    f"{options.psb_grace_days} days of {since} ({launch.isoformat()}), by {deadline.isoformat()} "
                    f"({days_left} days left).",
                    f"{shown} 尚未办理公安联网备案；须在网站开通之日起 {options.psb_grace_days} 日内"
                    f"（{deadline.isoformat()} 前）完成。",
                    "file at the national Internet security filing platform (beian.mps.gov.cn), then record "
                    "psb_number and psb_filed in the registry and show the number in the footer",
                )
            )
        else:
            findings.append(
                _psb_finding(
                    exposure,
                    host,
                    "mandatory",
                    f"{shown} ({what}) is served from the mainland without a public-security (PSB) filing, "
                    f"{-days_left} days past the {options.psb_grace_days}-day deadline ({deadline.isoformat()}; "
                    f"launched {launch.isoformat()}); the penalty is a warning or shutdown for up to 6 months.",
                    f"{shown} 开通已超过 {options.psb_grace_days} 日仍未办理公安联网备案"
                    f"（截止 {deadline.isoformat()}），可被警告或停机整顿最长六个月。",
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


class _Wording(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class _OpenedService(_Wording):
    code: str = Field(pattern=r"^[AB][0-9]{1,2}$")
    excluding: _Wording | None = None


class _PilotFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # zones are read by _pilot_provinces

    source: str = Field(min_length=1)
    opened: tuple[_OpenedService, ...] = Field(min_length=1)


@functools.cache
def pilot_zone_scope() -> tuple[str, str]:
    """(English, Chinese): which services the pilot-zone notice opens to foreign ownership (``data/pilot_zones.yaml``):
    not all of B25, only the information services listed there."""
    data = datafiles.validated("pilot_zones", _PilotFile)
    outside = [s for s in data.opened if s.code != "B25"]
    info = [s for s in data.opened if s.code == "B25"]

    def en(s: _OpenedService) -> str:
        return s.en + (f" (excluding {s.excluding.en})" if s.excluding else "")

    def zh(s: _OpenedService) -> str:
        return s.zh + (f"（不含{s.excluding.zh}）" if s.excluding else "")

    english = (
        f"{data.source} lifts the foreign-ownership caps in the pilot zones only for "
        + ", ".join(f"{s.en} [{s.code}]" for s in outside)
        + ", and within information services (B25) only for "
        + " and ".join(en(s) for s in info)
        + ": not for all of B25"
    )
    chinese = (
        f"{data.source}仅在试点地区放开"
        + "、".join(s.zh for s in outside)
        + "，以及"
        + "、".join(zh(s) for s in info)
        + "的外资股比限制，并非全部 B25 业务"
    )
    return english, chinese


def _pilot_provinces(options: RuleOptions) -> tuple[str, ...]:
    """Province codes of the pilot zones (data file); ``options.pilot_zones`` narrows them by zone id."""
    from china_site import datafiles

    data = datafiles.load("pilot_zones")
    zones = data.get("zones", []) if isinstance(data, dict) else data
    codes: list[str] = []
    for zone in zones or ():
        if not isinstance(zone, dict) or zone.get("province") is None:
            continue
        if options.pilot_zones is not None and zone.get("id") not in options.pilot_zones:
            continue
        codes.append(str(zone["province"]).zfill(2))
    return tuple(dict.fromkeys(codes))


def check_commercial_permit(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not _applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = _what(exposure)
    for host, shown in _served_domains(exposure):
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
        if site is None:
            findings.append(
                _permit_finding(
                    exposure,
                    host,
                    need,
                    f"{shown} ({what}) takes payments on the mainland, but no filing entity is known for it, so no "
                    f"{label} can be found.",
                    f"{shown} 在中国内地提供收费服务，但未找到备案主体，无法确认 {label_zh}。",
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
                _permit_finding(
                    exposure,
                    host,
                    need,
                    f"{shown} ({what}) takes payments on the mainland, which needs a valid {label}, but {state}.",
                    f"{shown} 在中国内地提供收费服务，须持有有效的 {label_zh}，但未找到有效许可证。",
                    fix,
                )
            )
            continue
        if kind == "B25" and entity.ownership == "foreign-invested":
            pilots = _pilot_provinces(options)
            if entity.province not in pilots:
                findings.append(
                    _permit_finding(
                        exposure,
                        host,
                        need,
                        f"{shown} ({what}): entity '{entity.name}' is foreign-invested; a B25 commercial ICP permit "
                        "for foreign-invested enterprises is open only in the pilot zones (Beijing, Shanghai "
                        f"Lin-gang/Pudong, Shenzhen, Hainan), and its province ({entity.province}) is not one; "
                        f"even there, {pilot_zone_scope()[0]}.",
                        f"{shown}：外商投资企业仅可在试点地区（北京、上海临港/浦东、深圳、海南）取得 B25 经营许可证；"
                        f"{pilot_zone_scope()[1]}。",
                        "hold the permit through an entity registered in a pilot zone (for the services the notice "
                        "opens), or through a domestic partner",
                    )
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
    if site.domain_holder is not None and site.domain_holder.strip() != entity.name.strip():
        yield (
            f"is held by '{site.domain_holder}', not by the filing entity '{entity.name}'; the domain holder must "
            "be the filing entity.",
            f"的域名持有者（{site.domain_holder}）与备案主体（{entity.name}）不一致。",
            "transfer the domain to the filing entity at the registrar (holder change with real-name "
            "verification), then update domain_holder",
        )
    holders = domains.tld_holders(site.domain)
    if holders is not None and entity.type not in holders:
        note = domains.tld_note(site.domain) or "a restricted suffix"
        kinds = " or ".join(holders)
        yield (
            f"is under a restricted suffix ({note}); only a {kinds} entity may hold and file it, and the filing "
            f"entity '{entity.name}' is of type {entity.type}.",
            f"的后缀仅限特定主体注册（{kinds}），备案主体（{entity.name}）类型为 {entity.type}，不符合要求。",
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


def check_domain_eligible(
    exposure: Exposure, registry: FilingRegistry, today: dt.date, options: RuleOptions = RuleOptions()
) -> list[Finding]:
    if not _applies_mainland(exposure):
        return []
    findings: list[Finding] = []
    what = _what(exposure)
    for host, shown in _served_domains(exposure):
        if not domains.tld_approved(host, extra=options.approved_tlds, denied=options.denied_tlds):
            suffix = domains.tld_of(host)
            findings.append(
                _domain_finding(
                    exposure,
                    host,
                    "icp-filing",
                    f"{shown} ({what}) uses the suffix .{suffix}, which is not on MIIT's list of approved top-level "
                    "domains (.org, .dev and .tech are disputed and not approved by default), so it cannot be "
                    "ICP-filed.",
                    f"{shown} 的后缀 .{suffix} 不在工信部批准的顶级域名列表中，无法办理 ICP 备案。",
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
                _domain_finding(
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
    for host, shown in _served_domains(exposure):
        site = registry.covering(host)
        if site is None or registry.effective_status(site) != "approved":
            continue
        if options.access_provider not in site.access_providers:
            continue
        findings.append(
            _finding(
                FILED_DOMAIN_OFF_MAINLAND,
                "advisory",
                f"{shown} ({_what(exposure)}) is filed ({site.icp_number}) with Alibaba Cloud as access provider but "
                f"is served from {_where(exposure)}; Alibaba Cloud sends 'inaccurate access' notices and may remove "
                "the access record, leaving an empty filing.",
                f"{shown} 已通过阿里云备案，但解析到{_where_zh(exposure)}；可能收到接入信息不准确通知并被取消接入，"
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
    if not _applies_mainland(exposure):
        return []
    if exposure.icp_number_displayed is None and exposure.psb_number_displayed is None:
        return []
    findings: list[Finding] = []
    for host, shown in _served_domains(exposure):
        found = _approved_site(registry, host, today, options)
        if found is None:
            continue
        site, entity = found
        if exposure.icp_number_displayed is False:
            from china_site.footer import footer_numbers

            number = footer_numbers(site, entity, options)[0] or site.icp_number
            findings.append(
                _footer_finding(
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
                _footer_finding(
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

RULES: dict[str, Rule] = {
    ICP_FILING_REQUIRED: check_icp_filing,
    PSB_FILING_REQUIRED: check_psb_filing,
    COMMERCIAL_PERMIT_REQUIRED: check_commercial_permit,
    DOMAIN_ELIGIBLE: check_domain_eligible,
    FILED_DOMAIN_OFF_MAINLAND: check_filed_domain_off_mainland,
    ICP_NUMBER_DISPLAYED: check_icp_number_displayed,
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
    return _finding(
        FILING_REGISTRY_AVAILABLE,
        "mandatory",
        f"the filing registry {source} is a path relative to the Pulumi project, but the policy pack cannot tell "
        f"which folder the project is in ({reason}), so no mainland exposure can be checked",
        f"备案登记 {source} 是相对于 Pulumi 项目目录的路径，但策略包无法确定项目所在目录，"
        "因此无法核对任何内地资源的备案情况。请改用绝对路径或 oss:// 地址，"
        "或设置环境变量 CHINA_SITE_PROJECT_DIR 为项目目录。",
        "set china-site:filings (or the pack's `filings` policy config) to an absolute path or an oss://BUCKET/KEY "
        "URL, or set CHINA_SITE_PROJECT_DIR to the folder that holds Pulumi.yaml",
        link=MIIT_LINK,
    )


def registry_unavailable(error: Exception, source: str) -> Finding:
    """The fail-closed finding when the registry cannot be read or is invalid (never a silent pass)."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _finding(
        FILING_REGISTRY_AVAILABLE,
        "mandatory",
        f"the filing registry {source} cannot be used, so no mainland exposure can be checked: {detail}",
        f"备案登记 {source} 无法读取或校验失败，无法核对任何内地资源的备案情况。",
        "fix the registry (run `china-site filings validate " + source + "`) or point the `filings` setting "
        "(stack config china-site:filings) at a readable copy",
        link=MIIT_LINK,
    )
