"""The filing registry's cross-field checks (split from :mod:`china_site.filings` at the models/checks seam).

:func:`cross_check` runs once per registry, from :class:`~china_site.filings.FilingRegistry`'s validator, after every
field has been parsed: the numbers against the entity's province and number, the statuses against their dates, the
foreign share against the ownership and the pilot zone against its province (fatal problems); alias characters and
the consistency notes of :mod:`china_site.consistency` (warnings).
"""

from __future__ import annotations

from china_site import consistency, numbers
from china_site.registry_fields import _Problem, _province_name, _short
from china_site.registry_models import Entity, FilingRegistry, Site

__all__ = ["cross_check"]


def _base_key(number: numbers.FilingNumber) -> tuple[str | None, str]:
    """The entity number, independent of alias province characters (川ICP备… and 蜀ICP备… are the same)."""
    char = number.province_char
    if char and number.base.startswith(char):
        return number.province_code, number.base[len(char) :]
    return number.province_code, number.base


def _site_entry(index: int, site: Site) -> str:
    return f"sites[{index}] ({site.domain_unicode})"


def _foreign_problems(entry: str, entity: Entity) -> list[_Problem]:
    """The foreign share against the ownership, and the pilot zone against the data file and the province."""
    out: list[_Problem] = []
    percent = entity.foreign_percent() if entity.foreign_share is not None else None
    if entity.ownership == "domestic" and percent is not None and percent > 0:
        out.append(
            _Problem(
                entry,
                "foreign_share",
                f"ownership is 'domestic' but foreign_share is {entity.foreign_share}",
                "set ownership: foreign-invested (any foreign equity makes a foreign-invested enterprise), or "
                "correct foreign_share",
            )
        )
    if entity.ownership != "domestic" and percent == 0:
        out.append(
            _Problem(
                entry,
                "foreign_share",
                f"ownership is {entity.ownership!r} but foreign_share says no foreign equity",
                "set ownership: domestic, or give the foreign equity (a percentage, jv-50-or-less, jv-over-50 or wfoe)",
            )
        )
    if entity.pilot_zone is not None:
        from china_site.eligibility import zone_provinces

        zones = zone_provinces()
        if entity.pilot_zone not in zones:
            out.append(
                _Problem(
                    entry,
                    "pilot_zone",
                    f"unknown pilot zone {_short(entity.pilot_zone)}",
                    f"use one of {', '.join(sorted(zones))} (china_site/data/pilot_zones.yaml), or remove it",
                )
            )
        elif zones[entity.pilot_zone] != entity.province:
            out.append(
                _Problem(
                    entry,
                    "pilot_zone",
                    f"pilot zone {entity.pilot_zone} lies in {_province_name(zones[entity.pilot_zone])}, not in the "
                    f"entity's province ({_province_name(entity.province)})",
                    "correct the pilot zone or the entity's province",
                )
            )
    return out


