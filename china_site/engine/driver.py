"""Run CrossGuard Policy objects in-process over artifact records, exactly as the Pulumi engine would drive them.

How this stays identical to ``pulumi preview --policy-pack``
-----------------------------------------------------------
The engine talks to a Python pack through gRPC: it builds ``AnalyzeRequest`` / ``AnalyzeStackRequest``
protobufs, and the pack's ``pulumi_policy.policy._PolicyAnalyzerServicer`` turns them into
``ResourceValidationArgs`` / ``StackValidationArgs`` (``deserialize_properties`` → ``unknown_checking_proxy``,
``PolicyResourceOptions``, ``PolicyProviderResource``, the policy's config, ``UnknownValueError`` → the advisory
"can't run policy … during preview" diagnostic, not-applicable handling, "description + newline + message").

This module does the engine's half — it builds the *same protobuf requests* the engine builds
(:func:`analyze_request`, :func:`remediate_request`, :func:`analyze_stack_request`, :func:`configure_request`,
:func:`configure_stack_request`, all public so a gRPC harness can send them over the wire) — and hands them to
the SDK's own servicer object in-process instead of over a socket. The policy side is therefore not
re-implemented at all: it is the SDK's code, byte for byte. To prove "in-process == gRPC", a test sends the
requests these helpers build to the pack's real gRPC server and compares the diagnostics with
:func:`evaluate` (the transport is the only difference).

What the engine sends (pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` and
``sdk/go/common/resource/plugin/analyzer_plugin.go``), and what we therefore do:

* **Every registered resource is analyzed** — custom resources, components, the ``pulumi:pulumi:Stack`` resource
  and provider resources alike: the analyzer loop in ``continueStepsFromImport`` ("Send the resource off to any
  Analyzers before being operated on") runs for each ``RegisterResourceEvent`` with no filter on ``Custom`` or on
  provider types. Read resources (``GenerateReadSteps``) are *not* analyzed; we skip ``external`` records.
* Two passes per resource: **Remediate first** ("During the first pass, perform remediations"), its returned
  properties replace the inputs (``inputs = tresult.Properties``), then **Analyze** sees the remediated inputs.
  A remediation's diagnostic is reported as advisory. An Analyze diagnostic at level remediate is reported as
  mandatory. Analyze diagnostics are always filed under the analyzed resource's URN.
* Properties: ``MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys)`` — secrets as the secret
  signature object, unknowns as sentinels, numbers as doubles, keys starting with ``__`` dropped (Remediate keeps
  them: ``SkipInternalKeys: false``), resource references as their ID (or URN for components). See
  :func:`engine_props` / :func:`to_engine_struct`.
* The provider is sent with its **inputs** (``providerResource.Inputs``) — that is where ``region`` lives.
* ``AnalyzeStack`` runs once at the end over every resource with its **outputs** (``AnalyzeResources``: "Unlike
  Analyze, AnalyzeStack is called on the final outputs"), plus parent, dependencies and non-empty property
  dependencies; its options carry no ``parent``. A stack diagnostic whose URN is empty or not in the stack is
  filed under the root stack URN. A preview create has no outputs in ``pulumi preview --json``; we then send its
  (remediated) inputs, which is what the provider's preview of a create returns.
* Config: Pulumi's ``--policy-pack-config`` JSON, reconciled as ``ReconcilePolicyPackConfig`` does (schema
  defaults, then the pack's initial config, then the file; ``"all"`` sets every enforcement level first), validated
  against each policy's ``config_schema`` with ``jsonschema`` and sent with ``Configure`` for every policy.
  Unlike the engine, a key naming no policy of the pack is an error here (a typo must not silently do nothing).

Nothing heavy is imported at module import: ``pulumi_policy``, protobuf and ``jsonschema`` load inside functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol, cast

from china_site.engine.artifacts import (
    MASKED_SECRET,
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    STACK_TYPE,
    ProviderRef,
    Record,
    parse_urn,
    root_stack_urn,
    secret_strings,
)
from china_site.errors import ChinaSiteError, InputError
from china_site.report import Diagnostic, DiagnosticLevel, PolicyMeta

if TYPE_CHECKING:
    from google.protobuf import struct_pb2
    from pulumi_policy import Policy

EnforcementName = Literal["advisory", "mandatory", "remediate", "disabled"]
ENFORCEMENT_LEVELS: tuple[EnforcementName, ...] = ("advisory", "mandatory", "remediate", "disabled")

DEFAULT_PACK_NAME = "china-site"
# pulumi_policy.PolicyPack always gives its servicer version "0.0.1" (the CLI takes the real version from
# PulumiPolicy.yaml); the servicer puts it into its "can't run policy 'x' from policy pack 'p@v0.0.1'" messages.
SDK_PACK_VERSION = "0.0.1"

_CONFIG_FIX = "write the policy config in Pulumi's --policy-pack-config JSON format"


@dataclass(frozen=True)
class RemediationApplied:
    """A remediate-level policy rewrote a resource's inputs (the values are deliberately not kept)."""

    policy: str
    urn: str


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    urn: str
    reason: str


