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


# --- never write over what is not ours (issue 22) -----------------------------------------------------------------


def _user_folder(tmp_path: Path) -> Path:
    mine = tmp_path / "my-project"
    mine.mkdir()
    (mine / "__main__.py").write_text("print('my program')\n")
    (mine / "README.md").write_text("my notes\n")
    (mine / "requirements.txt").write_text("requests\n")
    (mine / "venv").mkdir()
    (mine / "venv" / "keep").write_text("x")
    return mine


def test_pack_dir_refuses_a_folder_holding_the_users_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from china_site.cli import app

    mine = _user_folder(tmp_path)
    before = {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["pack-dir", "--dir", str(mine)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--force" in lines[0] and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()} == before
    assert (mine / "venv" / "keep").is_file() and not (mine / "venv").is_symlink()


def test_pack_dir_refuses_even_one_foreign_file_but_not_an_empty_or_own_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o700)
    assert materialise(empty) == empty.resolve()
    assert (empty / "PulumiPolicy.yaml").is_file()
    assert materialise(empty) == empty.resolve()  # our own previous pack: refreshed
    (empty / "notes.txt").write_text("mine")
    assert materialise(empty) == empty.resolve()  # a file added beside our marked pack is left alone
    assert (empty / "notes.txt").read_text() == "mine"

    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    (other / "data.csv").write_text("1,2\n")
    with pytest.raises(InputError, match="--force"):
        materialise(other)
    assert sorted(p.name for p in other.iterdir()) == ["data.csv"]


def test_pack_dir_force_writes_into_a_foreign_folder(tmp_path: Path) -> None:
    mine = _user_folder(tmp_path)
    os.chmod(mine, 0o700)
    assert materialise(mine, force=True) == mine.resolve()
    assert (mine / "PulumiPolicy.yaml").is_file()


def test_two_pack_dir_runs_at_once_on_a_fresh_cache_both_succeed(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    # Each process imports first, then waits for the go file: the runs overlap as closely as they can.
    code = (
        "import os, sys, time\n"
        "from china_site.packdir import materialise\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.001)\n"
        "print(materialise())\n"
    )
    for round_ in range(6):
        env = {**os.environ, "CHINA_SITE_CACHE_DIR": str(tmp_path / f"cache{round_}")}
        go = tmp_path / f"go{round_}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(go)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        time.sleep(1.0)
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _out, err in outs]
        assert len({out for out, _err in outs}) == 1
        folder = Path(outs[0][0].strip())
        assert (folder / "PulumiPolicy.yaml").is_file() and (folder / "venv").exists()
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_concurrent_pack_dir_runs_interleaved_deterministically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rename is slowed down so that the runs interleave at the worst place: both write their temporary
    file before either renames it."""
    import threading
    import time

    real_replace = os.replace

    def slow_replace(src: object, dst: object, **kwargs: object) -> None:
        time.sleep(0.05)
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", slow_replace)
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(tmp_path / "cache"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            materialise()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


# --- third round (issue 22, item 7) ---------------------------------------------------------------------------------


def test_links_planted_in_a_pack_folder_are_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    (ours / ".china-site-pack").write_text("china-site policy pack\n", encoding="utf-8")
    (ours / "PulumiPolicy.yaml").symlink_to(victim)
    assert materialise(ours) == ours.resolve()
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (ours / "PulumiPolicy.yaml").is_symlink()

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    (locked / ".china-site-pack.lock").symlink_to(victim)
    with pytest.raises(InputError, match="cannot write the policy pack folder"):
        materialise(locked)
    assert victim.read_text(encoding="utf-8") == "precious"


def test_pack_dir_into_a_file_is_one_line_naming_dir(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as err:
        materialise(a_file)
    assert "--dir" in (err.value.fix or "") and a_file.read_text(encoding="utf-8") == "x"
