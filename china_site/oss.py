"""boto3 clients for OSS (through its S3-compatible API) and for plain S3. boto3 is imported lazily.

Endpoint for ``oss``: ``CHINA_SITE_OSS_ENDPOINT`` if set (tests point it at a loopback server), else
``https://oss-<region>.aliyuncs.com`` where the region comes from the argument, ``ALIBABA_CLOUD_REGION_ID``,
``ALICLOUD_REGION`` or ``cn-hangzhou``. Credentials: the usual Alibaba Cloud variables
(``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET``/``ALIBABA_CLOUD_SECURITY_TOKEN``, or
``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``/``ALICLOUD_SECURITY_TOKEN``), falling back to boto3's own chain.
For ``s3`` everything is boto3's own (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, …).
"""

from __future__ import annotations

import os
from typing import Any, Literal

DEFAULT_OSS_REGION = "cn-hangzhou"


def oss_region(region: str | None = None) -> str:
    return (
        region or os.environ.get("ALIBABA_CLOUD_REGION_ID") or os.environ.get("ALICLOUD_REGION") or (DEFAULT_OSS_REGION)
    )


def oss_endpoint(region: str | None = None, endpoint: str | None = None) -> str:
    if endpoint:
        return endpoint
    env = os.environ.get("CHINA_SITE_OSS_ENDPOINT")
    if env:
        return env
    return f"https://oss-{oss_region(region)}.aliyuncs.com"


def _oss_credentials() -> dict[str, str]:
    env = os.environ
    key = env.get("ALIBABA_CLOUD_ACCESS_KEY_ID") or env.get("ALICLOUD_ACCESS_KEY")
    secret = env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET") or env.get("ALICLOUD_SECRET_KEY")
    token = env.get("ALIBABA_CLOUD_SECURITY_TOKEN") or env.get("ALICLOUD_SECURITY_TOKEN")
    creds: dict[str, str] = {}
    if key and secret:
        creds["aws_access_key_id"] = key
        creds["aws_secret_access_key"] = secret
        if token:
            creds["aws_session_token"] = token
    return creds


def client(
    scheme: Literal["oss", "s3"],
    *,
    region: str | None = None,
    endpoint: str | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_attempts: int = 3,
    max_pool_connections: int = 10,
) -> Any:
    """A boto3 S3 client for OSS or S3 with bounded timeouts and retries."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
        signature_version="s3v4",
        # OSS only accepts virtual-hosted-style requests; a loopback test server needs path style.
        s3={
            "addressing_style": "path" if scheme == "s3" or _is_loopback(oss_endpoint(region, endpoint)) else "virtual"
        },
    )
    if scheme == "oss":
        return boto3.client(
            "s3",
            endpoint_url=oss_endpoint(region, endpoint),
            region_name=oss_region(region),
            config=config,
            **_oss_credentials(),
        )
    return boto3.client("s3", endpoint_url=endpoint, config=config)


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
