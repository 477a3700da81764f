"""psb-filing-due (advisory): the public-security filing is missing but still inside the 30-day window."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import MPS_LINK
from china_site.policies._adapter import PSB_FILING_DUE, resource_policy

POLICY = resource_policy(
    name=PSB_FILING_DUE,
    display_name="PSB filing due",
    description="A mainland site's PSB (public-security) filing is due: file it before the deadline.",
    details=(
        "A mainland site with an ICP filing has no public-security (PSB) filing yet and is still inside the "
        "30-day window after launch (psbGraceDays): file it before the deadline the message gives. Past the "
        "deadline, psb-filing-required blocks instead."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps=(
        "1. File at beian.mps.gov.cn before the deadline in the message.\n"
        "2. Record psb_number and psb_filed in the registry."
    ),
    url=MPS_LINK,
    tags=["china", "psb", "filing"],
)
