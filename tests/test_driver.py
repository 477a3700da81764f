"""The in-process pack driver, with a toy pack defined here: remediation before analysis, enforcement levels from
Pulumi's --policy-pack-config, jsonschema config validation, unknowns, what the engine sends — and the proof that
the in-process path and the gRPC path give identical results."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from china_site.engine.artifacts import (
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    Record,
    parse_document,
    read_artifact,
)
from china_site.engine.driver import (
    Diagnostic,
    PolicyRunError,
    RemediationApplied,
    engine_props,
    evaluate,
    from_engine_struct,
    load_policy_config,
    policies_meta,
    reconcile_policy_config,
    run_policies,
    to_engine_struct,
)
from china_site.errors import InputError

sys.path.insert(0, str(Path(__file__).parent))
from test_artifacts import (
    ACL_URN,
    BUCKET_URN,
    EXPORT,
    PREVIEW,
    PROVIDER_URN,
    SITE_URN,
    STACK_URN,
    alicloud_export,
    alicloud_preview,
)

BUCKET_ACL = "alicloud:oss/bucketAcl:BucketAcl"
ACL_DESCRIPTION = "OSS bucket ACLs must not be public."


# ----------------------------------------------------------------------------------------------------------------
# The toy pack (also served over gRPC by test_in_process_equals_grpc, from this very function)


def _acl_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != BUCKET_ACL:
        return
    if args.props.get("acl") == "public-read":
        region = args.provider.props.get("region") if args.provider else None
        report(f"bucket ACL is public-read in {region}\nOSS 存储桶 ACL 为公共读（{region}）", None)


def _make_private(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    if args.resource_type == BUCKET_ACL and args.props.get("acl") == "public-read":
        props = dict(args.props)
        props["acl"] = "private"
        return props
    return None


def _stack_no_public_acl(args: StackValidationArgs, report: ReportViolation) -> None:
    for res in args.resources:
        if res.resource_type == BUCKET_ACL and res.props.get("acl") == "public-read":
            report("a public ACL is deployed", res.urn)


def _allowed_regions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.provider is None or not args.resource_type.startswith("alicloud:"):
        return
    region = args.provider.props.get("region")
    allowed = args.get_config()["regions"]
    if region not in allowed:
        report(f"region {region} is not in {', '.join(allowed)}", None)


def make_policies() -> list[Any]:
    return [
        ResourceValidationPolicy(
            name="oss-acl-not-public",
            description=ACL_DESCRIPTION,
            validate=_acl_not_public,
            enforcement_level=EnforcementLevel.MANDATORY,
            remediation_steps="Set the bucket ACL to private.",
            url="https://example.invalid/policies/oss-acl-not-public",
        ),
        ResourceValidationPolicy(
            name="oss-acl-make-private",
            description="Make OSS bucket ACLs private.",
            remediate=_make_private,
            enforcement_level=EnforcementLevel.ADVISORY,
        ),
        StackValidationPolicy(
            name="stack-no-public-acl",
            description="No public OSS ACL in the stack.",
            validate=_stack_no_public_acl,
        ),
        ResourceValidationPolicy(
            name="allowed-regions",
            description="Resources must be in an allowed region.",
            validate=_allowed_regions,
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "regions": {"type": "array", "items": {"type": "string"}, "default": ["cn-hongkong"]},
                    "maxBuckets": {"type": "integer", "minimum": 0},
                }
            ),
        ),
    ]


def export_records() -> list[Record]:
    return parse_document(alicloud_export(), "state.json").records


def preview_records(doc: dict[str, Any] | None = None) -> list[Record]:
    return parse_document(doc or alicloud_preview(), "preview.json").records


def by_policy(diags: list[Diagnostic], policy: str) -> list[Diagnostic]:
    return [d for d in diags if d.policy == policy]


# ----------------------------------------------------------------------------------------------------------------
# Diagnostics as the engine reports them


def test_export_diagnostics_in_engine_order_with_description_and_message() -> None:
    diags = run_policies(make_policies(), export_records())
    region_msg = "Resources must be in an allowed region.\nregion cn-shanghai is not in cn-hongkong"
    assert diags == [
        Diagnostic("allowed-regions", "advisory", BUCKET_URN, "alicloud:oss/bucket:Bucket", "www-bucket", region_msg),
        Diagnostic(
            "oss-acl-not-public",
            "mandatory",
            ACL_URN,
            BUCKET_ACL,
            "www-acl",
            f"{ACL_DESCRIPTION}\nbucket ACL is public-read in cn-shanghai\nOSS 存储桶 ACL 为公共读（cn-shanghai）",
        ),
        Diagnostic("allowed-regions", "advisory", ACL_URN, BUCKET_ACL, "www-acl", region_msg),
        # The stack policy named the resource: the engine files it there (pack default level: advisory).
        Diagnostic(
            "stack-no-public-acl",
            "advisory",
            ACL_URN,
            BUCKET_ACL,
            "www-acl",
            "No public OSS ACL in the stack.\na public ACL is deployed",
        ),
    ]


def test_passing_case_private_acl_in_allowed_region() -> None:
    doc = alicloud_export()
    for res in doc["deployment"]["resources"]:
        if res["type"] == BUCKET_ACL:
            res["inputs"]["acl"] = res["outputs"]["acl"] = "private"
    records = parse_document(doc, "state.json").records
    assert run_policies(make_policies(), records, config={"allowed-regions": {"regions": ["cn-shanghai"]}}) == []


def test_remediation_runs_before_analyze_and_feeds_it() -> None:
    config = {"oss-acl-make-private": "remediate"}
    ev = evaluate(make_policies(), export_records(), config=config)
    assert by_policy(ev.diagnostics, "oss-acl-not-public") == []  # Analyze saw the remediated inputs
    assert ev.remediations == [RemediationApplied("oss-acl-make-private", ACL_URN)]
    # An export's outputs are the deployed state: the stack policy still sees the public ACL.
    assert [d.urn for d in by_policy(ev.diagnostics, "stack-no-public-acl")] == [ACL_URN]

    # A preview create has no outputs: AnalyzeStack gets the remediated inputs, as the engine's preview would.
    ev = evaluate(make_policies(), preview_records(), config=config)
    assert by_policy(ev.diagnostics, "oss-acl-not-public") == []
    assert by_policy(ev.diagnostics, "stack-no-public-acl") == []


def test_remediation_not_at_remediate_level_does_nothing() -> None:
    ev = evaluate(make_policies(), export_records())
    assert ev.remediations == []
    assert len(by_policy(ev.diagnostics, "oss-acl-not-public")) == 1
    # A remediation-only policy is "not applicable" to Analyze, as the SDK reports it.
    assert any(n.policy == "oss-acl-make-private" for n in ev.not_applicable)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"oss-acl-not-public": "advisory"}, "advisory"),
        ({"oss-acl-not-public": {"enforcementLevel": "advisory"}}, "advisory"),
        ({"oss-acl-not-public": "disabled"}, None),
        ({"all": "disabled"}, None),
        ({"all": "disabled", "oss-acl-not-public": "mandatory"}, "mandatory"),
        ({"all": "advisory"}, "advisory"),
        ({"oss-acl-not-public": "remediate"}, "mandatory"),  # a violation at remediate level is reported mandatory
        ({}, "mandatory"),
    ],
)
def test_enforcement_levels_from_policy_config(config: dict[str, Any], expected: str | None) -> None:
    diags = by_policy(run_policies(make_policies(), export_records(), config=config), "oss-acl-not-public")
    assert [d.enforcement for d in diags] == ([expected] if expected else [])


def test_pack_default_applies_to_policies_without_their_own_level() -> None:
    diags = run_policies(make_policies(), export_records(), pack_enforcement="mandatory")
    assert [d.enforcement for d in by_policy(diags, "stack-no-public-acl")] == ["mandatory"]
    assert {d.enforcement for d in by_policy(diags, "allowed-regions")} == {"advisory"}  # its own level wins


def test_config_properties_reach_the_policy() -> None:
    diags = run_policies(make_policies(), export_records(), config={"allowed-regions": {"regions": ["cn-shanghai"]}})
    assert by_policy(diags, "allowed-regions") == []
    diags = run_policies(make_policies(), export_records(), config={"allowed-regions": {"regions": ["cn-beijing"]}})
    assert len(by_policy(diags, "allowed-regions")) == 2


@pytest.mark.parametrize(
    ("config", "parts"),
    [
        ({"allowed-regions": {"regions": "cn-shanghai"}}, ("policy 'allowed-regions'", "field 'regions'", "array")),
        ({"allowed-regions": {"regions": [1]}}, ("policy 'allowed-regions'", "field 'regions.0'", "string")),
        ({"allowed-regions": {"maxBuckets": -1}}, ("policy 'allowed-regions'", "field 'maxBuckets'", "minimum")),
        ({"allowed-region": "advisory"}, ("policy 'allowed-region'", "names no policy")),
        ({"oss-acl-not-public": "strict"}, ("policy 'oss-acl-not-public'", "'strict' is not an enforcement level")),
        (
            {"oss-acl-not-public": {"enforcementLevel": 1}},
            ("policy 'oss-acl-not-public'", "field 'enforcementLevel'"),
        ),
        ({"oss-acl-not-public": 3}, ("policy 'oss-acl-not-public'", "string or an object")),
    ],
)
def test_bad_policy_config_is_a_one_line_input_error(config: dict[str, Any], parts: tuple[str, ...]) -> None:
    with pytest.raises(InputError) as err:
        run_policies(make_policies(), export_records(), config=config)
    message = str(err.value)
    assert "\n" not in message and "Fix: " in message
    for part in parts:
        assert part in message


def test_required_config_property_and_values_not_echoed() -> None:
    policy = ResourceValidationPolicy(
        name="needs-registry",
        description="Needs the filing registry.",
        validate=lambda args, report: None,
        config_schema=PolicyConfigSchema(properties={"filings": {"type": "string"}}, required=["filings"]),
    )
    with pytest.raises(InputError, match=r"policy 'needs-registry', field 'filings': is required"):
        run_policies([policy], export_records())
    with pytest.raises(InputError) as err:
        run_policies([policy], export_records(), config={"needs-registry": {"filings": 12345678}})
    assert "12345678" not in str(err.value)  # a config value could be a secret


def test_config_numbers_arrive_as_doubles_like_over_grpc() -> None:
    seen: list[Any] = []
    probe = ResourceValidationPolicy(
        name="probe",
        description="Probe.",
        validate=lambda args, report: seen.append(dict(args.get_config())),
        config_schema=PolicyConfigSchema(properties={"n": {"type": "integer"}}),
    )
    run_policies([probe], export_records()[:1], config={"probe": {"n": 3}})
    assert seen == [{"n": 3.0}] and isinstance(seen[0]["n"], float)


def test_load_policy_config(tmp_path: Path) -> None:
    good = tmp_path / "config.json"
    good.write_text(json.dumps({"all": "advisory"}), encoding="utf-8")
    assert load_policy_config(str(good)) == {"all": "advisory"}
    empty = tmp_path / "empty.json"
    empty.write_text("  ", encoding="utf-8")
    assert load_policy_config(str(empty)) == {}
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json: the policy config is not valid JSON .*line 1 column 2"):
        load_policy_config(str(bad))
    with pytest.raises(InputError, match=r"missing\.json: cannot read the policy config"):
        load_policy_config(str(tmp_path / "missing.json"))
    listing = tmp_path / "list.json"
    listing.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match="must be a JSON object"):
        load_policy_config(str(listing))


# ----------------------------------------------------------------------------------------------------------------
# Unknown values during preview


def test_unknown_value_gives_the_sdk_advisory_diagnostic_on_the_resource() -> None:
    doc = alicloud_preview()
    doc["steps"][3]["newState"]["inputs"]["acl"] = UNKNOWN
    diags = by_policy(run_policies(make_policies(), preview_records(doc)), "oss-acl-not-public")
    assert diags == [
        Diagnostic(
            "oss-acl-not-public",
            "advisory",
            ACL_URN,
            BUCKET_ACL,
            "www-acl",
            "can't run policy 'oss-acl-not-public' from policy pack 'china-site@v0.0.1' during preview: "
            "string value at .acl can't be known during preview",
        )
    ]


def test_unknown_in_a_stack_policy_is_filed_under_the_root_stack() -> None:
    doc = alicloud_preview()
    doc["steps"][3]["newState"]["inputs"]["acl"] = UNKNOWN
    diags = by_policy(run_policies(make_policies(), preview_records(doc)), "stack-no-public-acl")
    assert [(d.enforcement, d.urn, d.type, d.name) for d in diags] == [
        ("advisory", STACK_URN, "pulumi:pulumi:Stack", "site-prod")
    ]
    assert "can't run policy 'stack-no-public-acl'" in diags[0].message


def test_unreadable_secret_behaves_as_unknown() -> None:
    seen: list[str] = []

    def read_secret(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.provider is not None:
            seen.append(args.provider.props["region"])
            args.provider.props["secretKey"]

    probe = ResourceValidationPolicy("reads-secret", "Reads the provider's secret key.", read_secret)
    diags = run_policies([probe], export_records())
    assert seen == ["cn-shanghai", "cn-shanghai"]
    assert len(diags) == 2 and all("value at .secretKey can't be known" in d.message for d in diags)
    assert all(d.enforcement == "advisory" for d in diags)


# ----------------------------------------------------------------------------------------------------------------
# What the engine sends


def test_every_registered_resource_is_analyzed_including_stack_components_and_providers() -> None:
    seen: list[tuple[str, str, str]] = []
    probe = ResourceValidationPolicy(
        "probe", "Probe.", lambda args, report: seen.append((args.resource_type, args.name, args.urn))
    )
    doc = alicloud_preview()
    zone = "urn:pulumi:prod::site::alicloud:dns/domain:Domain::zone"
    doc["steps"].append({"op": "read", "urn": zone, "newState": {"urn": zone, "type": "alicloud:dns/domain:Domain"}})
    run_policies([probe], preview_records(doc))
    assert [t for t, _, _ in seen] == [
        "pulumi:pulumi:Stack",
        "china-site:index:Site",
        "alicloud:oss/bucket:Bucket",
        BUCKET_ACL,
    ]  # read resources are not analyzed one by one
    seen.clear()
    run_policies([probe], export_records())
    assert "pulumi:providers:alicloud" in [t for t, _, _ in seen] and len(seen) == 5
    assert ("alicloud:oss/bucket:Bucket", "www-bucket", BUCKET_URN) in seen


def test_analyze_arguments_match_the_server() -> None:
    seen: dict[str, Any] = {}

    def probe(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == "alicloud:oss/bucket:Bucket":
            seen["keys"] = sorted(args.props)
            seen["size"] = args.props["size"]
            seen["token"] = args.props["token"]
            seen["ref"] = args.props["ref"]
            seen["opts"] = args.opts
            seen["provider"] = (args.provider.resource_type, args.provider.urn, args.provider.name)
            seen["provider_keys"] = sorted(args.provider.props)
            seen["tags"] = dict(args.stack_tags)

    doc = alicloud_export()
    bucket = doc["deployment"]["resources"][3]
    bucket["inputs"]["size"] = 3
    bucket["inputs"]["ref"] = {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": ACL_URN, "id": "acl-id"}
    doc["deployment"]["resources"][1]["inputs"]["__internal"] = {"x": 1}
    records = parse_document(doc, "state.json").records
    run_policies([ResourceValidationPolicy("probe", "Probe.", probe)], records, stack_tags={"pulumi:project": "site"})
    assert seen["keys"] == ["bucket", "ref", "size", "tags", "token"]  # `__defaults` is not sent to Analyze
    assert seen["size"] == 3.0 and isinstance(seen["size"], float)  # numbers are doubles on the wire
    assert seen["token"] == "s3cr3t-token-value"  # a secret the SDK unwraps for Analyze
    assert seen["ref"] == "acl-id"  # a resource reference is sent as its ID
    opts = seen["opts"]
    assert (opts.parent, opts.protect, opts.delete_before_replace) == (SITE_URN, True, None)
    assert opts.custom_timeouts.create_seconds == 600.0
    assert seen["provider"] == ("pulumi:providers:alicloud", PROVIDER_URN, "shanghai")
    assert seen["provider_keys"] == ["region", "secretKey", "version"]
    assert seen["tags"] == {"pulumi:project": "site"}


def test_stack_config_reaches_policies_as_the_engine_passes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    seen: list[Any] = []

    def probe(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == BUCKET_ACL:
            env = json.loads(os.environ["PULUMI_CONFIG"])
            secret_keys = json.loads(os.environ["PULUMI_CONFIG_SECRET_KEYS"])
            seen.append((env["china-site:domain"], secret_keys, pulumi.Config("china-site").get("domain")))

    art = parse_document(alicloud_preview(), "preview.json")
    run_policies([ResourceValidationPolicy("probe", "Probe.", probe)], art.records, stack_config=art.config)
    assert seen == [("www.example.cn", ["alicloud:secretKey"], "www.example.cn")]
    assert "PULUMI_CONFIG" not in os.environ  # restored after the run
    assert pulumi.Config("china-site").get("domain") is None


def test_remediate_receives_internal_keys() -> None:
    seen: list[list[str]] = []

    def remediate(args: ResourceValidationArgs) -> None:
        if args.resource_type == "alicloud:oss/bucket:Bucket":
            seen.append(sorted(args.props))

    policy = ResourceValidationPolicy(
        "probe", "Probe.", remediate=remediate, enforcement_level=EnforcementLevel.REMEDIATE
    )
    run_policies([policy], export_records())
    assert seen == [["__defaults", "bucket", "tags", "token"]]


def test_analyze_stack_arguments_match_the_server() -> None:
    seen: dict[str, Any] = {}

    def probe(args: StackValidationArgs, report: ReportViolation) -> None:
        acl = next(r for r in args.resources if r.resource_type == BUCKET_ACL)
        seen["count"] = len(args.resources)
        seen["parent"] = acl.parent.urn if acl.parent else None
        seen["deps"] = [d.urn for d in acl.dependencies]
        seen["prop_deps"] = {k: [d.urn for d in v] for k, v in acl.property_dependencies.items()}
        seen["opts_parent"] = acl.opts.parent
        seen["provider_region"] = acl.provider.props["region"] if acl.provider else None
        seen["stack_props"] = dict(next(r for r in args.resources if r.urn == STACK_URN).props)
        report("probe", None)

    diags = run_policies([StackValidationPolicy("probe", "Probe.", probe)], export_records())
    assert seen == {
        "count": 5,
        "parent": SITE_URN,
        "deps": [BUCKET_URN],
        "prop_deps": {"bucket": [BUCKET_URN]},  # empty property dependencies are not sent
        "opts_parent": None,  # AnalyzeStack's options carry no parent
        "provider_region": "cn-shanghai",
        "stack_props": {"url": "https://x"},  # outputs
    }
    assert [(d.urn, d.type, d.name) for d in diags] == [(STACK_URN, "pulumi:pulumi:Stack", "site-prod")]


def test_engine_encoding() -> None:
    props = {
        "__defaults": ["a"],
        "nested": {"__internal": 1, "keep": 2, "list": [{"__x": 1, "y": UNKNOWN}]},
        "secret": {SIG_KEY: SECRET_SIG, "value": {"__hidden": 1, "shown": "v"}},
        "component": {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": SITE_URN},
        "custom": {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": BUCKET_URN, "id": "bkt"},
        "camelCase": 7,
        "flag": True,
        "nothing": None,
    }
    assert engine_props(props) == {
        "nested": {"keep": 2, "list": [{"y": UNKNOWN}]},
        "secret": {SIG_KEY: SECRET_SIG, "value": {"shown": "v"}},
        "component": SITE_URN,
        "custom": "bkt",
        "camelCase": 7,
        "flag": True,
        "nothing": None,
    }
    wire = from_engine_struct(to_engine_struct(props))
    assert wire["camelCase"] == 7.0 and isinstance(wire["camelCase"], float)
    assert wire["flag"] is True and wire["nothing"] is None
    assert wire["nested"]["list"] == [{"y": UNKNOWN}]
    kept = from_engine_struct(to_engine_struct(props, skip_internal_keys=False))
    assert kept["__defaults"] == ["a"] and kept["nested"]["__internal"] == 1.0


# ----------------------------------------------------------------------------------------------------------------
# Failing closed, secrets, real artifacts


def test_a_crashing_policy_stops_the_run_with_one_line_and_no_secret() -> None:
    def boom(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == "alicloud:oss/bucket:Bucket":
            raise ValueError(f"cannot use token {args.props['token']}")

    with pytest.raises(PolicyRunError) as err:
        run_policies([ResourceValidationPolicy("boom", "Boom.", boom)], export_records())
    message = str(err.value)
    assert "\n" not in message and BUCKET_URN in message and "ValueError" in message
    assert "s3cr3t-token-value" not in message and "[secret]" in message


def test_plaintext_secrets_are_redacted_from_messages() -> None:
    def echo(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == "alicloud:oss/bucket:Bucket":
            report(f"token is {args.props['token']}", None)

    diags = run_policies([ResourceValidationPolicy("echo", "Echo.", echo)], export_records())
    assert diags[0].message == "Echo.\ntoken is [secret]"


def test_real_artifacts_run_clean_through_the_toy_pack() -> None:
    for path, count in ((EXPORT, 17), (PREVIEW, 16)):
        art = read_artifact(str(path))
        ev = evaluate(make_policies(), art.records)
        assert ev.resources == count
        assert ev.diagnostics == []  # AWS stacks: nothing for alicloud policies to say
        assert ev.stack_urn == "urn:pulumi:dev::sample::pulumi:pulumi:Stack::sample-dev"


def test_no_policies_is_an_error() -> None:
    with pytest.raises(InputError):
        run_policies([], export_records())


def test_policies_meta() -> None:
    meta = {m.name: m for m in policies_meta(make_policies())}
    acl = meta["oss-acl-not-public"]
    assert (acl.description, acl.enforcement, acl.help_text, acl.help_uri) == (
        ACL_DESCRIPTION,
        "mandatory",
        "Set the bucket ACL to private.",
        "https://example.invalid/policies/oss-acl-not-public",
    )
    assert meta["stack-no-public-acl"].enforcement == "advisory"


# ----------------------------------------------------------------------------------------------------------------
# In-process == gRPC: the same requests, sent over the wire to the pack's real server


PACK_MAIN = """
import sys
sys.path.insert(0, {tests!r})
from pulumi_policy import EnforcementLevel, PolicyPack
from test_driver import make_policies
PolicyPack("china-site", make_policies(), enforcement_level=EnforcementLevel.ADVISORY)
"""


@pytest.fixture(scope="module")
def grpc_analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    workdir = tmp_path_factory.mktemp("pack")
    main = workdir / "__main__.py"
    main.write_text(PACK_MAIN.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    stderr = (workdir / "stderr.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    proc = subprocess.Popen(
        [sys.executable, str(main)], stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=str(workdir)
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()  # the pack prints its port first, like for the engine
        if not line.isdigit():
            pytest.fail(f"policy pack did not start: {(workdir / 'stderr.log').read_text()[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        deadline = time.monotonic() + 30
        grpc.channel_ready_future(channel).result(timeout=max(1.0, deadline - time.monotonic()))
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        stderr.close()


def _unknown_acl_preview() -> dict[str, Any]:
    doc = copy.deepcopy(alicloud_preview())
    doc["steps"][3]["newState"]["inputs"]["acl"] = UNKNOWN
    return doc


@pytest.mark.parametrize(
    ("records", "config", "findings"),
    [
        (export_records, None, 4),
        (export_records, {"oss-acl-make-private": "remediate", "allowed-regions": {"regions": ["x"]}}, 3),
        (preview_records, {"all": "mandatory"}, 4),
        (lambda: preview_records(_unknown_acl_preview()), None, 4),
        (lambda: read_artifact(str(EXPORT)).records, None, 0),
        (lambda: read_artifact(str(PREVIEW)).records, {"all": "mandatory"}, 0),
    ],
    ids=["export", "export-remediate", "preview", "preview-unknown", "real-export", "real-preview"],
)
def test_in_process_equals_grpc(grpc_analyzer: Any, records: Any, config: dict[str, Any] | None, findings: int) -> None:
    recs = records()
    local = evaluate(make_policies(), recs, config=config)
    remote = evaluate(make_policies(), recs, config=config, analyzer=grpc_analyzer)
    assert len(remote.diagnostics) == findings
    assert remote.diagnostics == local.diagnostics
    assert remote.remediations == local.remediations
    assert remote.not_applicable == local.not_applicable


def test_policy_config_formats_the_engine_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``resource/analyzer/config.go`` (v3.274): ``environments`` beside unversioned entries; version 2 nests them
    under ``policies`` (with ``environments`` and ``exceptions``); a non-numeric ``version`` is a policy name."""

    def load(doc: object) -> dict[str, Any]:
        path = tmp_path / "cfg.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return load_policy_config(str(path))

    assert load({"environments": ["org/policy-env"], "all": "mandatory"}) == {"all": "mandatory"}
    assert "ESC environments (org/policy-env) are not opened offline" in capsys.readouterr().err
    assert load({"environments": [], "all": "mandatory"}) == {"all": "mandatory"}
    v2 = {"version": 2, "environments": ["e"], "policies": {"icp-filing-required": {"filings": "f.yaml"}}}
    assert load(v2) == {"icp-filing-required": {"filings": "f.yaml"}}
    assert load({"version": 2}) == {}
    assert load({**v2, "exceptions": {"ex-1": {"policy": "x"}}}) == v2["policies"]
    assert "exceptions are not applied offline" in capsys.readouterr().err
    assert load({"version": "mandatory"}) == {"version": "mandatory"}  # a policy named "version"
    for bad, message in [
        ({"environments": "org/env"}, '"environments" must be an array of strings'),
        ({"environments": ["ok", 3]}, r'"environments\[1\]" must be a string'),
        ({"version": 3, "policies": {}}, "version 3 is not supported"),
        ({"version": 1, "policies": {}}, '"version" must be 2'),
        ({"version": 2, "policies": []}, '"policies" must be an object'),
        ({"version": 2, "all": "mandatory"}, "'all' is not a key of a version 2 policy config"),
        ({"version": 2, "exceptions": []}, '"exceptions" must be an object'),
    ]:
        with pytest.raises(InputError, match=message):
            load(bad)


def test_unknown_policy_names_stay_an_error_in_every_format() -> None:
    policies = make_policies()
    for doc in ({"no-such-policy": "advisory"}, {"version": "advisory"}):
        with pytest.raises(InputError, match="names no policy of this pack"):
            reconcile_policy_config(policies, doc)


def test_environments_on_a_file_backend_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from china_site.engine.driver import current_backend

    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"environments": ["org/policy-env"]}), encoding="utf-8")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    load_policy_config(str(path))
    err = capsys.readouterr().err
    assert "warning:" in err and "need Pulumi Cloud (ESC)" in err and f"file://{tmp_path}" in err
    # Pulumi Cloud: only the offline note
    monkeypatch.setenv("PULUMI_BACKEND_URL", "https://api.pulumi.com")
    load_policy_config(str(path))
    assert "need Pulumi Cloud" not in capsys.readouterr().err
    # the login the CLI remembers, when PULUMI_BACKEND_URL is not set
    monkeypatch.delenv("PULUMI_BACKEND_URL")
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "file://~"}), encoding="utf-8")
    assert current_backend({"PULUMI_HOME": str(tmp_path)}) == "file://~"
    assert current_backend({"PULUMI_HOME": str(tmp_path / "none")}) is None
