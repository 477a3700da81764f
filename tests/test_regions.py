"""Alibaba Cloud regions: mainland, Hong Kong, overseas; unknown regions fail closed (DOMAIN.md §4)."""

from __future__ import annotations

import pytest

from china_site.regions import HONGKONG, RegionInfo, classify, describe, is_mainland, known_regions, mainland_regions

DOMAIN_MAINLAND = [
    "cn-hangzhou", "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-qingdao", "cn-beijing", "cn-zhangjiakou",
    "cn-huhehaote", "cn-wulanchabu", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-wuhan-lr", "cn-chengdu",
]  # fmt: skip
DOMAIN_SPECIAL = [
    "cn-beijing-finance-1", "cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-hangzhou-finance",
    "cn-north-2-gov-1", "cn-zhengzhou-jva", "cn-wulanchabu-gic-1", "cn-heyuan-acdr-1", "cn-zhongwei",
]  # fmt: skip
OVERSEAS = [
    ("ap-southeast-1", "Singapore"), ("ap-southeast-2", "Sydney"), ("ap-southeast-3", "Kuala Lumpur"),
    ("ap-southeast-5", "Jakarta"), ("ap-southeast-6", "Manila"), ("ap-southeast-7", "Bangkok"),
    ("ap-northeast-1", "Tokyo"), ("ap-northeast-2", "Seoul"), ("ap-south-1", "Mumbai"),
    ("us-west-1", "Silicon Valley"), ("us-east-1", "Virginia"), ("eu-central-1", "Frankfurt"),
    ("eu-west-1", "London"), ("me-east-1", "Dubai"), ("me-central-1", "Riyadh"), ("na-south-1", "Mexico"),
]  # fmt: skip


@pytest.mark.parametrize("region", DOMAIN_MAINLAND + DOMAIN_SPECIAL)
def test_known_mainland_regions(region: str) -> None:
    info = classify(region)
    assert info == RegionInfo(region, "mainland", False, info.name, info.special)
    assert info.special == (region in DOMAIN_SPECIAL)
    assert is_mainland(region)
    assert "mainland China" in describe(info) and "fail closed" not in describe(info)


def test_mainland_regions_lists_every_mainland_region_and_nothing_else() -> None:
    assert set(mainland_regions()) == set(DOMAIN_MAINLAND + DOMAIN_SPECIAL)
    assert HONGKONG not in mainland_regions()
    assert all(r.startswith("cn-") for r in mainland_regions())
    assert {r.region_id for r in known_regions()} >= set(mainland_regions()) | {HONGKONG}


@pytest.mark.parametrize("region", ["cn-hongkong", "CN-HongKong", "  cn-hongkong\n"])
def test_hongkong(region: str) -> None:
    info = classify(region)
    assert (info.region_id, info.area, info.guessed) == (HONGKONG, "hongkong", False)
    assert not is_mainland(region)
    assert "Hong Kong" in describe(info)


@pytest.mark.parametrize(("region", "name"), OVERSEAS)
def test_overseas(region: str, name: str) -> None:
    info = classify(region.upper())
    assert (info.region_id, info.area, info.guessed) == (region, "overseas", False)
    assert name in info.name
    assert not is_mainland(region)
    assert "outside China" in describe(info)


@pytest.mark.parametrize("region", ["xx-foo-1", "mars-north-1", "hongkong", "cn_shanghai", "cn-shanghai-2x"])
def test_unknown_region_fails_closed(region: str) -> None:
    info = classify(region)
    assert (info.area, info.guessed, info.region_id) == ("mainland", True, region)
    assert is_mainland(region)
    assert "fail closed" in describe(info) and region in describe(info)


def test_unknown_cn_region_is_mainland_by_rule_of_thumb_but_guessed() -> None:
    info = classify("cn-xian")
    assert (info.area, info.guessed) == ("mainland", True)
    assert "'cn-'" in describe(info) and "fail closed" in describe(info)


@pytest.mark.parametrize("region", [None, "", "   "])
def test_missing_region_fails_closed(region: str | None) -> None:
    info = classify(region)
    assert info == RegionInfo(None, "mainland", True, "unknown region")
    assert is_mainland(region)
    assert describe(info) == "no region is known; treated as mainland (fail closed)"


def test_describe_unknown_example_from_the_brief() -> None:
    assert describe(classify("xx-foo-1")) == "region 'xx-foo-1' is unknown; treated as mainland (fail closed)"


# --- bundled data files (china_site.datafiles) ----------------------------------------------------------------------


def test_datafiles_load_is_cached_and_parsed() -> None:
    from china_site import datafiles

    data = datafiles.load("regions")
    assert data is datafiles.load("regions")
    assert data["version"] == 1 and isinstance(data["regions"], list)


def test_pilot_zones_data() -> None:
    from china_site import datafiles

    zones = datafiles.load("pilot_zones")["zones"]
    assert {z["id"] for z in zones} == {"beijing", "shanghai-lingang", "shanghai-pudong", "hainan", "shenzhen"}
    assert {z["province"] for z in zones} == {"11", "31", "44", "46"}


@pytest.mark.parametrize(("name", "message"), [("../pyproject", "invalid data file name"), ("nope", "cannot read")])
def test_datafiles_bad_names(name: str, message: str) -> None:
    from china_site import datafiles

    with pytest.raises(datafiles.DataFileError, match=message):
        datafiles.load(name)
