"""The content scan never reads outside the content folder and never reads a folder as empty (issue 22).

- A folder the scan cannot list stops the sync before anything is deleted, as an unreadable file does: read as
  empty, its published pages would be deleted from the bucket.
- A folder that turns into a symbolic link while the scan runs is never followed: nothing from outside the
  content folder is read or uploaded.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from china_site import sync
from china_site.sync import SyncError, file_hashes, plan, scan


def _site(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (root / "docs" / "page.html").write_text("<p>page</p>", encoding="utf-8")
    (root / "docs" / "more.html").write_text("<p>more</p>", encoding="utf-8")
    return root


def _same(a: Any, b: Path) -> bool:
    st = os.stat(a)
    other = os.stat(b)
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def _deny_listing(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """``os.scandir`` of ``locked`` (by path or by descriptor) fails with EACCES, as for a folder without r/x
    permission (the tests may run as root, which no mode bits stop)."""
    real = os.scandir

    def scandir(target: Any = ".") -> Any:
        if _same(target, locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))
        return real(target)

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_folder_that_cannot_be_listed_stops_the_sync_before_anything_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path / "site")
    previous = plan(site, None)
    manifest = {f.key: f.entry().model_dump() for f in previous.uploads}
    assert set(manifest) == {"index.html", "docs/page.html", "docs/more.html"}

    _deny_listing(monkeypatch, site / "docs")
    with pytest.raises(SyncError) as err:
        plan(site, manifest)
    line = str(err.value)
    assert "\n" not in line and "docs" in line and "Permission denied" in line
    with pytest.raises(SyncError):
        file_hashes(site)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root lists any folder")
def test_a_folder_without_read_permission_stops_the_sync(tmp_path: Path) -> None:  # pragma: no cover - as root
    site = _site(tmp_path / "site")
    os.chmod(site / "docs", 0)
    try:
        with pytest.raises(SyncError, match="docs"):
            scan(site)
    finally:
        os.chmod(site / "docs", 0o755)


def _swap_before_entering(monkeypatch: pytest.MonkeyPatch, folder: Path, outside: Path) -> Callable[[], bool]:
    """Replace ``folder`` by a link to ``outside`` at the last moment before the scan enters it: after the
    listing of its parent said it is a folder (and after any is-it-a-link check on its path)."""
    done = [False]

    def swap() -> None:
        if not done[0]:
            done[0] = True
            folder.rename(folder.with_name(folder.name + ".moved"))
            folder.symlink_to(outside, target_is_directory=True)

    real_islink, real_open, real_scandir = os.path.islink, os.open, os.scandir

    def islink(path: Any) -> bool:
        result = real_islink(path)
        if os.fsdecode(path) == str(folder):
            swap()
        return result

    def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if os.fsdecode(path) in (folder.name, str(folder)):
            swap()
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def scandir(target: Any = ".") -> Any:
        if isinstance(target, str | bytes | os.PathLike) and os.fsdecode(target) == str(folder):
            swap()
        return real_scandir(target)

    monkeypatch.setattr(os.path, "islink", islink)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "scandir", scandir)
    return lambda: done[0]


def test_a_folder_swapped_for_a_link_during_the_scan_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("leak", encoding="utf-8")
    site = _site(tmp_path / "site")
    swapped = _swap_before_entering(monkeypatch, site / "docs", outside)
    with pytest.raises(SyncError) as err:
        files = scan(site)
        assert "docs/secret.txt" not in files  # (reached only when the scan does not refuse)
    assert swapped()
    assert "\n" not in str(err.value) and "docs" in str(err.value)


def test_a_linked_folder_is_still_skipped_and_the_scan_keeps_its_order(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("leak", encoding="utf-8")
    site = _site(tmp_path / "site")
    (site / "b").mkdir()
    (site / "b" / "x.css").write_text("x", encoding="utf-8")
    (site / "a-link").symlink_to(outside, target_is_directory=True)
    (site / "docs" / "same.html").symlink_to("../index.html")
    skipped: list[tuple[str, str]] = []
    files = scan(site, skipped=skipped)
    assert list(files) == ["index.html", "b/x.css", "docs/more.html", "docs/page.html", "docs/same.html"]
    assert files["docs/same.html"].sha256 == files["index.html"].sha256
    assert dict(skipped)["a-link/"] == "a symbolic link to a folder (not followed)"


def test_the_scan_keeps_no_folder_open(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    for i in range(50):
        (site / f"d{i}").mkdir()
        (site / f"d{i}" / "f.txt").write_text(str(i), encoding="utf-8")
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    assert len(scan(site)) == 53
    after = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    assert after == before


def test_a_file_in_a_folder_that_vanishes_mid_scan_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path / "site")
    real = os.scandir

    def scandir(target: Any = ".") -> Any:
        if _same(target, site / "docs"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        return real(target)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(SyncError) as err:
        scan(site)
    assert "\n" not in str(err.value)
    assert sync.SyncError is SyncError


# --- third round (issue 22, item 7) -----------------------------------------------------------------------------------


def test_a_tree_deeper_than_the_open_file_limit_is_scanned(tmp_path: Path) -> None:
    """Only a bounded number of folder descriptors stay open: 300 levels scan under a limit of 128 open files (the
    walk keeps 64 ancestors open; deeper ones are reopened through '..'). Not deeper: pytest removes its temporary
    folders recursively."""
    import resource

    site = tmp_path / "site"
    site.mkdir()
    fd = os.open(site, os.O_RDONLY)
    for _ in range(300):
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.close(os.open("deep.html", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    os.close(os.open("x.html", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    os.close(fd)
    (site / "d" / "sibling.html").write_text("s", encoding="utf-8")
    (site / "z").mkdir()
    (site / "z" / "last.html").write_text("z", encoding="utf-8")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
    try:
        files = scan(site)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    deep = "d/" * 300
    assert set(files) == {"d/sibling.html", f"{deep}deep.html", f"{deep}x.html", "z/last.html"}


def test_an_excluded_folder_that_cannot_be_listed_does_not_stop_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path / "site")
    (site / ".git" / "objects").mkdir(parents=True)
    (site / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    _deny_listing(monkeypatch, site / ".git" / "objects")
    skipped: list[tuple[str, str]] = []
    files = scan(site, skipped=skipped)
    assert set(files) == {"index.html", "docs/page.html", "docs/more.html"}
    assert dict(skipped)[".git/objects/"] == "a folder the exclude list leaves out, which cannot be listed"
    with pytest.raises(SyncError, match="cannot list folder"):  # with no exclude list, it counts again
        scan(site, exclude=())


def test_a_folder_moved_away_while_its_subtree_is_scanned_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deeper than the open ancestors: the walk comes back through '..', which must be the folder it left."""
    from china_site import fswalk

    monkeypatch.setattr(fswalk, "OPEN_ANCESTORS", 1)
    site = tmp_path / "site"
    (site / "a" / "b" / "c").mkdir(parents=True)
    (site / "a" / "b" / "c" / "f.html").write_text("f", encoding="utf-8")
    (site / "a" / "z.html").write_text("z", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    walker = fswalk.walk(str(site), lambda key, why: None)
    seen = []
    with pytest.raises(fswalk.WalkError):
        for prefix, _fd, _path, _entries in walker:
            seen.append(prefix)
            if prefix == "a/b/c/":
                os.rename(site / "a" / "b", elsewhere / "b")  # b (and c in it) now live outside the site
    assert seen[-1] == "a/b/c/"


@pytest.mark.parametrize("swap_in", ["pipe", "link"])
def test_a_file_swapped_for_a_pipe_or_a_link_after_the_listing_stops_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap_in: str
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("leak", encoding="utf-8")
    site = _site(tmp_path / "site")
    target = site / "docs" / "page.html"
    real_open = os.open

    def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if os.fsdecode(path).endswith("page.html") and target.is_file() and not target.is_symlink():
            target.unlink()
            if swap_in == "pipe":
                os.mkfifo(target)  # opened without blocking, then refused for its type
            else:
                target.symlink_to(outside)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(SyncError) as err:
        scan(site)
    assert "\n" not in str(err.value) and "page.html" in str(err.value)


def test_a_folder_on_a_links_way_swapped_after_it_was_resolved_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """index2.html → docs/page.html (a link inside the folder, followed); docs is swapped for a link to a folder
    outside right after the link was resolved: the target is opened one component at a time, never through it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "page.html").write_text("leak", encoding="utf-8")
    site = _site(tmp_path / "site")
    (site / "index2.html").symlink_to("docs/page.html")
    real_realpath = os.path.realpath
    done: list[bool] = []

    def realpath(path: Any, **kwargs: Any) -> Any:
        result = real_realpath(path, **kwargs)
        if os.fsdecode(path).endswith("index2.html") and not done:
            done.append(True)
            (site / "docs").rename(site / "docs.moved")
            (site / "docs").symlink_to(outside, target_is_directory=True)
        return result

    monkeypatch.setattr(os.path, "realpath", realpath)
    with pytest.raises(SyncError) as err:
        files = scan(site)
        assert files["index2.html"].sha256 != files["index.html"].sha256  # (reached only if not refused)
    assert done and "docs" in str(err.value) and "\n" not in str(err.value)


def test_a_content_folder_that_cannot_be_listed_is_never_an_empty_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as empty, the whole published site would be deleted by the next sync."""
    site = _site(tmp_path / "site")
    manifest = {f.key: f.entry().model_dump() for f in plan(site, None).uploads}
    _deny_listing(monkeypatch, site)
    with pytest.raises(SyncError, match="cannot list folder"):
        plan(site, manifest)
