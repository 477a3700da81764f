"""Helper processes on loopback: moto's S3-compatible server, and a policy pack started the way the engine starts it.

No pytest here: the fixtures (``tests/conftest.py``), the pack harness (``tests/analyzer_harness.py``) and the
benchmarks (``bench/_pack.py``, ``bench/content_sync.py``: ``tests.processes``) share this one copy. The pack's
environment holds nothing of Pulumi's but what the engine sets (a run inside a Pulumi program must not leak it).
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate, then kill if it does not exit within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


# ---------------------------------------------------------------------------------------------------------------
# moto's S3-compatible server


@dataclass
class S3Server:
    endpoint: str
    port: int
    process: subprocess.Popen[bytes]

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_s3_server(extra_env: Mapping[str, str] | None = None, timeout: float = 30.0) -> S3Server:
    """Start ``moto_server`` as a separate process on a free loopback port and wait until it answers."""
    port = free_port()
    env = dict(os.environ)
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return S3Server(endpoint=f"http://127.0.0.1:{port}", port=port, process=proc)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"moto server did not start within {timeout:g} s")


# ---------------------------------------------------------------------------------------------------------------
# A policy pack as the engine starts it


@dataclass(frozen=True)
class StartTimes:
    """Seconds from the spawn: the port line read, the gRPC channel ready."""

    port_line: float
    channel_ready: float


# Pulumi's Python language host stays the pack's parent while the pack runs; ``host_cwd`` plays it: this launcher runs
# in the host's working folder (the project's), starts the pack in the pack's folder and ends it when told to.
_HOST_LAUNCHER = (
    "import signal, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:], cwd=sys.argv[1])\n"
    "signal.signal(signal.SIGTERM, lambda *_: (p.terminate(), p.wait(), sys.exit(0)))\n"
    "sys.exit(p.wait())\n"
)


class SpawnedPack:
    """The pack as Pulumi's Python language host starts it: ``python -u -m pulumi.policy 127.0.0.1:0 <pack dir>`` in
    ``pack_dir``, with ``PULUMI_CONFIG`` / ``PULUMI_PROJECT`` / ``PULUMI_STACK`` / ``PULUMI_DRY_RUN`` /
    ``PULUMI_ORGANIZATION`` in its environment (nothing else of Pulumi's); the first stdout line is the port.
    Connected on construction: ``stub`` is an ``AnalyzerStub``. ``python``: the interpreter (default: this one), e.g.
    the pack folder's ``venv/bin/python`` as the Pulumi CLI runs it. ``host_cwd``: start it from a parent process
    whose working folder is ``host_cwd`` (the language host's, which the CLI starts in the project's folder)."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        dry_run: bool = True,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        python: str | os.PathLike[str] | None = None,
        host_cwd: Path | None = None,
    ) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env.update(
            {
                "PULUMI_CONFIG": json.dumps(dict(stack_config or {})),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(secret_keys)),
                "PULUMI_PROJECT": project,
                "PULUMI_STACK": stack,
                "PULUMI_ORGANIZATION": "organization",
                "PULUMI_DRY_RUN": "true" if dry_run else "false",
            }
        )
        env.update(extra_env or {})
        self.pack_dir = pack_dir
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.channel: Any = None
        start = time.perf_counter()
        command = [
            str(python or sys.executable),
            "-u",
            "-m",
            "pulumi.policy",
            "127.0.0.1:0",
            str(Path(pack_dir).resolve()),
        ]
        if host_cwd is not None:
            command = [sys.executable, "-c", _HOST_LAUNCHER, str(pack_dir), *command]
        self.process = subprocess.Popen(
            command,
            cwd=host_cwd or pack_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.first_line = self._read_first_line(timeout)
        self.port = int(self.first_line)
        port_line = time.perf_counter() - start
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        self.start_times = StartTimes(port_line, time.perf_counter() - start)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_first_line(self, timeout: float) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            text = lines.get(timeout=timeout).decode("utf-8", "replace").strip()
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"{self.pack_dir}: no port line within {timeout:g} s; stderr: {self.stderr()[-2000:]}"
            ) from None
        if not text.isdigit():
            self.stop()
            raise RuntimeError(
                f"{self.pack_dir}: first stdout line is not a port: {text!r}; stderr: {self.stderr()[-2000:]}"
            )
        return text

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        stop_process(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> SpawnedPack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
