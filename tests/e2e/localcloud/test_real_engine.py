"""The local cloud's plugin under the real Pulumi engine: a tiny program (a bucket, a CDN domain in front of it, a data
source) through ``pulumi up`` / ``refresh`` / ``destroy`` with a file backend, and a Check failure as the CLI shows it.

Uses the fixtures of tests/e2e/conftest.py: ``engine_bin`` (the CLI and its Python language host), ``local_cloud`` and
``moto_s3`` (from ``localcloud.fixtures``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from localcloud.harness import LocalCloud, MotoS3

BUCKET = "alicloud:oss/bucket:Bucket"
CDN = "alicloud:cdn/domainNew:DomainNew"

PROGRAM = """
import pulumi
import pulumi_alicloud as alicloud

config = pulumi.Config()
provider = alicloud.Provider("shanghai", region="cn-shanghai")
on_provider = pulumi.ResourceOptions(provider=provider)
bucket = alicloud.oss.Bucket("bucket", bucket=config.require("bucket"), storage_class="Standard", opts=on_provider)
zones = alicloud.alb.get_zones_output(opts=pulumi.InvokeOutputOptions(provider=provider))
cdn = alicloud.cdn.DomainNew(
    "cdn",
    domain_name="www.localcloud-proof.cn",
    cdn_type="web",
    scope="overseas",
    sources=[
        alicloud.cdn.DomainNewSourceArgs(
            type="oss",
            content=pulumi.Output.concat(bucket.bucket, ".", bucket.extranet_endpoint),
            port=443,
            priority=20,
            weight=10,
        )
    ],
    opts=on_provider,
)
if config.get_bool("computedOnly"):
    alicloud.oss.BucketCname(
        "cname",
        bucket=bucket.bucket,
        domain="www.localcloud-proof.cn",
        certificate=alicloud.oss.BucketCnameCertificateArgs(
            type="Upload", certificate="PEM", private_key=pulumi.Output.secret("proof-private-key-never-logged")
        ),
        opts=on_provider,
    )
pulumi.export("endpoint", bucket.extranet_endpoint)
pulumi.export("cname", cdn.cname)
pulumi.export("zone", zones.zones[0].zone_id)
"""


class Cli:
    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.project, self.env = project, env

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pulumi", *args], cwd=self.project, env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        if ok and done.returncode != 0:
            pytest.fail(
                f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done


@pytest.fixture(params=["on-path"])
def proof(request: pytest.FixtureRequest, tmp_path: Path, engine_bin: Path, local_cloud: LocalCloud) -> Cli:
    project = tmp_path / "proof"
    project.mkdir()
    (project / "__main__.py").write_text(PROGRAM, encoding="utf-8")
    venv = Path(sys.prefix)
    (project / "Pulumi.yaml").write_text(
        f"name: localcloud-proof\nruntime:\n  name: python\n  options:\n    virtualenv: {venv}\n", encoding="utf-8"
    )
    env = local_cloud.install(tmp_path / "pulumi-home") if request.param == "installed" else dict(local_cloud.env)
    path = env["PATH"].split(os.pathsep)
    if request.param == "installed":
        env["PATH"] = os.pathsep.join([str(engine_bin), *path])
    else:
        env["PATH"] = os.pathsep.join([path[0], str(engine_bin), *path[1:]])  # the local cloud's plugin stays first
    env.update(
        PULUMI_HOME=str(tmp_path / "pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'backend'}",
        PULUMI_CONFIG_PASSPHRASE="localcloud-proof",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_CI_DETECTION="true",
    )
    (tmp_path / "backend").mkdir()
    cli = Cli(project, env)
    cli("stack", "init", "proof")
    cli("config", "set", "bucket", f"lc-proof-{os.getpid()}-{tmp_path.name[-12:].lower().replace('_', '-')}")
    return cli


def _creates(local: LocalCloud) -> list[dict[str, Any]]:
    return [c for c in local.calls("Create") if not c.get("preview")]


def test_up_refresh_destroy_through_the_real_engine(proof: Cli, local_cloud: LocalCloud, moto_s3: MotoS3) -> None:
    proof("up", "--yes", "--skip-preview")
    outputs = proof("stack", "output", "--json").stdout
    assert '"endpoint": "oss-cn-shanghai.aliyuncs.com"' in outputs
    assert '"cname": "www.localcloud-proof.cn.w.kunlunca.com"' in outputs
    assert '"zone": "cn-shanghai-b"' in outputs
    assert {c["type"] for c in _creates(local_cloud)} == {BUCKET, CDN}
    assert [c["method"] for c in local_cloud.calls() if c["method"] in ("GetPluginInfo", "Configure")][:2]
    cdn = local_cloud.resources(CDN)[0]
    bucket = local_cloud.resources(BUCKET)[0]
    assert cdn["inputs"]["sources"][0]["content"] == f"{bucket['id']}.oss-cn-shanghai.aliyuncs.com"
    assert bucket["id"] in [b["Name"] for b in moto_s3.client().list_buckets()["Buckets"]]

    calls_before = len(local_cloud.calls())
    proof("up", "--yes", "--skip-preview")  # nothing changed: no create, no update
    later = local_cloud.calls()[calls_before:]
    assert not [c for c in later if c["method"] in ("Create", "Update", "Delete")]

    proof("refresh", "--yes", "--skip-preview")
    assert {c["type"] for c in local_cloud.calls("Read")} >= {BUCKET, CDN}
    proof("preview", "--expect-no-changes")

    proof("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []
    assert bucket["id"] not in [b["Name"] for b in moto_s3.client().list_buckets()["Buckets"]]


def test_a_computed_only_input_fails_the_preview_as_the_provider_reports_it(
    proof: Cli, local_cloud: LocalCloud
) -> None:
    proof("config", "set", "computedOnly", "true")
    done = proof("preview", ok=False)
    assert done.returncode != 0
    assert (
        "resource 'cname' has a problem: Computed attribute cannot be set. Examine values at 'cname.certificate.type'."
    ) in done.stdout + done.stderr
    assert local_cloud.resources() == []
    assert "proof-private-key-never-logged" not in local_cloud.log_text()


@pytest.mark.parametrize("proof", ["installed"], indirect=True)
def test_the_plugin_installed_in_the_plugin_cache_is_found_by_version(proof: Cli, local_cloud: LocalCloud) -> None:
    up = proof("up", "--yes", "--skip-preview")
    assert "from $PATH" not in up.stdout + up.stderr
    assert {c["type"] for c in _creates(local_cloud)} == {BUCKET, CDN}
    proof("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []
