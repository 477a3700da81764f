"""Issue 18 items 1 and 6: effects across the resources of one stack, as data — what cancels an exposure (an
intranet load balancer under its rules, OSS Block Public Access, a disabled DNS record) and what ties a domain (a
network interface given an EIP). Each suppressor has its compliant case (no finding: a false positive is a defect)
and its failing case, through the pack's stack policy and through ``china-site audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from analyzer_harness import UNKNOWN_STRING
from pulumi_policy import PolicyResource, StackValidationArgs
from test_exposure_types import (
    OPTS,
    _export,
    _isolated_env,  # noqa: F401  (the autouse fixture, applied here too)
    _props,
    _resource,
    audit,
    config,  # noqa: F401
    provider,
    rargs,
    registry,  # noqa: F401
    run,
)

from china_site.exposure_stack import suppressors

ALB = "alicloud:alb/loadBalancer:LoadBalancer"
LISTENER = "alicloud:alb/listener:Listener"
ALB_RULE = "alicloud:alb/rule:Rule"
SLB = "alicloud:slb/loadBalancer:LoadBalancer"
SLB_RULE = "alicloud:slb/rule:Rule"
SLB_EXT = "alicloud:slb/domainExtension:DomainExtension"
BUCKET = "alicloud:oss/bucket:Bucket"
BUCKET_ACL = "alicloud:oss/bucketAcl:BucketAcl"
BPA = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_BPA = "alicloud:oss/accountPublicAccessBlock:AccountPublicAccessBlock"
EIP = "alicloud:ecs/eipAddress:EipAddress"
ASSOC = "alicloud:ecs/eipAssociation:EipAssociation"
ENI = "alicloud:ecs/ecsNetworkInterface:EcsNetworkInterface"
DNS = "alicloud:dns/alidnsRecord:AlidnsRecord"
HOST = "www.unfiled-example.cn"


class Stack:
    """Policy resources of one stack, wired by property dependencies as the engine sends them."""

    def __init__(self, region: str = "cn-shanghai") -> None:
        self.resources: list[PolicyResource] = []
        self.prov = provider(region)

    def add(self, token: str, name: str, props: dict[str, Any], **deps: PolicyResource) -> PolicyResource:
        resource = PolicyResource(
            token,
            _props(props),
            f"urn:pulumi:dev::p::{token}::{name}",
            name,
            OPTS,
            self.prov,
            None,
            list(deps.values()),
            {key: [dep] for key, dep in deps.items()},
        )
        self.resources.append(resource)
        return resource

    def linked(self, config: dict[str, Any]) -> list[str]:  # noqa: F811
        return run("dns-linked-exposure", StackValidationArgs(self.resources, dict(config), {}))


def alb_stack(address: dict[str, Any], region: str = "cn-shanghai") -> Stack:
    stack = Stack(region)
    lb = stack.add(ALB, "lb", {"vpcId": "vpc-1", **address})
    listener = stack.add(LISTENER, "https", {"listenerPort": 443, "listenerProtocol": "HTTPS"}, loadBalancerId=lb)
    rule = {"ruleName": "host", "priority": 1, "ruleConditions": [{"type": "Host", "hostConfig": {"values": [HOST]}}]}
    stack.add(ALB_RULE, "rule", rule, listenerId=listener)
    return stack


def test_every_suppressor_of_the_data_is_tested_here() -> None:
    assert {s.name for s in suppressors()} == {
        "intranet-classic-load-balancer",
        "intranet-application-load-balancer",
        "oss-block-public-access",
        "oss-account-block-public-access",
    }


def test_a_rule_on_an_intranet_alb_serves_nothing(config: dict[str, Any]) -> None:  # noqa: F811
    assert alb_stack({"addressType": "Intranet"}).linked(config) == []


@pytest.mark.parametrize(
    "address",
    [
        {"addressType": "Internet"},
        {"addressType": "Intranet", "addressIpVersion": "DualStack", "ipv6AddressType": "Internet"},
        {"addressType": UNKNOWN_STRING},  # unknown at preview: never suppresses
    ],
)
def test_a_rule_on_an_internet_alb_is_checked(address: dict[str, Any], config: dict[str, Any]) -> None:  # noqa: F811
    [message] = alb_stack(address).linked(config)
    assert message.startswith("[icp-filing-required]") and HOST in message and "judged with the stack" in message


def test_a_rule_whose_load_balancer_is_not_in_the_stack_is_checked(config: dict[str, Any]) -> None:  # noqa: F811
    stack = Stack()
    stack.add(ALB_RULE, "rule", {"ruleConditions": [{"type": "Host", "hostConfig": {"values": [HOST]}}]})
    assert len(stack.linked(config)) == 1


def test_a_rule_in_hong_kong_is_not_checked(config: dict[str, Any]) -> None:  # noqa: F811
    assert alb_stack({"addressType": "Internet"}, "cn-hongkong").linked(config) == []


def test_the_rule_alone_gets_no_resource_finding(config: dict[str, Any]) -> None:  # noqa: F811
    # A resource policy cannot see the load balancer: the verdict is the stack's (no double report).
    args = rargs(
        ALB_RULE,
        {"ruleConditions": [{"type": "Host", "hostConfig": {"values": [HOST]}}]},
        config,
        provider("cn-shanghai"),
    )
    assert run("icp-filing-required", args) == []


@pytest.mark.parametrize(("token", "props"), [(SLB_RULE, {"domain": HOST}), (SLB_EXT, {"domain": HOST})])
@pytest.mark.parametrize(("address", "findings"), [("intranet", 0), ("internet", 1)])
def test_classic_load_balancer_rules_and_domain_extensions(
    token: str,
    props: dict[str, Any],
    address: str,
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    stack = Stack()
    lb = stack.add(SLB, "lb", {"addressType": address})
    stack.add(token, "ext", {"frontendPort": 443, **props}, loadBalancerId=lb)
    assert len(stack.linked(config)) == findings


def bucket_stack(block: object, token: str = BPA) -> Stack:
    stack = Stack()
    stack.add(BUCKET, "bucket", {"bucket": "site", "tags": {"china-site:domain": HOST}})
    stack.add(BUCKET_ACL, "acl", {"bucket": "site", "acl": "public-read"})
    if block is not None:
        stack.add(
            token,
            "bpa",
            {"bucket": "site", "blockPublicAccess": block} if token == BPA else {"blockPublicAccess": block},
        )
    return stack


@pytest.mark.parametrize("token", [BPA, ACCOUNT_BPA])
def test_block_public_access_cancels_a_public_acl(token: str, config: dict[str, Any]) -> None:  # noqa: F811
    assert bucket_stack(True, token).linked(config) == []
    assert len(bucket_stack(False, token).linked(config)) == 1
    assert len(bucket_stack(UNKNOWN_STRING, token).linked(config)) == 1  # unknown: never suppresses


def test_block_public_access_of_another_bucket_does_not(config: dict[str, Any]) -> None:  # noqa: F811
    stack = bucket_stack(None)
    stack.add(BPA, "other", {"bucket": "other", "blockPublicAccess": True})
    assert len(stack.linked(config)) == 1


def eip_record(status: str | None) -> Stack:
    stack = Stack()
    eip = stack.add(EIP, "ip", {"bandwidth": "5", "ipAddress": "47.100.1.2"})
    record = {"domainName": "unfiled-example.cn", "rr": "www", "type": "A", "value": "47.100.1.2"}
    if status is not None:
        record["status"] = status
    stack.add(DNS, "www", record, value=eip)
    return stack


def test_a_disabled_dns_record_links_nothing(config: dict[str, Any]) -> None:  # noqa: F811
    assert eip_record("DISABLE").linked(config) == []
    assert len(eip_record("ENABLE").linked(config)) == 1
    assert len(eip_record(None).linked(config)) == 1


@pytest.mark.parametrize(("region", "findings"), [("cn-shanghai", 1), ("cn-hongkong", 0)])
def test_an_eip_on_a_tagged_network_interface_ties_its_domain(
    region: str,
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    stack = Stack(region)
    eip = stack.add(EIP, "ip", {"bandwidth": "5"})
    eni = stack.add(ENI, "eni", {"vswitchId": "vsw-1", "tags": {"china-site:domain": HOST}})
    stack.add(ASSOC, "bind", {"instanceType": "NetworkInterface"}, allocationId=eip, instanceId=eni)
    found = stack.linked(config)
    assert len(found) == findings
    if found:
        assert HOST in found[0] and "a public IP" in found[0]


def test_suppressors_through_the_audit(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    def wired(token: str, name: str, props: dict[str, Any], **deps: str) -> dict[str, Any]:
        resource = _resource(token, name, props, "sh")
        resource["dependencies"] = [f"urn:pulumi:prod::site::{t}::{n}" for t, n in deps.values()]
        resource["propertyDependencies"] = {k: [f"urn:pulumi:prod::site::{t}::{n}"] for k, (t, n) in deps.items()}
        return resource

    resources: list[dict[str, Any]] = []
    for kind, address in (("intranet", "Intranet"), ("internet", "Internet")):
        resources += [
            wired(ALB, f"lb-{kind}", {"vpcId": "vpc-1", "addressType": address}),
            wired(LISTENER, f"https-{kind}", {"listenerPort": 443}, loadBalancerId=(ALB, f"lb-{kind}")),
            wired(
                ALB_RULE,
                f"rule-{kind}",
                {"ruleConditions": [{"type": "Host", "hostConfig": {"values": [HOST]}}]},
                listenerId=(LISTENER, f"https-{kind}"),
            ),
        ]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai"}), registry)
    rules = {(f["policy"], f["name"]) for f in data["findings"] if f["name"].startswith("rule-")}
    assert rules == {("dns-linked-exposure", "rule-internet")}


IPV6_BANDWIDTH = "alicloud:vpc/ipv6InternetBandwidth:Ipv6InternetBandwidth"


@pytest.mark.parametrize(
    ("token", "props"),
    [
        ("alicloud:ecs/instance:Instance", {"internetMaxBandwidthOut": 0, "ipv6AddressCount": 1}),
        ("alicloud:vpc/ipv6Address:Ipv6Address", {"vswitchId": "vsw-1"}),
    ],
)
@pytest.mark.parametrize(("region", "findings"), [("cn-shanghai", 1), ("cn-hongkong", 0)])
def test_ipv6_internet_bandwidth_ties_the_domain_of_its_address(
    token: str,
    props: dict[str, Any],
    region: str,
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    stack = Stack(region)
    owner = stack.add(token, "owner", {**props, "tags": {"china-site:domain": HOST}})
    stack.add(IPV6_BANDWIDTH, "v6", {"bandwidth": 5, "ipv6GatewayId": "ipv6gw-1"}, ipv6AddressId=owner)
    found = stack.linked(config)
    assert len(found) == findings
    if found:
        assert HOST in found[0]


def test_the_packs_linker_types_are_the_datas() -> None:
    from china_site.exposure_stack import links
    from china_site.policies._exposures import BUCKET_LINKER_TYPES, LINKER_TYPES

    assert BUCKET_LINKER_TYPES | set(links()) == LINKER_TYPES


def test_every_exposing_type_records_the_paths_considered_and_the_source() -> None:
    from china_site.exposure import RESOURCE_TYPES

    missing = [t for t, spec in RESOURCE_TYPES.items() if not spec.considered or not spec.source]
    assert missing == []


ESA_SITE = "alicloud:esa/site:Site"
ESA_RECORD = "alicloud:esa/record:Record"


@pytest.mark.parametrize(
    ("coverage", "api_region", "findings"),
    [
        ("domestic", "ap-southeast-1", 1),  # an international account's API region; the site serves the mainland
        ("global", "ap-southeast-1", 1),
        ("overseas", "cn-hangzhou", 0),  # a mainland API region; the site serves outside the mainland
        (None, "cn-hangzhou", 1),  # no site in the stack: the provider's region
        (None, "ap-southeast-1", 0),
    ],
)
def test_an_esa_record_is_served_where_its_site_is(
    coverage: str | None,
    api_region: str,
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    stack = Stack(api_region)
    record = {"recordName": HOST, "recordType": "A/AAAA", "proxied": True, "data": {"value": "1.2.3.4"}}
    if coverage is None:
        stack.add(ESA_RECORD, "www", record)
    else:
        site = stack.add(ESA_SITE, "site", {"siteName": "example.net", "coverage": coverage, "accessType": "NS"})
        stack.add(ESA_RECORD, "www", record, siteId=site)
    found = [m for m in stack.linked(config) if "esa/record" in m]
    assert len(found) == findings, stack.linked(config)


def test_every_stack_effect_through_the_audit(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    """One export holding a compliant and a failing twin of each effect (Block Public Access, a disabled record, a
    classic load balancer's domain extension, a network interface's EIP, an ESA site's coverage)."""

    def res(token: str, name: str, props: dict[str, Any], prov: str = "sh", **deps: tuple[str, str]) -> dict[str, Any]:
        resource = _resource(token, name, props, prov)
        urns = {k: f"urn:pulumi:prod::site::{t}::{n}" for k, (t, n) in deps.items()}
        resource["dependencies"] = list(urns.values())
        resource["propertyDependencies"] = {k: [u] for k, u in urns.items()}
        return resource

    tagged = {"tags": {"china-site:domain": HOST}}
    resources: list[dict[str, Any]] = []
    for kind, on in (("ok", True), ("bad", False)):
        resources += [
            res(BUCKET, f"bucket-{kind}", {"bucket": f"site-{kind}", **tagged}),
            res(BUCKET_ACL, f"acl-{kind}", {"bucket": f"site-{kind}", "acl": "public-read"}),
            res(BPA, f"bpa-{kind}", {"bucket": f"site-{kind}", "blockPublicAccess": on}),
            res(EIP, f"ip-{kind}", {"bandwidth": "5", "ipAddress": f"47.100.1.{int(on)}"}),
            res(
                DNS,
                f"www-{kind}",
                {
                    "domainName": "unfiled-example.cn",
                    "rr": f"www{int(on)}",
                    "type": "A",
                    "value": f"47.100.1.{int(on)}",
                    "status": "DISABLE" if on else "ENABLE",
                },
            ),
            res(SLB, f"clb-{kind}", {"addressType": "intranet" if on else "internet"}),
            res(SLB_EXT, f"ext-{kind}", {"domain": HOST, "frontendPort": 443}, loadBalancerId=(SLB, f"clb-{kind}")),
            res(ESA_SITE, f"site-{kind}", {"siteName": "example.net", "coverage": "overseas" if on else "domestic"}),
            res(
                ESA_RECORD,
                f"rec-{kind}",
                {"recordName": HOST, "proxied": True},
                "hk",
                siteId=(ESA_SITE, f"site-{kind}"),
            ),
        ]
    resources += [
        res(EIP, "eni-ip", {"bandwidth": "5"}),
        res(ENI, "eni", {"vswitchId": "vsw-1", **tagged}),
        res(ASSOC, "bind", {"instanceType": "NetworkInterface"}, allocationId=(EIP, "eni-ip"), instanceId=(ENI, "eni")),
    ]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai", "hk": "ap-southeast-1"}), registry)
    linked = {f["name"] for f in data["findings"] if f["policy"] == "dns-linked-exposure"}
    assert linked == {"acl-bad", "www-bad", "ext-bad", "rec-bad", "bind"}, data["findings"]


GA = "alicloud:ga/accelerator:Accelerator"
GA_IP_SET = "alicloud:ga/ipSet:IpSet"


@pytest.mark.parametrize(
    ("regions", "findings"),
    [
        (["cn-hongkong"], 0),  # accelerated only from Hong Kong: no mainland serving, whatever the API region
        (["cn-hongkong", "cn-shanghai"], 1),  # one mainland acceleration region is enough
        ([], 1),  # no IP set in the stack: the provider's region (GA's API region, cn-hangzhou)
    ],
)
@pytest.mark.parametrize(
    ("token", "props"),
    [
        ("alicloud:ga/domain:Domain", {"domain": HOST}),
        (
            "alicloud:ga/forwardingRule:ForwardingRule",
            {"ruleConditions": [{"ruleConditionType": "Host", "hostConfigs": [{"values": [HOST]}]}]},
        ),
    ],
)
def test_global_accelerator_serves_where_its_ip_sets_are(
    token: str,
    props: dict[str, Any],
    regions: list[str],
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    stack = Stack("cn-hangzhou")
    accelerator = stack.add(GA, "ga", {"spec": "1"})
    for index, region in enumerate(regions):
        stack.add(GA_IP_SET, f"ips-{index}", {"accelerateRegionId": region, "bandwidth": 5}, acceleratorId=accelerator)
    stack.add(token, "served", props, acceleratorId=accelerator)
    found = [m for m in stack.linked(config) if "'served'" in m]
    assert len(found) == findings


def test_deferred_types_are_public_only_under_their_own_domain() -> None:
    # dns-linked-exposure reports only mandatory findings: a deferred type must never need the advisory "untied".
    from china_site.exposure import RESOURCE_TYPES
    from china_site.exposure_stack import deferred_types

    assert deferred_types() <= set(RESOURCE_TYPES)
    assert all(RESOURCE_TYPES[t].domain_required for t in deferred_types())


@pytest.mark.parametrize(("coverage", "findings"), [("domestic", 1), ("overseas", 0)])
def test_without_dependencies_an_esa_record_is_placed_at_the_strictest(
    coverage: str,
    findings: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    # Engine events carry no dependencies: with a mainland-serving ESA site in the stack, a record of an offshore API
    # region is judged as if it were that site's (the engine, which knows, can only be as strict).
    stack = Stack("ap-southeast-1")
    stack.add(ESA_SITE, "site", {"siteName": "example.net", "coverage": coverage, "accessType": "NS"})
    stack.add(ESA_RECORD, "www", {"recordName": HOST, "proxied": True})  # no siteId dependency
    found = [m for m in stack.linked(config) if "esa/record" in m]
    assert len(found) == findings


def test_without_dependencies_a_ga_domain_is_never_placed_more_leniently(config: dict[str, Any]) -> None:  # noqa: F811
    stack = Stack("cn-hangzhou")
    accelerator = stack.add(GA, "ga", {"spec": "1"})
    stack.add(GA_IP_SET, "ips", {"accelerateRegionId": "cn-hongkong", "bandwidth": 5}, acceleratorId=accelerator)
    stack.add("alicloud:ga/domain:Domain", "served", {"domain": HOST})  # no acceleratorId dependency
    assert len([m for m in stack.linked(config) if "'served'" in m]) == 1  # its own region (cn-hangzhou) stands


# ---------------------------------------------------------------------------------------------------------------
# A bucket's own public ACL or policy under OSS Block Public Access (a false positive is a defect): the bucket is
# stack-judged — every resource policy judges it at AnalyzeStack, where the suppressor is seen.

PUBLIC_POLICY = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Principal":["*"],"Action":["oss:GetObject"],'
    '"Resource":["acs:oss:*:*:site/*"]}]}'
)


def every_policy(stack: Stack, config: dict[str, Any]) -> set[tuple[str, str]]:  # noqa: F811
    """(policy, resource name) of every violation of the whole pack: each resource policy per resource (Analyze),
    then every stack policy and every resource policy that judges the stack (AnalyzeStack), as the engine does."""
    from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy

    from china_site.policies._adapter import StackJudgingPolicy
    from china_site.policies.pack import POLICIES as PACK

    found: set[tuple[str, str]] = set()
    names = {r.urn: r.name for r in stack.resources}
    for policy in PACK:
        if isinstance(policy, ResourceValidationPolicy):
            for r in stack.resources:
                args = ResourceValidationArgs(
                    r.resource_type, r.props, r.urn, r.name, OPTS, r.provider, dict(config), {}
                )
                found |= {(policy.name, r.name) for _ in run(policy.name, args)}
        if isinstance(policy, StackValidationPolicy | StackJudgingPolicy):
            out: list[str | None] = []
            policy.validate(
                StackValidationArgs(stack.resources, dict(config), {}),
                lambda message, urn=None, out=out: out.append(urn),  # type: ignore[arg-type,misc]
            )
            found |= {(policy.name, names.get(urn or "", "?")) for urn in out}
    return found


def own_bucket(own: dict[str, Any], tagged: bool, block: object, token: str = BPA, other: bool = False) -> Stack:
    stack = Stack()
    tags = {"tags": {"china-site:domain": HOST}} if tagged else {}
    stack.add(BUCKET, "bucket", {"bucket": "site", **own, **tags})
    if block is not None:
        props: dict[str, Any] = {"blockPublicAccess": block}
        stack.add(token, "bpa", {"bucket": "other" if other else "site", **props} if token == BPA else props)
    return stack


OWN = [{"acl": "public-read"}, {"acl": "public-read-write"}, {"policy": PUBLIC_POLICY}]


@pytest.mark.parametrize("own", OWN)
@pytest.mark.parametrize("token", [BPA, ACCOUNT_BPA])
@pytest.mark.parametrize("tagged", [True, False])
def test_block_public_access_cancels_the_buckets_own_acl_or_policy(
    own: dict[str, Any],
    token: str,
    tagged: bool,
    config: dict[str, Any],  # noqa: F811
) -> None:
    assert every_policy(own_bucket(own, tagged, True, token), config) == set()


@pytest.mark.parametrize("own", OWN)
@pytest.mark.parametrize("tagged", [True, False])
@pytest.mark.parametrize(
    ("block", "token", "other"),
    [
        (None, BPA, False),  # no Block Public Access in the stack
        (False, BPA, False),
        (False, ACCOUNT_BPA, False),
        (UNKNOWN_STRING, BPA, False),  # unknown at preview: never suppresses
        (UNKNOWN_STRING, ACCOUNT_BPA, False),
        (True, BPA, True),  # another bucket's
    ],
)
def test_a_public_bucket_without_block_public_access_keeps_its_finding(
    own: dict[str, Any],
    tagged: bool,
    block: object,
    token: str,
    other: bool,
    config: dict[str, Any],  # noqa: F811
) -> None:
    expected = "icp-filing-required" if tagged else "untied-mainland-exposure"  # the untied advisory is kept
    assert every_policy(own_bucket(own, tagged, block, token, other), config) == {(expected, "bucket")}


def test_a_private_bucket_and_a_hong_kong_bucket_get_nothing(config: dict[str, Any]) -> None:  # noqa: F811
    assert every_policy(own_bucket({"acl": "private"}, True, None), config) == set()
    stack = Stack("cn-hongkong")
    stack.add(BUCKET, "bucket", {"bucket": "site", "acl": "public-read", "tags": {"china-site:domain": HOST}})
    assert every_policy(stack, config) == set()


def test_block_public_access_cancels_the_bucket_and_its_acl_resource(config: dict[str, Any]) -> None:  # noqa: F811
    """The bucket's own ACL and an oss.BucketAcl of it, one Block Public Access: nothing from any policy."""
    for block, expected in (
        (True, set()),
        (
            False,
            {("icp-filing-required", "bucket"), ("untied-mainland-exposure", "acl"), ("dns-linked-exposure", "acl")},
        ),
    ):
        stack = own_bucket({"acl": "public-read"}, True, block)
        stack.add(BUCKET_ACL, "acl", {"bucket": "site", "acl": "public-read"})
        assert every_policy(stack, config) == expected


def test_block_public_access_of_a_bucket_through_the_audit(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    resources: list[dict[str, Any]] = []
    for kind, on in (("ok", True), ("bad", False)):
        for tag, tags in (("tagged", {"tags": {"china-site:domain": HOST}}), ("untied", {})):
            name = f"{kind}-{tag}"
            resources += [
                _resource(BUCKET, f"bucket-{name}", {"bucket": name, "acl": "public-read", **tags}, "sh"),
                _resource(BPA, f"bpa-{name}", {"bucket": name, "blockPublicAccess": on}, "sh"),
            ]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai"}), registry)
    found = {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]}
    assert found == {
        ("icp-filing-required", "mandatory", "bucket-bad-tagged"),
        ("untied-mainland-exposure", "advisory", "bucket-bad-untied"),
    }, data["findings"]
    # The bucket's own public policy under the account's Block Public Access (a stack of its own each).
    for on, expected in ((True, set()), (False, {("untied-mainland-exposure", "advisory", "bucket")})):
        account = [
            _resource(BUCKET, "bucket", {"bucket": "site", "policy": PUBLIC_POLICY}, "sh"),
            _resource(ACCOUNT_BPA, "account-bpa", {"blockPublicAccess": on}, "sh"),
        ]
        data = audit(tmp_path, _export(account, {"sh": "cn-shanghai"}), registry)
        assert {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]} == expected, data["findings"]


@pytest.mark.parametrize(
    "levels",
    [
        {},
        # Both stack policies off: the pack builds the stack's resources itself for the resource policies.
        {"dns-linked-exposure": "disabled", "filing-registry-available": "disabled"},
        # A resource policy off is off at AnalyzeStack too.
        {"untied-mainland-exposure": "disabled"},
    ],
)
def test_stack_judged_findings_follow_each_policys_own_level(
    levels: dict[str, str],
    tmp_path: Path,
    registry: Path,  # noqa: F811
) -> None:
    import json

    resources: list[dict[str, Any]] = []
    for kind, on in (("ok", True), ("bad", False)):
        for tag, tags in (("tagged", {"tags": {"china-site:domain": HOST}}), ("untied", {})):
            name = f"{kind}-{tag}"
            resources += [
                _resource(BUCKET, f"bucket-{name}", {"bucket": name, "policy": PUBLIC_POLICY, **tags}, "sh"),
                _resource(BPA, f"bpa-{name}", {"bucket": name, "blockPublicAccess": on}, "sh"),
            ]
    policy_config = tmp_path / "policy.json"
    policy_config.write_text(json.dumps({p: {"enforcementLevel": v} for p, v in levels.items()}), encoding="utf-8")
    export = _export(resources, {"sh": "cn-shanghai"})
    data = audit(tmp_path, export, registry, "--policy-config", str(policy_config))
    expected = {("icp-filing-required", "mandatory", "bucket-bad-tagged")}
    if "untied-mainland-exposure" not in levels:
        expected.add(("untied-mainland-exposure", "advisory", "bucket-bad-untied"))
    assert {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]} == expected, data["findings"]
