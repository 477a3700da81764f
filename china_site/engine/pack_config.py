"""Policy pack configuration: Pulumi's ``--policy-pack-config`` format, read and reconciled as the engine does.

:func:`load_policy_config` / :func:`policy_entries` read the file (version 2 or unversioned; ESC ``environments``
checked but not opened offline, ``exceptions`` not applied — a note on stderr says so; :func:`current_backend` tells
whether ``environments`` could work at all). :func:`reconcile_policy_config` is ``ReconcilePolicyPackConfig`` +
``validatePolicyPackConfig``: schema defaults, then the pack's initial config, then the file (``"all"`` sets every
enforcement level first), validated against each policy's ``config_schema`` with ``jsonschema``. Unlike the engine, a
key naming no policy of the pack is an error here (a typo must not silently do nothing). The result,
:class:`PolicyConfig` per policy, is what :func:`china_site.engine.wire.configure_request` sends.

Nothing heavy is imported at module import: ``jsonschema`` and pydantic load inside functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

from china_site.errors import ChinaSiteError, InputError

if TYPE_CHECKING:
    from pulumi_policy import Policy

EnforcementName = Literal["advisory", "mandatory", "remediate", "disabled"]
ENFORCEMENT_LEVELS: tuple[EnforcementName, ...] = ("advisory", "mandatory", "remediate", "disabled")

_CONFIG_FIX = "write the policy config in Pulumi's --policy-pack-config JSON format"


@dataclass(frozen=True)
class PolicyConfig:
    """A policy's reconciled configuration: its enforcement level and its config properties."""

    enforcement: EnforcementName
    properties: dict[str, Any] | None = None


class PolicyRunError(ChinaSiteError):
    """A policy raised an exception (a bug in the pack, not a finding). Fail closed: the run stops.

    Defined here because a policy whose ``config_schema`` is not a valid JSON schema raises it too (a pack bug found
    while reconciling the config); :mod:`china_site.engine.driver` raises it for a policy that fails and re-exports it.
    """


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
        backend = current_backend()
        if backend is not None and backend.startswith("file://"):
            _note(
                f'{source}: "environments" need Pulumi Cloud (ESC), but the backend is {backend}: '
                f'`pulumi preview --policy-pack-config {source}` fails there. Remove "environments", or '
                "`pulumi login` to Pulumi Cloud / 策略配置中的 environments 需要 Pulumi Cloud（ESC），文件后端不支持。",
                level="warning",
            )


def _note(message: str, level: str = "note") -> None:
    import sys

    print(f"china-site: {level}: {message}", file=sys.stderr)


def current_backend(environ: Mapping[str, str] | None = None) -> str | None:
    """The backend URL the Pulumi CLI would use: ``PULUMI_BACKEND_URL``, else the ``current`` login in
    ``$PULUMI_HOME/credentials.json`` (default ``~/.pulumi``); None when neither says (a project's own
    ``backend.url`` in Pulumi.yaml is not read here)."""
    from pathlib import Path

    env = os.environ if environ is None else environ
    url = env.get("PULUMI_BACKEND_URL", "").strip()
    if url:
        return url
    home = Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        current = json.loads((home / "credentials.json").read_text(encoding="utf-8")).get("current")
    except (OSError, ValueError, AttributeError):
        return None
    return current if isinstance(current, str) and current else None


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
    from china_site.policy_config import did_you_mean

    known = set((policy.config_schema.properties or {}) if policy.config_schema else ())
    for key in props:
        if key not in known:
            raise InputError(
                "unknown key",
                where=f"{source}, policy '{policy.name}', field '{key}'",
                fix=f"{did_you_mean(key, known)}remove it or correct its spelling; the keys are: "
                f"{', '.join(sorted(known))}",
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
