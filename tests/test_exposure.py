"""china_site.exposure: one Alibaba Cloud resource (wire-named props) → Exposure; DNS links across a stack."""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from china_site.exposure import (
    RESOURCE_TYPES,
    SECRET_SIG_KEY,
    TAG_DOMAIN,
    TAG_PAYMENTS,
    TAG_PLATFORM,
    UNKNOWN,
    DnsLink,
    ResourceView,
    dns_link,
    exposure_from_resource,
    is_unknown,
    link_stack,
    region_of,
)
from china_site.model import Exposure

RAW_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SH = {"region": "cn-shanghai"}
HK = {"region": "cn-hongkong"}
SG = {"region": "ap-southeast-1"}

ALIDNS = "alicloud:dns/alidnsRecord:AlidnsRecord"
EIP = "alicloud:ecs/eipAddress:EipAddress"
CDN = "alicloud:cdn/domainNew:DomainNew"
DCDN = "alicloud:dcdn/domain:Domain"
ALB = "alicloud:alb/loadBalancer:LoadBalancer"
BUCKET = "alicloud:oss/bucket:Bucket"
ECS = "alicloud:ecs/instance:Instance"


def expo(token: str, props: dict[str, Any], provider: dict[str, Any] | None = SH, **kw: Any) -> Exposure:
    result = exposure_from_resource(token, props, provider_props=provider, **kw)
    assert result is not None
    return result


def secret(value: object) -> dict[str, object]:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


# ---------------------------------------------------------------------------------------------------------------
# The type tokens and wire names are the real ones (read from the installed pulumi-alicloud SDK).


def _sdk_class(token: str) -> type:
    _, module_path, class_name = token.split(":")
    module = importlib.import_module("pulumi_alicloud." + module_path.split("/")[0])
    return getattr(module, class_name)


@functools.cache
def wire_names(token: str) -> tuple[str, ...]:
    cls = _sdk_class(token)
    names = set()
    for _, member in inspect.getmembers(cls):
        if isinstance(member, property):
            name = getattr(member.fget, "_pulumi_name", None)
            if name:
                names.add(name)
    return tuple(sorted(names))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("token", sorted(RESOURCE_TYPES))
def test_type_tokens_and_wire_names_match_the_sdk(token: str) -> None:
    cls = _sdk_class(token)
    assert f"'{token}'" in inspect.getsource(cls)
    spec = RESOURCE_TYPES[token]
    wire = set(wire_names(token))
    assert set(spec.reads) | set(spec.addresses) | set(spec.cnames) <= wire
    assert set(spec.example) <= wire  # the example uses the type's real wire names


def test_not_covered_types_expose_nothing() -> None:
    assert exposure_from_resource("alicloud:ecs/securityGroup:SecurityGroup", {}) is None
    assert exposure_from_resource("aws:s3/bucket:Bucket", {"acl": "public-read"}) is None
    assert (
        exposure_from_resource(ALIDNS, {"domainName": "example.cn", "rr": "www", "type": "A", "value": "1.2.3.4"})
        is None
    )


# ---------------------------------------------------------------------------------------------------------------
# A public and a non-public case for every covered type.

CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    (ECS, {"internetMaxBandwidthOut": 10.0}, {"internetMaxBandwidthOut": 0.0}),
    (ECS, {"publicIp": "47.1.2.3"}, {}),
    ("alicloud:ecs/ecsInstanceSet:EcsInstanceSet", {"internetMaxBandwidthOut": 1.0}, {"internetMaxBandwidthOut": 0.0}),
    (
        "alicloud:ess/scalingConfiguration:ScalingConfiguration",
        {"internetMaxBandwidthOut": 5.0},
        {"internetMaxBandwidthOut": 0.0},
    ),
    (EIP, {"bandwidth": "5"}, None),
    ("alicloud:ecs/eip:Eip", {}, None),
    (
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
        {"addressType": "internet"},
        {"addressType": "intranet"},
    ),
    ("alicloud:slb/loadBalancer:LoadBalancer", {}, {"addressType": "intranet"}),
    (ALB, {"addressType": "Internet"}, {"addressType": "Intranet"}),
    ("alicloud:nlb/loadBalancer:LoadBalancer", {"addressType": "Internet"}, {"addressType": "Intranet"}),
    (BUCKET, {"bucket": "b", "acl": "public-read"}, {"bucket": "b", "acl": "private"}),
    (BUCKET, {"bucket": "b", "acl": "public-read-write"}, {"bucket": "b"}),
    ("alicloud:oss/bucketAcl:BucketAcl", {"bucket": "b", "acl": "public-read"}, {"bucket": "b", "acl": "private"}),
    ("alicloud:oss/bucketCname:BucketCname", {"bucket": "b", "domain": "static.example.cn"}, None),
    (CDN, {"domainName": "www.example.cn"}, None),
    ("alicloud:cdn/domain:Domain", {"domainName": "www.example.cn"}, None),
    (DCDN, {"domainName": "www.example.cn"}, None),
    ("alicloud:fc/customDomain:CustomDomain", {"domainName": "api.example.cn"}, None),
    ("alicloud:fc/v3CustomDomain:V3CustomDomain", {"customDomainName": "api.example.cn"}, None),
    ("alicloud:waf/domain:Domain", {"domainName": "www.example.cn"}, None),
    ("alicloud:wafv3/domain:Domain", {"domain": "www.example.cn"}, None),
    ("alicloud:ga/endpointGroup:EndpointGroup", {"endpointGroupRegion": "cn-shanghai"}, None),
    ("alicloud:vpc/forwardEntry:ForwardEntry", {"externalIp": "47.1.2.3"}, {"externalIp": ""}),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", {"slbInternetEnabled": True}, {"slbInternetEnabled": False}),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", {}, {"slbInternetEnabled": "false"}),
    ("alicloud:cs/kubernetes:Kubernetes", {"slbInternetEnabled": True}, {"slbInternetEnabled": False}),
    (
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
        {"endpointPublicAccessEnabled": True},
        {"endpointPublicAccessEnabled": False},
    ),
    ("alicloud:cs/serverlessKubernetes:ServerlessKubernetes", {"endpointPublicAccessEnabled": True}, {}),
]


def test_the_first_covered_types_keep_their_cases() -> None:
    # The 24 types covered before the classification became data keep their readings; every exposing type also
    # gets a generated mainland and Hong Kong case from its example (tests/test_exposure_types.py).
    assert {token for token, _, _ in CASES} <= set(RESOURCE_TYPES)
    assert len({token for token, _, _ in CASES}) == 24


