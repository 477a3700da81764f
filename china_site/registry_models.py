"""The filing registry's models (DESIGN.md contract): permits, entities, sites and the registry with its lookups.

What lives here: :class:`Permit`, :class:`Entity`, :class:`SectorApproval`, :class:`Site` (each validating and
normalising its own fields), :class:`FilingRegistry` (entities by id and sites by registrable domain; its validator
runs :func:`china_site.registry_checks.cross_check`) with its lookups — :meth:`~FilingRegistry.covering`,
:meth:`~FilingRegistry.entity_of`, :meth:`~FilingRegistry.effective_status`, :meth:`~FilingRegistry.expiring` —
and the small types they return (:class:`Expiring`, :class:`FetchInfo`, :func:`days_after`). The field vocabulary
and validation helpers are in :mod:`china_site.registry_fields`; loading is :mod:`china_site.filings`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import PrivateAttr, field_validator, model_validator

from china_site import domains, numbers
from china_site.errors import ChinaSiteError, RegistryError
from china_site.registry_fields import (
    DomainHolderRole,
    EntityType,
    ForeignShareKind,
    Ownership,
    PermitKind,
    SiteStatus,
    _icp_of_kind,
    _Invalid,
    _iso_date,
    _Model,
    _none_to_empty,
    _parse_number,
    _Problems,
    _short,
    normalize_access_provider,
)
from china_site.safeio import clip

__all__ = [
    "Entity",
    "Expiring",
    "FetchInfo",
    "FilingRegistry",
    "Permit",
    "SectorApproval",
    "Site",
    "days_after",
]


class Permit(_Model):
    """A commercial permit (value-added telecom licence). B25 = information services (ICP), B21 = EDI/platforms."""

    number: str
    kind: PermitKind
    issued: dt.date
    expires: dt.date

    _NUMBER_FIELDS: ClassVar[Mapping[str, Callable[[str], Any]]] = {"number": numbers.parse_permit}
    _dates = field_validator("issued", "expires", mode="before")(_iso_date)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        permit: numbers.PermitNumber = _parse_number(numbers.parse_permit, value)
        return permit.normalized

    @model_validator(mode="after")
    def _check(self) -> Permit:
        if self.issued >= self.expires:
            raise _Invalid(
                f"expires {self.expires} is not after issued {self.issued}",
                fix="copy both dates from the licence (a permit is valid for 5 years from its issue date)",
                field="expires",
            )
        parsed = self.parsed()
        if self.kind == "B21" and parsed.form == "icp-cert":
            raise _Invalid(
                f"{self.number} is an ICP证 (B25 information services) licence, not a B21 (EDI) licence",
                fix="set kind: B25, or give the number of the B21 licence (…B2-nnnnnnnn)",
                field="kind",
            )
        if parsed.form == "licence" and "B2" not in parsed.categories:
            raise _Invalid(
                f"{self.number} covers categories {'.'.join(parsed.categories)}, without B2 (B21 EDI / B25 ICP)",
                fix="give the licence that covers category B2, or remove this permit",
                field="number",
            )
        return self

    def parsed(self) -> numbers.PermitNumber:
        parsed: numbers.PermitNumber = self._parsed_number("number", numbers.parse_permit)
        return parsed

    def valid_on(self, day: dt.date) -> bool:
        """Valid from ``issued`` through ``expires``, both days included (like waivers; DESIGN.md amendments)."""
        return self.issued <= day <= self.expires


class Entity(_Model):
    """The filing entity (主体): the company, person or body the filings and permits belong to."""

    name: str
    type: EntityType
    ownership: Ownership
    province: str  # two-digit GB/T 2260 code (YAML ints are accepted and converted)
    icp_number: str | None = None
    status: Literal["active", "cancelled"] = "active"  # cancelling the entity cancels all of its sites
    permits: tuple[Permit, ...] = ()
    # Optional (issue 20): where the entity is registered, for the pilot zones at their real granularity.
    city: str | None = None  # 4-digit GB/T 2260 code, e.g. 4403 (Shenzhen), 4401 (Guangzhou)
    district: str | None = None  # 6-digit GB/T 2260 code, e.g. 310115 (Pudong New Area)
    pilot_zone: str | None = None  # id of a zone in data/pilot_zones.yaml the entity is registered in
    pilot_approval: str | None = None  # MIIT's pilot approval (试点批复) number
    # Foreign equity: a kind or a percentage. None: domestic for ownership domestic; for foreign-invested the
    # stricter reading, above 50%.
    foreign_share: ForeignShareKind | float | None = None
    legal_representative: str | None = None  # may hold the domain (MIIT 2017 notice)

    _NUMBER_FIELDS: ClassVar[Mapping[str, Callable[[str], Any]]] = {"icp_number": numbers.parse_icp}
    _permits_none = field_validator("permits", mode="before")(_none_to_empty)

    @field_validator("city", "district", mode="before")
    @classmethod
    def _division(cls, value: object, info: Any) -> object:
        if value is None:
            return None
        digits = 4 if info.field_name == "city" else 6
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
        if text is None or not re.fullmatch(rf"[0-9]{{{digits}}}", text):
            example = "4403 for Shenzhen" if digits == 4 else "310115 for Pudong New Area"
            raise _Invalid(
                f"expected a {digits}-digit GB/T 2260 code, got {_short(value)}",
                fix=f"use the administrative division code, e.g. {example}",
            )
        return text

    @field_validator("foreign_share", mode="before")
    @classmethod
    def _foreign_share(cls, value: object) -> object:
        if value is None:
            return None
        fix = "give one of domestic, jv-50-or-less, jv-over-50, wfoe, or the foreign equity in percent (e.g. 49)"
        number: float
        if isinstance(value, str):
            text = value.strip()
            if text in ("domestic", "jv-50-or-less", "jv-over-50", "wfoe"):
                return text
            try:
                number = float(text.removesuffix("%").strip())
            except ValueError:
                raise _Invalid(f"foreign share {_short(value)} is neither a kind nor a percentage", fix=fix) from None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            raise _Invalid(f"foreign share {_short(value)} is neither a kind nor a percentage", fix=fix)
        if not 0 <= number <= 100:  # NaN and infinities included
            raise _Invalid(f"foreign share {_short(value)} is not between 0 and 100", fix=fix)
        return number

    @model_validator(mode="after")
    def _where(self) -> Entity:
        if self.city is not None and not self.city.startswith(self.province):
            raise _Invalid(
                f"city {self.city} is not in the entity's province {self.province}",
                fix="the first two digits of the city code are the province code: correct either",
                field="city",
            )
        if self.district is not None and not self.district.startswith(self.city or self.province):
            raise _Invalid(
                f"district {self.district} is not in {'city ' + self.city if self.city else 'the province'}",
                fix="the district code starts with its city code (e.g. 310115 in 3101): correct either",
                field="district",
            )
        return self

    def foreign_percent(self) -> float | None:
        """The foreign equity share as a bound: 0 (domestic), 50 (JV ≤50%), 100 (above 50%); None: unknown."""
        share = self.foreign_share
        if isinstance(share, float):
            return share
        if share is None:
            return 0.0 if self.ownership == "domestic" else None
        return {"domestic": 0.0, "jv-50-or-less": 50.0, "jv-over-50": 100.0, "wfoe": 100.0}[share]

    def foreign_over_half(self) -> bool:
        """Above the 50% cap (a WFOE, a majority JV, or foreign-invested with no share given: the strict reading)."""
        percent = self.foreign_percent()
        return percent is None or percent > 50

    def foreign_any(self) -> bool:
        """Any foreign equity at all (foreign-invested with no share given counts)."""
        percent = self.foreign_percent()
        return percent is None or percent > 0

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value:
            raise _Invalid("the name is empty", fix="give the entity's registered name, as on its business licence")
        return value

    @field_validator("province", mode="before")
    @classmethod
    def _province(cls, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Invalid(
                f"expected a two-digit province code, got {type(value).__name__}",
                fix="use the GB/T 2260 code of the entity's home province, e.g. 31 for Shanghai",
            )
        province: numbers.Province = _parse_number(numbers.province_by_code, value)  # type: ignore[arg-type]
        return province.code

    @field_validator("icp_number")
    @classmethod
    def _icp_number(cls, value: str | None) -> str | None:
        return _icp_of_kind(
            value,
            "icp-entity",
            lambda number: _Invalid(
                f"{number.normalized} is a website filing number (it ends in -{number.site_index}), "
                "but an entity holds the entity number",
                fix=f"use the entity number {number.base} here and put {number.normalized} on the site",
            ),
        )

    def icp(self) -> numbers.FilingNumber | None:
        """The parsed entity filing number, if any."""
        parsed: numbers.FilingNumber | None = self._parsed_number("icp_number", numbers.parse_icp)
        return parsed

    def province_info(self) -> numbers.Province:
        return numbers.province_by_code(self.province)

    def permits_of_kind(self, kind: PermitKind) -> tuple[Permit, ...]:
        return tuple(p for p in self.permits if p.kind == kind)


class SectorApproval(_Model):
    """A regulated sector the site serves, and the regulator's pre-approval (前置审批) number, when held."""

    sector: str
    approval: str | None = None


