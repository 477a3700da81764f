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
    "unreviewed_findings",
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
    scope_keys: tuple[str, ...] = ()
    mainland_scopes: frozenset[str] = frozenset()


@functools.cache
def _hints() -> _Hints:
    from china_site.exposure import ExposureDataError, exposure_data

    spec = exposure_data().get("unreviewed")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("keys"), list):
        raise ExposureDataError("china_site/data/exposure_types.yaml: unreviewed.keys is missing")
    lower = lambda items: tuple(str(i).lower() for i in items or ())  # noqa: E731
    scopes = spec.get("mainland_scopes") or {}
    return _Hints(
        lower(spec["keys"]),
        frozenset(lower(spec.get("except"))),
        frozenset(lower(spec.get("off_values"))),
        lower(scopes.get("keys")),
        frozenset(lower(scopes.get("values"))),
    )


def reviewed_version() -> str:
    """The pulumi-alicloud version the data was reviewed against."""
    from china_site.exposure import exposure_data

    provider = exposure_data().get("provider") or {}
    return str(provider.get("version", "?")) if isinstance(provider, Mapping) else "?"


@functools.cache
def _known() -> frozenset[str]:
    """Every type of the data. The reviewed list (two thirds of the file) is read by lines, not parsed as YAML: the
    pack pays this on its first non-exposing type of every run (``tests/test_unreviewed.py`` checks that it equals
    the parsed list)."""
    import re

    from china_site.exposure import RESOURCE_TYPES
    from china_site.exposure_data import _REVIEWED_KEY, _data_text

    _, _, reviewed = _data_text().partition(_REVIEWED_KEY)
    listed = re.findall(r"^[\s:]*- (alicloud:\S+)\s*$", reviewed, re.M)
    return frozenset(RESOURCE_TYPES) | frozenset(listed)


def is_unreviewed(type_token: str) -> bool:
    """An Alibaba Cloud resource type (``alicloud:…``) in neither list of the data. Providers are not resources."""
    if not isinstance(type_token, str) or not type_token.startswith("alicloud:"):
        return False
    from china_site.exposure import RESOURCE_TYPES

    if type_token in RESOURCE_TYPES:  # the common case: no parse of the reviewed list
        return False
    return type_token not in _known()


def _is_off(value: object) -> bool:
    from china_site.exposure import UNKNOWN
    from china_site.exposure_values import _reveal

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
    from china_site.exposure_values import _reveal

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


def serves_mainland_nodes(props: Mapping[str, Any]) -> bool:
    """A CDN-like scope input (``scope: domestic``/``global``) on an unreviewed type: it serves mainland nodes
    whatever its API region. An unknown scope reads as mainland (the stricter reading)."""
    from china_site.exposure import UNKNOWN
    from china_site.exposure_values import _reveal

    hints = _hints()
    try:
        items = list(props.items())
    except Exception:
        return False
    for key, raw in items:
        if not any(k in str(key).lower() for k in hints.scope_keys):
            continue
        value = _reveal(raw)
        if value is UNKNOWN or (isinstance(value, str) and value.strip().lower() in hints.mainland_scopes):
            return True
    return False


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
    mandatory = bool(looks) and (area == "mainland" or serves_mainland_nodes(props))
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


def needs_check(type_token: str) -> bool:
    """A type the unreviewed policies look at: not in the data, or a template type (its template may be unreadable
    or create unmapped types)."""
    from china_site.templates import is_template_type

    return is_unreviewed(type_token) or (isinstance(type_token, str) and is_template_type(type_token))


def placed(type_token: str, props: Mapping[str, Any], area: Area, region: str | None) -> tuple[Area, str | None]:
    """Where a template type creates its resources: its region property (a stack instance's region, the strictest
    of a list), else ``area``/``region`` (the provider's)."""
    from china_site.exposure import UNKNOWN
    from china_site.exposure_values import _get, _text
    from china_site.regions import classify
    from china_site.templates import template_region_property

    key = template_region_property(type_token)
    if key is None:
        return area, region
    value = _get(props, key)
    if value is UNKNOWN:
        return "mainland", None
    values = value if isinstance(value, list | tuple) else [value]
    infos = [classify(text) for text in (_text(v) for v in values) if text]
    if not infos:
        return area, region
    best = min(infos, key=lambda i: {"mainland": 0, "hongkong": 1}.get(i.area, 2))
    return best.area, best.region_id


def unreviewed_findings(
    type_token: str,
    props: Mapping[str, Any],
    *,
    area: Area,
    region: str | None,
    provider_version: str | None = None,
    name: str = "",
) -> list[Unreviewed]:
    """Every unreviewed finding of one resource: its type not in the data; or, for a template type, a template that
    cannot be read, and each ``ALIYUN::*`` resource of it that the ROS table does not map."""
    from china_site.templates import read_template

    single = unreviewed_finding(type_token, props, area=area, region=region, provider_version=provider_version)
    if single is not None:
        return [single]
    template = read_template(type_token, props) if isinstance(props, Mapping) else None
    if template is None:
        return []
    area, region = placed(type_token, props, area, region)
    place = region or "an unknown region (read as mainland)"
    subject = f"{type_token} '{name}'" if name else type_token
    mandatory = area == "mainland"
    out: list[Unreviewed] = []
    if template.unreadable is not None:
        policy = UNREVIEWED_EXPOSURE if mandatory else UNREVIEWED_TYPE
        out.append(
            Unreviewed(
                policy,
                Finding(
                    policy=policy,
                    enforcement="mandatory" if mandatory else "advisory",
                    message_en=(
                        f"{subject} creates resources from a template that cannot be read: {template.unreadable}. "
                        f"What it creates in {place} cannot be judged, so it is not approved."
                    ),
                    message_zh=(
                        f"{subject} 的模板无法读取（{template.unreadable}），"
                        "无法判断其在中国内地创建的资源是否对公网开放。"
                    ),
                    fix=(
                        "give the template inline (templateBody: ROS JSON or YAML, parameters with known values) so "
                        f"each resource it creates is checked; or review it yourself and waive it (a `waivers` entry "
                        f"for {policy} with a reason and an expiry)"
                    ),
                    resource=type_token,
                ),
            )
        )
    for resource in template.unmapped:
        looks = public_looking(resource.props)
        level_mandatory = mandatory and bool(looks)
        policy = UNREVIEWED_EXPOSURE if level_mandatory else UNREVIEWED_TYPE
        shown = ", ".join(looks[:_MAX_SHOWN]) + (" …" if len(looks) > _MAX_SHOWN else "")
        inputs = f" Properties that look public: {shown}." if looks else ""
        out.append(
            Unreviewed(
                policy,
                Finding(
                    policy=policy,
                    enforcement="mandatory" if level_mandatory else "advisory",
                    message_en=(
                        f"{resource.ros_type} (resource {resource.logical_id} in the template of {subject}) is not in "
                        f"the ROS table of china-site's exposure data, so the pack cannot tell whether it exposes a "
                        f"site in {place}.{inputs}"
                    ),
                    message_zh=(
                        f"{subject} 模板中的 {resource.ros_type}（{resource.logical_id}）不在 china-site 的 ROS "
                        "类型表中，无法判断它是否在中国内地对公网提供服务。"
                    ),
                    fix=(
                        "map the ROS type to its pulumi-alicloud type (templates.ros in "
                        "china_site/data/exposure_types.yaml) or list it as reviewed; or review it yourself and waive "
                        f"it (a `waivers` entry for {policy} with a reason and an expiry)"
                    ),
                    resource=resource.ros_type,
                ),
            )
        )
    return out
