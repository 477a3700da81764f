"""Every pulumi-alicloud resource type is classified (china_site/data/exposure_types.yaml), and every exposing one is
checked: a mainland case (unfiled domain → mandatory, or the documented advisory when no domain can be tied) and a
Hong Kong/overseas case (no finding), built from the examples kept beside the data — through the pack's policies
directly and through ``china-site audit`` on an export-shaped artifact. Also the misreadings issue 11 names."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from analyzer_harness import UNKNOWN_STRING
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy
from registry_data import TODAY, write_registry
from typer.testing import CliRunner

from china_site.cli import app
from china_site.exposure import (
    EXPLICIT_PROVIDER_NOTE,
    RESOURCE_TYPES,
    ResourceType,
    exposure_data,
    exposure_from_resource,
    region_of,
    reviewed_types,
)
from china_site.exposure_stack import area_sources
from china_site.policies import _adapter, pack
from china_site.policies._exposures import is_deferred, is_stack_judged

POLICIES = {p.name: p for p in pack.POLICIES}
OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
UNFILED_TAG = "tagged.unfiled-example.cn"
runner = CliRunner()


# ---------------------------------------------------------------------------------------------------------------
# The installed provider's resource types, read from the package itself (no import of its 150 modules)


def _sdk_dir() -> Path:
    spec = importlib.util.find_spec("pulumi_alicloud")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def sdk_types() -> dict[str, tuple[str, ...]]:
    """Every resource class of the installed pulumi_alicloud: type token → its input wire names.

    A class is a resource when its constructor passes a literal ``alicloud:`` token to ``CustomResource``; the
    package's own module registry (``resource_modules`` in ``__init__.py``) must list exactly the same tokens."""
    found: dict[str, tuple[str, ...]] = {}
    token_re = re.compile(r"super\(\w*,?\s*__self__\)\.__init__\(\s*'(alicloud:[^']+)'")
    for path in _sdk_dir().rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in token_re.finditer(text):
            token = match.group(1)
            cls = token.rsplit(":", 1)[1]
            args = re.search(rf"^class {cls}Args:(.*?)^class ", text, re.S | re.M)
            names = re.findall(r"@pulumi\.getter(?:\(name=\"(\w+)\"\))?\n\s+def (\w+)", args.group(1)) if args else []
            found[token] = tuple(dict.fromkeys(a or b for a, b in names))
    registry = re.search(
        r'resource_modules="""(.*?)"""', (_sdk_dir() / "__init__.py").read_text(encoding="utf-8"), re.S
    )
    assert registry is not None
    listed = {token for module in json.loads(registry.group(1)) for token in module["classes"]}
    assert listed == set(found), "the SDK's module registry and its resource classes disagree"
    return found


SDK = sdk_types()
REVIEWED = reviewed_types()
EXPOSING = sorted(RESOURCE_TYPES)


def test_every_resource_type_of_the_installed_provider_is_classified() -> None:
    unclassified = sorted(set(SDK) - set(RESOURCE_TYPES) - set(REVIEWED))
    assert not unclassified, (
        f"{len(unclassified)} pulumi-alicloud type(s) in neither list of china_site/data/exposure_types.yaml "
        f"(review each one's inputs and add it to exposing or reviewed): {unclassified[:20]}"
    )
    assert not set(RESOURCE_TYPES) & set(REVIEWED), "a type is both exposing and reviewed"
    stale = sorted((set(RESOURCE_TYPES) | set(REVIEWED)) - set(SDK))
    assert not stale, f"types that the installed provider does not have (renamed or removed): {stale[:20]}"


def test_the_data_names_the_provider_version_it_was_reviewed_against() -> None:
    from importlib.metadata import version

    provider = exposure_data()["provider"]
    assert provider["version"] == version("pulumi_alicloud")
    assert provider["types"] == len(SDK) == len(RESOURCE_TYPES) + len(REVIEWED)


def test_policy_time_parses_only_the_exposing_part_and_it_is_the_same() -> None:
    from china_site.exposure_data import _exposing_data

    assert _exposing_data() == exposure_data()["exposing"]


def test_counts() -> None:
    assert len(SDK) == 1224
    assert len(RESOURCE_TYPES) == 76


