"""Deterministic generators for the benchmarks' inputs: filing registries, ``pulumi stack export`` documents of many
Alibaba Cloud sites, and static site folders.

Everything is consistent the way the real thing is: filing numbers carry the character of the entity's home province
(licence numbers the licence character, e.g. 川 for Sichuan), website numbers are the entity number plus ``-n``, the
first two of the 14 PSB digits are the province code, dates are ordered (approved → launched → PSB filed), and every
resource of an export has a provider with its region. All names, numbers and companies are fictitious.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import TODAY

# ---------------------------------------------------------------------------------------------------------------
# Names


def _words(text: str) -> list[str]:
    return text.split()


_SYLLABLES = _words(
    "ming yue yun fan jin hua tian ma hai tao lan shan bai he chun feng dong fang fei yu guang hui hong xing jia "
    "yuan kai long teng mei li nan qing rui xin sheng da tai wan ya zhong ke an bo cheng de en fu gao heng jun kang "
    "le mao ning pu quan rong song tong wei xiang yao zhi"
)
_ZH_WORDS = _words("明月 云帆 金华 天马 海涛 蓝山 百合 春风 东方 飞宇 光辉 红星 嘉园 开元 龙腾 美丽 南海 青山")
_INDUSTRIES = _words("信息技术 网络科技 电子商务 茶业 文化传媒 教育科技 软件 数据服务 旅游 贸易")
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚")
# (suffix, weight): what mainland sites are registered under.
_TLDS = (("cn", 40), ("com.cn", 20), ("com", 25), ("net", 8), ("net.cn", 4), ("top", 3))
_MAINLAND_REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-qingdao", "cn-chengdu")
_OFFSHORE_REGIONS = ("cn-hongkong", "cn-hongkong", "ap-southeast-1")

_DAY0 = dt.date(2012, 1, 1)
_TODAY = dt.date.fromisoformat(TODAY)


def _provinces() -> list[Any]:
    from china_site.numbers import provinces

    return list(provinces())


def _word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def _domain(rng: random.Random, i: int, *, idn: bool = False) -> str:
    tld = rng.choices([t for t, _ in _TLDS], weights=[w for _, w in _TLDS])[0]
    if idn:  # a Chinese label (stored in the registry as written; the loader converts it to punycode)
        return f"{rng.choice(_ZH_WORDS)}{i}.{tld}"
    return f"{_word(rng)}{i}.{tld}"


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    days = max(0, (end - start).days)
    return start + dt.timedelta(days=rng.randint(0, days))


# ---------------------------------------------------------------------------------------------------------------
# Registries


@dataclass(frozen=True)
class SiteFacts:
    """What a generated registry says about one domain (ASCII or as written), for building exposures around it."""

    domain: str
    status: str  # approved | pending | cancelled
    alibaba: bool  # Alibaba Cloud among the access providers
    psb: bool
    payments: bool
    eligible: bool  # registrar in China and real-name verified


def registry_document(
    n_sites: int, *, seed: int = 1, idn_share: float = 0.01
) -> tuple[dict[str, Any], list[SiteFacts]]:
    """A valid registry (``version``, ``entities``, ``sites``) of ``n_sites`` sites under about ``n_sites / 4``
    entities, and the facts per site. Mix: 85% approved (90% of them through Alibaba Cloud), 8% pending, 7%
    cancelled; most launched sites have a PSB number; an entity whose sites take payments holds a B25 permit."""
    rng = random.Random(seed)
    provinces = _provinces()
    entities: dict[str, Any] = {}
    sites: list[dict[str, Any]] = []
    facts: list[SiteFacts] = []
    i = 0
    serial = 0
    while i < n_sites:
        serial += 1
        entity_id = f"e{serial}"
        prov = rng.choice(provinces)
        individual = rng.random() < 0.2
        year = rng.randint(2008, 2024)
        # Older numbers: 2-digit year + 6 digits; newer: 4-digit year + 6 (DOMAIN.md §2).
        base_digits = f"{year % 100:02d}{serial % 1_000_000:06d}" if year < 2012 else f"{year}{serial % 1_000_000:06d}"
        entity_icp = f"{prov.char}ICP备{base_digits}号"
        payments_entity = not individual and rng.random() < 0.12
        entity: dict[str, Any] = {
            "name": (
                f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}{rng.choice(_GIVEN)}"
                if individual
                else f"{prov.name_zh}{rng.choice(_ZH_WORDS)}{rng.choice(_INDUSTRIES)}有限公司"
            ),
            "type": "individual" if individual else "enterprise",
            "ownership": "domestic" if individual or rng.random() < 0.92 else "foreign-invested",
            "province": prov.code,
            "icp_number": entity_icp,
        }
        if payments_entity:
            issued = _date_between(rng, dt.date(2022, 1, 1), dt.date(2025, 12, 31)).replace(day=rng.randint(1, 28))
            entity["permits"] = [
                {
                    "number": f"{prov.licence_char or prov.char}B2-{issued.year}{serial % 10_000:04d}",
                    "kind": "B25",
                    "issued": issued.isoformat(),
                    "expires": issued.replace(year=issued.year + 5).isoformat(),
                }
            ]
        entities[entity_id] = entity
        for k in range(1, (1 if individual else rng.randint(1, 7)) + 1):
            if i >= n_sites:
                break
            domain = _domain(rng, i, idn=rng.random() < idn_share)
            roll = rng.random()
            status = "approved" if roll < 0.85 else ("pending" if roll < 0.93 else "cancelled")
            alibaba = rng.random() < 0.9
            providers = ["alibaba-cloud"] if alibaba else [rng.choice(["tencent-cloud", "huawei-cloud"])]
            if alibaba and rng.random() < 0.05:
                providers.append("aliyun")  # the alias: normalised away by the loader
            site: dict[str, Any] = {
                "domain": domain,
                "entity": entity_id,
                "status": status,
                "access_providers": providers,
                "registrar_in_china": rng.random() < 0.97,
                "real_name_verified": rng.random() < 0.97,
            }
            psb = False
            if status != "pending":
                approved = _date_between(rng, max(_DAY0, dt.date(year, 1, 1)), _TODAY - dt.timedelta(days=10))
                site["icp_number"] = f"{entity_icp}-{k}"
                site["approved"] = approved.isoformat()
                if rng.random() < 0.9:
                    launched = approved + dt.timedelta(days=rng.randint(1, 20))
                    site["launched"] = launched.isoformat()
                    filed = launched + dt.timedelta(days=rng.randint(1, 25))
                    if filed < _TODAY and rng.random() < 0.85:
                        psb = True
                        site["psb_number"] = f"{prov.char}公网安备{prov.code}{rng.randint(100, 9999):04d}{i:08d}号"
                        site["psb_filed"] = filed.isoformat()
                if status == "cancelled":
                    site["cancelled"] = _date_between(rng, approved, _TODAY).isoformat()
            if payments_entity:
                site["payments"] = True
            sites.append(site)
            eligible = bool(site["registrar_in_china"] and site["real_name_verified"])
            facts.append(SiteFacts(domain, status, alibaba, psb, payments_entity, eligible))
            i += 1
    return {"version": 1, "entities": entities, "sites": sites}, facts


def unfiled_domains(n: int, *, seed: int = 2) -> list[str]:
    """Domains that no generated registry holds (a distinct name space: ``nf`` prefix)."""
    rng = random.Random(seed)
    return [f"nf{_word(rng)}{i}.{rng.choice(('cn', 'com', 'net', 'com.cn'))}" for i in range(n)]


def lookup_hosts(facts: list[SiteFacts], n: int, *, seed: int = 3, filed_share: float = 0.7) -> list[str]:
    """``n`` host names as policies see them: subdomains of filed domains (``www.``, ``static.``, deeper, a
    wildcard, upper case) and of unfiled ones, shuffled."""
    rng = random.Random(seed)
    prefixes = ("www.", "static.", "img.cdn.", "api.", "", "*.", "m.", "a.b.c.")
    unfiled = unfiled_domains(max(1, n // 10), seed=seed + 1)
    hosts: list[str] = []
    for _ in range(n):
        prefix = rng.choice(prefixes)
        domain = rng.choice(facts).domain if rng.random() < filed_share else rng.choice(unfiled)
        host = prefix + domain
        hosts.append(host.upper() if rng.random() < 0.02 else host)
    return hosts


# ---------------------------------------------------------------------------------------------------------------
# Stack exports


@dataclass(frozen=True)
class _SiteSpec:
    index: int
    domain: str
    region: str
    backend: bool
    payments: bool


def _export_sites(n_sites: int, facts: list[SiteFacts], seed: int) -> list[_SiteSpec]:
    """Mostly compliant sites (filed through Alibaba Cloud → mainland; unfiled → Hong Kong/overseas), with the
    violations real pipelines catch: unfiled or pending domains in the mainland, a filing held elsewhere."""
    rng = random.Random(seed)
    filed = [f for f in facts if f.status == "approved" and f.alibaba and f.domain.isascii()]
    other = [f for f in facts if f not in filed and f.domain.isascii()]
    unfiled = unfiled_domains(n_sites, seed=seed + 7)
    specs: list[_SiteSpec] = []
    for i in range(n_sites):
        roll = rng.random()
        if roll < 0.7 and filed:
            fact = filed[i % len(filed)]
            domain, region, payments = fact.domain, rng.choice(_MAINLAND_REGIONS), fact.payments
        elif roll < 0.85:
            domain, region, payments = unfiled[i], rng.choice(_OFFSHORE_REGIONS), False
        elif roll < 0.93 and other:
            fact = other[i % len(other)]
            domain, region, payments = fact.domain, rng.choice(_MAINLAND_REGIONS), fact.payments
        else:
            domain, region, payments = unfiled[i], rng.choice(_MAINLAND_REGIONS), rng.random() < 0.3
        specs.append(_SiteSpec(i, domain, region, backend=i % 3 == 2, payments=payments))
    return specs


class _Urns:
    def __init__(self, stack: str, project: str) -> None:
        self.prefix = f"urn:pulumi:{stack}::{project}::"

    def __call__(self, qualified_type: str, name: str) -> str:
        return f"{self.prefix}{qualified_type}::{name}"


def _id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def _pickled_provider(i: int) -> str:
    """What a dynamic resource's ``__provider`` input looks like: a few KB of base64 (a pickled provider)."""
    blob = hashlib.sha512(f"provider{i}".encode()).digest() * 32
    return base64.b64encode(blob).decode("ascii")


