"""unreviewed-type (advisory): any other resource type the exposure data does not know — named, never passed
silently, without blocking a harmless new type."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from china_site.model import MIIT_LINK
from china_site.policies._config import config_schema
from china_site.policies._reporting import guarded
from china_site.policies._unreviewed import check_unreviewed
from china_site.unreviewed import UNREVIEWED_TYPE

POLICY = ResourceValidationPolicy(
    name=UNREVIEWED_TYPE,
    display_name="Unreviewed resource type",
    description=(
        "A pulumi-alicloud resource type that china-site's exposure data does not classify (a newer provider than the "
        "one reviewed), with no input that looks public, or outside the mainland: named so that it is reviewed."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps=(
        "1. Use a china-site release reviewed against your pulumi-alicloud, or pin pulumi-alicloud to the version "
        "the data names.\n"
        "2. Or set this policy's enforcementLevel to mandatory to block every unreviewed type."
    ),
    url=MIIT_LINK,
    tags=["china", "alicloud", "coverage"],
    validate=guarded(UNREVIEWED_TYPE, check_unreviewed(UNREVIEWED_TYPE)),
    config_schema=config_schema(),
)
