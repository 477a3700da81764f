"""Fixtures of the e2e tests: the engine (tools/pulumi-engine.sh), project copies, the local cloud. See e2e_helpers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/e2e is a package (so this conftest is `e2e.conftest` and `from conftest import …` in tests/ still means
# tests/conftest.py); its modules import each other and the local cloud (`localcloud`) from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_helpers import ENGINE_SCRIPT, HERE, Project, base_env, copy_project


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``tests/e2e/test_e2e_*.py`` and every test that needs the engine are e2e tests (deselected by ``make test``,
    run by ``make e2e``); the fast regression tests beside them (``test_findings_*.py``: what the real engine
    revealed) run in ``make test``."""
    for item in items:
        path = Path(str(item.fspath))
        uses_engine = "engine_bin" in getattr(item, "fixturenames", ())
        if uses_engine or (path.parent == HERE and path.name.startswith("test_e2e_")):
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


# The local cloud's fixtures (tests/e2e/localcloud): moto's S3 server and the alicloud provider plugin.
from fake_cdn_api import FakeCdn, serve  # noqa: E402  (tests/fake_cdn_api.py)
from localcloud import fixtures as _localcloud  # noqa: E402
from localcloud.fixtures import LocalCloud  # noqa: E402

local_cloud = _localcloud.local_cloud
moto_s3 = _localcloud.moto_s3

CLOUD_KEYS = ("LOCALCLOUD_", "CHINA_SITE_OSS_ENDPOINT", "ALIBABA_CLOUD_", "AWS_")


# Root domains the test account has already proved it owns (CDN ownership verification): the sample stacks' domains.
# The local cloud's DNS records do not reach the fake CDN API, so a TXT record created by `up` cannot verify a root.
VERIFIED_ROOTS = frozenset({"mingyue-tea.cn", "harbour-lantern.com"})


@pytest.fixture
def cdn_api() -> Iterator[FakeCdn]:
    """tests/fake_cdn_api.py on loopback: DescribeVerifyContent / VerifyDomainOwner as the CDN API answers them."""
    with serve(FakeCdn(verified=set(VERIFIED_ROOTS))) as api:
        yield api


@pytest.fixture
def cloud_env(tmp_path: Path, engine_bin: Path, local_cloud: LocalCloud, cdn_api: FakeCdn) -> dict[str, str]:
    """The CLI's environment: the local cloud's plugin installed in this test's PULUMI_HOME plugin cache (found by the
    version the program asks for, as on a user's machine; ambient plugins ignored), OSS on moto, nothing else from
    outside."""
    env = base_env(tmp_path, engine_bin, [], {})
    cloud = local_cloud.install(Path(env["PULUMI_HOME"]))
    env.update({k: v for k, v in cloud.items() if k.startswith(CLOUD_KEYS)})
    env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
    env["CHINA_SITE_CDN_ENDPOINT"] = cdn_api.endpoint
    return env


@pytest.fixture
def project(project_dir: Path, cloud_env: dict[str, str]) -> Project:
    """A fresh copy of the repository's project, deploying into the local cloud."""
    return Project(project_dir, cloud_env)
