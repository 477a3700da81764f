"""The local cloud's provider plugin (tests/e2e/localcloud), driven over gRPC the way the Pulumi engine drives it.

Fast: no Pulumi CLI. The plugin runs as its own process through ``bin/pulumi-resource-alicloud``, as the engine
starts it; the state is checked across two plugin processes, the call log for content and for leaked secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import grpc
import pytest
from e2e.localcloud.fixtures import moto_s3
from e2e.localcloud.harness import LocalCloud, MotoS3, Plugin, cloud_env, install_plugin
from e2e.localcloud.schema import resource_schema
from e2e.localcloud.wire import UNKNOWN, secret, to_dict, to_struct
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

__all__ = ["moto_s3"]  # the session fixture, used here

STACK = "urn:pulumi:dev::proj::"
BUCKET = "alicloud:oss/bucket:Bucket"
CNAME = "alicloud:oss/bucketCname:BucketCname"
CDN = "alicloud:cdn/domainNew:DomainNew"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----never-in-a-log-----END PRIVATE KEY-----"
ACCESS_SECRET = "access-key-secret-never-in-a-log"


def urn(token: str, name: str) -> str:
    return f"{STACK}{token}::{name}"


def configure(plugin: Plugin, region: str = "cn-shanghai") -> None:
    plugin.stub.Configure(
        provider_pb2.ConfigureRequest(
            args=to_struct(
                {"region": region, "secretKey": secret(ACCESS_SECRET), "version": version("pulumi_alicloud")}
            ),
            variables={"alicloud:config:region": region, "alicloud:config:secretKey": ACCESS_SECRET},
            acceptSecrets=True,
            acceptResources=True,
        )
    )


def check(plugin: Plugin, token: str, news: dict[str, Any]) -> dict[str, str]:
    """Check's failures keyed by the path their reason names (the bridged provider leaves ``property`` empty)."""
    response = plugin.stub.Check(provider_pb2.CheckRequest(urn=urn(token, "r"), type=token, news=to_struct(news)))
    assert all(f.property == "" for f in response.failures)
    return {_path(f.reason): f.reason for f in response.failures}


def _path(reason: str) -> str:
    found = re.search(r"Examine values at 'r\.(.+?)'\.$", reason) or re.search(r"required property '(.+?)'", reason)
    return found.group(1) if found else reason


def cloud(tmp_path: Path, s3: MotoS3 | None = None) -> LocalCloud:
    state, log = tmp_path / "state", tmp_path / "calls.jsonl"
    return LocalCloud(state, log, cloud_env(state, log, s3_endpoint=s3.endpoint if s3 else None))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Plugin, LocalCloud]]:
    local = cloud(tmp_path_factory.mktemp("localcloud"))
    with Plugin(local.env) as plugin:
        configure(plugin)
        yield plugin, local


# ---------------------------------------------------------------------------------------------------------------------
# Start-up and configuration


