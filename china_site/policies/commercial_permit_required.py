"""commercial-permit-required (mandatory): payments on the mainland need a valid B25 (B21 for platforms) permit."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from china_site.model import COMMERCIAL_PERMIT_REQUIRED
from china_site.policies._adapter import resource_policy

PERMIT_LINK = "https://tsm.miit.gov.cn/"

POLICY = resource_policy(
    name=COMMERCIAL_PERMIT_REQUIRED,
    display_name="Commercial ICP permit for payments",
    description=(
        "A mainland site that takes payments (tag china-site:payments=true, or payments: true in the registry) "
        "needs a valid commercial ICP permit (B25, ICP经营许可证) held by its filing entity; a platform for "
        "third-party sellers (china-site:platform=true) needs an EDI permit (B21). B25 is capped at 50% foreign "
        "equity: a joint venture at or below 50% may hold it anywhere; above 50% (a WFOE included) only in the pilot "
        "zones at their real granularity (Shenzhen, not Guangdong; Pudong and Lin-gang, not Shanghai; Beijing's and "
        "Hainan's zones) with MIIT's pilot approval, and there only for the information services notice "
        "工信部通信函〔2024〕107号 opens (information-publishing platforms and delivery services, information "
        "protection and processing; not news, publishing, audio-visual or internet culture)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "1. Obtain the permit from the provincial communications administration (or MIIT) and record it under the "
        "entity's permits in the registry (number, kind, issued, expires).\n"
        "2. Or sell inside a marketplace (Tmall, Taobao) whose operator holds the permit.\n"
        "3. A store selling only its own goods is a disputed case: ten provincial administrations (e.g. Henan 2023) "
        "exempt it without third-party sellers; set ownGoodsNeedPermit: false to relax it for sites marked "
        "own_goods: true in the registry (or tagged china-site:own-goods=true).\n"
        "4. Foreign-invested: record foreign_share, and city/district/pilot_zone and pilot_approval in the registry."
    ),
    url=PERMIT_LINK,
    tags=["china", "permit", "payments"],
)
