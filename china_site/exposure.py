"""One Alibaba Cloud resource, as the Pulumi engine shows it to a policy pack, → an :class:`Exposure`.

Pure: no Pulumi imports. Adapters (the CrossGuard pack, the artifact readers) pass the resource's type token and its
properties under their **wire** names (camelCase, as in the pulumi-alicloud schema); numbers arrive as floats.

Preview-time unknowns: adapters translate the engine's unknown markers to :data:`UNKNOWN`; the engine's raw sentinel
strings are accepted too. An unknown deciding value (CDN ``scope``, load balancer ``addressType``, ECS bandwidth, …)
is read the stricter way (public, mainland) and its property name is listed in ``Exposure.unknown``, so the message
can say it will be checked again at update. Values wrapped by the engine's secret signature are opaque: their
``value`` is unwrapped only to read a domain or a flag and never copied anywhere else.

Facts about each covered type (product, wire properties read, properties that carry its public address) are data in
:data:`RESOURCE_TYPES`; dispatch is one dict lookup per resource.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from china_site.model import Area, Exposure

__all__ = [
    "RESOURCE_TYPES",
    "SECRET_SIG_KEY",
    "TAG_DOMAIN",
    "TAG_OWN_GOODS",
    "TAG_PAYMENTS",
    "TAG_PLATFORM",
    "UNKNOWN",
    "DnsLink",
    "ResourceType",
    "ResourceView",
    "dns_link",
    "exposure_from_resource",
    "is_unknown",
    "link_stack",
    "region_of",
]

# ---------------------------------------------------------------------------------------------------------------
# Engine markers


class _Unknown:
    """The type of :data:`UNKNOWN`: a value not known until the resource is created (preview time)."""

    __slots__ = ()
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()

# The engine's raw unknown sentinels (pulumi_policy.proxy): string, boolean, number, array, asset, archive, object.
_UNKNOWN_SENTINELS: Final = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)

SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # the engine's special-signature key (secrets, assets)

# Compliance tags: tie a bare resource to its site.
TAG_DOMAIN: Final = "china-site:domain"  # one host name, or several separated by commas
TAG_PAYMENTS: Final = "china-site:payments"  # "true" | "false"
TAG_PLATFORM: Final = "china-site:platform"  # "true" | "false": hosts third-party sellers (B21)
TAG_OWN_GOODS: Final = "china-site:own-goods"  # "true" | "false": sells only its own goods (disputed permit point)

_TRUE: Final = frozenset({"true", "yes", "1", "on"})
_FALSE: Final = frozenset({"false", "no", "0", "off", ""})

_MAX_SECRET_DEPTH = 8


def is_unknown(value: object) -> bool:
    """True for :data:`UNKNOWN` and for the engine's raw unknown sentinel strings."""
    return value is UNKNOWN or (isinstance(value, str) and value in _UNKNOWN_SENTINELS)


def _reveal(value: object) -> object:
    """Unwrap the engine's secret/special-signature maps to read a flag or a domain. Assets/archives → None."""
    depth = 0
    while isinstance(value, Mapping) and SECRET_SIG_KEY in value:
        depth += 1
        if depth > _MAX_SECRET_DEPTH:
            return None
        value = _raw(value, "value")
    if is_unknown(value):
        return UNKNOWN
    return value


def _raw(mapping: Mapping[str, Any], key: str) -> object:
    """``mapping.get(key)``; a mapping that refuses to give the value (pulumi_policy's proxies raise
    ``UnknownValueError`` for unknowns) yields :data:`UNKNOWN`: the stricter reading, never "absent"."""
    try:
        return mapping.get(key)
    except Exception:
        return UNKNOWN


def _get(mapping: Mapping[str, Any] | None, key: str) -> object:
    if mapping is None:
        return None
    return _reveal(_raw(mapping, key))


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict copy of a mapping's top level (refused values become :data:`UNKNOWN`)."""
    if type(mapping) is dict:  # a plain dict refuses nothing: the same copy, without a lookup per key
        return dict(mapping)
    try:
        keys = list(mapping.keys())
    except Exception:
        return {}
    return {key: _raw(mapping, key) for key in keys}


