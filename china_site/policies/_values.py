"""Engine values → plain values: the SDK's proxies unwrapped, secrets revealed for reading, unknowns →
``china_site.exposure.UNKNOWN``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# ---------------------------------------------------------------------------------------------------------------
# Engine values → plain values


def _proxy_types() -> tuple[type, ...]:
    from pulumi_policy.proxy import _DictProxy, _ListProxy
    from pulumi_policy.secret import _DictSecretsProxy, _ListSecretsProxy

    return (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)


_PROXIES: Final = _proxy_types()
_PROXY_KINDS: Final = frozenset(_PROXIES)


_SCALARS: Final = frozenset({int, float, bool, type(None)})
_PLAIN_DEPS: dict[str, Any] = {}  # Secret, UNKNOWN, is_unknown and the raw unknown sentinels, bound on first use


def _plain_deps() -> dict[str, Any]:
    if not _PLAIN_DEPS:
        from pulumi_policy import Secret

        from china_site.exposure import UNKNOWN, is_unknown
        from china_site.exposure_values import _UNKNOWN_SENTINELS

        _PLAIN_DEPS.update(Secret=Secret, UNKNOWN=UNKNOWN, is_unknown=is_unknown, sentinels=_UNKNOWN_SENTINELS)
    return _PLAIN_DEPS


def plain(value: object, _depth: int = 0) -> Any:
    """A plain copy of an engine value: proxies unwrapped, secrets revealed for reading, unknowns → UNKNOWN.

    Reading through the SDK's unknown-checking proxy would raise at the first unknown; this never does.
    """
    deps = _PLAIN_DEPS or _plain_deps()
    return _plain(value, _depth, deps)


def _plain(value: object, depth: int, deps: dict[str, Any]) -> Any:
    # The same steps as always (proxy unwrapped once, Secret, Mapping, list/tuple, unknown), with the exact
    # built-in types the SDK's deserialiser produces tested first: ``isinstance`` against the SDK's proxies and
    # ``Mapping`` goes through ABCMeta and dominated the time.
    if depth > 64:
        return None
    kind = type(value)
    if kind is str:
        return deps["UNKNOWN"] if value in deps["sentinels"] else value
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind is list:
        return [_plain(v, depth + 1, deps) for v in value]  # type: ignore[attr-defined]
    if kind in _PROXY_KINDS or isinstance(value, _PROXIES):
        value = value["__target"]  # type: ignore[index]
        kind = type(value)
        if kind is dict:
            return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}  # type: ignore[attr-defined]
        if kind is list:
            return [_plain(v, depth + 1, deps) for v in value]  # type: ignore[attr-defined]
    if isinstance(value, deps["Secret"]):
        return _plain(value.value, depth + 1, deps)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1, deps) for v in value]
    if deps["is_unknown"](value):
        return deps["UNKNOWN"]
    return value


def provider_props(provider: object) -> dict[str, Any] | None:
    props = getattr(provider, "props", None)
    return plain(props) if props is not None else None


def explicit_provider(provider: object) -> bool:
    """An explicit ``alicloud.Provider`` (not the engine's default one): its region never comes from stack config."""
    from china_site.exposure import is_default_provider

    return provider is not None and not is_default_provider(getattr(provider, "name", None))
