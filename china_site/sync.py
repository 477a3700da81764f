"""Sync a local folder into an OSS bucket through OSS's S3-compatible API (boto3). Pure engine: no Pulumi.

``plan`` compares the folder with the *manifest* of the previous sync (what this tool uploaded: key →
``{sha256, etag, size, content_type, cache_control}``) by content hash; ``apply`` uploads what changed with bounded
parallelism, verifies each upload's checksum, then deletes what the previous manifest holds and the folder no longer
has — never an object it did not upload — and returns the new manifest.

Convergence: the manifest only ever lists completed uploads. When ``apply`` fails midway it raises
:class:`SyncError` carrying the manifest of what *did* complete; a later run planned against any manifest (the old
one or the partial one) finishes the job, and keys not in the manifest that are already in the bucket with the
same MD5 ETag, Content-Type and Cache-Control are adopted without re-uploading.

Order: assets first, HTML last, deletions after every upload succeeded — a visitor never gets a page that refers to
an asset not uploaded yet, nor loses a file the old pages still use while the new ones are going up.

Keys in manifests and plans are relative to ``prefix`` (posix paths, e.g. ``css/style.css``).
"""

from __future__ import annotations

import base64
import errno
import functools
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fnmatch import fnmatch, translate
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from china_site.errors import ChinaSiteError

__all__ = [
    "DEFAULT_EXCLUDE",
    "MAX_SINGLE_PUT",
    "CachePolicy",
    "LocalFile",
    "Manifest",
    "ManifestEntry",
    "SyncError",
    "SyncEvent",
    "SyncPlan",
    "apply",
    "content_type_for",
    "file_hashes",
    "load_manifest",
    "plan",
    "refresh",
    "scan",
    "teardown",
]

Manifest = dict[str, dict[str, Any]]
SyncEvent = Literal["uploaded", "adopted", "deleted"]

MAX_SINGLE_PUT = 5 * 1024**3  # OSS PutObject limit (5 GB)
# Never uploaded: VCS and editor/OS litter. ``.well-known/`` is kept (domain verification, security.txt).
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git/*",
    ".hg/*",
    ".svn/*",
    "*/.git/*",
    ".DS_Store",
    "*/.DS_Store",
    "Thumbs.db",
    "*/Thumbs.db",
    "*~",
    "*.swp",
)
_CHUNK = 1024 * 1024

# ---------------------------------------------------------------------------------------------------------------------
# Content-Type and Cache-Control

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


# ---------------------------------------------------------------------------------------------------------------------
# Manifest


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


# ---------------------------------------------------------------------------------------------------------------------
# Scanning and planning


@dataclass(frozen=True)
class LocalFile:
    key: str  # relative posix path (the object key without the prefix)
    path: str  # absolute path on disk
    sha256: str
    md5: str  # hex
    size: int
    content_type: str
    cache_control: str

    def entry(self, etag: str | None = None) -> ManifestEntry:
        return ManifestEntry(
            sha256=self.sha256,
            etag=etag or self.md5,
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

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes


def _hash_file(path: str | os.PathLike[str]) -> tuple[str, str, int]:
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def _excluded(key: str, exclude: Iterable[str]) -> bool:
    return any(fnmatch(key, pattern) for pattern in exclude)


@functools.lru_cache(maxsize=64)
def _exclude_matcher(exclude: tuple[str, ...]) -> Callable[[str], object] | None:
    """One compiled regex for ``any(fnmatch(key, p) for p in exclude)`` (fnmatch's own translation, each
    alternative anchored as fnmatch anchors it; keys and patterns ``normcase``d as fnmatch does)."""
    if not exclude:
        return None
    try:
        match = re.compile("|".join(f"(?:{translate(os.path.normcase(p))})" for p in exclude)).match
    except re.error:  # a translation that cannot be combined: one pattern at a time, as before
        return lambda key: _excluded(key, exclude)
    return lambda key: match(os.path.normcase(key))


_STAT_IGNORED = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _is_file(entry: os.DirEntry[str]) -> bool:
    """``Path(entry.path).is_file()`` (symlinks followed; a missing target or a loop is not a file) from the
    directory listing, without a ``stat`` for plain files."""
    try:
        return entry.is_file()
    except OSError as exc:
        if exc.errno in _STAT_IGNORED:
            return False
        raise


def _walk(root: str) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """``(key prefix, file entries)`` per directory, in the order of ``os.walk(root)`` top-down with directory and
    file names sorted: symlinked directories are not entered, unreadable directories are skipped (as ``os.walk``
    does). Entries that are not directories are yielded, files or not."""
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        top, prefix = stack.pop()
        try:
            with os.scandir(top) as listing:
                entries = list(listing)
        except OSError:
            continue
        dirs: list[os.DirEntry[str]] = []
        others: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else others).append(entry)
        others.sort(key=lambda e: e.name)
        dirs.sort(key=lambda e: e.name)
        yield prefix, others
        for entry in reversed(dirs):  # pushed in reverse: popped (visited) in name order, depth first
            if not os.path.islink(entry.path):
                stack.append((entry.path, f"{prefix}{entry.name}/"))


