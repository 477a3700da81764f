"""Loading the registry from oss:// and s3:// against a real S3-compatible server (moto's server on loopback).

No boto3 mocking: every request goes over HTTP to a moto server process (tests/conftest.py).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import registry_data
import yaml
from conftest import AuthS3Server, S3Server

from china_site.errors import RegistryError
from china_site.filings import load_registry

SECRET = "s3cr3t-must-never-be-shown-0123456789"
KEY_ID = "LTAI5tFAKEKEYIDnotreal"

FAST = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 2}


# example.cn here is a bare approved filing: without these fields of the shared test registry
_LAUNCH_DETAILS = ("registrar_in_china", "real_name_verified", "launched", "psb_number", "psb_filed")


def base() -> dict[str, Any]:
    """A small valid registry with two sites."""
    return {
        "version": 1,
        "entities": {"acme": registry_data.entity("acme", drop=("permits",))},
        "sites": [
            registry_data.site("example.cn", drop=_LAUNCH_DETAILS),
            {"domain": "shop.com.cn", "entity": "acme", "status": "pending"},
        ],
    }


def _yaml(data: object) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True).encode("utf-8")


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new bucket, made without ``oss_env`` (overrides the ``bucket`` of tests/conftest.py)."""
    name = f"registry-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def _without_credentials(monkeypatch: pytest.MonkeyPatch, *variables: str) -> None:
    """Neither these variables nor the AWS config and credentials files."""
    for key in variables:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def oss_env(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> S3Server:
    """oss:// pointed at the loopback server with Alibaba Cloud style credentials; no AWS variables at all.
    (Overrides the ``oss_env`` of tests/conftest.py.)"""
    _without_credentials(
        monkeypatch,
        *("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_PROFILE"),
        *("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"),
    )
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", s3_server.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testing")
    monkeypatch.setenv("ALIBABA_CLOUD_REGION_ID", "cn-shanghai")
    return s3_server


# --- present objects ----------------------------------------------------------------------------------------------


def test_s3_object_present(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(base()))
    source = f"s3://{bucket}/filings.yaml"
    reg = load_registry(source)
    assert reg.source == source
    assert [s.domain for s in reg.sites] == ["example.cn", "shop.com.cn"]
    assert reg.fetch is not None and reg.fetch.status == 200 and not reg.fetch.from_cache
    assert reg.fetch.etag and reg.fetch.etag.strip('"')
    assert reg.fetch.cache_file is not None and Path(reg.fetch.cache_file).parent == cache_dir
    assert reg.warnings == ()


def test_oss_object_present_with_alibaba_credentials(oss_env: S3Server, bucket: str, cache_dir: Path) -> None:
    oss_env.client().put_object(Bucket=bucket, Key="reg/filings.json", Body=json.dumps(base()).encode())
    reg = load_registry(f"oss://{bucket}/reg/filings.json")  # .json key: decoded as JSON
    assert reg.covering("a.b.shop.com.cn") is not None
    assert reg.fetch is not None and reg.fetch.status == 200


def test_sample_registry_from_oss(oss_env: S3Server, bucket: str, cache_dir: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "filings.yaml"
    oss_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=sample.read_bytes())
    reg = load_registry(f"oss://{bucket}/filings.yaml")
    assert reg.covering("www.mingyue-tea.cn") is not None


# --- the ETag cache -----------------------------------------------------------------------------------------------


def test_etag_cache_hit_is_a_304_and_uses_the_cached_body(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    s3 = aws_test_env.client()
    s3.put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(base()))
    source = f"s3://{bucket}/filings.yaml"

    first = load_registry(source)
    assert first.fetch is not None and first.fetch.status == 200
    cache_file = Path(first.fetch.cache_file or "")
    assert cache_file.is_file() and cache_file.read_bytes() == _yaml(base())
    mtime = cache_file.stat().st_mtime_ns

    second = load_registry(source)
    assert second.fetch is not None
    assert second.fetch.status == 304 and second.fetch.from_cache and not second.fetch.offline
    assert second.fetch.etag == first.fetch.etag
    assert second.fetch.cache_file == str(cache_file)
    assert cache_file.stat().st_mtime_ns == mtime  # not rewritten: nothing was downloaded
    assert second.model_dump() == first.model_dump()

    # The object changes: its ETag no longer matches, so it is downloaded again and the cache is refreshed.
    changed = base()
    changed["sites"].pop()
    s3.put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(changed))
    third = load_registry(source)
    assert third.fetch is not None and third.fetch.status == 200 and not third.fetch.from_cache
    assert [s.domain for s in third.sites] == ["example.cn"]
    assert cache_file.read_bytes() == _yaml(changed)
    assert load_registry(source).fetch.status == 304  # type: ignore[union-attr]


def test_tampered_cache_is_not_trusted(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(base()))
    source = f"s3://{bucket}/filings.yaml"
    first = load_registry(source)
    cache_file = Path(first.fetch.cache_file or "")  # type: ignore[union-attr]
    cache_file.write_bytes(b"version: 1\nentities: {}\nsites: []\n")  # same ETag in the metadata, other body
    again = load_registry(source)
    assert again.fetch is not None and again.fetch.status == 200  # downloaded again (no If-None-Match sent)
    assert len(again.sites) == 2
    assert cache_file.read_bytes() == _yaml(base())


