"""Fixtures of the e2e tests: the engine (tools/pulumi-engine.sh), project copies, the local cloud. See e2e_helpers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import ENGINE_SCRIPT, HERE, base_env, copy_project


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test (deselected by ``make test``, run by ``make e2e``)."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The folder with ``pulumi`` and its Python language host (built on first use; minutes cold, instant warm)."""
    done = subprocess.run(["bash", str(ENGINE_SCRIPT)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"tools/pulumi-engine.sh failed ({done.returncode}):\n{done.stderr[-4000:]}", pytrace=False)
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def bare_env(tmp_path: Path, engine_bin: Path) -> Iterator[dict[str, str]]:
    """The CLI's environment without the local cloud (for programs that create no alicloud resource)."""
    yield base_env(tmp_path, engine_bin, [], {})
