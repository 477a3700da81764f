"""Site and WebBackend under Pulumi mocks: what each scenario registers, where, through which provider, with which
tags and outputs — and that a refused mainland site registers nothing and says why in both languages."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from mocks import Recorder, Registration, engine_urn, is_secret, reveal, run_program
from sample_stacks import CHINA_SITE_PROVIDER

from china_site.components.backend import WebBackend, WebBackendArgs, plan_subnets
from china_site.components.site import Site, SiteArgs, SiteCertificate, default_bucket_name, relative_record
from china_site.components.tags import TAG_KEYS, compliance_tags
from china_site.errors import ChinaSiteError, InputError
from china_site.exposure import TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM, exposure_from_resource
from china_site.filings import FilingRegistry, load_registry
from china_site.hosting import HostingError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 28)  # the sample registry is consistent as of this date
FILED = "www.mingyue-tea.cn"  # approved, Alibaba Cloud access, PSB filed, B25 permit (filings.yaml)
UNFILED = "www.harbour-lantern.com"  # not in the registry

SITE = "china-site:index:Site"
BACKEND = "china-site:index:WebBackend"
CONTENT = "china-site:index:SiteContent"
PROVIDER = "pulumi:providers:alicloud"
BUCKET = "alicloud:oss/bucket:Bucket"
ACL = "alicloud:oss/bucketAcl:BucketAcl"
PAB = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
WEBSITE = "alicloud:oss/bucketWebsite:BucketWebsite"
CNAME = "alicloud:oss/bucketCname:BucketCname"
CNAME_TOKEN = "alicloud:oss/bucketCnameToken:BucketCnameToken"
CDN = "alicloud:cdn/domainNew:DomainNew"
CDN_CONFIG = "alicloud:cdn/domainConfig:DomainConfig"
RECORD = "alicloud:dns/alidnsRecord:AlidnsRecord"
DYNAMIC = "pulumi-python:dynamic:Resource"
# What alicloud_oss_bucket_cname accepts in `certificate` (the rest of BucketCnameCertificateArgs is computed).
BUCKET_CNAME_CERTIFICATE_INPUTS = {"certId", "certificate", "privateKey"}

SITE_OUTPUTS = {
    "url",
    "hosting",
    "region",
    "cdn_scope",
    "bucket_name",
    "cdn_cname",
    "icp_number",
    "psb_number",
    "footer_html",
}


@pytest.fixture(scope="module")
def registry() -> FilingRegistry:
    return load_registry(str(ROOT / "filings.yaml"))


def site_program(name: str = "site", **kwargs: Any) -> Callable[[], None]:
    def program() -> None:
        kwargs.setdefault("today", TODAY)
        site = Site(name, SiteArgs(**kwargs))
        for key in SITE_OUTPUTS:
            pulumi.export(key, getattr(site, key))

    return program


def run_site(**kwargs: Any) -> Recorder:
    return run_program(site_program(**kwargs), stack="test").recorder


def bucket_set(prefix: str = "site") -> set[tuple[str, str]]:
    return {
        (BUCKET, f"{prefix}-bucket"),
        (ACL, f"{prefix}-acl"),
        (PAB, f"{prefix}-public-access-block"),
        (WEBSITE, f"{prefix}-website"),
    }


def cdn_set(*configs: str) -> set[tuple[str, str]]:
    return {(CDN, "site-cdn")} | {(CDN_CONFIG, f"site-{c}") for c in configs}


CORE = {(SITE, "site"), (PROVIDER, "site-provider")}
OWNERSHIP = "china-site:index:DomainOwnership"
VERIFY_CONTENT = "china-site:index:DomainVerifyContent"
# The engine's default provider of the china-site package (the provider plugin), at the SDK's version.
CHINA_SITE_DEFAULT = ("pulumi:providers:china-site", CHINA_SITE_PROVIDER)


def ownership_set(*, zone: bool, prefix: str = "site") -> set[tuple[str, str]]:
    """The CDN ownership verification step: with a DNS zone the content lookup and the TXT record come first."""
    steps = {(OWNERSHIP, f"{prefix}-domain-ownership"), CHINA_SITE_DEFAULT}
    if zone:
        steps |= {(VERIFY_CONTENT, f"{prefix}-verify-content"), (RECORD, f"{prefix}-dns-ownership")}
    return steps


def sdk_takes_tags(type_token: str) -> bool:
    """Whether the pulumi-alicloud resource class for ``type_token`` accepts ``tags`` (read from the SDK)."""
    module_path, class_name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
    module = importlib.import_module(f"pulumi_alicloud.{module_path}")
    cls = getattr(module, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def assert_children_wired(
    rec: Recorder, component: Registration, region: str, domain: str, *, payments: bool = False
) -> None:
    """Every alicloud child: parent chain ends at the component, explicit provider in ``region``; compliance tags
    on every child whose SDK class takes tags."""
    provider = rec.one(PROVIDER, f"{component.name}-provider")
    assert provider.parent == component.urn
    assert reveal(provider.inputs["region"]) == region
    alicloud = [r for r in rec.descendants(component.urn) if r.type.startswith("alicloud:")]
    assert alicloud, "no Alibaba Cloud resources"
    tagged = 0
    for r in alicloud:
        assert component in rec.ancestors(r), r.urn
        assert r.urn == engine_urn("test", "china-site", r.parent, r.type, r.name)
        assert r.provider.rsplit("::", 1)[0] == provider.urn, f"{r.name} does not use the explicit provider"
        assert rec.provider_of(r) == provider
        if sdk_takes_tags(r.type):
            tags = reveal(r.inputs.get("tags")) or {}
            assert {k: tags.get(k) for k in TAG_KEYS} == compliance_tags(domain, payments=payments), r.name
            tagged += 1
    assert tagged, "no taggable child"


# ---------------------------------------------------------------------------------------------------------------------
# Mainland, filed


def test_mainland_filed_site_full(registry: FilingRegistry) -> None:
    run = run_program(
        site_program(
            domain=FILED,
            hosting="mainland",
            filings=registry,
            payments=True,
            content_dir=str(ROOT / "site"),
            dns_zone="mingyue-tea.cn",
            certificate=SiteCertificate(certificate="-----CERT PEM-----", private_key="-----KEY PEM-----"),
        ),
        stack="test",
    )
    rec = run.recorder
    assert rec.resource_set() == CORE | bucket_set() | cdn_set(
        "private-oss", "index-rewrite", "https-force"
    ) | ownership_set(zone=True) | {
        (RECORD, "site-dns"),
        (CONTENT, "site-content-sync"),
    }
    site = rec.one(SITE, "site")
    assert site.parent.endswith("::pulumi:pulumi:Stack::china-site-test")
    assert_children_wired(rec, site, "cn-shanghai", FILED, payments=True)

    # OSS: private, public access blocked, website documents.
    bucket = rec.one(BUCKET)
    assert bucket.inputs["bucket"] == "www-mingyue-tea-cn-test"
    assert rec.one(ACL).inputs["acl"] == "private"
    assert rec.one(PAB).inputs["blockPublicAccess"] is True
    website = rec.one(WEBSITE).inputs
    assert website["indexDocument"]["suffix"] == "index.html"
    assert website["errorDocument"] == {"key": "404.html", "httpStatus": 404}

    # CDN: domestic, the bucket as a private origin, the user's certificate as secrets, HTTP→HTTPS.
    cdn = rec.one(CDN).inputs
    assert cdn["scope"] == "domestic"
    assert cdn["domainName"] == FILED
    assert cdn["sources"] == [
        {
            "type": "oss",
            "content": "www-mingyue-tea-cn-test.oss-cn-shanghai.aliyuncs.com",
            "port": 443,
            "priority": 20,
            "weight": 10,
        }
    ]
    assert is_secret(cdn["certificateConfig"]) or (
        is_secret(cdn["certificateConfig"]["serverCertificate"]) and is_secret(cdn["certificateConfig"]["privateKey"])
    )
    cert = reveal(cdn["certificateConfig"])
    assert cert == {
        "certType": "upload",
        "serverCertificate": "-----CERT PEM-----",
        "privateKey": "-----KEY PEM-----",
        "serverCertificateStatus": "on",
    }
    configs = {r.name: r.inputs for r in rec.of_type(CDN_CONFIG)}
    assert configs["site-private-oss"]["functionName"] == "l2_oss_key"
    assert configs["site-private-oss"]["functionArgs"] == [{"argName": "private_oss_auth", "argValue": "on"}]
    assert configs["site-https-force"]["functionName"] == "https_force"
    rewrite = {a["argName"]: a["argValue"] for a in configs["site-index-rewrite"]["functionArgs"]}
    assert rewrite == {"source_url": "^(.*)/$", "target_url": "$1/index.html", "flag": "break"}
    assert all(c["domainName"] == FILED for c in configs.values())
    urn = {r.name: r.urn for r in rec.of_type(CDN_CONFIG)}
    assert urn["site-private-oss"] in rec.one(CDN_CONFIG, "site-index-rewrite").dependencies
    assert urn["site-index-rewrite"] in rec.one(CDN_CONFIG, "site-https-force").dependencies

    # DNS: www → the CDN's cname.
    record = next(r for r in rec.of_type(RECORD) if r.name == "site-dns").inputs
    assert (record["domainName"], record["rr"], record["type"]) == ("mingyue-tea.cn", "www", "CNAME")
    assert record["value"] == f"{FILED}.w.kunlunaz.com"

    # Content: into the bucket, homepage checked against the numbers the decision gives.
    sync = rec.one(CONTENT)
    assert rec.ancestors(sync) == [site] and sync.name == "site-content-sync"
    assert sync.urn.split("::")[2] == f"{SITE}${CONTENT}"
    assert sync.inputs["owner"] == "china-site/test/site-content"  # the owner mark of the pre-plugin component
    assert "__provider" not in sync.inputs and not rec.of_type(DYNAMIC)
    assert (sync.inputs["bucket"], sync.inputs["region"], sync.inputs["mainland"]) == (
        "www-mingyue-tea-cn-test",
        "cn-shanghai",
        True,
    )
    assert sync.inputs["icpNumberDisplayed"] is True

    # Outputs: registered by the component and exported.
    out = rec.outputs[site.urn]
    assert set(out) == SITE_OUTPUTS
    assert out["url"] == f"https://{FILED}/"
    assert (out["hosting"], out["region"], out["cdn_scope"]) == ("mainland", "cn-shanghai", "domestic")
    assert out["bucket_name"] == "www-mingyue-tea-cn-test"
    assert out["cdn_cname"] == f"{FILED}.w.kunlunaz.com"
    assert (out["icp_number"], out["psb_number"]) == ("沪ICP备2021012345号-1", "沪公网安备31011502012345号")
    assert 'href="https://beian.miit.gov.cn/"' in out["footer_html"]
    assert "31011502012345" in out["footer_html"]
    assert run.outputs == out

    # The private key never reaches a log line.
    assert not any("KEY PEM" in m for m in run.messages())


def test_policy_view_of_mainland_site(registry: FilingRegistry) -> None:
    """The region is visible to the policy pack: the exposure core sees the CDN on the mainland, tied to the domain."""
    rec = run_site(domain=FILED, hosting="mainland", filings=registry)
    provider = rec.one(PROVIDER)
    cdn = rec.one(CDN)
    exposure = exposure_from_resource(CDN, cdn.inputs, name=cdn.name, provider_props=provider.inputs)
    assert exposure is not None
    assert (exposure.area, exposure.public, exposure.domains) == ("mainland", True, (FILED,))
    bucket = rec.one(BUCKET)
    exposure = exposure_from_resource(BUCKET, bucket.inputs, name=bucket.name, provider_props=provider.inputs)
    assert exposure is not None
    assert (exposure.area, exposure.region, exposure.public, exposure.domains) == (
        "mainland",
        "cn-shanghai",
        False,
        (FILED,),
    )


def test_mainland_region_and_global_scope(registry: FilingRegistry) -> None:
    rec = run_site(domain=FILED, hosting="auto", filings=registry, mainland_region="cn-beijing", cdn_global=True)
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-beijing"
    assert rec.one(CDN).inputs["scope"] == "global"
    assert rec.outputs[rec.one(SITE).urn]["cdn_scope"] == "global"


def test_mainland_with_psb_filing_due_deploys_and_warns(registry: FilingRegistry) -> None:
    """mingyue-gift.cn launched 2026-11-10 without a PSB filing: inside the 30-day window, a warning, not a refusal."""
    run = run_program(site_program(domain="www.mingyue-gift.cn", hosting="mainland", filings=registry), stack="test")
    assert run.outputs["hosting"] == "mainland"
    assert run.outputs.get("psb_number") is None
    warnings = run.messages("warning")
    assert any("psb-filing-required" in m for m in warnings), warnings
    assert any(w.startswith("[psb-filing-required]") and "\n" in w for w in warnings)  # English line, Chinese line


def test_filings_as_a_path() -> None:
    rec = run_site(domain=FILED, hosting="mainland", filings=str(ROOT / "filings.yaml"))
    assert rec.outputs[rec.one(SITE).urn]["hosting"] == "mainland"


# ---------------------------------------------------------------------------------------------------------------------
# Mainland refused: at program time, bilingual, nothing created


@pytest.mark.parametrize(
    ("domain", "says"),
    [
        (UNFILED, "no ICP filing"),
        ("www.qinghe-edu.cn", "pending"),  # first filing in progress: must not be reachable
        # filed through Tencent Cloud, and without the CDN the public bucket is an origin Alibaba Cloud hosts
        ("www.jinli-food.cn", "tencent-cloud"),
        ("www.qinghe-old.cn", "cancel"),  # cancelled filing
    ],
)
def test_mainland_refused(registry: FilingRegistry, domain: str, says: str) -> None:
    kw: dict[str, Any] = {"cdn": False} if says == "tencent-cloud" else {}
    run = run_program(
        site_program(domain=domain, hosting="mainland", filings=registry, **kw), stack="test", check=False
    )
    assert isinstance(run.error, HostingError)
    assert isinstance(run.error, pulumi.RunError)  # Pulumi prints the message alone, no traceback
    assert "icp-filing-required" in [f.policy for f in run.error.findings]  # kept for adapters (preflight)
    message = run.error_message or ""
    assert message == str(run.error)
    assert says in message
    # the Alibaba Cloud error the deploy would have hit: the CDN's, or (no CDN) the bucket's custom domain
    assert ("NoSuchCnameInRecord" if kw else "DomainNotRegistration") in message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)  # and the Chinese line
    assert rec_is_empty(run.recorder)


def test_other_provider_filing_serves_the_cdn_in_front_of_the_private_bucket(registry: FilingRegistry) -> None:
    # www.jinli-food.cn is filed through Tencent Cloud: Alibaba Cloud CDN needs only a valid filing from any
    # provider, and the bucket behind it stays private (data/access_providers.yaml; issue 20).
    rec = run_site(domain="www.jinli-food.cn", hosting="auto", filings=registry)
    outputs = rec.outputs[rec.one(SITE).urn]
    assert (outputs["hosting"], outputs["cdn_scope"]) == ("mainland", "domestic")


def test_mainland_without_registry_is_refused() -> None:
    run = run_program(site_program(domain=FILED, hosting="mainland", filings=None), stack="test", check=False)
    assert isinstance(run.error, HostingError)
    assert "china-site:filings" in (run.error_message or "")
    assert rec_is_empty(run.recorder)


def test_unreadable_registry_fails_closed(tmp_path: Path) -> None:
    bad = tmp_path / "filings.yaml"
    bad.write_text("version: 1\nsites: [{domain: x.cn}]\n", encoding="utf-8")
    run = run_program(site_program(domain=FILED, hosting="auto", filings=str(bad)), stack="test", check=False)
    assert isinstance(run.error, ChinaSiteError) and isinstance(run.error, pulumi.RunError)
    assert str(bad) in (run.error_message or "")
    assert rec_is_empty(run.recorder)


def rec_is_empty(rec: Recorder) -> bool:
    return rec.resource_set() == set()


# ---------------------------------------------------------------------------------------------------------------------
# Hong Kong and auto


def test_hongkong_site(registry: FilingRegistry) -> None:
    rec = run_site(domain=UNFILED, hosting="hongkong", filings=registry, dns_zone="harbour-lantern.com")
    assert rec.resource_set() == CORE | bucket_set() | cdn_set("private-oss", "index-rewrite") | ownership_set(
        zone=True
    ) | {(RECORD, "site-dns")}
    site = rec.one(SITE)
    assert_children_wired(rec, site, "cn-hongkong", UNFILED)
    assert rec.one(CDN).inputs["scope"] == "overseas"
    assert "certificateConfig" not in rec.one(CDN).inputs
    out = rec.outputs[site.urn]
    assert out["url"] == f"http://{UNFILED}/"
    assert (out["hosting"], out["region"], out["cdn_scope"]) == ("hongkong", "cn-hongkong", "overseas")
    assert out["bucket_name"] == "www-harbour-lantern-com-test"
    assert out.get("icp_number") is None and out.get("psb_number") is None
    assert out["footer_html"] == ""


def test_auto_filed_goes_mainland(registry: FilingRegistry) -> None:
    rec = run_site(domain=FILED, hosting="auto", filings=registry)
    assert rec.resource_set() == CORE | bucket_set() | cdn_set("private-oss", "index-rewrite") | ownership_set(
        zone=False
    )
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-shanghai"
    assert rec.one(CDN).inputs["scope"] == "domestic"
    out = rec.outputs[rec.one(SITE).urn]
    assert (out["hosting"], out["icp_number"]) == ("mainland", "沪ICP备2021012345号-1")


@pytest.mark.parametrize("domain", [UNFILED, "www.qinghe-edu.cn"])  # (a Tencent-filed domain: see above)
def test_auto_unfiled_goes_hongkong(registry: FilingRegistry, domain: str) -> None:
    run = run_program(site_program(domain=domain, hosting="auto", filings=registry), stack="test")
    rec = run.recorder
    assert rec.resource_set() == CORE | bucket_set() | cdn_set("private-oss", "index-rewrite") | ownership_set(
        zone=False
    )
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-hongkong"
    assert rec.one(CDN).inputs["scope"] == "overseas"
    assert run.outputs["hosting"] == "hongkong"
    assert any("Hong Kong" in m for m in run.messages("info"))  # the reason is shown in `pulumi up`


def test_auto_without_registry_goes_hongkong() -> None:
    rec = run_site(domain=FILED, hosting="auto", filings=None)
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-hongkong"


# ---------------------------------------------------------------------------------------------------------------------
# Without the CDN: the bucket's own custom domain


def test_mainland_filed_without_cdn(registry: FilingRegistry) -> None:
    rec = run_site(
        domain=FILED,
        hosting="mainland",
        filings=registry,
        cdn=False,
        dns_zone="mingyue-tea.cn",
        certificate=SiteCertificate(certificate="C", private_key="K"),
    )
    assert rec.resource_set() == CORE | bucket_set() | {
        (CNAME_TOKEN, "site-cname-token"),
        (CNAME, "site-cname"),
        (RECORD, "site-dns"),
        (RECORD, "site-dns-verify"),
    }
    site = rec.one(SITE)
    assert_children_wired(rec, site, "cn-shanghai", FILED)
    # Visitors read the bucket directly: public-read, not blocked.
    assert rec.one(ACL).inputs["acl"] == "public-read"
    assert rec.one(PAB).inputs["blockPublicAccess"] is False
    cname = rec.one(CNAME)
    assert cname.inputs["domain"] == FILED
    # Only the provider's input fields (terraform-provider-alicloud docs, alicloud_oss_bucket_cname `certificate`:
    # cert_id, certificate, private_key); `type`, `status`, dates and fingerprint are computed by OSS.
    certificate = reveal(cname.inputs["certificate"])
    assert certificate == {"certificate": "C", "privateKey": "K"}
    assert set(certificate) <= BUCKET_CNAME_CERTIFICATE_INPUTS
    assert is_secret(cname.inputs["certificate"]) or is_secret(cname.inputs["certificate"]["privateKey"])
    records = {r.name: r for r in rec.of_type(RECORD)}
    assert (records["site-dns"].inputs["type"], records["site-dns"].inputs["value"]) == (
        "CNAME",
        "www-mingyue-tea-cn-test.oss-cn-shanghai.aliyuncs.com",
    )
    verify = records["site-dns-verify"].inputs
    assert (verify["rr"], verify["type"]) == ("_dnsauth.www", "TXT")
    assert verify["value"] == rec.one(CNAME_TOKEN).outputs["token"]
    # The custom domain is bound only after its ownership record and its CNAME exist (else NoSuchCnameInRecord).
    assert {records["site-dns"].urn, records["site-dns-verify"].urn} <= set(cname.dependencies)
    out = rec.outputs[site.urn]
    assert out.get("cdn_scope") is None and out.get("cdn_cname") is None
    assert out["url"] == f"https://{FILED}/"


def test_hongkong_without_cdn_without_dns(registry: FilingRegistry) -> None:
    rec = run_site(domain=UNFILED, hosting="auto", filings=registry, cdn=False)
    assert rec.resource_set() == CORE | bucket_set() | {(CNAME_TOKEN, "site-cname-token"), (CNAME, "site-cname")}
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-hongkong"


# ---------------------------------------------------------------------------------------------------------------------
# Bad arguments: one clear error, nothing created


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"hosting": "beijing"}, "not one of mainland, hongkong, auto"),
        ({"dns_zone": "other.cn"}, "not inside the DNS zone"),
        ({"cdn": False, "origin": "origin.example.com"}, "needs the CDN"),
        ({"content_dir": "site", "origin": "origin.example.com"}, "has no bucket"),
        ({"domain": "203.0.113.9"}, "IP address"),
        ({"domain": "https://www.mingyue-tea.cn/"}, "not a bare host name"),
        ({"today": "28/11/2026"}, "not an ISO date"),
        ({"mainland_region": "us-west-1"}, "not a known mainland"),
    ],
)
def test_bad_arguments(registry: FilingRegistry, kwargs: dict[str, Any], says: str) -> None:
    args: dict[str, Any] = {"domain": FILED, "hosting": "auto", "filings": registry, **kwargs}
    run = run_program(site_program(**args), stack="test", check=False)
    assert isinstance(run.error, InputError) and isinstance(run.error, pulumi.RunError), run.error_message
    assert says in (run.error_message or "")
    assert rec_is_empty(run.recorder)


# ---------------------------------------------------------------------------------------------------------------------
# Pure helpers


def test_relative_record() -> None:
    assert relative_record("www.example.cn", "example.cn") == "www"
    assert relative_record("example.cn", "example.cn.") == "@"
    assert relative_record("a.b.example.cn", "example.cn") == "a.b"
    with pytest.raises(InputError):
        relative_record("www.example.cn", "ample.cn")


def test_default_bucket_name() -> None:
    assert default_bucket_name("www.mingyue-tea.cn", "prod") == "www-mingyue-tea-cn-prod"
    assert default_bucket_name("xn--fiqs8s.cn", "Dev_1") == "xn--fiqs8s-cn-dev-1"
    long = default_bucket_name("a" * 70 + ".cn", "s")
    assert len(long) <= 63 and long[0].isalnum() and long[-1].isalnum()


def test_tag_keys_are_the_policy_packs() -> None:
    assert TAG_KEYS == ("china-site:domain", "china-site:payments", "china-site:platform")
    assert (TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM) == TAG_KEYS
    assert compliance_tags("www.example.cn", payments=True) == {
        "china-site:domain": "www.example.cn",
        "china-site:payments": "true",
        "china-site:platform": "false",
    }


# ---------------------------------------------------------------------------------------------------------------------
# WebBackend


def backend_program(site: bool = False, **kwargs: Any) -> Callable[[], None]:
    def program() -> None:
        kwargs.setdefault("today", TODAY)
        kwargs.setdefault("image_id", "ubuntu_22_04_x64_20G_alibase_20240101.vhd")
        kwargs.setdefault("certificate_id", "12345-cn-hangzhou")
        backend = WebBackend("web", WebBackendArgs(**kwargs))
        pulumi.export("dns_name", backend.dns_name)
        if site:
            Site(
                "site",
                SiteArgs(
                    domain=kwargs["domain"],
                    hosting=kwargs.get("hosting", "auto"),
                    filings=kwargs.get("filings"),
                    today=TODAY,
                    origin=backend,
                ),
            )

    return program


BACKEND_SET = {
    (BACKEND, "web"),
    (PROVIDER, "web-provider"),
    ("alicloud:vpc/network:Network", "web-vpc"),
    ("alicloud:vpc/switch:Switch", "web-lb-a"),
    ("alicloud:vpc/switch:Switch", "web-lb-b"),
    ("alicloud:vpc/switch:Switch", "web-app-a"),
    ("alicloud:vpc/switch:Switch", "web-app-b"),
    ("alicloud:ecs/securityGroup:SecurityGroup", "web-servers-sg"),
    ("alicloud:ecs/securityGroupRule:SecurityGroupRule", "web-allow-80-from-lb-a"),
    ("alicloud:ecs/securityGroupRule:SecurityGroupRule", "web-allow-80-from-lb-b"),
    ("alicloud:ecs/securityGroupRule:SecurityGroupRule", "web-allow-443-from-lb-a"),
    ("alicloud:ecs/securityGroupRule:SecurityGroupRule", "web-allow-443-from-lb-b"),
    ("alicloud:ecs/instance:Instance", "web-server-0"),
    ("alicloud:ecs/instance:Instance", "web-server-1"),
    ("alicloud:alb/loadBalancer:LoadBalancer", "web-alb"),
    ("alicloud:alb/serverGroup:ServerGroup", "web-servers"),
    ("alicloud:alb/listener:Listener", "web-https"),
    ("alicloud:alb/listener:Listener", "web-http"),
    ("alicloud:alb/rule:Rule", "web-http-to-https"),
}


def test_backend_hongkong(registry: FilingRegistry) -> None:
    run = run_program(backend_program(domain=UNFILED, hosting="auto", filings=registry), stack="test")
    rec = run.recorder
    assert rec.resource_set() == BACKEND_SET
    backend = rec.one(BACKEND)
    assert_children_wired(rec, backend, "cn-hongkong", UNFILED)
    # Zones come from ALB's zone list, asked through the explicit provider.
    [call] = rec.calls
    assert call.token == "alicloud:alb/getZones:getZones"
    assert call.provider.rsplit("::", 1)[0] == rec.one(PROVIDER).urn
    switches = {r.name: r.inputs for r in rec.of_type("alicloud:vpc/switch:Switch")}
    assert {n: (s["cidrBlock"], s["zoneId"]) for n, s in switches.items()} == {
        "web-lb-a": ("10.0.0.0/24", "cn-hongkong-b"),
        "web-lb-b": ("10.0.1.0/24", "cn-hongkong-c"),
        "web-app-a": ("10.0.2.0/24", "cn-hongkong-b"),
        "web-app-b": ("10.0.3.0/24", "cn-hongkong-c"),
    }

    # Security group: 80/443 from the load balancer's vSwitches only; no SSH; nothing world-open.
    rules = [r.inputs for r in rec.of_type("alicloud:ecs/securityGroupRule:SecurityGroupRule")]
    lb_cidrs = {switches["web-lb-a"]["cidrBlock"], switches["web-lb-b"]["cidrBlock"]}
    assert {(r["portRange"], r["cidrIp"]) for r in rules} == {(f"{p}/{p}", c) for p in ("80", "443") for c in lb_cidrs}
    for rule in rules:
        assert (rule["type"], rule["ipProtocol"], rule["policy"]) == ("ingress", "tcp", "accept")
        assert rule["cidrIp"] not in ("0.0.0.0/0", "::/0")
        low, high = (int(p) for p in rule["portRange"].split("/"))
        assert not low <= 22 <= high
    sg = rec.one("alicloud:ecs/securityGroup:SecurityGroup")

    # Servers: from the image, no public IP, in the app vSwitches, in the security group.
    instances = rec.of_type("alicloud:ecs/instance:Instance")
    app_ids = {rec.one("alicloud:vpc/switch:Switch", n).id for n in ("web-app-a", "web-app-b")}
    for instance in instances:
        assert instance.inputs["imageId"] == "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
        assert instance.inputs["internetMaxBandwidthOut"] == 0
        assert instance.inputs["vswitchId"] in app_ids
        assert instance.inputs["securityGroups"] == [sg.id]
    assert {i.inputs["vswitchId"] for i in instances} == app_ids  # spread over both zones

    # ALB: internet-facing across the two lb vSwitches; server group = the instances; HTTPS 443 + HTTP→HTTPS.
    alb = rec.one("alicloud:alb/loadBalancer:LoadBalancer")
    assert alb.inputs["addressType"] == "Internet"
    lb_ids = {rec.one("alicloud:vpc/switch:Switch", n).id for n in ("web-lb-a", "web-lb-b")}
    assert {m["vswitchId"] for m in alb.inputs["zoneMappings"]} == lb_ids
    group = rec.one("alicloud:alb/serverGroup:ServerGroup")
    assert {s["serverId"] for s in group.inputs["servers"]} == {i.id for i in instances}
    assert {s["serverIp"] for s in group.inputs["servers"]} == {i.outputs["privateIp"] for i in instances}
    listeners = {r.name: r.inputs for r in rec.of_type("alicloud:alb/listener:Listener")}
    assert (listeners["web-https"]["listenerProtocol"], listeners["web-https"]["listenerPort"]) == ("HTTPS", 443)
    assert listeners["web-https"]["certificates"] == {"certificateId": "12345-cn-hangzhou"}
    assert (listeners["web-http"]["listenerProtocol"], listeners["web-http"]["listenerPort"]) == ("HTTP", 80)
    rule = rec.one("alicloud:alb/rule:Rule").inputs
    assert rule["listenerId"] == rec.one("alicloud:alb/listener:Listener", "web-http").id
    assert rule["ruleActions"] == [
        {"order": 1, "type": "Redirect", "redirectConfig": {"protocol": "HTTPS", "port": "443", "httpCode": "301"}}
    ]
    assert run.outputs["dns_name"] == alb.outputs["dnsName"]
    out = rec.outputs[backend.urn]
    assert (out["hosting"], out["region"], out["dns_name"]) == ("hongkong", "cn-hongkong", alb.outputs["dnsName"])


def test_backend_mainland_filed_with_zones(registry: FilingRegistry) -> None:
    rec = run_program(
        backend_program(
            domain=FILED,
            hosting="mainland",
            filings=registry,
            zones=("cn-shanghai-e", "cn-shanghai-f"),
            instance_count=3,
        ),
        stack="test",
    ).recorder
    assert rec.calls == []
    assert reveal(rec.one(PROVIDER).inputs["region"]) == "cn-shanghai"
    assert len(rec.of_type("alicloud:ecs/instance:Instance")) == 3
    assert {r.inputs["zoneId"] for r in rec.of_type("alicloud:vpc/switch:Switch")} == {"cn-shanghai-e", "cn-shanghai-f"}
    assert_children_wired(rec, rec.one(BACKEND), "cn-shanghai", FILED)


def test_backend_mainland_unfiled_refused(registry: FilingRegistry) -> None:
    run = run_program(backend_program(domain=UNFILED, hosting="mainland", filings=registry), stack="test", check=False)
    assert isinstance(run.error, HostingError) and isinstance(run.error, pulumi.RunError)
    assert rec_is_empty(run.recorder)


def test_backend_of_a_tencent_filed_domain_needs_alibaba_access(registry: FilingRegistry) -> None:
    # The backend's ALB and ECS are origins Alibaba Cloud hosts: a filing with Tencent Cloud only is not enough.
    domain = "www.jinli-food.cn"
    run = run_program(backend_program(domain=domain, hosting="mainland", filings=registry), stack="test", check=False)
    assert isinstance(run.error, HostingError) and "tencent-cloud" in (run.error_message or "")
    assert "新增接入" in (run.error_message or "")
    auto = run_program(backend_program(domain=domain, hosting="auto", filings=registry), stack="test")
    assert_children_wired(auto.recorder, auto.recorder.one(BACKEND), "cn-hongkong", domain)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"vpc_cidr": "8.8.0.0/16"}, "not a private"),
        ({"vpc_cidr": "10.0.0.0/24"}, "too small"),
        ({"instance_count": 0}, "out of range"),
        ({"app_port": 22}, "not 80 or 443"),
        ({"zones": ("cn-hongkong-b", "cn-hongkong-b")}, "two different zones"),
    ],
)
def test_backend_bad_arguments(registry: FilingRegistry, kwargs: dict[str, Any], says: str) -> None:
    run = run_program(
        backend_program(domain=UNFILED, hosting="auto", filings=registry, **kwargs), stack="test", check=False
    )
    assert isinstance(run.error, InputError), run.error_message
    assert says in (run.error_message or "")
    assert rec_is_empty(run.recorder)


def test_plan_subnets() -> None:
    assert plan_subnets("172.16.0.0/12") == {
        "lb-a": "172.16.0.0/24",
        "lb-b": "172.16.1.0/24",
        "app-a": "172.16.2.0/24",
        "app-b": "172.16.3.0/24",
    }
    with pytest.raises(InputError):
        plan_subnets("10.0.0.1/16")  # host bits set


def test_site_with_backend_origin(registry: FilingRegistry) -> None:
    run = run_program(backend_program(site=True, domain=UNFILED, hosting="auto", filings=registry), stack="test")
    rec = run.recorder
    # The CDN fronts the load balancer: no bucket, no private-OSS back-to-source.
    assert rec.resource_set() == BACKEND_SET | CORE | {(CDN, "site-cdn")} | ownership_set(zone=False)
    alb = rec.one("alicloud:alb/loadBalancer:LoadBalancer")
    cdn = rec.one(CDN)
    assert cdn.inputs["sources"] == [
        {"type": "domain", "content": alb.outputs["dnsName"], "port": 443, "priority": 20, "weight": 10}
    ]
    assert cdn.inputs["scope"] == "overseas"
    assert alb.urn in cdn.dependencies  # the origin's DNS name comes from the load balancer
    out = rec.outputs[rec.one(SITE).urn]
    assert out.get("bucket_name") is None
    assert out["cdn_cname"] == f"{UNFILED}.w.kunlunaz.com"


# ---------------------------------------------------------------------------------------------------------------------
# CDN domain ownership verification: DescribeVerifyContent → TXT record → VerifyDomainOwner → the CDN domain


def _no_cloud(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any Alibaba Cloud API call under mocks is recorded (and refused): there must be none."""
    from china_site.ownership import OwnershipClient

    calls: list[str] = []

    def refuse(self: Any, action: str, *_args: Any) -> Any:
        calls.append(action)
        raise AssertionError(f"{action} called under mocks")

    monkeypatch.setattr(OwnershipClient, "_call", refuse)
    return calls


