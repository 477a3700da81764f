"""Artifact readers: real Pulumi CLI output and hand-built Alibaba Cloud exports/previews."""

from __future__ import annotations

import copy
import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from china_site.engine.artifacts import (
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    Artifact,
    parse_document,
    parse_urn,
    read_artifact,
    root_stack_urn,
    secret,
)
from china_site.errors import InputError

DATA = Path(__file__).parent / "data"
EXPORT = DATA / "pulumi" / "stratify-export.json"
PREVIEW = DATA / "pulumi" / "stratify-preview-creates.json"

STACK = "prod"
PROJECT = "site"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:alicloud::shanghai"
PROVIDER_ID = "6a0f1d0e-4c0e-4f0e-9a51-1f2d3c4b5a69"
DEFAULT_PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:alicloud::default_3_60_0"
SITE_URN = f"urn:pulumi:{STACK}::{PROJECT}::china-site:index:Site::www"
BUCKET_URN = f"urn:pulumi:{STACK}::{PROJECT}::china-site:index:Site$alicloud:oss/bucket:Bucket::www-bucket"
ACL_URN = f"urn:pulumi:{STACK}::{PROJECT}::china-site:index:Site$alicloud:oss/bucketAcl:BucketAcl::www-acl"
CIPHERTEXT = {SIG_KEY: SECRET_SIG, "ciphertext": "v1:q8ya1H2b1Rk=:v1:Zm9vYmFy:c2VjcmV0LWtleQ=="}


