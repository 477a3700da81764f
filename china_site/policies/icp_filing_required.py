"""icp-filing-required (mandatory; supports ``remediate``): mainland exposure needs an approved ICP filing."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import ICP_FILING_REQUIRED, MIIT_LINK
from china_site.policies._adapter import remediate_cdn_scope, resource_policy

POLICY = resource_policy(
    name=ICP_FILING_REQUIRED,
    display_name="ICP filing required for mainland exposure",
    description="Mainland internet exposure needs an approved ICP filing with Alibaba Cloud as access provider.",
    details=(
        "A resource reachable from the internet in mainland China (or a CDN/DCDN domain with scope domestic or "
        "global) must serve only domains covered by an approved ICP filing that lists Alibaba Cloud as access "
        "provider. With enforcement 'remediate', a CDN/DCDN domain without one gets scope 'overseas' instead."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=(
        "1. File the domain for ICP through Alibaba Cloud's filing system (beian.aliyun.com) and wait for the "
        "approval; record status: approved, the approval date and access_providers: [alibaba-cloud] in the "
        "registry.\n"
        "2. If it is filed elsewhere, submit an access filing (新增接入) through Alibaba Cloud.\n"
        "3. Until then serve it from Hong Kong: region cn-hongkong, or CDN scope 'overseas' (set this policy's "
        "enforcement to 'remediate' to rewrite CDN/DCDN scope automatically)."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "alicloud", "filing"],
    remediate=remediate_cdn_scope,
)
