"""In-process == gRPC with the REAL pack: ``china_site.engine.driver.evaluate`` calling the policies in-process (what
``preflight``/``audit`` do) and the very same requests sent to the pack served by ``python -m pulumi.policy`` (as the
Pulumi engine starts it: ``tests/analyzer_harness.py``) give identical diagnostics, remediations and not-applicable
reports — on hand-built Alibaba Cloud resources covering every rule, and on the records the mock runner makes of
both sample stacks.

One pack process serves the module. Each scenario's own stack config reaches it through ``ConfigureStack`` (the
pack forwards it), exactly as in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analyzer_harness import PackProcess
from registry_data import TODAY, write_registry

from china_site.engine.artifacts import SECRET_SIG, SIG_KEY, STACK_TYPE, UNKNOWN, ProviderRef, Record
from china_site.engine.driver import Evaluation, evaluate
from china_site.engine.runner import Pack, load_pack, reset_pack_state, run_program

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
STACK, PROJECT = "prod", "shop"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::{STACK_TYPE}::{PROJECT}-{STACK}"
CDN = "alicloud:cdn/domainNew:DomainNew"
BUCKET = "alicloud:oss/bucket:Bucket"
EIP = "alicloud:ecs/eipAddress:EipAddress"
DNS = "alicloud:dns/alidnsRecord:AlidnsRecord"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_registry(tmp_path_factory.mktemp("parity-registry"))


@pytest.fixture(scope="module")
def stack_config(registry: Path) -> dict[str, str]:
    return {"china-site:filings": str(registry), "china-site:today": TODAY}


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack()


@pytest.fixture(scope="module")
def remote(stack_config: dict[str, str]) -> Iterator[PackProcess]:
    process = PackProcess(stack_config=stack_config)
    try:
        yield process
    finally:
        stderr = process.stderr()
        process.stop()
        assert "Traceback" not in stderr, stderr


def provider(region: str, name: str = "region") -> ProviderRef:
    urn = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:alicloud::{name}-{region}"
    return ProviderRef(urn, "pulumi:providers:alicloud", f"{name}-{region}", {"region": region, "version": "4.0.0"})


def record(rtype: str, name: str, inputs: dict[str, Any], region: str | None = "cn-shanghai", **kw: Any) -> Record:
    outputs = kw.pop("outputs", None)
    return Record(
        urn=f"urn:pulumi:{STACK}::{PROJECT}::{rtype}::{name}",
        type=rtype,
        name=name,
        custom=True,
        inputs=inputs,
        outputs={**inputs, **outputs} if outputs is not None else None,
        provider=provider(region) if region else None,
        parent=STACK_URN,
        dependencies=kw.pop("dependencies", ()),
        property_dependencies=kw.pop("property_dependencies", {}),
        op="create",
    )


def stack_record() -> Record:
    return Record(STACK_URN, STACK_TYPE, f"{PROJECT}-{STACK}", False, {}, {}, None, None, (), {}, "create")


def cdn(name: str, host: Any, scope: Any = "domestic", region: str = "cn-shanghai", **tags: str) -> Record:
    inputs: dict[str, Any] = {"domainName": host, "scope": scope, "cdnType": "web"}
    if tags:
        inputs["tags"] = {f"china-site:{k}": v for k, v in tags.items()}
    return record(CDN, name, inputs, region, outputs={"cname": f"{name}.w.kunlunaz.com"})


def scenario_records() -> dict[str, list[Record]]:
    eip = record(EIP, "api-ip", {"bandwidth": "5"}, outputs={"ipAddress": "47.100.1.2"})
    return {
        "mainland-filed": [stack_record(), cdn("www", "www.example.cn", domain="www.example.cn")],
        "unfiled": [stack_record(), cdn("shop", "www.unfiled-shop.cn")],
        "hongkong": [
            stack_record(),
            cdn("hk", "www.example.cn", scope="overseas", region="cn-hongkong"),
            record(
                BUCKET,
                "hk-bucket",
                {"bucket": "b", "acl": "public-read", "tags": {"china-site:domain": "example.cn"}},
                "cn-hongkong",
            ),
        ],
        "payments": [stack_record(), cdn("pay", "pay-shop.cn", payments="true")],
        "pending": [stack_record(), cdn("wait", "waiting.com.cn")],
        "psb": [stack_record(), cdn("fresh", "fresh.cn"), cdn("late", "late.cn")],
        "ineligible-domain": [stack_record(), cdn("tea", "www.tea-shop.com")],
        "dns-linked": [
            stack_record(),
            eip,
            record(
                DNS,
                "api-a",
                {"domainName": "unfiled-shop.cn", "rr": "api", "type": "A", "value": "47.100.1.2"},
                outputs={},
                dependencies=(eip.urn,),
            ),
        ],
        "unknowns-and-secrets": [
            stack_record(),
            cdn("later", UNKNOWN),
            cdn("scope-later", "www.unfiled-shop.cn", scope=UNKNOWN),
            cdn("hidden", {SIG_KEY: SECRET_SIG, "value": "hidden-shop.cn"}),
            cdn("masked", {SIG_KEY: SECRET_SIG, "value": UNKNOWN}),
        ],
        "region-unknown": [
            stack_record(),
            record(EIP, "where-ip", {"tags": {"china-site:domain": "x.unfiled-shop.cn"}}, region=None),
        ],
    }


WAIVER = {"policy": "icp-filing-required", "resource": "shop", "reason": "filing under review", "expires": "2026-12-31"}

SCENARIOS: list[tuple[str, dict[str, Any] | None]] = [
    ("mainland-filed", None),
    ("unfiled", None),
    ("unfiled", {"icp-filing-required": {"waivers": [WAIVER]}}),
    ("unfiled", {"icp-filing-required": "remediate"}),
    ("unfiled", {"all": "advisory"}),
    ("hongkong", None),
    ("payments", None),
    ("payments", {"commercial-permit-required": {"ownGoodsNeedPermit": False}}),
    ("pending", None),
    ("psb", None),
    ("psb", {"psb-filing-required": {"psbGraceDays": 365}}),
    ("ineligible-domain", {"domain-eligible": {"requireRealName": False}}),
    ("dns-linked", None),
    ("unknowns-and-secrets", None),
    ("region-unknown", None),
]


def assert_same(local: Evaluation, remote: Evaluation) -> None:
    assert remote.diagnostics == local.diagnostics
    assert remote.remediations == local.remediations
    assert remote.not_applicable == local.not_applicable
    assert (remote.resources, remote.stack_urn) == (local.resources, local.stack_urn)


def both(pack: Pack, remote: PackProcess, records: list[Record], config: Any, stack_config: dict[str, str]) -> Any:
    reset_pack_state()
    local = evaluate(pack.policies, records, config=config, pack_name=pack.name, stack_config=stack_config)
    far = evaluate(pack.policies, records, config=config, pack_name=pack.name, stack_config=stack_config,
                   analyzer=remote.stub)  # fmt: skip
    assert_same(local, far)
    return local


@pytest.mark.parametrize(("name", "config"), SCENARIOS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCENARIOS)])
def test_in_process_equals_grpc(
    name: str, config: dict[str, Any] | None, pack: Pack, remote: PackProcess, stack_config: dict[str, str]
) -> None:
    local = both(pack, remote, scenario_records()[name], config, stack_config)
    policies = {(d.policy, d.enforcement) for d in local.diagnostics}
    expected: dict[tuple[str, str], set[tuple[str, str]]] = {
        ("mainland-filed", "None"): set(),
        ("unfiled", "None"): {("icp-filing-required", "mandatory")},
        ("hongkong", "None"): {("filed-domain-off-mainland", "advisory")},
        ("payments", "None"): {("commercial-permit-required", "mandatory")},
        ("pending", "None"): {("icp-filing-required", "mandatory")},
        ("dns-linked", "None"): {("dns-linked-exposure", "mandatory"), ("untied-mainland-exposure", "advisory")},
        ("unfiled", "{'all': 'advisory'}"): {("icp-filing-required", "advisory")},
        # late.cn is past its 30-day window, fresh.cn inside it; a 365-day window leaves both inside.
        ("psb", "None"): {("psb-filing-due", "advisory"), ("psb-filing-required", "mandatory")},
        ("psb", "{'psb-filing-required': {'psbGraceDays': 365}}"): {("psb-filing-due", "advisory")},
        ("ineligible-domain", "{'domain-eligible': {'requireRealName': False}}"): {("domain-eligible", "mandatory")},
        ("region-unknown", "None"): {("icp-filing-required", "mandatory")},
    }
    key = (name, str(config))
    if key in expected:  # the rule each scenario is about fires (the comparison above covers everything else)
        assert policies == expected[key], local.diagnostics
    if config and "waivers" in str(config):  # waived: advisory, naming the waiver — never hidden, never mandatory
        waived = [d for d in local.diagnostics if d.policy == "icp-filing-required"]
        assert waived and all(d.enforcement == "advisory" and "WAIVED until" in d.message for d in waived)
    if config == {"icp-filing-required": "remediate"}:
        assert [r.policy for r in local.remediations] == ["icp-filing-required"]
    if name == "unknowns-and-secrets":
        assert all("hidden-shop.cn" not in d.message for d in local.diagnostics)


@pytest.mark.parametrize("stack", ["mainland", "hongkong"])
def test_preflight_records_in_process_equal_grpc(stack: str, pack: Pack, remote: PackProcess) -> None:
    result = run_program(ROOT, stack, config_overrides={"china-site:today": TODAY})
    local = both(pack, remote, result.records, None, result.config)
    assert local.resources == len(result.records)
    assert not [d for d in local.diagnostics if d.enforcement == "mandatory"]
