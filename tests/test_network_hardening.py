"""Bounded time and nothing secret or hostile in output (issue 22, items 2 and 3).

- Every network call has an overall deadline, not only a per-read timeout: an endpoint on loopback that answers one
  byte at a time (``tests/hostile.py`` ``trickle``) cannot hold the live ICP check, the ownership calls or the
  registry fetch past it. The deadlines are configurable (``liveTimeoutSeconds``, ``CHINA_SITE_CDN_TIMEOUT``,
  ``CHINA_SITE_REGISTRY_DEADLINE``).
- Credentials in an endpoint URL of any shape never reach a message; the API's error codes and values are escaped
  and cut; a DescribeVerifyContent value that is not ``verify_`` + 32 hex digits is refused before it is printed or
  written to DNS.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hostile import endpoint, serve

from china_site import ownership
from china_site.errors import ChinaSiteError, InputError
from china_site.live import Credentials, LiveVerifier
from china_site.redact import redact_urls, safe_url

AK_ID = "LTAI-hardening-key"
AK_SECRET = "hardening-secret-never-shown"
CREDS = Credentials(AK_ID, AK_SECRET)


# --- bounded time ----------------------------------------------------------------------------------------------------


def test_the_live_icp_check_has_an_overall_deadline() -> None:
    with serve("trickle", interval=0.1) as srv:
        verifier = LiveVerifier(credentials=CREDS, endpoint=endpoint(srv), timeout=1.0)
        started = time.monotonic()
        result = verifier.check("www.example.cn")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed  # one byte every 0.1 s never resets it (the 1 s read timeout never fires)
    assert result.status == "unavailable" and "deadline" in result.detail


@pytest.mark.parametrize("call", ["verify_content", "verify_once"])
def test_the_ownership_calls_have_an_overall_deadline(call: str) -> None:
    with serve("trickle", interval=0.1) as srv:
        client = ownership.OwnershipClient(credentials=CREDS, endpoint=endpoint(srv), timeout=1.0)
        started = time.monotonic()
        with pytest.raises(ownership.OwnershipError) as err:
            getattr(client, call)("www.example.cn")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert "deadline of 1 s" in err.value.line() and AK_SECRET not in err.value.line()


def test_the_ownership_deadline_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHINA_SITE_CDN_TIMEOUT", "0.5")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    with serve("hang") as srv:
        monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", endpoint(srv))
        import os

        client = ownership.client_from_env(os.environ)
        started = time.monotonic()
        with pytest.raises(ownership.OwnershipError, match=r"deadline of 0\.5 s"):
            client.verify_content("www.example.cn")
        assert time.monotonic() - started < 2.0
    for bad in ("0", "-1", "soon", "nan", "1e9"):
        monkeypatch.setenv("CHINA_SITE_CDN_TIMEOUT", bad)
        with pytest.raises(InputError, match="CHINA_SITE_CDN_TIMEOUT"):
            ownership.client_from_env(os.environ)


def test_the_registry_deadline_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from china_site.errors import RegistryError
    from china_site.filings import load_registry

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testing-secret")
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CHINA_SITE_REGISTRY_DEADLINE", "1")
    with serve("trickle", interval=0.1) as srv:
        monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", endpoint(srv))
        started = time.monotonic()
        with pytest.raises(RegistryError, match="deadline of 1 s"):
            load_registry("oss://b/filings.yaml")
        assert time.monotonic() - started < 3.0
    monkeypatch.setenv("CHINA_SITE_REGISTRY_DEADLINE", "later")
    with pytest.raises(InputError, match="CHINA_SITE_REGISTRY_DEADLINE"):
        load_registry("oss://b/filings.yaml")


# --- credentials in URLs of any shape -------------------------------------------------------------------------------

SECRET_URLS = [
    "http://proxyuser:hun/ter2@127.0.0.1:9",
    "http://proxyuser:hun@ter2@127.0.0.1:9",
    "http://u:p%40ss@127.0.0.1:9/path",
    "http://127.0.0.1:9/?token=hunter2",
    "http://127.0.0.1:9/x;jsessionid=hunter2",
    "http://127.0.0.1:9/x;token=hunter2?a=b",
    "https://127.0.0.1:9/#access_token=hunter2",
    "proxyuser:hunter2@127.0.0.1:9",
    "http://user:hunter2@[::1]:9/",
    "HTTP://USER:hunter2@127.0.0.1:9",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_safe_url_and_redact_urls_hide_credentials(url: str) -> None:
    for secret in ("hunter2", "hun/ter2", "hun@ter2", "p%40ss", "ter2"):
        assert secret not in safe_url(url)
        if "://" in url:  # (in prose, only a URL with a scheme is recognisable as one)
            assert secret not in redact_urls(f"failed at {url} (boom)")
    assert "9" in safe_url(url)


def test_redact_urls_keeps_what_is_not_a_secret() -> None:
    link = "https://beian.mps.gov.cn/#/query/webSearch?code=31011502012345"
    assert redact_urls(f"see {link} now") == f"see {link} now"
    assert redact_urls("no url here: a@b, key=value") == "no url here: a@b, key=value"
    assert redact_urls("https://x.cn/a?Signature=abc&Expires=1&OSSAccessKeyId=LTAI") == (
        "https://x.cn/a?Signature=***&Expires=1&OSSAccessKeyId=***"
    )


@pytest.mark.parametrize("url", SECRET_URLS)
def test_ownership_errors_never_show_endpoint_credentials(url: str) -> None:
    client = ownership.OwnershipClient(credentials=CREDS, endpoint=url, timeout=0.5)
    with pytest.raises(ChinaSiteError) as err:
        client.verify_content("www.example.cn")
    line = err.value.line()
    assert "hunter2" not in line and "ter2" not in line and AK_SECRET not in line, line


def test_every_error_line_redacts_urls() -> None:
    err = InputError("cannot reach http://u:hun/ter2@h.example/x?token=abc", where="https://a:b@c.example")
    assert "ter2" not in err.line() and "abc" not in err.line() and ":b@" not in err.line()


# --- hostile answers from the CDN API ------------------------------------------------------------------------------


@contextmanager
def cdn_answering(status: int, payload: dict[str, Any]) -> Iterator[str]:
    body = json.dumps(payload).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


HOSTILE = [
    "\x1b[2J\x1b[31mPWNED",
    "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "A" * 2_000_000,
    "Code\r\nX-Injected: 1",
]


@pytest.mark.parametrize("code", HOSTILE)
def test_remote_error_codes_are_escaped_and_cut(code: str) -> None:
    with cdn_answering(400, {"RequestId": "r", "Code": code, "Message": code}) as url:
        client = ownership.OwnershipClient(credentials=CREDS, endpoint=url, timeout=3.0)
        with pytest.raises(ownership.OwnershipError) as err:
            client.verify_content("www.example.cn")
        verifier = LiveVerifier(credentials=CREDS, endpoint=url, timeout=3.0)
        detail = verifier.check("www.example.cn").detail
    for text in (err.value.line(), str(err.value), detail, err.value.code or ""):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text and "\n" not in text
        assert len(text) < 2000


@pytest.mark.parametrize(
    "content",
    ["\x1b[31mverify_" + "a" * 32, "verify_" + "a" * 200_000, "verify_xyz", "verify_" + "a" * 31, "", "TXT evil"],
)
def test_a_verification_value_of_the_wrong_shape_is_refused(content: str) -> None:
    with cdn_answering(200, {"RequestId": "r", "Content": content}) as url:
        client = ownership.OwnershipClient(credentials=CREDS, endpoint=url, timeout=3.0)
        with pytest.raises(ownership.OwnershipError) as err:
            client.verify_content("www.example.cn")
    line = err.value.line()
    assert "\x1b" not in line and len(line) < 2000 and "DescribeVerifyContent" in line


def test_a_verification_value_of_the_right_shape_passes() -> None:
    value = "verify_" + "0123456789abcdef" * 2
    with cdn_answering(200, {"RequestId": "r", "Content": f" {value}\n"}) as url:
        client = ownership.OwnershipClient(credentials=CREDS, endpoint=url, timeout=3.0)
        assert client.verify_content("www.example.cn") == value


# --- the engine's own messages in the report ------------------------------------------------------------------------


def test_engine_policy_messages_go_through_the_same_redaction(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from china_site.cli import app

    root = Path(__file__).resolve().parent.parent
    events = (root / "tests" / "data" / "engine" / "mainland-unfiled-up-events.jsonl").read_text(encoding="utf-8")
    leak = "registry https://ak:hun/ter2@oss.example/filings.yaml?Signature=sig-hunter2&x-oss-token=tok-hunter2"
    lines = []
    for line in events.splitlines():
        event = json.loads(line)
        if "policyEvent" in event:
            event["policyEvent"]["message"] += f"\n{leak}"
        lines.append(json.dumps(event))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["audit", str(path), "--filings", str(root / "filings.yaml"), "--today", "2026-11-28", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    messages = [e["message"] for e in report["engine_policy_events"]]
    assert messages and all("https://***@oss.example/filings.yaml?Signature=***" in m for m in messages)
    assert "hunter2" not in result.stdout and "ter2" not in result.stdout


def test_s3_error_codes_are_escaped_and_cut() -> None:
    from botocore.exceptions import ClientError

    from china_site.sync import describe_error

    hostile = "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07" * 50_000
    exc = ClientError({"Error": {"Code": hostile, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Put")
    err = describe_error(exc, client=None, bucket="b", key="k", operation="PutObject")
    assert "\x1b" not in err.line() and "\x07" not in err.line() and len(err.code or "") < 100
    fine = ClientError({"Error": {"Code": "NoSuchBucket"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "Put")
    assert describe_error(fine, client=None, bucket="b", key="k", operation="PutObject").code == "NoSuchBucket"


def test_failed_run_messages_copied_from_the_engine_are_redacted(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from china_site.cli import app

    root = Path(__file__).resolve().parent.parent
    events = (root / "tests" / "data" / "engine" / "mainland-unfiled-up-events.jsonl").read_text(encoding="utf-8")
    failure = {
        "sequence": 98,
        "diagnosticEvent": {
            "severity": "error",
            "message": "GET https://deploy:hun/ter2@registry.example/x?access_token=tok-hunter2 failed",
        },
    }
    path = tmp_path / "events.jsonl"
    path.write_text(events.rstrip("\n") + "\n" + json.dumps(failure) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["audit", str(path), "--filings", str(root / "filings.yaml"), "--today", "2026-11-28", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    assert "registry.example" in result.stdout  # the failure is reported…
    assert "hunter2" not in result.stdout and "ter2" not in result.stdout  # …without its credentials