def scan(
    local_dir: str | os.PathLike[str],
    *,
    cache_policy: CachePolicy | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
) -> dict[str, LocalFile]:
    """Every file under ``local_dir`` (symlinked files followed, symlinked directories not), hashed."""
    policy = cache_policy or CachePolicy()
    exclude = tuple(exclude)
    root = Path(local_dir)
    if not root.is_dir():
        raise SyncError(
            "content directory not found / 内容目录不存在",
            where=str(local_dir),
            fix="point content_dir (stack config china-site:contentDir) at the folder holding index.html",
        )
    root = root.resolve()
    excluded = _exclude_matcher(exclude)
    files: dict[str, LocalFile] = {}
    for prefix, entries in _walk(str(root)):
        for entry in entries:
            key = prefix + entry.name
            if (excluded is not None and excluded(key)) or not _is_file(entry):
                continue
            path = entry.path
            try:
                sha, md5, size = _hash_file(path)
            except OSError as exc:
                raise SyncError(
                    f"cannot read file: {exc.strerror or type(exc).__name__} / 无法读取文件",
                    where=str(path),
                    fix="check the file's permissions",
                ) from None
            if size > MAX_SINGLE_PUT:
                raise SyncError(
                    "file larger than 5 GB, the limit of a single OSS PutObject / 文件超过 5 GB（OSS 单次上传上限）",
                    where=str(path),
                    fix="serve large files from a separate bucket uploaded with ossutil (multipart)",
                )
            files[key] = LocalFile(
                key=key,
                path=path,
                sha256=sha,
                md5=md5,
                size=size,
                content_type=content_type_for(key),
                cache_control=policy.for_key(key),
            )
    return files


def file_hashes(
    local_dir: str | os.PathLike[str],
    *,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
) -> dict[str, str]:
    """key → sha256 for every file under ``local_dir``: what a deployment tool diffs on."""
    return {key: f.sha256 for key, f in scan(local_dir, exclude=exclude).items()}


def plan(
    local_dir: str | os.PathLike[str],
    manifest: Mapping[str, Any] | None,
    *,
    cache_policy: CachePolicy | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
) -> SyncPlan:
    """What to upload (new or changed content, type or caching), delete (in the manifest, gone locally) and keep."""
    previous = load_manifest(manifest)
    files = scan(local_dir, cache_policy=cache_policy, exclude=exclude)
    uploads: list[LocalFile] = []
    unchanged: list[str] = []
    for key, f in files.items():
        old = previous.get(key)
        if (
            old is not None
            and old.sha256 == f.sha256
            and old.content_type == f.content_type
            and old.cache_control == f.cache_control
        ):
            unchanged.append(key)
        else:
            uploads.append(f)
    deletes = tuple(sorted(key for key in previous if key not in files))
    return SyncPlan(uploads=tuple(uploads), deletes=deletes, unchanged=tuple(unchanged), previous=previous)


# ---------------------------------------------------------------------------------------------------------------------
# Errors


class SyncError(ChinaSiteError):
    """A sync failed. ``manifest`` is what the bucket holds from this tool after the failure (completed work only),
    or None when nothing was attempted."""

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        manifest: Manifest | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        self.manifest = manifest
        self.code = code  # the OSS/S3 error code or the exception's type name, when known


_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSecurityToken",
        "SecurityTokenExpired",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "UserDisable",
        "AllAccessDisabled",
        "403",
        "Forbidden",
    }
)


def _safe_endpoint(client: Any) -> str:
    from urllib.parse import urlsplit

    url = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}" if parts.scheme else "the OSS endpoint"