@pytest.mark.parametrize(("token", "public", "private"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_public_and_non_public(token: str, public: dict[str, Any], private: dict[str, Any] | None) -> None:
    exposed = expo(token, public, name="r1")
    assert exposed.public is True
    assert exposed.resource == token
    assert exposed.name == "r1"
    assert exposed.product == RESOURCE_TYPES[token].product
    assert exposed.area == "mainland"
    assert exposed.unknown == ()
    if private is not None:
        assert expo(token, private).public is False


@pytest.mark.parametrize(
    ("token", "props"),
    [
        (ECS, {"internetMaxBandwidthOut": 10.0}),
        (EIP, {}),
        (ALB, {"addressType": "Internet"}),
        ("alicloud:oss/bucketCname:BucketCname", {"bucket": "b", "domain": "static.example.cn"}),
        ("alicloud:fc/customDomain:CustomDomain", {"domainName": "api.example.cn"}),
        ("alicloud:vpc/forwardEntry:ForwardEntry", {"externalIp": "47.1.2.3"}),
    ],
)
def test_regional_types_take_the_area_from_the_region(token: str, props: dict[str, Any]) -> None:
    assert expo(token, props, SH).area == "mainland"
    hk = expo(token, props, HK)
    assert (hk.area, hk.region, hk.region_guessed) == ("hongkong", "cn-hongkong", False)
    assert expo(token, props, SG).area == "overseas"


def test_waf_region_cn_hangzhou_is_mainland_and_ap_southeast_1_is_overseas() -> None:
    for token in ("alicloud:waf/domain:Domain", "alicloud:wafv3/domain:Domain"):
        props = {"domainName": "www.example.cn", "domain": "www.example.cn"}
        assert expo(token, props, {"region": "cn-hangzhou"}).area == "mainland"
        assert expo(token, props, SG).area == "overseas"
        assert expo(token, props).domains == ("www.example.cn",)


def test_waf_v1_falls_back_to_the_deprecated_domain_property() -> None:
    assert expo("alicloud:waf/domain:Domain", {"domain": "old.example.cn"}).domains == ("old.example.cn",)


def test_domains_come_from_the_domain_properties() -> None:
    assert expo(CDN, {"domainName": "www.example.cn"}).domains == ("www.example.cn",)
    assert expo("alicloud:fc/v3CustomDomain:V3CustomDomain", {"customDomainName": "Api.Example.cn."}).domains == (
        "Api.Example.cn",
    )
    assert expo("alicloud:oss/bucketCname:BucketCname", {"domain": "s.example.cn"}).domains == ("s.example.cn",)
    assert expo(EIP, {}).domains == ()


def test_ga_endpoint_group_uses_its_own_region_not_the_provider() -> None:
    token = "alicloud:ga/endpointGroup:EndpointGroup"
    hk = expo(token, {"endpointGroupRegion": "cn-hongkong"}, SH)
    assert (hk.area, hk.region) == ("hongkong", "cn-hongkong")
    assert expo(token, {"endpointGroupRegion": "cn-beijing"}, HK).area == "mainland"
    missing = expo(token, {}, HK)
    assert (missing.area, missing.region_guessed) == ("mainland", True)


def test_bucket_location_output_is_used_only_without_provider_or_config_region() -> None:
    assert expo(BUCKET, {"acl": "public-read", "location": "oss-cn-hongkong"}, None).area == "hongkong"
    assert expo(BUCKET, {"acl": "public-read", "location": "oss-cn-hongkong"}, SH).area == "mainland"


# ---------------------------------------------------------------------------------------------------------------
# CDN / DCDN: the scope decides, never the API region.


@pytest.mark.parametrize("token", [CDN, DCDN, "alicloud:cdn/domain:Domain"])
@pytest.mark.parametrize(
    ("scope", "area"),
    [
        ("domestic", "mainland"),
        ("global", "mainland"),
        ("overseas", "overseas"),
        (None, "mainland"),
        ("Overseas", "overseas"),
    ],
)
@pytest.mark.parametrize("provider", [SH, HK, SG, None])
def test_cdn_area_by_scope_independent_of_provider_region(
    token: str, scope: str | None, area: str, provider: dict[str, Any] | None
) -> None:
    props: dict[str, Any] = {"domainName": "www.example.cn"}
    if scope is not None:
        props["scope"] = scope
    exposure = expo(token, props, provider)
    assert exposure.area == area
    assert exposure.region_guessed is False
    assert exposure.public is True


def test_cdn_unrecognised_scope_is_mainland() -> None:
    assert expo(CDN, {"domainName": "www.example.cn", "scope": "moon"}, HK).area == "mainland"


# ---------------------------------------------------------------------------------------------------------------
# Regions


def test_unknown_region_is_guessed_mainland() -> None:
    guessed = expo(ECS, {"internetMaxBandwidthOut": 1.0}, {"region": "xx-atlantis-9"})
    assert (guessed.area, guessed.region_guessed, guessed.region) == ("mainland", True, "xx-atlantis-9")
    none = expo(ECS, {"internetMaxBandwidthOut": 1.0}, None)
    assert (none.area, none.region_guessed, none.region) == ("mainland", True, None)
    assert none.unknown == ()


def test_known_region_is_not_guessed() -> None:
    exposure = expo(ECS, {"internetMaxBandwidthOut": 1.0}, SH)
    assert (exposure.area, exposure.region_guessed, exposure.region) == ("mainland", False, "cn-shanghai")


def test_region_from_config_when_no_provider() -> None:
    config = {"alicloud:region": "cn-hongkong"}
    exposure = expo(ECS, {"internetMaxBandwidthOut": 1.0}, None, stack_config=config)
    assert (exposure.area, exposure.region, exposure.region_guessed) == ("hongkong", "cn-hongkong", False)
    assert region_of(None, config) == ("cn-hongkong", "config")
    assert region_of({}, config) == ("cn-hongkong", "config")


def test_provider_region_wins_over_config() -> None:
    config = {"alicloud:region": "cn-hongkong"}
    assert region_of(SH, config) == ("cn-shanghai", "provider")
    assert expo(ECS, {"internetMaxBandwidthOut": 1.0}, SH, stack_config=config).area == "mainland"


def test_region_of_unknown_sources() -> None:
    assert region_of(None, None) == (None, "unknown")
    assert region_of({"region": ""}, {}) == (None, "unknown")
    assert region_of({"region": 3.0}, {"alicloud:region": 7}) == (None, "unknown")  # type: ignore[dict-item]
    assert region_of({"region": UNKNOWN}, {"alicloud:region": "cn-hongkong"}) == (None, "unknown")
    assert region_of({"region": secret("cn-hongkong")}, None) == ("cn-hongkong", "provider")


def test_unknown_provider_region_is_listed_and_mainland() -> None:
    exposure = expo(ECS, {"internetMaxBandwidthOut": 1.0}, {"region": RAW_UNKNOWN})
    assert (exposure.area, exposure.region_guessed) == ("mainland", True)
    assert "region" in exposure.unknown


# ---------------------------------------------------------------------------------------------------------------
# Preview-time unknowns: never crash, list the property, read the stricter way.


@pytest.mark.parametrize("marker", [UNKNOWN, RAW_UNKNOWN, "3eeb2bf0-c639-47a8-9e75-3b44932eb421"])
@pytest.mark.parametrize(
    ("token", "key", "private_value"),
    [
        (ECS, "internetMaxBandwidthOut", 0.0),
        ("alicloud:slb/loadBalancer:LoadBalancer", "addressType", "intranet"),
        (ALB, "addressType", "Intranet"),
        ("alicloud:nlb/loadBalancer:LoadBalancer", "addressType", "Intranet"),
        (BUCKET, "acl", "private"),
        ("alicloud:oss/bucketAcl:BucketAcl", "acl", "private"),
        ("alicloud:vpc/forwardEntry:ForwardEntry", "externalIp", ""),
        ("alicloud:cs/managedKubernetes:ManagedKubernetes", "slbInternetEnabled", False),
        ("alicloud:cs/serverlessKubernetes:ServerlessKubernetes", "endpointPublicAccessEnabled", False),
    ],
)
def test_unknown_deciding_flag_is_public_and_listed(
    token: str, key: str, private_value: object, marker: object
) -> None:
    assert expo(token, {key: private_value}).public is False
    exposure = expo(token, {key: marker})
    assert exposure.public is True
    assert exposure.unknown == (key,)


@pytest.mark.parametrize("token", [CDN, DCDN])
def test_unknown_scope_is_mainland_and_listed(token: str) -> None:
    exposure = expo(token, {"domainName": "www.example.cn", "scope": UNKNOWN}, SG)
    assert (exposure.area, exposure.unknown) == ("mainland", ("scope",))


def test_unknown_domain_is_listed_and_left_out() -> None:
    exposure = expo(CDN, {"domainName": UNKNOWN, "scope": "overseas"})
    assert exposure.domains == ()
    assert exposure.unknown == ("domainName",)
    assert exposure.area == "overseas"


def test_unknown_ga_region_is_guessed_mainland() -> None:
    exposure = expo("alicloud:ga/endpointGroup:EndpointGroup", {"endpointGroupRegion": RAW_UNKNOWN}, HK)
    assert (exposure.area, exposure.region_guessed, exposure.unknown) == ("mainland", True, ("endpointGroupRegion",))


def test_is_unknown() -> None:
    assert is_unknown(UNKNOWN) and is_unknown(RAW_UNKNOWN)
    assert not is_unknown(None) and not is_unknown("cn-shanghai")
    assert repr(UNKNOWN) == "UNKNOWN"


# ---------------------------------------------------------------------------------------------------------------
# Numbers arrive as floats (and sometimes as strings).


@pytest.mark.parametrize(
    ("value", "public"),
    [
        (0.0, False),
        (0.5, True),
        (100.0, True),
        (5, True),
        ("5", True),
        ("0", False),
        (-1.0, False),
        (float("nan"), True),
    ],
)
def test_bandwidth_numbers(value: object, public: bool) -> None:
    assert expo(ECS, {"internetMaxBandwidthOut": value}).public is public


def test_bandwidth_unparseable_is_public() -> None:
    assert expo(ECS, {"internetMaxBandwidthOut": "lots"}).public is True
    assert expo(ECS, {"internetMaxBandwidthOut": [1]}).public is True


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("alicloud:cs/managedKubernetes:ManagedKubernetes", "slbInternetEnabled"),
        ("alicloud:cs/serverlessKubernetes:ServerlessKubernetes", "endpointPublicAccessEnabled"),
    ],
)
def test_unparseable_public_flag_is_public(token: str, key: str) -> None:
    # Fail closed: a flag that is neither true nor false is read the stricter way (and "false" stays private).
    assert expo(token, {key: "sometimes"}).public is True
    assert expo(token, {key: "false"}).public is False


