"""A CDN/DCDN domain's origin in the same stack serves that domain too (DOMAIN.md, Amendments 2026-12-05, rule 2).

A CDN or DCDN domain needs only a valid MIIT filing from any provider (``data/access_providers.yaml``), but its
back-to-origin requests carry the domain to the origin. Where that origin is an Alibaba Cloud resource with a public
address on the mainland (an ECS public IP, an EIP, an internet load balancer: a product that needs Alibaba Cloud as
access provider), it serves the domain itself: the filing must list Alibaba Cloud (新增接入). A private OSS bucket
behind the CDN does not (CDN reads it through private-bucket back-to-source), so buckets are never linked here.

:func:`link_cdn_origins` finds, in a stack, each (CDN domain, origin resource) pair: a source whose ``content`` is
an address or a load balancer's DNS name of a resource of the stack, or — when the content is unknown at preview —
a resource the ``sources`` property depends on. The origin's exposure (its region, tags, product) gets the CDN's
domains; the pack's ``dns-linked-exposure`` evaluates it and reports on the origin. Pure: no Pulumi imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from china_site.access import needs_provider_access
from china_site.exposure import RESOURCE_TYPES, ResourceView, is_unknown, view_exposure
from china_site.exposure_links import _merged, _norm_value
from china_site.exposure_values import _reveal
from china_site.model import Exposure

__all__ = ["CDN_SOURCE_TYPES", "link_cdn_origins"]

# CDN/DCDN domain types and the wire property holding their origins (a list of {content, type, port, …}).
CDN_SOURCE_TYPES: Final[Mapping[str, str]] = {
    "alicloud:cdn/domainNew:DomainNew": "sources",
    "alicloud:dcdn/domain:Domain": "sources",
}


def _texts(value: object, keys: Sequence[str]) -> list[str]:
    out: list[str] = []
    value = _reveal(value)
    if not isinstance(value, Mapping):
        return out
    for key in keys:
        text = _reveal(value.get(key))
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return out


def _origin_index(resources: Sequence[ResourceView]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Addresses and DNS names of the stack's resources whose product needs Alibaba Cloud access (buckets excluded)."""
    addresses: dict[str, list[int]] = {}
    names: dict[str, list[int]] = {}
    for index, view in enumerate(resources):
        spec = RESOURCE_TYPES.get(view.type)
        if spec is None or spec.product == "oss" or not needs_provider_access(spec.product):
            continue
        merged = _merged(view)
        for text in _texts(merged, spec.addresses):
            addresses.setdefault(_norm_value(text, "A"), []).append(index)
        for text in _texts(merged, spec.cnames):
            names.setdefault(_norm_value(text, "CNAME"), []).append(index)
    return addresses, names


def _sources(view: ResourceView, key: str) -> tuple[list[str], bool]:
    """(known source contents, whether any source is unknown at preview)."""
    raw = _reveal(_merged(view).get(key))
    if raw is None:
        return [], False
    if is_unknown(raw):
        return [], True
    items: Iterable[object] = raw if isinstance(raw, list | tuple) else [raw]
    contents: list[str] = []
    unknown = False
    for item in items:
        item = _reveal(item)
        content = _reveal(item.get("content")) if isinstance(item, Mapping) else item
        if is_unknown(content):
            unknown = True
        elif isinstance(content, str) and content.strip():
            contents.append(content.strip())
    return contents, unknown


def _dependency_targets(
    view: ResourceView, key: str, by_urn: Mapping[str, int], resources: Sequence[ResourceView]
) -> list[int]:
    deps = view.property_dependencies
    urns: Any = deps.get(key) if isinstance(deps, Mapping) else None
    if not isinstance(urns, Sequence) or isinstance(urns, str):
        return []
    out: list[int] = []
    for urn in urns:
        index = by_urn.get(urn) if isinstance(urn, str) else None
        if index is None:
            continue
        spec = RESOURCE_TYPES.get(resources[index].type)
        if spec is not None and spec.product != "oss" and needs_provider_access(spec.product):
            out.append(index)
    return out


def link_cdn_origins(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, ResourceView, Exposure]]:
    """``(cdn domain, origin, exposure)`` for each CDN/DCDN domain of the stack whose origin is a public mainland
    resource of the stack hosted by Alibaba Cloud; the exposure is the origin's, serving the CDN's domains."""
    if not any(view.type in CDN_SOURCE_TYPES for view in resources):
        return []
    addresses, names = _origin_index(resources)
    by_urn = {view.urn: i for i, view in enumerate(resources) if isinstance(view.urn, str)}
    out: list[tuple[ResourceView, ResourceView, Exposure]] = []
    for view in resources:
        key = CDN_SOURCE_TYPES.get(view.type)
        if key is None:
            continue
        cdn = view_exposure(view, _merged(view), stack_config)
        if cdn is None or not cdn.domains:
            continue
        contents, unknown = _sources(view, key)
        targets: list[int] = []
        for content in contents:
            targets += addresses.get(_norm_value(content, "A"), [])
            targets += names.get(_norm_value(content, "CNAME"), [])
        if unknown:
            targets += _dependency_targets(view, key, by_urn, resources)
        for index in dict.fromkeys(targets):
            origin = resources[index]
            exposure = view_exposure(origin, _merged(origin), stack_config)
            if exposure is None or not exposure.public or exposure.area != "mainland":
                continue
            out.append((view, origin, replace(exposure, domains=cdn.domains)))
    return out
