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
import contextlib
import functools
import hashlib
import mimetypes
import os
import re
import stat
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fnmatch import fnmatch, translate
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from china_site import fswalk
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
SyncEvent = Literal["uploaded", "adopted", "deleted", "released"]

MAX_SINGLE_PUT = 5 * 1024**3  # OSS PutObject limit (5 GB)
MAX_OBJECT_SIZE = 10_000 * 5 * 1024**3  # OSS: at most 10,000 parts of at most 5 GB
# Files larger than this go up as a multipart upload, read and sent one part at a time (never whole in memory).
MULTIPART_THRESHOLD = 16 * 1024**2
MIN_PART_SIZE = 8 * 1024**2
MAX_PARTS = 10_000
OWNER_METADATA = "china-site-owner"  # x-amz-meta-china-site-owner (x-oss-meta-… on OSS): who uploaded the object
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
    inode: tuple[int, int] | None = None  # (device, inode) when scanned: the file uploaded must be the same file
    etag: str = ""  # the ETag the bucket will report: the MD5, or for a multipart upload MD5-of-part-MD5s "-N"
    parts: tuple[bytes, ...] = ()  # multipart: each part's MD5 as scanned (sent as Content-MD5: the server checks)

    @property
    def multipart(self) -> bool:
        return self.size > MULTIPART_THRESHOLD

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


