"""Scanning the content folder and planning a sync (split from :mod:`china_site.sync`).

What lives here: :func:`scan` (every regular file under the folder, hashed; links followed only to regular files
inside it; what is left out and why, as the ``SKIP_…`` reasons), the exclude-list matcher, opening a planned file
again without following a link swapped in since (``_open_checked``), :func:`file_hashes`,
:func:`describe_skipped` and :func:`plan` (what to upload, delete and keep against the previous manifest). The
folder walk itself is :mod:`china_site.fswalk`.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatch, translate
from pathlib import Path
from typing import Any, BinaryIO

from china_site import fswalk
from china_site.sync_errors import SyncError
from china_site.sync_multipart import MAX_OBJECT_SIZE, _hash_stream, _multipart_etag
from china_site.sync_objects import DEFAULT_EXCLUDE, CachePolicy, LocalFile, SyncPlan, content_type_for, load_manifest


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