def describe_error(exc: BaseException, *, client: Any, bucket: str, key: str | None, operation: str) -> SyncError:
    """A one-line bilingual :class:`SyncError` for a boto3/botocore/OS error. Never includes credentials or the
    server's raw message (which can echo request details)."""
    from botocore import exceptions as bx

    endpoint = _safe_endpoint(client)
    where = f"oss://{bucket}/{key}" if key else f"oss://{bucket}"
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "Unknown")
        if code == "NoSuchBucket":
            return SyncError(
                f"{operation} failed: bucket {bucket!r} does not exist at {endpoint} (NoSuchBucket) / "
                f"存储桶 {bucket} 不存在",
                where=where,
                fix="create the bucket first (the Site component does) or check the bucket name and region",
                code=code,
            )
        if code in _ACCESS_CODES:
            return SyncError(
                f"{operation} failed: access denied by {endpoint} ({code}) / 访问被拒绝",
                where=where,
                fix=(
                    "check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
                    "ALIBABA_CLOUD_SECURITY_TOKEN for STS) and that the RAM policy allows oss:PutObject, "
                    "oss:GetObject and oss:DeleteObject on this bucket"
                ),
                code=code,
            )
        if code in ("BadDigest", "InvalidDigest", "ContentMD5Mismatch"):
            return SyncError(
                f"{operation} failed: the server rejected the upload's checksum ({code}) / 上传校验失败",
                where=where,
                fix="the file may have changed during upload or the network corrupted it; run the sync again",
                code=code,
            )
        return SyncError(
            f"{operation} failed: {endpoint} answered {code} / OSS 请求失败（{code}）",
            where=where,
            fix="see https://help.aliyun.com/zh/oss/support/oss-error-codes for the code",
            code=code,
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return SyncError(
            f"{operation} failed: no Alibaba Cloud credentials found / 未找到阿里云访问凭证",
            where=where,
            fix="set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment",
        )
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ConnectionClosedError
        | bx.ConnectionError,
    ):
        return SyncError(
            f"{operation} failed: cannot reach {endpoint} ({type(exc).__name__}) / 无法连接 OSS 服务端点",
            where=where,
            fix="check the network, the region and CHINA_SITE_OSS_ENDPOINT if set; then run the sync again",
        )
    if isinstance(exc, OSError):
        return SyncError(
            f"{operation} failed: {exc.strerror or type(exc).__name__} / 本地文件读取失败",
            where=exc.filename or where,
            fix="check the content directory and run the sync again",
        )
    return SyncError(
        f"{operation} failed: {type(exc).__name__} / 同步失败",
        where=where,
        fix="run the sync again; report a bug if it persists",
    )


# ---------------------------------------------------------------------------------------------------------------------
# Applying


def _prefix(prefix: str) -> str:
    prefix = prefix.strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _clean_etag(etag: Any) -> str:
    return str(etag or "").strip().strip('"').lower()


_MD5_HEX = re.compile(r"[0-9a-f]{32}")


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


