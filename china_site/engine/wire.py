"""The engine's half of the analyzer protocol: the protobuf requests ``pulumi preview --policy-pack`` sends a pack.

Property encoding (:func:`engine_props`, :func:`to_engine_struct`, :func:`from_engine_struct`: what
``MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys)`` puts on the wire), the requests built from artifact
records (:func:`analyze_request`, :func:`remediate_request`, :func:`analyze_stack_request`,
:func:`configure_request`, :func:`configure_stack_request`) and the stack config an analyzer process gets in its
environment (:func:`stack_config_env`). All public so a gRPC harness can send them over the wire;
:mod:`china_site.engine.driver` hands the same requests to the SDK's servicer in-process (its docstring says what the
engine sends and why).

Nothing heavy is imported at module import: ``pulumi`` and protobuf load inside functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from china_site.engine.records import (
    MASKED_SECRET,
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    ProviderRef,
    Record,
)

if TYPE_CHECKING:
    from google.protobuf import struct_pb2

    from china_site.engine.pack_config import PolicyConfig


# ---------------------------------------------------------------------------------------------------------------
# Property encoding: what the engine puts on the wire.


def engine_props(props: Mapping[str, Any], *, skip_internal_keys: bool = True) -> dict[str, Any]:
    """``MarshalProperties(props, KeepUnknowns: true, KeepSecrets: true, SkipInternalKeys: …)`` as plain JSON.

    Keys are kept exactly as given (camelCase, as Pulumi stores them); secrets become
    ``{"4dabf…": "1b47…", "value": …}``; unknown sentinels stay sentinels; resource references become their ID
    (their URN when they have none: components) because the engine does not set ``KeepResources`` for analyzers;
    keys beginning with ``__`` (``__defaults``, ``__internal``, …) are dropped at every depth when
    ``skip_internal_keys`` (Analyze, AnalyzeStack, provider properties) and kept otherwise (Remediate).
    """
    return {
        str(k): _engine_value(v, skip_internal_keys)
        for k, v in props.items()
        if not (skip_internal_keys and str(k).startswith("__"))
    }


def _engine_value(value: Any, skip: bool) -> Any:
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return {SIG_KEY: SECRET_SIG, "value": _engine_value(value.get("value"), skip)}
        if sig == RESOURCE_REFERENCE_SIG:
            ref_id = value.get("id")
            return _engine_value(ref_id, skip) if ref_id is not None else value.get("urn")
        return engine_props(value, skip_internal_keys=skip)
    if isinstance(value, list | tuple):
        return [_engine_value(v, skip) for v in value]
    return value


def to_engine_struct(props: Mapping[str, Any], *, skip_internal_keys: bool = True) -> struct_pb2.Struct:
    """The ``google.protobuf.Struct`` the engine sends for ``props`` (numbers become doubles, as on the wire)."""
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(engine_props(props, skip_internal_keys=skip_internal_keys))
    return struct


def from_engine_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Plain JSON back from a Struct (what ``json_format.MessageToDict`` gives the policy SDK)."""
    from google.protobuf import json_format

    return cast(dict[str, Any], json_format.MessageToDict(struct))


# ---------------------------------------------------------------------------------------------------------------
# The engine's requests.


def _resource_options(record: Record, *, with_parent: bool) -> Any:
    from pulumi.runtime import proto

    opts = record.options
    create, update, delete = opts.custom_timeouts
    return proto.AnalyzerResourceOptions(
        protect=opts.protect,
        ignoreChanges=list(opts.ignore_changes),
        deleteBeforeReplace=False,
        deleteBeforeReplaceDefined=False,  # not recorded in artifacts: the SDK then gives None
        additionalSecretOutputs=list(opts.additional_secret_outputs),
        aliases=list(opts.aliases),
        customTimeouts=proto.AnalyzerResourceOptions.CustomTimeouts(create=create, update=update, delete=delete),
        parent=(record.parent or "") if with_parent else "",
    )


def _provider_resource(provider: ProviderRef | None) -> Any:
    from pulumi.runtime import proto

    if provider is None:
        return None
    return proto.AnalyzerProviderResource(
        type=provider.type,
        properties=to_engine_struct(provider.inputs),
        urn=provider.urn,
        name=provider.name,
    )


