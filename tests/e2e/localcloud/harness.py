"""Processes of the local cloud, without pytest: moto's S3 server and the plugin started the way the engine starts it,
and readers for the call log and the state. ``fixtures.py`` wraps these for pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processes import S3Server, start_s3_server, stop_process

HERE = Path(__file__).resolve().parent
BIN = HERE / "bin"
PLUGIN = BIN / "pulumi-resource-alicloud"


# moto's S3 server (OSS's stand-in) and process handling are tests/processes.py's (on sys.path under pytest).
MotoS3 = S3Server
start_moto = start_s3_server
stop = stop_process


@dataclass
class LocalCloud:
    """One test's local cloud: its state folder, its call log and the environment for the ``pulumi`` CLI."""

    state_dir: Path
    log_file: Path
    env: dict[str, str]

    def calls(self, method: str | None = None, type: str | None = None) -> list[dict[str, Any]]:
        """The recorded gRPC calls (oldest first), optionally only one method and/or one resource type."""
        if not self.log_file.is_file():
            return []
        entries = [json.loads(line) for line in self.log_file.read_text(encoding="utf-8").splitlines() if line]
        return [
            e for e in entries if (method is None or e["method"] == method) and (type is None or e.get("type") == type)
        ]

    def resources(self, type: str | None = None) -> list[dict[str, Any]]:
        """The resources the cloud holds now: ``{type, id, urn, inputs, outputs}`` (secrets sealed)."""
        from .cloud import StateStore

        return [r for r in StateStore(str(self.state_dir)).all() if type is None or r["type"] == type]

    def published_txt(self) -> dict[str, list[str]]:
        """The TXT records the cloud's DNS publishes now (fqdn → values): plug it into a resolver, e.g.
        ``FakeCdn(dns=local_cloud.published_txt)`` (tests/fake_cdn_api.py) — how Alibaba Cloud CDN sees a record
        created in Alibaba Cloud DNS."""
        from .cloud import StateStore, published_records

        return published_records(StateStore(str(self.state_dir)), "TXT")

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.is_file() else ""

    def install(self, pulumi_home: Path) -> dict[str, str]:
        """Install the plugin into ``pulumi_home``'s plugin cache (see :func:`install_plugin`) and return ``env``
        with ``PULUMI_HOME`` set, ambient plugins ignored and the plugin's folder taken off PATH."""
        install_plugin(pulumi_home)
        env = dict(self.env)
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(BIN))
        env["PULUMI_HOME"] = str(pulumi_home)
        env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
        return env


def install_plugin(pulumi_home: Path, version: str | None = None) -> Path:
    """Put the plugin where ``pulumi plugin install`` would: ``<PULUMI_HOME>/plugins/resource-alicloud-v<version>/``
    (version: the installed pulumi_alicloud SDK's). The engine then finds it by the version the program asks for, as
    on a user's machine, and prints no "using ... from $PATH" warning. Returns the plugin folder."""
    from .schema import sdk_version

    folder = Path(pulumi_home) / "plugins" / f"resource-alicloud-v{version or sdk_version()}"
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "pulumi-resource-alicloud"
    exe.write_text(f'#!/bin/sh\nexec "{PLUGIN}" "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return folder


def cloud_env(
    state_dir: Path,
    log_file: Path,
    *,
    s3_endpoint: str | None = None,
    base: Mapping[str, str] | None = None,
    python: str | None = None,
) -> dict[str, str]:
    """The environment for the ``pulumi`` CLI (and so for the plugin it starts): the plugin first on PATH, its
    state and log, OSS pointed at the S3 stand-in, throwaway Alibaba Cloud credentials, no plugin downloads."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["LOCALCLOUD_STATE"] = str(state_dir)
    env["LOCALCLOUD_LOG"] = str(log_file)
    env["LOCALCLOUD_PYTHON"] = python or env.get("LOCALCLOUD_PYTHON") or sys.executable
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    env.pop("PULUMI_IGNORE_AMBIENT_PLUGINS", None)  # the plugin is found on PATH
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "localcloud-access-key"
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "localcloud-secret-never-logged"
    env.pop("ALIBABA_CLOUD_SECURITY_TOKEN", None)
    if s3_endpoint:
        env["LOCALCLOUD_S3_ENDPOINT"] = s3_endpoint
        env["CHINA_SITE_OSS_ENDPOINT"] = s3_endpoint
    return env


class Plugin:
    """The plugin as the engine starts it (``pulumi-resource-alicloud <engine address>``), with a gRPC stub."""

    def __init__(self, env: Mapping[str, str], timeout: float = 60.0, executable: Path = PLUGIN) -> None:
        import grpc
        from pulumi.runtime.proto import provider_pb2_grpc

        self.process = subprocess.Popen(
            [str(executable), "127.0.0.1:1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().decode()
        if not first.strip().isdigit():
            err = self.process.stderr.read().decode() if self.process.stderr else ""
            stop(self.process)
            raise RuntimeError(f"plugin printed {first!r} instead of its port; stderr: {err[-2000:]}")
        self.first_line = first
        self.port = int(first)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        stop(self.process)

    def __enter__(self) -> Plugin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
