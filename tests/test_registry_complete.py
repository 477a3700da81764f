"""A registry read from oss:// or s3:// is accepted only when provably complete (china_site/completeness.py): its
Content-Length and a whole-object checksum (a plain-MD5 ETag, Content-MD5, x-amz-checksum-*, or a ``.sha256``
sidecar). Against moto's S3 server, through a proxy that cuts the body short and strips what would give it away."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import socketserver
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import registry_data
import yaml
from conftest import S3Server
from registry_data import TODAY
from typer.testing import CliRunner

from china_site import completeness
from china_site.cli import app
from china_site.errors import RegistryError
from china_site.filings import load_registry

FAST = {"connect_timeout": 1.0, "read_timeout": 2.0, "max_attempts": 1}


def registry_text() -> bytes:
    """A registry whose LAST site is a cancelled filing: cut before it, the rest still parses."""
    doc = {
        "version": 1,
        "entities": {"acme": registry_data.entity("acme", drop=("permits",))},
        "sites": [
            {"domain": "shop.com.cn", "entity": "acme", "status": "pending"},
            {"domain": "example.cn", "entity": "acme", "status": "cancelled"},
        ],
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")


def cut_before_last_site(body: bytes) -> bytes:
    return body[: body.rindex(b"- domain: example.cn")]


def put_multipart(client: Any, bucket: str, key: str, body: bytes) -> None:
    """One part, no checksum: the ETag is ``<md5 of md5s>-1``, not the object's MD5."""
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)
    part = client.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=body)
    client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )


@pytest.fixture
def bucket(aws_test_env: S3Server) -> str:
    name = f"complete-{uuid.uuid4().hex[:12]}"
    aws_test_env.client().create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------------------------------------------------------
# A proxy that cuts the body short


class _Proxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    upstream: tuple[str, int]
    keep_md5_etag = False


class _Handler(http.server.BaseHTTPRequestHandler):
    """Forwards to moto; answers with the body cut before its last site, no Content-Length (the connection's end
    delimits it), no checksum headers and a non-MD5 ETag (or the original MD5 ETag with ``keep_md5_etag``)."""

    protocol_version = "HTTP/1.0"
    server: _Proxy

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=5)
        conn.request("GET", self.path, headers={k: v for k, v in self.headers.items()})
        got = conn.getresponse()
        body = got.read()
        conn.close()
        cut = cut_before_last_site(body) if got.status == 200 and b"example.cn" in body else body
        self.send_response(got.status)
        for name, value in got.getheaders():
            lower = name.lower()
            if lower in ("content-length", "transfer-encoding", "connection", "content-md5", "date", "server"):
                continue
            if lower.startswith("x-amz-checksum") or lower == "x-amz-sdk-checksum-algorithm":
                continue
            if lower == "etag" and got.status == 200 and not self.server.keep_md5_etag:
                value = '"0f343b0931126a20f133d67c2b018a3b-2"'
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(cut)


@pytest.fixture
def cutting_proxy(aws_test_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Proxy]:
    srv = _Proxy(("127.0.0.1", 0), _Handler)
    srv.upstream = ("127.0.0.1", aws_test_env.port)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{srv.server_address[1]}")
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


# ---------------------------------------------------------------------------------------------------------------
# Through the loader


def test_a_single_put_is_proven_by_its_md5_etag_and_length(
    aws_test_env: S3Server, bucket: str, cache_dir: Path
) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=registry_text())
    reg = load_registry(f"s3://{bucket}/filings.yaml", **FAST)
    assert {s.domain for s in reg.sites} == {"shop.com.cn", "example.cn"}


def test_a_multipart_object_without_a_checksum_is_not_accepted(
    aws_test_env: S3Server, bucket: str, cache_dir: Path
) -> None:
    put_multipart(aws_test_env.client(), bucket, "filings.yaml", registry_text())
    with pytest.raises(RegistryError) as err:
        load_registry(f"s3://{bucket}/filings.yaml", **FAST)
    line = err.value.line()
    assert "cannot be proven complete" in line and "is not an MD5" in line
    assert "filings.yaml.sha256" in line and "\n" not in line  # one line, with the fix


def test_a_sha256_sidecar_proves_a_multipart_object(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    client, body = aws_test_env.client(), registry_text()
    put_multipart(client, bucket, "filings.yaml", body)
    sidecar = f"{hashlib.sha256(body).hexdigest()}  filings.yaml\n".encode()
    client.put_object(Bucket=bucket, Key="filings.yaml.sha256", Body=sidecar)
    reg = load_registry(f"s3://{bucket}/filings.yaml", **FAST)
    assert {s.domain for s in reg.sites} == {"shop.com.cn", "example.cn"}


def test_a_sidecar_of_another_body_is_corruption(aws_test_env: S3Server, bucket: str, cache_dir: Path) -> None:
    client = aws_test_env.client()
    put_multipart(client, bucket, "filings.yaml", registry_text())
    client.put_object(Bucket=bucket, Key="filings.yaml.sha256", Body=hashlib.sha256(b"other").hexdigest().encode())
    with pytest.raises(RegistryError, match=r"does not match the SHA-256 of its \.sha256 sidecar"):
        load_registry(f"s3://{bucket}/filings.yaml", **FAST)


def test_a_cut_short_body_with_an_opaque_etag_and_no_length_is_refused(
    aws_test_env: S3Server, bucket: str, cache_dir: Path, cutting_proxy: _Proxy
) -> None:
    """Before: accepted — the cut registry parses, and the cancelled example.cn is simply gone."""
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=registry_text())
    assert yaml.safe_load(cut_before_last_site(registry_text()))["sites"]  # the cut body is a valid registry
    with pytest.raises(RegistryError, match="cannot be proven complete: nothing proves the body is the whole object"):
        load_registry(f"s3://{bucket}/filings.yaml", **FAST)


