"""filed-domain-off-mainland (advisory): a filed domain served from Hong Kong/overseas may lose its access record."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import FILED_DOMAIN_OFF_MAINLAND, MIIT_LINK
from china_site.policies._adapter import resource_policy

POLICY = resource_policy(
    name=FILED_DOMAIN_OFF_MAINLAND,
    display_name="Filed domain served off the mainland",
    description="A domain filed through Alibaba Cloud but served off the mainland risks losing its access record.",
    details=(
        "A domain filed with Alibaba Cloud as access provider but served from Hong Kong or overseas (region "
        "cn-hongkong, CDN scope overseas) can receive 'inaccurate access' notices and lose Alibaba Cloud as access "
        "provider, leaving an empty filing."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "1. Keep at least the main site on a mainland Alibaba Cloud resource (region cn-*, CDN scope domestic or "
        "global).\n"
        "2. Or accept the risk and record a waiver with a reason and an expiry date."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "hongkong"],
)
