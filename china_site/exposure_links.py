"""The stack-level graph: DNS records (:func:`dns_link`), the stack's resources as :class:`ResourceView`, and what
ties a name or a public address to a resource of the stack — a record pointing at an address or CNAME
(:func:`link_stack`), an ``oss.BucketAcl``/``oss.BucketPolicy`` making a bucket public (:func:`link_buckets`), an EIP
association or IPv6 bandwidth (:func:`link_eip_associations`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from china_site.exposure_data import RESOURCE_TYPES
from china_site.exposure_regions import _region
from china_site.exposure_resource import _clean_host, _dedupe, exposure_from_resource
from china_site.exposure_values import UNKNOWN, _get, _plain, _reveal, _text, is_unknown
from china_site.model import Exposure

_DNS_TYPES: Final = frozenset({"alicloud:dns/alidnsRecord:AlidnsRecord", "alicloud:dns/record:Record"})
_LINKED_RECORD_TYPES: Final = frozenset({"A", "AAAA", "CNAME"})


@dataclass(frozen=True)
class DnsLink:
    """A DNS record that can tie a host name to a resource: ``value`` is None when unknown at preview."""

    fqdn: str
    record_type: Literal["A", "AAAA", "CNAME"]
    value: str | None


def _norm_value(value: str, record_type: str) -> str:
    text = value.strip().rstrip(".").lower()
    if record_type in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(text).compressed
        except ValueError:
            return text
    return text


def dns_link(props: Mapping[str, Any], *, type_token: str | None = None) -> DnsLink | None:
    """The link an Alibaba Cloud DNS record makes (A/AAAA/CNAME), or None.

    ``alicloud:dns/alidnsRecord:AlidnsRecord`` (``domainName``, ``rr``, ``type``, ``value``) and the older
    ``alicloud:dns/record:Record`` (``name``, ``hostRecord``, ``type``, ``value``); without ``type_token`` the shape
    is recognised by its keys. ``rr`` ``@`` (or empty) is the apex. A record whose name is unknown links nothing.
    """
    if not isinstance(props, Mapping):
        return None
    if type_token == "alicloud:dns/record:Record" or (
        type_token is None and "hostRecord" in props and "domainName" not in props
    ):
        zone_key, rr_key, token = "name", "hostRecord", "alicloud:dns/record:Record"
    else:
        zone_key, rr_key, token = "domainName", "rr", "alicloud:dns/alidnsRecord:AlidnsRecord"
    from china_site.exposure_stack import record_disabled

    if record_disabled(type_token or token, props):
        return None  # a disabled record resolves nothing
    record_type = _text(_get(props, "type"))
    if record_type is None or record_type.upper() not in _LINKED_RECORD_TYPES:
        return None
    record_type = record_type.upper()
    zone = _get(props, zone_key)
    rr = _get(props, rr_key)
    if zone is UNKNOWN or rr is UNKNOWN:
        return None
    zone_text = _text(zone)
    if zone_text is None:
        return None
    zone_text = zone_text.rstrip(".")
    rr_text = _text(rr) or "@"
    fqdn = _clean_host(zone_text if rr_text == "@" else f"{rr_text.rstrip('.')}.{zone_text}")
    if not fqdn:
        return None
    value = _get(props, "value")
    if value is UNKNOWN:
        return DnsLink(fqdn=fqdn, record_type=record_type, value=None)  # type: ignore[arg-type]
    value_text = _text(value)
    if value_text is None:
        return None
    return DnsLink(fqdn=fqdn, record_type=record_type, value=_norm_value(value_text, record_type))  # type: ignore[arg-type]


@dataclass
class ResourceView:
    """One resource of a stack as an adapter sees it: wire-named inputs (``props``) and, after deploy, outputs.

    ``dependencies`` / ``property_dependencies`` (URNs) let a record whose value is unknown at preview still be
    linked to the resource its value comes from.
    """

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    provider_props: Mapping[str, Any] | None
    outputs: Mapping[str, Any] | None = None
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] | None = None
    explicit_provider: bool = False  # managed by an explicit alicloud.Provider (see is_default_provider)


def view_exposure(
    view: ResourceView, props: Mapping[str, Any], stack_config: Mapping[str, str] | None
) -> Exposure | None:
    """:func:`exposure_from_resource` for one resource of a stack, read with ``props`` (usually its merged props)."""
    return exposure_from_resource(
        view.type,
        props,
        name=view.name,
        provider_props=view.provider_props,
        stack_config=stack_config,
        explicit_provider=view.explicit_provider,
    )


def _merged(view: ResourceView) -> Mapping[str, Any]:
    """Inputs overlaid with known outputs (outputs are where addresses live after deploy)."""
    merged = _plain(view.props) if isinstance(view.props, Mapping) else {}
    if view.outputs is view.props and type(merged) is dict and type(view.props) is dict:
        return merged  # overlaying a plain dict with itself changes nothing
    if isinstance(view.outputs, Mapping):
        for key, value in _plain(view.outputs).items():
            if key not in merged or not is_unknown(_reveal(value)):
                merged[key] = value
    return merged


def _known_texts(view: ResourceView, keys: Sequence[str]) -> list[str]:
    out: list[str] = []
    for source in (view.props, view.outputs):
        if not isinstance(source, Mapping):
            continue
        for key in keys:
            text = _text(_get(source, key))
            if text and not is_unknown(text):
                out.append(text)
    return out


def _oss_endpoints(view: ResourceView, merged: Mapping[str, Any], stack_config: Mapping[str, str] | None) -> list[str]:
    """``<bucket>.oss-<region>.aliyuncs.com`` (and ``<bucket>.<extranetEndpoint>``) for a bucket."""
    bucket = _text(_get(merged, "bucket"))
    if not bucket or is_unknown(bucket):
        return []
    hosts: list[str] = []
    endpoint = _text(_get(merged, "extranetEndpoint"))
    if endpoint and not is_unknown(endpoint):
        hosts.append(f"{bucket}.{endpoint}")
    region, _, _ = _region(view.provider_props, stack_config, view.explicit_provider)
    location = _text(_get(merged, "location"))
    if region is None and location and location.startswith("oss-"):
        region = location[4:]
    if region:
        hosts.append(f"{bucket}.oss-{region}.aliyuncs.com")
    return hosts


_OSS_BUCKET: Final = "alicloud:oss/bucket:Bucket"


def link_stack(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, Exposure]]:
    """Exposures found through DNS: each resource an A/AAAA or CNAME record points at, with the record's FQDN(s).

    Only linked resources are returned (one entry per resource, all its linked names merged after the names it
    shows alone); what a resource shows alone is :func:`exposure_from_resource`'s job. A record whose value is
    unknown at preview links to the covered resources its ``value`` depends on. Resources that are not public
    (an intranet load balancer) are left out, except an OSS bucket: a name pointed at its endpoint is meant to
    serve it.
    """
    address_index: dict[str, list[int]] = {}
    cname_index: dict[str, list[int]] = {}
    merged_props: dict[int, Mapping[str, Any]] = {}
    by_urn: dict[str, int] = {}
    for index, view in enumerate(resources):
        spec = RESOURCE_TYPES.get(view.type)
        if spec is None:
            continue
        if isinstance(view.urn, str):
            by_urn[view.urn] = index
        merged = _merged(view)
        merged_props[index] = merged
        for text in _known_texts(view, spec.addresses):
            address_index.setdefault(_norm_value(text, "A"), []).append(index)
        cnames = _known_texts(view, spec.cnames)
        if view.type == _OSS_BUCKET:
            cnames += _oss_endpoints(view, merged, stack_config)
        for text in cnames:
            cname_index.setdefault(_norm_value(text, "CNAME"), []).append(index)

    linked: dict[int, list[str]] = {}
    for index, view in enumerate(resources):
        if view.type not in _DNS_TYPES:
            continue
        known = merged_props.get(index)
        link = dns_link(_merged(view) if known is None else known, type_token=view.type)
        if link is None:
            continue
        targets: Iterable[int]
        if link.value is not None:
            index_for = cname_index if link.record_type == "CNAME" else address_index
            targets = index_for.get(link.value, ())
        else:
            targets = _dependency_targets(view, resources, by_urn, link.record_type)
        for target in dict.fromkeys(targets):
            names = linked.setdefault(target, [])
            if link.fqdn not in names:
                names.append(link.fqdn)

    out: list[tuple[ResourceView, Exposure]] = []
    for index, names in linked.items():
        view = resources[index]
        exposure = view_exposure(view, merged_props[index], stack_config)
        if exposure is None:
            continue
        if not exposure.public:
            if view.type != _OSS_BUCKET:
                continue
            exposure = replace(exposure, public=True)
        out.append((view, replace(exposure, domains=_dedupe([*exposure.domains, *names]))))
    return out


def _dependency_targets(
    record: ResourceView, resources: Sequence[ResourceView], by_urn: Mapping[str, int], record_type: str
) -> list[int]:
    """Covered resources a record's unknown ``value`` comes from (its property dependencies, else dependencies)."""
    urns: Sequence[str] = ()
    deps = record.property_dependencies
    if isinstance(deps, Mapping):
        value_deps = deps.get("value")
        if isinstance(value_deps, Sequence) and not isinstance(value_deps, str):
            urns = value_deps
    if not urns and isinstance(record.dependencies, Sequence) and not isinstance(record.dependencies, str):
        urns = record.dependencies
    out: list[int] = []
    for urn in urns:
        index = by_urn.get(urn) if isinstance(urn, str) else None
        if index is None:
            continue
        spec = RESOURCE_TYPES[resources[index].type]
        can_target = spec.cnames or resources[index].type == _OSS_BUCKET
        if (record_type == "CNAME" and can_target) or (record_type != "CNAME" and spec.addresses):
            out.append(index)
    return out


