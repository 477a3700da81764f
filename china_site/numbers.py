"""Parse and validate China's filing numbers (DOMAIN.md §2).

Shapes understood (after normalisation, see below):

- ICP filing (``parse_icp``): entity ``沪ICP备2021012345号`` and website ``沪ICP备2021012345号-1`` with 6–10 digits;
  apps ``-1A``, mini-programs ``-1X``, quick apps ``-1K``; university network variants ``沪交ICP备…`` (1–2 extra
  characters, kept in ``.university``; their old numbers may have 5 digits, e.g. ``沪交ICP备05045号``); the site
  index written before ``号`` as on some real footers (``滇ICP备09010050-5号``) is read as ``滇ICP备09010050号-5``
  with a warning naming that official form; numbers built on a commercial licence: ``粤B2-20090059-5``,
  ``京ICP证030173号-1`` and their entity forms ``粤B2-20090059`` / ``京ICP证030173号`` (``on_licence=True``).
- Commercial permit (``parse_permit``): ``沪ICP证123456号``, ``沪B2-20220001``, MIIT-issued ``B2-20090059``,
  foreign-invested ``合字B2-20190001``, combined ``合字A1.B1.B2-20150001`` / ``京A1.B1.B2-20150001``.
- Public security filing (``parse_psb``): ``沪公网安备31011502012345号``; the 14 digits are the key, digits 1–2
  must be a province code, the character prefix is optional decoration. Legacy numbers of the former system have
  12 digits (``京公网安备110108008322号``, ``.legacy=True``) and are accepted as they are.

Real-world noise is tolerated: any whitespace, full-width characters (NFKC), dash variants (－ — – ‐ −),
lower-case ``icp``/``b2``. A missing trailing ``号`` is accepted with a warning. The alias characters
川/贵/云/甘 are accepted with a warning in ICP filing numbers (``.warnings``, English text naming the official
character); on licences Sichuan's official character is 川 (``Province.licence_char``). In a PSB number the
prefix is decoration — real MPS numbers use 川 (Sichuan), 贵 (Guizhou) and 甘 (Gansu), while Yunnan's use 滇 — so
those are not warned about, while the ICP characters 蜀/黔/陇 on a PSB number are (``Province.psb_char``), and so is a
prefix whose province differs from digits 1–2.

Every failure is a :class:`~china_site.errors.NumberError` (one line: the number, what is wrong, how to fix),
whatever the input. ``parse_any`` dispatches on the markers (公网安备, ICP备, ICP证, licence categories); a bare
licence number or ``…ICP证…号`` without ``-n`` is returned as a :class:`PermitNumber` by ``parse_any``, while
``parse_icp`` reads the same text as an entity filing number on a licence.

The province table is data: ``china_site/data/provinces.yaml``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles
from china_site.errors import NumberError
from china_site.model import MIIT_LINK

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
    "provinces",
]


@dataclass(frozen=True)
class Province:
    code: str  # GB/T 2260 two-digit code, e.g. "31"
    name_en: str  # "Shanghai"
    name_zh: str  # "上海"
    char: str  # the official abbreviation used in numbers, e.g. "沪"
    aliases: tuple[str, ...] = ()  # accepted-with-warning characters, e.g. ("川",) for Sichuan
    licence_char: str | None = None  # character used on licences when it differs (Sichuan: 川)
    psb_char: str | None = None  # character in PSB numbers (公网安备) when it differs (Sichuan 川, Gansu 甘)

    @property
    def psb_prefix(self) -> str:
        """The character a PSB number of this province starts with (``川公网安备…``, never ``蜀公网安备…``)."""
        return self.psb_char or self.char


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

    @property
    def link(self) -> str:
        """Where the number can be looked up (the footer links here)."""
        return MIIT_LINK


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
    """A public-security filing number. The digits (14; 12 on legacy numbers) are the key; the prefix is decoration."""

    raw: str
    normalized: str  # "沪公网安备31011502012345号" (char only when given)
    digits: str  # 14 digits (12 for a legacy number)
    province_code: str  # digits[:2]
    province_char: str | None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    legacy: bool = False  # a 12-digit number of the former PSB filing system

    @property
    def link(self) -> str:
        """The MPS query page for this number (the footer links here)."""
        return f"https://beian.mps.gov.cn/#/query/webSearch?code={self.digits}"


# --- the province table (data/provinces.yaml) -------------------------------------------------------------------


class _ProvinceRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[0-9]{2}$")
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    char: str = Field(min_length=1, max_length=1)
    aliases: tuple[str, ...] = ()
    licence_char: str | None = Field(default=None, min_length=1, max_length=1)
    psb_char: str | None = Field(default=None, min_length=1, max_length=1)


class _ProvinceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    provinces: tuple[_ProvinceRow, ...] = Field(min_length=1)


@dataclass(frozen=True)
class _Table:
    provinces: tuple[Province, ...]
    by_code: dict[str, Province]
    by_char: dict[str, Province]  # official characters, aliases and licence characters


@functools.cache
def _table() -> _Table:
    rows = datafiles.validated("provinces", _ProvinceFile).provinces
    items = tuple(
        Province(
            code=r.code,
            name_en=r.name_en,
            name_zh=r.name_zh,
            char=r.char,
            aliases=r.aliases,
            licence_char=r.licence_char,
            psb_char=r.psb_char,
        )
        for r in rows
    )
    by_code: dict[str, Province] = {}
    by_char: dict[str, Province] = {}
    for p in items:
        if p.code in by_code:
            raise datafiles.DataFileError(
                f"province code {p.code} is listed twice", where="china_site/data/provinces.yaml", fix="remove one"
            )
        by_code[p.code] = p
        for ch in (p.char, *p.aliases, *((p.licence_char,) if p.licence_char else ())):
            if by_char.get(ch, p) is not p:
                raise datafiles.DataFileError(
                    f"character {ch!r} belongs to two provinces",
                    where="china_site/data/provinces.yaml",
                    fix="give each character to one province",
                )
            by_char[ch] = p
    return _Table(provinces=items, by_code=by_code, by_char=by_char)


def provinces() -> tuple[Province, ...]:
    """All 31 mainland province-level divisions, in GB/T 2260 order."""
    return _table().provinces


def province_by_code(code: str | int) -> Province:
    """Look up a province by GB/T 2260 code; raises NumberError when unknown."""
    if isinstance(code, bool) or not isinstance(code, str | int):
        key = repr(code)
    elif isinstance(code, int):
        key = f"{code:02d}" if 0 <= code < 100 else str(code)
    else:
        key = code.strip()
    province = _table().by_code.get(key)
    if province is None:
        raise NumberError(
            f"{_show(key)} is not a mainland province code",
            where="province code",
            fix="use the two-digit GB/T 2260 code of the entity's home province, e.g. 31 (Shanghai), 44 (Guangdong)",
        )
    return province


def province_by_char(char: str) -> tuple[Province, tuple[str, ...]]:
    """Look up a province by its character (official or alias); returns (province, warnings).

    Warnings are given for aliases (川 贵 云 甘), as they apply to ICP filing numbers: the text names the official
    character. Raises NumberError for any other character.
    """
    key = unicodedata.normalize("NFKC", char).strip() if isinstance(char, str) else repr(char)
    province = _table().by_char.get(key)
    if province is None:
        raise NumberError(
            f"{_show(key)} is not a province character",
            where="province character",
            fix=f"use the character of the entity's home province, one of {_official_chars()}",
        )
    return province, _alias_warning(key, province, "icp")


# --- text clean-up and messages -----------------------------------------------------------------------------------

_MAX_LEN = 120  # real numbers are about 20 characters; leaves room for spaces and noise
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # only ASCII is upper-cased
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\ufe58\ufe63\uff0d", "-"))
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_ICP_EXAMPLE = "沪ICP备2021012345号-1 (website) or 沪ICP备2021012345号 (entity)"
_PERMIT_EXAMPLE = "沪B2-20220001, 合字B2-20190001, B2-20090059 or 沪ICP证123456号"
_PSB_EXAMPLE = "沪公网安备31011502012345号"
_FIX_ICP = f"copy the number exactly as shown on beian.miit.gov.cn, e.g. {_ICP_EXAMPLE}"
_FIX_PERMIT = f"copy the number exactly as printed on the licence, e.g. {_PERMIT_EXAMPLE}"
_FIX_PSB = f"copy the number exactly as shown on beian.mps.gov.cn, e.g. {_PSB_EXAMPLE}"
_FIX_ANY = f"use one of the shapes {_ICP_EXAMPLE}; {_PERMIT_EXAMPLE}; {_PSB_EXAMPLE}"
_MISSING_HAO = "the number lacks the closing '号'; the official form is {normalized}"
_INDEX_BEFORE_HAO = "the website index is written before '号'; the official form is {normalized}"
# Real university network filings (CERNET, e.g. 沪交ICP备05045号) have 5-digit numbers; other filings have 6 to 10.
_MIN_DIGITS, _MIN_DIGITS_UNIVERSITY, _MAX_DIGITS = 6, 5, 10
_PSB_LENGTHS = (14, 12)  # current numbers; legacy numbers of the former system (京公网安备110108008322号)
_SITE_BEFORE_HAO = re.compile(r"(?P<site>-[0-9]+[A-Z]?)号", re.S)


def _show(text: str) -> str:
    """A short, quoted, escaped rendering of user text for one-line messages."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _error(raw: str, what: str, fix: str) -> NumberError:
    return NumberError(what, where=f"number {_show(raw)}", fix=fix)


