"""icp-number-displayed (advisory): the homepage footer shows the ICP (and PSB) number."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import ICP_NUMBER_DISPLAYED, MIIT_LINK
from china_site.policies._adapter import resource_policy

POLICY = resource_policy(
    name=ICP_NUMBER_DISPLAYED,
    display_name="ICP number in the homepage footer",
    description="A mainland site's homepage must show its ICP number (and PSB number once filed).",
    details=(
        "A mainland site's homepage must show its ICP number linked to beian.miit.gov.cn (and, once filed, its PSB "
        "number). Read from the icpNumberDisplayed/psbNumberDisplayed inputs that SiteContent records."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps=(
        "1. Generate the footer with `china-site footer DOMAIN --filings …` and add it to the homepage.\n"
        "2. Run `pulumi up` again so SiteContent re-checks the homepage."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "footer"],
)