def cross_check(reg: FilingRegistry) -> tuple[list[_Problem], list[str]]:
    """Problems (fatal: the registry is invalid) and warnings (alias characters, consistency notes) across fields and
    entries; called once by :class:`FilingRegistry`'s validator."""
    problems: list[_Problem] = []
    warnings: list[str] = []
    source = reg.source

    def warn(entry: str, field: str, text: str) -> None:
        warnings.append(f"{source}, {entry}, field '{field}': {text.rstrip('.')}.")

    no_filing_fix = (
        "an entity with no PRC legal entity cannot file (DOMAIN.md rule 6): set up a PRC entity "
        "(WFOE or joint venture) and file under it with ownership: foreign-invested, or host in Hong Kong"
    )
    province_fix = (
        "the character is the entity's home province (not the server's location): correct the number or the "
        "entity's province"
    )

    for entity_id, entity in reg.entities.items():
        entry = f"entities.{entity_id}"
        for field, text in entity._number_warnings:
            warn(entry, field, text)
        if entity.ownership == "foreign":
            if entity.icp_number:
                problems.append(
                    _Problem(
                        entry,
                        "icp_number",
                        "an entity with ownership 'foreign' cannot hold an ICP filing",
                        no_filing_fix,
                    )
                )
            if entity.permits:
                problems.append(
                    _Problem(
                        entry,
                        "permits",
                        "an entity with ownership 'foreign' cannot hold a commercial permit",
                        no_filing_fix,
                    )
                )
        problems.extend(_foreign_problems(entry, entity))
        for note in consistency.entity_notes(entity):
            warn(entry, note.field, f"{note.en} / {note.zh}")
        icp = entity.icp()
        if icp is not None and icp.province_code and icp.province_code != entity.province:
            problems.append(
                _Problem(
                    entry,
                    "icp_number",
                    f"{entity.icp_number} carries the character {icp.province_char!r} "
                    f"({_province_name(icp.province_code)}) but the entity's province is "
                    f"{_province_name(entity.province)}",
                    province_fix,
                )
            )
        for j, permit in enumerate(entity.permits):
            permit_entry = f"{entry}.permits[{j}] ({permit.number})"
            for field, text in permit._number_warnings:
                warn(permit_entry, field, text)
            parsed = permit.parsed()
            if parsed.province_code and parsed.province_code != entity.province:
                problems.append(
                    _Problem(
                        permit_entry,
                        "number",
                        f"the permit was issued by {_province_name(parsed.province_code)} but the entity's province "
                        f"is {_province_name(entity.province)}",
                        "a provincial permit is issued by the entity's home province: correct the number or the "
                        "entity's province",
                    )
                )

    seen: dict[str, int] = {}
    for i, site in enumerate(reg.sites):
        # The entry's name (an IDNA round trip) is built only when there is something to report.
        for field, text in site._number_warnings:
            warn(_site_entry(i, site), field, text)
        if site.domain in seen:
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "domain",
                    f"{site.domain_unicode} is already listed as sites[{seen[site.domain]}]",
                    "keep one entry per registrable domain (merge the two entries)",
                )
            )
        else:
            seen[site.domain] = i

        if site.status == "approved":
            if site.approved is None:
                problems.append(
                    _Problem(
                        _site_entry(i, site),
                        "approved",
                        "status 'approved' needs the approval date",
                        "add approved: YYYY-MM-DD (the date of the MIIT record), or set status: pending",
                    )
                )
            if site.icp_number is None:
                problems.append(
                    _Problem(
                        _site_entry(i, site),
                        "icp_number",
                        "status 'approved' needs the website filing number",
                        "add icp_number as shown on beian.miit.gov.cn, e.g. 沪ICP备2021012345号-1",
                    )
                )
        if site.cancelled is not None and site.status != "cancelled":
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "cancelled",
                    f"a cancellation date is given but the status is {site.status!r}",
                    "set status: cancelled, or remove the cancellation date",
                )
            )
        for note in consistency.site_notes(site):
            warn(_site_entry(i, site), note.field, f"{note.en} / {note.zh}")
        if site.psb_filed is not None and site.psb_number is None:
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "psb_number",
                    "psb_filed is set but the PSB number is missing",
                    "add psb_number as shown on beian.mps.gov.cn (e.g. 沪公网安备31011502012345号), or remove "
                    "psb_filed",
                )
            )

        found = reg.entities.get(site.entity)
        if found is None:
            known = ", ".join(sorted(reg.entities)) or "none defined"
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "entity",
                    f"unknown entity {_short(site.entity)}",
                    f"use the id of an entry under 'entities' (known: {known}) or add it there",
                )
            )
            continue
        entity = found
        if entity.ownership == "foreign":
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "entity",
                    f"entity {_short(site.entity)} has ownership 'foreign' and cannot hold a website filing",
                    no_filing_fix,
                )
            )
        icp = site.icp()
        if icp is not None:
            if icp.province_code and icp.province_code != entity.province:
                problems.append(
                    _Problem(
                        _site_entry(i, site),
                        "icp_number",
                        f"{site.icp_number} carries the character {icp.province_char!r} "
                        f"({_province_name(icp.province_code)}) but entity {_short(site.entity)} is in "
                        f"{_province_name(entity.province)}",
                        province_fix,
                    )
                )
            entity_icp = entity.icp()
            if entity_icp is not None and _base_key(icp) != _base_key(entity_icp):
                problems.append(
                    _Problem(
                        _site_entry(i, site),
                        "icp_number",
                        f"{site.icp_number} is not under the number of entity {_short(site.entity)}, "
                        f"{entity.icp_number} "
                        f"(its base is {icp.base})",
                        f"a website number is the entity number plus '-n' ({entity.icp_number}-n): correct either "
                        "number, or file the site under the right entity",
                    )
                )
        psb = site.psb()
        if psb is not None and psb.province_code != entity.province:
            problems.append(
                _Problem(
                    _site_entry(i, site),
                    "psb_number",
                    f"digits 1-2 of {site.psb_number} ({_province_name(psb.province_code)}) are not the entity's "
                    f"province ({_province_name(entity.province)})",
                    "the digits start with the code of the police bureau where the entity is: copy the number "
                    "from beian.mps.gov.cn, or correct the entity's province",
                )
            )
    return problems, warnings