def _clean(text: object, fix: str) -> str:
    """NFKC, dash variants to '-', whitespace and invisible format characters (Cf) removed, ASCII upper-cased.

    Other control characters are kept, so they make the number invalid rather than vanish.
    """
    if not isinstance(text, str):
        raise NumberError(
            f"expected the number as text, got {type(text).__name__}",
            where="number",
            fix="quote the number so it is read as text",
        )
    if len(text) > _MAX_LEN:
        raise _error(text, f"text of {len(text)} characters is too long for a filing number", fix=fix)
    s = unicodedata.normalize("NFKC", text).translate(_DASHES)
    if s.isprintable():  # the only whitespace a printable string can hold is " ", and no Cf character
        s = s.replace(" ", "")
    else:
        s = "".join(ch for ch in s if not (ch.isspace() or unicodedata.category(ch) == "Cf"))
    if not s:
        raise _error(text, "the number is empty", fix=fix)
    return s.translate(_ASCII_UPPER)


@functools.cache
def _official_chars() -> str:
    return " ".join(p.char for p in _table().provinces)


_Context = Literal["icp", "licence", "psb"]


def _alias_warning(char: str, province: Province, context: _Context) -> tuple[str, ...]:
    if context == "psb":
        return ()
    if context == "licence":
        official, where = province.licence_char or province.char, "on commercial licences"
    else:
        official, where = province.char, "in ICP filing numbers"
    if char == official:
        return ()
    why = " (accepted: some real numbers and many templates use it)" if char in province.aliases else ""
    return (
        f"'{char}' is not the official character for {province.name_en} {where}; "
        f"the official character is '{official}'{why}",
    )


