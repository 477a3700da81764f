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

__all__ = ["DIR_FLAGS", "FILE_FLAGS", "LINKED_FOLDER", "WalkError", "open_beneath", "open_in", "walk"]

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


def walk(
    root: str, on_skip: Callable[[str, str], None]
) -> Generator[tuple[str, int, str, list[os.DirEntry[str]]], None, None]:
    """``(key prefix, folder fd, folder path, entries that are not folders)`` for ``root`` and every folder under
    it, top-down, depth first, names sorted. Symbolic links to folders are passed to ``on_skip(key/, why)``.

    Raises :class:`WalkError` when a folder cannot be opened or listed (permissions, vanished, too many open
    files), or was swapped for a link or a file after its parent was listed. The folder descriptor is valid only
    until the next item is asked for."""
    try:
        root_fd = os.open(root, DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))  # the root as given (already resolved)
    except OSError as exc:
        _fail(root, exc)
    frames: list[tuple[int, str, str, list[os.DirEntry[str]]]] = []
    try:
        fd, prefix, path = root_fd, "", root
        while True:
            try:
                dirs, others, linked = _listing(fd, path)
            except BaseException:
                os.close(fd)
                raise
            for name in linked:
                on_skip(f"{prefix}{name}/", LINKED_FOLDER)
            frames.append((fd, prefix, path, dirs[::-1]))  # popped from the end: name order
            yield prefix, fd, path, others
            fd = -1
            while frames:
                parent_fd, parent_prefix, parent_path, pending = frames[-1]
                if not pending:
                    os.close(parent_fd)
                    frames.pop()
                    continue
                entry = pending.pop()
                path = os.path.join(parent_path, entry.name)
                prefix = f"{parent_prefix}{entry.name}/"
                try:
                    fd = os.open(entry.name, DIR_FLAGS, dir_fd=parent_fd)
                except OSError as exc:
                    _fail(path, exc, replaced=exc.errno in _NOW_A_LINK)
                break
            if fd < 0:
                return
    finally:
        for frame_fd, *_ in frames:
            os.close(frame_fd)


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