def _site_resources(spec: _SiteSpec, urn: _Urns, stack_urn: str, dynamic_provider: str) -> Iterator[dict[str, Any]]:
    i, domain, region = spec.index, spec.domain, spec.region
    host = f"www.{domain}"
    mainland = region.startswith("cn-") and region != "cn-hongkong"
    site_type = "china-site:index:Site"
    site_urn = urn(site_type, f"site{i}")
    bucket = f"{host.replace('.', '-')}-{region}"[:63]
    tags = {
        "china-site:domain": host,
        "china-site:payments": "true" if spec.payments else "false",
        "china-site:platform": "false",
    }

    def child(type_: str, name: str) -> str:
        return urn(f"{site_type}${type_}", name)

    yield {
        "urn": site_urn,
        "custom": False,
        "type": site_type,
        "parent": stack_urn,
        "outputs": {"url": f"https://{host}", "hosting": "mainland" if mainland else "hongkong", "region": region},
    }

    prov_urn = child("pulumi:providers:alicloud", f"site{i}-provider")
    prov_id = str(uuid.UUID(hashlib.md5(prov_urn.encode(), usedforsecurity=False).hexdigest()))
    prov_props = {"region": region, "version": "4.0.0"}
    yield {
        "urn": prov_urn,
        "custom": True,
        "id": prov_id,
        "type": "pulumi:providers:alicloud",
        "inputs": prov_props,
        "outputs": prov_props,
        "parent": site_urn,
    }
    provider = f"{prov_urn}::{prov_id}"

    def res(
        type_: str,
        name: str,
        inputs: dict[str, Any],
        outputs: dict[str, Any] | None = None,
        deps: dict[str, str] | None = None,
        parent: str = site_urn,
        qualified: str | None = None,
        prov: str = provider,
    ) -> dict[str, Any]:
        this = urn(qualified, name) if qualified else child(type_, name)
        rid = _id(this)
        prop_deps = {k: [v] for k, v in (deps or {}).items()}
        return {
            "urn": this,
            "custom": True,
            "id": rid,
            "type": type_,
            "inputs": inputs,
            "outputs": {"id": rid, **inputs, **(outputs or {})},
            "parent": parent,
            "provider": prov,
            "dependencies": sorted({v for v in (deps or {}).values()}),
            "propertyDependencies": prop_deps,
        }

    bucket_urn = child("alicloud:oss/bucket:Bucket", f"site{i}-bucket")
    yield res(
        "alicloud:oss/bucket:Bucket",
        f"site{i}-bucket",
        {"bucket": bucket, "storageClass": "Standard", "tags": tags, "__defaults": []},
        {
            "location": f"oss-{region}",
            "extranetEndpoint": f"oss-{region}.aliyuncs.com",
            "intranetEndpoint": f"oss-{region}-internal.aliyuncs.com",
            "acl": "private",
            "creationDate": "2025-03-01",
            "owner": "1234567890123456",
        },
    )
    yield res(
        "alicloud:oss/bucketAcl:BucketAcl",
        f"site{i}-acl",
        {"bucket": bucket, "acl": "private"},
        deps={"bucket": bucket_urn},
    )
    yield res(
        "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
        f"site{i}-public-access-block",
        {"bucket": bucket, "blockPublicAccess": True},
        deps={"bucket": bucket_urn},
    )
    yield res(
        "alicloud:oss/bucketWebsite:BucketWebsite",
        f"site{i}-website",
        {
            "bucket": bucket,
            "indexDocument": {"suffix": "index.html", "type": "0", "supportSubDir": True},
            "errorDocument": {"key": "404.html", "httpStatus": 404},
        },
        deps={"bucket": bucket_urn},
    )
    cname = f"{host}.w.kunlunaz.com"
    cdn_urn = child("alicloud:cdn/domainNew:DomainNew", f"site{i}-cdn")
    yield res(
        "alicloud:cdn/domainNew:DomainNew",
        f"site{i}-cdn",
        {
            "domainName": host,
            "cdnType": "web",
            "scope": "domestic" if mainland else "overseas",
            "sources": [
                {
                    "content": f"{bucket}.oss-{region}.aliyuncs.com",
                    "type": "oss",
                    "port": 443,
                    "priority": 20,
                    "weight": 10,
                },
            ],
            "tags": tags,
        },
        {"cname": cname, "status": "online", "resourceGroupId": "rg-acfm2example"},
        deps={"sources": bucket_urn},
    )
    for cfg_name, fn, args in (
        ("private-oss", "l2_oss_key", [{"argName": "private_oss_auth", "argValue": "on"}]),
        (
            "index-rewrite",
            "back_to_origin_url_rewrite",
            [
                {"argName": "source_url", "argValue": "^(.*)/$"},
                {"argName": "target_url", "argValue": "$1/index.html"},
                {"argName": "flag", "argValue": "break"},
            ],
        ),
    ):
        yield res(
            "alicloud:cdn/domainConfig:DomainConfig",
            f"site{i}-{cfg_name}",
            {"domainName": host, "functionName": fn, "functionArgs": args},
            {"configId": _id(fn, host)},
            deps={"domainName": cdn_urn},
        )
    yield res(
        "alicloud:dns/alidnsRecord:AlidnsRecord",
        f"site{i}-dns",
        {"domainName": domain, "rr": "www", "type": "CNAME", "value": cname, "ttl": 600},
        {"status": "ENABLE"},
        deps={"value": cdn_urn},
    )

    content_type = "china-site:index:SiteContent"
    content_urn = child(content_type, f"site{i}-content")
    yield {"urn": content_urn, "custom": False, "type": content_type, "parent": site_urn, "outputs": {}}
    files = {
        name: hashlib.sha256(f"{i}/{name}".encode()).hexdigest()
        for name in ("index.html", "404.html", "style.css", "app.3f2a9c1b.js", "images/logo.png")
    }
    dyn_inputs = {
        "__provider": _pickled_provider(i),
        "component": content_type,
        "bucket": bucket,
        "prefix": "",
        "contentDir": f"/srv/sites/{domain}/dist",
        "region": region,
        "domain": host,
        "mainland": mainland,
        "files": files,
        "icpNumberDisplayed": mainland,
        "psbNumberDisplayed": mainland,
        "icpNumberLinked": mainland,
        "psbNumberLinked": mainland,
        "homepageProblems": [],
        "maxWorkers": 8,
    }
    yield res(
        "pulumi-python:dynamic:Resource",
        f"site{i}-content-sync",
        dyn_inputs,
        {"objectCount": len(files)},
        deps={"bucket": bucket_urn},
        parent=content_urn,
        qualified=f"{site_type}${content_type}$pulumi-python:dynamic:Resource",
        prov=dynamic_provider,
    )

    if not spec.backend:
        return
    zone = f"{region}-b" if region != "ap-southeast-1" else "ap-southeast-1a"
    vpc_urn = child("alicloud:vpc/network:Network", f"site{i}-vpc")
    yield res(
        "alicloud:vpc/network:Network",
        f"site{i}-vpc",
        {"vpcName": f"site{i}", "cidrBlock": "10.0.0.0/16"},
        {"routerId": _id("vrt", str(i)), "status": "Available"},
    )
    vsw_urn = child("alicloud:vpc/switch:Switch", f"site{i}-vsw")
    yield res(
        "alicloud:vpc/switch:Switch",
        f"site{i}-vsw",
        {"vpcId": _id(vpc_urn), "cidrBlock": "10.0.1.0/24", "zoneId": zone, "vswitchName": f"site{i}-a"},
        deps={"vpcId": vpc_urn},
    )
    sg_urn = child("alicloud:ecs/securityGroup:SecurityGroup", f"site{i}-sg")
    yield res(
        "alicloud:ecs/securityGroup:SecurityGroup",
        f"site{i}-sg",
        {"vpcId": _id(vpc_urn), "securityGroupName": f"site{i}-web", "description": "web backend"},
        deps={"vpcId": vpc_urn},
    )
    ecs_urn = child("alicloud:ecs/instance:Instance", f"site{i}-ecs")
    yield res(
        "alicloud:ecs/instance:Instance",
        f"site{i}-ecs",
        {
            "instanceName": f"site{i}-web",
            "instanceType": "ecs.g7.large",
            "imageId": "aliyun_3_x64_20G_alibase_20250101.vhd",
            "vswitchId": _id(vsw_urn),
            "securityGroups": [_id(sg_urn)],
            "internetMaxBandwidthOut": 0,
            "systemDiskCategory": "cloud_essd",
            "systemDiskSize": 40,
            "tags": tags,
        },
        {"privateIp": f"10.0.1.{i % 250 + 2}", "status": "Running", "publicIp": ""},
        deps={"vswitchId": vsw_urn, "securityGroups": sg_urn},
    )
    eip_urn = child("alicloud:ecs/eipAddress:EipAddress", f"site{i}-eip")
    ip = f"47.{100 + i % 100}.{(i // 100) % 250}.{i % 250 + 1}"
    yield res(
        "alicloud:ecs/eipAddress:EipAddress",
        f"site{i}-eip",
        {
            "addressName": f"site{i}-eip",
            "bandwidth": "10",
            "internetChargeType": "PayByTraffic",
            "isp": "BGP",
            "paymentType": "PayAsYouGo",
            "tags": tags,
        },
        {"ipAddress": ip, "status": "InUse"},
    )
    yield res(
        "alicloud:ecs/eipAssociation:EipAssociation",
        f"site{i}-eip-assoc",
        {"allocationId": _id(eip_urn), "instanceId": _id(ecs_urn), "instanceType": "EcsInstance"},
        deps={"allocationId": eip_urn, "instanceId": ecs_urn},
    )
    alb_urn = child("alicloud:alb/loadBalancer:LoadBalancer", f"site{i}-alb")
    yield res(
        "alicloud:alb/loadBalancer:LoadBalancer",
        f"site{i}-alb",
        {
            "loadBalancerName": f"site{i}-alb",
            "addressType": "Internet",
            "addressAllocatedMode": "Dynamic",
            "loadBalancerEdition": "Standard",
            "vpcId": _id(vpc_urn),
            "loadBalancerBillingConfig": {"payType": "PayAsYouGo"},
            "zoneMappings": [{"vswitchId": _id(vsw_urn), "zoneId": zone}],
            "tags": tags,
        },
        {"dnsName": f"alb-{_id(alb_urn)}.{region}.alb.aliyuncs.com", "status": "Active"},
        deps={"vpcId": vpc_urn},
    )
    yield res(
        "alicloud:dns/alidnsRecord:AlidnsRecord",
        f"site{i}-api-dns",
        {"domainName": domain, "rr": "api", "type": "A", "value": ip, "ttl": 600},
        {"status": "ENABLE"},
        deps={"value": eip_urn},
    )