# ---------------------------------------------------------------------------------------------------------------
# Compliance tags


def test_tags_tie_domains_payments_and_platform() -> None:
    tags = {TAG_DOMAIN: "www.example.cn, shop.example.cn,", TAG_PAYMENTS: "true", TAG_PLATFORM: "True"}
    exposure = expo(ECS, {"internetMaxBandwidthOut": 1.0, "tags": tags})
    assert exposure.domains == ("www.example.cn", "shop.example.cn")
    assert (exposure.payments, exposure.platform) == (True, True)


def test_tags_payments_false_and_absent() -> None:
    exposure = expo(EIP, {"tags": {TAG_DOMAIN: "www.example.cn", TAG_PAYMENTS: "false"}})
    assert (exposure.payments, exposure.platform) == (False, False)
    assert expo(EIP, {}).payments is False


def test_tag_domains_merge_with_the_resource_domain_without_duplicates() -> None:
    exposure = expo(CDN, {"domainName": "www.example.cn", "tags": {TAG_DOMAIN: "WWW.example.cn,example.cn"}})
    assert exposure.domains == ("www.example.cn", "example.cn")


def test_unknown_or_unparseable_payment_tag_is_strict() -> None:
    unknown = expo(EIP, {"tags": {TAG_PAYMENTS: UNKNOWN}})
    assert unknown.payments is True
    assert unknown.unknown == (f"tags.{TAG_PAYMENTS}",)
    assert expo(EIP, {"tags": {TAG_PAYMENTS: "maybe"}}).payments is True
    whole = expo(EIP, {"tags": RAW_UNKNOWN})
    assert (whole.payments, whole.unknown) == (True, ("tags",))