def part_size_for(size: int) -> int:
    """Part size of a multipart upload: 8 MiB, or larger (whole MiB) so that the file fits in 10,000 parts."""
    need = -(-size // MAX_PARTS)
    return max(MIN_PART_SIZE, -(-need // _CHUNK) * _CHUNK)


def _multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 and OSS report for a multipart upload: MD5 of the concatenated part MD5s, then ``-<parts>``."""
    return f"{hashlib.md5(b''.join(part_md5s), usedforsecurity=False).hexdigest()}-{len(part_md5s)}"


def _hash_stream(fh: BinaryIO, total: int) -> tuple[str, str, int, list[bytes]]:
    """SHA-256, MD5, size and — for a file of ``total`` bytes above the multipart threshold — the MD5 of each part,
    in one read."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    part_size = part_size_for(total) if total > MULTIPART_THRESHOLD else 0
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    size = 0
    while chunk := fh.read(_CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        if part_size:
            part.update(chunk)
            in_part += len(chunk)
            if in_part >= part_size:
                parts.append(part.digest())
                part, in_part = hashlib.md5(usedforsecurity=False), 0
    if part_size and in_part:
        parts.append(part.digest())
    if size != total:  # changed while being read: the part layout no longer fits; hashed again at upload anyway
        parts = []
    return sha.hexdigest(), md5.hexdigest(), size, parts if size > MULTIPART_THRESHOLD else []


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


SKIP_LINK_OUT = "a symbolic link to a file outside the content folder (never uploaded)"
SKIP_LINK_SPECIAL = "a symbolic link to something that is not a regular file (device, pipe or socket)"
SKIP_SPECIAL = "not a regular file (device, pipe or socket)"
SKIP_NAME = "a name that is not valid UTF-8 (it cannot be an object key)"
SKIP_LINK_EXCLUDED = "a symbolic link to a file the exclude list leaves out (never uploaded)"
# Worth a warning, not only a note.
UNSAFE_SKIPS = frozenset({SKIP_LINK_OUT, SKIP_LINK_SPECIAL, SKIP_SPECIAL, SKIP_NAME, SKIP_LINK_EXCLUDED})


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _key_of(root: str, path: str) -> str:
    """The key a real path inside ``root`` would have (``/``-separated, relative to ``root``)."""
    return os.path.relpath(path, root).replace(os.sep, "/")


def _local_source(root: str, dir_path: str, entry: os.DirEntry[str]) -> str:
    """The real path of a directory entry (of a folder listed by descriptor) that may be uploaded, or why it may
    not (a ``SKIP_…`` reason): it is not a regular file (device, pipe, socket), or it is a symbolic link whose
    target is outside ``root`` (``/etc/passwd``, ``/proc/self/environ``, ``../secrets``), missing or not a regular
    file. Links whose target is a regular file inside ``root`` are followed. Plain files cost no system call here
    (the listing's file type); the open file's type is checked when it is read."""
    path = os.path.join(dir_path, entry.name)
    try:
        if entry.is_file(follow_symlinks=False):
            return path
        if not entry.is_symlink():
            return SKIP_SPECIAL
    except OSError:
        return "cannot be read (vanished while scanning)"
    real = os.path.realpath(path)
    if not _inside(root, real) or real == root:
        return SKIP_LINK_OUT
    try:
        st = os.stat(real)
    except OSError:
        return "a broken symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return SKIP_LINK_SPECIAL
    return real


def _folder_error(err: fswalk.WalkError) -> SyncError:
    """A folder the scan could not list or enter: the sync stops before anything is uploaded or deleted (read as
    empty, its published pages would be deleted)."""
    if err.replaced:
        return SyncError(
            "folder replaced by a symbolic link or a file while the content was being scanned; it is not followed "
            "/ 扫描内容时目录被替换为符号链接或文件，不会跟随",
            where=err.path,
            fix="run the sync (pulumi up) again once the build has finished writing the content folder; nothing was "
            "uploaded or deleted",
        )
    return SyncError(
        f"cannot list folder: {err.reason} / 无法读取目录",
        where=err.path,
        fix="make every folder of the content readable (e.g. chmod -R u+rX on it) or move it out of the content "
        "folder; nothing was uploaded or deleted",
    )


def _open_checked(path: str, expected: tuple[int, int] | None) -> BinaryIO:
    """Open a planned file for reading without following a link swapped in since the scan: ``O_NOFOLLOW`` on the
    real path, and the same device and inode as when it was scanned (else :class:`SyncError`)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (expected is not None and (st.st_dev, st.st_ino) != expected):
            raise SyncError(
                "file replaced after the sync was planned (another file, a link or a device) / "
                "文件在同步计划生成后被替换",
                where=path,
                fix="run the sync (pulumi up) again once the build has finished writing",
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def scan(
    local_dir: str | os.PathLike[str],
    *,
    cache_policy: CachePolicy | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    skipped: list[tuple[str, str]] | None = None,
) -> dict[str, LocalFile]:
    """Every regular file under ``local_dir``, hashed. Symbolic links are followed only to regular files inside the
    folder (never to a file outside it, a device or ``/proc``); symlinked folders are not entered. What is left
    out and why (excluded by a pattern, a link out of the folder, a device, …) is appended to ``skipped`` as
    ``(key, reason)``."""
    policy = cache_policy or CachePolicy()
    exclude = tuple(exclude)
    root = Path(local_dir)
    if not root.is_dir():
        raise SyncError(
            "content directory not found / 内容目录不存在",
            where=str(local_dir),
            fix="point content_dir (stack config china-site:contentDir) at the folder holding index.html",
        )
    root_text = os.path.realpath(root)
    excluded = _exclude_matcher(exclude)
    files: dict[str, LocalFile] = {}
    left_out: list[tuple[str, str]] = []
    root_fd = -1
    # A folder whose files the exclude list leaves out whatever their names (.git/ by the default list) may be
    # unlistable without stopping the sync: nothing in it would be uploaded, so nothing published is lost.
    tolerate = (
        None if excluded is None else lambda prefix: bool(excluded(prefix + "x") and excluded(prefix + "a/b.html"))
    )
    walker = fswalk.walk(root_text, lambda key, why: left_out.append((key, why)), tolerate=tolerate)
    try:
        for prefix, dir_fd, dir_path, entries in walker:
            if not prefix:
                root_fd = dir_fd  # open until the walk ends: links are opened beneath it
            for entry in entries:
                key = prefix + entry.name
                if excluded is not None and excluded(key):
                    left_out.append((key, "excluded by a pattern (exclude list)"))
                    continue
                if not _utf8(key):
                    left_out.append((key, SKIP_NAME))
                    continue
                path = _local_source(root_text, dir_path, entry)
                if not os.path.isabs(path):
                    left_out.append((key, path))
                    continue
                linked = path != os.path.join(dir_path, entry.name)
                if excluded is not None and linked and excluded(_key_of(root_text, path)):
                    left_out.append((key, SKIP_LINK_EXCLUDED))  # a link must not publish .env, .git/config, a key…
                    continue
                opener = (
                    functools.partial(fswalk.open_beneath, root_fd, _key_of(root_text, path))
                    if linked
                    else functools.partial(fswalk.open_in, dir_fd, entry.name)
                )
                files[key] = _scanned(key, path, opener, policy)
    except fswalk.WalkError as err:
        raise _folder_error(err) from None
    finally:
        walker.close()
    if skipped is not None:
        # A name that is not UTF-8 (a folder's or an excluded file's too) is shown with U+FFFD: a log takes only UTF-8.
        skipped.extend(
            sorted((key.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), why) for key, why in left_out)
        )
    return files


def _scanned(key: str, path: str, opener: Callable[[], int], policy: CachePolicy) -> LocalFile:
    """Hash one file, opened by ``opener`` (by name in its listed folder, or a link's target beneath the root):
    neither follows a link anywhere, so a file or folder swapped for one since the listing is refused."""
    try:
        fd = opener()
    except OSError as exc:
        raise SyncError(
            f"cannot read file: {exc.strerror or type(exc).__name__} / 无法读取文件",
            where=path,
            fix="check the file's permissions; if the build is still writing the folder, run the sync again later",
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SyncError(
                "file replaced by a device, pipe or socket while the content was being scanned / 扫描时文件被替换",
                where=path,
                fix="run the sync (pulumi up) again once the build has finished writing the content folder",
            )
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as fh:
            sha, md5, size, parts = _hash_stream(fh, st.st_size)
    except OSError as exc:
        raise SyncError(
            f"cannot read file: {exc.strerror or type(exc).__name__} / 无法读取文件",
            where=path,
            fix="check the file's permissions",
        ) from None
    finally:
        os.close(fd)
    if size > MAX_OBJECT_SIZE:
        raise SyncError(
            "file larger than 48.8 TB, the limit of an OSS object / 文件超过 OSS 单个对象上限",
            where=str(path),
            fix="leave the file out of the content folder",
        )
    return LocalFile(
        key=key,
        path=path,
        sha256=sha,
        md5=md5,
        size=size,
        content_type=content_type_for(key),
        cache_control=policy.for_key(key),
        inode=(st.st_dev, st.st_ino),
        etag=_multipart_etag(parts) if parts else md5,
        parts=tuple(parts),
    )


def file_hashes(
    local_dir: str | os.PathLike[str],
    *,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    skipped: list[tuple[str, str]] | None = None,
) -> dict[str, str]:
    """key → sha256 for every file under ``local_dir``: what a deployment tool diffs on (``skipped``: see
    :func:`scan`)."""
    return {key: f.sha256 for key, f in scan(local_dir, exclude=exclude, skipped=skipped).items()}


def describe_skipped(skipped: Iterable[tuple[str, str]], *, limit: int = 10) -> str:
    """One bilingual paragraph for a log: how many files were left out, grouped by why, naming the first few."""
    groups: dict[str, list[str]] = {}
    for key, why in skipped:
        groups.setdefault(why, []).append(key)
    lines = []
    for why, keys in groups.items():
        shown = ", ".join(keys[:limit]) + (f", … ({len(keys) - limit} more)" if len(keys) > limit else "")
        lines.append(f"{len(keys)} skipped: {why}: {shown}")
    return "\n".join(lines)


def plan(
    local_dir: str | os.PathLike[str],
    manifest: Mapping[str, Any] | None,
    *,
    cache_policy: CachePolicy | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
) -> SyncPlan:
    """What to upload (new or changed content, type or caching), delete (in the manifest, gone locally) and keep."""
    previous = load_manifest(manifest)
    skipped: list[tuple[str, str]] = []
    files = scan(local_dir, cache_policy=cache_policy, exclude=exclude, skipped=skipped)
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
    return SyncPlan(
        uploads=tuple(uploads),
        deletes=deletes,
        unchanged=tuple(unchanged),
        previous=previous,
        skipped=tuple(skipped),
    )


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
    from china_site.redact import safe_url

    url = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "")
    return safe_url(url) if url else "the OSS endpoint"


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
        from china_site.redact import safe_code

        raw = err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "Unknown"
        code = safe_code(str(raw)) or "Unknown"  # the server's text: escaped and cut unless it has a code's shape
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


def apply(
    client: Any,
    bucket: str,
    plan: SyncPlan,
    *,
    prefix: str = "",
    max_workers: int = 8,
    adopt_existing: bool = True,
    owner: str = DEFAULT_OWNER,
    take_over: bool = False,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Carry out ``plan`` on ``bucket`` and return the new manifest (keys relative to ``prefix``).

    Ownership: every object written carries the metadata ``china-site-owner: <owner>``. Before anything is written,
    each key the plan would write or delete is checked: a key in the previous manifest must still hold the ETag the
    manifest recorded (or carry our owner mark), a new key must be absent or carry our owner mark. Anything else is
    a *foreign* object: the sync is refused before any upload (:class:`SyncError`, code ``ForeignObject``, naming
    the keys) unless ``take_over`` is set, in which case it is overwritten and from then on ours. A foreign object
    at a key to delete is left alone and dropped from the manifest (event ``released``).

    Uploads run on at most ``max_workers`` threads, assets before HTML. Files up to :data:`MULTIPART_THRESHOLD` go
    up in one PutObject with Content-MD5 and their ETag is compared with the file's MD5; larger files go up as a
    multipart upload, read one part at a time (at most ``max_workers + 1`` parts in memory across all files), each
    part with its Content-MD5, the whole file re-hashed while it is read and compared with the plan. Deletes
    happen only after every upload succeeded and only for keys in the previous manifest. With ``adopt_existing``,
    a key not in the previous manifest that already holds this content and metadata *with our owner mark* (an
    interrupted earlier sync of this resource) is recorded without uploading.
    ``on_event(event, key)`` is called (in the calling thread) for every object written, adopted, deleted or
    released.

    Raises :class:`SyncError` (one line, no credentials) whose ``manifest`` records the work that completed.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    pfx = _prefix(prefix)
    mark = owner_token(owner)
    entries: dict[str, ManifestEntry] = dict(plan.previous)

    def notify(event: SyncEvent, key: str) -> None:
        if on_event is not None:
            on_event(event, key)

    # --- 1. who owns the keys this plan touches ------------------------------------------------------------------
    touched = sorted({f.key for f in plan.uploads} | set(plan.deletes))
    # One listing pass when keys are new (the usual first sync) or many; a few changed keys get a HeadObject each.
    new_keys = any(key not in plan.previous for key in touched)
    listed = _list_existing(client, bucket, pfx, touched) if new_keys or len(touched) >= _LIST_FROM else None

    def remote(key: str, *, need_meta: bool) -> _Remote | None:
        from botocore.exceptions import ClientError

        if listed is not None and listed.covers(pfx + key):
            found = listed.objects.get(pfx + key)
            if found is None:
                return None
            if not need_meta:
                return _Remote(etag=found[0], size=found[1])
        try:
            head = client.head_object(Bucket=bucket, Key=pfx + key)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if status == 404 or code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        meta = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        return _Remote(
            etag=_clean_etag(head.get("ETag")),
            size=int(head.get("ContentLength", -1)),
            owner=meta.get(OWNER_METADATA, ""),
            content_type=head.get("ContentType"),
            cache_control=head.get("CacheControl"),
        )

    Verdict = tuple[str, Any]  # ("absent"|"ours"|"adopt"|"foreign", etag or None)

    def judge(key: str) -> Verdict:
        old = plan.previous.get(key)
        found = remote(key, need_meta=old is None)
        if found is None:
            return ("absent", None)
        if old is not None and found.etag == old.etag.lower():
            return ("ours", None)
        if found.owner is None:  # a listing said "not what the manifest holds": read the owner mark
            found = remote(key, need_meta=True)
            if found is None:
                return ("absent", None)
        if found.owner != mark:
            return ("foreign", None)
        f = uploads_by_key.get(key)
        if (
            adopt_existing
            and f is not None
            and old is None
            and found.etag == f.expected_etag
            and found.size == f.size
            and found.content_type == f.content_type
            and found.cache_control == f.cache_control
        ):
            return ("adopt", found.etag)
        return ("ours", None)

    uploads_by_key = {f.key: f for f in plan.uploads}
    verdicts: dict[str, Verdict] = {}
    if touched:
        _run_all(
            touched,
            judge,
            lambda key, verdict: verdicts.__setitem__(key, verdict),
            max_workers=max_workers,
            fail=lambda exc, key: _fail(exc, client, bucket, pfx + key, "HeadObject", entries),
        )
    conflicts = sorted(k for k in uploads_by_key if verdicts.get(k, ("absent", None))[0] == "foreign")
    if conflicts and not take_over:
        shown = ", ".join(_clip(pfx + k, 120) for k in conflicts[:5]) + (
            f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        )
        raise SyncError(
            f"{len(conflicts)} object(s) this sync would overwrite were not uploaded by this SiteContent ({shown}); "
            "nothing was uploaded / 存储桶中已有不是由本资源上传的同名对象，未上传任何文件",
            where=f"oss://{bucket}/{pfx}",
            fix=(
                "use another bucket or prefix, remove those objects yourself, or set takeOverExisting: true "
                "(SiteContentArgs.take_over_existing) to let this SiteContent replace and own them"
            ),
            manifest=_dump(entries),
            code="ForeignObject",
        )

    # --- 2. uploads ----------------------------------------------------------------------------------------------
    # Parts in memory at once, across all files: one per worker. Their buffers are reused (a freed 8 MiB block would
    # otherwise stay in the reading thread's malloc arena, and the process would grow past the parts in flight).
    part_slots = threading.BoundedSemaphore(max_workers)
    free_buffers: dict[int, list[bytearray]] = {}
    buffers_lock = threading.Lock()

    def take_buffer(size: int) -> bytearray:
        with buffers_lock:
            spare = free_buffers.setdefault(size, [])
            return spare.pop() if spare else bytearray(size)

    def give_buffer(buf: bytearray) -> None:
        with buffers_lock:
            free_buffers.setdefault(len(buf), []).append(buf)

    part_pool: list[ThreadPoolExecutor] = []
    part_pool_lock = threading.Lock()

    def parts_executor() -> ThreadPoolExecutor:
        with part_pool_lock:
            if not part_pool:
                part_pool.append(ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="china-site-part"))
            return part_pool[0]

    headers = {"Metadata": {OWNER_METADATA: mark}}

    def changed(f: LocalFile) -> SyncError:
        return SyncError(
            "file changed after the sync was planned / 文件在同步计划生成后被修改",
            where=f.path,
            fix="run the sync (pulumi up) again once the build has finished writing",
        )

    def put_single(f: LocalFile, key: str) -> str:
        with _open_checked(f.path, f.inode) as fh:
            data = fh.read(MULTIPART_THRESHOLD + 1)
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.sha256:
            raise changed(f)
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        response = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=f.content_type,
            CacheControl=f.cache_control,
            ContentMD5=base64.b64encode(digest).decode("ascii"),
            **headers,
        )
        etag = _unexpected_etag(response, digest.hex(), _MD5_HEX)
        if etag is not None:
            raise SyncError(
                f"checksum mismatch after upload: ETag {etag} is not the file's MD5 {digest.hex()} / "
                "上传后校验和不一致",
                where=f"oss://{bucket}/{key}",
                fix="run the sync again; if it persists, check for a proxy rewriting the content",
            )
        return digest.hex()

    def put_multipart(f: LocalFile, key: str) -> str:
        part_size = part_size_for(f.size)
        started = client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=f.content_type, CacheControl=f.cache_control, **headers
        )
        upload_id = started["UploadId"]
        failed = threading.Event()

        def send(number: int, buf: bytearray, length: int, digest: bytes) -> dict[str, Any]:
            data = buf if length == len(buf) else bytes(memoryview(buf)[:length])
            try:
                response = client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=base64.b64encode(digest).decode("ascii"),
                )
                if _unexpected_etag(response, digest.hex(), _MD5_HEX) is not None:
                    raise SyncError(
                        f"part {number} does not have the checksum planned: the file changed after the sync was "
                        "planned, or something rewrote the upload / 分片校验和不一致",
                        where=f"oss://{bucket}/{key}",
                        fix="run the sync again once the build has finished writing; if it persists, check for a "
                        "proxy rewriting the content",
                    )
                return {"ETag": response.get("ETag"), "PartNumber": number}
            except BaseException:
                failed.set()
                raise
            finally:
                del data
                give_buffer(buf)
                part_slots.release()

        futures: list[Future[dict[str, Any]]] = []
        digests: list[bytes] = []
        planned = f.parts if len(f.parts) == -(-f.size // part_size) else ()
        try:
            sha = hashlib.sha256()
            size = 0
            with _open_checked(f.path, f.inode) as fh:
                while not failed.is_set():
                    part_slots.acquire()
                    buf = take_buffer(part_size)
                    try:
                        length = _read_into(fh, buf)
                    except BaseException:
                        give_buffer(buf)
                        part_slots.release()
                        raise
                    if not length:
                        give_buffer(buf)
                        part_slots.release()
                        break
                    view = memoryview(buf)[:length]
                    sha.update(view)
                    size += length
                    n = len(digests)
                    # The part's MD5 from the scan when the layout is the same: the server checks the bytes sent
                    # against it (BadDigest if the file changed), and the SHA-256 here checks the whole file.
                    digest = (
                        planned[n]
                        if n < len(planned) and length == min(part_size, f.size - n * part_size)
                        else hashlib.md5(view, usedforsecurity=False).digest()
                    )
                    view.release()
                    digests.append(digest)
                    futures.append(parts_executor().submit(send, len(digests), buf, length, digest))
            parts = [fut.result() for fut in futures]  # the first failure raises here
            if size != f.size or sha.hexdigest() != f.sha256:
                raise changed(f)
            try:
                response = client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except Exception:
                # Completing a large object can outlast the read timeout; the retry then finds the upload gone.
                # If the object is there with exactly our parts and our mark, the first attempt did it.
                response = completed_already(key, _multipart_etag(digests))
                if response is None:
                    raise
        except BaseException:
            for fut in futures:
                fut.cancel()
            wait(futures)
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        expected = _multipart_etag(digests)
        etag = _clean_etag(response.get("ETag"))
        if _unexpected_etag(response, expected, _MULTIPART_ETAG) is not None:
            raise SyncError(
                f"checksum mismatch after upload: ETag {etag} is not the parts' checksum {expected} / "
                "上传后校验和不一致",
                where=f"oss://{bucket}/{key}",
                fix="run the sync again; if it persists, check for a proxy rewriting the content",
            )
        return etag or expected

    def completed_already(key: str, expected: str) -> dict[str, Any] | None:
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except Exception:
            return None
        meta = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        if _clean_etag(head.get("ETag")) == expected and meta.get(OWNER_METADATA) == mark:
            return {"ETag": head.get("ETag")}
        return None

    def upload(f: LocalFile) -> tuple[SyncEvent, ManifestEntry]:
        verdict, etag = verdicts.get(f.key, ("absent", None))
        if verdict == "adopt":
            return "adopted", f.entry(etag)
        key = pfx + f.key
        written = put_multipart(f, key) if f.multipart else put_single(f, key)
        return "uploaded", f.entry(written)

    def delete(key: str) -> SyncEvent:
        if verdicts.get(key, ("absent", None))[0] == "foreign":
            return "released"  # someone else's object now: left alone, no longer ours
        client.delete_object(Bucket=bucket, Key=pfx + key)
        return "deleted"

    def uploaded(f: LocalFile, result: tuple[SyncEvent, ManifestEntry]) -> None:
        event, entry = result
        entries[f.key] = entry
        notify(event, f.key)

    def deleted(key: str, event: SyncEvent) -> None:
        entries.pop(key, None)
        notify(event, key)

    def failing(operation: str) -> Callable[[BaseException, Any], SyncError]:
        def fail(exc: BaseException, item: Any) -> SyncError:
            key = item.key if isinstance(item, LocalFile) else str(item)
            return _fail(exc, client, bucket, pfx + key, operation, entries)

        return fail

    assets = [f for f in plan.uploads if not f.content_type.startswith("text/html")]
    pages = [f for f in plan.uploads if f.content_type.startswith("text/html")]
    try:
        _run_all(assets, upload, uploaded, max_workers=max_workers, fail=failing("PutObject"))
        _run_all(pages, upload, uploaded, max_workers=max_workers, fail=failing("PutObject"))
    finally:
        for pool in part_pool:
            pool.shutdown(wait=True)
    _run_all(list(plan.deletes), delete, deleted, max_workers=max_workers, fail=failing("DeleteObject"))
    return _dump(entries)


def _read_into(fh: BinaryIO, buf: bytearray) -> int:
    """Fill ``buf`` from ``fh`` (fewer bytes only at the end of the file); the number of bytes read."""
    view = memoryview(buf)
    filled = 0
    try:
        while filled < len(buf):
            got = fh.readinto(view[filled:])  # type: ignore[attr-defined]
            if not got:
                break
            filled += got
    finally:
        view.release()
    return filled


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(
    exc: BaseException, client: Any, bucket: str, key: str, operation: str, entries: Mapping[str, ManifestEntry]
) -> SyncError:
    error = describe_error(exc, client=client, bucket=bucket, key=key, operation=operation)
    error.manifest = _dump(entries)
    return error


def _run_all(
    items: list[Any],
    fn: Callable[[Any], Any],
    on_done: Callable[[Any, Any], None],
    *,
    max_workers: int,
    fail: Callable[[BaseException, Any], SyncError],
) -> None:
    """``fn`` over ``items`` on at most ``max_workers`` threads; ``on_done(item, result)`` in the calling thread.
    On the first failure the rest is cancelled, the ones already running finish (and are recorded: they did reach
    the bucket), then ``fail(exc, item)`` is raised."""
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
            for fut in not_done:
                if fut.cancelled():
                    continue
                if fut.exception() is None:
                    on_done(futures[fut], fut.result())
            raise fail(*failure) from None


def teardown(
    client: Any,
    bucket: str,
    manifest: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    max_workers: int = 8,
    owner: str = DEFAULT_OWNER,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Delete every object the manifest lists that is still ours (and nothing else); returns the (empty) manifest
    left. An object someone else replaced since is left alone (event ``released``)."""
    previous = load_manifest(manifest)
    doomed = SyncPlan(uploads=(), deletes=tuple(sorted(previous)), unchanged=(), previous=previous)
    return apply(client, bucket, doomed, prefix=prefix, max_workers=max_workers, owner=owner, on_event=on_event)


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