def test_cdn_domain_waits_for_ownership_with_dns_zone(
    registry: FilingRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _no_cloud(monkeypatch)
    rec = run_site(domain=FILED, hosting="mainland", filings=registry, dns_zone="mingyue-tea.cn")
    content, ownership = rec.one(VERIFY_CONTENT), rec.one(OWNERSHIP)
    txt = rec.one(RECORD, "site-dns-ownership")
    cdn = rec.one(CDN)
    # The TXT record: host record `verification` in the root domain's zone, its value from DescribeVerifyContent.
    assert (txt.inputs["domainName"], txt.inputs["rr"], txt.inputs["type"]) == ("mingyue-tea.cn", "verification", "TXT")
    assert txt.provider.rsplit("::", 1)[0] == rec.one(PROVIDER).urn
    # The order: content → TXT record → VerifyDomainOwner → AddCdnDomain.
    assert content.urn in txt.dependencies
    assert txt.urn in ownership.dependencies
    assert ownership.urn in cdn.dependencies
    assert cdn.urn not in content.dependencies + txt.dependencies + ownership.dependencies
    assert (content.inputs["domain"], content.inputs["root"]) == (FILED, "mingyue-tea.cn")
    # Custom resources of the provider plugin: nothing pickled, an alias to the pre-plugin dynamic resource.
    assert "__provider" not in content.inputs and "__provider" not in ownership.inputs
    assert not rec.of_type(DYNAMIC)
    assert (ownership.inputs["recordFqdn"], ownership.inputs["verifyType"]) == (
        "verification.mingyue-tea.cn",
        "dnsCheck",
    )
    assert ownership.parent == rec.one(SITE).urn and content.parent == rec.one(SITE).urn
    assert calls == []  # mocks never run a provider: no cloud call offline


def test_without_dns_zone_the_record_is_named_first(registry: FilingRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _no_cloud(monkeypatch)
    run = run_program(site_program(domain=FILED, hosting="mainland", filings=registry), stack="test")
    rec = run.recorder
    warning = next(m for m in run.messages("warning") if "verification.mingyue-tea.cn" in m)
    english, chinese = warning.split("\n")
    assert "TXT" in english and "DescribeVerifyContent" in english and "domainVerified" in english
    assert "verification.mingyue-tea.cn" in chinese and "归属权" in chinese
    # Only the check: the user creates the record; the CDN domain still waits for VerifyDomainOwner.
    assert not rec.of_type(VERIFY_CONTENT) and not rec.of_type(RECORD)
    ownership = rec.one(OWNERSHIP)
    assert ownership.inputs.get("recordValue") is None
    assert ownership.urn in rec.one(CDN).dependencies
    assert calls == []


def test_domain_verified_skips_the_check(registry: FilingRegistry) -> None:
    run = run_program(
        site_program(
            domain=FILED, hosting="mainland", filings=registry, dns_zone="mingyue-tea.cn", domain_verified=True
        ),
        stack="test",
    )
    rec = run.recorder
    assert not rec.of_type(OWNERSHIP) and not rec.of_type(VERIFY_CONTENT)
    assert [r.name for r in rec.of_type(RECORD)] == ["site-dns"]
    assert not any("verification." in m for m in run.messages())


def test_ownership_record_outside_the_zone_is_refused(registry: FilingRegistry) -> None:
    with pytest.raises(InputError, match=r"verification\.mingyue-tea\.cn.*outside the DNS zone www\.mingyue-tea\.cn"):
        run_site(domain=FILED, hosting="mainland", filings=registry, dns_zone="www.mingyue-tea.cn")


# ---------------------------------------------------------------------------------------------------------------------
# Provider settings, names on replacement (issue 9)


def test_provider_args_are_honoured_and_the_region_stays_pinned(registry: FilingRegistry) -> None:
    import pulumi_alicloud as alicloud

    settings = alicloud.ProviderArgs(
        profile="prod",
        region="us-west-1",  # ignored: the decision sets the region
        assume_role=alicloud.ProviderAssumeRoleArgs(role_arn="acs:ram::123:role/deployer", session_name="ci"),
        endpoints=[alicloud.ProviderEndpointArgs(cdn="cdn.example.internal")],
    )
    rec = run_site(domain=FILED, hosting="mainland", filings=registry, provider_args=settings)
    inputs = rec.one(PROVIDER, "site-provider").inputs
    assert reveal(inputs["region"]) == "cn-shanghai"
    assert reveal(inputs["profile"]) == "prod"
    assert "acs:ram::123:role/deployer" in str(reveal(inputs["assumeRole"]))
    assert "cdn.example.internal" in str(reveal(inputs["endpoints"]))
    # a dict of keyword names works the same; Hong Kong pins its own region
    rec = run_site(domain=UNFILED, hosting="hongkong", filings=registry, provider_args={"profile": "hk"})
    inputs = rec.one(PROVIDER, "site-provider").inputs
    assert (reveal(inputs["region"]), reveal(inputs["profile"])) == ("cn-hongkong", "hk")


def test_stack_alicloud_config_reaches_the_explicit_provider(registry: FilingRegistry) -> None:
    config = {"alicloud:profile": "from-stack", "alicloud:region": "eu-central-1", "alicloud:accessKey": "AKID"}
    run = run_program(
        site_program(domain=FILED, hosting="mainland", filings=registry), config, stack="test", secret_keys=()
    )
    inputs = run.recorder.one(PROVIDER, "site-provider").inputs
    assert reveal(inputs["profile"]) == "from-stack"
    assert reveal(inputs["region"]) == "cn-shanghai"  # the stack's alicloud:region does not move the site
    assert is_secret(inputs["accessKey"]) and reveal(inputs["accessKey"]) == "AKID"
    # no alicloud config at all: only the region
    bare = run_site(domain=FILED, hosting="mainland", filings=registry).one(PROVIDER, "site-provider").inputs
    assert {k for k, v in bare.items() if v is not None} <= {"region", "version"}


def test_a_callers_alicloud_provider_is_refused_with_the_fix(registry: FilingRegistry) -> None:
    import pulumi_alicloud as alicloud

    def program() -> None:
        base = alicloud.Provider("base", profile="prod")
        Site("site", SiteArgs(domain=FILED, filings=registry, today=TODAY), pulumi.ResourceOptions(provider=base))

    run = run_program(program, stack="test", check=False)
    assert isinstance(run.error, InputError) and "provider_args" in str(run.error)
    assert not run.recorder.of_type(SITE)  # refused before anything of the site was registered

    with pytest.raises(ChinaSiteError):
        run_program(program, stack="test")


def test_bad_provider_args_type_is_a_clear_error(registry: FilingRegistry) -> None:
    with pytest.raises(InputError, match="provider_args"):
        run_site(domain=FILED, hosting="mainland", filings=registry, provider_args="prod")


def test_globally_named_children_delete_before_replace(registry: FilingRegistry) -> None:
    rec = run_site(domain=FILED, hosting="mainland", filings=registry)
    assert rec.one(BUCKET).delete_before_replace
    assert rec.one(CDN).delete_before_replace
    assert not rec.one(PROVIDER, "site-provider").delete_before_replace
    no_cdn = run_site(domain=UNFILED, hosting="hongkong", filings=registry, cdn=False)
    assert no_cdn.one(CNAME).delete_before_replace and no_cdn.one(BUCKET).delete_before_replace


@pytest.mark.parametrize("as_output", [False, True])
def test_origin_host_name_string_or_output(registry: FilingRegistry, as_output: bool) -> None:
    # A host name (what the provider passes for a WebBackend's dnsName output from YAML/TypeScript/Go) is the CDN's
    # source as it is; an Output is never asked for a dns_name attribute.
    host = "alb-abc.cn-shanghai.alb.aliyuncsslb.com"
    origin: Any = pulumi.Output.from_input(host) if as_output else host
    rec = run_site(domain=FILED, hosting="mainland", filings=registry, origin=origin, domain_verified=True)
    [source] = rec.one(CDN).inputs["sources"]
    assert (source["type"], source["content"]) == ("domain", host)
    assert not rec.of_type(BUCKET)
