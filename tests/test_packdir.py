"""``china-site pack-dir``: the folder holds code the Pulumi CLI runs, so it is private and never a shared folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from china_site.errors import InputError
from china_site.packdir import materialise


def test_pack_folder_is_private_and_refuses_a_shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "private"
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(private))
    folder = materialise()
    assert (folder / "PulumiPolicy.yaml").is_file() and (folder / "__main__.py").is_file()
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(private.stat().st_mode) & 0o077 == 0

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(shared))
    with pytest.raises(InputError) as err:
        materialise()
    assert "writable by others" in str(err.value) and "chmod go-w" in (err.value.fix or "")


def test_a_planted_group_writable_pack_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "pack"
    target.mkdir()
    os.chmod(target, 0o775)
    with pytest.raises(InputError, match="writable by its group"):
        materialise(target)
