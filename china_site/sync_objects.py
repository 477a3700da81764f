"""What a sync writes and records (split from :mod:`china_site.sync`).

What lives here: the keys never uploaded (``DEFAULT_EXCLUDE``), each object's Content-Type
(:func:`content_type_for`) and Cache-Control (:class:`CachePolicy`), the manifest of what this tool uploaded
(:class:`ManifestEntry`, :func:`load_manifest`, ``Manifest``), one scanned file (:class:`LocalFile`) and the plan
(:class:`SyncPlan`), and the events a sync reports (``SyncEvent``).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from china_site import sync_multipart
from china_site.sync_errors import SyncError

Manifest = dict[str, dict[str, Any]]
SyncEvent = Literal["uploaded", "adopted", "deleted", "released"]

# Never uploaded (glob patterns on the key; ``*`` also matches ``/``): VCS folders and files, files that commonly hold
# secrets (environment files, package-manager and cloud credentials, private keys) and editor/OS litter.
# ``.well-known/`` is kept (domain verification, security.txt). Configurable: SiteContent(exclude=...).
_EXCLUDED_NAMES: tuple[str, ...] = (
    ".git",
    ".git/*",
    ".git[!/]*",  # .gitignore, .gitmodules, .github/…
    ".hg",
    ".hg/*",
    ".svn/*",
    ".env",
    ".env.*",
    ".envrc",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    ".htpasswd",
    ".dockercfg",
    ".docker/*",
    ".aws/*",
    ".ssh/*",
    ".gnupg/*",
    ".pulumi/*",
    "Pulumi.*.yaml",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    ".DS_Store",
    "Thumbs.db",
    "*~",
    "*.swp",
)
DEFAULT_EXCLUDE: tuple[str, ...] = tuple(
    pattern for name in _EXCLUDED_NAMES for pattern in ((name,) if name.startswith("*") else (name, f"*/{name}"))
)

_UTF8 = "; charset=utf-8"
_CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html" + _UTF8,
    ".htm": "text/html" + _UTF8,
    ".css": "text/css" + _UTF8,
    ".js": "application/javascript" + _UTF8,
    ".mjs": "application/javascript" + _UTF8,
    ".cjs": "application/javascript" + _UTF8,
    ".json": "application/json" + _UTF8,
    ".map": "application/json" + _UTF8,
    ".webmanifest": "application/manifest+json" + _UTF8,
    ".txt": "text/plain" + _UTF8,
    ".md": "text/markdown" + _UTF8,
    ".csv": "text/csv" + _UTF8,
    ".xml": "application/xml" + _UTF8,
    ".rss": "application/rss+xml" + _UTF8,
    ".atom": "application/atom+xml" + _UTF8,
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


def _name(key: str) -> str:
    """``PurePosixPath(key).name`` without building the path (its last component unless that is empty or ``.``)."""
    tail = key.rpartition("/")[2]
    return tail if tail not in ("", ".") else PurePosixPath(key).name


def _suffix(key: str) -> str:
    """``PurePosixPath(key).suffix``."""
    name = _name(key)
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def content_type_for(key: str) -> str:
    """Content-Type for an object key: a fixed table for web files, else :mod:`mimetypes`, else octet-stream.

    Text types carry ``charset=utf-8`` so Chinese text is never shown as mojibake.
    """
    suffix = _suffix(key).lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, encoding = mimetypes.guess_type(key, strict=False)
    if not guessed or encoding:
        return _DEFAULT_CONTENT_TYPE
    if guessed.startswith("text/"):
        return guessed + _UTF8
    return guessed


# A fingerprint segment before the extension: app.3f2a9c1b.js, index-BfK3l2Xa.js, chunk.5d41402abc4b2a76.css …
# (8–32 characters with at least one digit, or 8+ hex digits).
_HASHED = r"[.\-_](?:[0-9a-f]{8,}|(?=[A-Za-z0-9_]*[0-9])[A-Za-z0-9_]{8,32})\.[A-Za-z0-9]+$"


@dataclass(frozen=True)
class CachePolicy:
    """Cache-Control per object: HTML is revalidated every time, fingerprinted assets are immutable for a year,
    everything else is cached for an hour. ``overrides`` maps glob patterns (on the key) to a Cache-Control value
    and wins over the rest, first match first."""

    html: str = "no-cache"
    immutable: str = "public, max-age=31536000, immutable"
    default: str = "public, max-age=3600"
    hashed_pattern: str = _HASHED
    overrides: tuple[tuple[str, str], ...] = ()

    def for_key(self, key: str) -> str:
        for pattern, value in self.overrides:
            if fnmatch(key, pattern):
                return value
        if content_type_for(key).startswith("text/html"):
            return self.html
        if re.search(self.hashed_pattern, _name(key)):
            return self.immutable
        return self.default

    def to_dict(self) -> dict[str, Any]:
        return {
            "html": self.html,
            "immutable": self.immutable,
            "default": self.default,
            "hashedPattern": self.hashed_pattern,
            "overrides": [list(item) for item in self.overrides],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CachePolicy:
        if not data:
            return cls()
        base = cls()
        return cls(
            html=str(data.get("html", base.html)),
            immutable=str(data.get("immutable", base.immutable)),
            default=str(data.get("default", base.default)),
            hashed_pattern=str(data.get("hashedPattern", base.hashed_pattern)),
            overrides=tuple((str(p), str(v)) for p, v in data.get("overrides", ()) or ()),
        )


class ManifestEntry(BaseModel):
    """One uploaded object as recorded in the manifest (outside data: it comes back from Pulumi state)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sha256: str
    etag: str
    size: int  # Pulumi state stores numbers as floats; pydantic turns 20.0 back into 20
    content_type: str
    cache_control: str


