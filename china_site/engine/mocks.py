"""Run a Pulumi Python program under Pulumi's mocks and record every registration as the engine would see it.

This is the library half of ``china-site preflight`` (:mod:`china_site.engine.runner` builds on it) and what the
component and program tests use:

* :class:`Recorder` — a ``pulumi.runtime.Mocks`` subclass that records every ``RegisterResource`` /
  ``ReadResource`` request (type, name, parent, provider reference, inputs, dependencies, options), every invoke,
  every ``RegisterResourceOutputs`` and every engine log line, and answers with **plausible, deterministic** outputs
  (OSS bucket endpoints, CDN cname, EIP address, ALB DNS name, …; IDs derived from the URN).
* Each registration keeps the properties twice: ``inputs``/``outputs`` as the Python SDK deserialises them (plain
  values, secrets wrapped, for assertions) and ``wire_inputs``/``wire_outputs`` **exactly as they crossed the wire**
  (``google.protobuf.Struct`` → JSON: camelCase names, secrets as the secret signature map, unknowns as the engine's
  sentinel strings, resource references as their signature map). The wire form is what the engine stores and what
  it hands to policies; :func:`china_site.engine.runner.run_program` turns it into artifact
  :class:`~china_site.engine.artifacts.Record` s.
* URNs are built as the engine builds them: ``urn:pulumi:<stack>::<project>::<qualified type>::<name>`` where the
  qualified type is the parent's full type chain joined with ``$``
  (``china-site:index:Site$alicloud:oss/bucket:Bucket``) and the root Stack is never part of it. (Pulumi's own
  ``MockMonitor`` keeps only the parent's last type.)
* Custom resources without an explicit provider get the engine's **default provider**
  (``pulumi:providers:<pkg>::default_<version>``), registered once, before its first user, with the inputs the
  engine gives it: the stack's ``<pkg>:*`` configuration plus ``version``.
* :func:`run_mocked` runs a callable, a ``__main__.py`` file or a project directory exactly as Pulumi's Python host
  does (``run_in_stack`` + ``runpy.run_path``, working directory = the project, the project on ``sys.path``), with the
  given configuration, project and stack names, waits for every output and returns a :class:`ProgramRun`. Every run
  is isolated: its own thread, event loop and copy of the caller's context (Pulumi's configuration, settings, mocks
  and root stack are context variables), so two runs in one process never see each other.

Pulumi (``pulumi``, ``pulumi.runtime``) is imported only when a program runs or a recorder is created.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import ipaddress
import json
import logging
import os
import re
import runpy
import sys
import threading
import traceback
import uuid
from abc import ABCMeta
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from china_site.engine.artifacts import SECRET_SIG, SIG_KEY, STACK_TYPE

if TYPE_CHECKING:
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

__all__ = [
    "PROVIDER_PREFIX",
    "SECRET_SIG",
    "SECRET_SIG_KEY",
    "STACK_TYPE",
    "Call",
    "LogEntry",
    "ProgramRun",
    "Recorder",
    "Registration",
    "engine_urn",
    "is_secret",
    "parse_duration",
    "reveal",
    "run_mocked",
    "wire_value",
]

SECRET_SIG_KEY = SIG_KEY
PROVIDER_PREFIX = "pulumi:providers:"
_ID_NAMESPACE = uuid.UUID("6f1b3d3e-6c1e-4f0e-9a57-6368696e6173")  # fixed: provider IDs are deterministic


# ---------------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Registration:
    """One resource as the engine received it (``RegisterResource`` or ``ReadResource``)."""

    urn: str
    type: str
    name: str
    parent: str  # parent URN; "" for the root Stack and default providers
    provider: str  # provider reference "<urn>::<id>" as requested; "" = the default provider (see ``effective``)
    custom: bool
    id: str
    inputs: dict[str, Any]  # wire names (camelCase), as the SDK deserialises them; secrets wrapped
    outputs: dict[str, Any]  # the state the mock answered with (same form)
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version: str = ""
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    custom_timeouts: tuple[float, float, float] = (0.0, 0.0, 0.0)  # create, update, delete (seconds)
    read: bool = False  # a ``get`` (ReadResource) rather than a registration
    synthesized: bool = False  # a default provider the engine would have created
    effective_provider: str = ""  # provider reference actually used (explicit, or the synthesized default)
    wire_inputs: dict[str, Any] = field(default_factory=dict)  # exactly as sent (engine JSON form)
    wire_outputs: dict[str, Any] = field(default_factory=dict)  # the state as the engine would store it
    source_position: str = ""  # where the program registered it, as the engine records it (``file:///…#line,col``)

    @property
    def qualified_type(self) -> str:
        """The type chain in the URN, e.g. ``china-site:index:Site$alicloud:oss/bucket:Bucket``."""
        return self.urn.split("::")[2]

    @property
    def package(self) -> str:
        if self.type.startswith(PROVIDER_PREFIX):
            return self.type[len(PROVIDER_PREFIX) :]
        return self.type.split(":", 1)[0]


@dataclass(frozen=True)
class Call:
    token: str
    args: dict[str, Any]
    provider: str
    result: dict[str, Any]


@dataclass(frozen=True)
class LogEntry:
    severity: str  # "debug" | "info" | "warning" | "error"
    message: str
    urn: str


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """A URN as the engine builds it: the parent's full qualified type chain, the root Stack left out."""
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def is_secret(value: object) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper removed (deeply), for assertions and output functions."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value


