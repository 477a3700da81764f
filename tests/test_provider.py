"""The china-site provider plugin: its schema (against Pulumi's metaschema), SiteContent's lifecycle through the
provider's own methods (PropertyValues in and out, a real S3-compatible server), Construct's input mapping and
where the engine finds the plugin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    DiffRequest,
    GetSchemaRequest,
    ReadRequest,
    UpdateRequest,
)

from china_site.provider.schema import PACKAGE, schema, version
from china_site.provider.server import ChinaSiteProvider, from_python, to_python
from china_site.sync import file_hashes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = ROOT / "site"
ICP = "沪ICP备2021012345号-1"
PSB = "沪公网安备31011502012345号"
URN = "urn:pulumi:dev::shop::china-site:index:SiteContent::web"


def _run(coro: Any) -> Any:
    """Run a provider method on a loop of its own (asyncio.run would leave no current loop for the Pulumi mock tests
    that run after these in the same process)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


# ---------------------------------------------------------------------------------------------------------------------
# The schema


def _metaschema() -> Path | None:
    """Pulumi's package metaschema from the Go module cache (fetched by the engine build), if present."""
    roots = [os.environ.get("GOMODCACHE", "")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        roots.append(subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, timeout=20).stdout)
    roots.append(str(Path.home() / "go" / "pkg" / "mod"))
    for root in filter(None, (r.strip() for r in roots)):
        found = sorted(Path(root).glob("github.com/pulumi/pulumi/pkg/v3@v3.*/codegen/schema/pulumi.json"))
        if found:
            return found[-1]
    return None


def _load_metaschema(path: Path) -> dict[str, Any]:
    import re

    # The metaschema's patterns use ECMA/Go named groups, (?<name>…); Python spells them (?P<name>…).
    text = re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", path.read_text(encoding="utf-8"))
    return json.loads(text)  # type: ignore[no-any-return]