def _province(raw: str, char: str, context: _Context, fix: str) -> tuple[Province, tuple[str, ...]]:
    province = _table().by_char.get(char)
    if province is None:
        raise _error(
            raw,
            f"{_show(char)} is not a province character",
            fix=f"start with the character of the entity's home province (one of {_official_chars()}); {fix}",
        )
    return province, _alias_warning(char, province, context)


# --- shapes -------------------------------------------------------------------------------------------------------

_ICP_BEI = re.compile(r"(?P<pre>.*?)ICP备(?P<digits>[0-9]*)(?P<hao>号?)(?P<site>.*)", re.S)
_ICP_CERT = re.compile(r"(?P<pre>.*?)ICP证(?P<digits>[0-9]*)(?P<hao>号?)(?P<site>.*)", re.S)
_LICENCE = re.compile(r"(?P<pre>[^\x00-\x7f]*)(?P<cats>[A-Z][A-Z0-9.]*)-(?P<serial>[0-9]*)(?P<site>(?:-.*)?)", re.S)
_PSB = re.compile(r"(?P<pre>.*?)公网安备(?P<digits>[0-9]*)(?P<hao>号?)(?P<rest>.*)", re.S)
_SITE = re.compile(r"-(?P<n>[0-9]+)(?P<suffix>[A-Z]?)", re.S)
_CATEGORY = re.compile(r"[AB][12]")
_FOREIGN = "合字"

_Suffix = Literal["A", "X", "K"]
_SUFFIXES: dict[str, _Suffix] = {"A": "A", "X": "X", "K": "K"}


