"""unreviewed-exposure (mandatory): a resource type the exposure data does not know, with inputs that look public,
in mainland China (or an unknown region)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from china_site.model import MIIT_LINK
from china_site.policies._config import config_schema
from china_site.policies._reporting import guarded
from china_site.policies._unreviewed import check_unreviewed
from china_site.unreviewed import UNREVIEWED_EXPOSURE

POLICY = ResourceValidationPolicy(
    name=UNREVIEWED_EXPOSURE,
    display_name="Unreviewed resource type that looks public on the mainland",
    description=(
        "A pulumi-alicloud resource type that china-site's exposure data does not classify (a newer provider than the "
        "one reviewed), with inputs that look public (internet, public, EIP, domain, ACL, scope, …), in mainland "
        "China: it may expose a site without an ICP filing, and the pack cannot judge it."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "1. Use a china-site release reviewed against your pulumi-alicloud, or pin pulumi-alicloud to the version "
        "the data names.\n"
        "2. Or check the type yourself and waive it (a `waivers` entry with a reason and an expiry), or lower this "
        "policy's enforcementLevel."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "alicloud", "coverage"],
    validate=guarded(UNREVIEWED_EXPOSURE, check_unreviewed(UNREVIEWED_EXPOSURE)),
    config_schema=config_schema(),
)