class Site(_Model):
    """One website filing: a registrable domain and everything served under it."""

    domain: str  # registrable domain, stored in ASCII (punycode) lower case
    entity: str
    icp_number: str | None = None
    status: SiteStatus
    approved: dt.date | None = None
    cancelled: dt.date | None = None
    access_providers: tuple[str, ...] = ()  # normalised: "aliyun" -> "alibaba-cloud"
    registrar_in_china: bool = False
    real_name_verified: bool = False
    launched: dt.date | None = None
    psb_number: str | None = None
    psb_filed: dt.date | None = None
    payments: bool | None = None  # optional hint: the site takes payments
    platform: bool | None = None  # optional hint: third-party sellers (needs B21)
    own_goods: bool | None = None  # optional hint: sells only its own goods (disputed: see ownGoodsNeedPermit)
    domain_holder: str | None = None  # optional: the domain's registered holder (must be the filing entity)
    domain_expires: dt.date | None = None  # optional: the domain registration's expiry date
    # Optional (issue 20). Who the holder is to the entity: the entity itself, its legal representative, or (with
    # proof recorded) a shareholder or senior manager (MIIT 2017 notice).
    domain_holder_role: DomainHolderRole | None = None
    domain_holder_proof: str | None = None  # what proves a shareholder's / senior manager's tie (document, id)
    # Regulated sectors (data/sectors.yaml) and their pre-approvals (前置审批): {sector: news, approval: "…"}.
    sectors: tuple[SectorApproval, ...] = ()
    submitted: dt.date | None = None  # the day the ICP filing was submitted
    real_name_verified_on: dt.date | None = None  # the day the domain's real-name verification completed

    _NUMBER_FIELDS: ClassVar[Mapping[str, Callable[[str], Any]]] = {
        "icp_number": numbers.parse_icp,
        "psb_number": numbers.parse_psb,
    }
    _dates = field_validator(
        "approved",
        "cancelled",
        "launched",
        "psb_filed",
        "submitted",
        "real_name_verified_on",
        mode="before",
    )(_iso_date)
    _sectors_none = field_validator("sectors", mode="before")(_none_to_empty)

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, value: tuple[SectorApproval, ...]) -> tuple[SectorApproval, ...]:
        from china_site.eligibility import sector_ids

        known = sector_ids()
        for item in value:
            if item.sector not in known:
                raise _Invalid(
                    f"unknown sector {_short(item.sector)}",
                    fix=f"use one of {', '.join(sorted(known))} (china_site/data/sectors.yaml)",
                )
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        host = value.strip().rstrip(".")
        fix = "give the registrable domain the filing is for, e.g. example.cn or shop.com.cn"
        if not host:
            raise _Invalid("the domain is empty", fix=fix)
        if domains.is_ip(host):
            raise _Invalid(f"{_short(value)} is an IP address; a filing entry is for a domain name", fix=fix)
        try:
            ascii_host = domains.to_ascii(host).lower()
            registrable = domains.registrable_domain(ascii_host)
        except ChinaSiteError as err:
            raise _Invalid(f"{_short(value)}: {clip(err.what, 200)}", fix=err.fix or fix) from None
        if registrable != ascii_host:
            raise _Invalid(
                f"{_short(value)} is a subdomain of {registrable}; filings are per registrable domain and cover "
                "all of its subdomains",
                fix=f"use domain: {registrable}",
            )
        return ascii_host

    @field_validator("entity")
    @classmethod
    def _entity(cls, value: str) -> str:
        if not value:
            raise _Invalid("the entity id is empty", fix="give the id of an entry under 'entities'")
        return value

    @field_validator("icp_number")
    @classmethod
    def _icp_number(cls, value: str | None) -> str | None:
        return _icp_of_kind(
            value,
            "icp-site",
            lambda number: _Invalid(
                f"{number.normalized} is an entity filing number; a site has its own number ending in -n",
                fix=f"use the website number shown on beian.miit.gov.cn, e.g. {number.normalized}-1",
            ),
        )

    @field_validator("psb_number", mode="before")
    @classmethod
    def _psb_before(cls, value: object) -> object:
        # A bare 14-digit (or legacy 12-digit) PSB number is read by YAML as an integer.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("psb_number")
    @classmethod
    def _psb_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        number: numbers.PsbNumber = _parse_number(numbers.parse_psb, value)
        return number.normalized

    @field_validator("access_providers", mode="before")
    @classmethod
    def _providers_before(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("access_providers")
    @classmethod
    def _providers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for name in value:
            canonical = normalize_access_provider(name)
            if not canonical:
                raise _Invalid("an access provider name is empty", fix="e.g. access_providers: [alibaba-cloud]")
            if canonical not in out:
                out.append(canonical)
        return tuple(out)

    def icp(self) -> numbers.FilingNumber | None:
        """The parsed website filing number, if any."""
        parsed: numbers.FilingNumber | None = self._parsed_number("icp_number", numbers.parse_icp)
        return parsed

    def psb(self) -> numbers.PsbNumber | None:
        """The parsed PSB number, if any (``.digits``, ``.link``)."""
        parsed: numbers.PsbNumber | None = self._parsed_number("psb_number", numbers.parse_psb)
        return parsed

    @property
    def domain_unicode(self) -> str:
        """The domain as people write it (IDN decoded), for messages."""
        try:
            return domains.to_unicode(self.domain)
        except ChinaSiteError:
            return self.domain

    def psb_deadline(self, grace_days: int = 30) -> dt.date | None:
        """Last day to file with the PSB (launch + ``grace_days``), or None when not launched."""
        return days_after(self.launched, grace_days) if self.launched else None


def days_after(day: dt.date, days: int) -> dt.date:
    """``day + days``, stopping at the last day of the calendar (``launched: 9999-12-31`` is a valid date, and
    every command must take the registries ``filings validate`` accepts)."""
    if days >= (dt.date.max - day).days:
        return dt.date.max
    if -days >= (day - dt.date.min).days:
        return dt.date.min
    return day + dt.timedelta(days=days)


class Expiring(NamedTuple):
    """One row of :meth:`FilingRegistry.expiring`."""

    kind: Literal["permit", "psb", "domain"]
    subject: str  # permit: "<entity id>: <number> (<kind>)"; psb: the domain (ASCII)
    date: dt.date  # the permit's expiry, or the last day of the PSB 30-day window


@dataclass(frozen=True)
class FetchInfo:
    """How a remote registry was obtained (``FilingRegistry.fetch``); None for local files."""

    url: str
    status: int | None  # 200 downloaded, 304 not modified (cache used), None: server not reached
    from_cache: bool
    etag: str | None
    offline: bool = False  # the server could not be reached and the cached copy was used (opt-in)
    cache_file: str | None = None


class FilingRegistry(_Model):
    """The whole registry: entities by id, and sites (one per registrable domain)."""

    version: Literal[1] = 1
    entities: dict[str, Entity] = {}  # noqa: RUF012 - a pydantic field (pydantic copies the default)
    sites: tuple[Site, ...] = ()
    source: str = "<memory>"  # where it was loaded from (set by the loaders; not part of the file format)

    # domain → site, built once per ``sites`` tuple (rebuilt if a copy replaced the tuple).
    _index: tuple[tuple[Site, ...], dict[str, Site]] | None = PrivateAttr(default=None)
    _warnings: tuple[str, ...] = PrivateAttr(default=())
    _fetch: FetchInfo | None = PrivateAttr(default=None)

    FILE_KEYS: ClassVar[tuple[str, ...]] = ("version", "entities", "sites")

    _sites_none = field_validator("sites", mode="before")(_none_to_empty)

    @field_validator("entities", mode="before")
    @classmethod
    def _entities_none(cls, value: object) -> object:
        return {} if value is None else value

    @model_validator(mode="after")
    def _check(self) -> FilingRegistry:
        from china_site.registry_checks import cross_check

        problems, warnings = cross_check(self)
        if problems:
            raise _Problems(self.source, problems)
        self._index = (self.sites, {site.domain: site for site in self.sites})
        self._warnings = tuple(warnings)
        return self

    # -- lookups ---------------------------------------------------------------------------------------------------

    @property
    def warnings(self) -> tuple[str, ...]:
        """Non-fatal findings: alias province characters, numbers without 号, an offline cached copy, …"""
        return self._warnings

    @property
    def fetch(self) -> FetchInfo | None:
        """For a registry loaded from oss:// or s3://: status, ETag and whether the cache was used."""
        return self._fetch

    def _site_index(self) -> dict[str, Site]:
        # Private attributes are read through pydantic's ``__getattr__`` (slow on a hot path): read the storage once.
        private = self.__pydantic_private__
        sites = self.sites
        index = private.get("_index") if private is not None else None
        if index is None or index[0] is not sites:
            index = (sites, {site.domain: site for site in sites})
            self._index = index
        return index[1]

    def covering(self, host: str) -> Site | None:
        """The site entry whose registrable domain covers ``host`` (any subdomain), else None.

        Time proportional to the number of labels in ``host``: the host and each parent suffix are looked up in a
        dict built once. A leading ``*.`` (wildcard certificate/CDN name) is ignored; IP addresses and names that
        are not valid host names are covered by nothing.
        """
        name = _lookup_name(host)
        if name is None:
            return None
        index = self._site_index()
        start = 0
        while True:
            site = index.get(name[start:])
            if site is not None:
                return site
            dot = name.find(".", start)
            if dot < 0:
                return None
            start = dot + 1

    def entity_of(self, site: Site) -> Entity:
        """The entity a site belongs to (always exists in a validated registry)."""
        try:
            return self.entities[site.entity]
        except KeyError:
            raise RegistryError(
                f"unknown entity {_short(site.entity)}",
                source=self.source,
                entry=f"site {site.domain}",
                field="entity",
                fix="use a site of this registry, or add the entity under 'entities'",
            ) from None

    def sites_of(self, entity_id: str) -> tuple[Site, ...]:
        """The sites filed under ``entity_id`` (empty for an unknown id)."""
        return tuple(site for site in self.sites if site.entity == entity_id)

    def effective_status(self, site: Site) -> SiteStatus:
        """The site's status, with a cancelled entity cancelling all of its sites (DOMAIN.md rule 9)."""
        entity = self.entities.get(site.entity)
        if entity is None or entity.status == "cancelled":
            return "cancelled"
        return site.status

    def expiring(self, within_days: int, today: dt.date, *, psb_grace_days: int = 30) -> list[Expiring]:
        """Deadlines due by ``today + within_days`` (already-passed ones included), soonest first.

        - ``("permit", "<entity id>: <number> (<kind>)", expires)`` for each permit of an active entity that
          expires by then;
        - ``("psb", domain, last_day)`` for each effectively approved, launched site without a PSB number whose
          ``psb_grace_days`` window (from launch) ends by then;
        - ``("domain", domain, expires)`` for each site whose ``domain_expires`` falls by then.
        """
        horizon = days_after(today, within_days)
        rows: list[Expiring] = []
        for entity_id, entity in self.entities.items():
            if entity.status == "cancelled":
                continue
            rows.extend(
                Expiring("permit", f"{entity_id}: {p.number} ({p.kind})", p.expires)
                for p in entity.permits
                if p.expires <= horizon
            )
        for site in self.sites:
            if site.domain_expires is not None and site.domain_expires <= horizon:
                rows.append(Expiring("domain", site.domain, site.domain_expires))
            if site.psb_number or self.effective_status(site) != "approved":
                continue
            deadline = site.psb_deadline(psb_grace_days)
            if deadline is not None and deadline <= horizon:
                rows.append(Expiring("psb", site.domain, deadline))
        rows.sort(key=lambda row: (row.date, row.kind, row.subject))
        return rows


def _lookup_name(host: str) -> str | None:
    name = host.strip().rstrip(".").lower()
    if name.startswith("*."):
        name = name[2:]
    if not name:
        return None
    if not name.isascii():
        try:
            name = domains.to_ascii(name).lower()
        except ChinaSiteError:
            return None
    return name
