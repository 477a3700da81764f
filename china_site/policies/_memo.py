"""One engine request's memo: what every policy derives alike from a request is computed once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
)

# ---------------------------------------------------------------------------------------------------------------
# One engine request: what every policy derives alike from it, computed once

_REQUEST = threading.local()


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    """Scope of one engine request (``Analyze`` or ``AnalyzeStack``; ``pack.py`` opens it around the SDK servicer's
    methods). The SDK hands each policy its own copy of the same resource, so everything the policies derive from it
    the same way — plain properties, provider properties, exposures, stack views — is computed by the first policy
    and reused by the others. Outside a scope (a policy called directly) nothing is reused. Per thread: the gRPC
    server may serve requests concurrently, each on one thread."""
    outer = getattr(_REQUEST, "memo", None)
    _REQUEST.memo = {}
    try:
        yield
    finally:
        _REQUEST.memo = outer


def request_memo() -> dict[str, Any] | None:
    """The current request scope's memo (per thread), None outside a scope."""
    memo: dict[str, Any] | None = getattr(_REQUEST, "memo", None)
    return memo


def _resource_memo(args: ResourceValidationArgs) -> dict[str, Any] | None:
    """This request's memo for the analysed resource (None outside a request scope)."""
    memo = request_memo()
    if memo is None:
        return None
    key = (args.urn, args.resource_type, args.name)
    entry: dict[str, Any] | None = memo.get("resource")
    if entry is None or entry["key"] != key:  # one resource per Analyze request; a guard all the same
        entry = {"key": key, "exposures": []}
        memo["resource"] = entry
    return entry


def _memoized(memo: dict[str, Any] | None, key: str, compute: Callable[[], Any]) -> Any:
    """``memo[key]``, computed (and kept, inside a request scope) on first use."""
    if memo is not None and key in memo:
        return memo[key]
    value = compute()
    if memo is not None:
        memo[key] = value
    return value
