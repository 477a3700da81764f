"""Which access provider a mainland exposure needs, per product (data/access_providers.yaml; issue 20 item 2)."""

from __future__ import annotations

import pytest

from china_site import access, datafiles
from china_site.exposure import exposure_data


def test_every_exposing_product_is_classified() -> None:
    # A product new to exposure_types.yaml must be reviewed: origin hosting (Alibaba access) or acceleration.
    products = {entry["product"] for entry in exposure_data()["exposing"].values()}
    assert products - access.listed_products() == set(), "classify these products in data/access_providers.yaml"


@pytest.mark.parametrize("product", ["cdn", "dcdn", "ga", "vod", "live", "scdn"])
def test_acceleration_products_need_only_a_valid_filing(product: str) -> None:
    rule = access.access_rule(product)
    assert rule.access == "any-provider" and rule.listed and "2026-" in rule.source
    assert not access.needs_provider_access(product)


@pytest.mark.parametrize("product", ["ecs", "slb", "alb", "nlb", "oss", "fc", "sae", "swas", "apigateway"])
def test_origin_hosting_needs_alibaba_access(product: str) -> None:
    assert access.access_rule(product).access == "alibaba-cloud" and access.needs_provider_access(product)


@pytest.mark.parametrize("product", [None, "", "brand-new-product"])
def test_unknown_products_fail_closed(product: str | None) -> None:
    rule = access.access_rule(product)
    assert rule.access == "alibaba-cloud" and not rule.listed and "fail closed" in rule.source


def test_every_source_is_dated() -> None:
    data = datafiles.load("access_providers")
    assert all("2026-" in text for text in data["sources"].values())
