"""Drive the policy pack through the analyzer gRPC protocol, the way the Pulumi engine does.

The pack runs as the engine starts it: ``python -m pulumi.policy 127.0.0.1:0 .`` with the working directory
``policies/``, ``PULUMI_CONFIG``/``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN`` in its environment; the port
is the first line on its stdout. The session then follows the engine's order: ``ConfigureStack`` →
``GetAnalyzerInfo`` → ``Configure`` (every policy's level from ``GetAnalyzerInfo``, overridden by config, plus its
config properties) → per resource ``Remediate`` then ``Analyze`` (on the remediated properties) → ``AnalyzeStack``.

Properties are encoded as the engine encodes them: wire (camelCase) names in a ``google.protobuf.Struct`` (so every
number is a double), secrets as the signature map, unknowns as the unknown sentinel strings, the resource's
provider (with its ``region``) as an ``AnalyzerProviderResource``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
POLICIES_DIR = ROOT / "policies"

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"

PROJECT = "china-site"
STACK = "dev"

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


def secret(value: Any) -> dict[str, Any]:
    """The engine's wire form of a secret value."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def urn_of(type_token: str, name: str, *, parent_types: Sequence[str] = ()) -> str:
    qualified = "$".join([*parent_types, type_token])
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


@dataclass
class Provider:
    """A provider resource as the engine shows it to analyzers (its inputs, e.g. ``region``)."""

    props: dict[str, Any]
    name: str = "default_4_0_0"
    type: str = "pulumi:providers:alicloud"

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name)

    def message(self) -> analyzer_pb2.AnalyzerProviderResource:
        return analyzer_pb2.AnalyzerProviderResource(
            type=self.type, properties=to_struct(self.props), urn=self.urn, name=self.name
        )


def region_provider(region: str, **extra: Any) -> Provider:
    return Provider(props={"region": region, "version": "4.0.0", **extra})


@dataclass
class Resource:
    type: str
    name: str
    props: dict[str, Any]
    provider: Provider | None = None
    parent_types: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name, parent_types=self.parent_types)

    def analyze_request(self, props: Mapping[str, Any] | None = None) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=self.type,
            properties=to_struct(self.props if props is None else props),
            urn=self.urn,
            name=self.name,
            options=analyzer_pb2.AnalyzerResourceOptions(),
        )
        if self.provider is not None:
            request.provider.CopyFrom(self.provider.message())
        return request

    def stack_resource(self, props: Mapping[str, Any] | None = None) -> analyzer_pb2.AnalyzerResource:
        resource = analyzer_pb2.AnalyzerResource(
            type=self.type,
            properties=to_struct(self.props if props is None else props),
            urn=self.urn,
            name=self.name,
            options=analyzer_pb2.AnalyzerResourceOptions(),
            dependencies=list(self.dependencies),
        )
        for key, urns in self.property_dependencies.items():
            resource.propertyDependencies[key].urns.extend(urns)
        if self.provider is not None:
            resource.provider.CopyFrom(self.provider.message())
        return resource


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    urn: str
    message: str


