"""A policy pack started the way the Pulumi engine starts it, and a gRPC client speaking the analyzer protocol.

``python -m pulumi.policy 127.0.0.1:0 .`` in the pack's directory, with ``PULUMI_CONFIG`` / ``PULUMI_PROJECT`` /
``PULUMI_STACK`` / ``PULUMI_DRY_RUN`` in the environment; the first stdout line is the port. Requests are the ones
``china_site.engine.driver`` builds (the engine's encoding: wire names, numbers as doubles, the provider with its
inputs), so both packs receive byte-identical messages.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import env_without_pulumi

PROJECT = "shops"
STACK = "prod"


@dataclass(frozen=True)
class StartTimes:
    """Seconds from the spawn: the port line read, the gRPC channel ready."""

    port_line: float
    channel_ready: float


class Pack:
    """One running pack (spawned on construction) and a connected ``AnalyzerStub``."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        stack_config: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        env = env_without_pulumi()
        env.update(
            {
                "PULUMI_CONFIG": json.dumps(dict(stack_config or {})),
                "PULUMI_CONFIG_SECRET_KEYS": "[]",
                "PULUMI_PROJECT": PROJECT,
                "PULUMI_STACK": STACK,
                "PULUMI_ORGANIZATION": "organization",
                "PULUMI_DRY_RUN": "true",
            }
        )
        env.update(extra_env or {})
        self.pack_dir = pack_dir
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.channel: Any = None
        start = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=pack_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        port = self._port(timeout)
        port_line = time.perf_counter() - start
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        self.start_times = StartTimes(port_line, time.perf_counter() - start)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _port(self, timeout: float) -> int:
        stdout = self.process.stdout
        assert stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            text = lines.get(timeout=timeout).decode("utf-8", "replace").strip()
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{self.pack_dir}: no port line within {timeout:g} s; stderr: {self.stderr()}") from None
        if not text.isdigit():
            self.stop()
            raise RuntimeError(f"{self.pack_dir}: first stdout line is not a port: {text!r}; stderr: {self.stderr()}")
        return int(text)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> Pack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the engine's session ----------------------------------------------------------------------------------------

    def configure(self, properties: Mapping[str, Any] | None = None) -> list[str]:
        """ConfigureStack, GetAnalyzerInfo, then Configure every policy at its default level with ``properties``
        (as a user's ``--policy-pack-config`` repeating shared keys per policy would). Returns the policy names."""
        from google.protobuf import empty_pb2

        from china_site.engine.driver import PolicyConfig, configure_request, configure_stack_request

        self.stub.ConfigureStack(configure_stack_request(STACK, PROJECT, {}, dry_run=True))
        info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        levels = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
        config = {
            p.name: PolicyConfig(levels.get(p.enforcementLevel, "advisory"), dict(properties) if properties else None)  # type: ignore[arg-type]
            for p in info.policies
        }
        self.stub.Configure(configure_request(config))
        return [p.name for p in info.policies]
