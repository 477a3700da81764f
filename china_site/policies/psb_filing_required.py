"""psb-filing-required (mandatory): the public-security filing is overdue (past the 30-day window)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import MPS_LINK, PSB_FILING_REQUIRED
from china_site.policies._adapter import resource_policy

POLICY = resource_policy(
    name=PSB_FILING_REQUIRED,
    display_name="PSB filing overdue",
    description="A mainland site must complete its PSB (public-security) filing within 30 days of launch.",
    details=(
        "A mainland site with an ICP filing must complete its public-security (PSB, 公安联网备案) filing within "
        "30 days of launch (psbGraceDays). This policy reports sites past that window; inside it, psb-filing-due "
        "warns."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "1. File at the national Internet security filing platform (beian.mps.gov.cn).\n"
        "2. Record psb_number and psb_filed for the site in the registry.\n"
        "3. Show the PSB number and emblem in the homepage footer (`china-site footer DOMAIN --filings …`)."
    ),
    url=MPS_LINK,
    tags=["china", "psb", "filing"],
)
