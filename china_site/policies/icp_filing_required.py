"""icp-filing-required (mandatory; supports ``remediate``): mainland exposure needs an approved ICP filing."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import ICP_FILING_REQUIRED, MIIT_LINK
from china_site.policies._adapter import remediate_cdn_scope, resource_policy

POLICY = resource_policy(
    name=ICP_FILING_REQUIRED,
    display_name="ICP filing required for mainland exposure",
    description=(
        "A resource reachable from the internet in mainland China (or a CDN/DCDN domain with scope domestic or "
        "global) must serve only domains covered by an approved ICP filing; where Alibaba Cloud hosts the origin "
        "(ECS, load balancers, OSS, FC, SAE, …) the filing must list Alibaba Cloud as access provider, while CDN, DCDN "
        "and Global Accelerator accept a valid filing from any provider. A regulated sector needs its pre-approval "
        "(前置审批). With enforcement 'remediate', a CDN/DCDN domain without a usable filing gets scope 'overseas'."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=(
        "1. File the domain for ICP through Alibaba Cloud's filing system (beian.aliyun.com) and wait for the "
        "approval; record status: approved, the approval date and access_providers: [alibaba-cloud] in the "
        "registry.\n"
        "2. If it is filed elsewhere and Alibaba Cloud hosts the origin, submit an access filing (新增接入) through "
        "Alibaba Cloud, or keep the origin private behind the CDN.\n"
        "3. Until then serve it from Hong Kong: region cn-hongkong, or CDN scope 'overseas' (set this policy's "
        "enforcement to 'remediate' to rewrite CDN/DCDN scope automatically)."
    ),
    url=MIIT_LINK,
    tags=["china", "icp", "alicloud", "filing"],
    remediate=remediate_cdn_scope,
)