def analyze_request(record: Record, inputs: Mapping[str, Any] | None = None) -> Any:
    """The ``AnalyzeRequest`` the engine sends for ``record`` (``inputs`` overrides, e.g. after remediation)."""
    from pulumi.runtime import proto

    return proto.AnalyzeRequest(
        type=record.type,
        properties=to_engine_struct(record.inputs if inputs is None else inputs),
        urn=record.urn,
        name=record.name,
        options=_resource_options(record, with_parent=True),
        provider=_provider_resource(record.provider),
    )


def remediate_request(record: Record, inputs: Mapping[str, Any] | None = None) -> Any:
    """The request the engine sends to ``Remediate`` (an ``AnalyzeRequest`` keeping internal keys)."""
    from pulumi.runtime import proto

    return proto.AnalyzeRequest(
        type=record.type,
        properties=to_engine_struct(record.inputs if inputs is None else inputs, skip_internal_keys=False),
        urn=record.urn,
        name=record.name,
        options=_resource_options(record, with_parent=True),
        provider=_provider_resource(record.provider),
    )


def stack_properties(record: Record, inputs: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """What AnalyzeStack sees for a record: its outputs, or its (remediated) inputs when it has none."""
    if record.outputs is not None:
        return record.outputs
    return record.inputs if inputs is None else inputs


def analyze_stack_request(records: Sequence[Record], remediated: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """The ``AnalyzeStackRequest`` the engine sends once at the end (``remediated``: URN → remediated inputs)."""
    from pulumi.runtime import proto

    remediated = remediated or {}
    resources = []
    for record in records:
        resources.append(
            proto.AnalyzerResource(
                type=record.type,
                properties=to_engine_struct(stack_properties(record, remediated.get(record.urn))),
                urn=record.urn,
                name=record.name,
                options=_resource_options(record, with_parent=False),
                provider=_provider_resource(record.provider),
                parent=record.parent or "",
                dependencies=list(record.dependencies),
                propertyDependencies={
                    k: proto.AnalyzerPropertyDependencies(urns=list(v))
                    for k, v in record.property_dependencies.items()
                    if v
                },
            )
        )
    return proto.AnalyzeStackRequest(resources=resources)


def configure_request(config: Mapping[str, PolicyConfig]) -> Any:
    """The ``ConfigureAnalyzerRequest`` the engine sends with the reconciled config of every policy."""
    from pulumi.runtime import proto

    levels = {
        "advisory": proto.ADVISORY,
        "mandatory": proto.MANDATORY,
        "remediate": proto.REMEDIATE,
        "disabled": proto.DISABLED,
    }
    policy_config = {}
    for name, cfg in config.items():
        props = to_engine_struct(cfg.properties or {}, skip_internal_keys=False)
        policy_config[name] = proto.PolicyConfig(enforcementLevel=levels[cfg.enforcement], properties=props)
    return proto.ConfigureAnalyzerRequest(policyConfig=policy_config)


def configure_stack_request(
    stack: str | None,
    project: str | None,
    tags: Mapping[str, str] | None,
    *,
    dry_run: bool,
    stack_config: Mapping[str, str] | None = None,
) -> Any:
    """``ConfigureStack``: stack identity, tags (the SDK hands them to policies as ``stack_tags``) and config."""
    from pulumi.runtime import proto

    config = dict(stack_config or {})
    return proto.AnalyzerStackConfigureRequest(
        stack=stack or "",
        project=project or "",
        dry_run=dry_run,
        tags=dict(tags or {}),
        config=config,
        config_secret_keys=sorted(k for k, v in config.items() if v == MASKED_SECRET),
    )


@contextmanager
def stack_config_env(stack_config: Mapping[str, str] | None) -> Iterator[None]:
    """Give the policies the stack config the way the engine gives it to an analyzer process: ``PULUMI_CONFIG``
    (a JSON object of ``namespace:key`` → string) and ``PULUMI_CONFIG_SECRET_KEYS``. Restores the environment and
    the Pulumi SDK's in-process config (which the SDK's servicer fills from ``PULUMI_CONFIG``) afterwards.
    Masked secrets (``"[secret]"`` in a preview) are passed as they are: a policy that needs one cannot silently
    fall back to a default."""
    if stack_config is None:
        yield
        return
    from pulumi.runtime import config as runtime_config

    names = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")
    saved_env = {n: os.environ.get(n) for n in names}
    live = runtime_config.CONFIG.get()
    saved_config = dict(live)
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(stack_config), ensure_ascii=False)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(
        sorted(k for k, v in stack_config.items() if v == MASKED_SECRET)
    )
    try:
        yield
    finally:
        for n, v in saved_env.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v
        live.clear()
        live.update(saved_config)