def test_issue_11_types_are_exposing() -> None:
    named = {
        "alicloud:simpleapplicationserver/instance:Instance",
        "alicloud:esa/site:Site",
        "alicloud:esa/record:Record",
        "alicloud:fc/trigger:Trigger",
        "alicloud:fc/v3Trigger:V3Trigger",
        "alicloud:fc/customDomain:CustomDomain",
        "alicloud:fc/v3CustomDomain:V3CustomDomain",
        "alicloud:oss/bucketPolicy:BucketPolicy",
        "alicloud:oss/bucketObject:BucketObject",
        "alicloud:sae/loadBalancerInternet:LoadBalancerInternet",
        "alicloud:sae/ingress:Ingress",
        "alicloud:vod/domain:Domain",
        "alicloud:live/domain:Domain",
        "alicloud:scdn/domain:Domain",
        "alicloud:dcdn/ipaDomain:IpaDomain",
        "alicloud:ga/domain:Domain",
        "alicloud:ga/endpointGroup:EndpointGroup",
        "alicloud:apigateway/group:Group",
        "alicloud:apig/gateway:Gateway",
        "alicloud:apig/domain:Domain",
        "alicloud:mse/gateway:Gateway",
        "alicloud:cs/nodePool:NodePool",
        "alicloud:cs/edgeKubernetes:EdgeKubernetes",
        "alicloud:eci/containerGroup:ContainerGroup",
        "alicloud:ess/scalingConfiguration:ScalingConfiguration",
        "alicloud:ecs/launchTemplate:LaunchTemplate",
        "alicloud:ecs/ecsLaunchTemplate:EcsLaunchTemplate",
        "alicloud:ens/instance:Instance",
        "alicloud:ens/eip:Eip",
        "alicloud:ddos/domainResource:DomainResource",
        "alicloud:vpc/ipv6InternetBandwidth:Ipv6InternetBandwidth",
        "alicloud:ecs/eipSegmentAddress:EipSegmentAddress",
        "alicloud:edas/k8sSlbAttachment:K8sSlbAttachment",
    }
    assert named <= set(RESOURCE_TYPES)


@pytest.mark.parametrize("token", EXPOSING)
def test_exposing_entries_use_the_sdk_wire_names(token: str) -> None:
    spec = RESOURCE_TYPES[token]
    inputs = set(SDK[token])
    assert set(spec.example) <= inputs, f"example keys that are not inputs: {set(spec.example) - inputs}"
    assert spec.how and spec.product
    # domain / deciding paths start at a real property (inputs, or outputs for addresses and cnames: the
    # wire-name check against the class's properties is tests/test_exposure.py's)
    assert not spec.domain_paths or spec.domain_paths[0].split(".")[0].removesuffix("[]") in inputs


def test_every_error_code_family_is_a_product_of_an_exposing_type() -> None:
    from china_site import datafiles

    families = set(datafiles.load("error_codes")["families"])
    assert families <= {spec.product for spec in RESOURCE_TYPES.values()}


def test_a_bad_data_entry_is_refused_with_its_place() -> None:
    from china_site.exposure import ExposureDataError
    from china_site.exposure_data import _compile

    good = {"product": "x", "how": "y", "public": "always"}
    _compile("alicloud:x/y:Z", good)
    for bad in (
        {**good, "public": "sometimes"},
        {**good, "public": {"values": "acl"}},
        {**good, "public": {"frobnicate": "acl"}},
        {**good, "domain_required": True},
        {**good, "area": {"moon": "x"}},
        {**good, "colour": "red"},
        {"product": "x", "public": "always"},
    ):
        with pytest.raises(ExposureDataError, match=r"exposing\.alicloud:x/y:Z"):
            _compile("alicloud:x/y:Z", bad)


# ---------------------------------------------------------------------------------------------------------------
# Mainland and Hong Kong cases from each example


def placed(spec: ResourceType, where: str) -> tuple[dict[str, Any], str]:
    """(props, provider region) of the type's example placed in the mainland or in Hong Kong/overseas."""
    props = json.loads(json.dumps(dict(spec.example)))
    region = "cn-shanghai" if where == "mainland" else "cn-hongkong"
    if spec.area_kind == "scope":
        key = next(p for p in spec.reads if p in ("scope", "coverage"))
        props[key] = "domestic" if where == "mainland" else "overseas"
        region = "cn-shanghai"  # the scope decides, never the API region
    elif spec.area_kind == "mainland":
        region = "cn-hongkong" if where != "mainland" else "cn-shanghai"  # serves mainland nodes either way
    elif spec.area_kind == "property":
        key = next(p for p in spec.reads if "egion" in p)
        props[key] = region
        region = "cn-shanghai" if where != "mainland" else "cn-hongkong"  # the property decides, not the provider
    return props, region


def expected_domain(spec: ResourceType) -> str | None:
    exposure = exposure_from_resource(spec.token, spec.example, provider_props={"region": "cn-shanghai"})
    assert exposure is not None
    return exposure.domains[0] if exposure.domains else None