def stack_export(
    n_resources: int, *, seed: int = 11, stack: str = "prod", project: str = "shops"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``pulumi stack export`` (version 3) of at least ``n_resources`` resources (whole sites: OSS, CDN, DNS,
    SiteContent; every third with a VPC/ECS/EIP/ALB backend), and a registry consistent with it."""
    n_sites = max(1, n_resources // 14 + 1)
    registry, facts = registry_document(max(8, n_sites), seed=seed, idn_share=0.0)
    specs = _export_sites(n_sites, facts, seed)
    urn = _Urns(stack, project)
    stack_urn = urn("pulumi:pulumi:Stack", f"{project}-{stack}")
    dyn_prov_urn = urn("pulumi:providers:pulumi-python", "default")
    dyn_prov_id = "4f7a2c1e-9d3b-4a5e-8c6f-0b1d2e3f4a5b"
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {
            "urn": dyn_prov_urn,
            "custom": True,
            "id": dyn_prov_id,
            "type": "pulumi:providers:pulumi-python",
            "inputs": {},
            "outputs": {},
            "parent": stack_urn,
        },
    ]
    for spec in specs:
        resources.extend(_site_resources(spec, urn, stack_urn, f"{dyn_prov_urn}::{dyn_prov_id}"))
        if len(resources) >= n_resources:
            break
    resources[0]["outputs"] = {"sites": len(specs)}
    doc = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-27T08:00:00.000Z", "magic": _id("magic"), "version": "v3.272.0"},
            "secrets_providers": {"type": "service", "state": {"url": "https://api.pulumi.com", "owner": "shops"}},
            "resources": resources,
        },
    }
    return doc, registry


# ---------------------------------------------------------------------------------------------------------------
# Static sites


def site_folder(root: Path, n_files: int, *, seed: int = 5) -> int:
    """Write a static site of ``n_files`` files under ``root`` (HTML pages with the footer, fingerprinted JS/CSS,
    images, fonts); returns the total size in bytes."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    footer = (
        '<footer><a href="https://beian.miit.gov.cn/" target="_blank">沪ICP备2021012345号-1</a> '
        '<a href="https://beian.mps.gov.cn/#/query/webSearch?code=31011502012345">沪公网安备31011502012345号</a>'
        "</footer>"
    )
    total = 0
    for i in range(n_files):
        kind = i % 10
        if i == 0:
            rel = "index.html"
        elif kind < 4:
            rel = f"{rng.choice(('news', 'products', 'about', 'blog'))}/{i}/index.html"
        elif kind < 6:
            rel = f"assets/{_word(rng, 1)}.{rng.getrandbits(32):08x}.{rng.choice(('js', 'css'))}"
        elif kind < 9:
            rel = f"images/{i}.{rng.choice(('png', 'jpg', 'webp', 'svg'))}"
        else:
            rel = f"fonts/{i}.woff2"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".html"):
            body = f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>第{i}页</title></head><body>"
            body += f"<p>{'茶叶 ' * rng.randint(50, 400)}</p>{footer}</body></html>"
            data = body.encode("utf-8")
        else:
            data = rng.randbytes(rng.randint(512, 12_000))
        path.write_bytes(data)
        total += len(data)
    return total
