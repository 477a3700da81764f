"""The filing registry's field vocabulary and validation helpers (split from :mod:`china_site.filings`).

What lives here: the literal types of the registry format (entity types, ownership, statuses, permit kinds, foreign
share kinds, domain holder roles), the access-provider names (:func:`normalize_access_provider`), the field-error
types the validators raise and the loaders turn into one :class:`~china_site.errors.RegistryError`
(``_Invalid``, ``_Problem``, ``_Problems``), the date and number helpers the models validate with, and ``_Model``,
the frozen pydantic base every registry model derives from (it keeps each number's parsed form and warnings).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from china_site import numbers
from china_site.errors import RegistryError

__all__ = [
    "ACCESS_PROVIDER_ALIASES",
    "DomainHolderRole",
    "EntityType",
    "ForeignShareKind",
    "Ownership",
    "PermitKind",
    "SiteStatus",
    "normalize_access_provider",
]

EntityType = Literal["enterprise", "individual", "government", "institution", "other"]
Ownership = Literal["domestic", "foreign-invested", "foreign"]
SiteStatus = Literal["approved", "pending", "cancelled"]
PermitKind = Literal["B25", "B21"]
# The foreign equity share, as a kind or a percentage (0–100): domestic (none), a joint venture with at most 50%,
# a joint venture above 50%, a wholly foreign-owned enterprise (WFOE, 100%).
ForeignShareKind = Literal["domestic", "jv-50-or-less", "jv-over-50", "wfoe"]
DomainHolderRole = Literal["entity", "legal-representative", "shareholder", "senior-manager"]

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


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- the base model -------------------------------------------------------------------------------------------------


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
