"""commercial-permit-required (mandatory): payments on the mainland need a valid B25 (B21 for platforms) permit."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import COMMERCIAL_PERMIT_REQUIRED
from china_site.policies._adapter import resource_policy

PERMIT_LINK = "https://tsm.miit.gov.cn/"

POLICY = resource_policy(
    name=COMMERCIAL_PERMIT_REQUIRED,
    display_name="Commercial ICP permit for payments",
    description="A mainland site that takes payments needs a valid commercial ICP permit (B25; B21 for platforms).",
    details=(
        "A mainland site that takes payments (tag china-site:payments=true, or payments: true in the registry) "
        "needs a valid commercial ICP permit (B25, ICP经营许可证) held by its filing entity; a platform for "
        "third-party sellers (china-site:platform=true) needs an EDI permit (B21). Foreign-invested entities hold "
        "B25 only in the pilot zones, and there only for the information services notice 工信部通信函〔2024〕107号 "
        "opens (information-publishing platforms and delivery services, information protection and processing; "
        "not news, publishing, audio-visual or internet culture)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "1. Obtain the permit from the provincial communications administration (or MIIT) and record it under the "
        "entity's permits in the registry (number, kind, issued, expires).\n"
        "2. Or sell inside a marketplace (Tmall, Taobao) whose operator holds the permit.\n"
        "3. A store selling only its own goods is a disputed case: set ownGoodsNeedPermit: false to relax it for sites "
        "marked own_goods: true in the registry (or tagged china-site:own-goods=true)."
    ),
    url=PERMIT_LINK,
    tags=["china", "permit", "payments"],
)
