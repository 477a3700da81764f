"""Remote filing registries (``oss://`` and ``s3://``) and their on-disk ETag cache (split from
:mod:`china_site.filings`).

What lives here: ``_fetch_remote`` (one bounded GetObject: deadline, attempt budget, proof that the body is
complete, a one-line :class:`~china_site.errors.RegistryError` per failure, the cached copy on 304 or — with
``CHINA_SITE_REGISTRY_OFFLINE_CACHE=1`` — when the server cannot be reached) and ``_Cache`` (the cached body and
its metadata, only in a private folder). boto3/botocore are imported only inside ``_fetch_remote``; the entry point
is :func:`china_site.filings.load_registry`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from china_site.errors import RegistryError
from china_site.registry_models import FetchInfo

OFFLINE_CACHE_ENV = "CHINA_SITE_REGISTRY_OFFLINE_CACHE"
CACHE_DIR_ENV = "CHINA_SITE_CACHE_DIR"


# --- remote sources and the ETag cache ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    body: bytes
    etag: str | None
    fetched_at: str
    path: Path


_STALE_TEMP_SECONDS = 3600


class _Cache:
    """One cached object: ``<sha>.body`` plus ``<sha>.json`` (endpoint, source, ETag, SHA-256 of the body, time),
    keyed by endpoint and source (the same bucket/key on another endpoint is another object).

    A copy is served only when its body still has the recorded SHA-256 (and the MD5 its ETag names, for a
    single-part ETag) and it was proven complete when fetched (``complete``: what proved it). A cache folder that
    other users can write to is not used (``notes`` says so): whoever can write there could plant a registry.
    Temporary files left by an interrupted write are removed after an hour."""

    def __init__(self, root: Path, source: str, endpoint: str, notes: list[str]) -> None:
        digest = hashlib.sha256(f"{endpoint}\0{source}".encode()).hexdigest()[:40]
        self.root = root
        self.source = source
        self.endpoint = endpoint
        self.body_path = root / f"registry-{digest}.body"
        self.meta_path = root / f"registry-{digest}.json"
        self.usable = self._safe_folder(notes)

    def _safe_folder(self, notes: list[str]) -> bool:
        try:
            st = self.root.stat()
        except OSError:
            return True  # not there yet: created 0700 on the first write
        problems = []
        if st.st_mode & 0o022:
            problems.append(f"it is writable by {'others' if st.st_mode & 0o002 else 'its group'}")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            problems.append("it belongs to another user")
        if problems:
            notes.append(
                f"{self.source}: the registry cache {self.root} is not used because {' and '.join(problems)}; "
                f"run `chmod go-w {self.root}` or set {CACHE_DIR_ENV} to a private folder."
            )
            return False
        return True

    def read(self) -> _Cached | None:
        if not self.usable:
            return None
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
            body = self.body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("source") != self.source or meta.get("endpoint") != self.endpoint:
            return None
        if meta.get("sha256") != hashlib.sha256(body).hexdigest():  # torn or tampered copy: not used
            return None
        etag = meta.get("etag")
        etag = etag if isinstance(etag, str) and etag else None
        if not _body_matches_etag(body, etag):
            return None
        if not (isinstance(meta.get("complete"), str) and meta["complete"]):
            return None  # written before bodies had to be proven complete: fetched again
        return _Cached(body=body, etag=etag, fetched_at=str(meta.get("fetched_at", "?")), path=self.body_path)

    def write(self, body: bytes, etag: str | None, proof: str) -> None:
        """Keep ``body`` (proven complete by ``proof``: "ETag MD5", "x-amz-checksum-sha256", …)."""
        if not self.usable:
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clean_stale()
        meta = {
            "endpoint": self.endpoint,
            "source": self.source,
            "etag": etag,
            "sha256": hashlib.sha256(body).hexdigest(),
            "complete": proof,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        _atomic_write(self.body_path, body)
        _atomic_write(self.meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))

    def _clean_stale(self) -> None:
        """Remove our own temporary files (``.registry-….tmp``) older than an hour: left by a killed process."""
        now = dt.datetime.now().timestamp()
        for tmp in self.root.glob(".registry-*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.lstat().st_mtime > _STALE_TEMP_SECONDS:
                    tmp.unlink()


_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')


def _headers(response: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP headers of a botocore response, names lower-case."""
    meta = response.get("ResponseMetadata")
    headers = meta.get("HTTPHeaders") if isinstance(meta, Mapping) else None
    if not isinstance(headers, Mapping):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _body_matches_etag(body: bytes, etag: str | None) -> bool:
    """False when ``etag`` is a single-part ETag (an MD5) that the body does not have; multipart or opaque ETags
    cannot be checked and pass."""
    m = _MD5_ETAG.fullmatch(etag or "")
    return m is None or hashlib.md5(body, usedforsecurity=False).hexdigest() == m.group(1).lower()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _safe_endpoint(url: str | None) -> str:
    """scheme://host[:port] — never user info, path or query."""
    from china_site.redact import safe_url

    return safe_url(url)


