"""The china-site CrossGuard policy pack: the policies, in a stable order, and the pack's entry point.

``POLICIES`` is what ``python -m pulumi.policy`` serves (through :func:`main`) and what the offline engine feeds
in-process. Importing this module imports only pulumi_policy, the policy modules and the light core modules; the
registry loader, YAML, boto3 and the Alibaba Cloud SDK load on first use.
"""

from __future__ import annotations

import contextlib

import commercial_permit_required
import dns_linked_exposure
import domain_eligible
import filed_domain_off_mainland
import filing_registry_available
import icp_filing_required
import icp_number_displayed
import psb_filing_due
import psb_filing_required
import untied_mainland_exposure
from _adapter import PACK_NAME, set_engine_stack_config
from pulumi_policy import Policy, PolicyPack

POLICIES: list[Policy] = [
    icp_filing_required.POLICY,
    psb_filing_required.POLICY,
    psb_filing_due.POLICY,
    commercial_permit_required.POLICY,
    domain_eligible.POLICY,
    filed_domain_off_mainland.POLICY,
    icp_number_displayed.POLICY,
    untied_mainland_exposure.POLICY,
    filing_registry_available.POLICY,
    dns_linked_exposure.POLICY,
]

DESCRIPTION = (
    "No mainland China exposure on Alibaba Cloud without the filings: ICP filing through Alibaba Cloud, PSB filing "
    "on time, a commercial permit for payments, an eligible domain."
)


def _forward_stack_config() -> None:
    """Let the policies see the stack config the engine sends in ConfigureStack (the SDK keeps only the tags).

    PULUMI_CONFIG (environment) is read as well; this only adds what an engine passes over gRPC instead.
    """
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer
        original = servicer.ConfigureStack
    except (ImportError, AttributeError):
        return
    if getattr(original, "_china_site", False):
        return  # already forwarded (idempotent)

    def configure_stack(self, request, context):  # type: ignore[no-untyped-def]
        with contextlib.suppress(AttributeError):
            set_engine_stack_config(dict(request.config), list(request.config_secret_keys))
        return original(self, request, context)

    configure_stack._china_site = True  # type: ignore[attr-defined]
    servicer.ConfigureStack = configure_stack


# At import, so an in-process analyzer (the offline engine) built on the same SDK class forwards it too.
_forward_stack_config()


def main() -> None:
    """Serve the pack (prints the port on stdout, then blocks); called by ``__main__.py``."""
    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        description=DESCRIPTION,
        display_name="China website filings (ICP / PSB / permits)",
        provider="alicloud",
        tags=["china", "icp", "alicloud", "compliance"],
    )
