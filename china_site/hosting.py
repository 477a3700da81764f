"""Hong Kong vs mainland: the advisor (``china-site advise``) and the components' hosting decision.

INTERFACE STUB — signatures are the contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from china_site.errors import ChinaSiteError
from china_site.filings import FilingRegistry
from china_site.model import Finding, RuleOptions

HostingMode = Literal["mainland", "hongkong", "auto"]
CdnScope = Literal["domestic", "global", "overseas"]

DEFAULT_MAINLAND_REGION = "cn-shanghai"
HONGKONG_REGION = "cn-hongkong"


class HostingError(ChinaSiteError):
    """Raised at program time when ``hosting: mainland`` is asked for a domain the rules do not allow."""


@dataclass(frozen=True)
class HostingDecision:
    hosting: Literal["mainland", "hongkong"]
    region: str
    cdn_scope: CdnScope
    reasons: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default_factory=tuple)  # what mainland would still need
    icp_number: str | None = None  # number to show in the footer (Guangdong: entity number)
    psb_number: str | None = None


def decide(
    domain: str,
    mode: HostingMode,
    registry: FilingRegistry | None,
    *,
    today: dt.date,
    payments: bool = False,
    mainland_region: str = DEFAULT_MAINLAND_REGION,
    cdn_global: bool = False,
    options: RuleOptions | None = None,
) -> HostingDecision:
    """Where a site may be hosted. ``mainland`` that the rules refuse raises HostingError (bilingual)."""
    raise NotImplementedError
