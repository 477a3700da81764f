"""Shared fixtures: a real S3-compatible server (moto's server mode) on loopback, started per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import S3Server, free_port, start_s3_server

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# The Alibaba Cloud access key secret of ``oss_env``: a message or a log that shows it leaks a secret.
OSS_SECRET = "testing-secret-never-shown"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with start_s3_server() as server:
        yield server


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


@pytest.fixture
def oss_env(monkeypatch: pytest.MonkeyPatch, aws_test_env: S3Server) -> S3Server:
    """The OSS client of china_site.oss pointed at the loopback server, with throwaway Alibaba Cloud credentials
    (the secret is ``OSS_SECRET``)."""
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", aws_test_env.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", OSS_SECRET)
    return aws_test_env


@pytest.fixture
def bucket(oss_env: S3Server) -> str:
    """A new, empty bucket on the loopback server."""
    name = f"site-{uuid.uuid4().hex[:12]}"
    oss_env.client().create_bucket(Bucket=name)
    return name


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

    with start_s3_server(extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": str(_AUTH_SETUP_ACTIONS)}) as server:
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


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    return free_port()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty registry cache directory, also set as CHINA_SITE_CACHE_DIR; offline use of the cache off."""
    path = tmp_path / "cache"
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(path))
    monkeypatch.delenv("CHINA_SITE_REGISTRY_OFFLINE_CACHE", raising=False)
    return path