def test_cache_dir_argument_wins_over_the_environment(
    aws_test_env: S3Server, bucket: str, cache_dir: Path, tmp_path: Path
) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="f.yaml", Body=_yaml(base()))
    other = tmp_path / "explicit"
    reg = load_registry(f"s3://{bucket}/f.yaml", cache_dir=str(other))
    assert Path(reg.fetch.cache_file or "").parent == other  # type: ignore[union-attr]
    assert not cache_dir.exists()


# --- errors -------------------------------------------------------------------------------------------------------


def test_missing_key(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry(f"s3://{bucket}/nope.yaml", **FAST)
    message = str(info.value)
    assert message.startswith(f"s3://{bucket}/nope.yaml: object 'nope.yaml' not found in bucket '{bucket}'")
    assert "NoSuchKey" in message and "\n" not in message


def test_missing_bucket(oss_env: S3Server, cache_dir: Path) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry("oss://no-such-registry-bucket/filings.yaml", **FAST)
    message = str(info.value)
    assert "bucket 'no-such-registry-bucket' does not exist" in message and "NoSuchBucket" in message
    assert "CHINA_SITE_OSS_ENDPOINT" in message


def test_invalid_object_names_source_entry_and_field(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    data = base()
    data["sites"][0]["psb_number"] = "沪公网安备44030502001234号"
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(data))
    with pytest.raises(RegistryError) as info:
        load_registry(f"s3://{bucket}/filings.yaml")
    assert str(info.value).startswith(f"s3://{bucket}/filings.yaml, sites[0] (example.cn), field 'psb_number': ")


def test_malformed_object(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=b"version: 1\nsites: [\n")
    with pytest.raises(RegistryError, match=r"malformed YAML at line 3, column 1"):
        load_registry(f"s3://{bucket}/filings.yaml")


def test_unknown_access_key_is_refused_without_leaking_secrets(
    s3_auth_server: AuthS3Server, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", s3_auth_server.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    with pytest.raises(RegistryError) as info:
        load_registry(f"oss://{s3_auth_server.bucket}/{s3_auth_server.key}", **FAST)
    message = str(info.value)
    assert "InvalidAccessKeyId" in message and "403" in message
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in message  # says which setting to fix
    for text in [message, *info.value.problems]:
        assert SECRET not in text and KEY_ID not in text


def test_access_denied(s3_auth_server: AuthS3Server, monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_auth_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth_server.denied_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_auth_server.denied_secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with pytest.raises(RegistryError) as info:
        load_registry(f"s3://{s3_auth_server.bucket}/{s3_auth_server.key}", **FAST)
    message = str(info.value)
    assert "access denied" in message and "AccessDenied" in message and "s3:GetObject" in message
    assert s3_auth_server.denied_secret not in message and s3_auth_server.denied_key not in message


def test_server_down_fails_closed_quickly(
    aws_test_env: S3Server, bucket: str, cache_dir: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hostile import Proxy

    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=_yaml(base()))
    source = f"s3://{bucket}/filings.yaml"
    proxy = Proxy(("127.0.0.1", aws_test_env.port))  # the cache is per endpoint: the same endpoint goes down
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    assert load_registry(source).fetch.status == 200  # type: ignore[union-attr]  # a cached copy now exists

    proxy.close()
    started = time.monotonic()
    with pytest.raises(RegistryError) as info:
        load_registry(source, **FAST)
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert message.startswith(f"{source}: cannot reach {proxy.endpoint}")
    assert "fails closed" in message and "CHINA_SITE_REGISTRY_OFFLINE_CACHE=1" in message

    # Opt-in: the cached copy is used, and the registry says so.
    monkeypatch.setenv("CHINA_SITE_REGISTRY_OFFLINE_CACHE", "1")
    reg = load_registry(source, **FAST)
    assert reg.fetch is not None and reg.fetch.offline and reg.fetch.from_cache and reg.fetch.status is None
    assert len(reg.sites) == 2
    assert any("cannot reach" in w and "cached copy" in w for w in reg.warnings)


def test_server_down_without_cache_fails_even_offline(
    aws_test_env: S3Server, cache_dir: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("CHINA_SITE_REGISTRY_OFFLINE_CACHE", "1")
    with pytest.raises(RegistryError, match="cannot reach") as info:
        load_registry("s3://never-cached/filings.yaml", **FAST)
    assert "OFFLINE_CACHE=1 to use" not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never answers (a hung endpoint)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        sock.close()


def test_hung_server_times_out(
    aws_test_env: S3Server, cache_dir: Path, silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{silent_server}")
    started = time.monotonic()
    with pytest.raises(RegistryError) as info:
        load_registry("s3://hung/filings.yaml", connect_timeout=0.5, read_timeout=0.5, max_attempts=1)
    assert time.monotonic() - started < 5
    assert "cannot reach" in str(info.value) and "no response within 0.5 s" in str(info.value)


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, cache_dir: Path) -> None:
    _without_credentials(
        monkeypatch,
        *("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"),
        *(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
        ),
    )
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", s3_server.endpoint)
    with pytest.raises(RegistryError, match="no usable credentials") as info:
        load_registry("oss://any-bucket/filings.yaml", **FAST)
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in str(info.value)
