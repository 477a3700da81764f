"""The sync's errors (split from :mod:`china_site.sync`).

What lives here: :class:`SyncError` (one line, bilingual, with the manifest of the work that completed) and
:func:`describe_error`, which turns a boto3/botocore/OS error into one — naming the OSS error code and the fix,
never the credentials or the server's raw message. botocore is imported only inside :func:`describe_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from china_site.errors import ChinaSiteError

if TYPE_CHECKING:
    from china_site.sync_objects import Manifest


class SyncError(ChinaSiteError):
    """A sync failed. ``manifest`` is what the bucket holds from this tool after the failure (completed work only),
    or None when nothing was attempted."""

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        manifest: Manifest | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        self.manifest = manifest
        self.code = code  # the OSS/S3 error code or the exception's type name, when known


_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidSecurityToken",
        "SecurityTokenExpired",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "UserDisable",
        "AllAccessDisabled",
        "403",
        "Forbidden",
    }
)


def _safe_endpoint(client: Any) -> str:
    from china_site.redact import safe_url

    url = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "")
    return safe_url(url) if url else "the OSS endpoint"


def describe_error(exc: BaseException, *, client: Any, bucket: str, key: str | None, operation: str) -> SyncError:
    """A one-line bilingual :class:`SyncError` for a boto3/botocore/OS error. Never includes credentials or the
    server's raw message (which can echo request details)."""
    from botocore import exceptions as bx

    endpoint = _safe_endpoint(client)
    where = f"oss://{bucket}/{key}" if key else f"oss://{bucket}"
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) or {}
        from china_site.redact import safe_code

        raw = err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "Unknown"
        code = safe_code(str(raw)) or "Unknown"  # the server's text: escaped and cut unless it has a code's shape
        if code == "NoSuchBucket":
            return SyncError(
                f"{operation} failed: bucket {bucket!r} does not exist at {endpoint} (NoSuchBucket) / "
                f"存储桶 {bucket} 不存在",
                where=where,
                fix="create the bucket first (the Site component does) or check the bucket name and region",
                code=code,
            )
        if code in _ACCESS_CODES:
            return SyncError(
                f"{operation} failed: access denied by {endpoint} ({code}) / 访问被拒绝",
                where=where,
                fix=(
                    "check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
                    "ALIBABA_CLOUD_SECURITY_TOKEN for STS) and that the RAM policy allows oss:PutObject, "
                    "oss:GetObject and oss:DeleteObject on this bucket"
                ),
                code=code,
            )
        if code in ("BadDigest", "InvalidDigest", "ContentMD5Mismatch"):
            return SyncError(
                f"{operation} failed: the server rejected the upload's checksum ({code}) / 上传校验失败",
                where=where,
                fix="the file may have changed during upload or the network corrupted it; run the sync again",
                code=code,
            )
        return SyncError(
            f"{operation} failed: {endpoint} answered {code} / OSS 请求失败（{code}）",
            where=where,
            fix="see https://help.aliyun.com/zh/oss/support/oss-error-codes for the code",
            code=code,
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return SyncError(
            f"{operation} failed: no Alibaba Cloud credentials found / 未找到阿里云访问凭证",
            where=where,
            fix="set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment",
        )
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ConnectionClosedError
        | bx.ConnectionError,
    ):
        return SyncError(
            f"{operation} failed: cannot reach {endpoint} ({type(exc).__name__}) / 无法连接 OSS 服务端点",
            where=where,
            fix="check the network, the region and CHINA_SITE_OSS_ENDPOINT if set; then run the sync again",
        )
    if isinstance(exc, OSError):
        return SyncError(
            f"{operation} failed: {exc.strerror or type(exc).__name__} / 本地文件读取失败",
            where=exc.filename or where,
            fix="check the content directory and run the sync again",
        )
    return SyncError(
        f"{operation} failed: {type(exc).__name__} / 同步失败",
        where=where,
        fix="run the sync again; report a bug if it persists",
    )