def _site_part(raw: str, site: str) -> tuple[int | None, _Suffix | None]:
    """Read ``-n`` / ``-nA`` / ``-nX`` / ``-nK`` (or nothing)."""
    if not site:
        return None, None
    m = _SITE.fullmatch(site)
    if m is None:
        raise _error(
            raw,
            f"unexpected text {_show(site)} after the entity number",
            fix="a website number ends with '-n' (e.g. -1); apps, mini-programs and quick apps with -1A, -1X, -1K",
        )
    n_text, letter = m["n"], m["suffix"]
    if n_text.startswith("0") or len(n_text) > 4:
        raise _error(
            raw,
            f"website index {_show(n_text)} is not a number from 1 to 9999 without leading zeros",
            fix=_FIX_ICP,
        )
    suffix: _Suffix | None = None
    if letter:
        suffix = _SUFFIXES.get(letter)
        if suffix is None:
            raise _error(
                raw,
                f"unknown suffix {_show(letter)} after the website index",
                fix="apps end with A (-1A), mini-programs with X (-1X), quick apps with K (-1K); websites have none",
            )
    return int(n_text), suffix


def _icp_bei(raw: str, s: str) -> FilingNumber:
    m = _ICP_BEI.fullmatch(s)
    if m is None or s.count("ICP备") > 1:
        raise _error(raw, "the text holds more than one ICP filing number or is garbled", fix=_FIX_ICP)
    pre, digits, hao, site = m["pre"], m["digits"], m["hao"], m["site"]
    if not pre:
        raise _error(
            raw,
            "the province character before 'ICP备' is missing",
            fix="start with the character of the entity's home province, e.g. 沪ICP备2021012345号",
        )
    if len(pre) > 3 or not all(_CJK.fullmatch(ch) for ch in pre[1:]):
        raise _error(
            raw,
            f"unexpected text {_show(pre)} before 'ICP备'",
            fix="start with one province character, optionally followed by a university network character (沪交ICP备…)",
        )
    province, warnings = _province(raw, pre[0], "icp", _FIX_ICP)
    university = pre[1:] or None
    low = _MIN_DIGITS_UNIVERSITY if university else _MIN_DIGITS
    if not low <= len(digits) <= _MAX_DIGITS:
        also = "" if university else " (5 only on university network filings such as 沪交ICP备05045号)"
        raise _error(
            raw,
            f"an ICP filing number has {low} to {_MAX_DIGITS} digits after 'ICP备'{also}, found {len(digits)}",
            fix=_FIX_ICP,
        )
    base = f"{pre}ICP备{digits}号"
    index_first = not hao and _SITE_BEFORE_HAO.fullmatch(site) is not None
    if index_first:
        site = site[:-1]  # 滇ICP备09010050-5号: the index written before 号
    index, suffix = _site_part(raw, site)
    normalized = base if index is None else f"{base}-{index}{suffix or ''}"
    if index_first:
        warnings += (_INDEX_BEFORE_HAO.format(normalized=normalized),)
    elif not hao:
        warnings += (_MISSING_HAO.format(normalized=normalized),)
    return FilingNumber(
        raw=raw,
        normalized=normalized,
        kind="icp-entity" if index is None else "icp-site",
        province_code=province.code,
        province_char=pre[0],
        base=base,
        site_index=index,
        suffix=suffix,
        university=university,
        on_licence=False,
        warnings=warnings,
    )


def _permit_core(raw: str, s: str) -> tuple[PermitNumber, str] | None:
    """Parse a permit at the start of ``s``; return it with any trailing ``-n…`` text, or None if no permit marker."""
    if "ICP证" in s:
        return _icp_cert(raw, s)
    return _licence(raw, s)


def _icp_cert(raw: str, s: str) -> tuple[PermitNumber, str]:
    """``{char}ICP证{6 digits}号`` plus any trailing text."""
    m = _ICP_CERT.fullmatch(s)
    if m is None or s.count("ICP证") > 1:
        raise _error(raw, "the text holds more than one licence number or is garbled", fix=_FIX_PERMIT)
    pre, digits, hao, site = m["pre"], m["digits"], m["hao"], m["site"]
    if not pre:
        raise _error(
            raw,
            "the province character before 'ICP证' is missing",
            fix="start with the character of the issuing province, e.g. 沪ICP证123456号",
        )
    if len(pre) != 1:
        raise _error(
            raw,
            f"unexpected text {_show(pre)} before 'ICP证'",
            fix="start with the one character of the issuing province, e.g. 沪ICP证123456号",
        )
    province, warnings = _province(raw, pre, "licence", _FIX_PERMIT)
    if len(digits) != 6:
        raise _error(raw, f"an ICP证 licence number has 6 digits after 'ICP证', found {len(digits)}", fix=_FIX_PERMIT)
    normalized = f"{pre}ICP证{digits}号"
    if not hao:
        warnings += (_MISSING_HAO.format(normalized=normalized),)
    permit = PermitNumber(
        raw=raw,
        normalized=normalized,
        form="icp-cert",
        province_code=province.code,
        province_char=pre,
        categories=("ICP",),
        foreign_invested=False,
        miit_issued=False,
        serial=digits,
        warnings=warnings,
    )
    return permit, site


