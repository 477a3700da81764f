"""CDN domain ownership verification as resources (see :mod:`china_site.ownership` for the API side).

With ``dns_zone`` the Site registers, in this order (each depends on the one before):

1. ``<name>-verify-content`` — ``pulumi-python:dynamic/china-site:DomainVerifyContent``: its create asks
   ``DescribeVerifyContent`` for the domain and outputs ``content`` (``verify_…``);
2. ``<name>-dns-ownership`` — ``alicloud.dns.AlidnsRecord``: TXT, host record ``verification`` in the root domain's
   zone (``verification.<root domain>``), value = that content;
3. ``<name>-domain-ownership`` — ``pulumi-python:dynamic/china-site:DomainOwnership``: its create calls
   ``VerifyDomainOwner`` (dnsCheck) at once (an account that already owns the domain passes on the first call) and
   then every ``intervalSeconds`` until ``timeoutSeconds``, failing with the record to create;
4. the CDN domain ``depends_on`` the ownership resource.

Without ``dns_zone`` only step 3 is registered (the user creates the record; the program prints it first).

**Offline.** Only the dynamic providers' ``create`` talks to the cloud, and Pulumi's mocks (preflight, tests) never
run a provider: under mocks nothing here calls the API, and ``content`` is unknown. The providers are pickled into
the state, so they hold no credentials: they read the environment when they run.
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
DEFAULT_TIMEOUT_SECONDS: Final = 600.0
DEFAULT_INTERVAL_SECONDS: Final = 15.0


def _client() -> Any:
    from china_site.ownership import client_from_env

    return client_from_env(os.environ)


class VerifyContentProvider(ResourceProvider):
    """create: DescribeVerifyContent. Nothing to delete (the content is the account's, not a resource)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        content = _client().verify_content(str(props["domain"]))
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
        record = verification_record(domain, props.get("recordValue") or None)
        attempts = _client().verify(
            domain,
            record,
            timeout=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
            interval=float(props.get("intervalSeconds") or DEFAULT_INTERVAL_SECONDS),
        )
        return CreateResult(f"domain-ownership:{record.root}", {**props, "verified": True, "attempts": attempts})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Ownership, once proved, stays proved on the account: only another root domain needs a new check.
        replaces = [k for k in ("domain", "root") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, stables=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class DomainVerifyContent(pulumi.dynamic.Resource, module="china-site", name="DomainVerifyContent"):
    """``pulumi-python:dynamic/china-site:DomainVerifyContent``; output ``content`` (verify_…)."""

    content: pulumi.Output[str]

    def __init__(self, name: str, domain: str, root: str, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"component": VERIFY_CONTENT_COMPONENT, "domain": domain, "root": root, "content": None}
        super().__init__(VerifyContentProvider(), name, props, opts)


class DomainOwnership(pulumi.dynamic.Resource, module="china-site", name="DomainOwnership"):
    """``pulumi-python:dynamic/china-site:DomainOwnership``; output ``verified`` (true once VerifyDomainOwner
    passed) and ``attempts``."""

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
            "component": OWNERSHIP_COMPONENT,
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
        super().__init__(DomainOwnershipProvider(), name, props, opts)
