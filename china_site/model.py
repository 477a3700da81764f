"""Typed values shared by the core, the components, the policy pack and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Area = Literal["mainland", "hongkong", "overseas"]
Enforcement = Literal["mandatory", "advisory", "disabled", "remediate"]

# Policy names (DESIGN.md contract).
ICP_FILING_REQUIRED = "icp-filing-required"
PSB_FILING_REQUIRED = "psb-filing-required"
COMMERCIAL_PERMIT_REQUIRED = "commercial-permit-required"
DOMAIN_ELIGIBLE = "domain-eligible"
FILING_REGISTRY_AVAILABLE = "filing-registry-available"
FILED_DOMAIN_OFF_MAINLAND = "filed-domain-off-mainland"
ICP_NUMBER_DISPLAYED = "icp-number-displayed"
FILING_REGISTRY_CONSISTENT = "filing-registry-consistent"

POLICY_NAMES: tuple[str, ...] = (
    ICP_FILING_REQUIRED,
    PSB_FILING_REQUIRED,
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    FILING_REGISTRY_AVAILABLE,
    FILED_DOMAIN_OFF_MAINLAND,
    ICP_NUMBER_DISPLAYED,
    FILING_REGISTRY_CONSISTENT,
)

DEFAULT_ENFORCEMENT: dict[str, Enforcement] = {
    ICP_FILING_REQUIRED: "mandatory",
    PSB_FILING_REQUIRED: "mandatory",
    COMMERCIAL_PERMIT_REQUIRED: "mandatory",
    DOMAIN_ELIGIBLE: "mandatory",
    FILING_REGISTRY_AVAILABLE: "mandatory",
    FILED_DOMAIN_OFF_MAINLAND: "advisory",
    ICP_NUMBER_DISPLAYED: "advisory",
    FILING_REGISTRY_CONSISTENT: "advisory",
}

MIIT_LINK = "https://beian.miit.gov.cn/"
MPS_LINK = "https://beian.mps.gov.cn/"


@dataclass(frozen=True)
class Exposure:
    """What one resource (or one site) exposes, as the rules need to see it.

    ``public`` is False for resources that serve nothing to the internet; the rules then find nothing.
    ``area`` is where the content is served from: a mainland region, Hong Kong, or elsewhere.
    ``region_guessed`` is True when the region was unknown and ``area`` was set to mainland to fail closed.
    ``region_note`` says why the region is unknown (shown with ``region_guessed``).
    ``domains`` are host names (any case, Unicode or punycode); empty when the resource is reachable only by IP
    or the domain is not known. ``unknown`` names inputs that were unknown at preview time.
    """

    resource: str  # type token or a short label, e.g. "alicloud:cdn/domainNew:DomainNew"
    name: str = ""
    public: bool = True
    area: Area = "mainland"
    region: str | None = None
    region_guessed: bool = False
    domains: tuple[str, ...] = ()
    payments: bool = False
    platform: bool = False  # hosts third-party sellers (B21/EDI instead of B25)
    own_goods: bool = False  # sells only its own goods (disputed: strict by default)
    icp_number_displayed: bool | None = None  # result of the homepage footer check; None = not checked
    psb_number_displayed: bool | None = None
    unknown: tuple[str, ...] = ()
    product: str | None = None  # "cdn", "dcdn", "oss", "ecs", "slb", "fc", "waf", "ga", "dns", "cs", …
    # Properties that should name the host but cannot be read as one (a number, a list, an IP, missing) on a type
    # that is only public with a domain: a mandatory finding (fail closed), never the advisory "no domain tied".
    domain_unreadable: tuple[str, ...] = ()
    region_note: str = ""  # why the region is unknown, when it is (e.g. an explicit provider without region)


@dataclass(frozen=True)
class Finding:
    policy: str
    enforcement: Enforcement
    message_en: str
    message_zh: str
    fix: str
    alibaba_error: str | None = None  # the Alibaba Cloud error the deploy would have hit, where known
    link: str | None = None
    domain: str | None = None
    resource: str | None = None
    need: str | None = None  # advise slug of what is missing: icp-filing, psb-filing, commercial-permit, …

    @property
    def message(self) -> str:
        """Bilingual multi-line message: English, Chinese, Alibaba error, fix, link."""
        lines = [self.message_en, self.message_zh]
        if self.alibaba_error:
            lines.append(f"Alibaba Cloud error the deploy would hit: {self.alibaba_error}")
        lines.append(f"Fix: {self.fix}")
        if self.link:
            lines.append(f"Filing system: {self.link}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RuleOptions:
    """Switches for the points where sources disagree. Defaults are the stricter reading (DOMAIN.md)."""

    psb_grace_days: int = 30
    access_provider: str = "alibaba-cloud"
    own_goods_need_permit: bool = True  # disputed [B]: strict by default
    advertising_needs_permit: bool = True  # per Alibaba Cloud
    approved_tlds: tuple[str, ...] = ()  # extra TLDs to treat as approved (e.g. "org", "dev")
    denied_tlds: tuple[str, ...] = ()  # TLDs to treat as not approved
    require_registrar_in_china: bool = True
    require_real_name: bool = True
    pilot_zones: tuple[str, ...] | None = None  # zone ids from data/pilot_zones.yaml; None = all of them
    untied_exposure: Enforcement = "advisory"  # mainland public resource with no known domain
    guangdong_entity_number_in_footer: bool = True
    extra: dict[str, object] = field(default_factory=dict)