def test_unknown_domain_tag_is_listed() -> None:
    exposure = expo(EIP, {"tags": {TAG_DOMAIN: UNKNOWN}})
    assert (exposure.domains, exposure.unknown) == ((), (f"tags.{TAG_DOMAIN}",))


def test_wildcard_domain_is_its_parent() -> None:
    assert expo(EIP, {"tags": {TAG_DOMAIN: "*.example.cn"}}).domains == ("example.cn",)


# ---------------------------------------------------------------------------------------------------------------
# Secrets: unwrapped to read a flag or a domain, never copied elsewhere.


def test_secret_wrapped_values_are_read() -> None:
    exposure = expo(CDN, {"domainName": secret("www.example.cn"), "scope": secret("overseas")})
    assert (exposure.domains, exposure.area) == (("www.example.cn",), "overseas")
    assert expo(ECS, {"internetMaxBandwidthOut": secret(secret(0.0))}).public is False
    assert expo(ECS, {"internetMaxBandwidthOut": secret(UNKNOWN)}).unknown == ("internetMaxBandwidthOut",)


def test_secret_without_value_and_asset_maps_do_not_crash() -> None:
    assert expo(ECS, {"internetMaxBandwidthOut": {SECRET_SIG_KEY: "c44067f5952c0a294b673a41bacd8c17"}}).public is False
    assert expo(ECS, {"tags": secret({TAG_DOMAIN: "x.example.cn"}), "internetMaxBandwidthOut": 1.0}).domains == (
        "x.example.cn",
    )


def test_secret_value_not_in_exposure_beyond_the_domain() -> None:
    password = "hunter2-very-secret"
    exposure = expo(ECS, {"internetMaxBandwidthOut": 1.0, "password": secret(password), "userData": password})
    assert password not in repr(exposure)


# ---------------------------------------------------------------------------------------------------------------
# DNS records


def test_dns_link_a_record() -> None:
    link = dns_link({"domainName": "example.cn", "rr": "www", "type": "A", "value": "47.1.2.3"})
    assert link == DnsLink(fqdn="www.example.cn", record_type="A", value="47.1.2.3")


def test_dns_link_apex_cname_and_case() -> None:
    link = dns_link({"domainName": "Example.cn.", "rr": "@", "type": "cname", "value": "X.CDNGSLB.com."})
    assert link == DnsLink(fqdn="Example.cn", record_type="CNAME", value="x.cdngslb.com")


def test_dns_link_aaaa_normalises_ipv6() -> None:
    link = dns_link({"domainName": "example.cn", "rr": "v6", "type": "AAAA", "value": "2408:4000:0000::0001"})
    assert link is not None and link.value == "2408:4000::1"


def test_dns_link_old_record_type() -> None:
    props = {"name": "example.cn", "hostRecord": "www", "type": "A", "value": "47.1.2.3"}
    assert dns_link(props) == DnsLink("www.example.cn", "A", "47.1.2.3")
    assert dns_link(props, type_token="alicloud:dns/record:Record") == DnsLink("www.example.cn", "A", "47.1.2.3")


def test_dns_link_ignores_other_types_and_unknown_names() -> None:
    assert dns_link({"domainName": "example.cn", "rr": "@", "type": "TXT", "value": "v=spf1"}) is None
    assert dns_link({"domainName": "example.cn", "rr": "@", "type": "MX", "value": "mx.example.cn"}) is None
    assert dns_link({"domainName": UNKNOWN, "rr": "www", "type": "A", "value": "1.2.3.4"}) is None
    assert dns_link({"domainName": "example.cn", "rr": "www", "type": "A"}) is None
    assert dns_link({"rr": "www", "type": "A", "value": "1.2.3.4"}) is None