@dataclass
class Run:
    """What one engine pass produced."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    remediations: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # urn → (policy, props)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)  # (urn, policy, reason)

    def by_policy(self, policy: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.policy == policy]

    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "advisory"]

    def policies(self, level: str | None = None) -> set[str]:
        return {d.policy for d in self.diagnostics if level is None or d.level == level}


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, urn: str) -> list[Diagnostic]:
    return [
        Diagnostic(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, str(d.enforcementLevel)), d.urn or urn, d.message)
        for d in response.diagnostics
    ]


class PackProcess:
    """One running policy pack and a client speaking the analyzer protocol to it."""

    def __init__(
        self,
        *,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        extra_env: Mapping[str, str] | None = None,
        dry_run: bool = True,
        timeout: float = 60.0,
    ) -> None:
        self.stack_config = dict(stack_config or {})
        self.secret_keys = list(secret_keys)
        self.dry_run = dry_run
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env.update(
            {
                "PULUMI_CONFIG": json.dumps(self.stack_config),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
                "PULUMI_PROJECT": PROJECT,
                "PULUMI_STACK": STACK,
                "PULUMI_ORGANIZATION": "organization",
                "PULUMI_DRY_RUN": "true" if dry_run else "false",
            }
        )
        env.update(extra_env or {})
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=POLICIES_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.first_line = self._read_first_line(timeout)
        self.port = int(self.first_line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info: analyzer_pb2.AnalyzerInfo | None = None
        self.levels: dict[str, str] = {}

    def _read_first_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self.process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"the pack printed no port within {timeout} s; stderr: {self.stderr()}") from None
        text = line.decode("utf-8", "replace").strip()
        if not text.isdigit():
            self.stop()
            raise RuntimeError(f"first stdout line is not a port: {text!r}; stderr: {self.stderr()}")
        return text

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
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

    # --- the engine's calls -------------------------------------------------------------------------------------

    def configure_stack(self, config: Mapping[str, str] | None = None, secret_keys: Iterable[str] = ()) -> None:
        self.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=STACK,
                project=PROJECT,
                organization="organization",
                dry_run=self.dry_run,
                config=dict(self.stack_config if config is None else config),
                config_secret_keys=list(secret_keys or self.secret_keys),
            )
        )

    def analyzer_info(self) -> analyzer_pb2.AnalyzerInfo:
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return self.info

    def configure(
        self,
        shared: Mapping[str, Any] | None = None,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, str]:
        """Configure every policy: its level from GetAnalyzerInfo unless ``enforcementLevel`` overrides it, and its
        properties: ``shared`` (repeated for each policy, as a user's cfg.json would) plus its own entry."""
        info = self.info or self.analyzer_info()
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        levels: dict[str, str] = {}
        for policy in info.policies:
            entry = dict(shared or {})
            entry.update((policies or {}).get(policy.name, {}))
            level = entry.pop("enforcementLevel", None) or LEVEL_NAMES[policy.enforcementLevel]
            levels[policy.name] = level
            config = analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level])
            if entry:
                config.properties.update(entry)
            request.policyConfig[policy.name].CopyFrom(config)
        self.stub.Configure(request)
        self.levels = levels
        return levels

    def analyze(self, resource: Resource, props: Mapping[str, Any] | None = None) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.Analyze(resource.analyze_request(props))

    def remediate(self, resource: Resource) -> analyzer_pb2.RemediateResponse:
        return self.stub.Remediate(resource.analyze_request())

    def analyze_stack(self, resources: Sequence[Resource], props: Mapping[str, Mapping[str, Any]] | None = None):
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[r.stack_resource((props or {}).get(r.urn)) for r in resources]
        )
        return self.stub.AnalyzeStack(request)

    def run(self, resources: Sequence[Resource]) -> Run:
        """One engine pass: Remediate then Analyze per resource (remediated properties win), then AnalyzeStack."""
        result = Run()
        final_props: dict[str, dict[str, Any]] = {}
        for resource in resources:
            props = dict(resource.props)
            remediated = self.remediate(resource)
            for remediation in remediated.remediations:
                if remediation.HasField("properties") and not remediation.diagnostic:
                    props = from_struct(remediation.properties)
                    result.remediations.setdefault(resource.urn, []).append((remediation.policyName, props))
            final_props[resource.urn] = props
            response = self.analyze(resource, props)
            result.diagnostics.extend(_diagnostics(response, resource.urn))
            result.not_applicable.extend((resource.urn, n.policy_name, n.reason) for n in response.not_applicable)
        stack = self.analyze_stack(resources, final_props)
        result.diagnostics.extend(_diagnostics(stack, ""))
        result.not_applicable.extend(("", n.policy_name, n.reason) for n in stack.not_applicable)
        return result


# ---------------------------------------------------------------------------------------------------------------
# A small registry shared by the pack tests (fictitious entities; consistent on TODAY).

TODAY = "2026-11-28"

REGISTRY_YAML = """
version: 1
entities:
  acme:
    name: 上海阿克米信息技术有限公司
    type: enterprise
    ownership: domestic
    province: 31
    icp_number: 沪ICP备2021012345号
    permits:
      - {number: 沪B2-20220001, kind: B25, issued: 2022-03-01, expires: 2027-03-01}
  shop:
    name: 杭州小店科技有限公司
    type: enterprise
    ownership: domestic
    province: 33
    icp_number: 浙ICP备2019054321号
sites:
  - domain: example.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-1
    status: approved
    approved: 2021-06-01
    access_providers: [aliyun]
    registrar_in_china: true
    real_name_verified: true
    launched: 2021-06-05
    psb_number: 沪公网安备31011502012345号
    psb_filed: 2021-06-20
  - domain: fresh.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-2
    status: approved
    approved: 2026-10-20
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2026-10-29
  - domain: late.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-5
    status: approved
    approved: 2026-08-20
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2026-09-01
  - domain: waiting.com.cn
    entity: acme
    status: pending
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
  - domain: elsewhere.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-3
    status: approved
    approved: 2022-01-01
    access_providers: [tencent-cloud]
    registrar_in_china: true
    real_name_verified: true
    psb_number: 沪公网安备31011502012346号
    psb_filed: 2022-01-10
  - domain: dropped.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-4
    status: cancelled
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
  - domain: tea-shop.com
    entity: shop
    icp_number: 浙ICP备2019054321号-1
    status: approved
    approved: 2019-05-01
    access_providers: [alibaba-cloud]
    registrar_in_china: false
    real_name_verified: false
    psb_number: 浙公网安备33010602011111号
    psb_filed: 2019-05-20
  - domain: pay-shop.cn
    entity: shop
    icp_number: 浙ICP备2019054321号-2
    status: approved
    approved: 2019-05-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2019-05-02
    psb_number: 浙公网安备33010602011112号
    psb_filed: 2019-05-20
"""


def write_registry(directory: Path, name: str = "filings.yaml") -> Path:
    path = directory / name
    path.write_text(REGISTRY_YAML, encoding="utf-8")
    return path
