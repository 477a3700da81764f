"""The Pulumi program (``__main__.py``) run as Pulumi runs it (``runpy`` on the project directory) under mocks, with
each sample stack's configuration, plus the mock recorder's own guarantees (engine URNs, default providers,
determinism) that the offline preflight engine relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from mocks import ProgramRun, Recorder, engine_urn, project_config, reveal, run_program
from sample_stacks import HONGKONG_RESOURCES, MAINLAND_RESOURCES

from china_site.hosting import HostingError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-28"  # the sample registry is consistent as of this date

OUTPUTS = {"url", "hosting", "region", "cdn_scope", "bucket_name", "cdn_cname", "icp_number", "psb_number",
           "footer_html"}  # fmt: skip


def run_stack(stack: str, check: bool = True, **overrides: str | None) -> ProgramRun:
    """Run a sample stack; an override of None removes that key from the stack's config."""
    project, config, secret_keys = project_config(ROOT, stack)
    config["china-site:today"] = TODAY
    for key, value in overrides.items():
        if value is None:
            config.pop(f"china-site:{key}", None)
        else:
            config[f"china-site:{key}"] = value
    return run_program(ROOT, config, project=project, stack=stack, secret_keys=secret_keys, check=check)


def names(run: ProgramRun) -> set[tuple[str, str]]:
    return run.recorder.resource_set()


def test_sample_stack_files() -> None:
    project, mainland, _ = project_config(ROOT, "mainland")
    assert project == "china-site"
    assert mainland["china-site:hosting"] == "mainland"
    assert mainland["china-site:payments"] == "true"
    _, hongkong, _ = project_config(ROOT, "hongkong")
    assert hongkong["china-site:hosting"] == "auto"
    assert hongkong["china-site:contentDir"] == "site-hk"


def test_mainland_stack() -> None:
    run = run_stack("mainland")
    assert names(run) == MAINLAND_RESOURCES
    rec = run.recorder
    assert reveal(rec.one("pulumi:providers:alicloud").inputs["region"]) == "cn-shanghai"
    assert rec.one("alicloud:cdn/domainNew:DomainNew").inputs["scope"] == "domestic"
    out = run.outputs
    assert set(out) == OUTPUTS
    assert out["url"] == "http://www.mingyue-tea.cn/"
    assert (out["hosting"], out["region"], out["cdn_scope"]) == ("mainland", "cn-shanghai", "domestic")
    assert out["bucket_name"] == "www-mingyue-tea-cn-mainland"
    assert out["cdn_cname"] == "www.mingyue-tea.cn.w.kunlunaz.com"
    assert out["icp_number"] == "沪ICP备2021012345号-1"
    assert out["psb_number"] == "沪公网安备31011502012345号"
    assert "沪ICP备2021012345号-1" in out["footer_html"]
    # The sample content shows the numbers the decision expects: the policy input says so.
    sync = rec.one("china-site:index:SiteContent")
    assert sync.inputs["icpNumberDisplayed"] is True
    assert sync.inputs["psbNumberDisplayed"] is True
    assert Path(sync.inputs["contentDir"]) == ROOT / "site"
    # The payments flag travels as a compliance tag.
    assert reveal(rec.one("alicloud:oss/bucket:Bucket").inputs["tags"])["china-site:payments"] == "true"


def test_hongkong_stack() -> None:
    run = run_stack("hongkong")
    assert names(run) == HONGKONG_RESOURCES
    rec = run.recorder
    assert reveal(rec.one("pulumi:providers:alicloud").inputs["region"]) == "cn-hongkong"
    assert rec.one("alicloud:cdn/domainNew:DomainNew").inputs["scope"] == "overseas"
    out = run.outputs
    assert (out["hosting"], out["region"], out["cdn_scope"]) == ("hongkong", "cn-hongkong", "overseas")
    assert out["url"] == "http://www.harbour-lantern.com/"
    assert out.get("icp_number") is None and out["footer_html"] == ""
    assert any("Hong Kong" in m for m in run.messages("info"))


def test_mainland_stack_with_a_registry_lacking_the_domain(tmp_path: Path) -> None:
    registry = tmp_path / "filings.yaml"
    registry.write_text("version: 1\nentities: {}\nsites: []\n", encoding="utf-8")
    run = run_stack("mainland", check=False, filings=str(registry))
    assert isinstance(run.error, HostingError) and isinstance(run.error, pulumi.RunError)
    assert "www.mingyue-tea.cn" in (run.error_message or "") and "DomainNotRegistration" in (run.error_message or "")
    assert names(run) == set()
    # The Hong Kong stack does not need the filing.
    assert run_stack("hongkong", filings=str(registry)).outputs["hosting"] == "hongkong"


