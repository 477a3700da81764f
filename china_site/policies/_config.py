"""The pack's configuration: the stack config (PULUMI_CONFIG, overlaid by ConfigureStack), each policy's
resolved settings, the policies' config schema, and the filing registry (loaded once per process and source;
failures cached and remembered for ``filing-registry-available``)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    StackValidationArgs,
)

from china_site.policies._memo import request_memo
from china_site.policies._values import plain

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry
    from china_site.policy_config import PackSettings
    from china_site.project_dir import ProjectDir

# ---------------------------------------------------------------------------------------------------------------
# Stack config: PULUMI_CONFIG (set by the engine for analyzers), overlaid with ConfigureStack's config when the
# engine sends it (pack.py forwards it here).

_ENGINE_STACK_CONFIG: dict[str, Any] = {"config": None, "secrets": frozenset(), "version": 0}
# The last (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS, engine config version) read, and what it gave: the environment
# is parsed again only when one of them changes (every policy asks on every call).
_STACK_CONFIG_CACHE: dict[str, Any] = {"key": None, "value": None}
_STACK_CONFIG_LOCK = threading.Lock()


def set_engine_stack_config(config: Mapping[str, str], secret_keys: Iterable[str]) -> None:
    with _STACK_CONFIG_LOCK:
        _ENGINE_STACK_CONFIG["config"] = dict(config)
        _ENGINE_STACK_CONFIG["secrets"] = frozenset(secret_keys)
        _ENGINE_STACK_CONFIG["version"] += 1


def _stack_config_keyed() -> tuple[tuple[Any, ...], dict[str, str], frozenset[str]]:
    """(key, stack config, secret keys); the key changes whenever the result may. Raises InputError like
    ``read_stack_config`` (never cached). Read once per request inside a request scope."""
    memo = request_memo()
    if memo is not None and "stack" in memo:
        return memo["stack"]  # type: ignore[no-any-return]
    found = _read_stack_config_keyed()
    if memo is not None:
        memo["stack"] = found
    return found


def _read_stack_config_keyed() -> tuple[tuple[Any, ...], dict[str, str], frozenset[str]]:
    key = (
        os.environ.get("PULUMI_CONFIG"),
        os.environ.get("PULUMI_CONFIG_SECRET_KEYS"),
        _ENGINE_STACK_CONFIG["version"],
    )
    with _STACK_CONFIG_LOCK:
        if _STACK_CONFIG_CACHE["key"] == key:
            config, secrets = _STACK_CONFIG_CACHE["value"]
            return key, config, secrets
    from china_site.policy_config import read_stack_config

    config, secrets = read_stack_config(os.environ)
    with _STACK_CONFIG_LOCK:
        engine = _ENGINE_STACK_CONFIG["config"]
        if engine:
            config = {**config, **engine}
            secrets = secrets | _ENGINE_STACK_CONFIG["secrets"]
        key = (*key[:2], _ENGINE_STACK_CONFIG["version"])
        _STACK_CONFIG_CACHE["key"], _STACK_CONFIG_CACHE["value"] = key, (config, secrets)
    return key, config, secrets


def stack_config() -> tuple[dict[str, str], frozenset[str]]:
    """The stack config and its secret keys (a fresh copy of the config: callers may change it)."""
    _key, config, secrets = _stack_config_keyed()
    return dict(config), secrets


# ---------------------------------------------------------------------------------------------------------------
# The Pulumi project's folder (where a relative registry path starts)

# True in a pack process the engine started (pack.main): Pulumi's language host starts it in the PACK's folder, so the
# project's folder must be found (china_site.project_dir). False in-process (the offline engine runs from the project).
_SERVED_BY_ENGINE: dict[str, bool] = {"value": False}
_PROJECT: dict[str, Any] = {}


def serve_for_engine() -> None:
    _SERVED_BY_ENGINE["value"] = True


def project_location() -> ProjectDir:
    """The project's folder: found once per pack process (the engine runs one project per process); in-process, the
    nearest ``Pulumi.yaml`` above the working folder, as before."""
    from china_site.project_dir import ProjectDir, find_project_dir, locate_project_dir

    if not _SERVED_BY_ENGINE["value"]:
        return ProjectDir(find_project_dir(Path.cwd()), "the working folder")
    key = (os.environ.get("PULUMI_PROJECT"), os.environ.get("CHINA_SITE_PROJECT_DIR"))
    with _SETTINGS_LOCK:
        found = _PROJECT.get("found") if _PROJECT.get("key") == key else None
    if found is None:
        found = locate_project_dir(os.environ, cwd=Path.cwd())
        with _SETTINGS_LOCK:
            _PROJECT["key"], _PROJECT["found"] = key, found
    return found  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------------
# Settings (cached per policy and config)

_SETTINGS: dict[tuple[Any, ...], PackSettings] = {}
_SETTINGS_LOCK = threading.Lock()


def _config_key(config: Mapping[str, Any]) -> Any:
    """A hashable key equal for equal configs: the items themselves when every value is a plain scalar (the usual
    ``filings``/``today``), else canonical JSON. Raises TypeError/ValueError when neither works."""
    items = sorted(config.items())
    if all(type(v) in _KEY_SCALARS for _k, v in items):
        return tuple((k, type(v).__name__, v) for k, v in items)
    return json.dumps(config, sort_keys=True, default=str)


_KEY_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def settings_for(policy: str, config: Mapping[str, Any] | None) -> PackSettings:
    """Resolve one policy's settings; raises ``InputError`` (one line) on bad config."""
    stack_key, stack, secrets = _stack_config_keyed()
    own = plain(config or {})
    key: tuple[Any, ...] | None
    try:
        # The stack config enters the key as the strings it was read from (no re-serialising on every call).
        key = (policy, _config_key(own), stack_key)
    except (TypeError, ValueError):
        key = None
    with _SETTINGS_LOCK:
        cached = _SETTINGS.get(key) if key else None
    if cached is not None:
        return cached
    from china_site.policy_config import resolve_settings

    project = project_location()
    settings = resolve_settings(
        own,
        policy=policy,
        stack_config=stack,
        secret_keys=secrets,
        project_dir=project.path,
        project_unknown=None if project.path is not None else project.how,
    )
    if key:
        with _SETTINGS_LOCK:
            _SETTINGS[key] = settings
    return settings