@dataclass
class Evaluation:
    """Everything one run produced. ``resources`` counts the artifact's records."""

    diagnostics: list[Diagnostic]
    remediations: list[RemediationApplied] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    resources: int = 0
    stack_urn: str = ""


@dataclass(frozen=True)
class PolicyConfig:
    """A policy's reconciled configuration: its enforcement level and its config properties."""

    enforcement: EnforcementName
    properties: dict[str, Any] | None = None


class PolicyRunError(ChinaSiteError):
    """A policy raised an exception (a bug in the pack, not a finding). Fail closed: the run stops."""


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


# ---------------------------------------------------------------------------------------------------------------
# Policy configuration (Pulumi's --policy-pack-config format).


def load_policy_config(path: str) -> dict[str, Any]:
    """Read a ``--policy-pack-config`` JSON file. Empty content is an empty config, as in Pulumi."""
    from china_site.safeio import MAX_CONFIG_BYTES, NestingError, NumberTooLongError, load_json, read_capped

    def refuse(why: str) -> NoReturn:
        raise InputError(f"the policy config is too large: {why}", where=path, fix=_CONFIG_FIX)

    try:
        text = read_capped(path, MAX_CONFIG_BYTES, refuse=refuse).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InputError(f"cannot read the policy config ({reason})", where=path, fix=_CONFIG_FIX) from None
    if not text.strip():
        return {}
    try:
        doc = load_json(text)
    except NumberTooLongError as exc:
        raise InputError(f"the policy config holds {exc}", where=path, fix=_CONFIG_FIX) from None
    except NestingError:
        raise InputError("the policy config is nested too deeply", where=path, fix=_CONFIG_FIX) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the policy config is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            where=path,
            fix=_CONFIG_FIX,
        ) from None
    if not isinstance(doc, dict):
        raise InputError("the policy config must be a JSON object", where=path, fix=_CONFIG_FIX)
    return policy_entries(doc, source=path)