def test_dns_link_unknown_value() -> None:
    assert dns_link({"domainName": "example.cn", "rr": "www", "type": "CNAME", "value": RAW_UNKNOWN}) == DnsLink(
        "www.example.cn", "CNAME", None
    )


# ---------------------------------------------------------------------------------------------------------------
# The stack-level graph


def view(urn: str, token: str, props: dict[str, Any], provider: dict[str, Any] | None = SH, **kw: Any) -> ResourceView:
    return ResourceView(urn=urn, type=token, name=urn.rsplit("::", 1)[-1], props=props, provider_props=provider, **kw)


def record(urn: str, rr: str, rtype: str, value: object, **kw: Any) -> ResourceView:
    return view(urn, ALIDNS, {"domainName": "example.cn", "rr": rr, "type": rtype, "value": value}, **kw)


def test_link_a_record_to_eip_output() -> None:
    eip = view("urn::eip", EIP, {"bandwidth": "5"}, outputs={"ipAddress": "47.1.2.3"})
    linked = link_stack([eip, record("urn::www", "www", "A", "47.1.2.3"), record("urn::apex", "@", "A", "47.1.2.3")])
    assert len(linked) == 1
    target, exposure = linked[0]
    assert target is eip
    assert exposure.domains == ("www.example.cn", "example.cn")
    assert (exposure.area, exposure.public, exposure.product) == ("mainland", True, "ecs")


def test_link_a_record_to_ecs_public_ip_and_slb_address() -> None:
    ecs = view("urn::ecs", ECS, {"internetMaxBandwidthOut": 5.0}, HK, outputs={"publicIp": "8.8.4.4"})
    slb = view("urn::slb", "alicloud:slb/loadBalancer:LoadBalancer", {"addressType": "internet", "address": "9.9.9.9"})
    linked = link_stack([ecs, slb, record("urn::a", "a", "A", "8.8.4.4"), record("urn::b", "b", "A", "9.9.9.9")])
    assert [(t.urn, e.domains, e.area) for t, e in linked] == [
        ("urn::ecs", ("a.example.cn",), "hongkong"),
        ("urn::slb", ("b.example.cn",), "mainland"),
    ]


def test_link_cname_to_cdn_cname_takes_scope_area() -> None:
    cdn = view(
        "urn::cdn",
        CDN,
        {"domainName": "www.example.cn", "scope": "overseas"},
        outputs={"cname": "www.example.cn.w.kunlunsl.com"},
    )
    linked = link_stack([cdn, record("urn::r", "static", "CNAME", "www.example.cn.w.kunlunsl.com.")])
    assert len(linked) == 1
    assert linked[0][1].domains == ("www.example.cn", "static.example.cn")
    assert linked[0][1].area == "overseas"


def test_link_cname_to_alb_dns_name() -> None:
    alb = view("urn::alb", ALB, {"addressType": "Internet", "dnsName": "alb-abc.cn-shanghai.alb.aliyuncs.com"})
    linked = link_stack([alb, record("urn::r", "api", "CNAME", "ALB-abc.cn-shanghai.alb.aliyuncs.com")])
    assert [(t.urn, e.domains, e.product) for t, e in linked] == [("urn::alb", ("api.example.cn",), "alb")]


def test_link_cname_to_bucket_endpoint_is_public_even_with_private_acl() -> None:
    bucket = view("urn::bucket", BUCKET, {"bucket": "site-bucket"}, HK)
    linked = link_stack([bucket, record("urn::r", "img", "CNAME", "site-bucket.oss-cn-hongkong.aliyuncs.com")])
    assert len(linked) == 1
    assert (linked[0][1].public, linked[0][1].area, linked[0][1].domains) == (True, "hongkong", ("img.example.cn",))


def test_link_cname_to_bucket_extranet_endpoint_output() -> None:
    bucket = view(
        "urn::bucket", BUCKET, {"bucket": "b1"}, None, outputs={"extranetEndpoint": "oss-cn-beijing.aliyuncs.com"}
    )
    linked = link_stack([bucket, record("urn::r", "img", "CNAME", "b1.oss-cn-beijing.aliyuncs.com")])
    assert [t.urn for t, _ in linked] == ["urn::bucket"]


