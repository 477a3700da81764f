"""Walking a folder tree without ever leaving it: every folder is opened relative to its parent's descriptor with
``O_NOFOLLOW``, so a folder swapped for a symbolic link while the walk runs is refused, never followed; and a folder
that cannot be listed is an error, never an empty folder.

Used by the content scan of :mod:`china_site.sync`: a folder read as empty would have its published pages deleted
from the bucket by the next sync, and a followed link would upload a file from outside the content folder.

- :func:`walk` yields ``(key prefix, folder descriptor, folder path, entries)`` per folder, top-down, names sorted;
  symbolic links to folders are reported to ``skipped`` and not entered.
- :func:`open_in` opens an entry of a yielded folder by name (``O_NOFOLLOW``); :func:`open_beneath` opens a path
  given relative to the root one component at a time (``O_NOFOLLOW`` at each), for the targets of links.

At most one descriptor per level of nesting is open at a time; all are closed when the walk ends or is abandoned.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Generator
from typing import NoReturn

__all__ = [
    "DIR_FLAGS",
    "FILE_FLAGS",
    "LINKED_FOLDER",
    "UNLISTABLE_EXCLUDED",
    "WalkError",
    "open_beneath",
    "open_in",
    "walk",
]

DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a named pipe swapped in for a file opens at once instead of blocking (its type is then refused).
FILE_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
LINKED_FOLDER = "a symbolic link to a folder (not followed)"
UNLISTABLE_EXCLUDED = "a folder the exclude list leaves out, which cannot be listed"
# What opening a name with O_NOFOLLOW (| O_DIRECTORY) gives when the name is now a link (or no longer a folder).
_NOW_A_LINK = frozenset({errno.ELOOP, errno.ENOTDIR, getattr(errno, "EMLINK", errno.ELOOP)})


class WalkError(OSError):
    """A folder could not be listed or entered. ``path``: the folder; ``replaced``: it became a link (or a file)
    after its parent's listing said it was a folder."""

    def __init__(self, path: str, reason: str, *, replaced: bool = False) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.replaced = replaced


def _fail(path: str, exc: OSError, *, replaced: bool = False) -> NoReturn:
    raise WalkError(path, exc.strerror or type(exc).__name__, replaced=replaced) from None


def _listing(fd: int, path: str) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]], list[str]]:
    """(folders, everything else, linked folders) of the open folder ``fd``, each sorted by name."""
    try:
        with os.scandir(fd) as it:  # scandir works on a duplicate of fd and closes only that
            entries = list(it)
    except OSError as exc:
        _fail(path, exc)
    dirs: list[os.DirEntry[str]] = []
    others: list[os.DirEntry[str]] = []
    linked: list[str] = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry)
                continue
            if entry.is_symlink() and entry.is_dir():  # (is_dir follows the link, relative to fd)
                linked.append(entry.name)
                continue
        except OSError:
            pass  # gone, a loop, a dangling link: an entry like any other (the caller decides)
        others.append(entry)
    dirs.sort(key=lambda e: e.name)
    others.sort(key=lambda e: e.name)
    linked.sort()
    return dirs, others, linked


# Descriptors kept open for the folders above the current one (the root's always): deeper ancestors are closed
# and reopened through ".." of their child when the walk comes back, checked to be the very same folder.
OPEN_ANCESTORS = 64


class _Frame:
    __slots__ = ("fd", "ident", "path", "pending", "prefix")

    def __init__(self, fd: int, prefix: str, path: str, pending: list[os.DirEntry[str]]) -> None:
        st = os.fstat(fd)
        self.fd = fd
        self.ident = (st.st_dev, st.st_ino)
        self.prefix = prefix
        self.path = path
        self.pending = pending  # sub-folders still to enter, popped from the end (name order)


