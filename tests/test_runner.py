"""The mock runner (``china_site.engine.runner``): project/stack config, engine-faithful records, program failures.

The sample program runs with both sample stacks; small programs written into a temporary directory pin down the
engine's conventions (URN type chains, default providers and their inputs, wire names, secrets, unknowns at preview,
resource options) and the three ways a program can end (refusal, config error, crash).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from sample_stacks import CHINA_SITE_PROVIDER, MAINLAND_RESOURCES

from china_site.engine.artifacts import SECRET_SIG, SIG_KEY, STACK_TYPE, UNKNOWN, Record
from china_site.engine.runner import (
    ProgramError,
    available_stacks,
    project_config,
    read_project,
    refusal_diagnostics,
    run_program,
)
from china_site.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-28"  # the sample registry is consistent as of this date
SITE = "china-site:index:Site"
PROVIDER = "pulumi:providers:alicloud"


def by_type_name(records: list[Record]) -> dict[tuple[str, str], Record]:
    return {(r.type, r.name): r for r in records}


def make_project(tmp: Path, program: str, stack_yaml: str = "config: {}\n", *, stack: str = "dev",
                 project_yaml: str = "name: demo\nruntime: python\n") -> Path:  # fmt: skip
    (tmp / "Pulumi.yaml").write_text(project_yaml, encoding="utf-8")
    (tmp / f"Pulumi.{stack}.yaml").write_text(stack_yaml, encoding="utf-8")
    (tmp / "__main__.py").write_text(textwrap.dedent(program), encoding="utf-8")
    return tmp


# ---------------------------------------------------------------------------------------------------------------
# Project and stack files


@pytest.mark.parametrize(
    ("project_yaml", "stack_yaml", "expected", "secret_keys"),
    [
        pytest.param(
            "name: demo\nruntime: python\nconfig:\n  hosting:\n    default: auto\n  aws:region: us-east-1\n",
            "config:\n  demo:cdn: false\n  demo:backend:\n    imageId: img\n  alicloud:region: cn-beijing\n"
            "  demo:certificate:\n    secure: v1:abc\n",
            {"demo:backend": '{"imageId":"img"}'},
            ["demo:certificate"],
            id="plain",
        ),
        pytest.param(
            "name: demo\nruntime:\n  name: python\nconfig:\n  hosting:\n    default: auto\n"
            "  aws:region: us-east-1\n  token:\n    type: string\n    secret: true\n",
            "config:\n  demo:cdn: false\n  backend:\n    imageId: img\n    count: 2\n  alicloud:region: cn-beijing\n"
            "  demo:certificate:\n    secure: v1:abc\n  demo:nested:\n    key:\n      secure: v1:def\n    plain: x\n",
            {"demo:backend": '{"imageId":"img","count":2}', "demo:nested": '{"key":"[secret]","plain":"x"}'},
            ["demo:certificate", "demo:nested", "demo:token"],
            id="nested-and-declared-secrets",
        ),
    ],
)  # fmt: skip
def test_project_config_reads_pulumi_files(
    tmp_path: Path, project_yaml: str, stack_yaml: str, expected: dict[str, str], secret_keys: list[str]
) -> None:
    make_project(tmp_path, "", stack_yaml, project_yaml=project_yaml)
    project, config, secrets = project_config(tmp_path, "dev", secrets={"demo:certificate": "PEM"})
    assert project == "demo"
    assert config == {
        "demo:hosting": "auto",
        "aws:region": "us-east-1",
        "demo:cdn": "false",
        "alicloud:region": "cn-beijing",
        "demo:certificate": "PEM",
        **expected,
    }
    assert secrets == secret_keys
    _, config, _ = project_config(tmp_path, "dev")
    assert config["demo:certificate"] == "[secret]"  # undecryptable offline: a placeholder, never ciphertext


def test_sample_project_and_stacks() -> None:
    project = read_project(ROOT)
    assert project.name == "china-site" and project.main == ROOT
    assert available_stacks(ROOT) == ["hongkong", "mainland"]
    _, mainland, secrets = project_config(ROOT, "mainland")
    assert mainland["china-site:hosting"] == "mainland" and mainland["china-site:payments"] == "true"
    assert secrets == []


@pytest.mark.parametrize(
    ("files", "stack", "expected"),
    [
        ({}, "dev", "no Pulumi.yaml"),
        ({"Pulumi.yaml": "name: x\nruntime: nodejs\n"}, "dev", "runtime 'nodejs' is not supported"),
        ({"Pulumi.yaml": "runtime: python\n"}, "dev", "field 'name'"),
        ({"Pulumi.yaml": "name: x\nruntime: python\n"}, "dev", "no Python program"),
        ({"Pulumi.yaml": "name: [x\n"}, "dev", "is not valid YAML"),
        ({"Pulumi.yaml": "name: x\nruntime: python\n", "__main__.py": "", "Pulumi.a.yaml": ""}, "b",
         "no stack 'b'"),
        ({"Pulumi.yaml": "name: x\nruntime: python\n", "__main__.py": "", "Pulumi.a.yaml": "config: [1]\n"}, "a",
         "field 'config'"),
    ],
)  # fmt: skip
def test_bad_project_files_are_one_line_errors(
    tmp_path: Path, files: dict[str, str], stack: str, expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        run_program(tmp_path, stack)
    line = info.value.line()
    assert expected in line and "\n" not in line
    if stack == "b":
        assert "one of: a" in line


def test_main_in_project_file_is_honoured(tmp_path: Path) -> None:
    make_project(tmp_path, "", project_yaml="name: demo\nruntime: python\nmain: src\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__main__.py").write_text("import pulumi\npulumi.export('where', 'src')\n", encoding="utf-8")
    assert run_program(tmp_path, "dev").outputs == {"where": "src"}


# ---------------------------------------------------------------------------------------------------------------
# The sample program


def test_mainland_stack_records_are_engine_faithful() -> None:
    result = run_program(ROOT, "mainland", config_overrides={"china-site:today": TODAY})
    assert result.refusal is None and (result.project, result.stack) == ("china-site", "mainland")
    records = by_type_name(result.records)
    assert set(records) == {(STACK_TYPE, "china-site-mainland"), *MAINLAND_RESOURCES}
    stack = result.records[0]
    assert stack.type == STACK_TYPE and stack.urn == result.stack_urn == (
        "urn:pulumi:mainland::china-site::pulumi:pulumi:Stack::china-site-mainland"
    )
    assert stack.outputs is not None and stack.outputs["hosting"] == "mainland"
    assert result.outputs["cdn_scope"] == "domestic" and result.outputs["icp_number"] == "沪ICP备2021012345号-1"

    site = records[(SITE, "site")]
    assert site.urn == "urn:pulumi:mainland::china-site::china-site:index:Site::site" and site.parent == stack.urn
    cdn = records[("alicloud:cdn/domainNew:DomainNew", "site-cdn")]
    assert cdn.urn == f"urn:pulumi:mainland::china-site::{SITE}$alicloud:cdn/domainNew:DomainNew::site-cdn"
    sync = records[("china-site:index:SiteContent", "site-content-sync")]
    assert sync.urn.split("::")[2] == f"{SITE}$china-site:index:SiteContent"
    # Inputs under their wire names, as the Python SDK sends them.
    assert cdn.inputs["domainName"] == "www.mingyue-tea.cn" and cdn.inputs["scope"] == "domestic"
    assert sync.inputs["icpNumberDisplayed"] is True and sync.inputs["psbNumberDisplayed"] is True
    # The explicit provider, with its inputs (the region the policies read).
    provider = records[(PROVIDER, "site-provider")]
    assert cdn.provider is not None and cdn.provider.urn == provider.urn
    assert cdn.provider.inputs["region"] == "cn-shanghai" and provider.parent == site.urn
    # The content uses the engine's default provider of the china-site package at the SDK's version, as the engine
    # registers it.
    assert sync.provider is not None
    assert sync.provider.urn == f"urn:pulumi:mainland::china-site::pulumi:providers:china-site::{CHINA_SITE_PROVIDER}"
    # Plausible outputs, and the DNS record's value is the CDN's cname (a dependency, as the engine records it).
    assert cdn.outputs is not None and cdn.outputs["cname"] == "www.mingyue-tea.cn.w.kunlunaz.com"
    bucket = records[("alicloud:oss/bucket:Bucket", "site-bucket")]
    assert bucket.outputs is not None and bucket.outputs["extranetEndpoint"] == "oss-cn-shanghai.aliyuncs.com"
    dns = records[("alicloud:dns/alidnsRecord:AlidnsRecord", "site-dns")]
    assert dns.inputs["value"] == cdn.outputs["cname"] and cdn.urn in dns.dependencies
    assert dns.property_dependencies["value"] == (cdn.urn,)
    # Order: each resource after its parent, its provider and its dependencies.
    position = {r.urn: i for i, r in enumerate(result.records)}
    for record in result.records:
        for before in (record.parent, record.provider.urn if record.provider else None, *record.dependencies):
            if before:
                assert position[before] < position[record.urn], (before, record.urn)
    # The pack sees an absolute registry path (the pack's own directory is not the program's).
    assert result.config["china-site:filings"] == str(ROOT / "filings.yaml")


def test_hongkong_stack_records() -> None:
    result = run_program(ROOT, "hongkong")
    records = by_type_name(result.records)
    assert (SITE, "site") in records and ("alicloud:dns/alidnsRecord:AlidnsRecord", "site-dns") not in records
    assert records[(PROVIDER, "site-provider")].inputs["region"] == "cn-hongkong"
    assert records[("alicloud:cdn/domainNew:DomainNew", "site-cdn")].inputs["scope"] == "overseas"
    assert len(result.records) == 13  # with the CDN ownership check (no DNS zone: the record is the user's)
    assert ("china-site:index:DomainOwnership", "site-domain-ownership") in records
    assert any("Hong Kong" in e.message for e in result.logs)
    assert any("verification.harbour-lantern.com" in e.message for e in result.logs if e.severity == "warning")


def snapshot(records: list[Record]) -> list[tuple[Any, ...]]:
    return [(r.urn, r.parent, r.provider, repr(r.inputs), repr(r.outputs), r.dependencies) for r in records]


def test_runs_are_deterministic_and_isolated() -> None:
    first = run_program(ROOT, "hongkong")
    other = run_program(ROOT, "mainland", filings=str(ROOT / "filings.yaml"))
    second = run_program(ROOT, "hongkong")
    assert snapshot(first.records) == snapshot(second.records)
    assert first.outputs == second.outputs
    assert snapshot(other.records) != snapshot(first.records)


def test_refusal_is_a_verdict_with_the_site_urn(tmp_path: Path) -> None:
    registry = tmp_path / "filings.yaml"
    registry.write_text("version: 1\nentities: {}\nsites: []\n", encoding="utf-8")
    result = run_program(ROOT, "mainland", filings=str(registry), config_overrides={"china-site:today": TODAY})
    refusal = result.refusal
    assert refusal is not None
    assert (refusal.urn, refusal.type, refusal.name) == (
        "urn:pulumi:mainland::china-site::china-site:index:Site::site",
        SITE,
        "site",
    )
    assert refusal.policies[0] == "icp-filing-required"
    assert "www.mingyue-tea.cn" in refusal.message and "DomainNotRegistration" in refusal.message
    assert [r.type for r in result.records] == [STACK_TYPE]  # the Site refused before registering anything
    diagnostics = refusal_diagnostics(refusal)
    assert {d.policy for d in diagnostics} == set(refusal.policies)
    icp = next(d for d in diagnostics if d.policy == "icp-filing-required")
    assert icp.enforcement == "mandatory" and icp.urn == refusal.urn
    lines = icp.message.splitlines()
    assert "has no ICP filing" in lines[0] and "没有 ICP 备案" in lines[1]  # English line, then Chinese line
    assert any(line.startswith("Alibaba Cloud error the deploy would hit: DomainNotRegistration") for line in lines)


# ---------------------------------------------------------------------------------------------------------------
# Small programs: the engine's conventions


DEFAULT_PROVIDER_PROGRAM = """
import pulumi
import pulumi_alicloud as alicloud

