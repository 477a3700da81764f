"""What every rule's findings share: where an exposure is, which names it serves, and the bilingual finding builders.

Split from :mod:`china_site.rules` (the rule machinery vs the rules themselves). The Alibaba Cloud error a deploy hits
for an unfiled domain, per resource family, is data (``data/error_codes.yaml``). No Pulumi imports.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles, domains
from china_site.errors import ChinaSiteError
from china_site.model import (
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    ICP_FILING_REQUIRED,
    ICP_NUMBER_DISPLAYED,
    MIIT_LINK,
    MPS_LINK,
    PSB_FILING_REQUIRED,
    Exposure,
    Finding,
)

__all__ = [
    "BLOCKED",
    "PERMIT_LINK",
    "applies_mainland",
    "domain_finding",
    "finding",
    "footer_finding",
    "host_forms",
    "icp_finding",
    "invalid_domains",
    "permit_finding",
    "psb_finding",
    "served_domains",
    "unfiled_error",
    "unknown_note",
    "what",
    "where",
    "where_zh",
]

PERMIT_LINK = "https://tsm.miit.gov.cn/"

BLOCKED = "no API error: Alibaba Cloud serves its interception page (unfiled Host/SNI blocked)"


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
def error_codes() -> dict[str, _Family]:
    """The unfiled-domain error per resource family (``data/error_codes.yaml``)."""
    return datafiles.validated("error_codes", _ErrorCodeFile).families


def unfiled_error(exposure: Exposure) -> str:
    """The Alibaba Cloud error (or behaviour) a deploy hits when ``exposure``'s domain has no ICP filing: by the
    resource's family (its product), or by the Pulumi module of its type token where that module's API differs."""
    family = error_codes().get(exposure.product or "")
    if family is None:
        return BLOCKED
    module = exposure.resource.split(":", 2)[1].split("/", 1)[0] if exposure.resource.count(":") >= 2 else ""
    return family.modules.get(module, family).text()


def what(exposure: Exposure) -> str:
    label = exposure.resource
    if exposure.name:
        label += f" '{exposure.name}'"
    return label


# Products placed by a CDN-like scope (scope / coverage) rather than a region (china_site/data/exposure_types.yaml).
SCOPED_PRODUCTS: Final = frozenset({"cdn", "dcdn", "vod", "live", "esa"})


def where(exposure: Exposure) -> str:
    if exposure.region_guessed:
        region = exposure.region or "none given"
        why = f"; {exposure.region_note}" if exposure.region_note else ""
        return f"mainland China (region {region} is unknown, treated as mainland: fail closed{why})"
    if exposure.product in SCOPED_PRODUCTS and exposure.area == "mainland" and exposure.region is None:
        return "mainland China (CDN scope serves mainland nodes)"
    if exposure.region:
        return f"{exposure.area} ({exposure.region})"
    return exposure.area


def where_zh(exposure: Exposure) -> str:
    if exposure.region_guessed:
        return "中国内地（地域未知，按内地处理）"
    return {"mainland": "中国内地", "hongkong": "中国香港", "overseas": "境外"}[exposure.area]


def unknown_note(exposure: Exposure) -> str:
    if not exposure.unknown:
        return ""
    names = ", ".join(exposure.unknown)
    return f" ({names} unknown during preview: assumed the stricter value; checked again at update)"


def host_forms(host: str) -> tuple[str, str]:
    """(ASCII, display) for a host name; display shows Unicode for IDNs."""
    ascii_host = domains.to_ascii(host)
    if "xn--" not in ascii_host:  # no punycode label: the display form is the ASCII form (no IDNA decoding)
        return ascii_host, ascii_host
    try:
        shown = domains.to_unicode(ascii_host)
    except ChinaSiteError:
        shown = ascii_host
    return ascii_host, shown if shown == ascii_host else f"{shown} ({ascii_host})"


def served_domains(exposure: Exposure) -> Iterable[tuple[str, str]]:
    """Host names an exposure serves, skipping IP literals and names that are not valid hosts."""
    seen: set[str] = set()
    for raw in exposure.domains:
        try:
            if domains.is_ip(raw):
                continue
            ascii_host, shown = host_forms(raw)
        except ChinaSiteError:
            continue
        if ascii_host not in seen:
            seen.add(ascii_host)
            yield ascii_host, shown


def invalid_domains(exposure: Exposure) -> list[str]:
    """Names that are neither IP literals nor valid host names: fail closed, never skipped silently."""
    bad: list[str] = []
    for raw in exposure.domains:
        try:
            if not domains.is_ip(raw):
                domains.to_ascii(raw)
        except ChinaSiteError:
            bad.append(raw)
    return bad


def applies_mainland(exposure: Exposure) -> bool:
    return exposure.public and exposure.area == "mainland"


def finding(policy: str, enforcement: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    return Finding(policy=policy, enforcement=enforcement, message_en=en, message_zh=zh, fix=fix, **kw)  # type: ignore[arg-type]


# One helper per rule family: what all of the family's findings share (policy, link, need; the resource and domain).


def icp_finding(
    exposure: Exposure, en: str, zh: str, fix: str, *, enforcement: str = "mandatory", **kw: object
) -> Finding:
    """Rules 1–3, 8, 9; ``kw``: the domain and the Alibaba Cloud error, where known."""
    kw.setdefault("need", "icp-filing")
    kw.update(link=MIIT_LINK, resource=exposure.resource)
    return finding(ICP_FILING_REQUIRED, enforcement, en, zh, fix, **kw)


def psb_finding(exposure: Exposure, host: str, enforcement: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    kw.update(link=MPS_LINK, domain=host, resource=exposure.resource, need="psb-filing")
    return finding(PSB_FILING_REQUIRED, enforcement, en, zh, fix, **kw)


def permit_finding(exposure: Exposure, host: str, need: str, en: str, zh: str, fix: str) -> Finding:
    kw = {"link": PERMIT_LINK, "domain": host, "resource": exposure.resource, "need": need}
    return finding(COMMERCIAL_PERMIT_REQUIRED, "mandatory", en, zh, fix, **kw)


def domain_finding(exposure: Exposure, host: str, need: str, en: str, zh: str, fix: str, **kw: object) -> Finding:
    kw.update(link=MIIT_LINK, domain=host, resource=exposure.resource, need=need)
    return finding(DOMAIN_ELIGIBLE, "mandatory", en, zh, fix, **kw)


def footer_finding(exposure: Exposure, host: str, link: str, en: str, zh: str, fix: str) -> Finding:
    kw = {"link": link, "domain": host, "resource": exposure.resource}
    return finding(ICP_NUMBER_DISPLAYED, "advisory", en, zh, fix, **kw)
