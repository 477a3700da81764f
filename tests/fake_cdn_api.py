"""A local server that answers as the Alibaba Cloud CDN API's ownership calls (loopback only).

Used by tests/test_ownership.py and meant for the real-engine e2e suite: point ``CHINA_SITE_CDN_ENDPOINT`` at it.
It keeps what Alibaba Cloud keeps: per root domain, the verification content (``verify_<32 hex>``), the TXT records
"published" at ``verification.<root>`` and which roots this account has verified. DescribeVerifyContent answers
``{"Content", "RequestId"}``; VerifyDomainOwner answers ``{"RequestId"}`` when the record carries the content (or the
root is already verified), else HTTP 400 ``DomainOwnerVerifyFail`` with the expected ``Content``; a root named
``forbidden.cn`` gets HTTP 403 ``Forbidden.RAM``. With ``filed`` set it also answers CheckCdnDomainICP
(``{"RequestId", "Status": "DomainIsRegistration" | "DomainNotRegistration"}``, used by tests/test_live.py); a domain
in ``slow`` is answered after 2 s, one in ``malformed`` with HTTP 400 ``InvalidDomain.Malformed``. The records it
sees: ``txt`` and, when given, the ``dns`` resolver (the e2e suite plugs in the local cloud's Alibaba Cloud DNS,
``LocalCloud.published_txt``). Each request is logged in ``requests`` with its ``time`` (UTC, ISO 8601, as the local
cloud's call log) and, for VerifyDomainOwner, the TXT values it ``seen``.

Standalone: ``python tests/fake_cdn_api.py [--port N] [--verified ROOT …]`` prints ``http://127.0.0.1:<port>`` and
serves until killed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from china_site import domains

FORBIDDEN = "forbidden.cn"


def content_of(root: str) -> str:
    return "verify_" + hashlib.md5(root.encode()).hexdigest()


@dataclass
class FakeCdn:
    port: int = 0
    verified: set[str] = field(default_factory=set)  # roots this account owns (verified before)
    txt: dict[str, str] = field(default_factory=dict)  # fqdn → value (what DNS shows)
    # A resolver beside ``txt``: fqdn → TXT values, asked on every VerifyDomainOwner (e.g. the local cloud's
    # ``published_txt``: records created in its Alibaba Cloud DNS become visible at once). None: only ``txt``.
    dns: Callable[[], Mapping[str, Sequence[str]]] | None = None
    filed: set[str] | None = None  # domains CheckCdnDomainICP reports filed; None: that action is not served
    slow: set[str] = field(default_factory=set)  # domains answered after 2 s (a client's timeout)
    malformed: set[str] = field(default_factory=set)  # domains answered with HTTP 400 InvalidDomain.Malformed
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def actions(self, domain: str | None = None) -> list[str]:
        with self.lock:
            return [r["action"] for r in self.requests if domain is None or r["domain"] == domain]

    def count(self, domain: str) -> int:
        """How many calls named ``domain``."""
        return len(self.actions(domain))


def _handler(api: FakeCdn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            params.update({k: v[0] for k, v in parse_qs(body).items()})
            action = self.headers.get("x-acs-action")
            domain = params.get("DomainName", "")
            entry: dict[str, Any] = {
                "action": action,
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                "version": self.headers.get("x-acs-version"),
                "domain": domain,
                "verify_type": params.get("VerifyType"),
                "signed": "Authorization" in self.headers,
                "raw": self.path + "\n" + str(self.headers) + body,
            }
            with api.lock:
                api.requests.append(entry)
            if domain in api.slow:
                time.sleep(2.0)
            root = domains.registrable_domain(domain) or domain
            if domain in api.malformed:
                self._json(400, {"RequestId": "r-7", "Code": "InvalidDomain.Malformed", "Message": "bad domain"})
            elif root == FORBIDDEN:
                self._json(403, {"RequestId": "r-3", "Code": "Forbidden.RAM", "Message": "no permission"})
            elif action == "CheckCdnDomainICP" and api.filed is not None:
                status = "DomainIsRegistration" if domain in api.filed else "DomainNotRegistration"
                self._json(200, {"RequestId": "r-6", "Status": status})
            elif action == "DescribeVerifyContent":
                self._json(200, {"RequestId": "r-1", "Content": content_of(root)})
            elif action == "VerifyDomainOwner":
                fqdn = f"verification.{root}"
                seen = {api.txt[fqdn]} if fqdn in api.txt else set()
                resolver = api.dns
                if resolver is not None:
                    seen |= set(resolver().get(fqdn, ()))
                with api.lock:
                    entry["seen"] = sorted(seen)
                    ok = root in api.verified or content_of(root) in seen
                    if ok:
                        api.verified.add(root)
                if ok:
                    self._json(200, {"RequestId": "r-2"})
                else:
                    self._json(
                        400,
                        {
                            "RequestId": "r-4",
                            "Code": "DomainOwnerVerifyFail",
                            "Message": "Owner verification of the root domain failed.",
                            "Content": content_of(root),
                        },
                    )
            else:
                self._json(400, {"RequestId": "r-5", "Code": "InvalidAction", "Message": str(action)})

        def _json(self, code: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout)
                pass

    return Handler


@contextmanager
def serve(state: FakeCdn | None = None, port: int = 0) -> Iterator[FakeCdn]:
    """Serve on 127.0.0.1 (``port`` 0: any free port) for the life of the context."""
    state = state or FakeCdn()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verified", nargs="*", default=[], help="root domains this account already owns")
    args = parser.parse_args(argv)
    with serve(FakeCdn(verified=set(args.verified)), args.port) as api:
        print(api.endpoint, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
