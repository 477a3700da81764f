"""tools/pulumi-engine.sh, step 1: a ``pulumi`` on PATH is used only when it is recent enough and has its Python
language host beside it; step 2 builds only from Pulumi's own language host source (``../shared/tools/``) and says in
one line what it needs when that source is absent. A fake ``pulumi`` and a fake, too old ``go`` stand in, so nothing
is ever built here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "pulumi-engine.sh"


def _engine(
    tmp_path: Path, pulumi_version: str, *, language_host: bool = True, host_src: Path | None = None
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("pulumi", f"echo '{pulumi_version}'"), ("go", "echo go1.0")):
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    if language_host:
        (bin_dir / "pulumi-language-python").write_text("#!/bin/sh\n")
        (bin_dir / "pulumi-language-python").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "CHINA_SITE_CACHE": str(tmp_path / "cache")}
    if host_src is not None:
        env["CHINA_SITE_PYTHON_HOST_SRC"] = str(host_src)
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("version", ["v3.150.0", "v3.274.1", "v3.1000.0", "v4.0.0"])
def test_a_recent_pulumi_on_path_is_used(tmp_path: Path, version: str) -> None:
    done = _engine(tmp_path, version)
    assert (done.returncode, done.stdout.strip()) == (0, str(tmp_path / "bin")), done.stderr
    assert f"using {tmp_path / 'bin' / 'pulumi'} ({version})" in done.stderr


@pytest.mark.parametrize("version", ["v3.149.9", "v3.99.0", "v2.999.0", "not a version", ""])
def test_an_old_or_unreadable_pulumi_is_ignored(tmp_path: Path, version: str) -> None:
    done = _engine(tmp_path, version, host_src=_fake_host_source(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert "ignoring" in done.stderr and "need >= 3.150.0" in done.stderr
    assert "Go go1.0 is too old" in done.stderr  # then step 2, which this fake Go stops with one line


def _fake_host_source(tmp_path: Path) -> Path:
    src = tmp_path / "host-src"
    src.mkdir()
    for name in ("main.go", "go.mod", "go.sum"):
        (src / name).write_text("")
    return src


def test_a_pulumi_without_its_language_host_beside_it_is_ignored(tmp_path: Path) -> None:
    done = _engine(tmp_path, "v3.274.1", language_host=False, host_src=_fake_host_source(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert "ignoring" in done.stderr and "pulumi-language-python beside it" in done.stderr


def test_without_the_upstream_host_source_it_asks_for_a_pulumi_on_path(tmp_path: Path) -> None:
    """A user's clone has no ../shared: nothing can be built, and one line says what is needed (never our own host)."""
    done = _engine(tmp_path, "v3.1.0", host_src=tmp_path / "no-such-folder")
    assert done.returncode == 2 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(lines) == 1, done.stderr
    assert "needs a pulumi >= 3.150.0 on PATH" in lines[0] and "no-such-folder" in lines[0]


def test_the_default_host_source_is_the_shared_upstream_copy() -> None:
    """The script builds Pulumi's upstream host from ../shared/tools/pulumi-language-python, and no home-made host
    source is left in the checkout."""
    text = SCRIPT.read_text()
    assert "shared/tools/pulumi-language-python" in text
    assert not (SCRIPT.parent / "pulumi-engine" / "language-python").exists()
