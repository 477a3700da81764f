"""Every policy of the pack, called directly (``policy.validate``) with arguments built as the engine builds them.

Properties go through the SDK's own ``deserialize_properties`` + ``unknown_checking_proxy`` (what ``Analyze`` does
with the engine's Struct), so secrets arrive unwrapped and unknowns as the sentinel strings behind the proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from analyzer_harness import POLICIES_DIR, UNKNOWN_NUMBER, UNKNOWN_STRING, secret
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy
from registry_data import TODAY, write_registry

from china_site.exposure import RESOURCE_TYPES
from china_site.policies import _adapter, pack

POLICIES = {p.name: p for p in pack.POLICIES}
RESOURCE_POLICIES = [p for p in pack.POLICIES if isinstance(p, ResourceValidationPolicy)]
STACK_POLICIES = [p for p in pack.POLICIES if isinstance(p, StackValidationPolicy)]
# Resource policies that also judge the stack-judged types at AnalyzeStack (pack.py calls them after the SDK's).
STACK_JUDGING = [p for p in RESOURCE_POLICIES if isinstance(p, _adapter.StackJudgingPolicy)]

CDN = "alicloud:cdn/domainNew:DomainNew"
DCDN = "alicloud:dcdn/domain:Domain"
ECS = "alicloud:ecs/instance:Instance"
EIP = "alicloud:ecs/eipAddress:EipAddress"
ALB = "alicloud:alb/loadBalancer:LoadBalancer"
DNS = "alicloud:dns/alidnsRecord:AlidnsRecord"
OSS_BUCKET = "alicloud:oss/bucket:Bucket"
DYNAMIC = "pulumi-python:dynamic:Resource"

NOT_APPLICABLE = "not applicable"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "CHINA_SITE_CDN_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    _adapter.set_engine_stack_config({}, ())
    # Each test is a run of its own, as each pack process is: no registry failure another test's run left unreported
    # (an audit of a broken registry in tests/test_audit.py, in the same worker) may reach this test's stack policy.
    _adapter.reset_run_state()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def config(registry: Path) -> dict[str, Any]:
    return {"filings": str(registry), "today": TODAY}


# --- argument builders (engine-shaped) ---------------------------------------------------------------------------

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _props(props: Mapping[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(dict(props)))


def provider(region: str | None = "cn-shanghai", **extra: Any) -> PolicyProviderResource:
    props: dict[str, Any] = {"version": "4.0.0", **extra}
    if region is not None:
        props["region"] = region
    return PolicyProviderResource(
        "pulumi:providers:alicloud",
        _props(props),
        "urn:pulumi:dev::china-site::pulumi:providers:alicloud::default",
        "default",
    )


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:dev::china-site::{type_token}::{name}"


def rargs(
    type_token: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None,
    *,
    name: str = "site",
    region: str | None = "cn-shanghai",
    prov: PolicyProviderResource | bool | None = True,
) -> ResourceValidationArgs:
    p = provider(region) if prov is True else (prov or None)
    return ResourceValidationArgs(
        type_token,
        _props(props),
        urn(type_token, name),
        name,
        OPTS,
        p,
        dict(config or {}),
        {},  # type: ignore[arg-type]
    )


def run(policy_name: str, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    """Messages reported by one policy, or [NOT_APPLICABLE] when it marked itself not applicable."""
    messages: list[str] = []
    policy = POLICIES[policy_name]
    try:
        policy.validate(args, lambda message, urn=None: messages.append(message))  # type: ignore[arg-type]
    except Exception as exc:
        if type(exc).__name__ == "_NotApplicableError":
            return [NOT_APPLICABLE]
        raise
    return messages


def run_urns(policy_name: str, args: StackValidationArgs) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    POLICIES[policy_name].validate(args, lambda message, urn=None: out.append((message, urn)))  # type: ignore[arg-type]
    return out


def cdn(domain: Any, scope: Any = "domestic", **extra: Any) -> dict[str, Any]:
    return {"domainName": domain, "scope": scope, "cdnType": "web", **extra}


def stack_resource(
    type_token: str, name: str, props: Mapping[str, Any], *, region: str | None = "cn-shanghai"
) -> PolicyResource:
    return PolicyResource(
        type_token, _props(props), urn(type_token, name), name, OPTS, provider(region) if region else None, None, [], {}
    )


def sargs(resources: list[PolicyResource], config: Mapping[str, Any]) -> StackValidationArgs:
    return StackValidationArgs(resources, dict(config), {})


# --- icp-filing-required ------------------------------------------------------------------------------------------


def test_icp_filed_domain_passes(config: dict[str, Any]) -> None:
    assert run("icp-filing-required", rargs(CDN, cdn("www.example.cn"), config)) == []


def test_icp_unfiled_domain_fails_bilingual_with_alibaba_error_and_link(config: dict[str, Any]) -> None:
    [message] = run("icp-filing-required", rargs(CDN, cdn("shop.unfiled.cn"), config))
    lines = message.splitlines()
    assert "unfiled.cn has no ICP filing" in lines[0]
    assert "没有 ICP 备案" in lines[1]
    assert "DomainNotRegistration" in message
    assert "https://beian.miit.gov.cn/" in message
    assert message.count("Fix:") == 1


@pytest.mark.parametrize(("domain", "expected"), [("waiting.com.cn", "pending"), ("dropped.cn", "cancelled")])
def test_icp_pending_or_cancelled_fail(config: dict[str, Any], domain: str, expected: str) -> None:
    [message] = run("icp-filing-required", rargs(CDN, cdn(domain), config))
    assert expected in message.splitlines()[0]


def test_icp_other_provider_passes_on_cdn_and_fails_on_a_public_ecs_origin(config: dict[str, Any]) -> None:
    # elsewhere.cn is filed through Tencent Cloud: Alibaba CDN needs only a valid filing (any provider) ...
    assert run("icp-filing-required", rargs(CDN, cdn("elsewhere.cn"), config)) == []
    # ... an ECS with a public IP serving it is an origin Alibaba Cloud hosts: Alibaba access (新增接入) needed.
    ecs = {"internetMaxBandwidthOut": 10, "tags": {"china-site:domain": "elsewhere.cn"}}
    [message] = run("icp-filing-required", rargs(ECS, ecs, config))
    assert "access provider" in message.splitlines()[0] and "新增接入" in message


def test_registry_inconsistency_is_advisory(config: dict[str, Any]) -> None:
    [message] = run("filing-registry-consistent", rargs(CDN, cdn("early.cn"), config))
    assert "launched 2026-05-25 is before the ICP approval of 2026-06-01" in message
    assert "早于 ICP 备案通过日期" in message.splitlines()[1]
    assert run("filing-registry-consistent", rargs(CDN, cdn("www.example.cn"), config)) == []


def test_icp_cdn_scope_decides_not_the_api_region(config: dict[str, Any]) -> None:
    # The CDN API region says Hong Kong, but scope domestic serves mainland nodes.
    assert run("icp-filing-required", rargs(CDN, cdn("unfiled.cn"), config, region="cn-hongkong"))
    assert run("icp-filing-required", rargs(CDN, cdn("unfiled.cn", "overseas"), config)) == []


def test_icp_hong_kong_ecs_with_unfiled_tag_passes(config: dict[str, Any]) -> None:
    props = {"internetMaxBandwidthOut": 10.0, "tags": {"china-site:domain": "unfiled.cn"}}
    assert run("icp-filing-required", rargs(ECS, props, config, region="cn-hongkong")) == []
    assert run("icp-filing-required", rargs(ECS, props, config, region="cn-beijing"))


def test_icp_unknown_region_is_mainland_and_said_so(config: dict[str, Any]) -> None:
    props = {"internetMaxBandwidthOut": 5.0, "tags": {"china-site:domain": "unfiled.cn"}}
    [message] = run("icp-filing-required", rargs(ECS, props, config, prov=None))
    assert "unknown, treated as mainland" in message


def test_icp_region_from_stack_config_when_the_provider_has_none(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", '{"alicloud:region": "cn-hongkong"}')
    props = {"internetMaxBandwidthOut": 5.0, "tags": {"china-site:domain": "unfiled.cn"}}
    assert run("icp-filing-required", rargs(ECS, props, config, prov=None)) == []


def test_icp_secret_domain_is_read(config: dict[str, Any]) -> None:
    assert run("icp-filing-required", rargs(CDN, cdn(secret("unfiled.cn")), config))
    assert run("icp-filing-required", rargs(CDN, cdn(secret("www.example.cn")), config)) == []


def test_icp_secret_values_never_appear_in_messages(config: dict[str, Any]) -> None:
    key = "-----BEGIN PRIVATE KEY-----SUPERSECRETKEYMATERIAL"
    props = cdn("unfiled.cn", certificateConfig={"privateKey": secret(key), "serverCertificate": "CERT"})
    p = provider("cn-shanghai", secretKey=secret("PROVIDERSECRET"), accessKey=secret("AKID"))
    [message] = run("icp-filing-required", rargs(CDN, props, config, prov=p))
    assert "SUPERSECRET" not in message and "PROVIDERSECRET" not in message and "AKID" not in message


def test_icp_preview_unknowns_never_crash_and_read_strictly(config: dict[str, Any]) -> None:
    # Unknown scope with a filed domain: checked as mainland, no finding.
    assert run("icp-filing-required", rargs(CDN, cdn("www.example.cn", UNKNOWN_STRING), config)) == []
    # Unknown scope with an unfiled domain: mainland (stricter), and the message says it is checked at update.
    [message] = run("icp-filing-required", rargs(CDN, cdn("unfiled.cn", UNKNOWN_STRING), config))
    assert "unknown during preview" in message
    # Unknown bandwidth: public (stricter).
    props = {"internetMaxBandwidthOut": UNKNOWN_NUMBER, "tags": {"china-site:domain": "unfiled.cn"}}
    assert run("icp-filing-required", rargs(ECS, props, config))


def test_icp_unknown_domain_goes_to_untied_with_the_update_note(config: dict[str, Any]) -> None:
    args = rargs(CDN, cdn(UNKNOWN_STRING), config)
    assert run("icp-filing-required", args) == []
    [message] = run("untied-mainland-exposure", args)
    assert "domainName" in message and "checked again at update" in message


def test_icp_remediation_rewrites_cdn_scope_to_overseas(config: dict[str, Any]) -> None:
    policy = POLICIES["icp-filing-required"]
    assert isinstance(policy, ResourceValidationPolicy)
    fixed = policy.remediate(rargs(CDN, cdn("unfiled.cn"), config))
    assert fixed is not None and _adapter.plain(fixed)["scope"] == "overseas"
    assert _adapter.plain(fixed)["domainName"] == "unfiled.cn"
    fixed_dcdn = policy.remediate(rargs(DCDN, {"domainName": "unfiled.cn", "scope": "global"}, config))
    assert fixed_dcdn is not None and _adapter.plain(fixed_dcdn)["scope"] == "overseas"
    # Nothing to fix: filed domain, or a type whose scope cannot fix it.
    assert policy.remediate(rargs(CDN, cdn("www.example.cn"), config)) is None
    props = {"internetMaxBandwidthOut": 5.0, "tags": {"china-site:domain": "unfiled.cn"}}
    assert policy.remediate(rargs(ECS, props, config)) is None
    # The remediated resource passes.
    assert run("icp-filing-required", rargs(CDN, _adapter.plain(fixed), config)) == []


# --- waivers ---------------------------------------------------------------------------------------------------------


def test_valid_waiver_suppresses_by_glob_and_expired_waiver_is_reported(config: dict[str, Any]) -> None:
    waiver = {"policy": "icp-filing-required", "resource": "*::cdn-*", "reason": "ticket CS-1", "expires": "2026-12-31"}
    args = rargs(CDN, cdn("unfiled.cn"), {**config, "waivers": [waiver]}, name="cdn-main")
    # Never hidden: the finding opens with the waiver (the pack reports it at advisory level: tests/test_pack_grpc.py).
    [active] = run("icp-filing-required", args)
    assert active.startswith(
        "WAIVED until 2026-12-31 by the waiver {policy: icp-filing-required, resource: *::cdn-*} (reason: ticket CS-1)"
    )
    assert "from 2027-01-01 it is enforced again" in active and "已豁免至 2026-12-31" in active
    assert "no ICP filing" in active
    expired = {**waiver, "expires": "2026-11-27"}
    [message] = run(
        "icp-filing-required", rargs(CDN, cdn("unfiled.cn"), {**config, "waivers": [expired]}, name="cdn-main")
    )
    assert message.startswith("Waiver expired on 2026-11-27 (reason: ticket CS-1)")
    assert "豁免有效期至 2026-11-27（含当日），现已过期" in message
    assert "no ICP filing" in message


def test_waiver_for_another_resource_or_policy_does_not_apply(config: dict[str, Any]) -> None:
    other = {"policy": "icp-filing-required", "resource": "other", "reason": "r", "expires": "2030-01-01"}
    wrong_policy = {"policy": "domain-eligible", "resource": "site", "reason": "r", "expires": "2030-01-01"}
    args = rargs(CDN, cdn("unfiled.cn"), {**config, "waivers": [other, wrong_policy]})
    assert run("icp-filing-required", args)


def test_waivers_from_stack_config(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    waivers = [{"policy": "icp-*", "resource": "site", "reason": "migration", "expires": "2027-01-01"}]
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"china-site:waivers": json.dumps(waivers)}))
    [message] = run("icp-filing-required", rargs(CDN, cdn("unfiled.cn"), config))
    assert message.startswith("WAIVED until 2027-01-01") and "(reason: migration)" in message


# --- config errors and registry failures ------------------------------------------------------------------------


def test_invalid_config_is_one_violation_naming_policy_and_key(config: dict[str, Any]) -> None:
    [message] = run("icp-filing-required", rargs(CDN, cdn("www.example.cn"), {**config, "psbGraceDay": 30}))
    assert "icp-filing-required" in message and "psbGraceDay" in message and "unknown key" in message
    assert "Traceback" not in message


def test_registry_unavailable_resource_policies_skip_and_stack_policy_fails_closed(tmp_path: Path) -> None:
    bad = {"filings": str(tmp_path / "missing.yaml"), "today": TODAY}
    args = rargs(CDN, cdn("www.example.cn"), bad)
    for policy in RESOURCE_POLICIES:
        assert run(policy.name, args) in ([], [NOT_APPLICABLE]), policy.name
    assert run("icp-filing-required", args) == [NOT_APPLICABLE]
    stack = sargs([stack_resource(CDN, "site", cdn("www.example.cn"))], bad)
    [message] = run("filing-registry-available", stack)
    assert "missing.yaml" in message and "cannot be used" in message
    assert "备案清单文件" in message


def test_registry_invalid_yaml_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nsites:\n  - domain: example.cn\n    entity: nobody\n    status: approved\n")
    stack = sargs([stack_resource(CDN, "site", cdn("www.example.cn"))], {"filings": str(broken), "today": TODAY})
    [message] = run("filing-registry-available", stack)
    assert "broken.yaml" in message


def test_registry_failure_seen_by_a_resource_policy_is_reported_by_the_stack_policy(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    _adapter.take_registry_failures()
    bad = {"filings": str(tmp_path / "elsewhere.yaml"), "today": TODAY}
    assert run("domain-eligible", rargs(CDN, cdn("www.example.cn"), bad)) == [NOT_APPLICABLE]
    stack = sargs([stack_resource(CDN, "site", cdn("www.example.cn"))], config)  # its own source is fine
    [message] = run("filing-registry-available", stack)
    assert "elsewhere.yaml" in message
    assert run("filing-registry-available", stack) == []  # reported once per run


def test_registry_available_passes_and_ignores_stacks_without_alicloud(config: dict[str, Any], tmp_path: Path) -> None:
    _adapter.take_registry_failures()
    assert run("filing-registry-available", sargs([stack_resource(CDN, "site", cdn("www.example.cn"))], config)) == []
    aws = PolicyResource("aws:s3/bucket:Bucket", _props({"bucket": "b"}), "urn:x", "b", OPTS, None, None, [], {})
    bad = {"filings": str(tmp_path / "missing.yaml")}
    assert run("filing-registry-available", sargs([aws], bad)) == [NOT_APPLICABLE]


def test_secret_registry_source_is_never_shown(registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"china-site:filings": str(registry), "china-site:today": TODAY}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["china-site:filings"]')
    [message] = run("icp-filing-required", rargs(CDN, cdn("unfiled.cn"), {}))
    assert str(registry) not in message and "<secret>" in message
    _adapter.take_registry_failures()
    missing = tmp_path / "secret-place" / "filings.yaml"
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"china-site:filings": str(missing)}))
    [failure] = run("filing-registry-available", sargs([stack_resource(CDN, "site", cdn("www.example.cn"))], {}))
    assert "secret-place" not in failure and "<secret>" in failure


def test_default_registry_is_filings_yaml_in_the_project_and_the_message_says_so(tmp_path: Path) -> None:
    settings_ = _adapter.settings_for("filing-registry-available", {})
    assert settings_.filings == str(Path(POLICIES_DIR).parent / "filings.yaml")
    assert "default" in settings_.filings_origin


# --- psb-filing-required / psb-filing-due ---------------------------------------------------------------------------


def test_psb_overdue_is_mandatory_and_inside_the_window_is_due(config: dict[str, Any]) -> None:
    [overdue] = run("psb-filing-required", rargs(CDN, cdn("www.late.cn"), config))
    assert "past the 30-day deadline" in overdue and "公安联网备案" in overdue
    assert run("psb-filing-due", rargs(CDN, cdn("www.late.cn"), config)) == []
    [due] = run("psb-filing-due", rargs(CDN, cdn("fresh.cn"), config))
    assert "due within 30 days" in due
    assert run("psb-filing-required", rargs(CDN, cdn("fresh.cn"), config)) == []


def test_psb_filed_passes(config: dict[str, Any]) -> None:
    for name in ("psb-filing-required", "psb-filing-due"):
        assert run(name, rargs(CDN, cdn("www.example.cn"), config)) == []


def test_psb_grace_days_is_configurable(config: dict[str, Any]) -> None:
    relaxed = {**config, "psbGraceDays": 120}
    assert run("psb-filing-required", rargs(CDN, cdn("late.cn"), relaxed)) == []
    assert run("psb-filing-due", rargs(CDN, cdn("late.cn"), relaxed))


# --- commercial-permit-required ---------------------------------------------------------------------------------


def _alb(domain: str, payments: str = "true") -> dict[str, Any]:
    return {
        "addressType": "Internet",
        "loadBalancerName": "web",
        "tags": {"china-site:domain": domain, "china-site:payments": payments},
    }


def test_payments_with_valid_permit_pass(config: dict[str, Any]) -> None:
    assert run("commercial-permit-required", rargs(ALB, _alb("www.example.cn"), config)) == []


def test_payments_without_permit_fail(config: dict[str, Any]) -> None:
    [message] = run("commercial-permit-required", rargs(ALB, _alb("pay-shop.cn"), config))
    assert "B25" in message and "经营许可证" in message
    assert run("commercial-permit-required", rargs(ALB, _alb("pay-shop.cn", "false"), config)) == []


def test_payments_permit_expired_fails_later(config: dict[str, Any]) -> None:
    on_expiry = {**config, "today": "2027-03-01"}  # the expiry day is still valid (inclusive, like waivers)
    assert run("commercial-permit-required", rargs(ALB, _alb("www.example.cn"), on_expiry)) == []
    later = {**config, "today": "2027-03-02"}
    assert run("commercial-permit-required", rargs(ALB, _alb("www.example.cn"), later))


def test_own_goods_tag_relaxes_the_permit_only_when_configured(config: dict[str, Any]) -> None:
    props = _alb("pay-shop.cn")
    props["tags"]["china-site:own-goods"] = "true"
    assert run("commercial-permit-required", rargs(ALB, props, config))  # strict by default
    relaxed = {**config, "ownGoodsNeedPermit": False}
    assert run("commercial-permit-required", rargs(ALB, props, relaxed)) == []
    assert run("commercial-permit-required", rargs(ALB, _alb("pay-shop.cn"), relaxed))  # no own-goods tag


# --- domain-eligible ---------------------------------------------------------------------------------------------


def test_domain_eligible_pass_and_fail(config: dict[str, Any]) -> None:
    assert run("domain-eligible", rargs(CDN, cdn("www.example.cn"), config)) == []
    messages = run("domain-eligible", rargs(CDN, cdn("tea-shop.com"), config))
    assert any("registrar outside China" in m for m in messages)
    assert any("real-name" in m for m in messages)


def test_domain_eligible_switches(config: dict[str, Any]) -> None:
    relaxed = {**config, "requireRegistrarInChina": False, "requireRealName": False}
    assert run("domain-eligible", rargs(CDN, cdn("tea-shop.com"), relaxed)) == []
    assert run("domain-eligible", rargs(CDN, cdn("example.org"), config))
    assert run("domain-eligible", rargs(CDN, cdn("example.org"), {**config, "approvedTlds": ["org"]})) == []


# --- filed-domain-off-mainland -------------------------------------------------------------------------------------


def test_filed_domain_off_mainland(config: dict[str, Any]) -> None:
    [message] = run("filed-domain-off-mainland", rargs(CDN, cdn("www.example.cn", "overseas"), config))
    assert "inaccurate access" in message
    assert run("filed-domain-off-mainland", rargs(CDN, cdn("www.example.cn"), config)) == []
    assert run("filed-domain-off-mainland", rargs(CDN, cdn("unfiled.cn", "overseas"), config)) == []


# --- icp-number-displayed --------------------------------------------------------------------------------------------


def _content(displayed: Any, psb: Any = None, region: Any = "cn-shanghai") -> dict[str, Any]:
    return {
        "__provider": "gASVXAAAAAAAAACMCmRpbGwuX2RpbGyUjAxfY3JlYXRlX2NsYXNzlJOUKIwIVHlwZVR5cGWU",
        "component": "china-site:index:SiteContent",
        "bucket": "site-bucket",
        "region": region,
        "domain": "www.example.cn",
        "mainland": True,
        "icpNumberDisplayed": displayed,
        "psbNumberDisplayed": psb,
        "files": {"index.html": "abc"},
    }


def test_icp_number_displayed(config: dict[str, Any]) -> None:
    assert run("icp-number-displayed", rargs(DYNAMIC, _content(True, True), config, prov=None)) == []
    [message] = run("icp-number-displayed", rargs(DYNAMIC, _content(False, True), config, prov=None))
    assert "沪ICP备2021012345号-1" in message and "beian.miit.gov.cn" in message
    [psb] = run("icp-number-displayed", rargs(DYNAMIC, _content(True, False), config, prov=None))
    assert "沪公网安备" in psb
    # Hong Kong content: no footer rule.
    assert run("icp-number-displayed", rargs(DYNAMIC, _content(False, region="cn-hongkong"), config, prov=None)) == []
    # Other policies ignore the content resource.
    assert run("icp-filing-required", rargs(DYNAMIC, _content(False), config, prov=None)) == []


def test_icp_number_displayed_unknown_at_preview_is_not_a_crash(config: dict[str, Any]) -> None:
    assert run("icp-number-displayed", rargs(DYNAMIC, _content("1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"), config)) == []


# --- untied-mainland-exposure ------------------------------------------------------------------------------------


def test_untied_mainland_exposure(config: dict[str, Any]) -> None:
    [message] = run("untied-mainland-exposure", rargs(ECS, {"internetMaxBandwidthOut": 5.0}, config))
    assert "no domain is tied" in message
    assert run("untied-mainland-exposure", rargs(ECS, {"internetMaxBandwidthOut": 0.0}, config)) == []
    assert (
        run("untied-mainland-exposure", rargs(ECS, {"internetMaxBandwidthOut": 5.0}, config, region="cn-hongkong"))
        == []
    )
    assert run("icp-filing-required", rargs(ECS, {"internetMaxBandwidthOut": 5.0}, config)) == []


# --- dns-linked-exposure ---------------------------------------------------------------------------------------------


def _dns_stack(domain: str, rr: str = "www", *, region: str = "cn-shanghai") -> list[PolicyResource]:
    eip = stack_resource(EIP, "web-ip", {"bandwidth": "5", "ipAddress": "47.100.1.1"}, region=region)
    record = stack_resource(
        DNS, "web-a", {"domainName": domain, "rr": rr, "type": "A", "value": "47.100.1.1", "ttl": 600.0}, region=region
    )
    return [eip, record]


def test_dns_linked_unfiled_name_is_reported_on_the_record(config: dict[str, Any]) -> None:
    resources = _dns_stack("unfiled.cn")
    [(message, at)] = run_urns("dns-linked-exposure", sargs(resources, config))
    assert at == resources[1].urn
    assert message.startswith("[icp-filing-required] DNS record www.unfiled.cn ('web-a') points at")
    assert "DNS 记录" in message


def test_dns_linked_filed_name_and_hong_kong_pass(config: dict[str, Any]) -> None:
    assert run_urns("dns-linked-exposure", sargs(_dns_stack("example.cn"), config)) == []
    assert run_urns("dns-linked-exposure", sargs(_dns_stack("unfiled.cn", region="cn-hongkong"), config)) == []


def _cdn_origin_stack(
    domain: str, origin: str = "ecs", *, region: str = "cn-shanghai", tag: str | None = None
) -> list[PolicyResource]:
    ecs_props: dict[str, Any] = {"internetMaxBandwidthOut": 10.0, "publicIp": "47.100.2.2"}
    if tag:
        ecs_props["tags"] = {"china-site:domain": tag}
    ecs = stack_resource(ECS, "origin", ecs_props, region=region)
    source = (
        {"content": "47.100.2.2", "type": "ipaddr", "port": 80.0}
        if origin == "ecs"
        else {"content": "site-bucket.oss-cn-shanghai.aliyuncs.com", "type": "oss", "port": 443.0}
    )
    bucket = stack_resource(OSS_BUCKET, "site-bucket", {"bucket": "site-bucket", "acl": "private"})
    site_cdn = stack_resource(CDN, "site-cdn", {**cdn(domain), "sources": [source]})
    return [ecs, bucket, site_cdn]


def test_cdn_origin_on_a_public_ecs_needs_alibaba_access(config: dict[str, Any]) -> None:
    # Done-when of issue 20: a Tencent-filed domain on Alibaba CDN behind a public ECS origin is mandatory — the
    # origin serves the domain (its back-to-origin requests), and Alibaba Cloud hosts it: 新增接入 needed.
    resources = _cdn_origin_stack("www.elsewhere.cn")
    assert run("icp-filing-required", rargs(CDN, resources[2].props, config)) == []  # the CDN alone is fine
    [(message, at)] = run_urns("dns-linked-exposure", sargs(resources, config))
    assert at == resources[0].urn
    assert message.startswith("[icp-filing-required] CDN domain 'site-cdn'") and "'origin'" in message
    assert "tencent-cloud" in message and "新增接入" in message and "源站" in message


def test_cdn_origin_private_bucket_filed_hong_kong_or_tagged_pass(config: dict[str, Any]) -> None:
    # In front of a private bucket: no origin hosting the domain (done-when: passes).
    assert run_urns("dns-linked-exposure", sargs(_cdn_origin_stack("www.elsewhere.cn", "bucket"), config)) == []
    # Filed through Alibaba Cloud; an origin in Hong Kong; an origin tagged with the domain (resource policies).
    assert run_urns("dns-linked-exposure", sargs(_cdn_origin_stack("www.example.cn"), config)) == []
    hk = _cdn_origin_stack("www.elsewhere.cn", region="cn-hongkong")
    assert run_urns("dns-linked-exposure", sargs(hk, config)) == []
    tagged = _cdn_origin_stack("www.elsewhere.cn", tag="www.elsewhere.cn")
    assert run_urns("dns-linked-exposure", sargs(tagged, config)) == []
    [message] = run("icp-filing-required", rargs(ECS, tagged[0].props, config))
    assert "tencent-cloud" in message


def test_dns_linked_reports_overdue_psb_and_honours_waivers(config: dict[str, Any]) -> None:
    [(message, _)] = run_urns("dns-linked-exposure", sargs(_dns_stack("late.cn"), config))
    assert message.startswith("[psb-filing-required]")
    waiver = {
        "policy": "psb-filing-required",
        "resource": "web-a",
        "reason": "filed, awaiting",
        "expires": "2026-12-01",
    }
    [(waived, _)] = run_urns("dns-linked-exposure", sargs(_dns_stack("late.cn"), {**config, "waivers": [waiver]}))
    assert waived.startswith("WAIVED until 2026-12-01") and "[psb-filing-required]" in waived


# --- hypothesis: arbitrary properties never make a policy raise ------------------------------------------------

_SENTINELS = st.sampled_from(
    [
        UNKNOWN_STRING,
        UNKNOWN_NUMBER,
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "domestic",
            "global",
            "overseas",
            "Internet",
            "intranet",
            "public-read",
            "www.example.cn",
            "unfiled.cn",
            "fresh.cn",
            "*.late.cn",
            "例子.中国",
            "xn--fsqu00a.xn--fiqs8s",
            "1.2.3.4",
            "cn-hongkong",
            "cn-shanghai",
            "@",
        ]
    ),
    _SENTINELS,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=12), inner, max_size=3),
        inner.map(secret),
    ),
    max_leaves=8,
)


def _prop_dicts(type_token: str) -> st.SearchStrategy[dict[str, Any]]:
    spec = RESOURCE_TYPES.get(type_token)
    keys = list(spec.reads) if spec else []
    keys += [
        "tags",
        "domainName",
        "scope",
        "region",
        "domain",
        "icpNumberDisplayed",
        "psbNumberDisplayed",
        "__provider",
    ]
    tag_values = st.dictionaries(
        st.sampled_from(["china-site:domain", "china-site:payments", "china-site:platform", "x"]), _VALUES, max_size=3
    )
    return st.dictionaries(st.sampled_from(keys), st.one_of(_VALUES, tag_values), max_size=len(keys)) | st.dictionaries(
        st.text(max_size=10), _VALUES, max_size=4
    )


_TYPES = [*sorted(RESOURCE_TYPES), DYNAMIC]


@st.composite
def _resources(draw: Callable[..., Any]) -> tuple[str, dict[str, Any], Any]:
    type_token = draw(st.sampled_from(_TYPES))
    props = draw(_prop_dicts(type_token))
    region = draw(
        st.one_of(st.none(), st.sampled_from(["cn-shanghai", "cn-hongkong", "us-east-1", "xx-moon-1"]), _SENTINELS)
    )
    return type_token, props, region


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resource=_resources())
def test_no_exception_escapes_any_resource_policy(resource: tuple[str, dict[str, Any], Any], registry: Path) -> None:
    type_token, props, region = resource
    config = {"filings": str(registry), "today": TODAY}
    prov = provider(region) if region is not None else None
    args = ResourceValidationArgs(
        type_token,
        _props(props),
        urn(type_token, "fuzz"),
        "fuzz",
        OPTS,
        prov,
        config,
        {},  # type: ignore[arg-type]
    )
    for policy in RESOURCE_POLICIES:
        messages: list[str] = []
        policy.validate(args, lambda m, u=None, out=messages: out.append(m))  # type: ignore[arg-type,misc]
        for message in messages:
            assert isinstance(message, str) and message
            assert "could not evaluate" not in message, message
        if policy.name == "icp-filing-required":
            fixed = policy.remediate(args)
            assert fixed is None or _adapter.plain(fixed)["scope"] == "overseas"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(_resources(), max_size=4), record=_prop_dicts(DNS))
def test_no_exception_escapes_any_stack_policy(
    resources: list[tuple[str, dict[str, Any], Any]], record: dict[str, Any], registry: Path
) -> None:
    config = {"filings": str(registry), "today": TODAY}
    views = [
        PolicyResource(t, _props(p), urn(t, f"r{i}"), f"r{i}", OPTS, None, None, [], {})
        for i, (t, p, _) in enumerate(resources)
    ]
    views.append(PolicyResource(DNS, _props(record), urn(DNS, "rec"), "rec", OPTS, None, None, [], {}))
    for policy in [*STACK_POLICIES, *STACK_JUDGING]:
        messages: list[str] = []
        try:
            policy.validate(sargs(views, config), lambda m, u=None, out=messages: out.append(m))  # type: ignore[arg-type,misc]
        except Exception as exc:
            assert type(exc).__name__ == "_NotApplicableError"
        assert all("could not evaluate" not in m for m in messages), messages


# --- the per-request memo (pack.py wraps the SDK servicer's Analyze / AnalyzeStack) ------------------------------

BUCKET = "alicloud:oss/bucket:Bucket"
BUCKET_ACL = "alicloud:oss/bucketAcl:BucketAcl"


def _record(type_token: str, name: str, inputs: dict[str, Any], region: str | None = "cn-shanghai", **kw: Any) -> Any:
    from china_site.engine.artifacts import ProviderRef, Record

    prov = (
        ProviderRef(urn("pulumi:providers:alicloud", region), "pulumi:providers:alicloud", region, {"region": region})
        if region
        else None
    )
    outputs = kw.pop("outputs", {})
    return Record(
        urn=urn(type_token, name),
        type=type_token,
        name=name,
        custom=True,
        inputs=inputs,
        outputs={**inputs, **outputs},
        provider=prov,
        parent=None,
        dependencies=kw.pop("dependencies", ()),
        property_dependencies={},
        op="create",
    )


def _memo_records() -> list[Any]:
    """Varied Alibaba Cloud resources: every resource policy passes on some and fails on others."""
    eip = _record(EIP, "api-ip", {"bandwidth": "5"}, outputs={"ipAddress": "47.100.1.2"})
    return [
        _record(CDN, "cdn-filed", cdn("www.example.cn")),
        _record(CDN, "cdn-unfiled", cdn("shop.unfiled.cn")),
        _record(CDN, "cdn-overseas-filed", cdn("www.example.cn", "overseas")),
        _record(CDN, "cdn-hk-api-unfiled", cdn("unfiled.cn"), region="cn-hongkong"),
        _record(EIP, "eip-tagged", {"bandwidth": "5", "tags": {"china-site:domain": "unfiled.cn", "team": "web"}}),
        _record(EIP, "eip-tagged-hk", {"bandwidth": "5", "tags": {"china-site:domain": "unfiled.cn"}}, "cn-hongkong"),
        eip,  # public, no domain tied to it; a DNS record below names it
        _record(
            DNS,
            "api-a",
            {"domainName": "unfiled.cn", "rr": "api", "type": "A", "value": "47.100.1.2"},
            dependencies=(eip.urn,),
        ),
        _record(
            BUCKET, "bucket-public", {"bucket": "b1", "acl": "public-read", "tags": {"china-site:domain": "late.cn"}}
        ),
        _record(
            BUCKET, "bucket-private", {"bucket": "b2", "acl": "private", "tags": {"china-site:domain": "unfiled.cn"}}
        ),
        _record(BUCKET_ACL, "bucket-acl-public", {"bucket": "b3", "acl": "public-read-write"}),
        _record(ALB, "alb-pay", _alb("pay-shop.cn")),
        _record(ALB, "alb-pay-permit", _alb("www.example.cn")),
        _record(CDN, "cdn-psb-due", cdn("fresh.cn")),
        _record(CDN, "cdn-launched-early", cdn("early.cn")),
        _record(CDN, "cdn-psb-late", cdn("www.late.cn")),
        _record(CDN, "cdn-pending", cdn("waiting.com.cn")),
        _record(CDN, "cdn-ineligible", cdn("www.tea-shop.com")),
        _record(CDN, "cdn-unknown-domain", cdn(UNKNOWN_STRING)),
        _record(CDN, "cdn-unknown-scope", cdn("unfiled.cn", UNKNOWN_STRING)),
        _record(
            ECS,
            "ecs-unknown-bandwidth",
            {"internetMaxBandwidthOut": UNKNOWN_NUMBER, "tags": {"china-site:domain": "unfiled.cn"}},
        ),
        _record(EIP, "eip-no-region", {"bandwidth": "5", "tags": {"china-site:domain": "unfiled.cn"}}, region=None),
        _record(CDN, "cdn-secret-unfiled", cdn(secret("hidden-shop.cn"))),
        _record(CDN, "cdn-secret-filed", cdn(secret("secure.example.cn"))),
        _record(DYNAMIC, "content-no-footer", _content(False, False), region=None),
        _record("alicloud:future/site:Site", "unreviewed-public", {"internetAccess": True}),
        _record("alicloud:future/log:Log", "unreviewed-harmless", {"retentionDays": 7}),
        _record(DYNAMIC, "content-footer", _content(True, True), region=None),
    ]


def _memo_config(registry: Path) -> dict[str, Any]:
    """A ``--policy-pack-config`` document giving every policy the test registry and day."""
    return {p.name: {"filings": str(registry), "today": TODAY} for p in pack.POLICIES}


def _level(policy: Any) -> str:
    from pulumi_policy import EnforcementLevel

    advisory = policy.enforcement_level == EnforcementLevel.ADVISORY
    return "advisory" if advisory else "mandatory"  # remediate is reported as mandatory


def _direct(records: list[Any], registry: Path, *, stack: bool = True) -> tuple[list[Any], list[Any]]:
    """Every policy of the pack called directly, outside any request scope, with its own freshly built arguments
    (the SDK's own deserialisation, options and provider handling; the config as the servicer hands it over)."""
    from pulumi_policy import EnforcementLevel, PolicyResource
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from china_site.engine import driver
    from china_site.engine.artifacts import secret_strings
    from china_site.engine.driver import Diagnostic, NotApplicable

    assert _adapter.request_memo() is None
    reconciled = driver.reconcile_policy_config(pack.POLICIES, _memo_config(registry))
    configs = {n: driver.from_engine_struct(driver.to_engine_struct(c.properties or {})) for n, c in reconciled.items()}
    sdk = _PolicyAnalyzerServicer("china-site", driver.SDK_PACK_VERSION, list(pack.POLICIES), EnforcementLevel.ADVISORY)
    diagnostics: list[Diagnostic] = []
    not_applicable: list[NotApplicable] = []
    # Plaintext secret values of the records are masked in every message by the driver, whichever the path.
    secrets = secret_strings(records, min_length=6)

    def call(policy: Any, args: Any, on_report: Callable[[str, str | None], None], where: str) -> None:
        try:
            policy.validate(args, lambda message, at=None: on_report(message, at))
        except Exception as exc:
            if type(exc).__name__ != "_NotApplicableError":
                raise
            not_applicable.append(NotApplicable(policy.name, where, exc.reason or ""))  # type: ignore[attr-defined]

    for record in records:
        request = driver.analyze_request(record)
        for policy in RESOURCE_POLICIES:
            args = ResourceValidationArgs(
                record.type,
                _props(driver.from_engine_struct(request.properties)),
                record.urn,
                record.name,
                sdk._get_resource_options(request),
                sdk._get_provider_resource(request),
                dict(configs[policy.name]),
                {},  # type: ignore[arg-type]
            )

            def on_report(message: str, _at: str | None, policy: Any = policy, record: Any = record) -> None:
                text = driver._redact(f"{policy.description}\n{message}" if message else policy.description, secrets)
                diagnostics.append(Diagnostic(policy.name, _level(policy), record.urn, record.type, record.name, text))

            call(policy, args, on_report, record.urn)

    by_urn = {r.urn: r for r in records}
    stack_request = driver.analyze_stack_request(records)
    for policy in [*STACK_POLICIES, *STACK_JUDGING] if stack else ():
        resources: list[PolicyResource] = []
        for r in stack_request.resources:
            resources.append(
                PolicyResource(
                    r.type,
                    _props(driver.from_engine_struct(r.properties)),
                    r.urn,
                    r.name,
                    sdk._get_resource_options(r),
                    sdk._get_provider_resource(r),
                    None,
                    [],
                    {},
                )
            )
        index = {res.urn: res for res in resources}
        for res, r in zip(resources, stack_request.resources, strict=True):
            res.dependencies.extend(index[d] for d in r.dependencies if d in index)

        def on_stack_report(message: str, at: str | None, policy: Any = policy) -> None:
            target = by_urn.get(at or "")
            assert target is not None, at  # every stack diagnostic of this pack names a resource of the stack
            text = driver._redact(f"{policy.description}\n{message}" if message else policy.description, secrets)
            diagnostics.append(Diagnostic(policy.name, _level(policy), target.urn, target.type, target.name, text))

        call(policy, StackValidationArgs(resources, dict(configs[policy.name]), {}), on_stack_report, "")
    return diagnostics, not_applicable


def test_servicer_path_with_the_request_memo_equals_direct_calls_without_it(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from china_site.engine.driver import evaluate

    records = _memo_records()
    built: list[str] = []
    real_build = _adapter.resource_exposure

    def counting_build(type_token: str, props: Mapping[str, Any], **kw: Any) -> Any:
        built.append(kw["name"])
        return real_build(type_token, props, **kw)

    monkeypatch.setattr(_adapter, "resource_exposure", counting_build)

    _adapter.reset_run_state()
    through_servicer = evaluate(pack.POLICIES, records, config=_memo_config(registry))
    servicer_builds = list(built)
    assert _adapter.request_memo() is None  # the scope closed with the request

    built.clear()
    _adapter.reset_run_state()
    diagnostics, not_applicable = _direct(records, registry)

    assert through_servicer.diagnostics == diagnostics  # message for message, in the engine's order
    assert through_servicer.not_applicable == not_applicable
    assert through_servicer.remediations == []

    # The comparison is not vacuous: every resource policy fails somewhere and the filed resources pass.
    fired = {(d.policy, d.name) for d in diagnostics}
    assert {p for p, _ in fired} == {p.name for p in pack.POLICIES} - {"filing-registry-available"}
    assert {
        ("icp-filing-required", "cdn-unfiled"),
        ("icp-filing-required", "eip-tagged"),
        ("icp-filing-required", "cdn-secret-unfiled"),
        ("icp-filing-required", "cdn-unknown-scope"),
        ("icp-filing-required", "cdn-hk-api-unfiled"),  # scope domestic: mainland nodes whatever the API region
        ("untied-mainland-exposure", "cdn-unknown-domain"),
        ("psb-filing-required", "bucket-public"),
        ("psb-filing-due", "cdn-psb-due"),
        ("commercial-permit-required", "alb-pay"),
        ("icp-number-displayed", "content-no-footer"),
        ("dns-linked-exposure", "api-a"),
        ("filing-registry-consistent", "cdn-launched-early"),
    } <= fired
    for passing in (
        "cdn-filed",
        "cdn-secret-filed",
        "eip-tagged-hk",
        "bucket-private",
        "alb-pay-permit",
        "content-footer",
    ):
        assert not any(n == passing for _, n in fired), passing
    assert all("hidden-shop.cn" not in d.message for d in diagnostics)

    # Through the servicer each resource's exposure is built once per request and shared by the policies; called
    # directly, every policy builds its own.
    covered = sorted({n for n in servicer_builds})
    assert sorted(servicer_builds) == covered
    assert all(built.count(name) > 1 for name in covered)


def _analyzer(registry: Path) -> Any:
    """The SDK's servicer (as wrapped by pack.py), configured as the engine configures it."""
    from china_site.engine import driver

    analyzer = driver.InProcessAnalyzer(pack.POLICIES, "china-site", "advisory")
    analyzer.Configure(driver.configure_request(driver.reconcile_policy_config(pack.POLICIES, _memo_config(registry))))
    return analyzer


def _analyze(analyzer: Any, record: Any) -> list[tuple[str, str]]:
    """One Analyze request: (policy, message) per diagnostic."""
    from china_site.engine import driver

    response = analyzer.Analyze(driver.analyze_request(record))
    return [(d.policyName, d.message) for d in response.diagnostics]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Same URN, other properties: a filed domain, then an unfiled one (and the other way round).
        (_record(CDN, "site", cdn("www.example.cn")), _record(CDN, "site", cdn("shop.unfiled.cn"))),
        (_record(CDN, "site", cdn("shop.unfiled.cn")), _record(CDN, "site", cdn("www.example.cn"))),
        # Same URN, same properties, other provider region: Hong Kong passes, Beijing does not.
        (
            _record(EIP, "ip", {"bandwidth": "5", "tags": {"china-site:domain": "unfiled.cn"}}, "cn-hongkong"),
            _record(EIP, "ip", {"bandwidth": "5", "tags": {"china-site:domain": "unfiled.cn"}}, "cn-beijing"),
        ),
        # Same URN, the PSB filing comes due, then is overdue; then payments without a permit.
        (_record(ALB, "lb", _alb("fresh.cn", "false")), _record(ALB, "lb", _alb("late.cn", "false"))),
        (_record(ALB, "lb", _alb("www.example.cn")), _record(ALB, "lb", _alb("pay-shop.cn"))),
    ],
    ids=["filed-then-unfiled", "unfiled-then-filed", "hk-then-beijing", "psb-due-then-late", "permit-then-none"],
)
def test_back_to_back_requests_never_share_memoised_state(first: Any, second: Any, registry: Path) -> None:
    assert first.urn == second.urn and first != second
    _adapter.reset_run_state()
    analyzer = _analyzer(registry)
    seen_first = _analyze(analyzer, first)
    seen_second = _analyze(analyzer, second)
    # Each gets its own verdict: what the policies say of it alone, called directly without any memo.
    for record, seen in ((first, seen_first), (second, seen_second)):
        expected, _ = _direct([record], registry, stack=False)
        assert seen == [(d.policy, d.message) for d in expected], record.name
    assert seen_first != seen_second  # the two verdicts differ, so a leaked memo would show
    # And analysing the second one in a fresh analyzer gives the same as right after the first.
    _adapter.reset_run_state()
    assert _analyze(_analyzer(registry), second) == seen_second


def test_each_policys_full_description_is_in_the_docs() -> None:
    # the engine prints only the one-sentence description; the full text stays in policies/README.md
    readme = (POLICIES_DIR / "README.md").read_text(encoding="utf-8")
    for policy in pack.POLICIES:
        details = policy.china_site_details  # type: ignore[attr-defined]
        assert len(details) > len(policy.description)
        assert f"- **`{policy.name}`** — {policy.description} {details}\n" in readme, policy.name
