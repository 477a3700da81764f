"""One resource state of an artifact → one :class:`~china_site.engine.records.Record`, and records → an artifact.

A resource state is an export's resource, a preview step's ``newState`` or an engine event's ``new``/``old`` state
(:func:`_parse_state`); :func:`_artifact` / :func:`partial_artifact` resolve each record's provider (among the
records, from a ``--state`` export, or — a default provider — from the stack config; an explicit provider found
nowhere is a :class:`~china_site.engine.records.MissingProvider`). Errors are one line naming the file, the entry and
the field, and how to fix it (:func:`_fail`).

Property values are kept in Pulumi's JSON property form, with these normalisations (:func:`_normalize`):

* **Secrets** always become the wire form the policy SDK deserialises as a secret:
  ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": …}``.
  A ``ciphertext`` secret (a normal export) and a masked ``"[secret]"`` string (``pulumi preview --json``)
  cannot be decrypted here, so their value is the engine's *unknown* sentinel: a policy that reads one gets
  the SDK's ``UnknownValueError`` (an advisory "can't run policy … during preview" diagnostic) instead of a
  made-up value. A ``plaintext`` secret (``pulumi stack export --show-secrets``) keeps its value, still wrapped.
* **Unknowns** (``"04da6b54-80e4-46f7-96ec-b56ff0331ba9"`` and the other typed sentinels) are kept as they are:
  they are exactly what the engine sends for unknown values.
* Assets, archives and resource references are kept; the driver encodes them as the engine does.

This module imports nothing from Pulumi: it is safe to import when the CLI starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from china_site.engine.records import (
    ARCHIVE_SIG,
    ASSET_SIG,
    MASKED_SECRET,
    OUTPUT_VALUE_SIG,
    PROVIDER_TYPE_PREFIX,
    READ_OPS,
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    Artifact,
    ArtifactKind,
    MissingProvider,
    ProviderRef,
    Record,
    RecordOptions,
    RunFailure,
    parse_urn,
    secret,
)
from china_site.errors import InputError
from china_site.safeio import NestingError, NumberTooLongError, load_json

# ---------------------------------------------------------------------------------------------------------------
# Errors: one line naming the file, the entry and the field, and how to fix it.


def _fail(source: str, what: str, *, entry: str | None = None, field: str | None = None, fix: str) -> NoReturn:
    where = source
    if entry:
        where += f", {entry}"
    if field:
        where += f", field '{field}'"
    raise InputError(what, where=where, fix=fix)


# ---------------------------------------------------------------------------------------------------------------
# Records → an artifact, providers resolved.


def failed_run_artifact(
    kind: ArtifactKind, failures: tuple[RunFailure, ...], config: dict[str, str], source: str
) -> Artifact:
    """An artifact of a run that failed before any resource was registered: no records, only its failures (the
    stack and project come from a URN a failure names, when one does)."""
    stack = project = None
    for failure in failures:
        try:
            parsed = parse_urn(failure.urn)
        except ValueError:
            continue
        stack, project = parsed.stack, parsed.project
        break
    return Artifact(kind, [], config, stack, project, source, run_failures=failures)


def partial_artifact(
    kind: ArtifactKind, raw: list[_RawRecord], config: dict[str, str], source: str, state: Artifact | None
) -> Artifact:
    """An artifact that may leave out unchanged resources (a preview without ``--show-sames``): a provider that is
    not among its records comes from ``state`` (a stack export), else — a default provider — from the stack config;
    an explicit alicloud provider found nowhere is recorded in ``missing_providers`` (never read as "no region")."""
    from_state = {r.urn: r for r in state.records if r.is_provider} if state is not None else {}
    missing: list[tuple[str, str]] = []  # (resource urn, provider urn)

    def resolve(provider_urn: str, entry: str, resource_urn: str) -> ProviderRef:
        known = from_state.get(provider_urn)
        if known is not None:
            return ProviderRef(known.urn, known.type, known.name, known.inputs)
        ref = _provider_from_config(provider_urn, config)
        if not _is_default_provider(provider_urn) and ref.type == ALICLOUD_PROVIDER_TYPE:
            missing.append((resource_urn, provider_urn))
        return ref

    artifact = _artifact(kind, raw, config, source, resolve)
    by_urn = {r.urn: r for r in artifact.records}
    gaps = tuple(MissingProvider(by_urn[res], prov) for res, prov in missing if res in by_urn)
    return replace(artifact, missing_providers=gaps)


ALICLOUD_PROVIDER_TYPE = "pulumi:providers:alicloud"


def _is_default_provider(provider_urn: str) -> bool:
    """The engine names default providers ``default`` or ``default_<version>`` (they are never in a preview)."""
    try:
        name = parse_urn(provider_urn).name
    except ValueError:
        return False
    return name == "default" or name.startswith("default_")


def _artifact(
    kind: ArtifactKind,
    raw: list[_RawRecord],
    config: dict[str, str],
    source: str,
    missing_provider: Callable[[str, str, str], ProviderRef],
) -> Artifact:
    """The records with their providers resolved: a provider among the resources, else
    ``missing_provider(provider_urn, entry, resource_urn)``."""
    by_urn = {r.record.urn: r.record for r in raw}
    records: list[Record] = []
    for r in raw:
        provider = None
        if r.provider_urn is not None:
            prov = by_urn.get(r.provider_urn)
            provider = (
                missing_provider(r.provider_urn, r.entry, r.record.urn)
                if prov is None
                else ProviderRef(prov.urn, prov.type, prov.name, prov.inputs)
            )
        records.append(r.build(provider))
    first = parse_urn(raw[0].record.urn)
    return Artifact(kind=kind, records=records, config=config, stack=first.stack, project=first.project, source=source)


def _provider_from_config(provider_urn: str, config: Mapping[str, str]) -> ProviderRef:
    """A provider that has no step of its own. ``pulumi preview --json`` hides *default* providers; the engine
    builds their inputs from the stack config of their package (``alicloud:region`` → ``region``), so we do the
    same. An explicit provider without a step gets empty inputs (its region then reads as missing: fail closed).
    """
    parsed = parse_urn(provider_urn)
    inputs: dict[str, Any] = {}
    package = parsed.type[len(PROVIDER_TYPE_PREFIX) :] if parsed.type.startswith(PROVIDER_TYPE_PREFIX) else ""
    if package and _is_default_provider(provider_urn):
        prefix = package + ":"
        for key, value in config.items():
            if key.startswith(prefix) and ":" not in key[len(prefix) :]:
                inputs[key[len(prefix) :]] = secret() if value == MASKED_SECRET else value
    return ProviderRef(provider_urn, parsed.type, parsed.name, inputs)


# ---------------------------------------------------------------------------------------------------------------
# One resource state → one record.


@dataclass
class _RawRecord:
    """A record as read, before its provider reference (``provider_urn``) is resolved against the others."""

    entry: str
    provider_urn: str | None
    record: Record  # provider: None

    def build(self, provider: ProviderRef | None) -> Record:
        return replace(self.record, provider=provider)


def _parse_state(
    res: Any,
    source: str,
    entry: str,
    *,
    fix: str,
    masked_secrets: bool,
    op: str | None = None,
    step_urn: str | None = None,
    step_provider: Any = None,
) -> _RawRecord | None:
    """One resource state (an export's resource or a preview step's newState). ``None`` = skip it."""
    if not isinstance(res, dict):
        _fail(source, f"expected an object, found {_kind(res)}", entry=entry, fix=fix)
    urn = res.get("urn", step_urn)
    if not isinstance(urn, str) or not urn:
        _fail(source, "the resource has no urn", entry=entry, field="urn", fix=fix)
    try:
        parsed = parse_urn(urn)
    except ValueError as exc:
        _fail(source, f"'{_clip(urn)}' is not a Pulumi URN ({exc})", entry=entry, field="urn", fix=fix)
    if res.get("delete") is True:  # pending deletion after a replacement: not part of the stack
        return None

    rtype = res.get("type", parsed.type)
    if not isinstance(rtype, str) or not rtype:
        _fail(source, f"expected a type token, found {_kind(rtype)}", entry=entry, field="type", fix=fix)
    custom = res.get("custom", False)
    if not isinstance(custom, bool):
        _fail(source, f"expected true or false, found {_kind(custom)}", entry=entry, field="custom", fix=fix)

    def obj(name: str) -> dict[str, Any] | None:
        value = res.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            _fail(source, f"expected an object, found {_kind(value)}", entry=entry, field=name, fix=fix)
        out = _normalize(value, source, entry, name, fix=fix, masked_secrets=masked_secrets)
        assert isinstance(out, dict)
        return out

    def urn_list(name: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
            _fail(source, f"expected a list of URNs, found {_kind(value)}", entry=entry, field=name, fix=fix)
        return tuple(value)

    def opt_str(name: str, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            _fail(source, f"expected a string, found {_kind(value)}", entry=entry, field=name, fix=fix)
        return value

    inputs = obj("inputs") or {}
    outputs = obj("outputs")
    parent = opt_str("parent", res.get("parent"))
    dependencies = urn_list("dependencies", res.get("dependencies"))
    prop_deps_doc = res.get("propertyDependencies")
    prop_deps_doc = {} if prop_deps_doc is None else prop_deps_doc
    if not isinstance(prop_deps_doc, dict):
        _fail(
            source,
            f"expected an object, found {_kind(prop_deps_doc)}",
            entry=entry,
            field="propertyDependencies",
            fix=fix,
        )
    property_dependencies = {str(k): urn_list(f"propertyDependencies.{k}", v) for k, v in prop_deps_doc.items()}

    provider_urn = None
    provider_ref = opt_str("provider", res.get("provider", step_provider))
    if provider_ref is not None:
        ref_urn, sep, _ref_id = provider_ref.rpartition("::")
        try:
            if not sep:
                raise ValueError("expected <provider urn>::<provider id>")
            parse_urn(ref_urn)
        except ValueError as exc:
            _fail(
                source,
                f"'{_clip(provider_ref)}' is not a provider reference ({exc})",
                entry=entry,
                field="provider",
                fix=fix,
            )
        provider_urn = ref_urn

    timeouts = res.get("customTimeouts")
    timeouts = {} if timeouts is None else timeouts
    if not isinstance(timeouts, dict):
        _fail(source, f"expected an object, found {_kind(timeouts)}", entry=entry, field="customTimeouts", fix=fix)
    try:
        custom_timeouts = tuple(float(timeouts.get(k) or 0) for k in ("create", "update", "delete"))
    except (TypeError, ValueError):
        _fail(source, "expected numbers of seconds", entry=entry, field="customTimeouts", fix=fix)
    options = RecordOptions(
        protect=res.get("protect") is True,
        ignore_changes=urn_list("ignoreChanges", res.get("ignoreChanges")),
        aliases=_alias_urns(res.get("aliases")),
        additional_secret_outputs=urn_list("additionalSecretOutputs", res.get("additionalSecretOutputs")),
        custom_timeouts=(custom_timeouts[0], custom_timeouts[1], custom_timeouts[2]),
    )
    record = Record(
        urn=urn,
        type=rtype,
        name=parsed.name,
        custom=custom,
        inputs=inputs,
        outputs=outputs,
        provider=None,
        parent=parent,
        dependencies=dependencies,
        property_dependencies=property_dependencies,
        op=op,
        external=res.get("external") is True or (op in READ_OPS),
        options=options,
        source_position=res.get("sourcePosition") if isinstance(res.get("sourcePosition"), str) else None,
    )
    return _RawRecord(entry=entry, provider_urn=provider_urn, record=record)


def _alias_urns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(a for a in value if isinstance(a, str))


def _normalize(value: Any, source: str, entry: str, path: str, *, fix: str, masked_secrets: bool) -> Any:
    """Bring one property value into the common form (see the module docstring)."""
    if isinstance(value, dict):
        if SIG_KEY in value:
            sig = value[SIG_KEY]
            if sig == SECRET_SIG:
                if "value" in value:
                    inner = _normalize(value["value"], source, entry, path, fix=fix, masked_secrets=masked_secrets)
                    return secret(inner)
                if "plaintext" in value:  # `pulumi stack export --show-secrets`
                    plaintext = value["plaintext"]
                    try:
                        decoded = load_json(plaintext) if isinstance(plaintext, str) else plaintext
                    except json.JSONDecodeError:
                        _fail(source, "the secret's plaintext is not JSON", entry=entry, field=path, fix=fix)
                    except (NumberTooLongError, NestingError) as exc:
                        _fail(source, f"the secret's plaintext holds {exc}", entry=entry, field=path, fix=fix)
                    return secret(_normalize(decoded, source, entry, path, fix=fix, masked_secrets=masked_secrets))
                if "ciphertext" in value:  # encrypted: we cannot (and must not) decrypt it
                    return secret()
                _fail(source, "a secret without value, plaintext or ciphertext", entry=entry, field=path, fix=fix)
            if sig in (ASSET_SIG, ARCHIVE_SIG):
                return dict(value)
            if sig == RESOURCE_REFERENCE_SIG:
                if not isinstance(value.get("urn"), str):
                    _fail(source, "a resource reference without a urn", entry=entry, field=path, fix=fix)
                return dict(value)
            if sig == OUTPUT_VALUE_SIG:
                if "value" not in value:
                    return secret() if value.get("secret") is True else UNKNOWN
                inner = _normalize(value["value"], source, entry, path, fix=fix, masked_secrets=masked_secrets)
                return secret(inner) if value.get("secret") is True else inner
            _fail(source, f"unrecognised value signature '{_clip(str(sig))}'", entry=entry, field=path, fix=fix)
        return {
            k: _normalize(v, source, entry, f"{path}.{k}", fix=fix, masked_secrets=masked_secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _normalize(v, source, entry, f"{path}[{i}]", fix=fix, masked_secrets=masked_secrets)
            for i, v in enumerate(value)
        ]
    if masked_secrets and value == MASKED_SECRET:
        return secret()
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clip(text: str, limit: int = 120) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