def test_no_link_for_unrelated_values() -> None:
    eip = view("urn::eip", EIP, {}, outputs={"ipAddress": "47.1.2.3"})
    cdn = view("urn::cdn", CDN, {"domainName": "www.example.cn"}, outputs={"cname": "x.kunlunsl.com"})
    resources = [
        eip,
        cdn,
        record("urn::1", "www", "A", "47.1.2.4"),
        record("urn::2", "cdn", "CNAME", "y.kunlunsl.com"),
        record("urn::3", "ip-as-cname", "CNAME", "47.1.2.3"),  # a CNAME never matches an A target
        record("urn::4", "txt", "TXT", "47.1.2.3"),
    ]
    assert link_stack(resources) == []
    assert link_stack([eip, cdn]) == []
    assert link_stack([]) == []


def test_no_link_to_an_intranet_load_balancer() -> None:
    slb = view("urn::slb", "alicloud:slb/loadBalancer:LoadBalancer", {"addressType": "intranet", "address": "10.0.0.5"})
    assert link_stack([slb, record("urn::r", "in", "A", "10.0.0.5")]) == []


def test_unknown_record_value_links_through_property_dependencies() -> None:
    cdn = view("urn::cdn", CDN, {"domainName": "www.example.cn", "cname": UNKNOWN})
    eip = view("urn::eip", EIP, {"ipAddress": UNKNOWN})
    rec = record("urn::r", "www", "CNAME", UNKNOWN, property_dependencies={"value": ["urn::cdn"]})
    linked = link_stack([cdn, eip, rec])
    assert [(t.urn, e.domains) for t, e in linked] == [("urn::cdn", ("www.example.cn",))]
    # an A record whose value is unknown links to an address-bearing dependency, not to a CDN
    rec_a = record("urn::a", "ip", "A", RAW_UNKNOWN, dependencies=["urn::cdn", "urn::eip"])
    assert [(t.urn, e.domains) for t, e in link_stack([cdn, eip, rec_a])] == [("urn::eip", ("ip.example.cn",))]


def test_props_are_matched_when_outputs_are_absent_and_region_from_config() -> None:
    eip = view("urn::eip", EIP, {"ipAddress": "1.1.1.1"}, None)
    linked = link_stack([eip, record("urn::r", "x", "A", "1.1.1.1")], stack_config={"alicloud:region": "cn-hongkong"})
    assert linked[0][1].area == "hongkong"


# ---------------------------------------------------------------------------------------------------------------
# Property-based: arbitrary values under the real wire keys never make an exception escape.

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(["internet", "Intranet", "public-read", "private", "overseas", "global", "cn-hongkong", "xx-1"]),
    st.just(UNKNOWN),
    st.just(RAW_UNKNOWN),
)
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=8), children, max_size=3),
        children.map(secret),
        st.dictionaries(st.sampled_from([TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM]), children, max_size=3),
    ),
    max_leaves=6,
)

_DNS_KEYS = ("domainName", "rr", "type", "value", "name", "hostRecord")
_ALL_TYPES = [*sorted(RESOURCE_TYPES), ALIDNS, "alicloud:dns/record:Record"]


@st.composite
def resource_props(draw: st.DrawFn, token: str) -> dict[str, Any]:
    keys = wire_names(token) if token in RESOURCE_TYPES else _DNS_KEYS
    return draw(st.dictionaries(st.sampled_from(keys), _values, max_size=8))


@st.composite
def resources(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    token = draw(st.sampled_from(_ALL_TYPES))
    return token, draw(resource_props(token))


_config = st.one_of(st.none(), st.dictionaries(st.sampled_from(["alicloud:region", "other"]), _values, max_size=2))
_provider = st.one_of(st.none(), st.dictionaries(st.sampled_from(["region", "profile"]), _values, max_size=2))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resource=resources(), provider=_provider, config=_config)
def test_no_exception_escapes_for_arbitrary_props(
    resource: tuple[str, dict[str, Any]], provider: dict[str, Any] | None, config: dict[str, Any] | None
) -> None:
    token, props = resource
    result = exposure_from_resource(token, props, name="r", provider_props=provider, stack_config=config)
    if token in RESOURCE_TYPES:
        assert isinstance(result, Exposure)
        assert result.area in ("mainland", "hongkong", "overseas")
        assert all(isinstance(d, str) and d for d in result.domains)
        # A path into JSON text is named ``property@json.key`` (the data's notation): its property is a wire name.
        assert {u.split(".")[0].removesuffix("@json") for u in result.unknown} <= {
            *wire_names(token),
            "region",
            "tags",
            *(f"tags.{t}" for t in (TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM)),
        }
    else:
        assert result is None
    link = dns_link(props)
    assert link is None or isinstance(link, DnsLink)
    region_of(provider, config)


