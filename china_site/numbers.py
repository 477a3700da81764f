"""Parse and validate China's filing numbers (DOMAIN.md §2).

INTERFACE STUB — the dataclasses and signatures below are the contract; the implementation is in progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from china_site.errors import NumberError

__all__ = [
    "FilingNumber",
    "NumberError",
    "PermitNumber",
    "Province",
    "PsbNumber",
    "parse_any",
    "parse_icp",
    "parse_permit",
    "parse_psb",
    "province_by_char",
    "province_by_code",
]


@dataclass(frozen=True)
class Province:
    code: str  # GB/T 2260 two-digit code, e.g. "31"
    name_en: str  # "Shanghai"
    name_zh: str  # "上海"
    char: str  # the official abbreviation used in numbers, e.g. "沪"
    aliases: tuple[str, ...] = ()  # accepted-with-warning characters, e.g. ("川",) for Sichuan
    licence_char: str | None = None  # character used on licences when it differs (Sichuan: 川)


@dataclass(frozen=True)
class FilingNumber:
    """An ICP filing number: entity (主体备案号) or site (网站备案号)."""

    raw: str
    normalized: str  # canonical text, e.g. "沪ICP备2021012345号-1" (spaces removed, full-width dash normalised)
    kind: Literal["icp-entity", "icp-site"]
    province_code: str | None  # "31"; None only when built on an MIIT-issued licence with no province character
    province_char: str | None  # the character as written ("沪", or an alias like "川")
    base: str  # the entity number: "沪ICP备2021012345号", "粤B2-20090059", "京ICP证030173号"
    site_index: int | None  # n of "-n"; None for an entity number
    suffix: Literal["A", "X", "K"] | None = None  # app, mini-program, quick app
    university: str | None = None  # university network prefix character(s), e.g. "交" in 沪交ICP备…
    on_licence: bool = False  # base is a commercial licence number (粤B2-…, 京ICP证…号)
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PermitNumber:
    """A commercial permit (ICP经营许可证 / value-added telecom licence) number."""

    raw: str
    normalized: str
    form: Literal["icp-cert", "licence"]  # 京ICP证030173号 | 沪B2-20220001 / 合字B2-… / A1.B1.B2-…
    province_code: str | None  # None when MIIT-issued (no province character)
    province_char: str | None
    categories: tuple[str, ...]  # ("B2",) or ("A1", "B1", "B2"); ("ICP",) for the 证 form
    foreign_invested: bool  # 合字
    miit_issued: bool  # no province character
    serial: str  # the digits
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PsbNumber:
    """A public-security filing number. The 14 digits are the key; the prefix character is decoration."""

    raw: str
    normalized: str  # "沪公网安备31011502012345号" (char only when given)
    digits: str  # exactly 14 digits
    province_code: str  # digits[:2]
    province_char: str | None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def province_by_code(code: str | int) -> Province:
    """Look up a province by GB/T 2260 code; raises NumberError when unknown."""
    raise NotImplementedError


def province_by_char(char: str) -> tuple[Province, tuple[str, ...]]:
    """Look up a province by its character (official or alias); returns (province, warnings)."""
    raise NotImplementedError


def parse_icp(text: str) -> FilingNumber:
    raise NotImplementedError


def parse_permit(text: str) -> PermitNumber:
    raise NotImplementedError


def parse_psb(text: str) -> PsbNumber:
    raise NotImplementedError


def parse_any(text: str) -> FilingNumber | PermitNumber | PsbNumber:
    raise NotImplementedError
