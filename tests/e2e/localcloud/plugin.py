"""``pulumi-resource-alicloud`` of the local cloud: the engine's ``ResourceProvider`` gRPC service.

Started by the engine as ``pulumi-resource-alicloud <engine address> [flags]``; it prints the port it listens on (and
nothing else) on stdout, then serves until the engine kills it. Handshake and Parameterize stay unimplemented: the
engine then falls back to the Configure-time protocol negotiation (``ConfigureResponse``) as for any older provider.

Run: ``python -m localcloud.plugin`` with ``tests/e2e`` on ``PYTHONPATH`` (what ``bin/pulumi-resource-alicloud``
does).
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from . import cloud, schema
from .wire import contains_unknown, reveal, to_dict, to_struct

PROVIDER_TYPE = "pulumi:providers:alicloud"


def _type_of(request: Any) -> str:
    token = getattr(request, "type", "") or ""
    if token:
        return str(token)
    urn = str(getattr(request, "urn", "") or "")
    # urn:pulumi:<stack>::<project>::<parent types $ ...>type::<name>
    parts = urn.split("::")
    return parts[2].split("$")[-1] if len(parts) >= 4 else ""


def _name_of(request: Any) -> str:
    name = getattr(request, "name", "") or ""
    return str(name) or str(getattr(request, "urn", "") or "").rsplit("::", 1)[-1]


def _failures(failures: list[schema.CheckFailure]) -> list[Any]:
    return [provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in failures]


def _equal(a: Any, b: Any) -> bool:
    return _normal(reveal(a)) == _normal(reveal(b))


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


class LocalCloudProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self.config: dict[str, Any] = {}
        self.configured = False
        self.log = cloud.CallLog.from_env()
        self.store = cloud.StateStore()
        self._lock = threading.Lock()

    # -- helpers --------------------------------------------------------------------------------------------------

    def _region(self) -> str:
        return cloud.region_of(self.config)

    def _fail(self, context: grpc.ServicerContext, method: str, request: Any, err: Exception) -> Any:
        rid = getattr(request, "id", None) or None
        self.log.record(method, urn=request.urn, type=_type_of(request), id=rid, error=str(err))
        context.abort(grpc.StatusCode.UNKNOWN, str(err))

    # -- plugin and configuration -----------------------------------------------------------------------------------

    def GetPluginInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> plugin_pb2.PluginInfo:
        self.log.record("GetPluginInfo")
        return plugin_pb2.PluginInfo(version=schema.sdk_version())

    def GetSchema(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.log.record("GetSchema", version=request.version)
        minimal = {"name": schema.PACKAGE, "version": schema.sdk_version(), "resources": {}, "functions": {}}
        import json

        return provider_pb2.GetSchemaResponse(schema=json.dumps(minimal))

    def CheckConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        news = to_dict(request.news)
        failures = schema.check_provider_config(news, _name_of(request))
        self.log.record(
            "CheckConfig",
            urn=request.urn,
            type=PROVIDER_TYPE,
            news=cloud.mark_sensitive(news, config=True),
            failures=[f.__dict__ for f in failures] or None,
        )
        return provider_pb2.CheckResponse(
            inputs=request.news,
            failures=_failures(failures),
        )

    def DiffConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        olds = to_dict(request.old_inputs) or to_dict(request.olds)
        news = to_dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if k != "version" and not _equal(olds.get(k), news.get(k)))
        self.log.record(
            "DiffConfig",
            urn=request.urn,
            type=PROVIDER_TYPE,
            olds=cloud.mark_sensitive(olds, config=True),
            news=cloud.mark_sensitive(news, config=True),
            diffs=changed or None,
        )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(self, request: Any, context: grpc.ServicerContext) -> Any:
        args = to_dict(request.args)
        if not args:  # an older engine: only the "alicloud:config:<key>" variables
            args = {k.rsplit(":", 1)[-1]: v for k, v in request.variables.items()}
        with self._lock:
            self.config = args
            self.configured = True
        self.log.record(
            "Configure",
            urn=request.urn or None,
            type=PROVIDER_TYPE,
            args=cloud.mark_sensitive(args, config=True),
            variables=dict(request.variables),
            region=self._region(),
        )
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True, acceptOutputs=False
        )

    # -- resources ------------------------------------------------------------------------------------------------

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        news = to_dict(request.news)
        try:
            failures = schema.check_inputs(token, news, _name_of(request))
        except schema.UnknownType as err:
            failures = [schema.CheckFailure("", str(err))]
        self.log.record(
            "Check",
            urn=request.urn,
            type=token,
            olds=to_dict(request.olds) or None,
            news=news,
            failures=[f.__dict__ for f in failures] or None,
        )
        return provider_pb2.CheckResponse(
            inputs=request.news,
            failures=_failures(failures),
        )

    def Diff(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        olds = to_dict(request.old_inputs) or to_dict(request.olds)
        news = to_dict(request.news)
        try:
            inputs = schema.resource_schema(token).inputs.properties
        except schema.UnknownType as err:
            return self._fail(context, "Diff", request, err)
        ignored = {str(k).split(".")[0].split("[")[0] for k in request.ignoreChanges}
        keys = sorted((set(olds) | set(news)) & inputs - ignored)
        changed = [k for k in keys if not _equal(olds.get(k), news.get(k))]
        replace_keys = cloud.FORCE_NEW.get(token, frozenset())
        replaces = [k for k in changed if k in replace_keys]
        detailed: dict[str, Any] = {}
        kinds = provider_pb2.PropertyDiff
        for k in changed:
            if k not in olds or olds[k] is None:
                kind = kinds.ADD_REPLACE if k in replaces else kinds.ADD
            elif k not in news or news[k] is None:
                kind = kinds.DELETE_REPLACE if k in replaces else kinds.DELETE
            else:
                kind = kinds.UPDATE_REPLACE if k in replaces else kinds.UPDATE
            detailed[k] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)
        self.log.record(
            "Diff",
            urn=request.urn,
            type=token,
            id=request.id,
            olds=olds,
            news=news,
            diffs=changed or None,
            replaces=replaces or None,
        )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
            replaces=replaces,
            deleteBeforeReplace=False,
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        props = to_dict(request.properties)
        try:
            if not request.preview and contains_unknown(props):
                raise cloud.CloudError(f"localcloud: {token} inputs still unknown at create")
            rid, outs = cloud.create(self.store, token, request.urn, props, self._region(), preview=request.preview)
        except (cloud.CloudError, schema.UnknownType) as err:
            return self._fail(context, "Create", request, err)
        self.log.record(
            "Create",
            urn=request.urn,
            type=token,
            id=rid or None,
            preview=request.preview,
            inputs=props,
            outputs=outs,
            region=self._region(),
        )
        return provider_pb2.CreateResponse(id=rid, properties=to_struct(outs))

    def Read(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        try:
            found = cloud.read(self.store, token, request.id, to_dict(request.properties), to_dict(request.inputs))
        except cloud.CloudError as err:
            return self._fail(context, "Read", request, err)
        self.log.record("Read", urn=request.urn, type=token, id=request.id, found=found is not None)
        if found is None:
            return provider_pb2.ReadResponse(id="")
        outs, ins = found
        return provider_pb2.ReadResponse(id=request.id, properties=to_struct(outs), inputs=to_struct(ins))

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        olds = to_dict(request.olds)
        news = to_dict(request.news)
        try:
            outs = cloud.update(
                self.store, token, request.id, request.urn, olds, news, self._region(), preview=request.preview
            )
        except (cloud.CloudError, schema.UnknownType) as err:
            return self._fail(context, "Update", request, err)
        self.log.record(
            "Update",
            urn=request.urn,
            type=token,
            id=request.id,
            preview=request.preview,
            olds=olds,
            news=news,
            outputs=outs,
        )
        return provider_pb2.UpdateResponse(properties=to_struct(outs))

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        token = _type_of(request)
        props = to_dict(request.properties)
        try:
            cloud.delete(self.store, token, request.id, props)
        except cloud.CloudError as err:
            return self._fail(context, "Delete", request, err)
        self.log.record("Delete", urn=request.urn, type=token, id=request.id, properties=props)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: grpc.ServicerContext) -> Any:
        args = to_dict(request.args)
        try:
            result = cloud.invoke(request.tok, args, self._region())
        except cloud.CloudError as err:
            self.log.record("Invoke", tok=request.tok, args=args, error=str(err))
            context.abort(grpc.StatusCode.UNKNOWN, str(err))
        self.log.record("Invoke", tok=request.tok, args=args, region=self._region(), result=result)
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        self.log.record("Cancel")
        return empty_pb2.Empty()

    def GetMapping(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.log.record("GetMapping", key=request.key)
        return provider_pb2.GetMappingResponse(provider="", data=b"")

    def GetMappings(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.log.record("GetMappings", key=request.key)
        return provider_pb2.GetMappingsResponse(providers=[])

    def Attach(self, request: Any, context: grpc.ServicerContext) -> empty_pb2.Empty:
        self.log.record("Attach")
        return empty_pb2.Empty()


def serve() -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(LocalCloudProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The engine reads the port from the first line of stdout; nothing else may precede it.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    # Anything printed later must not disturb the engine: send stray output to stderr.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server.wait_for_termination()


if __name__ == "__main__":
    serve()
