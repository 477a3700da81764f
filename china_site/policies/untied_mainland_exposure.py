"""untied-mainland-exposure (advisory): a public mainland resource that no domain is tied to."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import MIIT_LINK
from china_site.policies._adapter import UNTIED_MAINLAND_EXPOSURE, resource_policy

POLICY = resource_policy(
    name=UNTIED_MAINLAND_EXPOSURE,
    display_name="Mainland exposure without a known domain",
    description="A public mainland resource shows no domain, so its ICP filing cannot be checked.",
    details=(
        "A resource reachable from the internet in mainland China (public IP, internet load balancer, …) shows no "
        "domain, so its ICP filing cannot be checked; Alibaba Cloud blocks unfiled Host/SNI names on it."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "1. Tag the resource with china-site:domain=<host> (the Site components do), or point an Alibaba Cloud DNS "
        "record of this stack at it (dns-linked-exposure then checks the name).\n"
        "2. Or keep it private (no public bandwidth, intranet address type)."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "alicloud"],
)
