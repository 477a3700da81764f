"""Issue 18 item 3: template types (``ros.Stack``, ``ros.StackGroup``, …) are judged by what their template creates,
with the same data; a template that cannot be read, or a ROS type the table does not map, is reported — never a
silent pass. Through the pack's policies and through ``china-site audit``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from analyzer_harness import UNKNOWN_STRING
from test_exposure_types import (
    _export,
    _isolated_env,  # noqa: F401  (the autouse fixture, applied here too)
    _resource,
    audit,
    config,  # noqa: F401
    provider,
    rargs,
    registry,  # noqa: F401
    run,
)

from china_site.exposure import exposure_from_resource
from china_site.templates import MAX_TEMPLATE, read_template

STACK = "alicloud:ros/stack:Stack"
HOST = "www.unfiled-example.cn"
POLICIES = ("icp-filing-required", "untied-mainland-exposure", "unreviewed-exposure", "unreviewed-type")


def template(resources: dict[str, Any], parameters: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"ROSTemplateFormatVersion": "2015-09-01", "Resources": resources}
    if parameters:
        body["Parameters"] = parameters
    return json.dumps(body)


def ecs(bandwidth: object, domain: str | None = "www.unfiled-example.cn") -> dict[str, Any]:
    props: dict[str, Any] = {
        "ImageId": "centos_7",
        "InstanceType": "ecs.g6.large",
        "InternetMaxBandwidthOut": bandwidth,
    }
    if domain:
        props["Tags"] = [{"Key": "china-site:domain", "Value": domain}]
    return {"Type": "ALIYUN::ECS::Instance", "Properties": props}


def found(props: dict[str, Any], region: str, config: dict[str, Any], token: str = STACK) -> dict[str, list[str]]:  # noqa: F811
    args = rargs(token, props, config, provider(region))
    return {name: messages for name in POLICIES if (messages := run(name, args))}


def test_a_stack_creating_a_public_ecs_on_the_mainland(config: dict[str, Any]) -> None:  # noqa: F811
    props = {"stackName": "web", "templateBody": template({"Web": ecs(5)})}
    result = found(props, "cn-shanghai", config)
    assert list(result) == ["icp-filing-required"]
    assert "www.unfiled-example.cn" in result["icp-filing-required"][0]
    assert found(props, "cn-hongkong", config) == {}  # offshore
    private = {"stackName": "web", "templateBody": template({"Web": ecs(0)})}
    assert found(private, "cn-shanghai", config) == {}  # private


def test_parameters_are_resolved_from_the_stack_else_their_default(config: dict[str, Any]) -> None:  # noqa: F811
    body = template({"Web": ecs({"Ref": "Bandwidth"})}, {"Bandwidth": {"Type": "Number", "Default": 0}})
    assert found({"templateBody": body}, "cn-shanghai", config) == {}
    given = [{"parameterKey": "Bandwidth", "parameterValue": "10"}]
    assert "icp-filing-required" in found({"templateBody": body, "parameters": given}, "cn-shanghai", config)
    # A parameter with no value and no default, or another intrinsic function: unknown → the stricter reading.
    for value in ({"Ref": "Missing"}, {"Fn::GetAtt": ["X", "Bandwidth"]}):
        exposure = exposure_from_resource(
            STACK, {"templateBody": template({"Web": ecs(value)})}, provider_props={"region": "cn-shanghai"}
        )
        assert exposure is not None and exposure.public and "Resources.Web.internetMaxBandwidthOut" in exposure.unknown


def test_yaml_templates_with_short_form_tags(config: dict[str, Any]) -> None:  # noqa: F811
    body = """
ROSTemplateFormatVersion: '2015-09-01'
Parameters:
  Type: {Type: String, Default: internet}
Resources:
  Lb:
    Type: ALIYUN::SLB::LoadBalancer
    Properties:
      AddressType: !Ref Type
      Tags: [{Key: china-site:domain, Value: lb.unfiled-example.cn}]