def _offline_allowed() -> bool:
    return os.environ.get(OFFLINE_CACHE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _shut_down(stream: Any) -> None:
    """Shut down the socket under a botocore StreamingBody so that a read blocked in another thread returns."""
    import socket

    conn = getattr(getattr(stream, "_raw_stream", None), "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _FetchAborted(Exception):
    """Raised from a botocore hook to stop a remote load: ``why`` is "deadline" or "attempts"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _fetch_remote(
    source: str,
    scheme: Literal["oss", "s3"],
    bucket: str,
    key: str,
    *,
    cache_root: Path,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    deadline: float = 30.0,
    max_bytes: int,
) -> tuple[bytes, FetchInfo, list[str]]:
    """The registry object's bytes (at most ``max_bytes``), how they were obtained, and notes for the warnings."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
        ResponseStreamingError,
        SSLError,
    )

    from china_site import completeness, oss

    creds_fix = (
        "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        if scheme == "oss"
        else "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile)"
    )
    endpoint_hint = "CHINA_SITE_OSS_ENDPOINT / ALIBABA_CLOUD_REGION_ID" if scheme == "oss" else "AWS_ENDPOINT_URL"
    max_attempts = max(1, max_attempts)
    started = time.monotonic()
    notes: list[str] = []
    cached: _Cached | None = None

    def fail(what: str, fix: str) -> RegistryError:
        return RegistryError(what, source=source, fix=fix)

    def unreachable(endpoint: str, why: str) -> tuple[bytes, FetchInfo, list[str]]:
        if cached is not None and _offline_allowed():
            notes.append(
                f"{source}: cannot reach {endpoint} ({why}); using the cached copy fetched {cached.fetched_at} "
                f"because {OFFLINE_CACHE_ENV} is set — it may be out of date."
            )
            info = FetchInfo(source, None, True, cached.etag, offline=True, cache_file=str(cached.path))
            return cached.body, info, notes
        hint = (
            f"; or set {OFFLINE_CACHE_ENV}=1 to use the cached copy from {cached.fetched_at}"
            if cached is not None
            else ""
        )
        raise fail(
            f"cannot reach {endpoint} ({why}); the filing registry is required, so this fails closed",
            f"check the network and the endpoint ({endpoint_hint}){hint}",
        )

    try:
        client = oss.client(
            scheme, connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
        )
    except BotoCoreError as err:
        raise fail(f"cannot set up the {scheme} client ({type(err).__name__})", f"check {endpoint_hint}") from None
    except ValueError:  # botocore: "Invalid endpoint: …" (the URL is not echoed: it may carry credentials)
        raise fail(
            f"cannot set up the {scheme} client: the endpoint is not a valid URL",
            f"set {endpoint_hint} to a URL such as https://s3.oss-cn-hangzhou.aliyuncs.com",
        ) from None
    endpoint = _safe_endpoint(getattr(client.meta, "endpoint_url", None))
    cache = _Cache(cache_root, source, endpoint, notes)
    cached = cache.read()

    # Every request that goes out (first attempt, retries, redirects) is counted; none starts after the deadline
    # or beyond max_attempts. The whole exchange runs in a helper thread the caller stops waiting for at the
    # deadline, so a server that trickles its answer one byte at a time cannot hold the load.
    sent = [0]
    stop = threading.Event()

    def before_send(**_: Any) -> None:
        if stop.is_set():
            raise _FetchAborted("deadline")
        if sent[0] >= max_attempts:
            raise _FetchAborted("attempts")
        sent[0] += 1

    client.meta.events.register("before-send.s3", before_send)

    def attempts() -> str:
        return f"{sent[0]} attempt{'s' if sent[0] != 1 else ''} of at most {max_attempts}"

    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if cached is not None and cached.etag:
        request["IfNoneMatch"] = cached.etag
    if scheme == "s3":  # S3 states its x-amz-checksum-* only when asked (OSS: ETag and Content-MD5)
        request["ChecksumMode"] = "ENABLED"
    outcome: dict[str, Any] = {}

    def sidecar() -> bytes | None:
        """The ``<key>.sha256`` object beside the registry (None when there is none), with its own request budget."""
        sent[0] = 0
        try:
            side = client.get_object(Bucket=bucket, Key=key + completeness.SIDECAR_SUFFIX)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404) or err.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied"):
                return None
            raise
        outcome["stream"] = side["Body"]
        data: bytes = side["Body"].read(completeness.SIDECAR_MAX_BYTES + 1)
        return data

    def exchange() -> None:
        try:
            got = client.get_object(**request)
            outcome["stream"] = got["Body"]
            outcome["body"] = got["Body"].read(max_bytes + 1)
            outcome["response"] = got
            if completeness.needs_sidecar(_headers(got)) and len(outcome["body"]) <= max_bytes:
                outcome["sidecar"] = sidecar()
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=exchange, name="china-site-registry-fetch", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - (time.monotonic() - started)))
    if worker.is_alive():
        stop.set()
        _shut_down(outcome.get("stream"))  # ends the helper thread's read (close() would wait for it)
        return unreachable(endpoint, f"no complete answer within the deadline of {deadline:g} s, {attempts()}")
    try:
        if "error" in outcome:
            raise outcome["error"]
        response = outcome["response"]
        body = outcome["body"]
    except _FetchAborted as err:
        if err.why == "attempts":
            return unreachable(endpoint, f"{attempts()} used up without an answer (redirected or failed every time)")
        return unreachable(endpoint, f"no complete answer within the deadline of {deadline:g} s, {attempts()}")
    except RecursionError:
        return unreachable(endpoint, f"redirected in a loop, {attempts()}")
    except ClientError as err:
        meta = err.response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode")
        from china_site.redact import safe_code

        # The server's text: escaped and cut unless it has an error code's shape.
        code = safe_code(str(err.response.get("Error", {}).get("Code", "") or status)) or str(status)
        if (status == 304 or code in ("304", "NotModified")) and cached is not None:
            info = FetchInfo(source, 304, True, cached.etag, cache_file=str(cached.path))
            return cached.body, info, notes
        if code == "NoSuchKey" or (status == 404 and code in ("404", "NotFound")):
            raise fail(
                f"object {key!r} not found in bucket {bucket!r} at {endpoint} (NoSuchKey)",
                "check the key, or upload the registry there",
            ) from None
        if code == "NoSuchBucket":
            raise fail(
                f"bucket {bucket!r} does not exist at {endpoint} (NoSuchBucket)",
                f"check the bucket name and the region/endpoint ({endpoint_hint})",
            ) from None
        if code == "InvalidAccessKeyId":
            raise fail(
                f"the access key is not known to {endpoint} (InvalidAccessKeyId, HTTP {status})",
                f"check the credentials: {creds_fix}",
            ) from None
        if code == "SignatureDoesNotMatch":
            raise fail(
                f"the request signature was rejected by {endpoint} (SignatureDoesNotMatch, HTTP {status})",
                f"check the secret key: {creds_fix}",
            ) from None
        if code in ("ExpiredToken", "InvalidToken", "TokenRefreshRequired", "SecurityTokenExpired"):
            raise fail(f"the security token was rejected ({code})", "refresh the temporary credentials") from None
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            raise fail(
                f"bucket {bucket!r} is in another region than {endpoint} ({code})",
                f"set the bucket's region/endpoint ({endpoint_hint})",
            ) from None
        if code == "AccessDenied" or status == 403:
            raise fail(
                f"access denied to {bucket}/{key} ({code}, HTTP {status})",
                f"grant GetObject on the object ({'oss:GetObject' if scheme == 'oss' else 's3:GetObject'}) to these "
                "credentials",
            ) from None
        if isinstance(status, int) and status >= 500:
            return unreachable(endpoint, f"server error {code}, HTTP {status}, {attempts()}")
        raise fail(
            f"the server refused to return the object ({code}, HTTP {status})",
            "check the bucket, key and credentials",
        ) from None
    except SSLError:
        raise fail(
            f"TLS handshake with {endpoint} failed",
            f"check the endpoint ({endpoint_hint}) and the system's CA certificates",
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as err:
        why = "timed out" if isinstance(err, ConnectTimeoutError) else "connection failed"
        return unreachable(endpoint, f"{why}, {attempts()}")
    except (ReadTimeoutError, ResponseStreamingError):
        return unreachable(endpoint, f"no response within {read_timeout:g} s, {attempts()}")
    except (NoCredentialsError, PartialCredentialsError):
        raise fail(f"no usable credentials to read {scheme}://{bucket}/{key}", creds_fix) from None
    except BotoCoreError as err:
        raise fail(
            f"cannot read the object ({type(err).__name__})", f"check the source and the endpoint ({endpoint_hint})"
        ) from None

    if len(body) > max_bytes:
        raise fail(
            f"the object is larger than {max_bytes} bytes, too large for a filing registry",
            "point at the registry object itself",
        )
    etag = response.get("ETag")
    etag = etag if isinstance(etag, str) and etag else None
    verdict = completeness.verify(body, _headers(response), outcome.get("sidecar"))
    if verdict.corrupt:
        raise fail(
            f"the object read from {endpoint} is not the whole object: {verdict.why}",
            "run the command again; if it persists, check for a proxy cutting or rewriting the content",
        )
    if not verdict.complete:
        raise fail(
            f"the object read from {endpoint} cannot be proven complete: {verdict.why}",
            f"upload it in one PutObject (its ETag is then its MD5), or put its SHA-256 beside it as "
            f"{key}{completeness.SIDECAR_SUFFIX} (`sha256sum` output); check for a proxy stripping Content-Length",
        )
    try:
        cache.write(body, etag, verdict.proof)
    except OSError as err:
        notes.append(f"{source}: could not write the local cache in {cache_root} ({err.strerror or err}).")
    info = FetchInfo(source, 200, False, etag, cache_file=str(cache.body_path))
    return body, info, notes
