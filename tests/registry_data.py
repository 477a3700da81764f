"""The test registry: fictitious entities and sites, consistent on TODAY. No pytest here.

Each entity and site is written once, as the YAML block of a registry file; the registries the tests load pick from
them: ``RULES_REGISTRY_YAML`` (rules, hosting, CLI) and ``PACK_REGISTRY_YAML`` (the policy pack, the audit, live
checks). ``entity()``/``site()`` give one entry as plain data, for tests that build a registry in code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry

TODAY = "2026-11-28"

_ENTITIES: dict[str, str] = {
    "acme": """\
  acme:
    name: 上海阿克米信息技术有限公司
    type: enterprise
    ownership: domestic
    province: 31
    icp_number: 沪ICP备2021012345号
    permits:
      - {number: 沪B2-20220001, kind: B25, issued: 2022-03-01, expires: 2027-03-01}
""",
    "shop": """\
  shop:
    name: 杭州小店科技有限公司
    type: enterprise
    ownership: domestic
    province: 33
    icp_number: 浙ICP备2019054321号
""",
    "wfoe": """\
  wfoe:
    name: 广州外资网络科技有限公司
    type: enterprise
    ownership: foreign-invested
    province: 44
    icp_number: 粤ICP备2020011111号
    permits:
      - {number: 粤B2-20210002, kind: B25, issued: 2021-01-01, expires: 2030-01-01}
""",
    "gone": """\
  gone:
    name: 北京已注销科技有限公司
    type: enterprise
    ownership: domestic
    province: 11
    icp_number: 京ICP备2018000001号
    status: cancelled
""",
}

_SITES: dict[str, str] = {
    "example.cn": """\
  - domain: example.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-1
    status: approved
    approved: 2021-06-01
    access_providers: [aliyun]
    registrar_in_china: true
    real_name_verified: true
    launched: 2021-06-05
    psb_number: 沪公网安备31011502012345号
    psb_filed: 2021-06-20
""",
    "early.cn": """\
  - domain: early.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-6
    status: approved
    approved: 2026-06-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2026-05-25
    psb_number: 沪公网安备31011502012347号
    psb_filed: 2026-06-10
""",
    "fresh.cn": """\
  - domain: fresh.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-2
    status: approved
    approved: 2026-10-20
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2026-10-29
""",
    "late.cn": """\
  - domain: late.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-5
    status: approved
    approved: 2026-08-20
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2026-09-01
""",
    "waiting.com.cn": """\
  - domain: waiting.com.cn
    entity: acme
    status: pending
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
""",
    "elsewhere.cn": """\
  - domain: elsewhere.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-3
    status: approved
    approved: 2022-01-01
    access_providers: [tencent-cloud]
    registrar_in_china: true
    real_name_verified: true
    psb_number: 沪公网安备31011502012346号
    psb_filed: 2022-01-10
""",
    "dropped.cn": """\
  - domain: dropped.cn
    entity: acme
    icp_number: 沪ICP备2021012345号-4
    status: cancelled
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
""",
    "tea-shop.com": """\
  - domain: tea-shop.com
    entity: shop
    icp_number: 浙ICP备2019054321号-1
    status: approved
    approved: 2019-05-01
    access_providers: [alibaba-cloud]
    registrar_in_china: false
    real_name_verified: false
    psb_number: 浙公网安备33010602011111号
    psb_filed: 2019-05-20
""",
    "pay-shop.cn": """\
  - domain: pay-shop.cn
    entity: shop
    icp_number: 浙ICP备2019054321号-2
    status: approved
    approved: 2019-05-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    launched: 2019-05-02
    psb_number: 浙公网安备33010602011112号
    psb_filed: 2019-05-20
""",
    "wfoe-shop.cn": """\
  - domain: wfoe-shop.cn
    entity: wfoe
    icp_number: 粤ICP备2020011111号-1
    status: approved
    approved: 2020-06-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
    psb_number: 粤公网安备44010602012222号
    psb_filed: 2020-06-20
""",
    "closed.cn": """\
  - domain: closed.cn
    entity: gone
    icp_number: 京ICP备2018000001号-1
    status: approved
    approved: 2018-03-01
    access_providers: [alibaba-cloud]
    registrar_in_china: true
    real_name_verified: true
""",
}


def _registry(entities: tuple[str, ...], sites: tuple[str, ...]) -> str:
    return (
        "\nversion: 1\nentities:\n"
        + "".join(_ENTITIES[name] for name in entities)
        + "sites:\n"
        + "".join(_SITES[domain] for domain in sites)
    )


RULES_REGISTRY_YAML = _registry(
    ("acme", "shop", "wfoe", "gone"),
    (
        "example.cn",
        "fresh.cn",
        "waiting.com.cn",
        "elsewhere.cn",
        "tea-shop.com",
        "wfoe-shop.cn",
        "closed.cn",
        "dropped.cn",
    ),
)
PACK_REGISTRY_YAML = _registry(
    ("acme", "shop"),
    (
        "example.cn",
        "fresh.cn",
        "late.cn",
        "waiting.com.cn",
        "elsewhere.cn",
        "dropped.cn",
        "tea-shop.com",
        "pay-shop.cn",
        "early.cn",
    ),
)


def _plain(value: Any) -> Any:
    """YAML's dates as ISO strings (what a registry written as JSON holds)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def entity(name: str, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """One entity as plain data (a fresh copy), without the ``drop`` fields."""
    import yaml

    data = _plain(yaml.safe_load(_ENTITIES[name])[name])
    return {k: v for k, v in data.items() if k not in drop}


def site(domain: str, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """One site as plain data (a fresh copy), without the ``drop`` fields."""
    import yaml

    [data] = _plain(yaml.safe_load(_SITES[domain]))
    return {k: v for k, v in data.items() if k not in drop}


def parse_test_registry() -> FilingRegistry:
    """RULES_REGISTRY_YAML, parsed."""
    import yaml

    from china_site.filings import parse_registry

    return parse_registry(yaml.safe_load(RULES_REGISTRY_YAML), source="test-registry.yaml")


def write_registry(directory: Path, name: str = "filings.yaml", text: str = PACK_REGISTRY_YAML) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