def wire_value(value: Any) -> Any:
    """A value from ``json_format.MessageToDict`` of a Struct, with whole doubles back to integers (the engine
    stores JSON numbers; ``pulumi stack export`` prints ``2``, not ``2.0``) and object keys sorted (as the engine
    writes them; a Struct's map order varies from run to run)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: wire_value(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    return value


def _struct_json(struct: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    if struct is None:
        return {}
    data = json_format.MessageToDict(struct)
    return wire_value(data) if isinstance(data, dict) else {}


def _to_wire(value: Any) -> Any:
    """A plain Python value (an output function's answer) in wire JSON form; secrets stay wrapped."""
    from pulumi.output import Unknown

    from china_site.engine.artifacts import UNKNOWN

    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (``"5m"``, ``"1h30m"``, ``"90s"``) in seconds, as the engine parses ``customTimeouts``;
    0 for an empty or unparseable value."""
    text = (text or "").strip()
    if not text:
        return 0.0
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            return 0.0
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) else 0.0


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Plausible outputs

OutputFn = Callable[["Recorder", "MockContext"], Mapping[str, Any]]
CallFn = Callable[["Recorder", "MockCallArgs", str | None], Mapping[str, Any]]


@dataclass(frozen=True)
class MockContext:
    """What an output function knows about the resource being registered."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    region: str | None  # from the provider's ``region`` or the stack's ``<pkg>:region``

    @property
    def digest(self) -> str:
        return _digest(self.urn)

    def ip(self, first_octet: int = 47) -> str:
        d = bytes.fromhex(self.digest[:6])
        return f"{first_octet}.{d[0]}.{d[1]}.{max(d[2], 1)}"

    def get(self, key: str) -> Any:
        """An input, unwrapped from its secret wrapper; None when absent or unknown."""
        from pulumi.output import Unknown

        value = reveal(self.inputs.get(key))
        return None if isinstance(value, Unknown) else value


def _region_or_default(ctx: MockContext) -> str:
    return ctx.region or "cn-hangzhou"


def _oss_bucket(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    bucket = ctx.get("bucket") or f"{ctx.name}-{ctx.digest[:8]}".lower()
    return {
        "bucket": bucket,
        "extranetEndpoint": f"oss-{region}.aliyuncs.com",
        "intranetEndpoint": f"oss-{region}-internal.aliyuncs.com",
        "location": f"oss-{region}",
        "creationDate": "2025-01-01",
        "owner": "1234567890123456",
        "acl": ctx.get("acl") or "private",
        "storageClass": ctx.get("storageClass") or "Standard",
    }


def _cdn_domain(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    domain = ctx.get("domainName") or ctx.name
    return {"cname": f"{domain}.w.kunlunaz.com", "status": "online", "scope": ctx.inputs.get("scope", "domestic")}


def _dcdn_domain(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    domain = ctx.get("domainName") or ctx.name
    return {"cname": f"{domain}.w.kunlunaz.com", "status": "online"}


def _eip(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"ipAddress": ctx.ip(), "status": "Available"}


def _alb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    return {"dnsName": f"alb-{ctx.digest[:18]}.{region}.alb.aliyuncs.com", "status": "Active"}


def _nlb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    return {"dnsName": f"nlb-{ctx.digest[:18]}.{region}.nlb.aliyuncs.com", "status": "Active"}


def _clb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    internet = str(ctx.get("addressType") or "internet").lower() != "intranet"
    return {"address": ctx.ip() if internet else ctx.ip(10), "status": "active"}


def _ecs_instance(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    out: dict[str, Any] = {"status": "Running", "privateIp": rec.private_ip_for(ctx)}
    bandwidth = ctx.get("internetMaxBandwidthOut")
    if isinstance(bandwidth, int | float) and not isinstance(bandwidth, bool) and bandwidth > 0:
        out["publicIp"] = ctx.ip()
    return out


def _vpc(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"routeTableId": f"vtb-{ctx.digest[:20]}", "routerId": f"vrt-{ctx.digest[20:40]}", "status": "Available"}


def _cname_token(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"token": ctx.digest[:32], "expireTime": "2099-01-01T00:00:00.000Z"}


DEFAULT_OUTPUTS: dict[str, OutputFn] = {
    "alicloud:oss/bucket:Bucket": _oss_bucket,
    "alicloud:oss/bucketCnameToken:BucketCnameToken": _cname_token,
    "alicloud:cdn/domainNew:DomainNew": _cdn_domain,
    "alicloud:cdn/domain:Domain": _cdn_domain,
    "alicloud:dcdn/domain:Domain": _dcdn_domain,
    "alicloud:ecs/eipAddress:EipAddress": _eip,
    "alicloud:ecs/eip:Eip": _eip,
    "alicloud:alb/loadBalancer:LoadBalancer": _alb,
    "alicloud:nlb/loadBalancer:LoadBalancer": _nlb,
    "alicloud:slb/loadBalancer:LoadBalancer": _clb,
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": _clb,
    "alicloud:ecs/instance:Instance": _ecs_instance,
    "alicloud:vpc/network:Network": _vpc,
}


def _zones(rec: Recorder, args: MockCallArgs, region: str | None) -> Mapping[str, Any]:
    region = region or "cn-hangzhou"
    zones = [f"{region}-{letter}" for letter in ("b", "c", "d")]
    return {
        "ids": zones,
        "zones": [{"id": z, "zoneId": z, "localName": z} for z in zones],
        "id": region,
    }


DEFAULT_CALLS: dict[str, CallFn] = {
    "alicloud:alb/getZones:getZones": _zones,
}

# Resource types whose physical ID is one of their inputs/outputs (as the provider reports it).
_ID_FROM: dict[str, str] = {
    "alicloud:oss/bucket:Bucket": "bucket",
    "alicloud:cdn/domainNew:DomainNew": "domainName",
    "alicloud:cdn/domain:Domain": "domainName",
    "alicloud:dcdn/domain:Domain": "domainName",
}


# ---------------------------------------------------------------------------------------------------------------
# The recorder (the Mocks) and its monitor


def _mocks_base() -> ABCMeta:
    from pulumi.runtime.mocks import Mocks

    return Mocks


class Recorder:
    """Records what a program registers and answers with plausible, deterministic outputs.

    ``outputs`` / ``calls`` add or replace the per-type output functions and per-token invoke answers. Everything
    is keyed by URN; :attr:`registrations` keeps registration order (which can vary between runs, since the SDK
    registers from several threads — compare sets, or use :meth:`resources`, which is sorted by URN).

    It implements ``pulumi.runtime.Mocks`` (``new_resource``, ``call``) without inheriting from it at import time,
    so importing this module does not import Pulumi; :func:`run_mocked` hands it to a recording monitor.
    """

    def __init__(
        self,
        *,
        outputs: Mapping[str, OutputFn] | None = None,
        calls: Mapping[str, CallFn] | None = None,
        synthesize_default_providers: bool = True,
    ) -> None:
        self.output_fns: dict[str, OutputFn] = {**DEFAULT_OUTPUTS, **(outputs or {})}
        self.call_fns: dict[str, CallFn] = {**DEFAULT_CALLS, **(calls or {})}
        self.synthesize_default_providers = synthesize_default_providers
        self.registrations: list[Registration] = []
        self.by_urn: dict[str, Registration] = {}
        self.calls: list[Call] = []
        self.outputs: dict[str, dict[str, Any]] = {}  # RegisterResourceOutputs by URN (SDK form)
        self.wire_outputs: dict[str, dict[str, Any]] = {}  # the same, wire form
        self.logs: list[LogEntry] = []
        self.config: dict[str, str] = {}
        self.project = "project"
        self.stack = "stack"
        self._lock = threading.RLock()
        self._pending: MockContext | None = None

    def monitor(self, *, project: str = "project", stack: str = "stack") -> Any:
        """A ``MockMonitor`` recording into this recorder, for the classic way of testing:
        ``pulumi.runtime.set_mocks(rec, project, stack, monitor=rec.monitor(project=..., stack=...))`` with
        ``@pulumi.runtime.test``. (:func:`run_mocked` makes its own; it needs none.)"""
        _register_mocks_abc()
        self.project, self.stack = project, stack
        return _recording_monitor(self)

    # -- queries -----------------------------------------------------------------------------------------------

    def resources(self, *, include_stack: bool = False, include_synthesized: bool = True) -> list[Registration]:
        """Every registration, sorted by URN."""
        return sorted(
            (
                r
                for r in self.by_urn.values()
                if (include_stack or r.type != STACK_TYPE) and (include_synthesized or not r.synthesized)
            ),
            key=lambda r: r.urn,
        )

    def resource_set(self, *, include_synthesized: bool = True) -> set[tuple[str, str]]:
        """``{(type, name)}`` of everything registered except the root Stack."""
        return {(r.type, r.name) for r in self.resources(include_synthesized=include_synthesized)}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources() if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def get(self, urn: str) -> Registration:
        return self.by_urn[urn]

    def children(self, parent_urn: str) -> list[Registration]:
        return [r for r in self.resources() if r.parent == parent_urn]

    def descendants(self, parent_urn: str) -> list[Registration]:
        out: list[Registration] = []
        for child in self.children(parent_urn):
            out.append(child)
            out.extend(self.descendants(child.urn))
        return out

    def ancestors(self, registration: Registration) -> list[Registration]:
        """Parents from the nearest up to (not including) the root Stack."""
        chain: list[Registration] = []
        parent = registration.parent
        while parent and parent in self.by_urn and self.by_urn[parent].type != STACK_TYPE:
            chain.append(self.by_urn[parent])
            parent = self.by_urn[parent].parent
        return chain

    def provider_of(self, registration: Registration) -> Registration | None:
        """The provider a custom resource is managed by (explicit, or the synthesized default)."""
        ref = registration.effective_provider or registration.provider
        if not ref:
            return None
        return self.by_urn.get(ref.rsplit("::", 1)[0])

    def stack_outputs(self) -> dict[str, Any]:
        stack = next((r for r in self.by_urn.values() if r.type == STACK_TYPE), None)
        return dict(self.outputs.get(stack.urn, {})) if stack else {}

    # -- Mocks interface ---------------------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        ctx = self._pending or MockContext(urn="", type=args.typ, name=args.name, inputs=args.inputs, region=None)
        inputs = dict(args.inputs)
        if args.typ.startswith(PROVIDER_PREFIX):
            return str(uuid.uuid5(_ID_NAMESPACE, ctx.urn)), inputs
        id_key = _ID_FROM.get(args.typ)
        if args.resource_id and id_key and id_key not in inputs:  # a read or an import: the ID names the resource
            inputs[id_key] = args.resource_id
            ctx = MockContext(urn=ctx.urn, type=ctx.type, name=ctx.name, inputs=inputs, region=ctx.region)
        fn = self.output_fns.get(args.typ)
        extra = dict(fn(self, ctx)) if fn is not None else {}
        state = {**inputs, **extra}
        id_value = reveal(state.get(id_key)) if id_key else None
        resource_id = args.resource_id or (
            str(id_value) if isinstance(id_value, str) and id_value else f"{args.name}-{ctx.digest[:12]}"
        )
        return resource_id, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        fn = self.call_fns.get(args.token)
        region = self._region_for(args.provider, args.token.split(":", 1)[0])
        result = dict(fn(self, args, region)) if fn is not None else {}
        with self._lock:
            self.calls.append(Call(args.token, dict(args.args), args.provider, result))
        return result, []  # MockMonitor iterates the failures: an empty list, not None

    def register_transform(self, transform: Any) -> None:  # pulumi.runtime.Mocks hooks: transforms are not run
        return None

    def register_invoke_transform(self, transform: Any) -> None:
        return None

    # -- helpers for output functions --------------------------------------------------------------------------

    def private_ip_for(self, ctx: MockContext) -> str:
        """A private IP inside the instance's vSwitch CIDR (when the vSwitch is known), derived from the URN."""
        vswitch_id = ctx.get("vswitchId")
        cidr = "10.0.0.0/24"
        for r in list(self.by_urn.values()):
            if r.id == vswitch_id and r.type == "alicloud:vpc/switch:Switch":
                cidr = str(reveal(r.inputs.get("cidrBlock")) or cidr)
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            network = ipaddress.ip_network("10.0.0.0/24")
        usable = max(network.num_addresses - 8, 1)  # Alibaba Cloud reserves the first and last addresses
        return str(network.network_address + 4 + int(ctx.digest[:8], 16) % usable)

    def _region_for(self, provider_ref: str, package: str) -> str | None:
        if provider_ref:
            provider = self.by_urn.get(provider_ref.rsplit("::", 1)[0])
            if provider is not None:
                region = reveal(provider.inputs.get("region"))
                if isinstance(region, str) and region:
                    return region
        return self.config.get(f"{package}:region") or None

    # -- called by the monitor ---------------------------------------------------------------------------------

    def _default_provider(self, type_: str, version: str) -> str:
        """The reference of the engine's default provider for ``type_``'s package, registering it once."""
        package = type_.split(":", 1)[0]
        name = f"default_{version.replace('.', '_').replace('-', '_')}" if version else "default"
        urn = engine_urn(self.stack, self.project, "", f"{PROVIDER_PREFIX}{package}", name)
        with self._lock:
            existing = self.by_urn.get(urn)
            if existing is None:
                inputs: dict[str, Any] = {
                    key.split(":", 1)[1]: value
                    for key, value in self.config.items()
                    if key.startswith(f"{package}:") and ":" not in key.split(":", 1)[1]
                }
                if version:
                    inputs["version"] = version
                existing = Registration(
                    urn=urn,
                    type=f"{PROVIDER_PREFIX}{package}",
                    name=name,
                    parent="",
                    provider="",
                    custom=True,
                    id=str(uuid.uuid5(_ID_NAMESPACE, urn)),
                    inputs=inputs,
                    outputs=dict(inputs),
                    version=version,
                    synthesized=True,
                    wire_inputs=dict(inputs),
                    wire_outputs=dict(inputs),
                )
                self._add(existing)
        return f"{existing.urn}::{existing.id}"

    def _add(self, registration: Registration) -> None:
        with self._lock:
            if registration.urn not in self.by_urn:
                self.registrations.append(registration)
            self.by_urn[registration.urn] = registration

    def _register(self, request: Any, *, read: bool) -> Registration:
        from pulumi.runtime import rpc
        from pulumi.runtime.mocks import MockResourceArgs

        urn = engine_urn(self.stack, self.project, request.parent, request.type, request.name)
        props = request.properties if read else request.object
        inputs = rpc.deserialize_properties(props)
        wire_inputs = _struct_json(props)
        custom = True if read else bool(request.custom)
        provider = request.provider
        effective = provider
        is_provider = request.type.startswith(PROVIDER_PREFIX)
        if custom and not provider and not is_provider and self.synthesize_default_providers:
            effective = self._default_provider(request.type, request.version)
        package = request.type.split(":", 1)[0]
        region = reveal(inputs.get("region")) if is_provider else self._region_for(effective, package)
        ctx = MockContext(
            urn=urn,
            type=request.type,
            name=request.name,
            inputs=inputs,
            region=region if isinstance(region, str) and region else None,
        )
        with self._lock:
            self._pending = ctx
            try:
                resource_id, state = self.new_resource(
                    MockResourceArgs(
                        typ=request.type,
                        name=request.name,
                        inputs=inputs,
                        provider=effective,
                        resource_id=request.id if read else request.importId,
                        custom=custom,
                    )
                )
            finally:
                self._pending = None
        if not custom:
            resource_id, state = "", {}
        extra = {k: v for k, v in state.items() if k not in inputs or state[k] is not inputs[k]}
        wire_state = {**wire_inputs, **_to_wire(extra)} if custom else {}
        timeouts = (0.0, 0.0, 0.0)
        if not read and request.HasField("customTimeouts"):
            ct = request.customTimeouts
            timeouts = (parse_duration(ct.create), parse_duration(ct.update), parse_duration(ct.delete))
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            provider=provider,
            custom=custom,
            id=resource_id or "",
            inputs=inputs,
            outputs=state,
            dependencies=() if read else tuple(request.dependencies),
            property_dependencies={}
            if read
            else {key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            version=request.version,
            protect=False if read else bool(request.protect),
            delete_before_replace=False if read else bool(request.deleteBeforeReplace),
            ignore_changes=() if read else tuple(request.ignoreChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            aliases=() if read else tuple(request.aliasURNs),
            custom_timeouts=timeouts,
            read=read,
            effective_provider=effective,
            wire_inputs=wire_inputs,
            wire_outputs=wire_state,
            source_position=_source_position(request),
        )
        self._add(registration)
        return registration

    def _register_stack(self, urn: str, name: str) -> None:
        self._add(
            Registration(
                urn=urn, type=STACK_TYPE, name=name, parent="", provider="", custom=False, id="", inputs={}, outputs={}
            )
        )

    def _register_outputs(self, urn: str, request_outputs: Any) -> None:
        from pulumi.runtime import rpc

        outputs = rpc.deserialize_properties(request_outputs)
        wire = _struct_json(request_outputs)
        with self._lock:
            self.outputs[urn] = dict(outputs)
            self.wire_outputs[urn] = wire

    def _log(self, severity: str, message: str, urn: str) -> None:
        with self._lock:
            self.logs.append(LogEntry(severity, message, urn))


def _recording_monitor(recorder: Recorder) -> Any:
    """Pulumi's MockMonitor with engine-faithful URNs, recording into ``recorder`` (built lazily: imports Pulumi)."""
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

    class RecordingMonitor(MockMonitor):  # type: ignore[misc]
        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return engine_urn(recorder.stack, recorder.project, parent, type_, name)

        def RegisterResource(self, request: Any) -> Any:
            if request.type == STACK_TYPE:
                urn = self.make_urn(request.parent, request.type, request.name)
                recorder._register_stack(urn, request.name)
                return resource_pb2.RegisterResourceResponse(urn=urn)
            _ensure_event_loop()
            reg = recorder._register(request, read=False)
            self.resources[reg.urn] = MockMonitor.ResourceRegistration(reg.urn, reg.id, reg.outputs)
            obj = _sync_await(rpc.serialize_properties(reg.outputs, {}))
            return resource_pb2.RegisterResourceResponse(urn=reg.urn, id=reg.id, object=obj)

        def ReadResource(self, request: Any) -> Any:
            _ensure_event_loop()
            reg = recorder._register(request, read=True)
            self.resources[reg.urn] = MockMonitor.ResourceRegistration(reg.urn, reg.id, reg.outputs)
            props = _sync_await(rpc.serialize_properties(reg.outputs, {}))
            return resource_pb2.ReadResourceResponse(urn=reg.urn, properties=props)

        def RegisterResourceOutputs(self, request: Any) -> Any:
            _ensure_event_loop()
            recorder._register_outputs(request.urn, request.outputs)
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor(cast(Any, recorder))  # Recorder is a virtual subclass of Mocks


def _recording_engine(recorder: Recorder) -> Any:
    from pulumi.runtime.mocks import MockEngine

    severities = {0: "debug", 1: "info", 2: "warning", 3: "error"}

    class RecordingEngine(MockEngine):  # type: ignore[misc]
        def Log(self, request: Any) -> None:
            recorder._log(severities.get(int(request.severity), "info"), request.message, request.urn)

    return RecordingEngine(None)


def _register_mocks_abc() -> None:
    """Make :class:`Recorder` a virtual subclass of ``pulumi.runtime.Mocks`` once Pulumi is loaded."""
    base = _mocks_base()
    if not issubclass(Recorder, base):
        base.register(Recorder)


# ---------------------------------------------------------------------------------------------------------------
# Running a program


@dataclass
class ProgramRun:
    recorder: Recorder
    error: BaseException | None = None
    error_message: str | None = None  # what `pulumi up` would print: a RunError's message, else a traceback

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs (``pulumi.export``), resolved; secrets stay wrapped."""
        return self.recorder.stack_outputs()

    @property
    def ok(self) -> bool:
        return self.error is None

    def messages(self, severity: str | None = None) -> list[str]:
        return [e.message for e in self.recorder.logs if severity is None or e.severity == severity]


Program = Callable[[], Any] | str | os.PathLike[str]

_RUN_LOCK = threading.Lock()  # one program at a time per process: runs change the working directory


def run_mocked(
    program: Program,
    config: Mapping[str, str] | None = None,
    *,
    project: str = "china-site",
    stack: str = "dev",
    preview: bool = False,
    secret_keys: Sequence[str] = (),
    recorder: Recorder | None = None,
    cwd: str | os.PathLike[str] | None = None,
    organization: str = "organization",
    check: bool = True,
) -> ProgramRun:
    """Run ``program`` under mocks and return what it registered.

    ``program``: a callable (the program body), a ``__main__.py`` path, or a project directory (run as
    ``runpy.run_path(dir)``, as Pulumi's Python host does). ``config``: flat ``namespace:key`` → string map (see
    :func:`china_site.engine.runner.project_config`). The working directory is ``cwd``, else the program's directory,
    and is restored after. Each run is isolated: its own thread and event loop, its own context (configuration,
    settings, mocks, root stack). ``check``: re-raise the program's exception; otherwise it is left in
    :attr:`ProgramRun.error`.
    """
    _register_mocks_abc()
    recorder = recorder or Recorder()
    recorder.project, recorder.stack = project, stack
    recorder.config = dict(config or {})
    path: Path | None = None
    if callable(program):
        body: Callable[[], Any] = program
    else:
        path = Path(program).resolve()
        if not path.exists():
            raise FileNotFoundError(f"no Pulumi program at {path}")
        body = _path_body(path)
    workdir = (
        Path(cwd)
        if cwd is not None
        else (path if path is not None and path.is_dir() else (path.parent if path else None))
    )
    run = ProgramRun(recorder)

    def go() -> None:
        import pulumi
        from pulumi.runtime import config as runtime_config
        from pulumi.runtime import settings as runtime_settings
        from pulumi.runtime.rpc_manager import RPCManager
        from pulumi.runtime.stack import run_in_stack

        runtime_config.set_all_config(dict(recorder.config), list(secret_keys))
        monitor = _recording_monitor(recorder)
        features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
        runtime_settings.ROOT.set(None)
        # A complete, fresh set of settings: every one (outstanding outputs, RPC manager, lock, package references,
        # …) starts empty, so nothing a previous Pulumi program or test left in the caller's context (e.g.
        # pulumi.runtime.set_mocks in the main thread) is waited on or reused by this run.
        _configure_in_context(
            {
                "rpc_manager": RPCManager(),
                "monitor": monitor,
                "monitor_features": features,
                "engine": _recording_engine(recorder),
                "project": project,
                "stack": stack,
                "dry_run": preview,
                "organization": organization,
                "root_directory": str(workdir) if workdir else None,
                "callbacks": None,
                "outputs": set(),
                "lock": threading.Lock(),
                "package_refs": {},
                "base_providers_by_ref": {},
                "parallel": None,
                "legacy_apply_enabled": os.getenv("PULUMI_ENABLE_LEGACY_APPLY", "false") == "true",  # as Settings
            }
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        old_cwd = os.getcwd()
        # As Pulumi's host does: a failed program leaves futures unobserved; asyncio's complaints are noise.
        asyncio_logger = logging.getLogger("asyncio")
        old_level = asyncio_logger.level
        asyncio_logger.setLevel(logging.CRITICAL)
        try:
            if workdir is not None:
                os.chdir(workdir)
            loop.run_until_complete(run_in_stack(body))
        except pulumi.RunError as err:
            run.error, run.error_message = err, str(err)
        except BaseException as err:
            run.error = err
            run.error_message = "Program failed with an unhandled exception:\n" + "".join(
                traceback.format_exception(err)
            )
        finally:
            os.chdir(old_cwd)
            asyncio_logger.setLevel(old_level)
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                asyncio.set_event_loop(None)

    # Its own thread (so its own event loop: the caller's loop and pytest's are left alone) and a copy of the
    # caller's context (so configuration, settings and the root stack of this run stay in this run).
    with _RUN_LOCK:
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(go,), name="pulumi-program", daemon=True)
        thread.start()
        thread.join()
    if check and run.error is not None:
        raise run.error
    return run


def _configure_in_context(values: Mapping[str, Any]) -> None:
    """``pulumi.runtime.configure``, confined to the current context.

    Pulumi's settings are context variables, but assigning one whose current value is None also replaces its
    process-wide *default* (``pulumi._utils.ContextProperty.fset``) — and building a ``Settings`` object assigns
    them all — which would hand this run's monitor, engine and pending outputs to every context that has not set
    its own (a thread started later, another run), where they could be reused or waited on. Set the context
    variables themselves instead. A setting not in ``values`` (one a newer SDK added) is set to None here, so it too
    is this run's own rather than whatever default an earlier run left.
    """
    from pulumi._utils import ContextProperty
    from pulumi.runtime.settings import SETTINGS, Settings

    properties = {key: prop for key, prop in vars(Settings).items() if isinstance(prop, ContextProperty)}
    for key, prop in properties.items():
        prop._data.set(values.get(key))
    for key, value in values.items():
        if key not in properties:
            setattr(SETTINGS, key, value)


def _path_body(path: Path) -> Callable[[], Any]:
    def body() -> Any:
        directory = str(path if path.is_dir() else path.parent)
        added = directory not in sys.path
        if added:
            sys.path.insert(0, directory)
        try:
            return runpy.run_path(str(path), run_name="__main__")
        finally:
            if added and directory in sys.path:
                sys.path.remove(directory)

    return body


def config_text(value: Any) -> str:
    """A config value as Pulumi hands it to a program: strings as they are, everything else JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _source_position(request: Any) -> str:
    """The request's ``sourcePosition`` in the engine's state form (``<uri>#<line>[,<column>]``), or ""."""
    try:
        if not request.HasField("sourcePosition"):
            return ""
    except ValueError:  # a request type without the field (older SDKs)
        return ""
    position = request.sourcePosition
    if not position.uri:
        return ""
    fragment = f"#{position.line}" if position.line else ""
    if fragment and position.column:
        fragment += f",{position.column}"
    return position.uri + fragment
