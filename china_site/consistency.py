"""Registry consistency (DOMAIN.md, Amendments 2026-12-05, new rule 14): dates that contradict the filing rules.

Advisory, never a validation error: an old registry stays valid. ``filings validate`` lists them among the registry's
warnings (:func:`entity_notes`, :func:`site_notes` through :mod:`china_site.filings`), and the policy pack reports
them for the sites a resource serves (``filing-registry-consistent``, through :func:`china_site.rules`).

- a permit longer than 5 years (a value-added telecom permit is valid 5 years, Order 42) [B];
- ``launched`` before ``approved``: serving before the ICP approval is itself a violation (rule 3) [A];
- a PSB filing dated before the launch: the PSB filing follows the launch [A];
- real-name verification less than 3 calendar days before the filing was submitted (``submitted``, else the
  approval date) [A-Tencent; 3 working days for a domain from another registrar].
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from china_site.filings import Entity, Permit, Site

__all__ = ["PERMIT_YEARS", "REAL_NAME_DAYS", "Note", "entity_notes", "site_notes"]

PERMIT_YEARS = 5
REAL_NAME_DAYS = 3


class Note(NamedTuple):
    """One inconsistency: the registry field, English, Chinese, and the fix."""

    field: str
    en: str
    zh: str
    fix: str


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def _permit_note(index: int, permit: Permit) -> Note | None:
    limit = _years_after(permit.issued, PERMIT_YEARS)
    if permit.expires <= limit:
        return None
    return Note(
        f"permits[{index}].expires",
        f"permit {permit.number} runs from {permit.issued} to {permit.expires}, longer than the {PERMIT_YEARS} years "
        f"a value-added telecom permit is valid (it would end on {limit})",
        f"许可证 {permit.number} 有效期自 {permit.issued} 至 {permit.expires}，超过增值电信业务经营许可证 "
        f"{PERMIT_YEARS} 年的有效期（应不晚于 {limit}，含当日）",
        "copy both dates from the licence; a renewed permit is a new entry with its own dates",
    )


def entity_notes(entity: Entity) -> list[Note]:
    """The entity's inconsistencies (its permits' validity)."""
    return [note for i, p in enumerate(entity.permits) if (note := _permit_note(i, p)) is not None]


def site_notes(site: Site) -> list[Note]:
    """The site's inconsistencies: launch before approval, PSB before launch, real-name verification too late."""
    notes: list[Note] = []
    if site.launched is not None and site.approved is not None and site.launched < site.approved:
        notes.append(
            Note(
                "launched",
                f"launched {site.launched} is before the ICP approval of {site.approved}: serving a site before its "
                "filing is approved is itself a violation",
                f"网站开通日期 {site.launched} 早于 ICP 备案通过日期 {site.approved}：备案通过前开通网站本身即属违规",
                "correct the dates if they are wrong; otherwise keep the site unreachable until the approval next time",
            )
        )
    if site.psb_filed is not None and site.launched is not None and site.psb_filed < site.launched:
        notes.append(
            Note(
                "psb_filed",
                f"the PSB filing of {site.psb_filed} is dated before the launch on {site.launched}; the "
                "public-security filing follows the launch",
                f"公安联网备案日期 {site.psb_filed} 早于网站开通日期 {site.launched}；公安备案应在网站开通后办理",
                "correct psb_filed or launched from the records (beian.mps.gov.cn shows the filing date)",
            )
        )
    filed = site.submitted or site.approved
    if site.real_name_verified_on is not None and filed is not None:
        days = (filed - site.real_name_verified_on).days
        if days < REAL_NAME_DAYS:
            what = "submitted" if site.submitted else "approved"
            notes.append(
                Note(
                    "real_name_verified_on",
                    f"the domain's real-name verification on {site.real_name_verified_on} is {days} day(s) before the "
                    f"filing was {what} ({filed}); filing needs it completed at least {REAL_NAME_DAYS} calendar days "
                    "earlier (3 working days for a domain from another registrar)",
                    f"域名实名认证日期 {site.real_name_verified_on} 距备案{'提交' if site.submitted else '通过'}日期 "
                    f"{filed} 仅 {days} 日；须在备案前至少 {REAL_NAME_DAYS} 个自然日完成实名认证"
                    "（其他注册商的域名为 3 个工作日）",
                    "correct the dates from the registrar's and the filing system's records",
                )
            )
    return notes