def test_missing_domain_is_a_config_error() -> None:
    run = run_program(ROOT, {"china-site:hosting": "auto"}, project="china-site", stack="x", check=False)
    assert isinstance(run.error, pulumi.RunError)
    assert "china-site:domain" in (run.error_message or "")
    assert names(run) == set()


def test_half_a_certificate_is_a_config_error() -> None:
    run = run_stack("hongkong", check=False, certificate="PEM")
    assert isinstance(run.error, pulumi.RunError)
    assert "certificateKey" in (run.error_message or "")


def test_certificate_from_secret_config() -> None:
    project, config, _ = project_config(ROOT, "hongkong")
    config.update({"china-site:today": TODAY, "china-site:certificate": "CERT", "china-site:certificateKey": "KEY"})
    run = run_program(
        ROOT, config, project=project, stack="hongkong",
        secret_keys=["china-site:certificate", "china-site:certificateKey"],
    )  # fmt: skip
    cdn = run.recorder.one("alicloud:cdn/domainNew:DomainNew")
    assert reveal(cdn.inputs["certificateConfig"])["privateKey"] == "KEY"
    assert run.outputs["url"] == "https://www.harbour-lantern.com/"
    assert [c.inputs["functionName"] for c in run.recorder.of_type("alicloud:cdn/domainConfig:DomainConfig")].count(
        "https_force"
    ) == 1


def test_backend_from_config() -> None:
    run = run_stack("hongkong", backend='{"imageId": "img-1", "certificateId": "cert-1"}', contentDir=None)
    rec = run.recorder
    alb = rec.one("alicloud:alb/loadBalancer:LoadBalancer")
    assert run.outputs["backend_dns_name"] == alb.outputs["dnsName"]
    assert rec.one("alicloud:cdn/domainNew:DomainNew").inputs["sources"][0]["content"] == alb.outputs["dnsName"]
    assert not rec.of_type("alicloud:oss/bucket:Bucket")


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('"zones": ["cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"]', "not two different zones"),
        ('"zones": "cn-hongkong-b"', "backend.zones must be a list"),
        ('"instanceCount": "two"', "instanceCount a whole number"),
    ],
)
def test_a_bad_backend_zones_or_instance_count_is_one_line_not_ignored(extra: str, said: str) -> None:
    spec = '{"imageId": "img-1", "certificateId": "cert-1", ' + extra + "}"
    run = run_stack("hongkong", check=False, backend=spec, contentDir=None)
    assert isinstance(run.error, pulumi.RunError), run.error
    assert said in (run.error_message or "") and "\n" not in (run.error_message or "").strip()


def test_backend_zones_from_config_are_used() -> None:
    spec = '{"imageId": "img-1", "certificateId": "cert-1", "zones": ["cn-hongkong-b", "cn-hongkong-c"]}'
    rec = run_stack("hongkong", backend=spec, contentDir=None).recorder
    zones = {r.inputs.get("zoneId") for r in rec.of_type("alicloud:vpc/switch:Switch")}
    assert zones == {"cn-hongkong-b", "cn-hongkong-c"}


# ---------------------------------------------------------------------------------------------------------------------
# The recorder


def test_engine_urns_and_default_provider() -> None:
    def program() -> None:
        import pulumi_alicloud as alicloud

        class Outer(pulumi.ComponentResource):
            def __init__(self, name: str) -> None:
                super().__init__("test:index:Outer", name)
                inner = pulumi.ComponentResource("test:index:Inner", "inner", None, pulumi.ResourceOptions(parent=self))
                alicloud.oss.Bucket("b", bucket="bkt", opts=pulumi.ResourceOptions(parent=inner))

        Outer("outer")

    rec = run_program(program, {"alicloud:region": "cn-beijing", "china-site:x": "1"}, stack="s").recorder
    bucket = rec.one("alicloud:oss/bucket:Bucket")
    assert bucket.urn == "urn:pulumi:s::china-site::test:index:Outer$test:index:Inner$alicloud:oss/bucket:Bucket::b"
    assert bucket.urn == engine_urn("s", "china-site", bucket.parent, bucket.type, bucket.name)
    assert rec.get(bucket.parent).urn == "urn:pulumi:s::china-site::test:index:Outer$test:index:Inner::inner"
    # No explicit provider: the engine's default provider, with the stack's alicloud:* config as its inputs.
    assert bucket.provider == ""
    default = rec.provider_of(bucket)
    assert default is not None and default.synthesized
    assert default.urn.startswith("urn:pulumi:s::china-site::pulumi:providers:alicloud::default_")
    assert default.inputs["region"] == "cn-beijing"
    assert bucket.outputs["extranetEndpoint"] == "oss-cn-beijing.aliyuncs.com"


def snapshot(rec: Recorder) -> list[tuple[Any, ...]]:
    return [(r.urn, r.id, r.parent, r.provider, repr(r.inputs), repr(r.outputs)) for r in rec.resources()]


