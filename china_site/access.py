"""Which access provider a mainland exposure needs (DOMAIN.md, Amendments 2026-12-05, rule 2).

Where Alibaba Cloud *hosts the origin* on the mainland (ECS, load balancers, OSS, FC, SAE, …) the domain's ICP
filing must list Alibaba Cloud as an access provider (新增接入). The acceleration products in front of an origin
(CDN, DCDN, Global Accelerator, …) need only a valid MIIT filing from any provider. Which product is which is data
(``china_site/data/access_providers.yaml``, keyed by the ``product`` of ``exposure_types.yaml``), read here and only
here: the rules, ``hosting: auto`` and ``advise`` all ask :func:`access_rule`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from china_site import datafiles

__all__ = ["AccessRule", "access_rule", "listed_products", "needs_provider_access"]

Access = Literal["alibaba-cloud", "any-provider"]


class _Product(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    access: Access
    source: str = Field(min_length=1)


class _AccessFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    sources: dict[str, str] = Field(min_length=1)
    products: dict[str, _Product] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_known(self) -> _AccessFile:
        for name, product in self.products.items():
            if product.source not in self.sources:
                raise ValueError(f"products.{name}: source {product.source!r} is not under 'sources'")
        return self


@dataclass(frozen=True)
class AccessRule:
    """What a product's mainland exposure needs from the filing's access providers."""

    product: str | None
    access: Access  # alibaba-cloud: Alibaba Cloud among the access providers; any-provider: a valid filing
    source: str  # the dated source, for messages and docs
    listed: bool  # False: the product is not in the data file (strict default)


@functools.cache
def _data() -> _AccessFile:
    return datafiles.validated("access_providers", _AccessFile)


def listed_products() -> frozenset[str]:
    """The products the data file classifies."""
    return frozenset(_data().products)


def access_rule(product: str | None) -> AccessRule:
    """The access rule of ``product``; unknown or missing products need Alibaba Cloud access (fail closed)."""
    data = _data()
    entry = data.products.get(product or "")
    if entry is None:
        return AccessRule(product, "alibaba-cloud", "not classified: the stricter reading (fail closed)", False)
    return AccessRule(product, entry.access, data.sources[entry.source], True)


def needs_provider_access(product: str | None) -> bool:
    """True when serving through ``product`` on the mainland needs Alibaba Cloud among the access providers."""
    return access_rule(product).access == "alibaba-cloud"