def apply(
    client: Any,
    bucket: str,
    plan: SyncPlan,
    *,
    prefix: str = "",
    max_workers: int = 8,
    adopt_existing: bool = True,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Carry out ``plan`` on ``bucket`` and return the new manifest (keys relative to ``prefix``).

    Uploads run on at most ``max_workers`` threads, assets before HTML; each upload sends Content-MD5 and its ETag is
    compared with the file's MD5 (single-part PUT); the file is re-hashed as it is sent and must still match the
    plan. Deletes happen only after every upload succeeded and only for keys in the previous manifest. With
    ``adopt_existing``, a key not in the previous manifest that the bucket already holds with the same MD5,
    Content-Type and Cache-Control is recorded without uploading (how an interrupted first sync converges).
    ``on_event(event, key)`` is called (in the calling thread) for every object written, adopted or deleted.

    Raises :class:`SyncError` (one line, no credentials) whose ``manifest`` records the work that completed.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    pfx = _prefix(prefix)
    entries: dict[str, ManifestEntry] = dict(plan.previous)

    def notify(event: SyncEvent, key: str) -> None:
        if on_event is not None:
            on_event(event, key)

    candidates = [f.key for f in plan.uploads if f.key not in plan.previous] if adopt_existing else []
    listed = _list_existing(client, bucket, pfx, candidates) if candidates else None

    def existing(f: LocalFile) -> str | None:
        """The remote ETag when the bucket already holds exactly this content and metadata."""
        from botocore.exceptions import ClientError

        if listed is not None and listed.covers(pfx + f.key):
            found = listed.objects.get(pfx + f.key)
            if found is None or found != (f.md5, f.size):
                return None  # absent, or other content: what HeadObject would have said; upload it
        try:
            head = client.head_object(Bucket=bucket, Key=pfx + f.key)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if status in (404, 403) or code in ("404", "403", "NoSuchKey", "NotFound", "Forbidden"):
                return None  # absent (or unreadable): upload it; a real access problem surfaces on the PUT
            raise
        etag = _clean_etag(head.get("ETag"))
        if (
            etag == f.md5
            and int(head.get("ContentLength", -1)) == f.size
            and head.get("ContentType") == f.content_type
            and head.get("CacheControl") == f.cache_control
        ):
            return etag
        return None

    def upload(f: LocalFile) -> tuple[SyncEvent, ManifestEntry]:
        key = pfx + f.key
        if adopt_existing and f.key not in plan.previous:
            etag = existing(f)
            if etag is not None:
                return "adopted", f.entry(etag)
        with open(f.path, "rb") as fh:
            data = fh.read()
        sha = hashlib.sha256(data).hexdigest()
        if sha != f.sha256:
            raise SyncError(
                "file changed after the sync was planned / 文件在同步计划生成后被修改",
                where=f.path,
                fix="run the sync (pulumi up) again once the build has finished writing",
            )
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        response = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=f.content_type,
            CacheControl=f.cache_control,
            ContentMD5=base64.b64encode(digest).decode("ascii"),
        )
        etag = _clean_etag(response.get("ETag"))
        if _MD5_HEX.fullmatch(etag) and etag != digest.hex():
            raise SyncError(
                f"checksum mismatch after upload: ETag {etag} is not the file's MD5 {digest.hex()} / "
                "上传后校验和不一致",
                where=f"oss://{bucket}/{key}",
                fix="run the sync again; if it persists, check for a proxy rewriting the content",
            )
        return "uploaded", f.entry(etag if _MD5_HEX.fullmatch(etag) else digest.hex())

    def delete(key: str) -> str:
        client.delete_object(Bucket=bucket, Key=pfx + key)
        return key

    def run(items: list[Any], fn: Callable[[Any], Any], on_done: Callable[[Any, Any], None], operation: str) -> None:
        if not items:
            return
        with ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="china-site-sync") as pool:
            futures: dict[Future[Any], Any] = {pool.submit(fn, item): item for item in items}
            done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
            failure: tuple[BaseException, Any] | None = None
            for fut in list(done):
                exc = fut.exception()
                if exc is None:
                    on_done(futures[fut], fut.result())
                elif failure is None:
                    failure = (exc, futures[fut])
            if failure is not None:
                for fut in not_done:
                    fut.cancel()
                # Let the ones already running finish and record them: they did reach the bucket.
                for fut in not_done:
                    if fut.cancelled():
                        continue
                    if fut.exception() is None:
                        on_done(futures[fut], fut.result())
                exc, item = failure
                key = item.key if isinstance(item, LocalFile) else str(item)
                error = describe_error(exc, client=client, bucket=bucket, key=pfx + key, operation=operation)
                error.manifest = _dump(entries)
                raise error from None

    def uploaded(f: LocalFile, result: tuple[SyncEvent, ManifestEntry]) -> None:
        event, entry = result
        entries[f.key] = entry
        notify(event, f.key)

    def deleted(key: str, _result: Any) -> None:
        entries.pop(key, None)
        notify("deleted", key)

    assets = [f for f in plan.uploads if not f.content_type.startswith("text/html")]
    pages = [f for f in plan.uploads if f.content_type.startswith("text/html")]
    run(assets, upload, uploaded, "PutObject")
    run(pages, upload, uploaded, "PutObject")
    run(list(plan.deletes), delete, deleted, "DeleteObject")
    return _dump(entries)


def teardown(
    client: Any,
    bucket: str,
    manifest: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    max_workers: int = 8,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Delete every object the manifest lists (and nothing else); returns the (empty) manifest left."""
    previous = load_manifest(manifest)
    doomed = SyncPlan(uploads=(), deletes=tuple(sorted(previous)), unchanged=(), previous=previous)
    return apply(client, bucket, doomed, prefix=prefix, max_workers=max_workers, on_event=on_event)


def refresh(client: Any, bucket: str, manifest: Mapping[str, Any] | None, *, prefix: str = "") -> Manifest:
    """The part of ``manifest`` the bucket still holds unchanged (same ETag): objects deleted or overwritten by
    someone else drop out, so the next sync uploads them again."""
    previous = load_manifest(manifest)
    if not previous:
        return {}
    pfx = _prefix(prefix)
    remote: dict[str, str] = {}
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=pfx):
            for obj in page.get("Contents", ()) or ():
                key = str(obj.get("Key", ""))
                if key.startswith(pfx):
                    remote[key[len(pfx) :]] = _clean_etag(obj.get("ETag"))
    except Exception as exc:
        raise describe_error(exc, client=client, bucket=bucket, key=pfx or None, operation="ListObjectsV2") from None
    kept = {key: entry for key, entry in previous.items() if remote.get(key) == entry.etag.lower()}
    return _dump(kept)