def walk(
    root: str,
    on_skip: Callable[[str, str], None],
    *,
    tolerate: Callable[[str], bool] | None = None,
) -> Generator[tuple[str, int, str, list[os.DirEntry[str]]], None, None]:
    """``(key prefix, folder fd, folder path, entries that are not folders)`` for ``root`` and every folder under
    it, top-down, depth first, names sorted. Symbolic links to folders are passed to ``on_skip(key/, why)``.

    Raises :class:`WalkError` when a folder cannot be opened or listed (permissions, vanished), or was swapped for a
    link or a file after its parent was listed — except a folder for whose key prefix ``tolerate(prefix)`` is true
    (one whose files are all left out anyway), which is passed to ``on_skip``. A folder's descriptor is valid only
    until the next item is asked for; the root's (the first item, prefix ``""``) until the walk ends. At most
    :data:`OPEN_ANCESTORS` + 2 descriptors are open at a time, however deep the tree."""
    try:
        root_fd = os.open(root, DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))  # the root as given (already resolved)
    except OSError as exc:
        _fail(root, exc)
    frames: list[_Frame] = []
    try:
        fd, prefix, path = root_fd, "", root
        while True:
            try:
                dirs, others, linked = _listing(fd, path)
                frame = _Frame(fd, prefix, path, dirs[::-1])
            except WalkError:
                os.close(fd)
                if not prefix or tolerate is None or not tolerate(prefix):
                    raise
                on_skip(prefix, UNLISTABLE_EXCLUDED)
                frame = None
            except BaseException:
                os.close(fd)
                raise
            if frame is not None:
                for name in linked:
                    on_skip(f"{prefix}{name}/", LINKED_FOLDER)
                frames.append(frame)
                if len(frames) > OPEN_ANCESTORS + 1:  # close the oldest open ancestor but the root
                    old = frames[-OPEN_ANCESTORS - 2]
                    if old.fd >= 0 and old is not frames[0]:
                        os.close(old.fd)
                        old.fd = -1
                yield prefix, fd, path, others
            fd = -1
            while frames:
                top = frames[-1]
                if not top.pending:
                    frames.pop()
                    if frames and frames[-1].fd < 0:
                        frames[-1].fd = _reopen_parent(top, frames[-1])
                    os.close(top.fd)
                    top.fd = -1
                    continue
                entry = top.pending.pop()
                path = os.path.join(top.path, entry.name)
                prefix = f"{top.prefix}{entry.name}/"
                try:
                    fd = os.open(entry.name, DIR_FLAGS, dir_fd=top.fd)
                except OSError as exc:
                    replaced = exc.errno in _NOW_A_LINK
                    if replaced or tolerate is None or not tolerate(prefix):
                        _fail(path, exc, replaced=replaced)
                    on_skip(prefix, UNLISTABLE_EXCLUDED)
                    continue
                break
            if fd < 0:
                return
    finally:
        for frame in frames:
            if frame.fd >= 0:
                os.close(frame.fd)


def _reopen_parent(child: _Frame, parent: _Frame) -> int:
    """The parent folder's descriptor again, through ``..`` of the child's: refused (WalkError) unless it is the
    same folder as when it was listed (the child was not moved elsewhere meanwhile)."""
    try:
        fd = os.open("..", DIR_FLAGS, dir_fd=child.fd)
    except OSError as exc:
        _fail(parent.path, exc, replaced=True)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != parent.ident:
        os.close(fd)
        raise WalkError(parent.path, "the folder was moved while the content was being scanned", replaced=True)
    return fd


def open_in(dir_fd: int, name: str) -> int:
    """Open the entry ``name`` of the folder ``dir_fd`` for reading, never following a link (``ELOOP`` if it is
    one)."""
    return os.open(name, FILE_FLAGS, dir_fd=dir_fd)


def open_beneath(root_fd: int, relative: str) -> int:
    """Open ``relative`` (``/``-separated, inside the root) one component at a time from ``root_fd``, following no
    link at any level: a folder on the way swapped for a link since the path was resolved gives ``ELOOP``."""
    parts = [p for p in relative.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise OSError(errno.EINVAL, "not a path inside the folder")
    fd = root_fd
    try:
        for part in parts[:-1]:
            nxt = os.open(part, DIR_FLAGS, dir_fd=fd)
            if fd != root_fd:
                os.close(fd)
            fd = nxt
        return os.open(parts[-1], FILE_FLAGS, dir_fd=fd)
    finally:
        if fd != root_fd:
            os.close(fd)
