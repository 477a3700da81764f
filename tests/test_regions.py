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
    assert set(mainland_regions()) >= set(DOMAIN_MAINLAND + DOMAIN_SPECIAL + FINANCE)
    assert {r.region_id for r in known_regions() if r.area == "mainland"} == set(mainland_regions())
    assert HONGKONG not in mainland_regions() and "cn-hongkong-finance-pop" not in mainland_regions()
    assert all(r.startswith("cn-") for r in mainland_regions())
    assert {r.region_id for r in known_regions()} >= set(mainland_regions()) | {HONGKONG}


# Issue 14: regions the first version of the data lacked (overseas ones were read as mainland by the fail-closed
# default; the finance regions were reported as guesses).
NEW_OVERSEAS = [("us-southeast-1", "Atlanta"), ("ap-southeast-8", "Johor"), ("rus-west-1", "Moscow")]
FINANCE = [
    "cn-shanghai-finance-1-pub", "cn-beijing-finance-1-pub", "cn-szfinance", "cn-shenzhen-finance", "cn-hzfinance",
    "cn-hzjbp",
]  # fmt: skip


@pytest.mark.parametrize(("region", "name"), NEW_OVERSEAS)
def test_new_overseas_regions_are_not_mainland(region: str, name: str) -> None:
    info = classify(region)
    assert (info.area, info.guessed) == ("overseas", False) and name in info.name
    assert not is_mainland(region) and "outside China" in describe(info)


@pytest.mark.parametrize("region", FINANCE)
def test_finance_regions_are_classified_mainland_special(region: str) -> None:
    info = classify(region)
    assert (info.area, info.guessed, info.special) == ("mainland", False, True)
    assert "special-purpose region in mainland China" in describe(info)


@pytest.mark.parametrize(
    ("region", "area"),
    [("cn-shanghai-inner", "mainland"), ("cn-hangzhou-internal-test-1", "mainland"),
     ("cn-hongkong-finance-pop", "hongkong"), ("rus-west-1-pop", "overseas")],
)  # fmt: skip
def test_internal_sdk_ids_are_classified_and_marked(region: str, area: str) -> None:
    info = classify(region)
    assert (info.area, info.guessed, info.internal) == (area, False, True)
    assert not classify("cn-shanghai").internal and not classify("cn-shanghai-finance-1").internal


def test_a_site_refuses_an_internal_region_as_its_mainland_region() -> None:
    import datetime as dt

    from china_site.errors import InputError
    from china_site.hosting import AdviceInput, advise

    assert advise(AdviceInput(mainland_region="cn-shanghai-finance-1", today=dt.date(2026, 11, 28)))
    with pytest.raises(InputError, match="internal or endpoint-only"):
        advise(AdviceInput(mainland_region="cn-shanghai-inner", today=dt.date(2026, 11, 28)))


# --- region IDs come from the SDK's endpoint data; the classification is ours ------------------------------------


def test_every_region_the_sdk_knows_is_classified() -> None:
    from china_site.regions import sdk_region_ids, unclassified_sdk_regions

    known = sdk_region_ids()
    assert len(known) >= 40 and {"cn-hangzhou", "cn-hongkong", "ap-southeast-1"} <= known  # the dependency is there
    assert unclassified_sdk_regions() == (), "classify these regions in china_site/data/regions.yaml"
    for region in known:
        assert not classify(region).guessed, region


def test_every_region_the_provider_accepts_is_classified() -> None:
    from china_site import datafiles
    from china_site.regions import provider_region_ids, unclassified_provider_regions

    accepted = provider_region_ids()
    # The provider's list is the larger source: it knows regions the SDK's endpoint data does not.
    assert {"me-central-1", "ap-southeast-7", "cn-nanjing", "cn-north-2-gov-1"} <= accepted
    assert "2026-" in datafiles.load("provider_regions")["source"]  # dated
    assert unclassified_provider_regions() == (), "classify these regions in china_site/data/regions.yaml"


def test_a_region_new_to_the_provider_fails_the_check_and_is_named() -> None:
    from china_site.regions import provider_region_ids, unclassified_provider_regions

    assert unclassified_provider_regions(provider_region_ids() | {"ap-southeast-99"}) == ("ap-southeast-99",)
    assert classify("ap-southeast-99").guessed  # and until classified it is read as mainland (fail closed)


def test_a_region_new_to_the_sdk_fails_the_check_and_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site import regions

    monkeypatch.setattr(regions, "sdk_region_ids", lambda: frozenset({"cn-hangzhou", "xx-new-9"}))
    assert regions.unclassified_sdk_regions() == ("xx-new-9",)
    info = classify("xx-new-9")
    assert (info.area, info.guessed, info.sdk_known) == ("mainland", True, True)
    assert "known to Alibaba Cloud's SDK" in describe(info) and "fail closed" in describe(info)
    assert classify("xx-other-1").sdk_known is False


def test_without_the_sdk_data_regions_still_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site import regions

    regions.sdk_region_ids.cache_clear()
    monkeypatch.setattr(regions, "_SDK_PACKAGE", "no_such_sdk_package")
    try:
        assert regions.sdk_region_ids() == frozenset()
        assert regions.unclassified_sdk_regions() == ()
        assert (classify("xx-new-9").area, classify("cn-shanghai").guessed) == ("mainland", False)
    finally:
        regions.sdk_region_ids.cache_clear()


def test_regions_file_names_its_sources_and_date() -> None:
    from importlib import resources

    text = resources.files("china_site").joinpath("data", "regions.yaml").read_text(encoding="utf-8")
    assert "read 2026-11-30" in text and "aliyunsdkcore/data/endpoints.json" in text


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
    opened = datafiles.load("pilot_zones")["opened"]
    assert [o["code"] for o in opened] == ["B11", "B12", "B14", "B21", "B25", "B25"]  # not all of B25


@pytest.mark.parametrize(("name", "message"), [("../pyproject", "invalid data file name"), ("nope", "cannot read")])
def test_datafiles_bad_names(name: str, message: str) -> None:
    from china_site import datafiles

    with pytest.raises(datafiles.DataFileError, match=message):
        datafiles.load(name)


def test_every_data_file_names_its_sources_and_the_date_read() -> None:
    import re
    from importlib import resources

    files = [f for f in resources.files("china_site").joinpath("data").iterdir() if f.name.endswith(".yaml")]
    assert {f.name for f in files} >= {"tlds.yaml", "regions.yaml", "pilot_zones.yaml", "error_codes.yaml"}
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert re.search(r"Sources?\b", text), f.name
        assert re.search(r"read 20[0-9]{2}-[0-9]{2}-[0-9]{2}", text), f.name