def test_prints_only_its_port_first_and_reports_the_sdk_version(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    assert plugin.first_line.strip().isdigit() and plugin.first_line.endswith("\n")
    info = plugin.stub.GetPluginInfo(empty_pb2.Empty())
    assert info.version == version("pulumi_alicloud")


def test_check_config_accepts_provider_keys_and_rejects_unknown_ones(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    provider_urn = f"{STACK}pulumi:providers:alicloud::p"
    good = plugin.stub.CheckConfig(
        provider_pb2.CheckRequest(urn=provider_urn, news=to_struct({"region": "cn-hongkong", "version": "4.0.0"}))
    )
    assert list(good.failures) == []
    bad = plugin.stub.CheckConfig(
        provider_pb2.CheckRequest(urn=provider_urn, news=to_struct({"region": "cn-hongkong", "regoin": "x"}))
    )
    assert [f.reason for f in bad.failures] == [
        "could not validate provider configuration: Invalid or unknown key. Examine values at 'p.regoin'."
    ]


def test_installed_into_a_plugin_cache_under_the_sdk_version(tmp_path: Path) -> None:
    folder = install_plugin(tmp_path / "home")
    assert folder == tmp_path / "home" / "plugins" / f"resource-alicloud-v{version('pulumi_alicloud')}"
    with Plugin(cloud(tmp_path).env, executable=folder / "pulumi-resource-alicloud") as plugin:
        assert plugin.stub.GetPluginInfo(empty_pb2.Empty()).version == version("pulumi_alicloud")


def test_configure_negotiates_secrets_and_previews(tmp_path: Path) -> None:
    with Plugin(cloud(tmp_path).env) as plugin:
        response = plugin.stub.Configure(provider_pb2.ConfigureRequest(args=to_struct({"region": "cn-hongkong"})))
        assert response.acceptSecrets and response.supportsPreview and response.acceptResources
        created = plugin.stub.Create(
            provider_pb2.CreateRequest(urn=urn(BUCKET, "b"), type=BUCKET, properties=to_struct({"bucket": "hk-b"}))
        )
        assert to_dict(created.properties)["extranetEndpoint"] == "oss-cn-hongkong.aliyuncs.com"


# ---------------------------------------------------------------------------------------------------------------------
# Check: what the real provider rejects


def test_check_accepts_what_the_sdk_accepts(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    assert check(plugin, BUCKET, {"bucket": "b", "storageClass": "Standard", "tags": {"a": "b"}}) == {}
    cdn = {
        "domainName": "www.example.cn",
        "cdnType": "web",
        "scope": "domestic",
        "sources": [{"type": "oss", "content": "b.oss-cn-shanghai.aliyuncs.com", "port": 443, "priority": 20}],
        "certificateConfig": {"certType": "upload", "privateKey": secret(PRIVATE_KEY)},
    }
    assert check(plugin, CDN, cdn) == {}
    # a certificate without the computed-only fields is fine
    cert = {"certificate": secret("PEM"), "privateKey": secret(PRIVATE_KEY)}
    assert check(plugin, CNAME, {"bucket": "b", "domain": "www.example.cn", "certificate": cert}) == {}
    # unknown values (a preview) are not judged, only the keys
    assert check(plugin, CNAME, {"bucket": UNKNOWN, "domain": "www.example.cn"}) == {}


def test_check_rejects_unknown_properties_top_level_and_nested(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    assert set(check(plugin, BUCKET, {"bucket": "b", "storage_class": "Standard"})) == {"storage_class"}
    failures = check(
        plugin,
        CDN,
        {"domainName": "d.cn", "cdnType": "web", "sources": [{"type": "oss", "content": "x", "weigth": 10}]},
    )
    assert failures == {"sources[0].weigth": "Invalid or unknown key. Examine values at 'r.sources[0].weigth'."}


def test_check_rejects_missing_required_properties(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    failures = check(plugin, CDN, {"domainName": "d.cn", "sources": [{"type": "oss", "content": "x"}]})
    assert failures == {"cdnType": "Missing required property 'cdnType'"}
    assert set(check(plugin, CNAME, {"bucket": "b"})) == {"domain"}
    assert set(check(plugin, CNAME, {"bucket": "b", "domain": None})) == {"domain"}
    # nested: Terraform's message for the missing argument, with the path into the list
    lb = {
        "addressType": "Internet",
        "loadBalancerBillingConfig": {"payType": "PayAsYouGo"},
        "loadBalancerEdition": "Standard",
        "vpcId": "vpc-1",
        "zoneMappings": [{"zoneId": "cn-shanghai-e", "vswitchId": "vsw-1"}, {"zoneId": "cn-shanghai-f"}],
    }
    failures = check(plugin, "alicloud:alb/loadBalancer:LoadBalancer", lb)
    assert list(failures) == ["zoneMappings[1].vswitchId"]
    assert failures["zoneMappings[1].vswitchId"].startswith('Missing required argument. The argument "vswitch_id"')
    lb["zoneMappings"][1]["vswitchId"] = "vsw-2"
    assert check(plugin, "alicloud:alb/loadBalancer:LoadBalancer", lb) == {}


def test_check_rejects_computed_only_inputs(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    cert = {"type": "Upload", "certificate": secret("PEM"), "privateKey": secret(PRIVATE_KEY)}
    failures = check(plugin, CNAME, {"bucket": "b", "domain": "www.example.cn", "certificate": cert})
    assert failures == {"certificate.type": "Computed attribute cannot be set. Examine values at 'r.certificate.type'."}
    # a top-level output (in the SDK's state type, not in its Args) is computed-only too
    failures = check(plugin, BUCKET, {"bucket": "b", "extranetEndpoint": "oss-cn-shanghai.aliyuncs.com"})
    assert set(failures) == {"extranetEndpoint"}
    assert failures["extranetEndpoint"].startswith("Computed attribute cannot be set.")


def test_check_uses_the_resources_own_args_type(shared: tuple[Plugin, LocalCloud]) -> None:
    """Codegen renames a resource's Args to ``<Resource>InitArgs`` when a nested type has the name (``BucketWebsite``
    vs ``Bucket``'s ``website``); a resource class may also live only in its file module (``config/reportTemplate``)."""
    plugin, _ = shared
    website = "alicloud:oss/bucketWebsite:BucketWebsite"
    good = {"bucket": "b", "indexDocument": {"suffix": "index.html", "supportSubDir": True, "type": "0"}}
    assert check(plugin, website, good) == {}
    assert set(check(plugin, website, {"indexDocument": {"suffix": "index.html"}})) == {"bucket"}
    assert resource_schema("alicloud:config/reportTemplate:ReportTemplate").inputs.properties


def test_check_fails_an_unknown_resource_type(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    failures = check(plugin, "alicloud:oss/bukket:Bukket", {"bucket": "b"})
    assert len(failures) == 1 and "unknown resource type" in next(iter(failures.values()))


def test_the_schema_knows_every_type_the_components_create() -> None:
    import re

    from e2e.localcloud.schema import known_types

    root = Path(__file__).resolve().parent.parent
    source = "".join(p.read_text(encoding="utf-8") for p in root.glob("**/components/*.py") if ".venv" not in p.parts)
    created = {(m, c) for m, c in re.findall(r"alicloud\.(\w+)\.([A-Z]\w+)\(", source) if not c.endswith("Args")}
    assert ("oss", "Bucket") in created and ("cdn", "DomainNew") in created
    for module, name in sorted(created):
        found = [t for t in known_types() if t.startswith(f"alicloud:{module}/") and t.endswith(f":{name}")]
        assert len(found) == 1, (module, name, found)
        assert resource_schema(found[0]).inputs.properties


# ---------------------------------------------------------------------------------------------------------------------
# The resource life cycle, across plugin processes


def test_create_read_update_delete_across_two_plugin_processes(tmp_path: Path, moto_s3: MotoS3) -> None:
    local = cloud(tmp_path, moto_s3)
    s3 = moto_s3.client()
    name = f"lc-{tmp_path.name.lower().replace('_', '-')}"[:60]
    inputs = {"bucket": name, "storageClass": "Standard", "tags": {"china-site:domain": "www.example.cn"}}
    with Plugin(local.env) as first:
        configure(first)
        preview = first.stub.Create(
            provider_pb2.CreateRequest(urn=urn(BUCKET, "b"), type=BUCKET, properties=to_struct(inputs), preview=True)
        )
        assert preview.id == "" and to_dict(preview.properties)["extranetEndpoint"] == UNKNOWN
        assert local.resources() == []  # a preview creates nothing
        created = first.stub.Create(
            provider_pb2.CreateRequest(urn=urn(BUCKET, "b"), type=BUCKET, properties=to_struct(inputs))
        )
    outputs = to_dict(created.properties)
    assert created.id == name
    assert outputs["extranetEndpoint"] == "oss-cn-shanghai.aliyuncs.com"
    assert outputs["intranetEndpoint"] == "oss-cn-shanghai-internal.aliyuncs.com"
    assert s3.head_bucket(Bucket=name)  # the bucket exists in the S3 stand-in
    assert [r["id"] for r in local.resources(BUCKET)] == [name]

    with Plugin(local.env) as second:  # a new process: only the state on disk carries the resource
        configure(second)
        read = second.stub.Read(
            provider_pb2.ReadRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET, properties=created.properties)
        )
        assert read.id == name and to_dict(read.properties) == outputs
        assert to_dict(read.inputs) == inputs

        def diff_against(news: Any) -> Any:
            return second.stub.Diff(
                provider_pb2.DiffRequest(
                    id=name, urn=urn(BUCKET, "b"), type=BUCKET, olds=read.properties, old_inputs=read.inputs, news=news
                )
            )

        new_inputs = {**inputs, "tags": {"china-site:domain": "www.example.cn", "team": "web"}}
        diff = diff_against(to_struct(new_inputs))
        assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
        assert list(diff.diffs) == ["tags"] and list(diff.replaces) == []
        renamed = diff_against(to_struct({**inputs, "bucket": name + "-2"}))
        assert list(renamed.replaces) == ["bucket"]
        same = diff_against(read.inputs)
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

        updated = second.stub.Update(
            provider_pb2.UpdateRequest(
                id=name, urn=urn(BUCKET, "b"), type=BUCKET, olds=read.properties, news=to_struct(new_inputs)
            )
        )
        assert to_dict(updated.properties)["tags"]["team"] == "web"
        assert to_dict(updated.properties)["extranetEndpoint"] == outputs["extranetEndpoint"]
        assert local.resources(BUCKET)[0]["inputs"]["tags"]["team"] == "web"

        # OSS refuses to delete a bucket that still holds objects (forceDestroy is false)
        s3.put_object(Bucket=name, Key="not-ours.txt", Body=b"x")
        with pytest.raises(grpc.RpcError) as refused:
            second.stub.Delete(
                provider_pb2.DeleteRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET, properties=updated.properties)
            )
        assert "BucketNotEmpty" in (refused.value.details() or "")
        assert local.resources(BUCKET)  # still there
        s3.delete_object(Bucket=name, Key="not-ours.txt")
        second.stub.Delete(
            provider_pb2.DeleteRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET, properties=updated.properties)
        )
        assert local.resources() == []
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        gone = second.stub.Read(provider_pb2.ReadRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET))
        assert gone.id == ""  # refresh: deleted

    methods = [(c["method"], c.get("preview")) for c in local.calls(type=BUCKET)]
    assert methods[:2] == [("Create", True), ("Create", False)]
    assert [m for m, _ in methods[2:]] == ["Read", "Diff", "Diff", "Diff", "Update", "Delete", "Delete", "Read"]
    assert local.calls("Delete")[0]["error"].count("BucketNotEmpty") == 1


def test_without_a_state_folder_resource_calls_fail_naming_it(tmp_path: Path) -> None:
    env = {k: v for k, v in cloud(tmp_path).env.items() if k != "LOCALCLOUD_STATE"}
    with Plugin(env) as plugin:
        configure(plugin)
        assert check(plugin, BUCKET, {"bucket": "b"}) == {}  # Check needs no state
        with pytest.raises(grpc.RpcError) as err:
            plugin.stub.Create(
                provider_pb2.CreateRequest(urn=urn(BUCKET, "b"), type=BUCKET, properties=to_struct({"bucket": "b"}))
            )
        assert "LOCALCLOUD_STATE is not set" in (err.value.details() or "")
    assert not list(tmp_path.rglob("*.json"))


def test_creating_an_existing_resource_fails_like_the_cloud(tmp_path: Path) -> None:
    local = cloud(tmp_path)
    props = to_struct({"domainName": "www.example.cn", "cdnType": "web", "sources": []})
    with Plugin(local.env) as plugin:
        configure(plugin)
        created = plugin.stub.Create(provider_pb2.CreateRequest(urn=urn(CDN, "cdn"), type=CDN, properties=props))
        assert to_dict(created.properties)["cname"] == "www.example.cn.w.kunlunca.com"
        with pytest.raises(grpc.RpcError) as again:
            plugin.stub.Create(provider_pb2.CreateRequest(urn=urn(CDN, "cdn2"), type=CDN, properties=props))
        assert "DomainAlreadyExist" in (again.value.details() or "")


def test_refresh_sees_a_bucket_deleted_outside_pulumi(tmp_path: Path, moto_s3: MotoS3) -> None:
    local = cloud(tmp_path, moto_s3)
    name = f"lc-gone-{abs(hash(tmp_path)) % 10**8}"
    with Plugin(local.env) as plugin:
        configure(plugin)
        plugin.stub.Create(
            provider_pb2.CreateRequest(urn=urn(BUCKET, "b"), type=BUCKET, properties=to_struct({"bucket": name}))
        )
        present = plugin.stub.Read(provider_pb2.ReadRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET))
        assert present.id == name
        moto_s3.client().delete_bucket(Bucket=name)
        gone = plugin.stub.Read(provider_pb2.ReadRequest(id=name, urn=urn(BUCKET, "b"), type=BUCKET))
        assert gone.id == ""


# ---------------------------------------------------------------------------------------------------------------------
# The call log and secrets


def test_call_log_records_method_type_urn_and_inputs(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, local = shared
    check(plugin, CNAME, {"bucket": "logged-bucket", "domain": "www.example.cn"})
    entry = [c for c in local.calls("Check", type=CNAME) if c["news"].get("bucket") == "logged-bucket"][-1]
    assert entry["urn"] == urn(CNAME, "r")
    assert entry["news"] == {"bucket": "logged-bucket", "domain": "www.example.cn"}
    assert "failures" not in entry
    configure_entry = local.calls("Configure")[0]
    assert configure_entry["region"] == "cn-shanghai" and configure_entry["args"]["secretKey"] == "[secret]"


def test_secrets_never_reach_the_log_or_the_state_and_read_returns_them(tmp_path: Path) -> None:
    local = cloud(tmp_path)
    cert = {"certificate": "PUBLIC-CERT", "privateKey": secret(PRIVATE_KEY)}
    inputs = {"bucket": "b", "domain": "www.example.cn", "certificate": cert}
    with Plugin(local.env) as plugin:
        configure(plugin)
        plugin.stub.CheckConfig(  # the engine sends provider config to CheckConfig without the secret bit
            provider_pb2.CheckRequest(
                urn=f"{STACK}pulumi:providers:alicloud::p", news=to_struct({"secretKey": ACCESS_SECRET})
            )
        )
        check(plugin, CNAME, inputs)
        # a private key sent without the secret bit is still treated as one
        check(plugin, CNAME, {**inputs, "certificate": {"privateKey": PRIVATE_KEY}})
        created = plugin.stub.Create(
            provider_pb2.CreateRequest(urn=urn(CNAME, "c"), type=CNAME, properties=to_struct(inputs))
        )
        outputs = to_dict(created.properties)
        assert outputs["certificate"]["privateKey"] == secret(PRIVATE_KEY)
        assert outputs["certificate"]["type"] == "Upload"  # computed by the cloud
        read = plugin.stub.Read(
            provider_pb2.ReadRequest(
                id=created.id,
                urn=urn(CNAME, "c"),
                type=CNAME,
                properties=created.properties,
                inputs=to_struct(inputs),
            )
        )
        assert to_dict(read.properties)["certificate"]["privateKey"] == secret(PRIVATE_KEY)
        assert to_dict(read.inputs) == inputs
    stored = "".join(p.read_text() for p in local.state_dir.rglob("*.json"))
    for text in (local.log_text(), stored):
        assert PRIVATE_KEY not in text and ACCESS_SECRET not in text
    assert "PUBLIC-CERT" in local.log_text()  # not everything is hidden
    assert "[secret]" in local.log_text()


# ---------------------------------------------------------------------------------------------------------------------
# Data sources


def test_invoke_alb_zones_of_the_configured_region(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, local = shared
    response = plugin.stub.Invoke(provider_pb2.InvokeRequest(tok="alicloud:alb/getZones:getZones", args=to_struct({})))
    zones = to_dict(getattr(response, "return"))["zones"]
    assert len(zones) >= 2 and all(z["zoneId"].startswith("cn-shanghai-") for z in zones)
    assert local.calls("Invoke")[-1]["tok"] == "alicloud:alb/getZones:getZones"


def test_invoke_of_an_unknown_data_source_fails(shared: tuple[Plugin, LocalCloud]) -> None:
    plugin, _ = shared
    with pytest.raises(grpc.RpcError) as err:
        plugin.stub.Invoke(provider_pb2.InvokeRequest(tok="alicloud:index/getNothing:getNothing", args=to_struct({})))
    assert "no data source" in (err.value.details() or "")


def test_log_lines_are_json(shared: tuple[Plugin, LocalCloud]) -> None:
    _, local = shared
    lines = local.log_text().splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)


# ---------------------------------------------------------------------------------------------------------------------
# DNS: what Alibaba Cloud CDN sees (tests/fake_cdn_api.py reads the local cloud's published TXT records)

DNS_RECORD = "alicloud:dns/alidnsRecord:AlidnsRecord"


def test_a_txt_record_it_creates_is_seen_by_the_fake_cdn_api_until_it_is_deleted(tmp_path: Path) -> None:
    from fake_cdn_api import FakeCdn, content_of, serve

    from china_site.live import Credentials
    from china_site.ownership import OwnershipClient

    local = cloud(tmp_path)
    value = content_of("example.cn")
    txt = {"domainName": "example.cn", "rr": "verification", "type": "TXT", "value": value, "ttl": 600}
    cname = {"domainName": "example.cn", "rr": "www", "type": "CNAME", "value": "www.example.cn.w.kunlunca.com"}
    with serve(FakeCdn(dns=local.published_txt)) as api, Plugin(local.env) as plugin:
        configure(plugin)
        client = OwnershipClient(credentials=Credentials("ak", "sk"), endpoint=api.endpoint, timeout=2.0)
        assert client.verify_once("www.example.cn") is False  # nothing published yet
        plugin.stub.Create(
            provider_pb2.CreateRequest(urn=urn(DNS_RECORD, "c"), type=DNS_RECORD, properties=to_struct(cname))
        )
        created = plugin.stub.Create(
            provider_pb2.CreateRequest(urn=urn(DNS_RECORD, "t"), type=DNS_RECORD, properties=to_struct(txt))
        )
        assert local.published_txt() == {"verification.example.cn": [value]}  # TXT only, by its full name
        assert client.verify_once("www.example.cn") is True
        assert api.requests[-1]["seen"] == [value]
        api.verified.clear()
        plugin.stub.Delete(
            provider_pb2.DeleteRequest(
                id=created.id, urn=urn(DNS_RECORD, "t"), type=DNS_RECORD, properties=created.properties
            )
        )
        assert local.published_txt() == {}
        assert client.verify_once("www.example.cn") is False  # a deleted record proves nothing