_record_props = st.fixed_dictionaries(
    {
        "domainName": st.one_of(st.just("example.cn"), _values),
        "rr": st.one_of(st.sampled_from(["@", "www", "*"]), _values),
        "type": st.one_of(st.sampled_from(["A", "AAAA", "CNAME", "TXT"]), _values),
        "value": st.one_of(st.sampled_from(["1.2.3.4", "x.kunlunsl.com", "b.oss-cn-hangzhou.aliyuncs.com"]), _values),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(resources(), max_size=6),
    records=st.lists(_record_props, max_size=4),
    outputs=st.lists(
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["ipAddress", "cname", "dnsName", "publicIp", "address"]), _values, max_size=3
            ),
        ),
        min_size=6,
        max_size=6,
    ),
    config=_config,
)
def test_no_exception_escapes_link_stack(
    items: list[tuple[str, dict[str, Any]]],
    records: list[dict[str, Any]],
    outputs: list[dict[str, Any] | None],
    config: dict[str, Any] | None,
) -> None:
    views = [
        ResourceView(urn=f"urn::{i}", type=t, name=str(i), props=p, provider_props=SH, outputs=outputs[i])
        for i, (t, p) in enumerate(items)
    ]
    views += [
        ResourceView(
            urn=f"urn::r{i}",
            type=ALIDNS,
            name=f"r{i}",
            props=p,
            provider_props=None,
            dependencies=[v.urn for v in views],
            property_dependencies={"value": [v.urn for v in views[:1]]},
        )
        for i, p in enumerate(records)
    ]
    for target, exposure in link_stack(views, config):
        assert target in views
        assert exposure.public is True
        assert exposure.domains


# ---------------------------------------------------------------------------------------------------------------
# pulumi_policy's proxies raise on unknown values instead of returning them: read as unknown, never as absent.


def policy_proxy(target: dict[str, Any]) -> Any:
    """pulumi_policy's own proxy: item access to an unknown raises UnknownValueError."""
    from pulumi_policy.proxy import _DictProxy

    return _DictProxy(target, [])


def test_raising_proxy_unknown_is_public_and_listed() -> None:
    exposure = expo(ECS, policy_proxy({"internetMaxBandwidthOut": RAW_UNKNOWN}))
    assert (exposure.public, exposure.unknown) == (True, ("internetMaxBandwidthOut",))
    assert expo(ECS, policy_proxy({"internetMaxBandwidthOut": 0.0})).public is False


def test_raising_proxy_in_link_stack() -> None:
    eip = view(
        "urn::eip", EIP, policy_proxy({"ipAddress": RAW_UNKNOWN}), outputs=policy_proxy({"ipAddress": "1.2.3.4"})
    )
    rec = record("urn::r", "www", "A", "1.2.3.4")
    assert [t.urn for t, _ in link_stack([eip, rec])] == ["urn::eip"]


def test_module_is_pure() -> None:
    import subprocess
    import sys

    code = (
        "import sys, china_site.exposure; print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_bucket_website_alone_exposes_nothing() -> None:
    # The website configuration of a private bucket behind a CDN: the ACL, a custom domain or the CDN expose it.
    exposure = exposure_from_resource(
        "alicloud:oss/bucketWebsite:BucketWebsite",
        {"bucket": "b", "indexDocument": {"suffix": "index.html"}},
        provider_props={"region": "cn-shanghai"},
    )
    assert exposure is None


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("maybe", False), (None, False)])
def test_own_goods_tag_is_read_strictly(value: str | None, expected: bool) -> None:
    tags = {"china-site:domain": "shop.example.cn", "china-site:payments": "true"}
    if value is not None:
        tags["china-site:own-goods"] = value
    exposure = exposure_from_resource(
        "alicloud:alb/loadBalancer:LoadBalancer",
        {"addressType": "Internet", "tags": tags},
        provider_props={"region": "cn-shanghai"},
    )
    assert exposure is not None and exposure.own_goods is expected and exposure.payments is True


def test_own_goods_tag_unknown_reads_as_not_own_goods() -> None:
    tags = {"china-site:domain": "shop.example.cn", "china-site:own-goods": UNKNOWN}
    exposure = exposure_from_resource(
        "alicloud:alb/loadBalancer:LoadBalancer",
        {"addressType": "Internet", "tags": tags},
        provider_props={"region": "cn-shanghai"},
    )
    assert exposure is not None and exposure.own_goods is False
    assert "tags.china-site:own-goods" in exposure.unknown