_BUCKET_LINKERS: Final = frozenset({"alicloud:oss/bucketAcl:BucketAcl", "alicloud:oss/bucketPolicy:BucketPolicy"})


def link_buckets(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, ResourceView, Exposure]]:
    """Buckets of the stack made public by another resource (``oss.BucketAcl`` public-read, ``oss.BucketPolicy``
    granting anonymous access): ``(linker, bucket, exposure)``, the exposure being the **bucket's** (its tags, its
    region) made public — judged exactly as ``acl: public-read`` on the bucket itself would be.

    The linker names the bucket by its ``bucket`` name; a linker whose bucket is not in the stack links nothing (it
    is reported alone, as a public bucket with no domain tied to it).
    """
    buckets: dict[str, list[int]] = {}
    for index, view in enumerate(resources):
        if view.type != _OSS_BUCKET:
            continue
        name = _text(_get(_merged(view), "bucket"))
        if name and not is_unknown(name):
            buckets.setdefault(name, []).append(index)
    if not buckets:
        return []
    out: list[tuple[ResourceView, ResourceView, Exposure]] = []
    from china_site.exposure_stack import suppressor_of

    for view in resources:
        if view.type not in _BUCKET_LINKERS:
            continue
        merged = _merged(view)
        linker = view_exposure(view, merged, stack_config)
        if linker is None or not linker.public or suppressor_of(view, resources, stack_config) is not None:
            continue
        name = _text(_get(merged, "bucket"))
        for index in buckets.get(name or "", ()):
            bucket = resources[index]
            exposure = view_exposure(bucket, _merged(bucket), stack_config)
            if exposure is not None:
                unknown = tuple(dict.fromkeys((*exposure.unknown, *linker.unknown)))
                out.append((view, bucket, replace(exposure, public=True, unknown=unknown)))
    return out


