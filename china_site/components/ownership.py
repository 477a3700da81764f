"""CDN domain ownership verification as resources (see :mod:`china_site.ownership` for the API side).

With ``dns_zone`` the Site registers, in this order (each depends on the one before):

1. ``<name>-verify-content`` — ``china-site:index:DomainVerifyContent``: its create asks
   ``DescribeVerifyContent`` for the domain and outputs ``content`` (``verify_…``);
2. ``<name>-dns-ownership`` — ``alicloud.dns.AlidnsRecord``: TXT, host record ``verification`` in the root domain's
   zone (``verification.<root domain>``), value = that content;
3. ``<name>-domain-ownership`` — ``china-site:index:DomainOwnership``: its create calls
   ``VerifyDomainOwner`` (dnsCheck) at once (an account that already owns the domain passes on the first call) and
   then every ``intervalSeconds`` until ``timeoutSeconds``, failing with the record to create;
4. the CDN domain ``depends_on`` the ownership resource.

Without ``dns_zone`` only step 3 is registered (the user creates the record; the program prints it first).

Both are custom resources of the china-site provider plugin (:mod:`china_site.provider.ownership`), so they work
the same from YAML, TypeScript and Go. Stacks deployed before the plugin hold dynamic resources of the types
``pulumi-python:dynamic/china-site:…``; the resources alias them (adopted by ``pulumi up``, nothing verified
again), and :class:`VerifyContentProvider` / :class:`DomainOwnershipProvider` stay for such stacks' refresh and
destroy before the upgrade.

**Offline.** Only the provider's ``create`` talks to the cloud, and Pulumi's mocks (preflight, tests) never run a
provider: under mocks nothing here calls the API, and ``content`` is unknown. Credentials never enter the state: the
provider reads the environment when it runs.
"""

from __future__ import annotations

import os
from typing import Any, Final

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider

__all__ = [
    "OWNERSHIP_COMPONENT",
    "VERIFY_CONTENT_COMPONENT",
    "DomainOwnership",
    "DomainOwnershipProvider",
    "DomainVerifyContent",
    "VerifyContentProvider",
]

OWNERSHIP_COMPONENT: Final = "china-site:index:DomainOwnership"
VERIFY_CONTENT_COMPONENT: Final = "china-site:index:DomainVerifyContent"
# The types of stacks deployed before the provider plugin (dynamic resources; the providers below serve them).
LEGACY_OWNERSHIP_TYPE: Final = "pulumi-python:dynamic/china-site:DomainOwnership"
LEGACY_VERIFY_CONTENT_TYPE: Final = "pulumi-python:dynamic/china-site:DomainVerifyContent"
DEFAULT_TIMEOUT_SECONDS: Final = 600.0
DEFAULT_INTERVAL_SECONDS: Final = 15.0


def _client() -> Any:
    from china_site.ownership import client_from_env

    return client_from_env(os.environ)


def _shown_without_traceback(err: BaseException) -> BaseException:
    """``err`` (a user error of ours) made to show as one line in the CLI, not a Python traceback.

    Pulumi's dynamic provider host turns any exception of ``create`` into ``traceback.format_exc()`` and the CLI
    prints that whole (found under the real engine; mocks never run a provider). ``sys.tracebacklimit = 0`` makes
    ``format_exc`` print only ``<type>: <message>``. The process is the dynamic provider host of this program: it
    only ever runs this program's providers, and the failure ends the deployment."""
    import sys

    sys.tracebacklimit = 0
    return err


class VerifyContentProvider(ResourceProvider):
    """create: DescribeVerifyContent. Nothing to delete (the content is the account's, not a resource)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        from china_site.errors import ChinaSiteError

        try:
            content = _client().verify_content(str(props["domain"]))
        except ChinaSiteError as err:
            raise _shown_without_traceback(err) from None
        return CreateResult(f"verify-content:{props['domain']}", {**props, "content": content})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("domain", "root") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, stables=["content"], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class DomainOwnershipProvider(ResourceProvider):
    """create: VerifyDomainOwner with retries until the record is seen (or the timeout)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        from china_site.ownership import verification_record

        domain = str(props["domain"])
        from china_site.errors import ChinaSiteError

        record = verification_record(domain, props.get("recordValue") or None)
        try:
            attempts = _client().verify(
                domain,
                record,
                timeout=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
                interval=float(props.get("intervalSeconds") or DEFAULT_INTERVAL_SECONDS),
            )
        except ChinaSiteError as err:
            raise _shown_without_traceback(err) from None
        return CreateResult(f"domain-ownership:{record.root}", {**props, "verified": True, "attempts": attempts})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Ownership, once proved, stays proved on the account: only another root domain needs a new check.
        replaces = [k for k in ("domain", "root") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, stables=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


def _custom_opts(opts: pulumi.ResourceOptions | None, legacy_type: str) -> pulumi.ResourceOptions:
    """The provider at this package's version, and an alias to the dynamic resource of a stack deployed before the
    provider plugin (same name and parent, type ``legacy_type``): ``pulumi up`` adopts it instead of verifying
    again."""
    from china_site.provider.install import ensure_for_program
    from china_site.provider.schema import version

    ensure_for_program()
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(version=version(), aliases=[pulumi.Alias(type_=legacy_type)])
    )


class DomainVerifyContent(pulumi.CustomResource):
    """``china-site:index:DomainVerifyContent``; output ``content`` (verify_…)."""

    content: pulumi.Output[str]

    def __init__(self, name: str, domain: str, root: str, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"domain": domain, "root": root, "content": None}
        super().__init__(VERIFY_CONTENT_COMPONENT, name, props, _custom_opts(opts, LEGACY_VERIFY_CONTENT_TYPE))


class DomainOwnership(pulumi.CustomResource):
    """``china-site:index:DomainOwnership``; output ``verified`` (true once VerifyDomainOwner passed) and
    ``attempts``."""

    verified: pulumi.Output[bool]
    attempts: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        *,
        domain: str,
        root: str,
        record_fqdn: str,
        record_value: pulumi.Input[str] | None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "domain": domain,
            "root": root,
            "recordFqdn": record_fqdn,
            "recordType": "TXT",
            "recordValue": record_value,
            "verifyType": "dnsCheck",
            "timeoutSeconds": timeout_seconds,
            "intervalSeconds": interval_seconds,
            "verified": None,
            "attempts": None,
        }
        super().__init__(OWNERSHIP_COMPONENT, name, props, _custom_opts(opts, LEGACY_OWNERSHIP_TYPE))