def _props(props: Mapping[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(dict(props)))


def provider(region: str | None, name: str = "default") -> PolicyProviderResource:
    props: dict[str, Any] = {"version": "4.0.0"}
    if region is not None:
        props["region"] = region
    return PolicyProviderResource(
        "pulumi:providers:alicloud", _props(props), f"urn:pulumi:dev::p::pulumi:providers:alicloud::{name}", name
    )


def rargs(token: str, props: Mapping[str, Any], config: Mapping[str, Any], prov: PolicyProviderResource | None) -> Any:
    urn = f"urn:pulumi:dev::p::{token}::r"
    return ResourceValidationArgs(token, _props(props), urn, "r", OPTS, prov, dict(config), {})  # type: ignore[arg-type]


def run(policy: str, args: Any) -> list[str]:
    messages: list[str] = []
    try:
        POLICIES[policy].validate(args, lambda message, urn=None: messages.append(message))  # type: ignore[arg-type]
    except Exception as exc:
        if type(exc).__name__ == "_NotApplicableError":
            return ["not applicable"]
        raise
    return messages


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def config(registry: Path) -> dict[str, Any]:
    return {"filings": str(registry), "today": TODAY}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"):
        monkeypatch.delenv(key, raising=False)
    _adapter.set_engine_stack_config({}, ())


def stack_args(token: str, props: Mapping[str, Any], config: Mapping[str, Any], prov: Any) -> Any:
    """The resource alone in a stack (what ``dns-linked-exposure`` judges a deferred type with)."""
    resource = PolicyResource(token, _props(props), f"urn:pulumi:dev::p::{token}::r", "r", OPTS, prov, None, [], {})
    return StackValidationArgs([resource], dict(config), {})


def judged(token: str, props: Mapping[str, Any], config: Mapping[str, Any], prov: Any) -> Any:
    """What the resource policies judge the resource with: its own args, or (a stack-judged type: a resource of the
    stack may cancel its exposure) the stack it is alone in, where the same policies judge it at AnalyzeStack."""
    if is_stack_judged(token):
        assert run("icp-filing-required", rargs(token, props, config, prov)) == []  # never at Analyze
        assert run("untied-mainland-exposure", rargs(token, props, config, prov)) == []
        return stack_args(token, props, config, prov)
    return rargs(token, props, config, prov)


@pytest.mark.parametrize("token", EXPOSING)
def test_mainland_case_through_the_policies(token: str, config: dict[str, Any]) -> None:
    spec = RESOURCE_TYPES[token]
    props, region = placed(spec, "mainland")
    args = judged(token, props, config, provider(region))
    if is_deferred(token):  # only public through another resource: judged with the stack
        assert run("icp-filing-required", args) == [] and run("untied-mainland-exposure", args) == []
        [message] = run("dns-linked-exposure", stack_args(token, props, config, provider(region)))
        assert message.startswith("[icp-filing-required]") and "no ICP filing" in message
        return
    icp, untied = run("icp-filing-required", args), run("untied-mainland-exposure", args)
    domain = expected_domain(spec)
    if domain is not None:
        assert untied == []
        assert len(icp) == 1 and domain in icp[0] and "no ICP filing" in icp[0], icp
    else:
        assert icp == []
        assert len(untied) == 1 and "no domain is tied to it" in untied[0], untied
        if "tags" in SDK[token]:  # a tag ties the domain: the mandatory finding
            tagged = judged(token, {**props, "tags": {"china-site:domain": UNFILED_TAG}}, config, provider(region))
            [message] = run("icp-filing-required", tagged)
            assert UNFILED_TAG in message


@pytest.mark.parametrize("token", EXPOSING)
def test_hong_kong_case_through_the_policies(token: str, config: dict[str, Any]) -> None:
    spec = RESOURCE_TYPES[token]
    props, region = placed(spec, "hongkong")
    if "tags" in SDK[token]:
        props["tags"] = {"china-site:domain": UNFILED_TAG}
    args = judged(token, props, config, provider(region))
    if is_deferred(token):
        assert run("dns-linked-exposure", stack_args(token, props, config, provider(region))) == []
    if spec.area_kind == "mainland":  # no offshore configuration exists: the Hong Kong provider changes nothing
        assert run("icp-filing-required", args) or run("untied-mainland-exposure", args)
        return
    assert run("icp-filing-required", args) == []
    assert run("untied-mainland-exposure", args) == []


def _set(props: Any, path: list[str], value: object) -> None:
    """Set (``value`` is ``_DROP``: remove) a dotted wire path, in every item of the lists on the way."""
    if isinstance(props, list):
        for item in props:
            _set(item, path, value)
        return
    if not isinstance(props, dict):
        return
    head, rest = path[0], path[1:]
    if rest:
        _set(props.get(head), rest, value)
    elif value is _DROP:
        props.pop(head, None)
    else:
        props[head] = value


_DROP = object()


def _made_private(props: dict[str, Any], decider: Any) -> None:
    """The example turned private by the decider's own rule (the data's "what makes it public", inverted)."""
    if decider == "template":  # the template's public resource made private by its own rule
        body = props["templateBody"]
        props["templateBody"] = body.replace('"InternetMaxBandwidthOut":5', '"InternetMaxBandwidthOut":0')
        return
    if "any" in decider:
        for part in decider["any"]:
            _made_private(props, part)
        return
    if "all" in decider:  # one part made private is enough; a negated part (a suppressor) is left alone
        _made_private(props, next(p for p in decider["all"] if "not" not in p))
        return
    kind, path = next((k, str(v)) for k, v in decider.items() if k not in ("absent", "private", "public"))
    if kind == "values":
        value: object = decider["private"][0] if "private" in decider else "none-of-those"
    else:
        value = {"bandwidth": 0, "flag": False, "bucket_policy": ""}.get(kind, _DROP)
    _set(props, path.split("."), value)


CONDITIONAL = [t for t in EXPOSING if exposure_data()["exposing"][t]["public"] != "always"]


@pytest.mark.parametrize("token", CONDITIONAL)
def test_the_example_made_private_by_its_own_rule_passes_on_the_mainland(token: str, config: dict[str, Any]) -> None:
    spec = RESOURCE_TYPES[token]
    props, region = placed(spec, "mainland")
    _made_private(props, exposure_data()["exposing"][token]["public"])
    exposure = exposure_from_resource(token, props, provider_props={"region": region})
    assert exposure is not None and exposure.public is False, props
    args = judged(token, props, config, provider(region))
    assert run("icp-filing-required", args) == [] and run("untied-mainland-exposure", args) == []


@pytest.mark.parametrize("token", EXPOSING)
def test_every_exposing_type_needs_the_registry(token: str, tmp_path: Path) -> None:
    # filing-registry-available follows from the data: any exposing type makes an unreadable registry mandatory.
    _adapter.take_registry_failures()
    props, region = placed(RESOURCE_TYPES[token], "mainland")
    resource = PolicyResource(token, _props(props), "urn:x", "r", OPTS, provider(region), None, [], {})
    stack = StackValidationArgs([resource], {"filings": str(tmp_path / "missing.yaml")}, {})
    [message] = run("filing-registry-available", stack)
    assert "missing.yaml" in message


def test_a_reviewed_type_alone_does_not_need_the_registry(tmp_path: Path) -> None:
    _adapter.take_registry_failures()
    token = "alicloud:ecs/securityGroup:SecurityGroup"
    assert token in REVIEWED
    resource = PolicyResource(
        token, _props({"vpcId": "vpc-1"}), "urn:x", "r", OPTS, provider("cn-shanghai"), None, [], {}
    )
    stack = StackValidationArgs([resource], {"filings": str(tmp_path / "missing.yaml")}, {})
    assert run("filing-registry-available", stack) == ["not applicable"]


# ---------------------------------------------------------------------------------------------------------------
# The same cases through `china-site audit` on an export-shaped artifact


STACK_URN = "urn:pulumi:prod::site::pulumi:pulumi:Stack::site-prod"


def _export(resources: list[dict[str, Any]], providers: Mapping[str, str | None]) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"}]
    for name, region in providers.items():
        inputs = {"version": "4.0.0", **({"region": region} if region else {})}
        out.append(
            {
                "urn": f"urn:pulumi:prod::site::pulumi:providers:alicloud::{name}",
                "custom": True,
                "id": f"id-{name}",
                "type": "pulumi:providers:alicloud",
                "inputs": inputs,
                "outputs": inputs,
                "parent": STACK_URN,
            }
        )
    out += resources
    return {
        "version": 3,
        "deployment": {"manifest": {"time": "2026-11-20T08:00:00Z", "version": "v3.150.0"}, "resources": out},
    }


def _resource(token: str, name: str, props: Mapping[str, Any], provider_name: str) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:prod::site::{token}::{name}",
        "custom": True,
        "id": f"id-{name}",
        "type": token,
        "inputs": dict(props),
        "outputs": dict(props),
        "parent": STACK_URN,
        "provider": f"urn:pulumi:prod::site::pulumi:providers:alicloud::{provider_name}::id-{provider_name}",
    }