def test_a_cut_short_body_with_its_md5_etag_is_corruption(
    aws_test_env: S3Server, bucket: str, cache_dir: Path, cutting_proxy: _Proxy
) -> None:
    cutting_proxy.keep_md5_etag = True
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=registry_text())
    with pytest.raises(RegistryError, match="does not match its ETag MD5"):
        load_registry(f"s3://{bucket}/filings.yaml", **FAST)


# ---------------------------------------------------------------------------------------------------------------
# Through the CLI: a mandatory filing-registry-available finding, or exit 2 with the fix

runner = CliRunner()
ENGINE = Path(__file__).resolve().parent / "data" / "engine"


def test_audit_with_a_cut_short_registry_is_a_mandatory_finding(
    aws_test_env: S3Server, bucket: str, cache_dir: Path, cutting_proxy: _Proxy
) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=registry_text())
    result = runner.invoke(
        app,
        [
            "audit",
            str(ENGINE / "mainland-unfiled-up-events.jsonl"),
            "--filings",
            f"s3://{bucket}/filings.yaml",
            "--today",
            TODAY,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    [finding] = [f for f in data["findings"] if f["policy"] == "filing-registry-available"]
    assert finding["enforcement"] == "mandatory" and "cannot be proven complete" in finding["message"]


def test_filings_validate_of_an_unprovable_registry_exits_2(
    aws_test_env: S3Server, bucket: str, cache_dir: Path
) -> None:
    put_multipart(aws_test_env.client(), bucket, "filings.yaml", registry_text())
    result = runner.invoke(app, ["filings", "validate", f"s3://{bucket}/filings.yaml"])
    assert result.exit_code == 2
    assert "cannot be proven complete" in result.output and "sha256" in result.output


# ---------------------------------------------------------------------------------------------------------------
# The rules themselves


def _md5(b: bytes) -> str:
    return hashlib.md5(b, usedforsecurity=False).hexdigest()


@pytest.mark.parametrize(
    ("headers", "complete", "corrupt"),
    [
        ({"etag": f'"{_md5(b"abc")}"', "content-length": "3"}, True, False),
        ({"etag": f'"{_md5(b"abc")}"'}, True, False),  # chunked: the whole-object MD5 pins it
        ({"etag": f'"{_md5(b"abc")}"', "content-length": "4"}, False, True),  # length says more arrived
        ({"etag": f'"{_md5(b"ab")}"', "content-length": "3"}, False, True),
        ({"etag": '"abc-2"', "content-length": "3"}, False, False),  # multipart ETag, nothing else
        ({"etag": '"abc-2"'}, False, False),
        ({}, False, False),
        ({"etag": '"abc-2"', "x-amz-checksum-sha256": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="}, True, False),
        ({"etag": '"abc-2"', "x-amz-checksum-crc32": "NSRBwg=="}, True, False),
        ({"etag": '"abc-2"', "x-amz-checksum-crc32": "AAAAAA=="}, False, True),
        ({"etag": '"abc-2"', "x-amz-checksum-sha256": "x=-2", "x-amz-checksum-type": "COMPOSITE"}, False, False),
        ({"etag": "opaque", "content-md5": "kAFQmDzST7DWlj99KOF/cg=="}, True, False),
        ({"etag": '"ABC-2"', "x-oss-hash-crc64ecma": str(completeness.crc64_ecma(b"abc"))}, True, False),
        ({"etag": '"ABC-2"', "x-oss-hash-crc64ecma": "12345"}, False, True),
    ],
)
def test_what_proves_a_body_complete(headers: dict[str, str], complete: bool, corrupt: bool) -> None:
    verdict = completeness.verify(b"abc", headers)
    assert (verdict.complete, verdict.corrupt) == (complete, corrupt), verdict.why


def test_crc64_is_the_one_oss_computes() -> None:
    assert completeness.crc64_ecma(b"123456789") == 0x995DC9BBDF1939FA  # CRC-64/XZ check value
    assert completeness.crc64_ecma(b"") == 0


def test_a_cached_copy_not_proven_complete_is_fetched_again(
    aws_test_env: S3Server, bucket: str, cache_dir: Path
) -> None:
    aws_test_env.client().put_object(Bucket=bucket, Key="filings.yaml", Body=registry_text())
    source = f"s3://{bucket}/filings.yaml"
    load_registry(source, **FAST)
    again = load_registry(source, **FAST)
    assert again.fetch is not None and again.fetch.status == 304 and again.fetch.from_cache  # proven: reused
    [meta_path] = cache_dir.glob("registry-*.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["complete"] == "ETag MD5"
    del meta["complete"]  # a copy written before completeness was required (it may be cut short)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    fresh = load_registry(source, **FAST)
    assert fresh.fetch is not None and fresh.fetch.status == 200 and not fresh.fetch.from_cache