def policy_entries(doc: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The per-policy entries of a ``--policy-pack-config`` document, as the engine (v3.274,
    ``resource/analyzer/config.go``) reads it: a numeric ``version`` (only 2) nests them under ``policies`` beside
    ``environments`` and ``exceptions``; an unversioned file has them at the top level beside an optional
    ``environments`` array of strings (a non-numeric ``version`` is a policy name there).

    ESC ``environments`` are checked but not opened offline, and ``exceptions`` are not applied (findings they would
    suppress are reported: stricter than the engine, never laxer); a note on stderr says so."""
    entries = dict(doc)
    version = entries.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        if version > 2:
            raise InputError(
                f"policy config version {version:g} is not supported", where=source, fix="use version 2 (or none)"
            )
        if version != 2:
            raise InputError('"version" must be 2', where=source, fix=_CONFIG_FIX)
        unknown = set(entries) - {"version", "policies", "environments", "exceptions"}
        if unknown:
            raise InputError(
                f"'{sorted(unknown)[0]}' is not a key of a version 2 policy config",
                where=source,
                fix='put policy entries under "policies"; the other keys are environments and exceptions',
            )
        policies = entries.get("policies")
        policies = {} if policies is None else policies
        if not isinstance(policies, dict):
            raise InputError('"policies" must be an object', where=source, fix=_CONFIG_FIX)
        _environments(entries.get("environments"), source)
        _check_entry_types(policies, source)
        exceptions = entries.get("exceptions")
        if exceptions not in (None, {}):
            if not isinstance(exceptions, dict):
                raise InputError(
                    '"exceptions" must be an object that maps exception IDs to exceptions',
                    where=source,
                    fix=_CONFIG_FIX,
                )
            _note(f"{source}: policy exceptions are not applied offline; findings they would suppress are reported")
        return dict(policies)
    if "environments" in entries:
        _environments(entries.pop("environments"), source)
    _check_entry_types(entries, source)
    return entries


def _check_entry_types(entries: Mapping[str, Any], source: str) -> None:
    """Each policy's entry is an enforcement level string or an object, as the engine requires
    (``parsePolicyPackConfig``): ``5``, ``null``, ``[]`` or ``true`` is one line, never silently ignored."""
    for key, value in entries.items():
        if not isinstance(value, str | Mapping):
            raise InputError(
                f"must be an enforcement level string or an object, not {_kind_of(value)}",
                where=f"{source}, policy '{key}'",
                fix='write e.g. "mandatory" or {"enforcementLevel": "advisory"}',
            )


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _environments(value: Any, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise InputError('"environments" must be an array of strings', where=source, fix=_CONFIG_FIX)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InputError(f'"environments[{i}]" must be a string', where=source, fix=_CONFIG_FIX)
    if value:
        _note(
            f"{source}: ESC environments ({', '.join(value)}) are not opened offline; set the values they provide "
            "in the environment or the policy config"
        )


def _note(message: str) -> None:
    import sys

    print(f"china-site: note: {message}", file=sys.stderr)


def _parse_level(value: Any, *, source: str, key: str, field_name: str | None) -> EnforcementName:
    if isinstance(value, str) and value in ENFORCEMENT_LEVELS:
        return cast(EnforcementName, value)
    where = f"{source}, policy '{key}'" + (f", field '{field_name}'" if field_name else "")
    shown = f"'{value}'" if isinstance(value, str) else "a non-string value"
    raise InputError(
        f"{shown} is not an enforcement level",
        where=where,
        fix="use one of advisory, mandatory, remediate, disabled",
    )


def _parse_entries(
    doc: Mapping[str, Any], *, source: str
) -> dict[str, tuple[EnforcementName | None, dict[str, Any] | None]]:
    """``parsePolicyPackConfig``: a string is an enforcement level; an object may hold ``enforcementLevel`` and
    the policy's properties."""
    out: dict[str, tuple[EnforcementName | None, dict[str, Any] | None]] = {}
    for key, value in doc.items():
        level: EnforcementName | None = None
        props: dict[str, Any] | None = None
        if isinstance(value, str):
            level = _parse_level(value, source=source, key=key, field_name=None)
        elif isinstance(value, Mapping):
            rest = dict(value)
            if "enforcementLevel" in rest:
                level = _parse_level(
                    rest.pop("enforcementLevel"), source=source, key=key, field_name="enforcementLevel"
                )
            props = rest or None
        else:
            raise InputError(
                "must be an enforcement level string or an object",
                where=f"{source}, policy '{key}'",
                fix=_CONFIG_FIX,
            )
        if level is None and not props:
            continue
        out[key] = (level, props)
    return out


def _initial_entries(initial: Mapping[str, Any]) -> dict[str, tuple[EnforcementName | None, dict[str, Any] | None]]:
    """A pack's ``initial_config`` (values are EnforcementLevel enums, strings or dicts) in the same shape."""
    out: dict[str, tuple[EnforcementName | None, dict[str, Any] | None]] = {}
    for key, value in initial.items():
        if isinstance(value, Mapping):
            rest = dict(value)
            level = rest.pop("enforcementLevel", None)
            level_name = getattr(level, "value", level)
            out[key] = (cast(EnforcementName | None, level_name), rest or None)
        else:
            out[key] = (cast(EnforcementName, getattr(value, "value", value)), None)
    return out


def _policy_level(policy: Policy, pack_enforcement: str) -> EnforcementName:
    level = policy.enforcement_level
    return cast(EnforcementName, level.value if level is not None else pack_enforcement)


def reconcile_policy_config(
    policies: Sequence[Policy],
    config: Mapping[str, Any] | None,
    *,
    pack_enforcement: str = "advisory",
    initial_config: Mapping[str, Any] | None = None,
    source: str = "policy config",
) -> dict[str, PolicyConfig]:
    """``ReconcilePolicyPackConfig`` + ``validatePolicyPackConfig``: every policy's level and properties.

    Raises InputError (one line, naming the policy and the property) for a bad level, an unknown policy name or
    properties that fail the policy's ``config_schema``.
    """
    if pack_enforcement not in ENFORCEMENT_LEVELS:
        raise InputError(f"'{pack_enforcement}' is not an enforcement level", where="pack default", fix=_CONFIG_FIX)
    result: dict[str, PolicyConfig] = {}
    for policy in policies:
        defaults: dict[str, Any] | None = None
        schema = policy.config_schema
        if schema is not None:
            for prop, prop_schema in (schema.properties or {}).items():
                if "default" in prop_schema:
                    defaults = defaults or {}
                    defaults[prop] = prop_schema["default"]
        result[policy.name] = PolicyConfig(_policy_level(policy, pack_enforcement), defaults)

    if initial_config:
        _apply(result, _initial_entries(initial_config))
    if config:
        entries = _parse_entries(config, source=source)
        known = {p.name for p in policies}
        for key in config:  # every name, even one whose entry is empty (a typo'd name must not pass silently)
            if key != "all" and key not in known:
                raise InputError(
                    "names no policy of this pack",
                    where=f"{source}, policy '{key}'",
                    fix=f"use one of: all, {', '.join(sorted(known))}",
                )
        _apply(result, entries)

    for policy in policies:
        _validate_policy_config(policy, result[policy.name].properties or {}, source=source)
    return result


def _apply(
    result: dict[str, PolicyConfig], entries: Mapping[str, tuple[EnforcementName | None, dict[str, Any] | None]]
) -> None:
    """``applyConfig``: ``all`` first (level only), then each policy's level and properties on top."""
    all_level = entries.get("all", (None, None))[0]
    if all_level is not None:
        for name, cfg in list(result.items()):
            result[name] = PolicyConfig(all_level, cfg.properties)
    for name, (level, props) in entries.items():
        current = result.get(name)
        if current is None:  # "all" (unknown names were rejected before); its properties apply to no policy
            continue
        merged = dict(current.properties or {})
        merged.update(props or {})
        result[name] = PolicyConfig(level or current.enforcement, merged or None)


def _validate_policy_config(policy: Policy, props: Mapping[str, Any], *, source: str) -> None:
    schema = policy.config_schema
    if schema is None:
        return
    import jsonschema

    json_schema: dict[str, Any] = {"type": "object"}
    if schema.properties:
        json_schema["properties"] = schema.properties
    if schema.required:
        json_schema["required"] = list(schema.required)
    validator_cls = jsonschema.validators.validator_for(json_schema, default=jsonschema.Draft7Validator)
    try:
        validator_cls.check_schema(json_schema)
    except jsonschema.SchemaError as exc:
        raise PolicyRunError(
            f"the policy's config_schema is not a valid JSON schema ({exc.message})",
            where=f"policy '{policy.name}'",
            fix="fix the policy pack",
        ) from None
    errors = sorted(validator_cls(json_schema).iter_errors(dict(props)), key=lambda e: [str(p) for p in e.path])
    if not errors:
        _validate_known_keys(policy, props, source=source)
        return
    error = errors[0]
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = [r for r in error.validator_value if r not in (error.instance or {})]
        path = ".".join(p for p in (path, missing[0] if missing else "") if p)
    raise InputError(
        _describe_schema_error(error),
        where=f"{source}, policy '{policy.name}', field '{path or '(root)'}'",
        fix=f"correct '{path or policy.name}' in the config of policy '{policy.name}'",
    )


def _validate_known_keys(policy: Policy, props: Mapping[str, Any], *, source: str) -> None:
    """What Pulumi's schema format cannot say: no unknown key, and (for china-site's policies) values the pack's own
    run-time validation accepts (e.g. a real calendar date), so a bad file is one line here, not a violation later."""
    known = set((policy.config_schema.properties or {}) if policy.config_schema else ())
    for key in props:
        if key not in known:
            raise InputError(
                "unknown key",
                where=f"{source}, policy '{policy.name}', field '{key}'",
                fix=f"remove it or correct its spelling; the keys are: {', '.join(sorted(known))}",
            )
    from china_site.policy_schema import CONFIG_SCHEMA

    if not props or not known <= set(CONFIG_SCHEMA):
        return
    from pydantic import ValidationError

    from china_site.policy_config import PolicyConfig as SharedConfig

    try:
        SharedConfig.model_validate(dict(props))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in err.get("loc", ()))
        raise InputError(
            str(err.get("msg", "invalid value")).removeprefix("Value error, "),
            where=f"{source}, policy '{policy.name}', field '{path or '(root)'}'",
            fix=f"correct '{path or policy.name}' in the config of policy '{policy.name}'",
        ) from None


