"""Misbehaving servers on loopback for the hardening tests (issue 13): each is a small ``http.server`` in a thread.

- ``redirect``: every request answered 301 (or 307 with S3's TemporaryRedirect body) to itself — a redirect loop;
- ``trickle``: 200 with a large Content-Length, then one byte every ``interval`` seconds;
- ``hang``: accepts the connection and never answers;
- ``error``: 500 every time;
- :class:`Proxy`: a TCP relay to another server that can be closed (the same endpoint, now unreachable).

``requests`` counts the requests that reached the server.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

Mode = Literal["redirect", "redirect307", "trickle", "hang", "error"]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    mode: Mode = "error"
    interval = 0.5
    requests = 0
    closing: threading.Event


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests += 1
        port = srv.server_address[1]
        try:
            if srv.mode == "redirect":
                self.send_response(301)
                self.send_header("Location", f"http://127.0.0.1:{port}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif srv.mode == "redirect307":
                body = (
                    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>TemporaryRedirect</Code>'
                    b"<Endpoint>127.0.0.1:%d</Endpoint><Bucket>b</Bucket></Error>" % port
                )
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{port}{self.path}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif srv.mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                while not srv.closing.is_set():
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(srv.interval)
            elif srv.mode == "hang":
                srv.closing.wait(600)
            else:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
        except OSError:
            pass

    do_HEAD = do_GET
    do_PUT = do_GET
    do_POST = do_GET  # the CDN API's calls


@contextlib.contextmanager
def serve(mode: Mode, *, interval: float = 0.5) -> Iterator[_Server]:
    """A misbehaving HTTP server on 127.0.0.1 (random port) for the duration of the block."""
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.mode = mode
    srv.interval = interval
    srv.closing = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.closing.set()
        srv.shutdown()
        srv.server_close()


def endpoint(srv: socketserver.BaseServer) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


class Proxy:
    """A TCP relay on 127.0.0.1 to ``target`` (host, port); :meth:`close` makes its endpoint unreachable."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.listener.close()
        for sock in self._open:
            with contextlib.suppress(OSError):
                sock.close()
