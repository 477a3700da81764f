"""dns-linked-exposure (stack, mandatory): a DNS record ties its name to a mainland resource — check that name."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import MIIT_LINK
from china_site.policies._adapter import DNS_LINKED_EXPOSURE, check_dns_linked, stack_policy

POLICY = stack_policy(
    name=DNS_LINKED_EXPOSURE,
    display_name="Domains tied by DNS records",
    description="A DNS record pointing at a mainland resource of this stack must meet every filing rule for its name.",
    details=(
        "An Alibaba Cloud DNS record (dns.AlidnsRecord) whose value is a mainland EIP/ECS/SLB/ALB/NLB address or a "
        "CDN/DCDN cname of this stack makes that resource serve the record's name: every mandatory rule "
        "(ICP filing, PSB, permit, domain) is checked for that name and reported on the DNS record."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=(
        "1. Follow the fix of the rule named in brackets in the message (e.g. [icp-filing-required]).\n"
        "2. Or point the record at a Hong Kong/overseas resource, or remove it."
    ),
    url=MIIT_LINK,
    tags=["china", "dns", "icp"],
    validate=check_dns_linked,
)
