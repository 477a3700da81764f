"""A resource type the exposure data does not know (``china_site/data/exposure_types.yaml``: neither ``exposing``
nor ``reviewed``) → a finding. Pure: no Pulumi imports.

``pyproject.toml`` accepts any pulumi-alicloud 4.x, so a newer provider can bring a type no one reviewed. It never
passes silently: on the mainland (or an unknown region, read as mainland), a type whose inputs *look* public — a
wire name containing one of the data's ``unreviewed.keys`` with a value that is not off — gets a **mandatory**
finding (``unreviewed-exposure``): it may be a second path to the internet the pack cannot judge. Every other
unreviewed type gets an **advisory** one (``unreviewed-type``), so a harmless new type (a log project, a role) is
named without blocking the deploy. Both levels are the policies' own ``enforcementLevel`` and can be changed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from china_site.model import Area, Finding

__all__ = [
    "UNREVIEWED_EXPOSURE",
    "UNREVIEWED_TYPE",
    "Unreviewed",
    "is_unreviewed",
    "public_looking",
    "reviewed_version",
    "unreviewed_finding",
]

UNREVIEWED_EXPOSURE: Final = "unreviewed-exposure"
UNREVIEWED_TYPE: Final = "unreviewed-type"

_PROVIDER_PREFIX: Final = "pulumi:providers:"
_MAX_DEPTH: Final = 6
_MAX_SHOWN: Final = 3


@dataclass(frozen=True)
class _Hints:
    keys: tuple[str, ...]
    except_: frozenset[str]
    off: frozenset[str]


@functools.cache
def _hints() -> _Hints:
    from china_site.exposure import ExposureDataError, exposure_data

    spec = exposure_data().get("unreviewed")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("keys"), list):
        raise ExposureDataError("china_site/data/exposure_types.yaml: unreviewed.keys is missing")
    lower = lambda items: tuple(str(i).lower() for i in items or ())  # noqa: E731
    return _Hints(lower(spec["keys"]), frozenset(lower(spec.get("except"))), frozenset(lower(spec.get("off_values"))))


def reviewed_version() -> str:
    """The pulumi-alicloud version the data was reviewed against."""
    from china_site.exposure import exposure_data

    provider = exposure_data().get("provider") or {}
    return str(provider.get("version", "?")) if isinstance(provider, Mapping) else "?"


@functools.cache
def _known() -> frozenset[str]:
    from china_site.exposure import RESOURCE_TYPES, reviewed_types

    return frozenset(RESOURCE_TYPES) | frozenset(reviewed_types())


def is_unreviewed(type_token: str) -> bool:
    """An Alibaba Cloud resource type (``alicloud:…``) in neither list of the data. Providers are not resources."""
    if not isinstance(type_token, str) or not type_token.startswith("alicloud:"):
        return False
    from china_site.exposure import RESOURCE_TYPES

    if type_token in RESOURCE_TYPES:  # the common case: no parse of the reviewed list
        return False
    return type_token not in _known()


def _is_off(value: object) -> bool:
    from china_site.exposure import UNKNOWN, _reveal

    value = _reveal(value)
    if value is UNKNOWN:
        return False  # unknown at preview: the stricter reading
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value <= 0
    if isinstance(value, str):
        return not value.strip() or value.strip().lower() in _hints().off
    if isinstance(value, Mapping | list | tuple):
        return not value
    return False


def public_looking(props: Mapping[str, Any], _prefix: str = "", _depth: int = 0) -> list[str]:
    """The wire paths of inputs that look public (see the module docstring), at most a few levels deep."""
    from china_site.exposure import _reveal

    if _depth > _MAX_DEPTH or not isinstance(props, Mapping):
        return []
    hints = _hints()
    found: list[str] = []
    try:
        items = list(props.items())
    except Exception:
        return []
    for key, raw in items:
        name = f"{_prefix}{key}"
        lowered = str(key).lower()
        value = _reveal(raw)
        if lowered not in hints.except_ and any(k in lowered for k in hints.keys) and not _is_off(value):
            found.append(name)
            continue
        items_ = value if isinstance(value, list | tuple) else [value]
        for item in items_:
            if isinstance(item, Mapping):
                found += public_looking(item, f"{name}.", _depth + 1)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Unreviewed:
    """An unreviewed type's finding and the pack policy that reports it."""

    policy: str
    finding: Finding


def unreviewed_finding(
    type_token: str,
    props: Mapping[str, Any],
    *,
    area: Area,
    region: str | None,
    provider_version: str | None = None,
    where: str = "",
) -> Unreviewed | None:
    """The finding for a type the data does not know, or None for a known (or non-Alibaba Cloud) type.

    ``where``: how the resource was found, for the message (e.g. "in the template of ros.Stack 'x'")."""
    if not is_unreviewed(type_token):
        return None
    looks = public_looking(props) if isinstance(props, Mapping) else []
    mandatory = bool(looks) and area == "mainland"
    policy = UNREVIEWED_EXPOSURE if mandatory else UNREVIEWED_TYPE
    reviewed = reviewed_version()
    theirs = f"; this resource's provider is {provider_version}" if provider_version else ""
    place = f"{region or 'an unknown region (read as mainland)'}"
    shown = ", ".join(looks[:_MAX_SHOWN]) + (" …" if len(looks) > _MAX_SHOWN else "")
    inputs = f" Inputs that look public: {shown}." if looks else ""
    cn_inputs = f"疑似公网相关的输入：{shown}。" if looks else ""
    message_en = (
        f"{type_token}{where} is not in china-site's exposure data (reviewed against pulumi-alicloud "
        f"{reviewed}{theirs}), so the pack cannot tell whether it exposes a site in {place}.{inputs}"
    )
    message_zh = (
        f"资源类型 {type_token} 不在 china-site 的暴露面数据中（按 pulumi-alicloud {reviewed} 审核），"
        f"无法判断它是否在中国内地对公网提供服务。{cn_inputs}"
    )
    fix = (
        f"use a china-site release reviewed against your pulumi-alicloud, or pin pulumi-alicloud to {reviewed}; "
        f"after checking the type yourself, waive it (a `waivers` entry for {policy} with a reason and an expiry) "
        f"or set {policy}'s enforcementLevel; to add it, classify it in china_site/data/exposure_types.yaml"
    )
    return Unreviewed(
        policy,
        Finding(
            policy=policy,
            enforcement="mandatory" if mandatory else "advisory",
            message_en=message_en,
            message_zh=message_zh,
            fix=fix,
            resource=type_token,
        ),
    )


def unreviewed_in(types: Sequence[str]) -> list[str]:
    """The unreviewed types among ``types`` (in order, once each)."""
    return [t for t in dict.fromkeys(types) if is_unreviewed(t)]
