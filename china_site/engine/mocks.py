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

What a registration is and its wire form live in :mod:`china_site.engine.mock_wire`; the per-type plausible outputs
in :mod:`china_site.engine.mock_outputs`; :func:`run_mocked` in :mod:`china_site.engine.mock_run`. Their public
names are re-exported here, as before the split.

Pulumi (``pulumi``, ``pulumi.runtime``) is imported only when a program runs or a recorder is created.
"""

from __future__ import annotations

import ipaddress
import threading
import uuid
from abc import ABCMeta
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from china_site.engine.artifacts import SECRET_SIG, STACK_TYPE
from china_site.engine.mock_outputs import (  # re-exported: the plausible outputs lived here before the split
    _ID_FROM,
    DEFAULT_CALLS,
    DEFAULT_OUTPUTS,
    CallFn,
    MockContext,
    OutputFn,
)
from china_site.engine.mock_run import Program, ProgramRun, run_mocked  # re-exported: running lived here
from china_site.engine.mock_wire import (  # re-exported: the records and their wire form lived here before the split
    PROVIDER_PREFIX,
    SECRET_SIG_KEY,
    Call,
    LogEntry,
    Registration,
    _source_position,
    _struct_json,
    _to_wire,
    config_text,
    engine_urn,
    is_secret,
    parse_duration,
    reveal,
    wire_value,
)

if TYPE_CHECKING:
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

__all__ = [
    "DEFAULT_CALLS",
    "DEFAULT_OUTPUTS",
    "PROVIDER_PREFIX",
    "SECRET_SIG",
    "SECRET_SIG_KEY",
    "STACK_TYPE",
    "Call",
    "CallFn",
    "LogEntry",
    "MockContext",
    "OutputFn",
    "Program",
    "ProgramRun",
    "Recorder",
    "Registration",
    "config_text",
    "engine_urn",
    "is_secret",
    "parse_duration",
    "reveal",
    "run_mocked",
    "wire_value",
]

_ID_NAMESPACE = uuid.UUID("6f1b3d3e-6c1e-4f0e-9a57-6368696e6173")  # fixed: provider IDs are deterministic


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
