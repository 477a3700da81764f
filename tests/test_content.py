"""SiteContent: its lifecycle (the legacy dynamic provider, which delegates to china_site.provider.content, as the
provider plugin does) against a real S3-compatible server, and the custom resource under Pulumi mocks."""

from __future__ import annotations

import base64
import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import OSS_SECRET as SECRET
from google.protobuf import json_format, struct_pb2

from china_site.components.content import COMPONENT_TYPE, ContentSyncProvider, SiteContent, SiteContentArgs
from china_site.sync import file_hashes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = ROOT / "site"
ICP = "沪ICP备2021012345号-1"
PSB = "沪公网安备31011502012345号"


# ---------------------------------------------------------------------------------------------------------------------
# Helpers


def through_state(outs: dict[str, Any]) -> dict[str, Any]:
    """What the engine hands back next time: a protobuf Struct round trip (every number becomes a float)."""
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in outs.items() if v is not None})
    return json_format.MessageToDict(struct)


def props_for(content_dir: Path, bucket: str, **extra: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "component": COMPONENT_TYPE,
        "bucket": bucket,
        "region": "cn-shanghai",
        "endpoint": None,
        "prefix": "",
        "contentDir": str(content_dir),
        "files": file_hashes(content_dir),
        "cachePolicy": {},
        "maxWorkers": 4,
        "domain": "www.mingyue-tea.cn",
        "icpNumber": ICP,
        "psbNumber": PSB,
        "mainland": True,
        "icpNumberDisplayed": True,
        "psbNumberDisplayed": True,
        "__provider": "serialized-provider",
    }
    props.update(extra)
    return props


def remote(admin: Any, bucket: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"].strip('"')
    return out


def copy_site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, target)
    return target


# ---------------------------------------------------------------------------------------------------------------------
# The provider, called directly


