"""filing-registry-consistent (advisory): the registry's dates for a served site agree with the filing rules."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import FILING_REGISTRY_CONSISTENT, MIIT_LINK
from china_site.policies._adapter import resource_policy

POLICY = resource_policy(
    name=FILING_REGISTRY_CONSISTENT,
    display_name="Filing registry consistent",
    description=(
        "The registry entries behind a mainland site agree with the filing rules: a permit runs at most 5 years, "
        "the site was not launched before its ICP approval, the PSB filing is not dated before the launch, and the "
        "domain's real-name verification was completed at least 3 days before the filing."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps=(
        "1. Correct the dates the message names from the licence, beian.miit.gov.cn and beian.mps.gov.cn.\n"
        "2. Run `china-site filings validate SRC`: it lists the same points as warnings."
    ),
    url=MIIT_LINK,
    tags=["china", "registry"],
)