def test_schema_is_valid_under_pulumis_metaschema() -> None:
    import jsonschema

    path = _metaschema()
    if path is None:
        pytest.skip("Pulumi's metaschema is not in the Go module cache (run `make engine` first)")
    meta = _load_metaschema(path)
    validator = jsonschema.validators.validator_for(meta)(meta)
    errors = sorted(validator.iter_errors(schema()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_schema_is_invalid_when_broken_so_the_validation_can_fail() -> None:
    import copy

    import jsonschema

    path = _metaschema()
    if path is None:
        pytest.skip("Pulumi's metaschema is not in the Go module cache (run `make engine` first)")
    meta = _load_metaschema(path)
    broken = copy.deepcopy(schema())
    broken["resources"]["china-site:index:Site"]["inputProperties"]["domain"]["type"] = "text"
    assert list(jsonschema.validators.validator_for(meta)(meta).iter_errors(broken))


def _properties(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for token, res in doc["resources"].items():
        for section in ("inputProperties", "properties"):
            for name, prop in res[section].items():
                yield f"{token}.{section}.{name}", prop
    for token, typ in doc["types"].items():
        for name, prop in typ["properties"].items():
            yield f"{token}.{name}", prop
    for name, prop in doc["config"]["variables"].items():
        yield f"config.{name}", prop


def test_every_property_is_described_and_none_is_a_union() -> None:
    doc = schema()
    props = list(_properties(doc))
    assert len(props) > 80
    undescribed = [where for where, prop in props if not str(prop.get("description", "")).strip()]
    assert undescribed == []
    assert "oneOf" not in json.dumps(doc)
    # The registry is a string, the origin a host name string: no union left from the Python args.
    site = doc["resources"]["china-site:index:Site"]
    assert site["isComponent"] is True and doc["resources"]["china-site:index:WebBackend"]["isComponent"] is True
    assert site["inputProperties"]["filings"]["type"] == "string"
    assert site["inputProperties"]["origin"]["type"] == "string"
    content = doc["resources"]["china-site:index:SiteContent"]
    assert "isComponent" not in content and {"bucket", "contentDir"} <= set(content["requiredInputs"])
    assert doc["name"] == PACKAGE and doc["version"] == version()


def test_get_schema_answers_the_schema() -> None:
    answer = _run(ChinaSiteProvider().get_schema(GetSchemaRequest(version=0)))
    assert answer.schema is not None and json.loads(answer.schema) == json.loads(json.dumps(schema()))


# ---------------------------------------------------------------------------------------------------------------------
# PropertyValue <-> Python


def test_values_round_trip_numbers_become_ints_again() -> None:
    value = {"files": {"a.html": "ab"}, "maxWorkers": 4, "ratio": 0.5, "exclude": ["*.map"], "mainland": True}
    pv = from_python(value)
    assert pv.value["maxWorkers"].value == 4.0  # type: ignore[index]  # the wire has only floats
    assert to_python(pv) == value
    unknown = to_python(PropertyValue.computed())
    assert unknown.__class__.__name__ == "Unknown"
    # on the wire: the engine's unknown sentinel, read back as unknown
    from pulumi.runtime.rpc import UNKNOWN

    assert from_python(unknown).marshal().string_value == UNKNOWN
    assert to_python(PropertyValue.unmarshal(from_python(unknown).marshal())) == unknown
    with pytest.raises(TypeError):
        from_python(object())


# ---------------------------------------------------------------------------------------------------------------------
# SiteContent through the provider's methods


def _pv(props: dict[str, Any]) -> dict[str, PropertyValue]:
    return {k: from_python(v) for k, v in props.items()}


def _py(props: dict[str, PropertyValue]) -> dict[str, Any]:
    return {k: to_python(v) for k, v in props.items()}


def _remote(admin: Any, bucket: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"].strip('"')
    return out


def _inputs(content_dir: Path, bucket: str) -> dict[str, Any]:
    # What a YAML/TypeScript/Go program sends: no program-time hashes, the provider's check computes them.
    return {
        "bucket": bucket,
        "contentDir": str(content_dir),
        "region": "cn-shanghai",
        "domain": "www.mingyue-tea.cn",
        "icpNumber": ICP,
        "psbNumber": PSB,
        "mainland": True,
        "maxWorkers": 4,
    }


def test_check_computes_the_program_time_inputs_and_refuses_missing_ones(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    provider = ChinaSiteProvider()
    checked = _run(provider.check(CheckRequest(URN, {}, _pv(_inputs(site, "b")), b"")))
    assert not checked.failures and checked.inputs is not None
    inputs = _py(checked.inputs)
    assert inputs["files"] == file_hashes(site)
    assert inputs["icpNumberDisplayed"] is True and inputs["psbNumberDisplayed"] is True
    assert inputs["owner"] == "shop/dev/web"  # the owner mark, as the Python class writes it

    bad = _inputs(tmp_path / "missing", "b")
    del bad["bucket"]
    refused = _run(provider.check(CheckRequest(URN, {}, _pv(bad), b"")))
    assert [f.property for f in refused.failures or []] == ["bucket"]
    missing = _run(provider.check(CheckRequest(URN, {}, _pv(_inputs(tmp_path / "missing", "b")), b"")))
    [failure] = missing.failures or []
    assert failure.property == "contentDir" and "missing" in failure.reason


def test_lifecycle_through_the_provider(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    import boto3

    admin = boto3.client("s3", endpoint_url=oss_env.endpoint, region_name="us-east-1")
    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    provider = ChinaSiteProvider()
    checked = _run(provider.check(CheckRequest(URN, {}, _pv(_inputs(site, bucket)), b"")))
    assert checked.inputs is not None
    created = _run(provider.create(CreateRequest(URN, checked.inputs, 60, False)))
    assert created.resource_id == f"oss://{bucket}/"
    state = created.properties
    assert to_python(state["objectCount"]) == len(file_hashes(site)) == len(_remote(admin, bucket))

    # Nothing changed: no diff.
    same = _run(provider.diff(DiffRequest(URN, created.resource_id, state, checked.inputs, [])))
    assert same.changes is False and same.replaces == []

    # One page edited: an update uploads that page only.
    (site / "index.html").write_text((site / "index.html").read_text(encoding="utf-8") + "<!-- v2 -->\n")
    before = _remote(admin, bucket)
    news = _run(provider.check(CheckRequest(URN, state, _pv(_inputs(site, bucket)), b""))).inputs
    assert news is not None
    changed = _run(provider.diff(DiffRequest(URN, created.resource_id, state, news, [])))
    assert changed.changes is True and changed.diffs == ["files"] and changed.replaces == []
    updated = _run(provider.update(UpdateRequest(URN, created.resource_id, state, news, 60, [], False)))
    after = _remote(admin, bucket)
    assert {k for k in after if after[k] != before.get(k)} == {"index.html"}

    # A prefix change replaces (delete before replace).
    moved = dict(_py(news), prefix="v2/")
    replaced = _run(provider.diff(DiffRequest(URN, created.resource_id, updated.properties, _pv(moved), [])))
    assert replaced.replaces == ["prefix"] and replaced.delete_before_replace is True

    # Read: an object dropped behind our back shows as a change of files.
    admin.delete_object(Bucket=bucket, Key="index.html")
    read = _run(provider.read(ReadRequest(URN, created.resource_id, updated.properties, news)))
    assert "index.html" not in to_python(read.properties["files"])
    assert "manifest" not in read.inputs

    # Delete: our objects go, a foreign one stays.
    admin.put_object(Bucket=bucket, Key="foreign.txt", Body=b"not ours")
    _run(provider.delete(DeleteRequest(URN, created.resource_id, read.properties, 60)))
    assert set(_remote(admin, bucket)) == {"foreign.txt"}


def test_the_provider_adopts_a_state_written_by_the_dynamic_provider(tmp_path: Path, bucket: str, oss_env: Any) -> None:
    """The upgrade: old dynamic state (with its pickle and component marker) diffs clean against the same inputs."""
    from china_site.components.content import ContentSyncProvider

    site = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, site)
    provider = ChinaSiteProvider()
    news = _run(provider.check(CheckRequest(URN, {}, _pv(_inputs(site, bucket)), b""))).inputs
    assert news is not None
    legacy = ContentSyncProvider().create(
        {**_py(news), "component": "china-site:index:SiteContent", "__provider": "gASV-pickle"}
    )
    old_state = _pv({**(legacy.outs or {}), "__provider": "gASV-pickle", "component": "china-site:index:SiteContent"})
    adopt = _run(provider.diff(DiffRequest(URN, legacy.id, old_state, news, [])))
    # Only the pickle and the marker differ: an update (never a replace) that rewrites the state without them ...
    assert adopt.changes is True and adopt.replaces == [] and set(adopt.diffs) == {"__provider", "component"}
    before = {k: v for k, v in (legacy.outs or {})["manifest"].items()}
    updated = _run(provider.update(UpdateRequest(URN, legacy.id, old_state, news, 60, [], False)))
    assert "__provider" not in updated.properties and "component" not in updated.properties
    # ... and uploads nothing again (same manifest: same ETags).
    assert to_python(updated.properties["manifest"]) == before
    same = _run(provider.diff(DiffRequest(URN, legacy.id, updated.properties, news, [])))
    assert same.changes is False
    # Reading it never carries the pickle into the new state either.
    read = _run(provider.read(ReadRequest(URN, legacy.id, old_state, {})))
    assert "__provider" not in read.properties and "__provider" not in read.inputs
    assert _run(provider.diff_config(DiffRequest("urn:x", "", {}, {}, []))).changes is False


def test_an_unknown_type_is_refused() -> None:
    from china_site.provider.server import _custom

    # The type is the last element of the URN's type chain (a child of a Site, from Construct or in-process).
    assert _custom("china-site:index:Site$china-site:index:SiteContent") == "china-site:index:SiteContent"
    with pytest.raises(ValueError, match="unknown resource type"):
        _run(ChinaSiteProvider().check(CheckRequest("urn:pulumi:s::p::china-site:index:Nope::x", {}, {}, b"")))


# ---------------------------------------------------------------------------------------------------------------------
# Construct's inputs


def test_site_args_from_engine_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site.provider.construct import site_args, web_backend_args

    monkeypatch.chdir(tmp_path)
    args = site_args(
        {
            "domain": "www.mingyue-tea.cn",
            "hosting": "mainland",
            "filings": "filings.yaml",
            "contentDir": "site",
            "cdnGlobal": True,
            "verificationTimeout": 30,
            "contentExclude": ["*.map"],
            "origin": None,
        }
    )
    assert args.filings == str(tmp_path / "filings.yaml") and args.content_dir == str(tmp_path / "site")
    assert (args.hosting, args.cdn_global, args.verification_timeout) == ("mainland", True, 30)
    assert args.content_exclude == ["*.map"] and args.origin is None
    assert site_args({"domain": "a.cn", "filings": "oss://b/k.yaml"}).filings == "oss://b/k.yaml"
    backend = web_backend_args({"domain": "a.cn", "imageId": "img", "certificateId": "c", "zones": ["z1", "z2"]})
    assert backend.zones == ("z1", "z2") and backend.image_id == "img"
    with pytest.raises(TypeError):
        site_args({"domain": "a.cn", "noSuchInput": 1})


# ---------------------------------------------------------------------------------------------------------------------
# Where the engine finds the plugin


def test_plugin_goes_into_pulumis_plugin_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site.provider.install import ensure_installed

    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    folder = ensure_installed()
    assert folder == tmp_path / "home" / "plugins" / f"resource-china-site-v{version()}"
    launcher = folder / "pulumi-resource-china-site"
    assert launcher.stat().st_mode & stat.S_IXUSR
    assert "-m china_site.provider" in launcher.read_text(encoding="utf-8")
    mtime = launcher.stat().st_mtime_ns
    assert ensure_installed() == folder and launcher.stat().st_mtime_ns == mtime  # unchanged: not rewritten
    ensure_installed("/other/python")
    assert "/other/python" in launcher.read_text(encoding="utf-8")


def test_a_foreign_plugin_is_never_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``pulumi-resource-china-site`` that is not our launcher (installed with ``pulumi plugin install``, or by
    hand) stays as it is: one line saying so, from the library and from ``china-site provider-dir`` (exit 2)."""
    from china_site.provider.install import ensure_installed, plugin_folder

    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    folder = plugin_folder()
    folder.mkdir(parents=True)
    theirs = folder / "pulumi-resource-china-site"
    theirs.write_bytes(b"\x7fELF a real plugin binary")
    with pytest.raises(FileExistsError) as err:
        ensure_installed()
    assert "was not written by china-site" in str(err.value.strerror)
    done = subprocess.run(
        [sys.executable, "-m", "china_site.cli", "provider-dir"],
        env={**os.environ, "PULUMI_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and "not written by china-site" in done.stderr
    assert theirs.read_bytes() == b"\x7fELF a real plugin binary"


def test_plugin_process_serves_and_prints_its_port(tmp_path: Path) -> None:
    """The console script's module starts a gRPC server and prints the port, as the engine expects."""
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "china_site.provider", "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit() and int(port) > 0
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_construct_inputs_fall_back_to_the_stack_config_and_refuse_unknowns() -> None:
    import pulumi
    from pulumi.errors import InputPropertiesError

    from china_site.provider.construct import _inputs
    from china_site.provider.schema import SITE_INPUTS

    pulumi.runtime.config.set_all_config(
        {"china-site:hosting": "hongkong", "china-site:domain": "from-config.cn", "china-site:cdnGlobal": "true"}, []
    )
    try:
        args = _run(_inputs({"domain": PropertyValue("www.example.cn")}, SITE_INPUTS, "Site 'x'"))
        # The argument wins; what is left out comes from china-site:<property>, typed as the schema says.
        assert args["domain"] == "www.example.cn" and args["hosting"] == "hongkong" and args["cdnGlobal"] is True
        with pytest.raises(InputPropertiesError) as unknown:
            _run(_inputs({"filings": PropertyValue.computed()}, SITE_INPUTS, "Site 'x'"))
        assert unknown.value.errors is not None and unknown.value.errors[0]["property_path"] == "filings"
        with pytest.raises(InputPropertiesError) as extra:
            _run(_inputs({"registry": PropertyValue("r.yaml")}, SITE_INPUTS, "Site 'x'"))
        assert extra.value.errors is not None and "no input registry" in extra.value.errors[0]["reason"]
        # An origin may be another resource's output (with its dependency): it stays an Output.
        origin = PropertyValue("alb.example.com", dependencies=["urn:pulumi:s::p::china-site:index:WebBackend::b"])
        wrapped = _run(_inputs({"origin": origin}, SITE_INPUTS, "Site 'x'"))["origin"]
        assert isinstance(wrapped, pulumi.Output)
    finally:
        pulumi.runtime.config.set_all_config({}, [])


def test_site_args_certificate_object_becomes_the_site_certificate() -> None:
    import pulumi

    from china_site.provider.construct import site_args

    async def resolve() -> tuple[Any, Any]:
        cert = pulumi.Output.secret({"certificate": "-----CERT-----", "privateKey": "-----KEY-----"})
        args = site_args({"domain": "www.example.cn", "certificate": cert})
        assert args.certificate is not None
        return (
            await args.certificate.certificate.future(),  # type: ignore[union-attr]
            await args.certificate.private_key.is_secret(),  # type: ignore[union-attr]
        )

    assert _run(resolve()) == ("-----CERT-----", True)


def test_provider_dir_prints_the_folder_or_one_line_error(tmp_path: Path) -> None:
    import sys

    command = [str(Path(sys.executable).parent / "china-site"), "provider-dir"]
    env = {**os.environ, "PULUMI_HOME": str(tmp_path / "home")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and Path(done.stdout.strip()).is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env["PULUMI_HOME"] = str(blocker / "home")  # under a file: cannot be created
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (
        "cannot write the provider plugin into Pulumi's plugin cache" in refused.stderr
        and "PULUMI_HOME" in refused.stderr
    )


def test_program_time_install_failure_is_a_one_line_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pulumi

    from china_site.errors import InputError
    from china_site.provider.install import _IN_PLUGIN, ensure_for_program

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("PULUMI_HOME", str(blocker / "home"))
    monkeypatch.delenv(_IN_PLUGIN, raising=False)
    monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "monitor", None)  # not under mocks: a program's run
    with pytest.raises(InputError) as err:
        ensure_for_program()
    assert isinstance(err.value, pulumi.RunError)  # printed by the Python host as its message alone
    assert "plugin cache" in str(err.value) and "PULUMI_HOME" in str(err.value)
    monkeypatch.setenv(_IN_PLUGIN, "1")  # inside the plugin (Construct): the engine already runs it, nothing to do
    ensure_for_program()
