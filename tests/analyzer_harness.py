"""Drive the policy pack through the analyzer gRPC protocol, the way the Pulumi engine does.

The pack runs as Pulumi's Python language host starts it: ``python -u -m pulumi.policy 127.0.0.1:0 <pack dir>``
with the working directory ``policies/``, ``PULUMI_CONFIG``/``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN`` in
its environment; the port is the first line on its stdout. The session then follows the engine's order:
``ConfigureStack`` → ``GetAnalyzerInfo`` → ``Configure`` (every policy's level from ``GetAnalyzerInfo``, overridden
by config, plus its config properties) → per resource ``Remediate`` then ``Analyze`` (on the remediated properties)
→ ``AnalyzeStack``.

Properties are encoded as the engine encodes them: wire (camelCase) names in a ``google.protobuf.Struct`` (so every
number is a double), secrets as the signature map, unknowns as the unknown sentinel strings, the resource's
provider (with its ``region``) as an ``AnalyzerProviderResource``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2, json_format, struct_pb2
from processes import SpawnedPack
from pulumi.runtime.proto import analyzer_pb2

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

    def _fields(self, props: Mapping[str, Any] | None) -> dict[str, Any]:
        """What an ``AnalyzeRequest`` and an ``AnalyzerResource`` both carry."""
        fields: dict[str, Any] = {
            "type": self.type,
            "properties": to_struct(self.props if props is None else props),
            "urn": self.urn,
            "name": self.name,
            "options": analyzer_pb2.AnalyzerResourceOptions(),
        }
        if self.provider is not None:
            fields["provider"] = self.provider.message()
        return fields

    def analyze_request(self, props: Mapping[str, Any] | None = None) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(**self._fields(props))

    def stack_resource(self, props: Mapping[str, Any] | None = None) -> analyzer_pb2.AnalyzerResource:
        resource = analyzer_pb2.AnalyzerResource(**self._fields(props), dependencies=list(self.dependencies))
        for key, urns in self.property_dependencies.items():
            resource.propertyDependencies[key].urns.extend(urns)
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


class PackProcess(SpawnedPack):
    """The china-site pack (``policies/``) running, and a client speaking the analyzer protocol to it."""

    def __init__(
        self,
        *,
        stack_config: Mapping[str, str] | None = None,
        secret_keys: Iterable[str] = (),
        extra_env: Mapping[str, str] | None = None,
        dry_run: bool = True,
        timeout: float = 60.0,
        pack_dir: Path | None = None,
        python: str | os.PathLike[str] | None = None,
        host_cwd: Path | None = None,
        project: str = PROJECT,
    ) -> None:
        self.project = project
        self.stack_config = dict(stack_config or {})
        self.secret_keys = list(secret_keys)
        self.dry_run = dry_run
        super().__init__(
            pack_dir or POLICIES_DIR,
            project=project,
            stack=STACK,
            stack_config=self.stack_config,
            secret_keys=self.secret_keys,
            dry_run=dry_run,
            extra_env=extra_env,
            timeout=timeout,
            python=python,
            host_cwd=host_cwd,
        )
        self.info: analyzer_pb2.AnalyzerInfo | None = None
        self.levels: dict[str, str] = {}

    # --- the engine's calls -------------------------------------------------------------------------------------

    def configure_stack(self, config: Mapping[str, str] | None = None, secret_keys: Iterable[str] = ()) -> None:
        self.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=STACK,
                project=self.project,
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
