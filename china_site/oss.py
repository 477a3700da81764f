"""S3 clients (botocore, as boto3 uses) for OSS through its S3-compatible API and for S3; imported lazily.

Endpoint for ``oss``: the ``endpoint`` argument, else ``CHINA_SITE_OSS_ENDPOINT`` if set (tests point it at a
loopback server), else OSS's S3-compatible public endpoint ``https://s3.oss-<region>.aliyuncs.com`` where the region
comes from the argument, ``ALIBABA_CLOUD_REGION_ID``, ``ALICLOUD_REGION`` or ``cn-hangzhou``. Credentials: the usual
Alibaba Cloud variables (``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET``/
``ALIBABA_CLOUD_SECURITY_TOKEN``, or ``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``/``ALICLOUD_SECURITY_TOKEN``),
falling back to boto3's own chain. For ``s3`` everything is boto3's own (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, …).

OSS specifics: only virtual-hosted-style requests are accepted (path style is used for a loopback test server
only), and the flexible checksums boto3 ≥ 1.36 adds by default (``x-amz-trailer``, aws-chunked uploads) are an
AWS extension, so for ``oss`` checksums are computed only where an operation requires them.
"""

from __future__ import annotations

import functools
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
    return f"https://s3.oss-{oss_region(region)}.aliyuncs.com"


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
    """A boto3 S3 client for OSS or S3 with bounded timeouts and retries (botocore "standard" retry mode).

    ``max_attempts`` counts the first attempt too (1 = no retry).
    """
    if scheme not in ("oss", "s3"):
        raise ValueError(f"scheme must be 'oss' or 's3', not {scheme!r}")
    from botocore.config import Config

    session = _session()

    options: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        # total_max_attempts counts the first request (botocore's max_attempts counts retries only).
        "retries": {"total_max_attempts": max(1, max_attempts), "mode": "standard"},
        "max_pool_connections": max_pool_connections,
        "signature_version": "s3v4",
    }
    if scheme == "oss":
        url = oss_endpoint(region, endpoint)
        # OSS only accepts virtual-hosted-style requests; a loopback test server needs path style.
        options["s3"] = {"addressing_style": "path" if _is_loopback(url) else "virtual"}
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
        return session.create_client(
            "s3",
            endpoint_url=url,
            region_name=oss_region(region),
            config=Config(**options),
            **_oss_credentials(),
        )
    options["s3"] = {"addressing_style": "path"}
    return session.create_client("s3", endpoint_url=endpoint, region_name=region, config=Config(**options))


def _session() -> Any:
    """A fresh botocore session sharing one (cached) data loader.

    Fresh, because a session caches the credentials it resolved first: a process that changes its environment
    (tests, long-running tools) would otherwise keep signing with stale keys. The shared loader keeps creating a
    client cheap (the S3 service model is parsed once per process).
    """
    from china_site.errors import require

    require("boto3", "oss", "a registry at oss:// or s3://")
    import boto3.utils
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    session.user_agent_extra = "china-site"
    # What boto3's own Session adds to S3 clients (upload_file, download_file, …), so callers get a boto3 client.
    session.register("creating-client-class.s3", boto3.utils.lazy_call("boto3.s3.inject.inject_s3_transfer_methods"))
    return session


@functools.cache
def _loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