def test_runs_are_deterministic_and_isolated() -> None:
    first = run_stack("hongkong")
    second = run_stack("hongkong")
    assert snapshot(first.recorder) == snapshot(second.recorder)
    assert first.outputs == second.outputs
    other = run_stack("mainland")
    assert snapshot(other.recorder) != snapshot(first.recorder)


def test_a_run_leaves_no_settings_to_later_contexts() -> None:
    """A run started from a thread with an empty context must not make its monitor, engine or pending outputs the
    SDK's process-wide defaults (which a later thread would then use, or wait on)."""
    import threading

    from pulumi.runtime import settings

    def in_new_thread(fn: Any) -> None:
        thread = threading.Thread(target=fn)
        thread.start()
        thread.join()

    seen: list[tuple[Any, ...]] = []

    def defaults() -> None:
        seen.append((settings.SETTINGS.monitor, settings.SETTINGS.engine, settings.SETTINGS.outputs))

    in_new_thread(defaults)
    in_new_thread(lambda: run_program(lambda: pulumi.export("x", 1)))
    in_new_thread(defaults)
    before, after = seen
    assert all(a is b for a, b in zip(before, after, strict=True))


def test_reads_are_recorded() -> None:
    def program() -> None:
        import pulumi_alicloud as alicloud

        alicloud.oss.Bucket.get("existing", "my-bucket")

    rec = run_program(program, {"alicloud:region": "cn-shenzhen"}).recorder
    bucket = rec.one("alicloud:oss/bucket:Bucket")
    assert (bucket.read, bucket.id, bucket.outputs["bucket"]) == (True, "my-bucket", "my-bucket")
    assert bucket.outputs["extranetEndpoint"] == "oss-cn-shenzhen.aliyuncs.com"


def test_recorder_with_set_mocks() -> None:
    """The recorder also works the classic way (set_mocks + @pulumi.runtime.test). In a child process: set_mocks
    changes the defaults of Pulumi's settings for the whole process."""
    import subprocess
    import sys

    script = """
import pulumi, pulumi_alicloud as alicloud
from mocks import Recorder
rec = Recorder()
pulumi.runtime.set_mocks(rec, "p", "s", monitor=rec.monitor(project="p", stack="s"))

@pulumi.runtime.test
def check():
    return alicloud.oss.Bucket("b", bucket="bkt").extranet_endpoint

check()
print(rec.one("alicloud:oss/bucket:Bucket").urn)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "urn:pulumi:s::p::alicloud:oss/bucket:Bucket::b"


def test_a_project_of_another_name_reads_its_bare_keys_and_china_site_wins() -> None:
    """A bare ``pulumi config set domain …`` in project ``my-shop`` writes ``my-shop:domain``: read as a fallback."""
    _, config, secret_keys = project_config(ROOT, "hongkong")
    bare = {key.replace("china-site:", "my-shop:"): value for key, value in config.items()}
    bare["my-shop:today"] = TODAY
    run = run_program(
        ROOT,
        bare,
        project="my-shop",
        stack="hongkong",
        secret_keys=[k.replace("china-site:", "my-shop:") for k in secret_keys],
    )
    assert run.outputs["hosting"] == "hongkong"
    assert run.outputs["url"].endswith("www.harbour-lantern.com/")
    both = {**bare, "china-site:domain": "www.mingyue-tea.cn"}
    run = run_program(ROOT, both, project="my-shop", stack="hongkong", secret_keys=())
    assert run.outputs["url"].endswith("www.mingyue-tea.cn/")  # the china-site namespace wins


def test_a_project_of_another_name_without_the_domain_fails_in_one_line() -> None:
    run = run_program(ROOT, {"other:domain": "www.example.cn"}, project="my-shop", stack="x", check=False)
    assert isinstance(run.error, pulumi.RunError)
    message = run.error_message or ""
    assert "china-site:domain is not set" in message and "\n" not in message.strip()
    assert names(run) == set()


def test_verification_timeout_from_config_reaches_the_ownership_check() -> None:
    # The e2e suite shortens the ownership check with it (tests/e2e/test_e2e_ownership.py); default 600 s.
    default = run_stack("mainland").recorder.one("china-site:index:DomainOwnership")
    assert default.inputs["timeoutSeconds"] == 600.0
    short = run_stack("mainland", verificationTimeout="1.5").recorder.one("china-site:index:DomainOwnership")
    assert short.inputs["timeoutSeconds"] == 1.5


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_verification_timeout_of_zero_or_less_is_one_line_not_the_default(value: str) -> None:
    run = run_stack("mainland", check=False, verificationTimeout=value)
    assert isinstance(run.error, pulumi.RunError), run.error
    message = run.error_message or ""
    assert "verificationTimeout must be a number of seconds above 0" in message and "\n" not in message.strip()
