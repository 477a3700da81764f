"""The pack as ``pulumi policy publish`` would install it, with the real engine.

For a pack downloaded from the service, the CLI (pkg/v3 backend/httpstate/policypack.go ``installRequiredPolicy``)
unpacks the folder, loads ``PulumiPolicy.yaml`` and asks the Python language host to ``InstallDependencies`` with
``IsPlugin: true``: ``python -m venv <folder>/venv``, ``pip install --upgrade pip setuptools wheel``, then
``pip install -r requirements.txt`` (sdk/v3 python/toolchain/pip.go). ``pulumi install`` in a folder that has only a
``PulumiPolicy.yaml`` takes the same path (cmd/pulumi/install → policy.InstallPluginDependencies), so the test runs
that on what ``pulumi policy publish`` would upload of ``china-site publish-dir``'s folder, with no index
(``PIP_NO_INDEX``) and a wheelhouse of the dependencies (``PIP_FIND_LINKS``): ``requirements.txt`` names the
china-site wheel the pack carries, by path, so no index is ever asked for the name.

The wheelhouse (china-site's dependencies, pip, setuptools, wheel) is filled once from the package index with pip's
ordinary client into ``~/.cache/china-site/wheelhouse`` (``CHINA_SITE_WHEELHOUSE``), then reused offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import ROOT, VENV, Project, policies_passed, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_pack_blocks import cdn_urn, hand_made

PACK_FILES = ("PulumiPolicy.yaml", "__main__.py", "requirements.txt", "README.md")  # and .gitignore, the wheel
BUILD_TOOLS = ("pip", "setuptools>=68", "wheel")


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _fill(house: Path, *requirements: str) -> None:
    """``requirements`` (and their dependencies) as files in ``house``: offline when they are there already."""
    offline = _pip("download", "-q", "--no-index", "--find-links", str(house), "-d", str(house), *requirements)
    if offline.returncode == 0:
        return
    online = _pip("download", "-q", "--find-links", str(house), "-d", str(house), *requirements)
    if online.returncode != 0:
        pytest.fail(f"pip download {' '.join(requirements)} failed:\n{online.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a folder with the wheel built from this checkout, the wheelhouse with everything else)."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "china-site" / "wheelhouse"
    house = Path(os.environ.get("CHINA_SITE_WHEELHOUSE") or default) / f"py{sys.version_info[0]}{sys.version_info[1]}"
    house.mkdir(parents=True, exist_ok=True)
    _fill(house, *BUILD_TOOLS)
    dist = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "china-site"
    # A clean source tree (what `git archive` would give): no .venv, no build output of another run.
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".venv*", ".git", "build", "*.egg-info", "__pycache__", "venv", "node_modules"),
        symlinks=True,
    )
    built = _pip("wheel", "-q", "--no-deps", "--no-index", "--find-links", str(house), "-w", str(dist), str(src))
    if built.returncode != 0:
        pytest.fail(f"building the china-site wheel failed:\n{built.stderr[-3000:]}", pytrace=False)
    (wheel,) = dist.glob("china_site-*.whl")
    _fill(house, str(wheel))
    for stale in house.glob("china_site-*"):  # only this checkout's wheel may meet the requirement
        stale.unlink()
    return dist, house


def _published_pack(tmp_path: Path, env: dict[str, str], wheels: tuple[Path, Path]) -> Path:
    """`china-site publish-dir`, then what `pulumi policy publish` would archive of it (its archiver's file
    selection, tests/test_publish.py) unpacked into a fresh folder, then installed as the CLI installs a downloaded
    pack: with no index at all (``PIP_NO_INDEX``); the dependencies from the wheelhouse, china-site from the wheel the
    pack carries (``requirements.txt`` names it by path)."""
    from test_publish import publish_selection

    folder = tmp_path / "to-publish"
    made = subprocess.run(
        [str(VENV / "bin" / "china-site"), "publish-dir", str(folder)], capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stderr
    selected = publish_selection(folder)
    assert selected == {*PACK_FILES, ".gitignore", f"wheels/china_site-{_version()}-py3-none-any.whl"}
    pack = tmp_path / "downloaded-pack"
    for name in selected:
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / name, pack / name)
    _dist, house = wheels
    pip_env = {
        **env,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(house),  # china-site itself is not there: only the pack's own wheel can provide it
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    done = subprocess.run(
        ["pulumi", "install", "--non-interactive"],
        cwd=pack,
        env=pip_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return pack


def _version() -> str:
    from china_site import __version__

    return __version__


def test_the_pack_installed_as_a_published_pack_judges_the_samples(
    tmp_path: Path, project: Project, local_cloud: LocalCloud, wheels: tuple[Path, Path]
) -> None:
    pack = _published_pack(tmp_path, project.env, wheels)
    venv_python = pack / "venv" / "bin" / "python"
    assert venv_python.is_file() and not (pack / "venv").is_symlink()
    # china-site in the pack's own venv: the wheel (not the checkout, not editable), the version requirements.txt asks.
    where = subprocess.run(
        [
            str(venv_python),
            "-c",
            "import china_site, importlib.metadata as m; print(china_site.__file__); print(m.version('china-site'))",
        ],
        cwd=pack,  # not the checkout: `-c` puts the working folder first on sys.path
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(where[0]).is_relative_to(pack / "venv") and where[1].startswith("0.1.")

    # The mainland sample: no violation, and the pack did run.
    project.stack("mainland")
    pre = project.pulumi("preview", "--policy-pack", str(pack))
    assert policy_events(pre) == set(), pre.stdout[-3000:]
    assert any(p == "icp-filing-required" and "DomainNew" in urn for p, urn in policies_passed(pre))

    # A program that serves an unfiled domain from the mainland: the mandatory violation.
    hand_made(project)
    blocked = project.pulumi("preview", "--policy-pack", str(pack), check=False)
    assert blocked.returncode != 0
    assert ("icp-filing-required", cdn_urn(project), "mandatory") in policy_events(blocked)

    # The same program with the pack folder of the installed package (china-site pack-dir).
    pack_dir = project.china_site("pack-dir", check=True).stdout.strip()
    shipped = project.pulumi("preview", "--policy-pack", pack_dir, check=False)
    assert shipped.returncode != 0
    assert policy_events(shipped) == policy_events(blocked)
