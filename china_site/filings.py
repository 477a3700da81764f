"""The filing registry (DESIGN.md contract): pydantic v2 models, cross-field checks, lookup and loaders.

The registry is outside data: every key is checked (unknown keys are rejected), every number is parsed by
:mod:`china_site.numbers` and stored in its normalised form, domains are stored as ASCII (punycode) lower-case
registrable domains, access providers under one canonical name (``aliyun`` → ``alibaba-cloud``).

The cross-field checks live in :mod:`china_site.registry_checks` (run by :class:`FilingRegistry`'s validator).
Every problem found — field errors and cross-field errors alike — ends up in ONE
:class:`~china_site.errors.RegistryError`: its message is one line naming the first problem (source, entry, field,
how to fix) and a count of the others; ``.problems`` lists them all, one line each. Non-fatal findings (alias
province characters, a number without its closing 号, a cached copy used offline) are in
:attr:`FilingRegistry.warnings`.

Sources (:func:`load_registry`): a local path (``.json`` is JSON; ``.yaml``/``.yml``/anything else YAML),
``oss://BUCKET/KEY`` (Alibaba Cloud OSS through its S3-compatible API, see :mod:`china_site.oss`) and
``s3://BUCKET/KEY`` (boto3's own settings, e.g. ``AWS_ENDPOINT_URL``). Remote objects are cached on disk with their
ETag and re-validated with ``If-None-Match`` on every load; an unreachable server fails closed unless
``CHINA_SITE_REGISTRY_OFFLINE_CACHE=1`` allows the last cached copy (said in a warning). boto3 is imported only
when a remote source is loaded. A local file whose bytes were already loaded in this process (same source) is not
parsed again (:func:`clear_registry_cache`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticUndefined

from china_site import domains, numbers
from china_site.errors import ChinaSiteError, RegistryError
from china_site.safeio import (
    MAX_DEPTH,
    DatesAsWrittenLoader,
    NestingError,
    NumberTooLongError,
    UniqueKeys,
    clip,
    load_json,
    read_capped,
)

__all__ = [
    "ACCESS_PROVIDER_ALIASES",
    "Entity",
    "Expiring",
    "FetchInfo",
    "FilingRegistry",
    "Permit",
    "SectorApproval",
    "Site",
    "clear_registry_cache",
    "decode_registry",
    "default_cache_dir",
    "load_registry",
    "normalize_access_provider",
    "parse_registry",
]

EntityType = Literal["enterprise", "individual", "government", "institution", "other"]
Ownership = Literal["domestic", "foreign-invested", "foreign"]
SiteStatus = Literal["approved", "pending", "cancelled"]
PermitKind = Literal["B25", "B21"]
# The foreign equity share, as a kind or a percentage (0–100): domestic (none), a joint venture with at most 50%,
# a joint venture above 50%, a wholly foreign-owned enterprise (WFOE, 100%).
ForeignShareKind = Literal["domestic", "jv-50-or-less", "jv-over-50", "wfoe"]
DomainHolderRole = Literal["entity", "legal-representative", "shareholder", "senior-manager"]

OFFLINE_CACHE_ENV = "CHINA_SITE_REGISTRY_OFFLINE_CACHE"
CACHE_DIR_ENV = "CHINA_SITE_CACHE_DIR"
# A registry is usually a few KB; a 100,000-site one is ~36 MB of JSON. Anything larger is not a registry.
MAX_REGISTRY_BYTES = 256 * 1024 * 1024

# --- access providers ---------------------------------------------------------------------------------------------

# Canonical name → accepted spellings (compared after lower-casing and turning spaces/underscores/dots into dashes).
_PROVIDERS: dict[str, tuple[str, ...]] = {
    "alibaba-cloud": (
        "aliyun",
        "alibaba",
        "alibabacloud",
        "alicloud",
        "ali-cloud",
        "aliyun-com",
        "阿里云",
        "阿里巴巴云",
    ),
    "tencent-cloud": ("qcloud", "tencent", "tencentcloud", "腾讯云"),
    "huawei-cloud": ("huawei", "huaweicloud", "hwcloud", "华为云"),
    "baidu-cloud": ("baidu", "baiducloud", "baidu-ai-cloud", "bce", "百度云", "百度智能云"),
    "jd-cloud": ("jdcloud", "京东云"),
    "volcengine": ("volcano-engine", "火山引擎"),
    "ctyun": ("天翼云",),
    "ksyun": ("kingsoft-cloud", "金山云"),
    "ucloud": ("优刻得",),
}


def _dashed(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "-", name.strip().lower()).strip("-")


ACCESS_PROVIDER_ALIASES: dict[str, str] = {
    _dashed(alias): canonical for canonical, aliases in _PROVIDERS.items() for alias in (canonical, *aliases)
}


def normalize_access_provider(name: str) -> str:
    """``"Alibaba Cloud"``/``aliyun``/``阿里云`` → ``alibaba-cloud``; unknown names lower-case-dashed."""
    dashed = _dashed(name)
    return ACCESS_PROVIDER_ALIASES.get(dashed, dashed)


# --- validation helpers -------------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """A field error raised by our validators; carries the fix (and optionally the field it belongs to)."""

    def __init__(self, what: str, *, fix: str | None = None, field: str | None = None) -> None:
        self.what = what
        self.fix = fix
        self.field = field
        super().__init__(what)


@dataclass(frozen=True)
class _Problem:
    entry: str | None
    field: str | None
    what: str
    fix: str | None = None

    def error(self, source: str, **extra: Any) -> RegistryError:
        return RegistryError(self.what, source=source, entry=self.entry, field=self.field, fix=self.fix, **extra)


class _Problems(ValueError):
    """Raised by the registry's cross-field check; carries every problem found."""

    def __init__(self, source: str, problems: list[_Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("; ".join(p.error(source).line() for p in problems))


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_FIX = "write the date as YYYY-MM-DD, e.g. 2021-06-01"


def _iso_date(value: object) -> object:
    """Dates: a YAML date or an ISO ``YYYY-MM-DD`` string; not a timestamp, a date-time or a number."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise _Invalid(f"expected a date, got a date and time ({value.isoformat()})", fix=_DATE_FIX)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise _Invalid(f"{_short(text)} is not a calendar date", fix=_DATE_FIX) from None
        raise _Invalid(f"{_short(value)} is not an ISO date", fix=_DATE_FIX)
    raise _Invalid(f"expected an ISO date, got {type(value).__name__} {_short(value)}", fix=_DATE_FIX)


def _none_to_empty(value: object) -> object:
    """``entities:``/``sites:``/``permits:`` left empty in YAML read as an empty collection."""
    return () if value is None else value


def _parse_number(parser: Callable[[str], Any], value: str) -> Any:
    try:
        return parser(value)
    except numbers.NumberError as err:
        what = f"{err.where}: {err.what}" if err.where else err.what
        raise _Invalid(what, fix=err.fix) from None


def _number_warnings(data: object, fields: Mapping[str, Callable[[str], Any]]) -> tuple[tuple[str, str], ...]:
    """Warnings the number parsers give for the numbers as written (``(field, warning)``)."""
    if not isinstance(data, Mapping):
        return ()
    out: list[tuple[str, str]] = []
    for name, parser in fields.items():
        raw = data.get(name)
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, str) and raw.strip():
            out.extend((name, w) for w in parser(raw).warnings)
    return tuple(out)


def _province_name(code: str) -> str:
    try:
        p = numbers.province_by_code(code)
    except numbers.NumberError:
        return code
    return f"{p.name_en} ({code}, {p.char})"


def _icp_of_kind(value: str | None, kind: str, wrong_kind: Callable[[numbers.FilingNumber], _Invalid]) -> str | None:
    """The normalised ICP number ``value`` (None stays None); raises ``wrong_kind(number)`` for a number of
    another kind than ``kind``."""
    if value is None:
        return None
    number: numbers.FilingNumber = _parse_number(numbers.parse_icp, value)
    if number.kind != kind:
        raise wrong_kind(number)
    return number.normalized


# --- models -------------------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    # (field, warning) pairs from the number parsers, for the numbers as written; collected by the registry.
    _number_warnings: tuple[tuple[str, str], ...] = PrivateAttr(default=())
    # field → the parsed form of the field's stored (normalised) number, kept from validation so that the
    # cross-checks and the rules do not parse it again; only used while it still matches the field's text.
    _parsed: dict[str, Any] | None = PrivateAttr(default=None)
    # The model's number fields and their parsers (set by each model that has numbers).
    _NUMBER_FIELDS: ClassVar[Mapping[str, Callable[[str], Any]]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _collect(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        model = handler(data)
        if cls._NUMBER_FIELDS and isinstance(data, Mapping):  # not when given an already-validated instance
            model._collect_numbers(data, cls._NUMBER_FIELDS)
        return model

    def _collect_numbers(self, data: object, fields: Mapping[str, Callable[[str], Any]]) -> None:
        """After validating ``data`` (a mapping): its numbers' warnings, and each stored number parsed once."""
        self._number_warnings = _number_warnings(data, fields)
        parsed: dict[str, Any] = {}
        for name, parser in fields.items():
            text = getattr(self, name)
            if text:
                with contextlib.suppress(numbers.NumberError):
                    parsed[name] = parser(text)
        self._parsed = parsed

    def _parsed_number(self, name: str, parser: Callable[[str], Any]) -> Any:
        """``parser(self.<name>)``, reusing the form parsed at validation; None when the field is empty."""
        text = getattr(self, name)
        if not text:
            return None
        private = self.__pydantic_private__
        memo = private.get("_parsed") if private else None
        if memo:
            hit = memo.get(name)
            if hit is not None and hit.raw == text:
                return hit
        return parser(text)


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
    entities: dict[str, Entity] = {}
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


# --- turning pydantic errors into one-line problems ---------------------------------------------------------------

_MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "top": FilingRegistry.FILE_KEYS,
    "site": tuple(Site.model_fields),
    "entity": tuple(Entity.model_fields),
    "permit": tuple(Permit.model_fields),
    "sector": tuple(SectorApproval.model_fields),
}


def _raw_domain(data: object, index: int) -> str | None:
    if isinstance(data, Mapping):
        sites = data.get("sites")
        if isinstance(sites, list | tuple) and 0 <= index < len(sites):
            item = sites[index]
            if isinstance(item, Mapping) and isinstance(item.get("domain"), str):
                return str(item["domain"]).strip()
    return None


def _dotted(parts: list[int | str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _locate(loc: tuple[int | str, ...], data: object) -> tuple[str | None, list[int | str], str]:
    """(entry, remaining path, model kind) for a pydantic error location."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "sites" and isinstance(parts[1], int):
        domain = _raw_domain(data, parts[1])
        entry = f"sites[{parts[1]}]" + (f" ({domain})" if domain else "")
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "sectors" and isinstance(rest[1], int):
            return entry, rest, "sector"
        return entry, rest, "site"
    if len(parts) >= 2 and parts[0] == "entities":
        rest = parts[2:]
        if rest and rest[-1] == "[key]":  # the id itself is wrong (e.g. a number in YAML)
            return f"entities.{parts[1]}", [], "entity-id"
        entry = f"entities.{parts[1]}"
        if len(rest) >= 2 and rest[0] == "permits" and isinstance(rest[1], int):
            return f"{entry}.permits[{rest[1]}]", rest[2:], "permit"
        return entry, rest, "entity"
    return None, parts, "top"


_TYPE_FIXES = {
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write it as text (quote it in YAML)",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_pydantic(err: ValidationError, data: object) -> list[_Problem]:
    problems: list[_Problem] = []
    for e in err.errors(include_url=False):
        exc = e.get("ctx", {}).get("error")
        if isinstance(exc, _Problems):
            problems.extend(exc.problems)
            continue
        entry, rest, kind = _locate(e["loc"], data)
        field = _dotted(rest) or None
        kind_type = e["type"]
        value = e.get("input", PydanticUndefined)
        if isinstance(exc, _Invalid):
            if exc.field and not field:
                field = exc.field
            problems.append(_Problem(entry, field, exc.what, exc.fix))
        elif kind == "entity-id":
            problems.append(
                _Problem(
                    entry,
                    None,
                    f"entity id {_short(rest or value)} must be text",
                    "quote the id or start it with a letter, e.g. acme",
                )
            )
        elif kind_type == "extra_forbidden":
            allowed = ", ".join(_MODEL_KEYS.get(kind, ()))
            problems.append(
                _Problem(
                    entry,
                    field,
                    "unknown key (not part of the registry format)",
                    f"remove it or correct its spelling; allowed keys here: {allowed}",
                )
            )
        elif kind_type == "missing":
            problems.append(_Problem(entry, field, "required field is missing", "add it"))
        elif kind_type == "literal_error":
            fix = (
                "this version of china-site reads registry version 1"
                if field == "version"
                else ("use one of the listed values")
            )
            problems.append(_Problem(entry, field, f"{e['msg']} (got {_short(value)})", fix))
        elif kind_type in ("dict_type", "model_type", "model_attributes_type"):
            problems.append(
                _Problem(
                    entry,
                    field,
                    f"expected a mapping of keys to values, got {type(value).__name__}",
                    "write it as 'key: value' lines (see filings.yaml for the format)",
                )
            )
        elif kind_type in ("tuple_type", "list_type"):
            problems.append(
                _Problem(
                    entry,
                    field,
                    f"expected a list, got {type(value).__name__}",
                    "write it as a YAML list ('- item' lines or [a, b])",
                )
            )
        else:
            msg = e["msg"].removeprefix("Value error, ")
            shown = value is not PydanticUndefined and not isinstance(value, Mapping)
            got = f" (got {_short(value)})" if shown else ""
            fix = _TYPE_FIXES.get(kind_type, "correct the value (see filings.yaml for the format)")
            problems.append(_Problem(entry, field, f"{msg}{got}", fix))
    return problems


def _raise(problems: list[_Problem], source: str) -> None:
    if not problems:
        return
    first = problems[0]
    others = len(problems) - 1
    what = first.what + (f" (and {others} more problem{'s' if others > 1 else ''})" if others else "")
    raise RegistryError(
        what,
        source=source,
        entry=first.entry,
        field=first.field,
        fix=first.fix,
        problems=[p.error(source).line() for p in problems],
    )


_GC_LOCK = threading.Lock()
_GC_STATE = {"depth": 0, "resume": False}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a registry is decoded and validated.

    Both allocate many long-lived, acyclic objects; every full collection in between traverses the whole heap built
    so far, which made loading a 100,000-site registry 40% slower per site than a 10,000-site one. Garbage made in
    the meantime is collected once the collector runs again. Nested and concurrent uses resume it once, at the end
    of the last one, and only if it was running before.
    """
    with _GC_LOCK:
        if _GC_STATE["depth"] == 0:
            _GC_STATE["resume"] = gc.isenabled()
            gc.disable()
        _GC_STATE["depth"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["depth"] -= 1
            if _GC_STATE["depth"] == 0 and _GC_STATE["resume"]:
                gc.enable()


def parse_registry(data: object, *, source: str) -> FilingRegistry:
    """Validate already-decoded data; raises RegistryError naming source, entry and field."""
    with _gc_paused():
        return _parse_registry(data, source=source)


def _parse_registry(data: object, *, source: str) -> FilingRegistry:
    if data is None:
        raise RegistryError(
            "the registry is empty",
            source=source,
            fix="write version: 1, entities: and sites: (see filings.yaml for the format)",
        )
    if not isinstance(data, Mapping):
        raise RegistryError(
            f"the registry must be a mapping with version, entities and sites, got {type(data).__name__}",
            source=source,
            fix="write version: 1, entities: and sites: at the top level (see filings.yaml for the format)",
        )
    problems: list[_Problem] = []
    content = dict(data)
    if "source" in content:
        content.pop("source")
        problems.append(
            _Problem(
                None,
                "source",
                "unknown key (not part of the registry format)",
                f"remove it; allowed keys here: {', '.join(FilingRegistry.FILE_KEYS)}",
            )
        )
    content["source"] = source
    try:
        registry = FilingRegistry.model_validate(content)
    except ValidationError as err:
        problems.extend(_from_pydantic(err, data))
        _raise(problems, source)
        raise  # pragma: no cover - _raise always raises when there are problems
    _raise(problems, source)
    return registry


# --- decoding -----------------------------------------------------------------------------------------------------


class _UniqueKeyLoader(UniqueKeys, DatesAsWrittenLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one: a lost entity or site), with
    bounded nesting and alias expansion; an impossible date stays text so validation names its entry and field."""


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {clip(repr(key), 80)}")
        out[key] = value
    return out


def _format_of(name: str) -> Literal["json", "yaml"]:
    return "json" if name.lower().endswith(".json") else "yaml"


def decode_registry(raw: bytes, *, source: str, fmt: Literal["json", "yaml"]) -> object:
    """Bytes → Python data (UTF-8; JSON or YAML); raises RegistryError with line and column on malformed input."""
    with _gc_paused():
        return _decode_registry(raw, source=source, fmt=fmt)


def _decode_registry(raw: bytes, *, source: str, fmt: Literal["json", "yaml"]) -> object:
    if len(raw) > MAX_REGISTRY_BYTES:
        raise RegistryError(
            f"{len(raw)} bytes is too large for a filing registry (limit {MAX_REGISTRY_BYTES})",
            source=source,
            fix="point at the registry file itself",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RegistryError(
            f"not UTF-8 text (invalid byte at offset {err.start})", source=source, fix="save the file as UTF-8"
        ) from None
    too_deep = (
        f"nested more than {MAX_DEPTH} levels deep",
        "a filing registry has a few levels (entities, sites, permits); point at the registry file itself",
    )
    if fmt == "json":
        try:
            return load_json(text, object_pairs_hook=_json_pairs)
        except NumberTooLongError as err:
            raise RegistryError(f"malformed JSON: {err}", source=source, fix="write the number as text") from None
        except json.JSONDecodeError as err:
            raise RegistryError(
                f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                source=source,
                fix="fix the JSON syntax there (quotes, commas, brackets)",
            ) from None
        except (RecursionError, NestingError):
            raise RegistryError(too_deep[0], source=source, fix=too_deep[1]) from None
        except ValueError as err:  # duplicate key
            raise RegistryError(f"malformed JSON: {err}", source=source, fix="keep each key once") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = err.problem or err.context or "syntax error"
        context = f" ({err.context})" if err.context and err.problem else ""
        raise RegistryError(
            f"malformed YAML{where}: {problem}{context}",
            source=source,
            fix="fix the YAML syntax there (indentation, a missing ':' or quote, duplicate keys)",
        ) from None
    except NestingError as err:
        raise RegistryError(
            str(err), source=source, fix="write the values out instead of repeating them through aliases"
        ) from None
    except RecursionError:
        raise RegistryError(too_deep[0], source=source, fix=too_deep[1]) from None
    except yaml.YAMLError as err:
        raise RegistryError(f"malformed YAML: {err}", source=source, fix="fix the YAML syntax") from None
    except (ValueError, TypeError) as err:  # a value PyYAML cannot build (e.g. an unhashable key)
        raise RegistryError(
            f"malformed YAML: {type(err).__name__}: {err}", source=source, fix="fix the value there"
        ) from None


# --- loaders ------------------------------------------------------------------------------------------------------

_REMOTE = re.compile(r"(?P<scheme>oss|s3)://(?P<bucket>[^/?#]+)/(?P<key>[^?#]+)")


DEADLINE_ENV = "CHINA_SITE_REGISTRY_DEADLINE"
DEFAULT_DEADLINE = 30.0


def default_cache_dir() -> Path:
    """``$CHINA_SITE_CACHE_DIR``, else ``$XDG_CACHE_HOME/china-site``, else ``~/.cache/china-site``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "china-site"


def load_registry(
    source: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_attempts: int = 3,
    deadline: float | None = None,
) -> FilingRegistry:
    """Load from a path (YAML/JSON), ``oss://BUCKET/KEY`` or ``s3://BUCKET/KEY``; raises RegistryError.

    Remote objects are cached under ``cache_dir`` (default :func:`default_cache_dir`) per endpoint and source with
    their ETag and checksum, and re-validated with ``If-None-Match``. ``max_attempts`` is the number of requests
    sent at most, the first one included (1 = no retry; a redirect counts as a request, so a redirect loop ends
    there); ``deadline`` (seconds; default ``CHINA_SITE_REGISTRY_DEADLINE``, else 30) bounds the whole load —
    connecting, every attempt and reading the body — whatever the server does (hangs, trickles, redirects). A
    server that cannot be reached in time fails closed unless ``CHINA_SITE_REGISTRY_OFFLINE_CACHE=1``. A local
    file whose bytes were already loaded (same source) returns the same registry object without parsing it again.
    """
    text = str(source).strip()
    if not text:
        raise RegistryError(
            "no registry given", source="<none>", fix="pass a path, oss://BUCKET/KEY or s3://BUCKET/KEY"
        )
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("oss", "s3"):
        m = _REMOTE.fullmatch(text)
        if m is None:
            raise RegistryError(
                "a remote registry is named oss://BUCKET/KEY or s3://BUCKET/KEY",
                source=text,
                fix="give both the bucket and the object key, e.g. oss://my-bucket/filings.yaml",
            )
        if deadline is None:
            from china_site.deadline import seconds_from_env

            deadline = seconds_from_env(os.environ, DEADLINE_ENV, DEFAULT_DEADLINE)
        raw, info, notes = _fetch_remote(
            text,
            m["scheme"],  # type: ignore[arg-type]
            m["bucket"],
            m["key"],
            cache_root=Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            deadline=deadline,
        )
        registry = parse_registry(decode_registry(raw, source=text, fmt=_format_of(m["key"])), source=text)
        registry._fetch = info
        registry._warnings = (*notes, *registry._warnings)
        return registry
    if scheme and scheme != "file":
        raise RegistryError(
            f"unsupported source scheme '{scheme}://'",
            source=text,
            fix="use a local path, oss://BUCKET/KEY or s3://BUCKET/KEY",
        )
    path = Path(text[len("file://") :] if scheme == "file" else text).expanduser()
    raw = _read_file(path, text)
    # Keyed by the bytes themselves: an edit is seen at once, even one within the file system's timestamp
    # granularity that keeps the size. Reading and hashing cost a fraction of a per-cent of parsing.
    key = (text, hashlib.sha256(raw).digest())
    with _LOADED_LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            _LOADED.move_to_end(key)
            return cached
    registry = parse_registry(decode_registry(raw, source=text, fmt=_format_of(path.name)), source=text)
    with _LOADED_LOCK:
        _LOADED[key] = registry
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return registry


# Local registries already loaded in this process, keyed by (source as given, SHA-256 of the file's bytes): a
# program with many sites naming the same file parses it once, and a changed file is parsed again. Only valid
# registries are kept — an error is raised again on every load, so a fixed file is read at once. The source is
# part of the key because the registry names it in its messages. Remote sources have their own ETag cache.
_LOADED: OrderedDict[tuple[str, bytes], FilingRegistry] = OrderedDict()
_LOADED_MAX = 8
_LOADED_LOCK = threading.Lock()


def clear_registry_cache() -> None:
    """Forget the local registries loaded so far (the next :func:`load_registry` of a path parses it again)."""
    with _LOADED_LOCK:
        _LOADED.clear()


def _read_file(path: Path, source: str) -> bytes:
    def refuse(why: str) -> NoReturn:
        raise RegistryError(
            f"too large for a filing registry: {why}", source=source, fix="point at the registry file itself"
        )

    try:
        return read_capped(str(path), MAX_REGISTRY_BYTES, refuse=refuse)
    except FileNotFoundError:
        raise RegistryError(
            "file not found", source=source, fix="check the path (relative paths start at the current directory)"
        ) from None
    except IsADirectoryError:
        raise RegistryError("is a directory, not a file", source=source, fix="name the registry file itself") from None
    except PermissionError:
        raise RegistryError(
            "permission denied reading the file", source=source, fix="make the file readable by this user"
        ) from None
    except OSError as err:
        raise RegistryError(
            f"cannot read the file: {err.strerror or type(err).__name__}", source=source, fix="check the path"
        ) from None


# --- remote sources and the ETag cache ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    body: bytes
    etag: str | None
    fetched_at: str
    path: Path


_STALE_TEMP_SECONDS = 3600


class _Cache:
    """One cached object: ``<sha>.body`` plus ``<sha>.json`` (endpoint, source, ETag, SHA-256 of the body, time),
    keyed by endpoint and source (the same bucket/key on another endpoint is another object).

    A copy is served only when its body still has the recorded SHA-256 (and the MD5 its ETag names, for a
    single-part ETag) and it was proven complete when fetched (``complete``: what proved it). A cache folder that
    other users can write to is not used (``notes`` says so): whoever can write there could plant a registry.
    Temporary files left by an interrupted write are removed after an hour."""

    def __init__(self, root: Path, source: str, endpoint: str, notes: list[str]) -> None:
        digest = hashlib.sha256(f"{endpoint}\0{source}".encode()).hexdigest()[:40]
        self.root = root
        self.source = source
        self.endpoint = endpoint
        self.body_path = root / f"registry-{digest}.body"
        self.meta_path = root / f"registry-{digest}.json"
        self.usable = self._safe_folder(notes)

    def _safe_folder(self, notes: list[str]) -> bool:
        try:
            st = self.root.stat()
        except OSError:
            return True  # not there yet: created 0700 on the first write
        problems = []
        if st.st_mode & 0o022:
            problems.append(f"it is writable by {'others' if st.st_mode & 0o002 else 'its group'}")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            problems.append("it belongs to another user")
        if problems:
            notes.append(
                f"{self.source}: the registry cache {self.root} is not used because {' and '.join(problems)}; "
                f"run `chmod go-w {self.root}` or set {CACHE_DIR_ENV} to a private folder."
            )
            return False
        return True

    def read(self) -> _Cached | None:
        if not self.usable:
            return None
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
            body = self.body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("source") != self.source or meta.get("endpoint") != self.endpoint:
            return None
        if meta.get("sha256") != hashlib.sha256(body).hexdigest():  # torn or tampered copy: not used
            return None
        etag = meta.get("etag")
        etag = etag if isinstance(etag, str) and etag else None
        if not _body_matches_etag(body, etag):
            return None
        if not (isinstance(meta.get("complete"), str) and meta["complete"]):
            return None  # written before bodies had to be proven complete: fetched again
        return _Cached(body=body, etag=etag, fetched_at=str(meta.get("fetched_at", "?")), path=self.body_path)

    def write(self, body: bytes, etag: str | None, proof: str) -> None:
        """Keep ``body`` (proven complete by ``proof``: "ETag MD5", "x-amz-checksum-sha256", …)."""
        if not self.usable:
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clean_stale()
        meta = {
            "endpoint": self.endpoint,
            "source": self.source,
            "etag": etag,
            "sha256": hashlib.sha256(body).hexdigest(),
            "complete": proof,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        _atomic_write(self.body_path, body)
        _atomic_write(self.meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))

    def _clean_stale(self) -> None:
        """Remove our own temporary files (``.registry-….tmp``) older than an hour: left by a killed process."""
        now = dt.datetime.now().timestamp()
        for tmp in self.root.glob(".registry-*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.lstat().st_mtime > _STALE_TEMP_SECONDS:
                    tmp.unlink()


_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')


def _headers(response: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP headers of a botocore response, names lower-case."""
    meta = response.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    if not isinstance(headers, Mapping):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _body_matches_etag(body: bytes, etag: str | None) -> bool:
    """False when ``etag`` is a single-part ETag (an MD5) that the body does not have; multipart or opaque ETags
    cannot be checked and pass."""
    m = _MD5_ETAG.fullmatch(etag or "")
    return m is None or hashlib.md5(body, usedforsecurity=False).hexdigest() == m.group(1).lower()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _safe_endpoint(url: str | None) -> str:
    """scheme://host[:port] — never user info, path or query."""
    from china_site.redact import safe_url

    return safe_url(url)


def _offline_allowed() -> bool:
    return os.environ.get(OFFLINE_CACHE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _shut_down(stream: Any) -> None:
    """Shut down the socket under a botocore StreamingBody so that a read blocked in another thread returns."""
    import socket

    conn = getattr(getattr(stream, "_raw_stream", None), "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _FetchAborted(Exception):
    """Raised from a botocore hook to stop a remote load: ``why`` is "deadline" or "attempts"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _fetch_remote(
    source: str,
    scheme: Literal["oss", "s3"],
    bucket: str,
    key: str,
    *,
    cache_root: Path,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    deadline: float = 30.0,
) -> tuple[bytes, FetchInfo, list[str]]:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
        ResponseStreamingError,
        SSLError,
    )

    from china_site import completeness, oss

    creds_fix = (
        "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        if scheme == "oss"
        else "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile)"
    )
    endpoint_hint = "CHINA_SITE_OSS_ENDPOINT / ALIBABA_CLOUD_REGION_ID" if scheme == "oss" else "AWS_ENDPOINT_URL"
    max_attempts = max(1, max_attempts)
    started = time.monotonic()
    notes: list[str] = []
    cached: _Cached | None = None

    def fail(what: str, fix: str) -> RegistryError:
        return RegistryError(what, source=source, fix=fix)

    def unreachable(endpoint: str, why: str) -> tuple[bytes, FetchInfo, list[str]]:
        if cached is not None and _offline_allowed():
            notes.append(
                f"{source}: cannot reach {endpoint} ({why}); using the cached copy fetched {cached.fetched_at} "
                f"because {OFFLINE_CACHE_ENV} is set — it may be out of date."
            )
            info = FetchInfo(source, None, True, cached.etag, offline=True, cache_file=str(cached.path))
            return cached.body, info, notes
        hint = (
            f"; or set {OFFLINE_CACHE_ENV}=1 to use the cached copy from {cached.fetched_at}"
            if cached is not None
            else ""
        )
        raise fail(
            f"cannot reach {endpoint} ({why}); the filing registry is required, so this fails closed",
            f"check the network and the endpoint ({endpoint_hint}){hint}",
        )

    try:
        client = oss.client(
            scheme, connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
        )
    except BotoCoreError as err:
        raise fail(f"cannot set up the {scheme} client ({type(err).__name__})", f"check {endpoint_hint}") from None
    except ValueError:  # botocore: "Invalid endpoint: …" (the URL is not echoed: it may carry credentials)
        raise fail(
            f"cannot set up the {scheme} client: the endpoint is not a valid URL",
            f"set {endpoint_hint} to a URL such as https://s3.oss-cn-hangzhou.aliyuncs.com",
        ) from None
    endpoint = _safe_endpoint(getattr(client.meta, "endpoint_url", None))
    cache = _Cache(cache_root, source, endpoint, notes)
    cached = cache.read()

    # Every request that goes out (first attempt, retries, redirects) is counted; none starts after the deadline
    # or beyond max_attempts. The whole exchange runs in a helper thread the caller stops waiting for at the
    # deadline, so a server that trickles its answer one byte at a time cannot hold the load.
    sent = [0]
    stop = threading.Event()

    def before_send(**_: Any) -> None:
        if stop.is_set():
            raise _FetchAborted("deadline")
        if sent[0] >= max_attempts:
            raise _FetchAborted("attempts")
        sent[0] += 1

    client.meta.events.register("before-send.s3", before_send)

    def attempts() -> str:
        return f"{sent[0]} attempt{'s' if sent[0] != 1 else ''} of at most {max_attempts}"

    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if cached is not None and cached.etag:
        request["IfNoneMatch"] = cached.etag
    if scheme == "s3":  # S3 states its x-amz-checksum-* only when asked (OSS: ETag and Content-MD5)
        request["ChecksumMode"] = "ENABLED"
    outcome: dict[str, Any] = {}

    def sidecar() -> bytes | None:
        """The ``<key>.sha256`` object beside the registry (None when there is none), with its own request budget."""
        sent[0] = 0
        try:
            side = client.get_object(Bucket=bucket, Key=key + completeness.SIDECAR_SUFFIX)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404) or err.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied"):
                return None
            raise
        outcome["stream"] = side["Body"]
        data: bytes = side["Body"].read(completeness.SIDECAR_MAX_BYTES + 1)
        return data

    def exchange() -> None:
        try:
            got = client.get_object(**request)
            outcome["stream"] = got["Body"]
            outcome["body"] = got["Body"].read(MAX_REGISTRY_BYTES + 1)
            outcome["response"] = got
            if completeness.needs_sidecar(_headers(got)) and len(outcome["body"]) <= MAX_REGISTRY_BYTES:
                outcome["sidecar"] = sidecar()
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=exchange, name="china-site-registry-fetch", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - (time.monotonic() - started)))
    if worker.is_alive():
        stop.set()
        _shut_down(outcome.get("stream"))  # ends the helper thread's read (close() would wait for it)
        return unreachable(endpoint, f"no complete answer within the deadline of {deadline:g} s, {attempts()}")
    try:
        if "error" in outcome:
            raise outcome["error"]
        response = outcome["response"]
        body = outcome["body"]
    except _FetchAborted as err:
        if err.why == "attempts":
            return unreachable(endpoint, f"{attempts()} used up without an answer (redirected or failed every time)")
        return unreachable(endpoint, f"no complete answer within the deadline of {deadline:g} s, {attempts()}")
    except RecursionError:
        return unreachable(endpoint, f"redirected in a loop, {attempts()}")
    except ClientError as err:
        meta = err.response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode")
        from china_site.redact import safe_code

        # The server's text: escaped and cut unless it has an error code's shape.
        code = safe_code(str(err.response.get("Error", {}).get("Code", "") or status)) or str(status)
        if (status == 304 or code in ("304", "NotModified")) and cached is not None:
            info = FetchInfo(source, 304, True, cached.etag, cache_file=str(cached.path))
            return cached.body, info, notes
        if code == "NoSuchKey" or (status == 404 and code in ("404", "NotFound")):
            raise fail(
                f"object {key!r} not found in bucket {bucket!r} at {endpoint} (NoSuchKey)",
                "check the key, or upload the registry there",
            ) from None
        if code == "NoSuchBucket":
            raise fail(
                f"bucket {bucket!r} does not exist at {endpoint} (NoSuchBucket)",
                f"check the bucket name and the region/endpoint ({endpoint_hint})",
            ) from None
        if code == "InvalidAccessKeyId":
            raise fail(
                f"the access key is not known to {endpoint} (InvalidAccessKeyId, HTTP {status})",
                f"check the credentials: {creds_fix}",
            ) from None
        if code == "SignatureDoesNotMatch":
            raise fail(
                f"the request signature was rejected by {endpoint} (SignatureDoesNotMatch, HTTP {status})",
                f"check the secret key: {creds_fix}",
            ) from None
        if code in ("ExpiredToken", "InvalidToken", "TokenRefreshRequired", "SecurityTokenExpired"):
            raise fail(f"the security token was rejected ({code})", "refresh the temporary credentials") from None
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            raise fail(
                f"bucket {bucket!r} is in another region than {endpoint} ({code})",
                f"set the bucket's region/endpoint ({endpoint_hint})",
            ) from None
        if code == "AccessDenied" or status == 403:
            raise fail(
                f"access denied to {bucket}/{key} ({code}, HTTP {status})",
                f"grant GetObject on the object ({'oss:GetObject' if scheme == 'oss' else 's3:GetObject'}) to these "
                "credentials",
            ) from None
        if isinstance(status, int) and status >= 500:
            return unreachable(endpoint, f"server error {code}, HTTP {status}, {attempts()}")
        raise fail(
            f"the server refused to return the object ({code}, HTTP {status})",
            "check the bucket, key and credentials",
        ) from None
    except SSLError:
        raise fail(
            f"TLS handshake with {endpoint} failed",
            f"check the endpoint ({endpoint_hint}) and the system's CA certificates",
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as err:
        why = "timed out" if isinstance(err, ConnectTimeoutError) else "connection failed"
        return unreachable(endpoint, f"{why}, {attempts()}")
    except (ReadTimeoutError, ResponseStreamingError):
        return unreachable(endpoint, f"no response within {read_timeout:g} s, {attempts()}")
    except (NoCredentialsError, PartialCredentialsError):
        raise fail(f"no usable credentials to read {scheme}://{bucket}/{key}", creds_fix) from None
    except BotoCoreError as err:
        raise fail(
            f"cannot read the object ({type(err).__name__})", f"check the source and the endpoint ({endpoint_hint})"
        ) from None

    if len(body) > MAX_REGISTRY_BYTES:
        raise fail(
            f"the object is larger than {MAX_REGISTRY_BYTES} bytes, too large for a filing registry",
            "point at the registry object itself",
        )
    etag = response.get("ETag")
    etag = etag if isinstance(etag, str) and etag else None
    verdict = completeness.verify(body, _headers(response), outcome.get("sidecar"))
    if verdict.corrupt:
        raise fail(
            f"the object read from {endpoint} is not the whole object: {verdict.why}",
            "run the command again; if it persists, check for a proxy cutting or rewriting the content",
        )
    if not verdict.complete:
        raise fail(
            f"the object read from {endpoint} cannot be proven complete: {verdict.why}",
            f"upload it in one PutObject (its ETag is then its MD5), or put its SHA-256 beside it as "
            f"{key}{completeness.SIDECAR_SUFFIX} (`sha256sum` output); check for a proxy stripping Content-Length",
        )
    try:
        cache.write(body, etag, verdict.proof)
    except OSError as err:
        notes.append(f"{source}: could not write the local cache in {cache_root} ({err.strerror or err}).")
    info = FetchInfo(source, 200, False, etag, cache_file=str(cache.body_path))
    return body, info, notes