def _describe_schema_error(error: Any) -> str:
    """A schema error without echoing the offending value (it could be a secret)."""
    validator, expected = error.validator, error.validator_value
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"must be of type {' or '.join(str(k) for k in kinds)}"
    if validator == "enum":
        return "must be one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in expected)
    if validator == "required":
        return "is required"
    if validator == "pattern":
        return f"must match the pattern {expected}"
    if validator == "format":
        return f"must be a valid {expected}"
    return f"does not satisfy '{validator}: {json.dumps(expected, ensure_ascii=False, default=str)[:80]}'"


# ---------------------------------------------------------------------------------------------------------------
# Running.


class Analyzer(Protocol):
    """The engine's view of a policy pack: the ``pulumirpc.Analyzer`` methods, each taking one request.

    A gRPC ``AnalyzerStub`` connected to a running pack satisfies it as it is; :class:`InProcessAnalyzer` wraps the
    SDK's servicer for in-process runs.
    """

    def Configure(self, request: Any) -> Any: ...
    def ConfigureStack(self, request: Any) -> Any: ...
    def Remediate(self, request: Any) -> Any: ...
    def Analyze(self, request: Any) -> Any: ...
    def AnalyzeStack(self, request: Any) -> Any: ...


class InProcessAnalyzer:
    """``pulumi_policy``'s own ``_PolicyAnalyzerServicer`` (what ``PolicyPack`` serves over gRPC), called directly."""

    def __init__(self, policies: Sequence[Policy], pack_name: str, pack_enforcement: str) -> None:
        from pulumi_policy import EnforcementLevel
        from pulumi_policy.policy import _PolicyAnalyzerServicer

        self._servicer = _PolicyAnalyzerServicer(
            pack_name, SDK_PACK_VERSION, list(policies), EnforcementLevel(pack_enforcement), None
        )

    def Configure(self, request: Any) -> Any:
        return self._servicer.Configure(request, None)

    def ConfigureStack(self, request: Any) -> Any:
        return self._servicer.ConfigureStack(request, None)

    def Remediate(self, request: Any) -> Any:
        return self._servicer.Remediate(request, None)

    def Analyze(self, request: Any) -> Any:
        return self._servicer.Analyze(request, None)

    def AnalyzeStack(self, request: Any) -> Any:
        return self._servicer.AnalyzeStack(request, None)


