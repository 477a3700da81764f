"""Issue 18: the further paths to the internet, serving areas and suppressors recorded beside each type in
``china_site/data/exposure_types.yaml`` (``cases``). Every case is run three ways — its public inputs in a mainland
region (a finding), the same inputs in Hong Kong (none, unless the type serves mainland nodes whatever its region)
and its private inputs in a mainland region (none: a suppressor that is honoured must not cry wolf) — through the
pack's policies and through ``china-site audit``. Also the vocabulary those cases use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_exposure_types import (
    EXPOSING,
    UNFILED_TAG,
    _export,
    _isolated_env,  # noqa: F401  (the autouse fixture, applied here too)
    _resource,
    audit,
    config,  # noqa: F401
    judged,
    provider,
    registry,  # noqa: F401
    run,
    stack_args,
)

from china_site.exposure import RESOURCE_TYPES, ExposureDataError, exposure_data, exposure_from_resource
from china_site.exposure_data import _compile
from china_site.policies._exposures import is_deferred

CASES = [(token, index) for token in EXPOSING for index in range(len(RESOURCE_TYPES[token].cases))]
MAINLAND, HONG_KONG = "cn-shanghai", "cn-hongkong"


def _case(token: str, index: int, kind: str, tag: bool = True) -> dict[str, Any]:
    props = json.loads(json.dumps(dict(RESOURCE_TYPES[token].cases[index][kind])))
    if tag and "tags" not in props and RESOURCE_TYPES[token].domain_paths == ():
        props["tags"] = {"china-site:domain": UNFILED_TAG}
    return props


def _findings(token: str, props: dict[str, Any], region: str, config: dict[str, Any]) -> list[str]:  # noqa: F811
    args = judged(token, props, config, provider(region))
    found = run("icp-filing-required", args) + run("untied-mainland-exposure", args)
    if is_deferred(token):  # judged with the stack (here: the resource alone in it)
        assert found == []
        found = run("dns-linked-exposure", stack_args(token, props, config, provider(region)))
    return found


def test_the_review_added_paths_and_suppressors() -> None:
    assert len(CASES) >= 12
    paths = {c["path"] for t in EXPOSING for c in RESOURCE_TYPES[t].cases}
    assert any("addon" in p for p in paths) and any("suppressor" in p for p in paths)


@pytest.mark.parametrize(("token", "index"), CASES)
def test_each_path_public_on_the_mainland(token: str, index: int, config: dict[str, Any]) -> None:  # noqa: F811
    props = _case(token, index, "public")
    exposure = exposure_from_resource(token, props, provider_props={"region": MAINLAND})
    assert exposure is not None and exposure.public and exposure.area == "mainland"
    assert _findings(token, props, MAINLAND, config), RESOURCE_TYPES[token].cases[index]["path"]


@pytest.mark.parametrize(("token", "index"), CASES)
def test_each_path_offshore_gets_no_finding(token: str, index: int, config: dict[str, Any]) -> None:  # noqa: F811
    props = _case(token, index, "public")
    assert _findings(token, props, HONG_KONG, config) == []


@pytest.mark.parametrize(("token", "index"), CASES)
def test_each_path_private_or_suppressed_gets_no_finding(
    token: str,
    index: int,
    config: dict[str, Any],  # noqa: F811
) -> None:
    props = _case(token, index, "private")
    exposure = exposure_from_resource(token, props, provider_props={"region": MAINLAND})
    assert exposure is not None and exposure.public is False, props
    assert _findings(token, props, MAINLAND, config) == []


def test_every_case_through_the_audit(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    resources: list[dict[str, Any]] = []
    expected: set[str] = set()
    for n, (token, index) in enumerate(CASES):
        for kind, region in (("public", "sh"), ("public", "hk"), ("private", "sh")):
            name = f"{kind}-{region}-{n}"
            resources.append(_resource(token, name, _case(token, index, kind), region))
            if kind == "public" and region == "sh":
                expected.add(name)
    data = audit(tmp_path, _export(resources, {"sh": MAINLAND, "hk": HONG_KONG}), registry)
    deferred = {f"{kind}-{region}-{n}" for n, (t, _) in enumerate(CASES) if is_deferred(t) for kind, region in
                (("public", "sh"), ("public", "hk"), ("private", "sh"))}  # fmt: skip
    found = {
        f["name"]
        for f in data["findings"]
        if f["policy"] in ("icp-filing-required", "untied-mainland-exposure")
        or (f["policy"] == "dns-linked-exposure" and f["name"] in deferred)  # judged with the stack
    }
    assert found == expected


# ---------------------------------------------------------------------------------------------------------------
# The vocabulary


def _expose(spec: dict[str, Any], props: dict[str, Any], region: str = MAINLAND) -> Any:
    resource = _compile("alicloud:x/y:Z", {"product": "x", "how": "y", **spec})
    from china_site.exposure_deciders import _Ctx

    ctx = _Ctx(props)
    return resource.handler(ctx), ctx.unknown


ADDON = next(
    part
    for part in exposure_data()["exposing"]["alicloud:cs/managedKubernetes:ManagedKubernetes"]["public"]["any"]
    if "each" in part
)


@pytest.mark.parametrize(
    ("addons", "public"),
    [
        ([{"name": "nginx-ingress-controller", "config": '{"IngressSlbNetworkType":"internet"}'}], True),
        ([{"name": "nginx-ingress-controller", "config": '{"IngressSlbNetworkType":"intranet"}'}], False),
        ([{"name": "nginx-ingress-controller"}], True),  # the addon's default: an internet load balancer
        ([{"name": "nginx-ingress-controller", "config": "{not json"}], True),  # unreadable: the stricter reading
        ([{"name": "nginx-ingress-controller", "config": "[" * 5000}], True),  # too deep to parse: stricter
        ([{"name": "nginx-ingress-controller", "config": {"IngressSlbNetworkType": "intranet"}}], False),
        ([{"name": "nginx-ingress-controller", "disabled": True}], False),
        ([{"name": "nginx-ingress-controller", "disabled": "maybe"}], True),
        ([{"name": "csi-plugin", "config": '{"IngressSlbNetworkType":"internet"}'}], False),
        ([{"name": "csi-plugin"}, {"name": "nginx-ingress-controller"}], True),
        (["nginx-ingress-controller"], True),  # the wrong shape
        ([], False),
    ],
)
def test_each_item_of_a_list_is_judged_alone(addons: list[Any], public: bool) -> None:
    facts, _ = _expose({"public": ADDON}, {"addons": addons})
    assert facts.public is public


def test_an_unknown_item_or_flag_is_public_and_named() -> None:
    from china_site.exposure import UNKNOWN

    facts, unknown = _expose({"public": ADDON}, {"addons": UNKNOWN})
    assert facts.public and unknown == ["addons"]
    facts, unknown = _expose({"public": ADDON}, {"addons": [{"name": "nginx-ingress-controller", "disabled": UNKNOWN}]})
    assert facts.public and unknown == ["addons.disabled"]


def test_regions_area_is_the_strictest_listed() -> None:
    spec = {"public": "always", "area": {"regions": "regions"}}
    assert _expose(spec, {"regions": ["us-west-1", "cn-hongkong"]})[0].area == "hongkong"
    assert _expose(spec, {"regions": ["us-west-1", "cn-beijing"]})[0].area == "mainland"
    assert _expose(spec, {"regions": [7]})[0].area == "mainland"
    assert _expose(spec, {})[0].area is None  # none listed: the provider's region


def test_bad_new_vocabulary_is_refused_with_its_place() -> None:
    good = {"product": "x", "how": "y"}
    for public in (
        {"each": "addons"},
        {"all": []},
        {"not": {"present": "x"}},
        {"bucket_policy": "p", "private_conditions": "acs:SourceVpc"},
    ):
        with pytest.raises(ExposureDataError, match=r"exposing\.alicloud:x/y:Z"):
            _compile("alicloud:x/y:Z", {**good, "public": public})
    for extra in ({"cases": [{"path": "p"}]}, {"source": 3}, {"area": "moon"}):
        with pytest.raises(ExposureDataError, match=r"exposing\.alicloud:x/y:Z"):
            _compile("alicloud:x/y:Z", {**good, "public": "always", **extra})


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        ({"StringEquals": {"acs:SourceVpc": ["vpc-1"]}}, False),
        ({"StringLike": {"acs:SourceVpc": "vpc-*"}}, False),
        ({"StringNotEquals": {"acs:SourceVpc": ["vpc-1"]}}, True),  # everyone but that VPC: public
        ({"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}, True),  # internet addresses: still public
        ({"StringEquals": {"acs:SourceVpc": [""]}}, True),
        ({}, True),
    ],
)
def test_a_vpc_only_bucket_policy_is_not_public(condition: dict[str, Any], public: bool) -> None:
    statement = {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:b/*"]}
    policy = json.dumps({"Version": "1", "Statement": [{**statement, "Condition": condition}]})
    exposure = exposure_from_resource(
        "alicloud:oss/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": policy}, provider_props={"region": MAINLAND}
    )
    assert exposure is not None and exposure.public is public
