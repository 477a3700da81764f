"""domain-eligible (mandatory): approved TLD, China-accredited registrar, real-name verified."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import DOMAIN_ELIGIBLE, MIIT_LINK
from china_site.policies._adapter import resource_policy

POLICY = resource_policy(
    name=DOMAIN_ELIGIBLE,
    display_name="Domain eligible for ICP filing",
    description=(
        "A domain served from the mainland must be under a top-level domain on MIIT's approved list, registered "
        "with an MIIT-accredited registrar, and real-name verified; its holder is the filing entity, its legal "
        "representative, or (with proof recorded) a shareholder or senior manager."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "1. Use a domain under an approved suffix (.cn, .com.cn, .com, .net, …); approvedTlds/deniedTlds adjust "
        "the list (.org, .dev and .tech are disputed: not approved by default).\n"
        "2. Transfer the domain to an MIIT-accredited registrar (for example Alibaba Cloud), or buy a new one there.\n"
        "3. Complete real-name verification with the filing entity as holder."
    ),
    url=MIIT_LINK,
    tags=["china", "domain", "icp"],
)