def _level(proto_level: int) -> DiagnosticLevel | None:
    """The engine reports remediate-level violations as mandatory; disabled never reaches a diagnostic."""
    from pulumi.runtime import proto

    if proto_level in (proto.MANDATORY, proto.REMEDIATE):
        return "mandatory"
    if proto_level == proto.ADVISORY:
        return "advisory"
    return None


def _redact(text: str, secrets: set[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        if s in text:
            text = text.replace(s, "[secret]")
    return text


def evaluate(
    policies: Sequence[Policy],
    records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None = None,
    pack_enforcement: str = "advisory",
    stack_tags: Mapping[str, str] | None = None,
    pack_name: str = DEFAULT_PACK_NAME,
    initial_config: Mapping[str, Any] | None = None,
    config_source: str = "policy config",
    dry_run: bool = True,
    stack_config: Mapping[str, str] | None = None,
    progress: Callable[[Iterable[Record], int], Iterable[Record]] | None = None,
    analyzer: Analyzer | None = None,
) -> Evaluation:
    """Run ``policies`` over ``records`` as the engine would (see the module docstring) and return everything:
    diagnostics in engine order (per resource: remediation diagnostics, then Analyze; then AnalyzeStack),
    applied remediations and not-applicable reports. ``config`` is a parsed ``--policy-pack-config`` document.

    ``analyzer`` defaults to the SDK's servicer in-process. Pass a ``pulumirpc`` ``AnalyzerStub`` connected to the
    pack's gRPC server (started from the same policies) to run the very same requests over the wire: the two
    evaluations must be equal (``tests/test_driver.py::test_in_process_equals_grpc``).

    ``stack_config`` (e.g. a preview's ``Artifact.config``) reaches the policies as the engine passes it: in
    ``ConfigureStack`` and, for the in-process analyzer, as ``PULUMI_CONFIG`` during the run (a gRPC pack process
    must be started with that environment, as the engine does)."""
    with stack_config_env(stack_config if analyzer is None else None):
        return _evaluate(
            policies,
            records,
            config=config,
            pack_enforcement=pack_enforcement,
            stack_tags=stack_tags,
            pack_name=pack_name,
            initial_config=initial_config,
            config_source=config_source,
            dry_run=dry_run,
            stack_config=stack_config,
            progress=progress,
            analyzer=analyzer,
        )


def _evaluate(
    policies: Sequence[Policy],
    records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None,
    pack_enforcement: str,
    stack_tags: Mapping[str, str] | None,
    pack_name: str,
    initial_config: Mapping[str, Any] | None,
    config_source: str,
    dry_run: bool,
    stack_config: Mapping[str, str] | None,
    progress: Callable[[Iterable[Record], int], Iterable[Record]] | None,
    analyzer: Analyzer | None,
) -> Evaluation:
    if not policies:
        raise InputError("no policies to run", where="policy pack", fix="pass at least one Policy")
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyRunError(f"duplicate policy names {', '.join(duplicates)}", where="policy pack", fix="rename them")

    reconciled = reconcile_policy_config(
        policies, config, pack_enforcement=pack_enforcement, initial_config=initial_config, source=config_source
    )
    if analyzer is None:
        analyzer = InProcessAnalyzer(policies, pack_name, pack_enforcement)
    analyzer.Configure(configure_request(reconciled))

    stack_record = next((r for r in records if r.type == STACK_TYPE), None)
    stack_name = project = None
    if records:
        first = parse_urn(records[0].urn)
        stack_name, project = first.stack, first.project
    analyzer.ConfigureStack(
        configure_stack_request(stack_name, project, stack_tags, dry_run=dry_run, stack_config=stack_config)
    )
    stack_urn = (
        stack_record.urn if stack_record else (root_stack_urn(stack_name, project) if project and stack_name else "")
    )

    secrets = secret_strings(records, min_length=6)
    result = Evaluation(diagnostics=[], resources=len(records), stack_urn=stack_urn)
    remediated: dict[str, dict[str, Any]] = {}

    def call(method: Callable[[Any], Any], request: Any, where: str) -> Any:
        try:
            return method(request)
        except ChinaSiteError:
            raise
        except Exception as exc:
            detail = _redact(str(exc).splitlines()[0] if str(exc) else "", secrets)[:200]
            raise PolicyRunError(
                f"a policy raised {type(exc).__name__}{': ' + detail if detail else ''}",
                where=where,
                fix="fix the policy pack; this is a bug, not a finding",
            ) from exc

    iterable: Iterable[Record] = records if progress is None else progress(records, len(records))
    for record in iterable:
        if record.external:  # read resources: the engine does not call Analyze for them
            continue
        inputs: dict[str, Any] = record.inputs
        response = call(analyzer.Remediate, remediate_request(record, inputs), record.urn)
        for rem in response.remediations:
            if rem.diagnostic:
                result.diagnostics.append(
                    Diagnostic(
                        rem.policyName,
                        "advisory",
                        record.urn,
                        record.type,
                        record.name,
                        _redact(rem.diagnostic, secrets),
                    )
                )
            elif rem.HasField("properties"):
                inputs = from_engine_struct(rem.properties)
                remediated[record.urn] = inputs
                result.remediations.append(RemediationApplied(rem.policyName, record.urn))
        for na in response.not_applicable:
            result.not_applicable.append(NotApplicable(na.policy_name, record.urn, na.reason))

        response = call(analyzer.Analyze, analyze_request(record, inputs), record.urn)
        for d in response.diagnostics:
            level = _level(d.enforcementLevel)
            if level is not None:  # the engine files Analyze diagnostics under the analyzed resource's URN
                result.diagnostics.append(
                    Diagnostic(d.policyName, level, record.urn, record.type, record.name, _redact(d.message, secrets))
                )
        for na in response.not_applicable:
            result.not_applicable.append(NotApplicable(na.policy_name, record.urn, na.reason))

    by_urn = {r.urn: r for r in records}
    response = call(analyzer.AnalyzeStack, analyze_stack_request(records, remediated), stack_urn or "stack")
    for d in response.diagnostics:
        level = _level(d.enforcementLevel)
        if level is None:
            continue
        target = by_urn.get(d.urn) if d.urn else None
        if target is not None:
            urn, rtype, name = target.urn, target.type, target.name
        else:
            urn = stack_urn
            rtype = STACK_TYPE
            name = stack_record.name if stack_record else (f"{project}-{stack_name}" if project else "")
        result.diagnostics.append(Diagnostic(d.policyName, level, urn, rtype, name, _redact(d.message, secrets)))
    for na in response.not_applicable:
        result.not_applicable.append(NotApplicable(na.policy_name, stack_urn, na.reason))
    return result


def run_policies(
    policies: Sequence[Policy],
    artifact_records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None = None,
    pack_enforcement: str = "advisory",
    stack_tags: Mapping[str, str] | None = None,
    stack_config: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """The diagnostics of :func:`evaluate` (remediation first, then Analyze per resource, then AnalyzeStack)."""
    return evaluate(
        policies,
        artifact_records,
        config=config,
        pack_enforcement=pack_enforcement,
        stack_tags=stack_tags,
        stack_config=stack_config,
    ).diagnostics


def policies_meta(policies: Sequence[Policy], *, pack_enforcement: str = "advisory") -> list[PolicyMeta]:
    """Report metadata (:class:`china_site.report.PolicyMeta`) for each policy: name, description, default
    level, remediation steps as help text, URL as help URI."""
    return [
        PolicyMeta(
            name=p.name,
            description=p.description,
            enforcement=_policy_level(p, pack_enforcement),
            display_name=p.display_name,
            help_text=p.remediation_steps,
            help_uri=p.url,
        )
        for p in policies
    ]