_EIP_TYPES: Final = frozenset({"alicloud:ecs/eipAddress:EipAddress", "alicloud:ecs/eip:Eip"})
EIP_ASSOCIATION: Final = "alicloud:ecs/eipAssociation:EipAssociation"


def link_eip_associations(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, ResourceView, Exposure]]:
    """Resources of the stack that an ``ecs.EipAssociation`` (or another linker of the data's ``stack.links``: a
    ``vpc.Ipv6InternetBandwidth``) gives a public IP: ``(association, target, exposure)``,
    the exposure being the **target's** (its tags: domain, payments; its region) made public.

    The association is not an exposure of its own (its EIP is, and is reported once); what it adds is the tie
    between the EIP and the instance whose tags name the site. The target is found through the association's
    ``instanceId`` property dependency (the engine records it, at preview as after deploy).
    """
    from china_site.exposure_stack import links

    linkers = links()
    by_urn = {view.urn: view for view in resources if isinstance(view.urn, str)}
    out: list[tuple[ResourceView, ResourceView, Exposure]] = []
    for view in resources:
        via = linkers.get(view.type)
        if via is None or not isinstance(view.property_dependencies, Mapping):
            continue
        urns = view.property_dependencies.get(via) or ()
        if isinstance(urns, str):
            continue
        for urn in dict.fromkeys(urns):
            target = by_urn.get(urn) if isinstance(urn, str) else None
            if target is None or target.type in _EIP_TYPES:
                continue
            exposure = view_exposure(target, _merged(target), stack_config)
            if exposure is None:
                from china_site.exposure_stack import tie_exposure

                exposure = tie_exposure(target, stack_config)  # a network interface: its own tags
            if exposure is not None:
                out.append((view, target, replace(exposure, public=True)))
    return out
