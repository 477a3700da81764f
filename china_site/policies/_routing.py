"""Pack policy names and routing: which pack policy reports a core (policy, enforcement) finding.

Pulumi's Python SDK fixes the enforcement level per *policy*, not per violation, so the core's pairs are routed:
the advisory PSB finding goes to ``psb-filing-due``, the advisory "public but no domain tied to it" ICP finding to
``untied-mainland-exposure``; every other pair goes to the pack policy of the same name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from china_site.model import (
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    FILED_DOMAIN_OFF_MAINLAND,
    FILING_REGISTRY_CONSISTENT,
    ICP_FILING_REQUIRED,
    ICP_NUMBER_DISPLAYED,
    PSB_FILING_REQUIRED,
    Finding,
)

PACK_NAME: Final = "china-site"

# Pack-only policy names (the SDK's one-level-per-policy constraint; see the module docstring).
PSB_FILING_DUE: Final = "psb-filing-due"
UNTIED_MAINLAND_EXPOSURE: Final = "untied-mainland-exposure"
DNS_LINKED_EXPOSURE: Final = "dns-linked-exposure"

# (core policy, enforcement) → pack policy. Pairs not listed go to the pack policy of the core policy's name.
ROUTES: Final[Mapping[tuple[str, str], str]] = {
    (ICP_FILING_REQUIRED, "mandatory"): ICP_FILING_REQUIRED,
    (ICP_FILING_REQUIRED, "advisory"): UNTIED_MAINLAND_EXPOSURE,
    (PSB_FILING_REQUIRED, "mandatory"): PSB_FILING_REQUIRED,
    (PSB_FILING_REQUIRED, "advisory"): PSB_FILING_DUE,
    (COMMERCIAL_PERMIT_REQUIRED, "mandatory"): COMMERCIAL_PERMIT_REQUIRED,
    (DOMAIN_ELIGIBLE, "mandatory"): DOMAIN_ELIGIBLE,
    (FILED_DOMAIN_OFF_MAINLAND, "advisory"): FILED_DOMAIN_OFF_MAINLAND,
    (ICP_NUMBER_DISPLAYED, "advisory"): ICP_NUMBER_DISPLAYED,
    (FILING_REGISTRY_CONSISTENT, "advisory"): FILING_REGISTRY_CONSISTENT,
}

# Types whose CDN scope ``icp-filing-required`` may rewrite to ``overseas`` (enforcement ``remediate``).
SCOPE_REMEDIABLE_TYPES: Final = frozenset(
    {"alicloud:cdn/domainNew:DomainNew", "alicloud:cdn/domain:Domain", "alicloud:dcdn/domain:Domain"}
)
# Homepage-footer inputs (china-site:index:SiteContent, a pre-plugin dynamic one, or any resource that carries them).
DISPLAY_KEYS: Final = ("icpNumberDisplayed", "psbNumberDisplayed")


def route(finding: Finding) -> str:
    """The pack policy that reports a core finding."""
    return ROUTES.get((finding.policy, finding.enforcement), finding.policy)


@functools.cache
def core_rules_for(pack_policy: str) -> tuple[str, ...]:
    """The core rules whose findings may be routed to ``pack_policy``."""
    names = [core for (core, _), target in ROUTES.items() if target == pack_policy]
    if pack_policy not in names and pack_policy in {core for core, _ in ROUTES}:
        names.append(pack_policy)  # the fallback route (unlisted enforcement)
    return tuple(dict.fromkeys(names))
