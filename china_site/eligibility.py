"""Who may run what (DOMAIN.md, Amendments 2026-12-05, rules 5, 6, 7 and 13), as pure functions over the registry.

- **Foreign share and the pilot zones** (rule 6): value-added telecom other than e-commerce is capped at 50% foreign
  equity. A joint venture at or below 50% may hold B25 anywhere; above 50% (a WFOE included) only inside a pilot
  zone of 工信部通信函〔2024〕107号 at the zone's real granularity (Shenzhen, not Guangdong; Lin-gang and Pudong,
  not Shanghai), with MIIT's pilot approval. Sectors closed to foreign investment stay closed for any share.
  Data: ``data/pilot_zones.yaml``.
- **Pre-approvals** (rule 13, 前置审批): a regulated sector needs its regulator's approval before filing; the
  abolished ones are data with their date and source. Data: ``data/sectors.yaml``.
- **Self-operated sales** (rule 5): the strict default and the provincial announcements that relax it.
- **Domain holder** (rule 7): the entity, its legal representative, or with proof a shareholder or senior manager.

Each check returns ``(English, Chinese, fix)`` triples; :mod:`china_site.rules` turns them into findings.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles
from china_site.filings import Entity, Site
from china_site.model import RuleOptions

__all__ = [
    "Problem",
    "b25_foreign_problem",
    "closed_sector_problems",
    "domain_holder_problem",
    "entity_zone",
    "foreign_share_rule",
    "own_goods_note",
    "pilot_zone_scope",
    "pre_approval_problems",
    "sector_ids",
    "zone_provinces",
]

Problem = tuple[str, str, str]  # (English, Chinese, fix)


class _Wording(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class _OpenedService(_Wording):
    code: str = Field(pattern=r"^[AB][0-9]{1,2}$")
    excluding: _Wording | None = None


class _Zone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    province: str = Field(pattern=r"^[0-9]{2}$")
    city: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    districts: tuple[str, ...] = ()
    declared: bool = False
    scope_en: str = Field(min_length=1)
    scope_zh: str = Field(min_length=1)


class _PilotFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    source: str = Field(min_length=1)
    sources: dict[str, str] = Field(min_length=1)
    approval: _Wording
    excluded_sectors: tuple[str, ...]
    opened: tuple[_OpenedService, ...] = Field(min_length=1)
    zones: tuple[_Zone, ...] = Field(min_length=1)


class _Abolished(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: str = Field(pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
    source: str = Field(min_length=1)


class _Sector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    authority_en: str = Field(min_length=1)
    authority_zh: str = Field(min_length=1)
    approval_en: str = Field(min_length=1)
    approval_zh: str = Field(min_length=1)
    closed_to_foreign: bool
    abolished: _Abolished | None = None


class _SectorFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    sectors: dict[str, _Sector] = Field(min_length=1)


@functools.cache
def _pilots() -> _PilotFile:
    return datafiles.validated("pilot_zones", _PilotFile)


@functools.cache
def _sectors() -> dict[str, _Sector]:
    return datafiles.validated("sectors", _SectorFile).sectors


def sector_ids() -> frozenset[str]:
    """The sector ids a registry site may declare."""
    return frozenset(_sectors())


# ---------------------------------------------------------------------------------------------------------------
# Rule 6: foreign share and the pilot zones.


@functools.cache
def pilot_zone_scope() -> tuple[str, str]:
    """(English, Chinese): which services the pilot-zone notice opens above the 50% cap — not all of B25."""
    data = _pilots()
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
        f"{data.source.removeprefix('MIIT').strip()}仅在试点地区放开"
        + "、".join(s.zh for s in outside)
        + "，以及"
        + "、".join(zh(s) for s in info)
        + "的外资股比限制，并非全部 B25 业务"
    )
    return english, chinese


def _zones(options: RuleOptions) -> tuple[_Zone, ...]:
    zones = _pilots().zones
    if options.pilot_zones is None:
        return zones
    return tuple(z for z in zones if z.id in options.pilot_zones)


def _zone_list() -> tuple[str, str]:
    zones = _pilots().zones
    return "; ".join(z.scope_en for z in zones), "、".join(z.scope_zh for z in zones)


def _in_zone(entity: Entity, zone: _Zone) -> bool:
    if entity.province != zone.province:
        return False
    if zone.declared:
        return entity.pilot_zone == zone.id and (entity.district is None or entity.district in zone.districts)
    if zone.city is not None:
        city = entity.city or (entity.district[:4] if entity.district else None)
        return city == zone.city
    if zone.districts:
        return entity.district in zone.districts
    return True


def zone_provinces() -> dict[str, str]:
    """Pilot zone id → province code (for the registry's checks of ``pilot_zone``)."""
    return {zone.id: zone.province for zone in _pilots().zones}


def entity_zone(entity: Entity, options: RuleOptions = RuleOptions()) -> str | None:
    """The id of the pilot zone the entity is registered in (among those ``options`` allow), else None."""
    for zone in _zones(options):
        if _in_zone(entity, zone):
            return zone.id
    return None


def foreign_share_rule() -> tuple[str, str]:
    """(English, Chinese): the rule, stated exactly, for messages and ``advise``."""
    zones_en, zones_zh = _zone_list()
    scope_en, scope_zh = pilot_zone_scope()
    return (
        "B21 (e-commerce) is open up to 100% foreign equity; other value-added telecom, B25 included, is capped at "
        "50%: a joint venture with at most 50% foreign equity may hold B25 anywhere; above 50% (a wholly "
        f"foreign-owned enterprise included) only in the pilot zones ({zones_en}) with MIIT's pilot approval, and "
        f"there only in part: {scope_en}. News, publishing, audio-visual and internet culture stay closed to any "
        "foreign share",
        "电子商务（B21）外资股比可达 100%；B25 等其他增值电信业务外资股比不超过 50%：外资不超过 50% 的合资企业可在各地"
        f"取得 B25；外资超过 50%（含外商独资企业）仅可在试点地区（{zones_zh}）经工信部试点批复后取得，且仅限部分业务："
        f"{scope_zh}。新闻、出版、视听、网络文化业务对任何比例的外资均不开放",
    )


def _share_text(entity: Entity) -> tuple[str, str]:
    share = entity.foreign_share
    if isinstance(share, float):
        return f"{share:g}% foreign equity", f"外资股比 {share:g}%"
    if share is None:
        return (
            "foreign-invested with no foreign_share recorded (read as above 50%, the stricter reading)",
            "外商投资企业，未登记外资股比（按超过 50% 处理）",
        )
    return {
        "domestic": ("domestic", "内资"),
        "jv-50-or-less": ("a joint venture with at most 50% foreign equity", "外资不超过 50% 的合资企业"),
        "jv-over-50": ("a joint venture with more than 50% foreign equity", "外资超过 50% 的合资企业"),
        "wfoe": ("wholly foreign-owned (WFOE)", "外商独资企业"),
    }[share]


def _where(entity: Entity) -> tuple[str, str]:
    parts = [f"province {entity.province}"]
    if entity.city:
        parts.append(f"city {entity.city}")
    if entity.district:
        parts.append(f"district {entity.district}")
    if entity.pilot_zone:
        parts.append(f"pilot_zone {entity.pilot_zone}")
    text = ", ".join(parts)
    return text, text.replace("province", "省级代码").replace("city", "市级代码").replace(
        "district", "区县代码"
    ).replace("pilot_zone", "试点区域")


def b25_foreign_problem(entity: Entity, options: RuleOptions = RuleOptions()) -> Problem | None:
    """Why a B25 permit is out of reach for ``entity`` because of its foreign share, else None."""
    if not entity.foreign_over_half():
        return None
    share_en, share_zh = _share_text(entity)
    zones_en, zones_zh = _zone_list()
    zone = entity_zone(entity, options)
    if zone is None:
        where_en, where_zh = _where(entity)
        return (
            f"entity '{entity.name}' is {share_en}; above 50% foreign equity a B25 commercial ICP permit is open only "
            f"in the pilot zones ({zones_en}), and the entity ({where_en}) is not registered in one. A joint venture "
            "with at most 50% foreign equity may hold B25 anywhere.",
            f"主体（{entity.name}）为{share_zh}；外资超过 50% 时仅可在试点地区（{zones_zh}）取得 B25 经营许可证，"
            f"该主体（{where_zh}）不在试点地区内。外资不超过 50% 的合资企业可在各地取得 B25。",
            "hold the permit through an entity registered in a pilot zone (record its city, district or pilot_zone), "
            "or through a joint venture with at most 50% foreign equity (record foreign_share), or a domestic partner",
        )
    if not entity.pilot_approval:
        approval = _pilots().approval
        return (
            f"entity '{entity.name}' is {share_en} in pilot zone {zone}; above 50% foreign equity B25 also needs "
            f"{approval.en}, and the registry records no pilot_approval.",
            f"主体（{entity.name}）为{share_zh}，位于试点地区；外资超过 50% 取得 B25 还须{approval.zh}，"
            "备案清单文件未登记试点批复文号。",
            "record the approval number in the entity's pilot_approval field (apply to MIIT first if none is held)",
        )
    return None


def closed_sector_problems(site: Site, entity: Entity) -> list[Problem]:
    """Declared sectors closed to foreign investment, when the entity has any foreign share."""
    if not entity.foreign_any():
        return []
    share_en, share_zh = _share_text(entity)
    sectors = _sectors()
    out: list[Problem] = []
    for item in site.sectors:
        sector = sectors.get(item.sector)
        if sector is None or not sector.closed_to_foreign:
            continue
        out.append(
            (
                f"serves {sector.en}, which is closed to foreign investment whatever the share, and entity "
                f"'{entity.name}' is {share_en}; the pilot zones exclude it too.",
                f"提供{sector.zh}，该业务对任何比例的外资均不开放（试点地区亦不开放），而主体（{entity.name}）为"
                f"{share_zh}。",
                "run this service through a domestic entity without foreign equity (a Chinese partner), or remove "
                f"the sector '{item.sector}' from the site",
            )
        )
    return out


def pre_approval_problems(site: Site) -> list[Problem]:
    """Declared regulated sectors without their regulator's approval (pre-approvals not abolished)."""
    sectors = _sectors()
    out: list[Problem] = []
    for item in site.sectors:
        sector = sectors.get(item.sector)
        if sector is None or sector.abolished is not None or item.approval:
            continue
        out.append(
            (
                f"serves {sector.en}, which needs {sector.authority_en}'s approval ({sector.approval_en}) before the "
                "ICP filing (前置审批), and the registry records no approval number.",
                f"提供{sector.zh}，办理 ICP 备案前须经{sector.authority_zh}审批（{sector.approval_zh}），"
                "备案清单文件未登记审批文号。",
                f"obtain the {sector.approval_en} from {sector.authority_en}, then record it as approval of sector "
                f"'{item.sector}' in the registry",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Rule 5: self-operated sales (strict by default).


def own_goods_note() -> tuple[str, str]:
    """(English, Chinese): the disputed point and the option that relaxes it."""
    return (
        "ten provincial communications administrations (announcements on MIIT's site, e.g. Henan 2023) say a "
        "company selling its own or others' goods on its own site, with no third-party sellers, needs no value-added "
        "telecom permit, while the seed guidance requires one; china-site keeps the stricter reading by default: "
        "set own_goods: true on the site and the policy option ownGoodsNeedPermit: false to turn it off",
        "河南等十个省级通信管理局在工信部网站发布公告：企业在自有网站销售自有或他人商品、无第三方商家入驻的，无需"
        "办理增值电信业务许可；本工具默认从严要求许可证，可在站点设置 own_goods: true 并将策略选项 "
        "ownGoodsNeedPermit 设为 false 以关闭该要求",
    )


# ---------------------------------------------------------------------------------------------------------------
# Rule 7: the domain holder.


def domain_holder_problem(site: Site, entity: Entity) -> Problem | None:
    """Why the recorded domain holder may not hold a domain filed by ``entity``, else None."""
    holder = (site.domain_holder or "").strip()
    if not holder:
        return None
    role = site.domain_holder_role
    if holder == entity.name.strip() and role in (None, "entity"):
        return None
    legal = (entity.legal_representative or "").strip()
    if role in (None, "legal-representative") and legal and holder == legal:
        return None
    if role in ("shareholder", "senior-manager"):
        if site.domain_holder_proof:
            return None
        what_en = "a shareholder" if role == "shareholder" else "a senior manager"
        what_zh = "股东" if role == "shareholder" else "高级管理人员"
        return (
            f"is held by '{holder}', recorded as {what_en} of the filing entity '{entity.name}', but no proof of that "
            "tie is recorded; MIIT accepts a shareholder or senior manager as holder only with proof.",
            f"的域名持有者（{holder}）登记为备案主体（{entity.name}）的{what_zh}，但未登记相关证明材料。",
            "record the proof (e.g. the shareholder register or appointment document) in domain_holder_proof, or "
            "transfer the domain to the entity or its legal representative",
        )
    if role == "legal-representative":
        recorded = f"'{legal}'" if legal else "not recorded"
        return (
            f"is held by '{holder}', recorded as the legal representative, but the entity's legal representative is "
            f"{recorded}.",
            f"的域名持有者（{holder}）登记为法定代表人，但与备案主体登记的法定代表人不一致或未登记。",
            "record the entity's legal_representative as on its business licence, or correct domain_holder",
        )
    return (
        f"is held by '{holder}', not by the filing entity '{entity.name}' or its legal representative; MIIT accepts "
        "the entity, its legal representative, or with proof a shareholder or senior manager.",
        f"的域名持有者（{holder}）不是备案主体（{entity.name}）或其法定代表人；股东或高级管理人员持有须提供证明。",
        "transfer the domain to the filing entity (or its legal representative) at the registrar, or record "
        "domain_holder_role (shareholder or senior-manager) with domain_holder_proof",
    )