def audit(tmp_path: Path, artifact: Mapping[str, Any], registry: Path, *args: str) -> dict[str, Any]:
    path = tmp_path / "artifact.json"
    path.write_text(json.dumps(artifact), encoding="utf-8")
    result = runner.invoke(
        app, ["audit", str(path), "--filings", str(registry), "--today", TODAY, "--format", "json", *args]
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_exposing_type_through_the_audit(tmp_path: Path, registry: Path) -> None:
    resources: list[dict[str, Any]] = []
    expected: set[tuple[str, str, str]] = set()
    for index, token in enumerate(EXPOSING):
        spec = RESOURCE_TYPES[token]
        for where in ("mainland", "hongkong"):
            props, region = placed(spec, where)
            if where == "hongkong" and "tags" in SDK[token]:
                props["tags"] = {"china-site:domain": UNFILED_TAG}
            name = f"{where}-{index}"
            resources.append(_resource(token, name, props, "sh" if region == "cn-shanghai" else "hk"))
            if area_sources(token):
                # A state export lists each resource's dependencies (here: none that places it). Without any (JSON
                # engine events), it would be placed at the strictest of the stack's ESA sites / GA IP sets.
                resources[-1]["dependencies"] = [STACK_URN]
            if where == "mainland" or spec.area_kind == "mainland":
                mandatory = expected_domain(spec) is not None
                policy = "icp-filing-required" if mandatory else "untied-mainland-exposure"
                policy = "dns-linked-exposure" if is_deferred(token) else policy
                expected.add((policy, "mandatory" if mandatory else "advisory", name))
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai", "hk": "cn-hongkong"}), registry)
    found = {
        (f["policy"], f["enforcement"], f["name"])
        for f in data["findings"]
        if f["policy"] in ("icp-filing-required", "untied-mainland-exposure", "dns-linked-exposure")
    }
    assert found == expected
    mainland_only = {f"hongkong-{i}" for i, t in enumerate(EXPOSING) if RESOURCE_TYPES[t].area_kind == "mainland"}
    assert not [f for f in data["findings"] if f["name"].startswith("hongkong-") and f["name"] not in mainland_only]


# ---------------------------------------------------------------------------------------------------------------
# Misreadings (issue 11 item 3; issue 13 item 12)


def test_explicit_provider_without_region_is_mainland_and_says_why(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", '{"alicloud:region": "cn-hongkong"}')
    props = {"internetMaxBandwidthOut": 5.0, "tags": {"china-site:domain": "unfiled.cn"}}
    token = "alicloud:ecs/instance:Instance"
    # A default provider reads the stack config: Hong Kong, no finding.
    assert run("icp-filing-required", rargs(token, props, config, provider(None, "default_4_0_0"))) == []
    # An explicit one without region does not: unknown → mainland, and the message says why.
    [message] = run("icp-filing-required", rargs(token, props, config, provider(None, "web-provider")))
    assert "unknown, treated as mainland" in message and "explicit alicloud.Provider without region" in message
    # With its own region it is where it says.
    assert run("icp-filing-required", rargs(token, props, config, provider("cn-hongkong", "web-provider"))) == []


def test_region_of_explicit_provider_never_reads_the_config() -> None:
    config = {"alicloud:region": "cn-hongkong"}
    assert region_of({}, config) == ("cn-hongkong", "config")
    assert region_of({}, config, explicit_provider=True) == (None, "unknown")
    assert region_of({"region": "cn-beijing"}, config, explicit_provider=True) == ("cn-beijing", "provider")
    exposure = exposure_from_resource(
        "alicloud:ecs/eip:Eip", {}, provider_props={}, stack_config=config, explicit_provider=True
    )
    assert exposure is not None and exposure.area == "mainland" and exposure.region_note == EXPLICIT_PROVIDER_NOTE


def test_audit_explicit_provider_without_region_is_not_the_config_region(tmp_path: Path, registry: Path) -> None:
    # A preview whose config says cn-hongkong, with an explicit provider that has no region of its own.
    prov = "urn:pulumi:api::shop::pulumi:providers:alicloud::web::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    server = {
        "urn": "urn:pulumi:api::shop::alicloud:ecs/instance:Instance::api-server",
        "custom": True,
        "type": "alicloud:ecs/instance:Instance",
        "inputs": {"internetMaxBandwidthOut": 10, "tags": {"china-site:domain": "api.unfiled-shop.cn"}},
        "provider": prov,
    }
    provider_state = {
        "urn": prov.rsplit("::", 1)[0],
        "custom": True,
        "type": "pulumi:providers:alicloud",
        "inputs": {"version": "4.0.0"},
    }
    steps = [
        {"op": "create", "urn": provider_state["urn"], "newState": provider_state},
        {"op": "create", "urn": server["urn"], "newState": server, "provider": prov},
    ]
    data = audit(tmp_path, {"config": {"alicloud:region": "cn-hongkong"}, "steps": steps}, registry)
    [finding] = [f for f in data["findings"] if f["policy"] == "icp-filing-required"]
    assert finding["name"] == "api-server" and "explicit alicloud.Provider without region" in finding["message"]


@pytest.mark.parametrize("acl", [3, ["public-read"], {"grant": "x"}, "PUBLIC-READ", "unheard-of"])
def test_wrong_typed_or_unrecognised_acl_is_public(acl: object) -> None:
    for token in (
        "alicloud:oss/bucket:Bucket",
        "alicloud:oss/bucketAcl:BucketAcl",
        "alicloud:oss/bucketObject:BucketObject",
    ):
        exposure = exposure_from_resource(token, {"bucket": "b", "acl": acl}, provider_props={"region": "cn-shanghai"})
        assert exposure is not None and exposure.public is True, (token, acl)
        private = exposure_from_resource(
            token, {"bucket": "b", "acl": "private"}, provider_props={"region": "cn-shanghai"}
        )
        assert private is not None and private.public is False


@pytest.mark.parametrize("value", [12345, ["www.unfiled.cn"], {"name": "x"}, "47.1.2.3", "2408:4000::1", True])
@pytest.mark.parametrize(
    "token",
    [
        "alicloud:cdn/domainNew:DomainNew",
        "alicloud:dcdn/domain:Domain",
        "alicloud:scdn/domain:Domain",
        "alicloud:ga/domain:Domain",
    ],
)
def test_unreadable_domain_on_a_domain_only_type_is_mandatory(
    token: str, value: object, config: dict[str, Any]
) -> None:
    key = RESOURCE_TYPES[token].domain_paths[0]
    args = rargs(token, {key: value}, config, provider("cn-shanghai"))
    if is_deferred(token):  # judged with the stack
        assert run("icp-filing-required", args) == []
        [message] = run("dns-linked-exposure", stack_args(token, {key: value}, config, provider("cn-shanghai")))
    else:
        [message] = run("icp-filing-required", args)
    assert f"its domain ({key}) cannot be read as a host name" in message
    assert run("untied-mainland-exposure", args) == []
    # Overseas or Hong Kong: nothing to check (SCDN serves mainland nodes whatever its region: still checked).
    offshore = run(
        "icp-filing-required", rargs(token, {key: value, "scope": "overseas"}, config, provider("cn-hongkong"))
    )
    assert (offshore != []) is (RESOURCE_TYPES[token].area_kind == "mainland")


def test_unknown_domain_at_preview_stays_advisory(config: dict[str, Any]) -> None:
    # Known at update, checked again then: the advisory says so (not the unreadable-domain finding).
    args = rargs("alicloud:cdn/domainNew:DomainNew", {"domainName": UNKNOWN_STRING}, config, provider("cn-shanghai"))
    assert run("icp-filing-required", args) == []
    [message] = run("untied-mainland-exposure", args)
    assert "checked again at update" in message


def test_wrong_typed_bandwidth_and_flags_are_public() -> None:
    sh = {"region": "cn-shanghai"}
    for token, key, value in [
        ("alicloud:cs/nodePool:NodePool", "internetMaxBandwidthOut", [5]),
        ("alicloud:ecs/launchTemplate:LaunchTemplate", "internetMaxBandwidthOut", "lots"),
        ("alicloud:eci/containerGroup:ContainerGroup", "autoCreateEip", "sometimes"),
        ("alicloud:mse/gateway:Gateway", "internetSlbSpec", 3),
        ("alicloud:apig/gateway:Gateway", "networkAccessConfig", "Internet"),
        ("alicloud:fc/v3Trigger:V3Trigger", "triggerType", 7),
        ("alicloud:edas/k8sSlbAttachment:K8sSlbAttachment", "slbConfigs", [{"type": ["internet"]}]),
    ]:
        exposure = exposure_from_resource(token, {key: value}, provider_props=sh)
        assert exposure is not None and exposure.public is True, (token, value)


@pytest.mark.parametrize(
    ("token", "public", "private"),
    [
        ("alicloud:fc/trigger:Trigger", {"type": "http"}, {"type": "oss"}),
        ("alicloud:fc/v3Trigger:V3Trigger", {"triggerType": "HTTP"}, {"triggerType": "timer"}),
        ("alicloud:esa/record:Record", {"recordName": "a.example.cn", "proxied": True}, {"recordName": "a.example.cn"}),
        (
            "alicloud:apig/gateway:Gateway",
            {"networkAccessConfig": {"type": "Internet"}},
            {"networkAccessConfig": {"type": "Intranet"}},
        ),
        (
            "alicloud:edas/k8sSlbAttachment:K8sSlbAttachment",
            {"slbConfigs": [{"type": "intranet"}, {"type": "internet"}]},
            {"slbConfigs": [{"type": "intranet"}]},
        ),
        (
            "alicloud:alb/rule:Rule",
            {"ruleConditions": [{"type": "Host", "hostConfig": {"values": ["a.example.cn"]}}]},
            {"ruleConditions": [{"type": "Path", "pathConfig": {"values": ["/x"]}}]},
        ),
        ("alicloud:oss/bucketObject:BucketObject", {"acl": "public-read-write"}, {"acl": "default"}),
        ("alicloud:mse/gateway:Gateway", {"internetSlbSpec": "slb.s2.small"}, {"slbSpec": "slb.s2.small"}),
        ("alicloud:ens/instance:Instance", {"publicIpIdentification": True}, {"internetMaxBandwidthOut": 0}),
        ("alicloud:eci/containerGroup:ContainerGroup", {"eipInstanceId": "eip-1"}, {"autoCreateEip": False}),
        ("alicloud:rds/aiInstance:AiInstance", {"publicEndpointEnabled": "true"}, {"publicEndpointEnabled": False}),
    ],
)
def test_deciders_public_and_private(token: str, public: dict[str, Any], private: dict[str, Any]) -> None:
    sh = {"region": "cn-shanghai"}
    exposed = exposure_from_resource(token, public, provider_props=sh)
    assert exposed is not None and exposed.public is True
    kept = exposure_from_resource(token, private, provider_props=sh)
    assert kept is not None and kept.public is False


@pytest.mark.parametrize(
    ("policy", "public"),
    [
        ('{"Statement":[{"Effect":"Allow","Principal":["*"],"Action":["oss:GetObject"]}]}', True),
        ('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"oss:GetObject"}]}', True),
        ('{"Statement":{"Effect":"Allow","Principal":{"RAM":["*"]}}}', True),
        ('{"Statement":[{"Effect":"Allow","Principal":["20214760404935xxxx"],"Action":["oss:*"]}]}', False),
        ('{"Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:*"]}]}', False),
        ("not json at all", True),
        ('["a list"]', True),
        (UNKNOWN_STRING, True),
        ("", False),
    ],
)
def test_bucket_policy_anonymous_access(policy: str, public: bool) -> None:
    sh = {"region": "cn-shanghai"}
    for token in ("alicloud:oss/bucketPolicy:BucketPolicy", "alicloud:oss/bucket:Bucket"):
        exposure = exposure_from_resource(token, {"bucket": "b", "policy": policy}, provider_props=sh)
        assert exposure is not None and exposure.public is public, (token, policy)


def test_eip_association_is_not_reported_a_second_time(config: dict[str, Any]) -> None:
    association = rargs(
        "alicloud:ecs/eipAssociation:EipAssociation",
        {"allocationId": "eip-1", "instanceId": "i-1"},
        config,
        provider("cn-shanghai"),
    )
    assert run("untied-mainland-exposure", association) == []
    assert "alicloud:ecs/eipAssociation:EipAssociation" in REVIEWED
    eip = rargs("alicloud:ecs/eipAddress:EipAddress", {"bandwidth": "5"}, config, provider("cn-shanghai"))
    assert len(run("untied-mainland-exposure", eip)) == 1  # the EIP itself is the exposure, reported once


def test_eip_association_ties_the_instance_tags_to_its_eip(config: dict[str, Any]) -> None:
    # A server without public bandwidth of its own, tagged with its (unfiled) domain, gets an EIP by association:
    # the mandatory finding for its domain, on the association, once; the EIP alone stays the untied advisory.
    server = _stack_resource(
        "alicloud:ecs/instance:Instance",
        "web",
        {"internetMaxBandwidthOut": 0, "tags": {"china-site:domain": "api.unfiled-shop.cn"}},
    )
    eip = _stack_resource("alicloud:ecs/eipAddress:EipAddress", "web-ip", {"bandwidth": "5"})

    def association(region: str) -> PolicyResource:
        props = {"allocationId": UNKNOWN_STRING, "instanceId": UNKNOWN_STRING}
        urn = "urn:pulumi:dev::p::alicloud:ecs/eipAssociation:EipAssociation::web-assoc"
        return PolicyResource(
            "alicloud:ecs/eipAssociation:EipAssociation",
            _props(props),
            urn,
            "web-assoc",
            OPTS,
            provider(region, "sh"),
            None,
            [server, eip],
            {"instanceId": [server], "allocationId": [eip]},
        )

    def linked(resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        POLICIES["dns-linked-exposure"].validate(
            StackValidationArgs(resources, dict(config), {}),
            lambda m, u=None: out.append((m, u)),  # type: ignore[arg-type]
        )
        return out

    [(message, urn)] = linked([server, eip, association("cn-shanghai")])
    assert urn.endswith("::web-assoc") and "api.unfiled-shop.cn" in message and "a public IP" in message
    # The server in Hong Kong: nothing. Without the dependency on a server of the stack: nothing to tie.
    hk_server = PolicyResource(
        server.resource_type, server.props, server.urn, "web", OPTS, provider("cn-hongkong", "hk"), None, [], {}
    )
    assert linked([hk_server, eip, association("cn-shanghai")]) == []
    assert linked([eip, association("cn-shanghai")]) == []


def _stack_resource(token: str, name: str, props: Mapping[str, Any]) -> PolicyResource:
    urn = f"urn:pulumi:dev::p::{token}::{name}"
    return PolicyResource(token, _props(props), urn, name, OPTS, provider("cn-shanghai", "sh"), None, [], {})


@pytest.mark.parametrize(
    ("linker", "props"),
    [
        ("alicloud:oss/bucketAcl:BucketAcl", {"bucket": "site-b", "acl": "public-read"}),
        (
            "alicloud:oss/bucketPolicy:BucketPolicy",
            {
                "bucket": "site-b",
                "policy": '{"Statement":[{"Effect":"Allow","Principal":["*"],"Action":["oss:GetObject"]}]}',
            },
        ),
    ],
)
def test_bucket_made_public_by_another_resource_is_judged_like_its_own_acl(
    linker: str, props: dict[str, Any], config: dict[str, Any]
) -> None:
    tags = {"china-site:domain": "static.unfiled-shop.cn"}
    bucket = _stack_resource("alicloud:oss/bucket:Bucket", "site-bucket", {"bucket": "site-b", "tags": tags})
    acl = _stack_resource(linker, "site-acl", props)
    out: list[tuple[str, str | None]] = []
    POLICIES["dns-linked-exposure"].validate(
        StackValidationArgs([bucket, acl], dict(config), {}),
        lambda m, u=None: out.append((m, u)),  # type: ignore[arg-type]
    )
    [(message, urn)] = out
    assert urn == acl.urn and "static.unfiled-shop.cn" in message and "makes bucket 'site-bucket' public" in message
    # The same bucket with acl public-read on itself: the same finding, from the resource policy (at AnalyzeStack).
    own = judged(
        "alicloud:oss/bucket:Bucket",
        {"bucket": "site-b", "acl": "public-read", "tags": tags},
        config,
        provider("cn-shanghai"),
    )
    [direct] = run("icp-filing-required", own)
    assert "static.unfiled-shop.cn" in direct
    # Filed domain, private ACL, or a bucket of another name: nothing.
    for bucket_props, linker_props in [
        ({"bucket": "site-b", "tags": {"china-site:domain": "www.example.cn"}}, props),
        ({"bucket": "site-b", "tags": tags}, {**props, "acl": "private", "policy": ""}),
        ({"bucket": "other-b", "tags": tags}, props),
    ]:
        out.clear()
        resources = [
            _stack_resource("alicloud:oss/bucket:Bucket", "site-bucket", bucket_props),
            _stack_resource(linker, "site-acl", linker_props),
        ]
        POLICIES["dns-linked-exposure"].validate(
            StackValidationArgs(resources, dict(config), {}),
            lambda m, u=None: out.append((m, u)),  # type: ignore[arg-type]
        )
        assert out == []


# ---------------------------------------------------------------------------------------------------------------
# The coverage table in policies/README.md is generated from the data


def test_policies_readme_coverage_table_is_current() -> None:
    from china_site.coverage import README, render_readme

    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "policies/README.md is stale: run `python -m china_site.coverage`"
    assert f"{len(RESOURCE_TYPES)} of the {len(SDK)}" in text
    root = (README.parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"Coverage: {len(RESOURCE_TYPES)} of the {len(SDK):,} resource types" in root
    assert f"the other {len(REVIEWED):,} were" in root