"""
    assert "icp-filing-required" in found({"templateBody": body}, "cn-shanghai", config)
    private = [{"parameterKey": "Type", "parameterValue": "intranet"}]
    assert found({"templateBody": body, "parameters": private}, "cn-shanghai", config) == {}


def test_an_ack_cluster_with_an_internet_ingress_addon_in_a_template(config: dict[str, Any]) -> None:  # noqa: F811
    def cluster(network: str) -> dict[str, Any]:
        addon = {"Name": "nginx-ingress-controller", "Config": json.dumps({"IngressSlbNetworkType": network})}
        return {"Type": "ALIYUN::CS::ManagedKubernetesCluster", "Properties": {"Addons": [addon]}}

    public = {"templateBody": template({"K8s": cluster("internet")}), "tags": {"china-site:domain": "k8s.unfiled.cn"}}
    assert "icp-filing-required" in found(public, "cn-shanghai", config)
    # EndpointPublicAccess defaults to false in ROS (unlike slbInternetEnabled): an intranet ingress is private.
    assert found({"templateBody": template({"K8s": cluster("intranet")})}, "cn-shanghai", config) == {}


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"templateUrl": "oss://bucket/web.yaml"}, "only at a URL"),
        ({"templateBody": "{not json"}, "does not parse"),
        ({"templateBody": "Resources: [unclosed"}, "does not parse"),
        ({"templateBody": "x" * (MAX_TEMPLATE + 1)}, "longer than"),
        ({"templateBody": '{"a":' * 50_000 + "1" + "}" * 50_000}, "too deep"),
        ({"templateBody": "[" * 50_000}, "too deep"),  # libyaml crashed on it (PyYAML 6.0.3): the Python loader
        (
            {
                "templateBody": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6))
            },
            "too many nodes",
        ),
        ({"templateBody": json.dumps({"Resources": {"X": {"Properties": {}}}})}, "has no Type"),
        ({"templateBody": UNKNOWN_STRING}, "not known until it is created"),
        ({}, "no templateBody"),
    ],
)
def test_an_unreadable_template_on_the_mainland_is_mandatory(
    props: dict[str, Any],
    reason: str,
    config: dict[str, Any],  # noqa: F811
) -> None:
    result = found(props, "cn-shanghai", config)
    assert list(result) == ["unreviewed-exposure"], result
    [message] = result["unreviewed-exposure"]
    assert reason in message and "cannot be read" in message and "模板无法读取" in message
    offshore = found(props, "cn-hongkong", config)
    assert list(offshore) == ["unreviewed-type"]  # named, not blocking


def test_unmapped_ros_types(config: dict[str, Any]) -> None:  # noqa: F811
    public = {"Type": "ALIYUN::FUTURE::Site", "Properties": {"InternetAccess": True, "DomainName": "x.cn"}}
    harmless = {"Type": "ALIYUN::FUTURE::Log", "Properties": {"Retention": 7}}
    vpc = {"Type": "ALIYUN::ECS::VPC", "Properties": {"CidrBlock": "10.0.0.0/8"}}
    result = found({"templateBody": template({"A": public, "B": harmless, "C": vpc})}, "cn-shanghai", config)
    assert set(result) == {"unreviewed-exposure", "unreviewed-type"}
    [mandatory] = result["unreviewed-exposure"]
    assert "ALIYUN::FUTURE::Site" in mandatory and "InternetAccess" in mandatory
    [advisory] = result["unreviewed-type"]
    assert "ALIYUN::FUTURE::Log" in advisory and "ALIYUN::ECS::VPC" not in advisory


@pytest.mark.parametrize(
    ("token", "props", "mainland"),
    [
        (
            "alicloud:ros/stackInstance:StackInstance",
            {"stackGroupName": "g", "stackInstanceRegionId": "cn-beijing"},
            True,
        ),
        (
            "alicloud:ros/stackInstance:StackInstance",
            {"stackGroupName": "g", "stackInstanceRegionId": "cn-hongkong"},
            False,
        ),
        (
            "alicloud:ros/stackInstances:StackInstances",
            {"stackGroupName": "g", "regionIds": ["ap-southeast-1", "cn-beijing"]},
            True,
        ),
        ("alicloud:ros/stackInstances:StackInstances", {"stackGroupName": "g", "regionIds": ["ap-southeast-1"]}, False),
        ("alicloud:servicecatalog/provisionedProduct:ProvisionedProduct", {"stackRegionId": "cn-hangzhou"}, True),
    ],
)
def test_opaque_template_types_are_placed_by_their_region_property(
    token: str,
    props: dict[str, Any],
    mainland: bool,
    config: dict[str, Any],  # noqa: F811
) -> None:
    result = found(props, "cn-hongkong" if mainland else "cn-shanghai", config, token)  # the property decides
    assert list(result) == (["unreviewed-exposure"] if mainland else ["unreviewed-type"])


def test_read_template_maps_properties_to_wire_names() -> None:
    body = template(
        {
            "Bucket": {
                "Type": "ALIYUN::OSS::Bucket",
                "Properties": {
                    "BucketName": "site",
                    "AccessControl": "public-read",
                    "Policy": {"Statement": [{"Effect": "Allow"}]},
                },
            }
        }
    )
    tpl = read_template(STACK, {"templateBody": body})
    assert tpl is not None and tpl.unreadable is None
    [bucket] = tpl.resources
    assert bucket.token == "alicloud:oss/bucket:Bucket"
    # Renamed at the top; a nested document (a bucket policy) is kept as written.
    assert bucket.props == {"bucket": "site", "acl": "public-read", "policy": {"Statement": [{"Effect": "Allow"}]}}


def test_templates_through_the_audit(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    resources = [
        _resource(STACK, "public-sh", {"templateBody": template({"Web": ecs(5)})}, "sh"),
        _resource(STACK, "public-hk", {"templateBody": template({"Web": ecs(5)})}, "hk"),
        _resource(STACK, "private-sh", {"templateBody": template({"Web": ecs(0)})}, "sh"),
        _resource(STACK, "url-sh", {"templateUrl": "oss://b/t.yaml"}, "sh"),
    ]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai", "hk": "cn-hongkong"}), registry)
    got = {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]}
    assert got == {
        ("icp-filing-required", "mandatory", "public-sh"),
        ("unreviewed-exposure", "mandatory", "url-sh"),
    }


def test_alb_rule_host_conditions_in_a_template(config: dict[str, Any]) -> None:  # noqa: F811
    def rule(kind: str) -> dict[str, Any]:
        config_key = "HostConfig" if kind == "Host" else "PathConfig"
        condition = {"Type": kind, config_key: {"Values": [HOST if kind == "Host" else "/"]}}
        return {"Type": "ALIYUN::ALB::Rule", "Properties": {"ListenerId": "lsn-1", "RuleConditions": [condition]}}

    result = found({"templateBody": template({"R": rule("Host")})}, "cn-shanghai", config)
    assert list(result) == ["icp-filing-required"] and HOST in result["icp-filing-required"][0]
    assert found({"templateBody": template({"R": rule("Path")})}, "cn-shanghai", config) == {}


def test_databases_in_a_template_are_reviewed(config: dict[str, Any]) -> None:  # noqa: F811
    db = {"Type": "ALIYUN::RDS::DBInstance", "Properties": {"AllocatePublicConnection": True}}
    assert found({"templateBody": template({"Db": db})}, "cn-shanghai", config) == {}