def alicloud_export(version: int = 3) -> dict[str, Any]:
    """A `pulumi stack export` of a small mainland site: explicit cn-shanghai provider, bucket and bucket ACL."""
    provider_ref = f"{PROVIDER_URN}::{PROVIDER_ID}"
    return {
        "version": version,
        "deployment": {
            "manifest": {"time": "2025-01-02T03:04:05Z", "magic": "abc", "version": "v3.150.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}},
            "resources": [
                {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {"url": "https://x"}},
                {
                    "urn": PROVIDER_URN,
                    "custom": True,
                    "id": PROVIDER_ID,
                    "type": "pulumi:providers:alicloud",
                    "inputs": {"region": "cn-shanghai", "secretKey": CIPHERTEXT, "version": "3.60.0"},
                    "outputs": {"region": "cn-shanghai", "secretKey": CIPHERTEXT, "version": "3.60.0"},
                    "parent": STACK_URN,
                },
                {
                    "urn": SITE_URN,
                    "custom": False,
                    "type": "china-site:index:Site",
                    "parent": STACK_URN,
                    "outputs": {"url": "https://www.example.cn"},
                },
                {
                    "urn": BUCKET_URN,
                    "custom": True,
                    "id": "www-bucket-1a2b",
                    "type": "alicloud:oss/bucket:Bucket",
                    "inputs": {
                        "__defaults": ["bucket"],
                        "bucket": "www-bucket-1a2b",
                        "tags": {"domain": "www.example.cn", "payments": "false"},
                        "token": {SIG_KEY: SECRET_SIG, "plaintext": '"s3cr3t-token-value"'},
                    },
                    "outputs": {"bucket": "www-bucket-1a2b", "extranetEndpoint": "oss-cn-shanghai.aliyuncs.com"},
                    "parent": SITE_URN,
                    "provider": provider_ref,
                    "protect": True,
                    "customTimeouts": {"create": 600},
                },
                {
                    "urn": ACL_URN,
                    "custom": True,
                    "id": "www-bucket-1a2b",
                    "type": "alicloud:oss/bucketAcl:BucketAcl",
                    "inputs": {"bucket": "www-bucket-1a2b", "acl": "public-read"},
                    "outputs": {"bucket": "www-bucket-1a2b", "acl": "public-read"},
                    "parent": SITE_URN,
                    "provider": provider_ref,
                    "dependencies": [BUCKET_URN],
                    "propertyDependencies": {"bucket": [BUCKET_URN], "acl": []},
                },
            ],
        },
    }


def step(op: str, urn: str, rtype: str, inputs: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"urn": urn, "custom": not rtype.startswith(("pulumi:pulumi", "china-site")), "type": rtype}
    if inputs is not None:
        state["inputs"] = inputs
    state.update(extra)
    out: dict[str, Any] = {"op": op, "urn": urn, "newState": state}
    if "provider" in extra:
        out["provider"] = extra["provider"]
    return out


def alicloud_preview() -> dict[str, Any]:
    """A `pulumi preview --json` with the *default* alicloud provider (not among the steps: region in config)."""
    provider_ref = f"{DEFAULT_PROVIDER_URN}::{UNKNOWN}"
    old_urn = f"urn:pulumi:{STACK}::{PROJECT}::alicloud:oss/bucket:Bucket::old-bucket"
    return {
        "config": {
            "alicloud:region": "cn-hangzhou",
            "alicloud:secretKey": "[secret]",
            "china-site:domain": "www.example.cn",
        },
        "steps": [
            step("same", STACK_URN, "pulumi:pulumi:Stack"),
            step("create", SITE_URN, "china-site:index:Site", parent=STACK_URN),
            step(
                "create",
                BUCKET_URN,
                "alicloud:oss/bucket:Bucket",
                {"bucket": UNKNOWN, "tags": {"domain": "www.example.cn"}, "token": "[secret]"},
                parent=SITE_URN,
                provider=provider_ref,
            ),
            step(
                "update",
                ACL_URN,
                "alicloud:oss/bucketAcl:BucketAcl",
                {"bucket": UNKNOWN, "acl": "public-read"},
                parent=SITE_URN,
                provider=provider_ref,
                dependencies=[BUCKET_URN],
                propertyDependencies={"bucket": [BUCKET_URN]},
            ),
            {"op": "delete", "urn": old_urn, "oldState": {"urn": old_urn, "type": "alicloud:oss/bucket:Bucket"}},
        ],
        "changeSummary": {"create": 2, "update": 1, "same": 1, "delete": 1},
    }


def write(tmp_path: Path, doc: Any, name: str = "state.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def by_type(artifact: Artifact, rtype: str) -> list[Any]:
    return [r for r in artifact.records if r.type == rtype]


# ----------------------------------------------------------------------------------------------------------------
# Real Pulumi CLI artifacts


def test_real_export_v3_parses_with_counts_types_names_and_provider_refs() -> None:
    art = read_artifact(str(EXPORT))
    assert (art.kind, art.stack, art.project, art.config) == ("export", "dev", "sample", {})
    assert len(art.records) == 17
    counts = Counter(r.type for r in art.records)
    assert counts["aws:iam/rolePolicyAttachment:RolePolicyAttachment"] == 9
    assert counts["pulumi:providers:aws"] == 1 and counts["pulumi:pulumi:Stack"] == 1
    assert sum(r.custom for r in art.records) == 15  # everything but the stack and the event subscription component

    stack, provider, bucket = art.records[0], art.records[1], art.records[2]
    assert (stack.type, stack.name, stack.custom, stack.provider) == ("pulumi:pulumi:Stack", "sample-dev", False, None)
    assert stack.is_stack and provider.is_provider
    assert (provider.name, provider.inputs["version"]) == ("default_6_63_0", "6.63.0")
    assert (bucket.type, bucket.name, bucket.parent) == ("aws:s3/bucket:Bucket", "docs", stack.urn)
    assert bucket.provider is not None
    assert (bucket.provider.urn, bucket.provider.type, bucket.provider.name) == (
        provider.urn,
        "pulumi:providers:aws",
        "default_6_63_0",
    )
    assert bucket.provider.inputs == provider.inputs  # the provider's *inputs* (region would live there)
    assert bucket.inputs["acl"] == "private" and bucket.outputs is not None and bucket.outputs["acl"] == "private"
    assert bucket.op is None and not bucket.external
    assert sum(1 for r in art.records if r.provider is not None) == 14

    function = by_type(art, "aws:lambda/function:Function")[0]
    role = by_type(art, "aws:iam/role:Role")[0]
    assert function.name == "docsHandler"
    assert function.dependencies == (role.urn,)
    assert function.property_dependencies["role"] == (role.urn,)
    assert function.property_dependencies["runtime"] == ()
    # Names come from the URN, whose type part carries the parent chain.
    assert role.urn.split("::")[2] == "aws:s3/bucket:Bucket$aws:s3:BucketEventSubscription$aws:iam/role:Role"
    assert role.type == "aws:iam/role:Role"


def test_real_preview_parses_sixteen_creates() -> None:
    art = read_artifact(str(PREVIEW))
    assert (art.kind, art.stack, art.project) == ("preview", "dev", "sample")
    assert len(art.records) == 16
    assert {r.op for r in art.records} == {"create"}
    assert art.config == {"pulumi:tags": '{"pulumi:template":"aws-typescript"}'}
    assert not by_type(art, "pulumi:providers:aws")  # the default provider has no step of its own
    bucket = by_type(art, "aws:s3/bucket:Bucket")[0]
    assert bucket.name == "docs" and bucket.outputs is None
    assert bucket.provider is not None
    assert bucket.provider.urn == "urn:pulumi:dev::sample::pulumi:providers:aws::default_6_63_0"
    assert bucket.provider.inputs == {}  # no aws:* config in this preview
    assert Counter(r.type for r in art.records)["aws:iam/rolePolicyAttachment:RolePolicyAttachment"] == 9


# ----------------------------------------------------------------------------------------------------------------
# Hand-built Alibaba Cloud artifacts


@pytest.mark.parametrize("version", [3, 4])
def test_alicloud_export_region_from_provider_and_secrets(tmp_path: Path, version: int) -> None:
    art = read_artifact(write(tmp_path, alicloud_export(version)))
    assert (art.kind, art.stack, art.project) == ("export", STACK, PROJECT)
    assert [r.name for r in art.records] == [f"{PROJECT}-{STACK}", "shanghai", "www", "www-bucket", "www-acl"]
    acl = by_type(art, "alicloud:oss/bucketAcl:BucketAcl")[0]
    assert acl.inputs == {"bucket": "www-bucket-1a2b", "acl": "public-read"}
    assert acl.provider is not None and acl.provider.inputs["region"] == "cn-shanghai"
    assert acl.provider.urn == PROVIDER_URN and acl.provider.type == "pulumi:providers:alicloud"
    assert acl.dependencies == (BUCKET_URN,)
    assert acl.property_dependencies == {"bucket": (BUCKET_URN,), "acl": ()}
    # An encrypted secret cannot be read: it becomes a secret whose value is unknown.
    assert acl.provider.inputs["secretKey"] == secret(UNKNOWN) == {SIG_KEY: SECRET_SIG, "value": UNKNOWN}
    bucket = by_type(art, "alicloud:oss/bucket:Bucket")[0]
    # A plaintext secret (--show-secrets) keeps its value, still wrapped as a secret.
    assert bucket.inputs["token"] == secret("s3cr3t-token-value")
    assert bucket.inputs["__defaults"] == ["bucket"]  # kept: Remediate receives internal keys
    assert bucket.options.protect is True
    assert bucket.options.custom_timeouts == (600.0, 0.0, 0.0)
    site = by_type(art, "china-site:index:Site")[0]
    assert (site.custom, site.provider, site.parent) == (False, None, STACK_URN)


def test_export_v3_and_v4_give_identical_records(tmp_path: Path) -> None:
    v3 = read_artifact(write(tmp_path, alicloud_export(3), "v3.json"))
    v4 = read_artifact(write(tmp_path, alicloud_export(4), "v4.json"))
    assert v3.records == v4.records


def test_alicloud_preview_region_from_config_unknowns_and_masked_secrets(tmp_path: Path) -> None:
    art = read_artifact(write(tmp_path, alicloud_preview(), "preview.json"))
    assert art.kind == "preview"
    assert [r.op for r in art.records] == ["same", "create", "create", "update"]  # the delete step is skipped
    assert art.config["alicloud:region"] == "cn-hangzhou"
    bucket = by_type(art, "alicloud:oss/bucket:Bucket")[0]
    assert bucket.inputs["bucket"] == UNKNOWN  # the engine's unknown, kept
    assert bucket.inputs["token"] == secret(UNKNOWN)  # "[secret]" → a secret we cannot read
    assert bucket.provider is not None
    assert bucket.provider.urn == DEFAULT_PROVIDER_URN
    assert bucket.provider.name == "default_3_60_0"
    # The default provider has no step: its inputs are built from the alicloud:* config, as the engine does.
    assert bucket.provider.inputs == {"region": "cn-hangzhou", "secretKey": secret(UNKNOWN)}
    acl = by_type(art, "alicloud:oss/bucketAcl:BucketAcl")[0]
    assert acl.property_dependencies == {"bucket": (BUCKET_URN,)}
    assert acl.outputs is None


def test_preview_uses_an_explicit_provider_step_and_dedupes_replacements(tmp_path: Path) -> None:
    doc = alicloud_preview()
    provider_ref = f"{PROVIDER_URN}::{UNKNOWN}"
    doc["steps"].insert(1, step("create", PROVIDER_URN, "pulumi:providers:alicloud", {"region": "cn-hongkong"}))
    acl = doc["steps"][4]
    acl["newState"]["provider"] = acl["provider"] = provider_ref
    replacement = copy.deepcopy(acl)
    acl["op"], replacement["op"] = "replace", "create-replacement"
    doc["steps"].insert(5, replacement)
    art = read_artifact(write(tmp_path, doc, "preview.json"))
    acls = by_type(art, "alicloud:oss/bucketAcl:BucketAcl")
    assert len(acls) == 1 and acls[0].op == "replace"
    assert acls[0].provider is not None and acls[0].provider.inputs == {"region": "cn-hongkong"}


def test_preview_explicit_provider_without_step_has_no_region(tmp_path: Path) -> None:
    doc = alicloud_preview()
    for s in doc["steps"][2:4]:
        s["newState"]["provider"] = s["provider"] = f"{PROVIDER_URN}::{UNKNOWN}"
    art = read_artifact(write(tmp_path, doc, "preview.json"))
    provider = by_type(art, "alicloud:oss/bucket:Bucket")[0].provider
    assert provider is not None and provider.inputs == {}  # config is for default providers only: fail closed


def test_preview_read_steps_are_external(tmp_path: Path) -> None:
    doc = alicloud_preview()
    zone_urn = f"urn:pulumi:{STACK}::{PROJECT}::alicloud:dns/domain:Domain::zone"
    doc["steps"].append(step("read", zone_urn, "alicloud:dns/domain:Domain", {"domainName": "example.cn"}))
    art = read_artifact(write(tmp_path, doc, "preview.json"))
    assert by_type(art, "alicloud:dns/domain:Domain")[0].external is True
    assert not by_type(art, "alicloud:oss/bucket:Bucket")[0].external


def test_export_skips_resources_pending_deletion(tmp_path: Path) -> None:
    doc = alicloud_export()
    stale = copy.deepcopy(doc["deployment"]["resources"][4])
    stale["delete"] = True
    doc["deployment"]["resources"].append(stale)
    assert len(read_artifact(write(tmp_path, doc)).records) == 5


def test_read_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps(alicloud_export()).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    art = read_artifact("-")
    assert art.source == "<stdin>" and len(art.records) == 5


def test_urn_parsing_follows_pulumi() -> None:
    parsed = parse_urn("urn:pulumi:dev::proj::a:b:C$alicloud:oss/bucket:Bucket::my::odd::name")
    assert (parsed.stack, parsed.project) == ("dev", "proj")
    assert parsed.type == "alicloud:oss/bucket:Bucket"
    assert parsed.parent_types == ("a:b:C",)
    assert parsed.name == "my::odd::name"
    assert root_stack_urn("dev", "proj") == "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
    for bad in ("urn:aws:dev::p::t::n", "urn:pulumi:dev::p::t", "urn:pulumi:::p::t::n"):
        with pytest.raises(ValueError):
            parse_urn(bad)


def test_name_with_double_colons_in_export(tmp_path: Path) -> None:
    doc = alicloud_export()
    doc["deployment"]["resources"][4]["urn"] = ACL_URN + "::v2"
    art = read_artifact(write(tmp_path, doc))
    assert art.records[4].name == "www-acl::v2"


# ----------------------------------------------------------------------------------------------------------------
# Bad artifacts: one line naming file, entry and field, and how to fix it


def _mutate(fn: Any) -> Any:
    doc = alicloud_export()
    fn(doc)
    return doc


BAD_CASES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("not-json", "{not json", ("not valid JSON", "line 1 column 2")),
    ("empty", "   \n", ("is empty",)),
    ("top-level-list", [1, 2], ("expected a JSON object",)),
    ("neither", {"hello": "world"}, ("neither a `pulumi stack export`",)),
    ("version-2", _mutate(lambda d: d.update(version=2)), ("field 'version'", "unsupported export version 2")),
    ("version-5", _mutate(lambda d: d.update(version=5)), ("field 'version'", "unsupported export version 5")),
    ("version-string", _mutate(lambda d: d.update(version="3")), ("field 'version'",)),
    ("no-deployment", {"version": 3}, ("field 'deployment'",)),
    (
        "resources-not-list",
        _mutate(lambda d: d["deployment"].update(resources={})),
        ("field 'deployment.resources'", "expected a list"),
    ),
    ("no-resources", _mutate(lambda d: d["deployment"].update(resources=[])), ("contains no resources",)),
    (
        "missing-urn",
        _mutate(lambda d: d["deployment"]["resources"][3].pop("urn")),
        ("deployment.resources[3]", "field 'urn'"),
    ),
    (
        "bad-urn",
        _mutate(lambda d: d["deployment"]["resources"][2].update(urn="arn:aws:s3:::bucket")),
        ("deployment.resources[2]", "field 'urn'", "not a Pulumi URN"),
    ),
    (
        "resource-not-object",
        _mutate(lambda d: d["deployment"]["resources"].__setitem__(1, "oops")),
        ("deployment.resources[1]", "expected an object"),
    ),
    (
        "inputs-not-object",
        _mutate(lambda d: d["deployment"]["resources"][4].update(inputs=[1])),
        ("deployment.resources[4]", "field 'inputs'"),
    ),
    (
        "bad-dependencies",
        _mutate(lambda d: d["deployment"]["resources"][4].update(dependencies="x")),
        ("deployment.resources[4]", "field 'dependencies'"),
    ),
    (
        "provider-missing",
        _mutate(lambda d: d["deployment"]["resources"].pop(1)),
        ("deployment.resources[2]", "field 'provider'", "not among the exported resources"),
    ),
    (
        "provider-malformed",
        _mutate(lambda d: d["deployment"]["resources"][4].update(provider="nonsense")),
        ("deployment.resources[4]", "field 'provider'"),
    ),
    (
        "unknown-signature",
        _mutate(lambda d: d["deployment"]["resources"][4]["inputs"].update(acl={SIG_KEY: "feedface"})),
        ("deployment.resources[4]", "field 'inputs.acl'", "unrecognised value signature"),
    ),
    (
        "bad-secret",
        _mutate(lambda d: d["deployment"]["resources"][4]["inputs"].update(acl={SIG_KEY: SECRET_SIG})),
        ("deployment.resources[4]", "field 'inputs.acl'"),
    ),
    ("preview-steps-not-list", {"steps": {}}, ("field 'steps'",)),
    ("preview-no-steps", {"steps": [], "config": {}}, ("preview contains no resources",)),
    ("preview-step-no-op", {"steps": [{"urn": STACK_URN}]}, ("steps[0]", "field 'op'")),
    ("preview-step-no-urn", {"steps": [{"op": "create"}]}, ("steps[0]", "field 'urn'")),
    ("preview-unknown-op", {"steps": [{"op": "teleport", "urn": STACK_URN}]}, ("steps[0]", "field 'op'")),
    ("preview-no-newstate", {"steps": [{"op": "create", "urn": STACK_URN}]}, ("steps[0]", "field 'newState'")),
    ("preview-bad-config", {"steps": [], "config": []}, ("field 'config'",)),
]


@pytest.mark.parametrize(("case", "doc", "expected"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_artifacts_give_one_line_input_errors(
    tmp_path: Path, case: str, doc: Any, expected: tuple[str, ...]
) -> None:
    path = write(tmp_path, doc, "state.json")
    with pytest.raises(InputError) as err:
        read_artifact(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(path)
    assert "Fix: " in message
    for part in expected:
        assert part in message


def test_missing_file_and_binary_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.json: cannot read the file .*Fix: run `pulumi stack export"):
        read_artifact(str(tmp_path / "nope.json"))
    binary = tmp_path / "state.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        read_artifact(str(binary))


def test_bad_stdin_names_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match=r"^<stdin>: is empty"):
        read_artifact("-")


def test_parse_document_accepts_decoded_json() -> None:
    art = parse_document(alicloud_export(), "inline")
    assert art.source == "inline" and len(art.records) == 5
