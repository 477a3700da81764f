"""filing-registry-available (stack, mandatory): the filing registry can be read and is valid — fail closed."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import FILING_REGISTRY_AVAILABLE, MIIT_LINK
from china_site.policies._adapter import check_registry_available, stack_policy

POLICY = stack_policy(
    name=FILING_REGISTRY_AVAILABLE,
    display_name="Filing registry available",
    description="The filing registry and the pack's configuration must be readable and valid.",
    details=(
        "The filing registry (policy config 'filings', else stack config china-site:filings, else filings.yaml in "
        "the Pulumi project) must be readable and valid whenever the stack has Alibaba Cloud resources to check. "
        "While it is not, the resource policies check nothing and this policy blocks. It blocks as well when any "
        "policy's config entry is invalid (an unknown or mistyped key, a wrong value): that policy would check "
        "nothing, whatever its own level."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=(
        "1. Run `china-site filings validate SRC` and fix the entry and field it names.\n"
        "2. Check the source: the path (relative to the Pulumi project), or oss://BUCKET/KEY / s3://BUCKET/KEY "
        "and the credentials that read it."
    ),
    url=MIIT_LINK,
    tags=["china", "registry"],
    validate=check_registry_available,
)