def test_provider_create_diff_update_delete(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    admin = oss_env.client()
    admin.put_object(Bucket=bucket, Key="not-ours.txt", Body=b"keep me")
    site = copy_site(tmp_path)
    provider = ContentSyncProvider()

    # create: every file uploaded, manifest and count in the outputs, inputs echoed for the next diff
    props = props_for(site, bucket)
    created = provider.create(props)
    assert created.id == f"oss://{bucket}/"
    outs = through_state(created.outs or {})
    assert outs["objectCount"] == len(props["files"]) == 4
    assert set(outs["manifest"]) == set(props["files"])
    assert "__provider" not in (created.outs or {})
    assert remote(admin, bucket).keys() == {*props["files"], "not-ours.txt"}
    head = admin.head_object(Bucket=bucket, Key="index.html")
    assert head["ContentType"] == "text/html; charset=utf-8" and head["CacheControl"] == "no-cache"

    # diff: nothing changed → no changes; content changed → update (no replace); bucket changed → replace
    same = provider.diff(created.id, outs, props_for(site, bucket))
    assert same.changes is False and not same.replaces
    relocated = provider.diff(created.id, outs, props_for(site, bucket, contentDir="/elsewhere/site"))
    assert relocated.changes is False  # the path moved, the content did not
    (site / "style.css").write_text("body { color: #000 }\n", encoding="utf-8")
    (site / "images" / "logo.png").unlink()
    (site / "about.html").write_text("<p>关于我们</p>", encoding="utf-8")
    news = props_for(site, bucket)
    changed = provider.diff(created.id, outs, news)
    assert changed.changes is True and not changed.replaces
    moved = provider.diff(created.id, outs, props_for(site, "another-bucket"))
    assert moved.replaces == ["bucket"] and moved.delete_before_replace is True
    unknown = provider.diff(created.id, outs, {**news, "bucket": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    assert unknown.replaces == ["bucket"]  # an unknown bucket (preview) may be a new one

    # update: exactly the changed file and the new one upload; the removed one is deleted
    before = {k: admin.head_object(Bucket=bucket, Key=k)["ETag"] for k in ("index.html", "404.html")}
    updated = provider.update(created.id, outs, news)
    outs2 = through_state(updated.outs or {})
    assert set(outs2["manifest"]) == {"index.html", "404.html", "style.css", "about.html"}
    assert outs2["objectCount"] == 4
    objects = remote(admin, bucket)
    assert "images/logo.png" not in objects and "not-ours.txt" in objects
    assert objects["style.css"] == outs2["manifest"]["style.css"]["etag"]
    assert {k: admin.head_object(Bucket=bucket, Key=k)["ETag"] for k in before} == before
    assert provider.diff(created.id, outs2, props_for(site, bucket)).changes is False

    # read (refresh): an object removed behind our back drops out of the manifest and ``files``
    admin.delete_object(Bucket=bucket, Key="about.html")
    read = provider.read(created.id, {**outs2, "__provider": "x"})
    assert read.id == created.id
    assert "about.html" not in read.outs["manifest"] and "about.html" not in read.outs["files"]
    assert provider.diff(created.id, through_state(read.outs), props_for(site, bucket)).changes is True
    repaired = provider.update(created.id, through_state(read.outs), props_for(site, bucket))
    assert "about.html" in remote(admin, bucket) and "about.html" in repaired.outs["manifest"]

    # delete: exactly our objects go
    provider.delete(created.id, through_state(repaired.outs or {}))
    assert remote(admin, bucket) == {"not-ours.txt": remote(admin, bucket)["not-ours.txt"]}
    # deleting again (or after the bucket itself is gone) is not an error
    provider.delete(created.id, through_state(repaired.outs or {}))
    provider.delete(created.id, {**through_state(repaired.outs or {}), "bucket": f"gone-{uuid.uuid4().hex[:8]}"})


def test_provider_refuses_content_that_changed_since_the_program_ran(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    from china_site.errors import ChinaSiteError

    site = copy_site(tmp_path)
    props = props_for(site, bucket)
    (site / "style.css").write_text("changed between preview and apply", encoding="utf-8")
    with pytest.raises(ChinaSiteError) as err:
        ContentSyncProvider().create(props)
    assert "changed after the program read it" in str(err.value)
    assert remote(oss_env.client(), bucket) == {}


def test_provider_create_after_an_interrupted_create_converges(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    """A failed create leaves no Pulumi state; the next create adopts what already went up."""
    admin = oss_env.client()
    site = copy_site(tmp_path)
    props = props_for(site, bucket)
    # the first attempt got two files up before it died
    from china_site.oss import client
    from china_site.sync import apply, plan

    first = plan(site, None)
    partial = type(first)(uploads=first.uploads[:2], deletes=(), unchanged=(), previous={})
    apply(client("oss", region="cn-shanghai"), bucket, partial)
    created = ContentSyncProvider().create(props)
    assert set(created.outs["manifest"]) == set(props["files"])
    objects = remote(admin, bucket)
    assert all(objects[k] == e["etag"] for k, e in created.outs["manifest"].items())


def test_provider_errors_are_one_line_without_credentials(tmp_path: Path, oss_env: Any) -> None:
    from china_site.errors import ChinaSiteError

    site = copy_site(tmp_path)
    with pytest.raises(ChinaSiteError) as err:
        ContentSyncProvider().create(props_for(site, f"missing-{uuid.uuid4().hex[:8]}"))
    text = str(err.value)
    assert "\n" not in text and "NoSuchBucket" in text and SECRET not in text


def test_serialized_provider_holds_no_credentials(oss_env: Any) -> None:
    from pulumi.dynamic.dynamic import serialize_provider

    blob = base64.b64decode(serialize_provider(ContentSyncProvider()))
    assert SECRET.encode() not in blob and b"testing" not in blob
    import dill

    assert isinstance(dill.loads(blob), ContentSyncProvider)


# ---------------------------------------------------------------------------------------------------------------------
# The component under Pulumi mocks


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs)
        if args.typ == COMPONENT_TYPE:
            outs["manifest"] = {}
            outs["objectCount"] = len(outs.get("files") or {})
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class ParentMonitor(pulumi.runtime.mocks.MockMonitor):
    """Records each registration's parent URN as well."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.parents: dict[str, str] = {}
        self.aliases: dict[str, list[Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        self.parents[request.name] = request.parent
        self.aliases[request.name] = list(request.aliases)
        return super().RegisterResource(request)


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, ParentMonitor]:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    recorder = Recorder()
    monitor = ParentMonitor(recorder)
    pulumi.runtime.set_mocks(recorder, preview=False, monitor=monitor, logger=logging.getLogger("pulumi-mocks-content"))
    return recorder, monitor


def mainland_args(bucket: str, content_dir: Path) -> SiteContentArgs:
    """The sample mainland site's content (www.mingyue-tea.cn, its ICP and PSB numbers) from ``content_dir``."""
    return SiteContentArgs(
        bucket=bucket,
        content_dir=str(content_dir),
        region="cn-shanghai",
        domain="www.mingyue-tea.cn",
        icp_number=ICP,
        psb_number=PSB,
        mainland=True,
    )


def _content_resource(recorder: Recorder) -> pulumi.runtime.MockResourceArgs:
    [res] = [r for r in recorder.resources if r.typ == COMPONENT_TYPE]
    return res


@pulumi.runtime.test
def test_site_content_registers_the_provider_resource_with_its_inputs(
    mocks: tuple[Recorder, ParentMonitor], caplog: pytest.LogCaptureFixture
) -> Any:
    recorder, monitor = mocks
    content = SiteContent("web", mainland_args("mingyue-web", SAMPLE_SITE))

    def check(values: list[Any]) -> None:
        count, icp_displayed, psb_displayed, problems = values
        res = _content_resource(recorder)
        # Registered as <name>-sync (the name of the dynamic child it adopts in stacks of earlier versions).
        assert res.name == "web-sync" and res.typ == "china-site:index:SiteContent"
        inputs = res.inputs
        assert "component" not in inputs and "__provider" not in inputs  # nothing pickled in the state
        assert inputs["owner"] == "project/stack/web"
        assert inputs["bucket"] == "mingyue-web" and inputs["region"] == "cn-shanghai"
        assert inputs["prefix"] == "" and inputs.get("endpoint") is None
        assert inputs["files"] == file_hashes(SAMPLE_SITE)
        assert inputs["domain"] == "www.mingyue-tea.cn" and inputs["mainland"] is True
        assert inputs["icpNumber"] == ICP and inputs["psbNumber"] == PSB
        assert inputs["icpNumberDisplayed"] is True and inputs["psbNumberDisplayed"] is True
        assert inputs["icpNumberLinked"] is True and inputs["psbNumberLinked"] is True
        assert SECRET not in repr(inputs)
        assert [r.typ for r in recorder.resources] == [COMPONENT_TYPE]  # one custom resource, no dynamic child
        assert monitor.parents["web-sync"].endswith("::pulumi:pulumi:Stack::project-stack")
        # ... with an alias to that dynamic child (parent: the old component <name>, at the stack).
        [alias] = monitor.aliases["web-sync"]
        legacy = alias.spec if alias.HasField("spec") else alias
        assert (legacy.name, legacy.type) == ("web-sync", "pulumi-python:dynamic:Resource")
        assert legacy.parentUrn == "urn:pulumi:stack::project::china-site:index:SiteContent::web"
        assert count == 4 and icp_displayed is True and psb_displayed is True and problems == []
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "备案号" in r.getMessage()]

    return pulumi.Output.all(
        content.object_count, content.icp_number_displayed, content.psb_number_displayed, content.homepage_problems
    ).apply(check)


@pulumi.runtime.test
def test_mainland_homepage_without_numbers_warns_and_records_false(
    mocks: tuple[Recorder, ParentMonitor], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Any:
    recorder, _ = mocks
    site = tmp_path / "bare"
    site.mkdir()
    (site / "index.html").write_text("<html><body><p>明月茶业</p><!-- 沪ICP备2021012345号-1 --></body></html>")
    caplog.set_level(logging.WARNING)
    content = SiteContent("bare", mainland_args("b", site))

    def check(values: list[Any]) -> None:
        _, icp_displayed, problems = values
        inputs = _content_resource(recorder).inputs
        assert inputs["icpNumberDisplayed"] is False and inputs["psbNumberDisplayed"] is False
        assert icp_displayed is False and len(problems) == 2
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("icp-number-displayed" in w and "首页" in w and ICP in w for w in warnings)

    # object_count comes from the resource's outputs: waiting on it waits for its registration
    return pulumi.Output.all(content.object_count, content.icp_number_displayed, content.homepage_problems).apply(check)


@pulumi.runtime.test
def test_hong_kong_site_is_not_checked(mocks: tuple[Recorder, ParentMonitor], tmp_path: Path) -> Any:
    recorder, _ = mocks
    site = tmp_path / "hk"
    site.mkdir()
    (site / "index.html").write_text("<p>hello</p>")
    content = SiteContent(
        "hk",
        SiteContentArgs(
            bucket=pulumi.Output.from_input("hk-bucket"),
            content_dir=str(site),
            region="cn-hongkong",
            domain="www.example.com",
            mainland=False,
            prefix="www/",
        ),
    )

    def check(values: list[Any]) -> None:
        _, displayed = values
        inputs = _content_resource(recorder).inputs
        assert inputs["bucket"] == "hk-bucket" and inputs["prefix"] == "www/"
        assert inputs.get("icpNumberDisplayed") is None and inputs.get("psbNumberDisplayed") is None
        assert displayed is None

    return pulumi.Output.all(content.object_count, content.icp_number_displayed).apply(check)


def test_missing_content_dir_fails_at_program_time(mocks: tuple[Recorder, ParentMonitor], tmp_path: Path) -> None:
    from china_site.errors import ChinaSiteError

    with pytest.raises(ChinaSiteError) as err:
        SiteContent(
            "missing",
            SiteContentArgs(bucket="b", content_dir=str(tmp_path / "nope"), region="cn-shanghai", domain="x.cn"),
        )
    assert "content directory not found" in str(err.value)


@pulumi.runtime.test
def test_component_leaves_out_links_out_of_the_folder_and_says_so(
    mocks: tuple[Recorder, ParentMonitor], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Any:
    import os

    recorder, _ = mocks
    site = copy_site(tmp_path)
    os.symlink("/etc/passwd", site / "passwd.txt")
    os.symlink("/proc/self/environ", site / "env.txt")
    (site / ".env").write_text(f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET}", encoding="utf-8")
    caplog.set_level(logging.INFO)
    content = SiteContent("links", mainland_args("b", site))

    def check(_: Any) -> None:
        inputs = _content_resource(recorder).inputs
        assert not {"passwd.txt", "env.txt", ".env"} & set(inputs["files"])
        assert ".env" in inputs["exclude"] and inputs["takeOverExisting"] is False
        assert inputs["owner"].endswith("/links")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("passwd.txt" in w and "env.txt" in w and "outside the content folder" in w for w in warnings)
        assert not any(SECRET in r.getMessage() for r in caplog.records)

    return content.object_count.apply(check)


def test_provider_refuses_a_foreign_object_unless_told_to_take_over(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    from china_site.errors import ChinaSiteError

    admin = oss_env.client()
    admin.put_object(Bucket=bucket, Key="index.html", Body=b"<p>the old site, uploaded by hand</p>")
    site = copy_site(tmp_path)
    with pytest.raises(ChinaSiteError) as err:
        ContentSyncProvider().create(props_for(site, bucket, owner="shop/prod/web"))
    assert "index.html" in str(err.value) and "takeOverExisting" in str(err.value)
    assert set(remote(admin, bucket)) == {"index.html"}
    created = ContentSyncProvider().create(props_for(site, bucket, owner="shop/prod/web", takeOverExisting=True))
    assert set(created.outs["manifest"]) == set(remote(admin, bucket))
    assert admin.head_object(Bucket=bucket, Key="index.html")["Metadata"]["china-site-owner"] == "shop/prod/web"


@pulumi.runtime.test
def test_homepage_check_never_reads_a_link_out_of_the_folder(
    mocks: tuple[Recorder, ParentMonitor], tmp_path: Path
) -> Any:
    import os

    recorder, _ = mocks
    outside = tmp_path / "outside.html"
    outside.write_text(f"<footer>{ICP} {PSB}</footer>", encoding="utf-8")  # would pass the check if it were read
    site = tmp_path / "site"
    site.mkdir()
    os.symlink(outside, site / "index.html")
    zero = tmp_path / "zero"
    zero.mkdir()
    os.symlink("/dev/zero", zero / "index.html")  # would never finish if it were read
    content = SiteContent("out", mainland_args("b", site))
    other = SiteContent("zero", mainland_args("b", zero))

    def check(_: Any) -> None:
        inputs = [r.inputs for r in recorder.resources if r.typ == COMPONENT_TYPE]
        assert all(i["icpNumberDisplayed"] is False for i in inputs) and len(inputs) == 2

    return pulumi.Output.all(content.object_count, other.object_count).apply(check)