def _licence(raw: str, s: str) -> tuple[PermitNumber, str] | None:
    """``[char|合字]{categories}-{8 digits}`` plus any trailing ``-…`` text; None when not licence-shaped."""
    m = _LICENCE.fullmatch(s)
    if m is None:
        return None
    pre, cats, serial, site = m["pre"], m["cats"], m["serial"], m["site"]
    foreign = pre == _FOREIGN
    province: Province | None = None
    warnings: tuple[str, ...] = ()
    if pre and not foreign:
        if len(pre) != 1:
            raise _error(
                raw,
                f"unexpected text {_show(pre)} before the licence categories",
                fix="start with the issuing province's character (沪B2-…), '合字' for foreign-invested licences "
                "(合字B2-…) or nothing for MIIT-issued ones (B2-…)",
            )
        province, warnings = _province(raw, pre, "licence", _FIX_PERMIT)
    categories = tuple(cats.split("."))
    if not all(_CATEGORY.fullmatch(c) for c in categories) or len(set(categories)) != len(categories):
        raise _error(
            raw,
            f"{_show(cats)} is not a list of licence categories",
            fix="categories are A1, A2, B1, B2 joined by '.', e.g. B2 or A1.B1.B2 (B21/B25 is on the certificate, "
            "not in the number)",
        )
    if len(serial) != 8:
        raise _error(raw, f"a licence number has 8 digits after the categories, found {len(serial)}", fix=_FIX_PERMIT)
    permit = PermitNumber(
        raw=raw,
        normalized=f"{pre}{cats}-{serial}",
        form="licence",
        province_code=province.code if province else None,
        province_char=pre if province else None,
        categories=categories,
        foreign_invested=foreign,
        miit_issued=province is None,
        serial=serial,
        warnings=warnings,
    )
    return permit, site


def _on_licence(raw: str, permit: PermitNumber, site: str) -> FilingNumber:
    index, suffix = _site_part(raw, site)
    normalized = permit.normalized if index is None else f"{permit.normalized}-{index}{suffix or ''}"
    return FilingNumber(
        raw=raw,
        normalized=normalized,
        kind="icp-entity" if index is None else "icp-site",
        province_code=permit.province_code,
        province_char=permit.province_char,
        base=permit.normalized,
        site_index=index,
        suffix=suffix,
        university=None,
        on_licence=True,
        warnings=permit.warnings,
    )


def _psb(raw: str, s: str) -> PsbNumber:
    m = _PSB.fullmatch(s)
    if m is None or s.count("公网安备") > 1:
        raise _error(raw, "the text holds more than one PSB number or is garbled", fix=_FIX_PSB)
    pre, digits, hao, rest = m["pre"], m["digits"], m["hao"], m["rest"]
    if len(pre) > 1:
        raise _error(
            raw,
            f"unexpected text {_show(pre)} before '公网安备'",
            fix=f"start with at most one province character, e.g. {_PSB_EXAMPLE}",
        )
    if len(digits) not in _PSB_LENGTHS:
        raise _error(
            raw,
            f"a PSB number has 14 digits after '公网安备' (12 on legacy numbers), found {len(digits)}",
            fix=_FIX_PSB,
        )
    if rest:
        raise _error(raw, f"unexpected text {_show(rest)} after the {len(digits)} digits", fix=_FIX_PSB)
    code = digits[:2]
    by_digits = _table().by_code.get(code)
    if by_digits is None:
        raise _error(
            raw,
            f"digits 1-2 ({code}) of a PSB number must be a mainland province code, and {code} is none",
            fix="the digits start with the code of the accepting police bureau (e.g. 31… for Shanghai); " + _FIX_PSB,
        )
    warnings: tuple[str, ...] = ()
    if pre:
        by_char, _ = _province(raw, pre, "psb", _FIX_PSB)
        if by_char is not by_digits:
            warnings += (
                f"the prefix '{pre}' ({by_char.name_en}) does not match digits 1-2 '{code}' ({by_digits.name_en}); "
                "the digits are the key, check the prefix",
            )
        elif by_digits.psb_char and pre != by_digits.psb_char:
            warnings += (
                f"real PSB numbers of {by_digits.name_en} start with '{by_digits.psb_char}' "
                f"({by_digits.psb_char}公网安备{digits}号), not '{pre}'; check the number on beian.mps.gov.cn",
            )
    normalized = f"{pre}公网安备{digits}号"
    if not hao:
        warnings += (_MISSING_HAO.format(normalized=normalized),)
    return PsbNumber(
        raw=raw,
        normalized=normalized,
        digits=digits,
        province_code=code,
        province_char=pre or None,
        warnings=warnings,
        legacy=len(digits) == 12,
    )


