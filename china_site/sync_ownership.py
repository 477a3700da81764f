"""Who owns an object in the bucket, as far as the sync can tell (split from :mod:`china_site.sync`).

What lives here: the owner mark every object written carries (``OWNER_METADATA``, :func:`owner_token`,
``DEFAULT_OWNER``), ETag helpers (``_clean_etag``; ``_unexpected_etag``: the bytes stored are not the bytes
planned), the one bounded listing pass that replaces a HeadObject per new key (``_list_existing``, ``_Listing``)
and what the ownership check reads of a key (``_Remote``). :func:`china_site.sync.apply` judges each key with them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OWNER_METADATA = "china-site-owner"  # x-amz-meta-china-site-owner (x-oss-meta-… on OSS): who uploaded the object


def _clean_etag(etag: Any) -> str:
    return str(etag or "").strip().strip('"').lower()


_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_MULTIPART_ETAG = re.compile(r"[0-9a-f]{32}-[0-9]+")


def _unexpected_etag(response: Mapping[str, Any], expected: str, shape: re.Pattern[str]) -> str | None:
    """The response's ETag when it is a checksum of ``shape`` other than ``expected`` (the bytes stored are not the
    bytes planned); None when it matches or is not a checksum (some servers' ETags are opaque)."""
    etag = _clean_etag(response.get("ETag"))
    return etag if shape.fullmatch(etag) and etag != expected else None


@dataclass(frozen=True)
class _Listing:
    """What one bounded ListObjectsV2 pass saw: full key → (ETag, size), and up to which key the listing is complete
    (keys come in UTF-8 byte order, which is code-point order)."""

    objects: Mapping[str, tuple[str, int]]
    complete: bool
    last_key: str

    def covers(self, key: str) -> bool:
        return self.complete or key <= self.last_key


def _list_existing(client: Any, bucket: str, pfx: str, candidates: list[str]) -> _Listing | None:
    """The adopt-existing check's first pass: one paginated ListObjectsV2 under the prefix instead of a HeadObject per
    new key. At most as many pages as there are candidates (never more requests than the HeadObjects it replaces);
    keys beyond what was listed, and any key when the listing fails (e.g. no oss:ListObjects right), are checked
    with HeadObject as before. Listed objects with the file's ETag and size still get a HeadObject: a listing does
    not carry Content-Type and Cache-Control."""
    budget = len(candidates)
    objects: dict[str, tuple[str, int]] = {}
    last_key = ""
    complete = False
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=pfx)
        for count, page in enumerate(pages, start=1):
            for obj in page.get("Contents", ()) or ():
                key = str(obj.get("Key", ""))
                objects[key] = (_clean_etag(obj.get("ETag")), int(obj.get("Size", -1)))
                last_key = max(last_key, key)
            if not page.get("IsTruncated"):
                complete = True
                break
            if count >= budget:
                break
    except Exception:
        return None
    return _Listing(objects=objects, complete=complete, last_key=last_key)


def owner_token(owner: str) -> str:
    """The owner as an HTTP header value (printable ASCII; anything else percent-encoded), at most 256 characters."""
    from urllib.parse import quote

    token = quote(owner, safe="/:._-@")
    return token if len(token) <= 256 else hashlib.sha256(owner.encode("utf-8")).hexdigest()


DEFAULT_OWNER = "china-site"

_LIST_FROM = 32  # changed or deleted keys from which one listing pass is cheaper than a HeadObject each


@dataclass(frozen=True)
class _Remote:
    """What the bucket holds at a key, as far as the ownership check needs it."""

    etag: str
    size: int
    owner: str | None = None  # None: not read (a listing carries no metadata)
    content_type: str | None = None
    cache_control: str | None = None
