"""tools/pulumi-engine.sh, step 1: a ``pulumi`` on PATH is used only when it is recent enough and has its Python
language host beside it. A fake ``pulumi`` and a fake, too old ``go`` stand in, so nothing is ever built here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "pulumi-engine.sh"


def _engine(tmp_path: Path, pulumi_version: str, *, language_host: bool = True) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("pulumi", f"echo '{pulumi_version}'"), ("go", "echo go1.0")):
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    if language_host:
        (bin_dir / "pulumi-language-python").write_text("#!/bin/sh\n")
        (bin_dir / "pulumi-language-python").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "CHINA_SITE_CACHE": str(tmp_path / "cache")}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("version", ["v3.150.0", "v3.274.1", "v3.1000.0", "v4.0.0"])
def test_a_recent_pulumi_on_path_is_used(tmp_path: Path, version: str) -> None:
    done = _engine(tmp_path, version)
    assert (done.returncode, done.stdout.strip()) == (0, str(tmp_path / "bin")), done.stderr
    assert f"using {tmp_path / 'bin' / 'pulumi'} ({version})" in done.stderr


@pytest.mark.parametrize("version", ["v3.149.9", "v3.99.0", "v2.999.0", "not a version", ""])
def test_an_old_or_unreadable_pulumi_is_ignored(tmp_path: Path, version: str) -> None:
    done = _engine(tmp_path, version)
    assert done.returncode == 2 and done.stdout == ""
    assert "ignoring" in done.stderr and "need >= 3.150.0" in done.stderr
    assert "Go go1.0 is too old" in done.stderr  # then step 2, which this fake Go stops with one line


def test_a_pulumi_without_its_language_host_beside_it_is_ignored(tmp_path: Path) -> None:
    done = _engine(tmp_path, "v3.274.1", language_host=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "ignoring" in done.stderr and "pulumi-language-python beside it" in done.stderr