# Parsing is pure and the results are frozen: a registry parses each number more than once (field check,
# warnings, cross-checks) and the rules parse the same numbers on every resource. Errors are not cached.
_CACHE_SIZE = 8192


# --- public parsers -----------------------------------------------------------------------------------------------


def _parse_icp(text: str) -> FilingNumber:
    """Uncached :func:`parse_icp`."""
    s = _clean(text, _FIX_ICP)
    if "ICP备" in s:
        return _icp_bei(text, s)
    if "公网安备" in s:
        raise _error(
            text,
            "this is a public security (PSB) filing number, not an ICP filing number",
            fix=f"give it as the PSB number and give the ICP filing number here, e.g. {_ICP_EXAMPLE}",
        )
    core = _permit_core(text, s)
    if core is None:
        raise _error(text, "not an ICP filing number", fix=_FIX_ICP)
    return _on_licence(text, *core)


_cached_icp = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_icp)


def parse_icp(text: str) -> FilingNumber:
    """Parse an ICP filing number (entity or website, including numbers built on a licence)."""
    return _cached_icp(text) if isinstance(text, str) else _parse_icp(text)


def _parse_permit(text: str) -> PermitNumber:
    """Uncached :func:`parse_permit`."""
    s = _clean(text, _FIX_PERMIT)
    if "ICP备" in s:
        raise _error(
            text,
            "this is an ICP filing number (ICP备), not a commercial permit",
            fix=f"give the permit number printed on the licence, e.g. {_PERMIT_EXAMPLE}",
        )
    if "公网安备" in s:
        raise _error(
            text,
            "this is a public security (PSB) filing number, not a commercial permit",
            fix=f"give the permit number printed on the licence, e.g. {_PERMIT_EXAMPLE}",
        )
    core = _permit_core(text, s)
    if core is None:
        raise _error(text, "not a commercial permit number", fix=_FIX_PERMIT)
    permit, site = core
    if site:
        raise _error(
            text,
            f"this is a website filing number built on a licence ({_show(site)} after the licence number), "
            "not the permit itself",
            fix=f"drop {_show(site)} to get the permit number, e.g. {permit.normalized}",
        )
    return permit


_cached_permit = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_permit)


def parse_permit(text: str) -> PermitNumber:
    """Parse a commercial permit number (ICP证 form or value-added telecom licence form)."""
    return _cached_permit(text) if isinstance(text, str) else _parse_permit(text)


def _parse_psb(text: str) -> PsbNumber:
    """Uncached :func:`parse_psb`."""
    s = _clean(text, _FIX_PSB)
    if "公网安备" not in s:
        hint = " (this looks like an ICP filing or permit number)" if "ICP" in s or _LICENCE.fullmatch(s) else ""
        raise _error(text, f"not a public security (PSB) filing number{hint}", fix=_FIX_PSB)
    return _psb(text, s)


_cached_psb = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_psb)


def parse_psb(text: str) -> PsbNumber:
    """Parse a public security filing number (公网安备)."""
    return _cached_psb(text) if isinstance(text, str) else _parse_psb(text)


def parse_any(text: str) -> FilingNumber | PermitNumber | PsbNumber:
    """Parse whichever kind of number ``text`` is. A licence number without ``-n`` is a PermitNumber."""
    s = _clean(text, _FIX_ANY)
    if "公网安备" in s:
        return _psb(text, s)
    if "ICP备" in s:
        return _icp_bei(text, s)
    core = _permit_core(text, s)
    if core is None:
        raise _error(
            text,
            "not an ICP filing, commercial permit or public security filing number",
            fix=_FIX_ANY,
        )
    permit, site = core
    return _on_licence(text, permit, site) if site else permit