def _text(value: object) -> str | None:
    """A non-empty stripped string, else None (numbers, lists and maps are not text)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Regions


def _classify(region: str | None) -> tuple[Area, bool, str | None]:
    """(area, guessed, normalised region id)."""
    from china_site.regions import classify  # lazy: regions loads a data file

    info = classify(region)
    return info.area, info.guessed, info.region_id


_CONFIG_REGION_KEYS: Final = ("alicloud:region", "alicloud:config:region")


RegionSource = Literal["provider", "config", "unknown"]


def _region(
    provider_props: Mapping[str, Any] | None, stack_config: Mapping[str, str] | None
) -> tuple[str | None, RegionSource, bool]:
    """(region, source, unknown_at_preview)."""
    if provider_props is not None:
        value = _get(provider_props, "region")
        if value is UNKNOWN:
            return None, "unknown", True
        text = _text(value)
        if text:
            return text, "provider", False
    if stack_config is not None:
        for key in _CONFIG_REGION_KEYS:
            value = _get(stack_config, key)
            if value is UNKNOWN:
                return None, "unknown", True
            text = _text(value)
            if text:
                return text, "config", False
    return None, "unknown", False


def region_of(
    provider_props: Mapping[str, Any] | None, stack_config: Mapping[str, str] | None
) -> tuple[str | None, RegionSource]:
    """The Alibaba Cloud region a resource is created in, and where that came from.

    The provider's ``region`` property first, else stack config ``alicloud:region``, else ``(None, "unknown")``.
    An unknown (preview-time) provider region is ``(None, "unknown")`` as well.
    """
    region, source, _ = _region(provider_props, stack_config)
    return region, source


# ---------------------------------------------------------------------------------------------------------------
# Per-type facts


@dataclass
class _Ctx:
    """What a handler reads: props, plus the names of deciding values that were unknown."""

    props: Mapping[str, Any]
    unknown: list[str] = field(default_factory=list)

    def value(self, key: str) -> object:
        return _get(self.props, key)

    def text(self, key: str) -> str | None:
        """The property as text; records it as unknown (and returns None) when unknown."""
        value = self.value(key)
        if value is UNKNOWN:
            self.unknown.append(key)
            return None
        return _text(value)


@dataclass(frozen=True)
class _Facts:
    public: bool
    domains: tuple[str, ...] = ()
    area: Area | None = None  # None: from the region (provider/config, or ``region`` below)
    region: str | None = None  # a region read from the resource itself (e.g. a GA endpoint group's region)
    region_from_props: bool = False
    region_unknown: bool = False


Handler = Callable[[_Ctx], _Facts]


@dataclass(frozen=True)
class ResourceType:
    """Facts about one covered resource type.

    ``reads``: the wire properties this module reads (besides ``tags``, read when ``taggable``). ``addresses`` /
    ``cnames``: wire properties (inputs or outputs) whose value an A/AAAA or CNAME record can point at, for
    :func:`link_stack`.
    """

    token: str
    product: str
    handler: Handler
    reads: tuple[str, ...]
    addresses: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    taggable: bool = True


def _number(value: object) -> float | None:
    """A finite-or-infinite float from an int/float/numeric string; None when unparseable (bool is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(result) else result


def _flag(value: object) -> bool | None:
    """A boolean from a bool or a "true"/"false" string; None when absent or unparseable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def _bandwidth_public(ctx: _Ctx, key: str = "internetMaxBandwidthOut") -> bool:
    value = ctx.value(key)
    if value is UNKNOWN:
        ctx.unknown.append(key)
        return True
    if value is None:
        return False
    number = _number(value)
    return True if number is None else number > 0  # unparseable: stricter reading


def _ecs_instance(ctx: _Ctx) -> _Facts:
    public = _bandwidth_public(ctx)
    public_ip = ctx.value("publicIp")  # an output: known after deploy
    if isinstance(public_ip, str) and _text(public_ip):
        public = True
    return _Facts(public=public)


def _bandwidth_only(ctx: _Ctx) -> _Facts:
    return _Facts(public=_bandwidth_public(ctx))


def _always_public(ctx: _Ctx) -> _Facts:
    return _Facts(public=True)


def _address_type(ctx: _Ctx) -> _Facts:
    """CLB ``internet``/``intranet`` (missing = internet, the API default); ALB/NLB ``Internet``/``Intranet``."""
    value = ctx.value("addressType")
    if value is UNKNOWN:
        ctx.unknown.append("addressType")
        return _Facts(public=True)
    text = _text(value)
    return _Facts(public=text is None or text.lower() != "intranet")  # unrecognised: stricter reading


def _oss_acl(*, default_public: bool) -> Handler:
    def handler(ctx: _Ctx) -> _Facts:
        value = ctx.value("acl")
        if value is UNKNOWN:
            ctx.unknown.append("acl")
            return _Facts(public=True)
        text = _text(value)
        if text is None:
            return _Facts(public=default_public)
        return _Facts(public=text.lower() != "private")  # public-read(-write) or unrecognised: stricter reading

    return handler


def _oss_bucket(ctx: _Ctx) -> _Facts:
    facts = _oss_acl(default_public=False)(ctx)
    location = _text(ctx.value("location"))  # output, e.g. "oss-cn-hangzhou"
    if location and location.startswith("oss-"):
        return replace(facts, region=location[4:])
    return facts


def _domain_from(*keys: str) -> Handler:
    def handler(ctx: _Ctx) -> _Facts:
        for key in keys:
            value = ctx.value(key)
            if value is UNKNOWN:
                ctx.unknown.append(key)
                return _Facts(public=True)
            text = _text(value)
            if text:
                return _Facts(public=True, domains=(text,))
        return _Facts(public=True)

    return handler


_SCOPE_AREA: Final[Mapping[str, Area]] = {"domestic": "mainland", "global": "mainland", "overseas": "overseas"}


_cdn_domain = _domain_from("domainName")


def _cdn(ctx: _Ctx) -> _Facts:
    """CDN/DCDN: the area is the **scope** (domestic and global serve mainland nodes), never the API region."""
    domains = _cdn_domain(ctx).domains
    value = ctx.value("scope")
    if value is UNKNOWN:
        ctx.unknown.append("scope")
        area: Area = "mainland"
    else:
        text = _text(value)
        area = "mainland" if text is None else _SCOPE_AREA.get(text.lower(), "mainland")  # missing = domestic
    return _Facts(public=True, domains=domains, area=area)


def _ga_endpoint_group(ctx: _Ctx) -> _Facts:
    value = ctx.value("endpointGroupRegion")
    if value is UNKNOWN:
        ctx.unknown.append("endpointGroupRegion")
        return _Facts(public=True, region_from_props=True, region_unknown=True)
    return _Facts(public=True, region=_text(value), region_from_props=True)


def _forward_entry(ctx: _Ctx) -> _Facts:
    value = ctx.value("externalIp")
    if value is UNKNOWN:
        ctx.unknown.append("externalIp")
        return _Facts(public=True)
    return _Facts(public=_text(value) is not None)


def _bool_flag(key: str, *, default: bool) -> Handler:
    def handler(ctx: _Ctx) -> _Facts:
        value = ctx.value(key)
        if value is UNKNOWN:
            ctx.unknown.append(key)
            return _Facts(public=True)
        if value is None:
            return _Facts(public=default)
        parsed = _flag(value)
        return _Facts(public=True if parsed is None else parsed)  # unparseable: stricter reading

    return handler


def _types(*types: ResourceType) -> dict[str, ResourceType]:
    return {t.token: t for t in types}


_INSTANCE_READS = ("internetMaxBandwidthOut", "publicIp")
_EIP_READS = ("ipAddress",)
_LB_READS = ("addressType", "address")

RESOURCE_TYPES: Final[Mapping[str, ResourceType]] = _types(
    # ECS: a public IP when the outgoing public bandwidth is above 0 (or an output public IP exists).
    ResourceType("alicloud:ecs/instance:Instance", "ecs", _ecs_instance, _INSTANCE_READS, addresses=("publicIp",)),
    ResourceType("alicloud:ecs/ecsInstanceSet:EcsInstanceSet", "ecs", _bandwidth_only, ("internetMaxBandwidthOut",)),
    ResourceType(
        "alicloud:ess/scalingConfiguration:ScalingConfiguration",
        "ecs",
        _bandwidth_only,
        ("internetMaxBandwidthOut",),
    ),
    # EIPs are always public; an association makes its instance public.
    ResourceType("alicloud:ecs/eipAddress:EipAddress", "ecs", _always_public, _EIP_READS, addresses=("ipAddress",)),
    ResourceType("alicloud:ecs/eip:Eip", "ecs", _always_public, _EIP_READS, addresses=("ipAddress",)),
    ResourceType("alicloud:ecs/eipAssociation:EipAssociation", "ecs", _always_public, (), taggable=False),
    # Load balancers: CLB "internet" (the API default), ALB/NLB "Internet".
    ResourceType(
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
        "slb",
        _address_type,
        _LB_READS,
        addresses=("address",),
    ),
    ResourceType(
        "alicloud:slb/loadBalancer:LoadBalancer",
        "slb",
        _address_type,
        _LB_READS,
        addresses=("address",),
    ),
    ResourceType(
        "alicloud:alb/loadBalancer:LoadBalancer",
        "alb",
        _address_type,
        ("addressType", "dnsName"),
        cnames=("dnsName",),
    ),
    ResourceType(
        "alicloud:nlb/loadBalancer:LoadBalancer",
        "nlb",
        _address_type,
        ("addressType", "dnsName"),
        cnames=("dnsName",),
    ),
    # OSS: a public ACL; a custom domain (needs ICP on a mainland bucket: NoSuchCnameInRecord); a website config.
    ResourceType("alicloud:oss/bucket:Bucket", "oss", _oss_bucket, ("acl", "bucket", "location", "extranetEndpoint")),
    ResourceType("alicloud:oss/bucketAcl:BucketAcl", "oss", _oss_acl(default_public=False), ("acl",), taggable=False),
    ResourceType("alicloud:oss/bucketCname:BucketCname", "oss", _domain_from("domain"), ("domain",), taggable=False),
    # oss.BucketWebsite is deliberately absent: a website configuration serves nothing by itself; the bucket's ACL,
    # a custom domain (BucketCname) or the CDN in front of it expose the bucket, and those are covered.
    # CDN / DCDN: area by scope.
    ResourceType("alicloud:cdn/domainNew:DomainNew", "cdn", _cdn, ("domainName", "scope", "cname"), cnames=("cname",)),
    ResourceType("alicloud:cdn/domain:Domain", "cdn", _cdn, ("domainName", "scope"), taggable=False),
    ResourceType("alicloud:dcdn/domain:Domain", "dcdn", _cdn, ("domainName", "scope", "cname"), cnames=("cname",)),
    # Function Compute custom domains (mainland: ICP, exact match).
    ResourceType(
        "alicloud:fc/customDomain:CustomDomain", "fc", _domain_from("domainName"), ("domainName",), taggable=False
    ),
    ResourceType(
        "alicloud:fc/v3CustomDomain:V3CustomDomain",
        "fc",
        _domain_from("customDomainName"),
        ("customDomainName",),
        taggable=False,
    ),
    # WAF: the API region is the instance's area (cn-hangzhou = mainland).
    ResourceType(
        "alicloud:waf/domain:Domain",
        "waf",
        _domain_from("domainName", "domain"),
        ("domainName", "domain", "cname"),
        cnames=("cname",),
        taggable=False,
    ),
    ResourceType("alicloud:wafv3/domain:Domain", "waf", _domain_from("domain"), ("domain", "cname"), cnames=("cname",)),
    # Global Accelerator: the endpoint group's region.
    ResourceType("alicloud:ga/endpointGroup:EndpointGroup", "ga", _ga_endpoint_group, ("endpointGroupRegion",)),
    # NAT gateway DNAT entry: public when it has an external IP.
    ResourceType(
        "alicloud:vpc/forwardEntry:ForwardEntry",
        "vpc",
        _forward_entry,
        ("externalIp",),
        addresses=("externalIp",),
        taggable=False,
    ),
    # Container Service: an internet load balancer (or EIP) for the API server.
    ResourceType(
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "cs",
        _bool_flag("slbInternetEnabled", default=True),
        ("slbInternetEnabled",),
    ),
    ResourceType(
        "alicloud:cs/kubernetes:Kubernetes",
        "cs",
        _bool_flag("slbInternetEnabled", default=True),
        ("slbInternetEnabled",),
    ),
    ResourceType(
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
        "cs",
        _bool_flag("endpointPublicAccessEnabled", default=False),
        ("endpointPublicAccessEnabled",),
    ),
)

# ---------------------------------------------------------------------------------------------------------------
# Tags


def _split_domains(text: str) -> list[str]:
    return [part for part in (_clean_host(p) for p in text.split(",")) if part]


def _clean_host(text: str) -> str:
    """Strip blanks and a trailing dot; a wildcard label is dropped (``*.a.example`` → ``a.example``).

    Filing coverage of a wildcard equals that of its parent (the registrable domain and its subdomains), and the
    rules skip names that are not valid hosts, so a kept ``*`` would silently drop the name.
    """
    host = text.strip().rstrip(".")
    while host.startswith("*."):
        host = host[2:]
    return "" if host == "*" else host


def _tag_facts(ctx: _Ctx) -> tuple[list[str], bool, bool, bool]:
    """(domains, payments, platform, own_goods) from the compliance tags; unknowns read the stricter way
    (payments and platform true, own goods false: the permit is then required)."""
    tags = ctx.value("tags")
    if tags is UNKNOWN:
        ctx.unknown.append("tags")
        return [], True, False, False
    if not isinstance(tags, Mapping):
        return [], False, False, False
    tag_ctx = _Ctx(tags)
    domains: list[str] = []
    value = tag_ctx.value(TAG_DOMAIN)
    if value is UNKNOWN:
        ctx.unknown.append(f"tags.{TAG_DOMAIN}")
    elif isinstance(value, str):
        domains = _split_domains(value)

    def flag(key: str, strict: bool = True) -> bool:
        raw = tag_ctx.value(key)
        if raw is UNKNOWN:
            ctx.unknown.append(f"tags.{key}")
            return strict
        if raw is None:
            return False
        parsed = _flag(raw)
        return strict if parsed is None else parsed  # unparseable: stricter reading

    return domains, flag(TAG_PAYMENTS), flag(TAG_PLATFORM), flag(TAG_OWN_GOODS, strict=False)


def _dedupe(hosts: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for host in hosts:
        key = host.lower()
        if host and key not in seen:
            seen.add(key)
            out.append(host)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# One resource


def exposure_from_resource(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str = "",
    provider_props: Mapping[str, Any] | None = None,
    stack_config: Mapping[str, str] | None = None,
) -> Exposure | None:
    """The exposure of one resource, or None for a type that exposes nothing (not covered).

    Never raises for odd property values: anything unparseable in a deciding property is read the stricter way.
    """
    spec = RESOURCE_TYPES.get(type_token)
    if spec is None:
        return None
    if not isinstance(props, Mapping):
        props = {}
    ctx = _Ctx(props)
    facts = spec.handler(ctx)
    tag_domains, payments, platform, own_goods = _tag_facts(ctx) if spec.taggable else ([], False, False, False)
    domains = _dedupe([_clean_host(d) for d in facts.domains] + tag_domains)

    region: str | None
    guessed = False
    if facts.area is not None:
        area, region = facts.area, None
    else:
        if facts.region_from_props:
            region, region_unknown = facts.region, facts.region_unknown
        else:
            region, _, region_unknown = _region(provider_props, stack_config)
            if region is None and not region_unknown:
                region = facts.region  # the resource's own location output (after deploy)
            if region_unknown:
                ctx.unknown.append("region")
        area, guessed, region = _classify(region)

    return Exposure(
        resource=type_token,
        name=name if isinstance(name, str) else "",
        public=facts.public,
        area=area,
        region=region,
        region_guessed=guessed,
        domains=domains,
        payments=payments,
        platform=platform,
        own_goods=own_goods,
        unknown=tuple(dict.fromkeys(ctx.unknown)),
        product=spec.product,
    )


# ---------------------------------------------------------------------------------------------------------------
# DNS records and the stack-level graph

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
        zone_key, rr_key = "name", "hostRecord"
    else:
        zone_key, rr_key = "domainName", "rr"
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
    region, _, _ = _region(view.provider_props, stack_config)
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
        exposure = exposure_from_resource(
            view.type,
            merged_props[index],
            name=view.name,
            provider_props=view.provider_props,
            stack_config=stack_config,
        )
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