def load_manifest(data: Mapping[str, Any] | None, *, source: str = "manifest") -> dict[str, ManifestEntry]:
    """Validate a manifest (e.g. read back from Pulumi state); raises ChinaSiteError naming the bad key."""
    if not data:
        return {}
    if not isinstance(data, Mapping):
        raise SyncError("the manifest is not a mapping of key to entry", where=source)
    out: dict[str, ManifestEntry] = {}
    for key, value in data.items():
        try:
            out[str(key)] = ManifestEntry.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "entry"
            raise SyncError(
                f"invalid manifest entry: {loc}: {first['msg']}",
                where=f"{source}, key {key!r}",
                fix="refresh the stack (pulumi refresh) so the manifest is rebuilt from the bucket",
            ) from None
    return out


def _dump(entries: Mapping[str, ManifestEntry]) -> Manifest:
    return {key: entries[key].model_dump() for key in sorted(entries)}


@dataclass(frozen=True)
class LocalFile:
    key: str  # relative posix path (the object key without the prefix)
    path: str  # absolute path on disk
    sha256: str
    md5: str  # hex
    size: int
    content_type: str
    cache_control: str
    inode: tuple[int, int] | None = None  # (device, inode) when scanned: the file uploaded must be the same file
    etag: str = ""  # the ETag the bucket will report: the MD5, or for a multipart upload MD5-of-part-MD5s "-N"
    parts: tuple[bytes, ...] = ()  # multipart: each part's MD5 as scanned (sent as Content-MD5: the server checks)

    @property
    def multipart(self) -> bool:
        return self.size > sync_multipart.MULTIPART_THRESHOLD

    @property
    def expected_etag(self) -> str:
        return self.etag or self.md5

    def entry(self, etag: str | None = None) -> ManifestEntry:
        return ManifestEntry(
            sha256=self.sha256,
            etag=etag or self.expected_etag,
            size=self.size,
            content_type=self.content_type,
            cache_control=self.cache_control,
        )


@dataclass(frozen=True)
class SyncPlan:
    uploads: tuple[LocalFile, ...]
    deletes: tuple[str, ...]
    unchanged: tuple[str, ...]
    previous: Mapping[str, ManifestEntry] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()  # (key, why) of what was left out: excluded, links out, devices

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes
