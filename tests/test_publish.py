"""A pack teams can publish (issue 21, item 1): what `pulumi policy publish` would upload from each pack folder, and
the published layout installing china-site from the wheel it carries (never from an index by name).

``publish_selection`` walks a folder as the CLI's archiver does (sdk/go/common/util/archive/archive.go, v3.274.1):
the ``.gitignore`` files of the folder, of its subfolders and of every folder above it; ``.git`` left out; a file
(or a symlink, judged before it is followed) skipped when a rule ignores it; folders (and links to folders) walked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pathspec
import pytest
from test_packaging import POLICIES, ROOT, answers, clean_env, make_venv, run, top_level

from china_site.packdir import PACK_FILES, materialise
from china_site.publishdir import build_wheel, wheel_name, write_publish_dir


def _rules(folder: Path) -> pathspec.GitIgnoreSpec | None:
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        return None
    return pathspec.GitIgnoreSpec.from_lines(ignore.read_text(encoding="utf-8").splitlines())


def _ignored(path: Path, rules: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in rules:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel):
            return True
    return False


def publish_selection(root: Path) -> set[str]:
    """The files `pulumi policy publish` run in ``root`` would put in its archive (relative POSIX names)."""
    root = root.resolve() if not root.is_symlink() else root
    rules: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    for parent in root.parents:
        spec = _rules(parent)
        if spec is not None:
            rules.append((parent, spec))
    selected: set[str] = set()

    def walk(folder: Path, logical: Path, rules: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> None:
        spec = _rules(folder)
        if spec is not None:
            rules = [*rules, (logical, spec)]
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = logical / entry.name
            if entry.name == ".git":
                continue  # the archiver's default ignore
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_dir and _ignored(name, rules):
                continue
            if entry.is_dir(follow_symlinks=True):
                walk(Path(entry.path).resolve(), name, rules)
            elif entry.is_file(follow_symlinks=True):
                selected.add(name.relative_to(root).as_posix())

    walk(root, root, rules)
    return selected


def _fake_venv(folder: Path) -> None:
    """What the CLI creates in a published pack's folder (a virtualenv) and Python leaves behind (caches)."""
    (folder / "venv" / "bin").mkdir(parents=True)
    (folder / "venv" / "bin" / "python").write_text("")
    (folder / "venv" / "lib").mkdir()
    (folder / "venv" / "lib" / "site.py").write_text("")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "__main__.cpython-311.pyc").write_bytes(b"")


def test_the_selection_is_not_vacuous(tmp_path: Path) -> None:
    # without an ignore file the archiver uploads a virtualenv, whole (the issue measured 30,641 files)
    _fake_venv(tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    assert publish_selection(tmp_path) == {
        "PulumiPolicy.yaml",
        "venv/bin/python",
        "venv/lib/site.py",
        "__pycache__/__main__.cpython-311.pyc",
    }
    (tmp_path / ".gitignore").write_text("venv\n__pycache__/\n")
    assert publish_selection(tmp_path) == {".gitignore", "PulumiPolicy.yaml"}


def test_the_checkout_pack_publishes_only_the_pack() -> None:
    if not (POLICIES / "venv").exists():
        pytest.skip("policies/venv is made by `make install`")
    assert publish_selection(POLICIES) == {*PACK_FILES}


def test_the_pack_dir_copy_publishes_only_the_pack(tmp_path: Path) -> None:
    folder = materialise(tmp_path / "pack")
    assert (folder / "venv").is_symlink() or (folder / "venv").is_dir()  # the environment is linked in…
    assert publish_selection(folder) == {*PACK_FILES}  # …and stays out of the archive


def test_the_shipped_requirements_name_the_wheel_publish_dir_writes() -> None:
    from china_site.publishdir import requirements_text

    assert (POLICIES / "requirements.txt").read_text(encoding="utf-8") == requirements_text(wheel_name())


def test_publish_dir_holds_the_pack_and_its_own_wheel(tmp_path: Path) -> None:
    folder = write_publish_dir(tmp_path / "pack")
    _fake_venv(folder)  # as after the CLI installed it somewhere: still nothing but the pack
    assert publish_selection(folder) == {*PACK_FILES, f"wheels/{wheel_name()}"}
    requirements = [
        line for line in (folder / "requirements.txt").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    # the wheel by path: pip never asks an index for the name china-site
    assert [line for line in requirements if not line.startswith("#")] == [f"./wheels/{wheel_name()}"]
    assert build_wheel() == (folder / "wheels" / wheel_name()).read_bytes()  # the same installation, the same bytes
    # writing again refreshes it; a folder with anything else is refused
    assert write_publish_dir(folder) == folder
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="did not write"):
        write_publish_dir(folder)


def test_the_published_layout_installs_its_wheel_and_runs(tmp_path: Path) -> None:
    from registry_data import write_registry

    folder = write_publish_dir(tmp_path / "published")
    # as the CLI does for a downloaded pack: the virtualenv PulumiPolicy.yaml names, then, in the pack's folder,
    # `pip install -r requirements.txt` (dependencies come from this environment here: no index, no download)
    python = make_venv(folder / "venv")
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check")
    run(*pip, "--no-index", "--no-deps", "--ignore-installed", "-r", "requirements.txt", cwd=folder, env=clean_env())
    assert "china_site" in top_level(python)
    where = run(python, "-c", "import china_site; print(china_site.__file__)", cwd=tmp_path, env=clean_env()).strip()
    assert Path(where).is_relative_to(folder / "venv") and not Path(where).is_relative_to(ROOT)
    answers(folder, python, write_registry(tmp_path))


def test_the_command_line_without_its_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site import launcher

    monkeypatch.setattr(launcher, "missing_cli_modules", lambda: ["typer", "rich"])
    with pytest.raises(SystemExit) as exit_info:
        launcher.main()
    assert exit_info.value.code == 2


def test_a_missing_extra_is_one_line_naming_it() -> None:
    from china_site.errors import MissingExtraError, require

    require("json", "cli", "anything")  # present: nothing
    with pytest.raises(MissingExtraError) as info:
        require("no_such_module_xyz", "oss", "a registry at oss://")
    assert str(info.value) == (
        "china-site installation: a registry at oss:// needs the Python package no_such_module_xyz, which this "
        'installation lacks. Fix: pip install "china-site[oss]" (or "china-site[all]").'
    )
