"""``china-site:index:DomainVerifyContent`` and ``china-site:index:DomainOwnership``: CDN domain ownership
verification as custom resources of the provider (see :mod:`china_site.ownership` for the API side).

- DomainVerifyContent: create asks ``DescribeVerifyContent`` for the domain; output ``content`` (``verify_…``).
- DomainOwnership: create calls ``VerifyDomainOwner`` (dnsCheck) at once and then every ``intervalSeconds`` until
  ``timeoutSeconds``, failing with the record to create; outputs ``verified`` and ``attempts``.

Nothing to delete (the content and the proof belong to the account). Only another domain or root domain needs a new
check (a replace). Credentials come from the environment when the provider runs, never from the state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["OWNERSHIP_TYPE", "VERIFY_CONTENT_TYPE", "create", "diff"]

OWNERSHIP_TYPE: Final = "china-site:index:DomainOwnership"
VERIFY_CONTENT_TYPE: Final = "china-site:index:DomainVerifyContent"
DEFAULT_TIMEOUT_SECONDS: Final = 600.0
DEFAULT_INTERVAL_SECONDS: Final = 15.0
_OUTPUTS: Final = ("content", "verified", "attempts", "__provider", "component")


def _client() -> Any:
    from china_site.ownership import client_from_env

    return client_from_env(os.environ)


def inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in _OUTPUTS}


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The inputs whose change replaces the resource (ownership, once proved, stays proved on the account)."""
    return [k for k in ("domain", "root") if olds.get(k) != news.get(k)]


def create(type_: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, outputs). Raises the ownership module's one-line bilingual errors."""
    domain = str(props["domain"])
    if type_ == VERIFY_CONTENT_TYPE:
        content = _client().verify_content(domain)
        return f"verify-content:{domain}", {**inputs_of(props), "content": content}
    from china_site.ownership import verification_record

    record = verification_record(domain, props.get("recordValue") or None)
    attempts = _client().verify(
        domain,
        record,
        timeout=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
        interval=float(props.get("intervalSeconds") or DEFAULT_INTERVAL_SECONDS),
    )
    return f"domain-ownership:{record.root}", {**inputs_of(props), "verified": True, "attempts": attempts}