class Outer(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("demo:index:Outer", name, None, opts)
        inner = pulumi.ComponentResource("demo:index:Inner", "inner", None, pulumi.ResourceOptions(parent=self))
        self.bucket = alicloud.oss.Bucket("b", bucket="bkt", opts=pulumi.ResourceOptions(parent=inner, protect=True,
            ignore_changes=["tags"], custom_timeouts=pulumi.CustomTimeouts(create="5m", delete="1h30m")))
        self.register_outputs({"bucket": self.bucket.bucket})

outer = Outer("outer")
eip = alicloud.ecs.EipAddress("ip", bandwidth="5")
alb = alicloud.alb.LoadBalancer("lb", load_balancer_name="lb", vpc_id="vpc-1", address_type="Internet",
    load_balancer_edition="Basic", load_balancer_billing_config={"pay_type": "PayAsYouGo"},
    zone_mappings=[{"vswitch_id": "vsw-1", "zone_id": "cn-beijing-a"},
                   {"vswitch_id": "vsw-2", "zone_id": "cn-beijing-b"}])
# An output the mocks do not give stays unknown in a preview, and travels as the engine's unknown sentinel.
alicloud.oss.BucketPolicy("p", bucket=outer.bucket.bucket, policy=outer.bucket.policy)
cfg = pulumi.Config()
key = cfg.require_secret("apiKey")
alicloud.oss.Bucket("secret-tags", bucket="b2", tags={"token": key})
pulumi.export("ip", eip.ip_address)
pulumi.export("alb", alb.dns_name)
"""


def test_engine_conventions(tmp_path: Path) -> None:
    make_project(
        tmp_path,
        DEFAULT_PROVIDER_PROGRAM,
        "config:\n  alicloud:region: cn-beijing\n  alicloud:profile: ci\n  demo:apiKey:\n    secure: v1:abc\n",
    )
    result = run_program(tmp_path, "dev", secrets={"demo:apiKey": "k3y-PLAINTEXT"})
    records = by_type_name(result.records)
    bucket = records[("alicloud:oss/bucket:Bucket", "b")]
    assert bucket.urn == "urn:pulumi:dev::demo::demo:index:Outer$demo:index:Inner$alicloud:oss/bucket:Bucket::b"
    assert bucket.parent == records[("demo:index:Inner", "inner")].urn
    # No explicit provider: the engine's default provider with the stack's alicloud:* config as inputs.
    assert bucket.provider is not None
    assert bucket.provider.urn.startswith("urn:pulumi:dev::demo::pulumi:providers:alicloud::default_")
    assert bucket.provider.inputs["region"] == "cn-beijing" and bucket.provider.inputs["profile"] == "ci"
    default = records[(PROVIDER, bucket.provider.name)]
    assert default.parent is None and default.inputs == bucket.provider.inputs
    assert "version" in default.inputs
    # Resource options the engine passes to policies.
    assert bucket.options.protect is True and bucket.options.ignore_changes == ("tags",)
    assert bucket.options.custom_timeouts == (300.0, 0.0, 5400.0)
    # Plausible outputs for the stack policies: EIP address, ALB DNS name, bucket endpoint in the provider's region.
    assert result.outputs["ip"].count(".") == 3
    assert result.outputs["alb"].endswith(".cn-beijing.alb.aliyuncs.com")
    assert bucket.outputs is not None and bucket.outputs["extranetEndpoint"] == "oss-cn-beijing.aliyuncs.com"
    # Component outputs are what the component registered.
    assert records[("demo:index:Outer", "outer")].outputs == {"bucket": "bkt"}
    # Unknown at preview → the engine's sentinel, exactly as `pulumi preview` sends it.
    assert records[("alicloud:oss/bucketPolicy:BucketPolicy", "p")].inputs["policy"] == UNKNOWN
    # A secret input is the secret signature map on the wire; the pack sees the key masked, never the plaintext.
    tags = records[("alicloud:oss/bucket:Bucket", "secret-tags")].inputs["tags"]
    assert tags == {"token": {SIG_KEY: SECRET_SIG, "value": "k3y-PLAINTEXT"}}
    assert result.config["demo:apiKey"] == "[secret]" and "demo:apiKey" in result.secret_keys


def test_program_crash_is_one_line_with_its_location(tmp_path: Path) -> None:
    make_project(tmp_path, "import pulumi\n\nx = {}\nx['missing']\n")
    with pytest.raises(ProgramError) as info:
        run_program(tmp_path, "dev")
    line = info.value.line()
    assert "crashed with KeyError: 'missing'" in line and "(at __main__.py:4)" in line and "\n" not in line
    assert isinstance(info.value.__cause__, KeyError)  # --debug shows the program's traceback


def test_program_config_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ProgramError) as info:
        run_program(ROOT, "hongkong", config_overrides={"china-site:certificate": "PEM-ONLY-HALF"})
    line = info.value.line()
    assert "certificateKey" in line and "PEM-ONLY-HALF" not in line and "\n" not in line
    make_project(tmp_path, "import pulumi\npulumi.Config().require('domain')\n")
    with pytest.raises(ProgramError, match="demo:domain"):
        run_program(tmp_path, "dev")


def test_secret_values_never_reach_error_messages(tmp_path: Path) -> None:
    make_project(
        tmp_path,
        "import pulumi\nv = pulumi.Config().require('token')\nraise ValueError('bad token ' + v)\n",
        "config:\n  demo:token:\n    secure: v1:abc\n",
    )
    with pytest.raises(ProgramError) as info:
        run_program(tmp_path, "dev", secrets={"demo:token": "TOPSECRET-42"})
    assert "TOPSECRET-42" not in info.value.line() and "bad token [secret]" in info.value.line()


def test_refusal_inside_a_component_is_filed_under_its_urn(tmp_path: Path) -> None:
    make_project(
        tmp_path,
        """
        import pulumi
        from china_site.hosting import HostingError

        WIDGET_TYPE = "demo:index:Widget"

        class Widget(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                raise HostingError("[icp-filing-required] nope / 不行", where="Widget", fix="file it")

        class Holder(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("demo:index:Holder", name)
                Widget("w", pulumi.ResourceOptions(parent=self))

        Holder("h")
        """,
    )
    refusal = run_program(tmp_path, "dev").refusal
    assert refusal is not None
    assert refusal.urn == "urn:pulumi:dev::demo::demo:index:Holder$demo:index:Widget::w"
    assert refusal.policies == ("icp-filing-required",) and refusal.fix == "file it"
