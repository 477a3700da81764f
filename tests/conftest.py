"""Shared fixtures: a real S3-compatible server (moto's server mode) on loopback, started per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    endpoint: str
    port: int
    process: subprocess.Popen[bytes]

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


def start_s3_server(extra_env: dict[str, str] | None = None) -> S3Server:
    """Start ``moto_server`` as a separate process on a free loopback port and wait until it answers."""
    port = _free_port()
    env = dict(os.environ)
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("moto server did not start within 30 s")
    return S3Server(endpoint=f"http://127.0.0.1:{port}", port=port, process=proc)


def stop_s3_server(server: S3Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3_server()
    try:
        yield server
    finally:
        stop_s3_server(server)


@pytest.fixture
def aws_test_env(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> S3Server:
    """Point boto3 (and our loaders) at the loopback server with throwaway credentials."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    return s3_server


# --- added for the registry loader tests (tests/test_registry_s3.py) ----------------------------------------------


@dataclass
class AuthS3Server:
    """A moto server that checks credentials, with one bucket/object and one IAM user without any permission.

    Requests signed with an unknown access key get 403 ``InvalidAccessKeyId``; requests signed with
    ``denied_key``/``denied_secret`` (a real user with no policy) get 403 ``AccessDenied``.
    """

    server: S3Server
    bucket: str
    key: str
    denied_key: str
    denied_secret: str

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


# create_bucket, put_object, create_user, create_access_key run before authentication starts.
_AUTH_SETUP_ACTIONS = 4


@pytest.fixture(scope="session")
def s3_auth_server() -> Iterator[AuthS3Server]:
    import boto3

    server = start_s3_server(extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": str(_AUTH_SETUP_ACTIONS)})
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="locked-registry")
        s3.put_object(Bucket="locked-registry", Key="filings.yaml", Body=b"version: 1\n")
        iam = boto3.client(
            "iam",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        iam.create_user(UserName="no-permissions")
        key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
        yield AuthS3Server(
            server=server,
            bucket="locked-registry",
            key="filings.yaml",
            denied_key=key["AccessKeyId"],
            denied_secret=key["SecretAccessKey"],
        )
    finally:
        stop_s3_server(server)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    return _free_port()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty registry cache directory, also set as CHINA_SITE_CACHE_DIR; offline use of the cache off."""
    path = tmp_path / "cache"
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(path))
    monkeypatch.delenv("CHINA_SITE_REGISTRY_OFFLINE_CACHE", raising=False)
    return path
