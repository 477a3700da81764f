"""Pytest fixtures of the local cloud. Use them from a conftest: ``from localcloud.fixtures import local_cloud,
moto_s3`` (with ``tests/e2e`` on ``sys.path``) — see README.md in this folder.

- ``moto_s3`` (session): moto's S3-compatible server on 127.0.0.1, a random port; ``.endpoint``, ``.client()``.
- ``local_cloud`` (function): a fresh state folder and call log, and ``.env`` for running the ``pulumi`` CLI (the
  plugin first on PATH, OSS — both the plugin's buckets and SiteContent's uploads — pointed at ``moto_s3``);
  ``.calls(method=, type=)``, ``.resources(type=)``, ``.log_text()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import LocalCloud, MotoS3, cloud_env, start_moto

__all__ = ["LocalCloud", "MotoS3", "local_cloud", "moto_s3"]


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_cloud(tmp_path: Path, moto_s3: MotoS3) -> LocalCloud:
    state_dir = tmp_path / "localcloud-state"
    log_file = tmp_path / "localcloud-calls.jsonl"
    state_dir.mkdir()
    return LocalCloud(
        state_dir=state_dir, log_file=log_file, env=cloud_env(state_dir, log_file, s3_endpoint=moto_s3.endpoint)
    )