# ---------------------------------------------------------------------------------------------------------------
# The registry: loaded once per process and source; failures cached and remembered for filing-registry-available.

_REGISTRIES: dict[str, FilingRegistry | Exception] = {}
_FAILED_SINCE_STACK_CHECK: dict[str, tuple[str, str, str, Exception]] = {}  # source → (source, display, origin, error)
_REGISTRY_LOCK = threading.Lock()


def registry_for(settings: PackSettings) -> FilingRegistry | Exception:
    """The registry, or the exception that made it unusable (never raises)."""
    source = settings.filings
    if settings.unresolved is not None:
        failure = ProjectDirUnknown(settings.filings_display, settings.unresolved)
        with _REGISTRY_LOCK:
            _FAILED_SINCE_STACK_CHECK[source] = (source, settings.filings_display, settings.filings_origin, failure)
        return failure
    with _REGISTRY_LOCK:
        cached = _REGISTRIES.get(source)
        if cached is None:
            try:
                from china_site.filings import load_registry

                cached = load_registry(source)
            except Exception as exc:  # RegistryError, or anything else: fail closed, never crash
                cached = exc
            _REGISTRIES[source] = cached
        if isinstance(cached, Exception):
            _FAILED_SINCE_STACK_CHECK[source] = (source, settings.filings_display, settings.filings_origin, cached)
    return cached


def reset_run_state() -> None:
    """Start over as a fresh pack process would (the offline engine calls this before each check): forget the loaded
    registries, the failures not yet reported, the resolved settings and the stack config read."""
    take_registry_failures()
    with _REGISTRY_LOCK:
        _REGISTRIES.clear()
    with _SETTINGS_LOCK:
        _SETTINGS.clear()
        _PROJECT.clear()
    with _STACK_CONFIG_LOCK:
        _STACK_CONFIG_CACHE["key"] = _STACK_CONFIG_CACHE["value"] = None


def take_registry_failures() -> list[tuple[str, str, str, Exception]]:
    """Failed sources seen by any policy since the last call (the stack policy reports them, then forgets)."""
    with _REGISTRY_LOCK:
        failures = list(_FAILED_SINCE_STACK_CHECK.values())
        _FAILED_SINCE_STACK_CHECK.clear()
    return failures


class ProjectDirUnknown(Exception):
    """A relative registry path in a pack whose Pulumi project folder cannot be found (see china_site.project_dir)."""

    def __init__(self, display: str, reason: str) -> None:
        self.display, self.reason = display, reason
        super().__init__(f"{display}: the Pulumi project's folder is unknown ({reason})")


def registry_failure_message(source: str, display: str, origin: str, error: Exception) -> str:
    from china_site.errors import ChinaSiteError
    from china_site.rules import registry_project_unknown, registry_unavailable

    if isinstance(error, ProjectDirUnknown):
        message = f"{registry_project_unknown(display, error.reason).message}\nRegistry source: {origin}"
        return redact_source(message, source, display)

    if not isinstance(error, ChinaSiteError):
        error = RuntimeError(f"{type(error).__name__} while loading the registry")
    message = f"{registry_unavailable(error, display).message}\nRegistry source: {origin}"
    return redact_source(message, source, display)


def redact_source(message: str, source: str, display: str) -> str:
    """Hide a registry source that comes from a secret stack config key."""
    return message.replace(source, display) if display != source and source else message


def _registry_skip(args: ResourceValidationArgs | StackValidationArgs, policy: str) -> None:
    args.not_applicable(
        f"filing registry unavailable: {policy} checked nothing; filing-registry-available reports the failure"
    )


# ---------------------------------------------------------------------------------------------------------------
# Policy builders


def config_schema() -> PolicyConfigSchema:
    """Every policy's config schema (a copy each: the SDK owns what it is given). From the pydantic-free
    ``china_site.policy_schema``: every policy module calls this at import, and pydantic (loaded by
    ``china_site.policy_config`` on the first call) would add ~100 ms to the pack's start-up."""
    from china_site.policy_schema import CONFIG_SCHEMA

    return PolicyConfigSchema(properties=json.loads(json.dumps(CONFIG_SCHEMA)))
