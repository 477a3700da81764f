"""Where an Alibaba Cloud region serves from: mainland China, Hong Kong, or overseas (DOMAIN.md §4).

Which region IDs exist comes from two sources: every ID the provider accepts (the Terraform provider's
``ValidRegions`` that pulumi-alicloud bridges, dated in ``china_site/data/provider_regions.yaml``:
:func:`provider_region_ids`), and the endpoint data shipped in the ``aliyun-python-sdk-core`` dependency
(:func:`sdk_region_ids`), which knows fewer. Only the classification — mainland, Hong Kong or overseas, and whether
a region is special-purpose — is our data (``china_site/data/regions.yaml``); tests fail when either source knows a
region that file does not classify (:func:`unclassified_provider_regions`, :func:`unclassified_sdk_regions`).
Lookups ignore case and surrounding whitespace. Anything not classified fails closed: it is treated as mainland and
marked ``guessed=True``; an unlisted ``cn-*`` ID (other than ``cn-hongkong``) is mainland by Alibaba Cloud's naming
rule, but still a guess.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles
from china_site.model import Area

__all__ = [
    "HONGKONG",
    "RegionInfo",
    "classify",
    "describe",
    "is_mainland",
    "known_regions",
    "mainland_regions",
    "provider_region_ids",
    "sdk_region_ids",
    "unclassified_provider_regions",
    "unclassified_sdk_regions",
]

HONGKONG = "cn-hongkong"


@dataclass(frozen=True)
class RegionInfo:
    region_id: str | None  # normalised (lower case, stripped); None when no region was given
    area: Literal["mainland", "hongkong", "overseas"]
    guessed: bool  # True when the region is not in the data file and ``area`` is a fail-closed guess
    name: str  # English name, e.g. "China (Shanghai)"; "unknown region" when guessed
    special: bool = False  # finance / government / industry-cloud region
    sdk_known: bool = False  # guessed, but Alibaba Cloud's SDK endpoint data knows the region ID
    internal: bool = False  # an internal / test / endpoint-only ID of the SDK's data: nobody deploys a site there


class _Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)+$")
    name: str = Field(min_length=1)
    area: Area
    special: bool = False
    internal: bool = False


class _RegionFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    regions: tuple[_Region, ...] = Field(min_length=1)


@functools.cache
def _regions() -> dict[str, RegionInfo]:
    table: dict[str, RegionInfo] = {}
    for r in datafiles.validated("regions", _RegionFile).regions:
        if r.id in table:
            raise datafiles.DataFileError(
                f"region {r.id} is listed twice", where="china_site/data/regions.yaml", fix="remove one"
            )
        table[r.id] = RegionInfo(
            region_id=r.id, area=r.area, guessed=False, name=r.name, special=r.special, internal=r.internal
        )
    return table


_SDK_PACKAGE = "aliyunsdkcore"  # distribution aliyun-python-sdk-core
_SDK_ENDPOINTS = ("data", "endpoints.json")


@functools.cache
def sdk_region_ids() -> frozenset[str]:
    """Every region ID in the endpoint data of Alibaba Cloud's Python SDK (``aliyunsdkcore/data/endpoints.json``):
    its ``regions`` list and the regions of every regional endpoint. Empty when the SDK is not installed or its data
    cannot be read (the classification then still fails closed). Read once, lazily: only unclassified IDs need it."""
    try:
        text = resources.files(_SDK_PACKAGE).joinpath(*_SDK_ENDPOINTS).read_text(encoding="utf-8")
        data = json.loads(text)
    except (ImportError, OSError, UnicodeDecodeError, ValueError):
        return frozenset()
    ids: set[str] = set()
    if isinstance(data, dict):
        listed = data.get("regions")
        if isinstance(listed, list):
            ids.update(r for r in listed if isinstance(r, str))
        endpoints = data.get("regional_endpoints")
        if isinstance(endpoints, dict):
            for by_region in endpoints.values():
                if isinstance(by_region, dict):
                    ids.update(r for r in by_region if isinstance(r, str))
    return frozenset(r.strip().lower() for r in ids if r.strip())


class _ProviderRegions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    source: str = Field(min_length=1)
    regions: tuple[str, ...] = Field(min_length=1)


@functools.cache
def provider_region_ids() -> frozenset[str]:
    """Every region ID the Alibaba Cloud provider accepts (``data/provider_regions.yaml``: the Terraform provider's
    ``ValidRegions``, dated): a superset of what the SDK's endpoint data knows."""
    data = datafiles.validated("provider_regions", _ProviderRegions)
    return frozenset(r.strip().lower() for r in data.regions)


def unclassified_provider_regions(ids: frozenset[str] | None = None) -> tuple[str, ...]:
    """Region IDs the provider accepts (or ``ids``) that ``regions.yaml`` does not classify (sorted): each needs a
    review before anyone deploys there."""
    accepted = provider_region_ids() if ids is None else ids
    return tuple(sorted(accepted - _regions().keys()))


def unclassified_sdk_regions() -> tuple[str, ...]:
    """Region IDs the SDK knows and ``regions.yaml`` does not classify (sorted): each needs a review."""
    return tuple(sorted(sdk_region_ids() - _regions().keys()))


def classify(region_id: str | None) -> RegionInfo:
    """Where ``region_id`` serves from. Unknown, empty or None → mainland with ``guessed=True`` (fail closed)."""
    key = region_id.strip().lower() if isinstance(region_id, str) else ""
    if not key:
        return RegionInfo(region_id=None, area="mainland", guessed=True, name="unknown region")
    known = _regions().get(key)
    if known is not None:
        return known
    return RegionInfo(
        region_id=key, area="mainland", guessed=True, name="unknown region", sdk_known=key in sdk_region_ids()
    )


def is_mainland(region_id: str | None) -> bool:
    """True when content served from ``region_id`` needs an ICP filing (unknown regions count as mainland)."""
    return classify(region_id).area == "mainland"


def mainland_regions() -> tuple[str, ...]:
    """The known mainland region IDs, in data-file order (special-purpose regions included)."""
    return tuple(r.region_id for r in _regions().values() if r.area == "mainland" and r.region_id)


def known_regions() -> tuple[RegionInfo, ...]:
    """Every region in the data file."""
    return tuple(_regions().values())


def describe(info: RegionInfo) -> str:
    """One English sentence about the region, for messages."""
    rid = info.region_id
    if info.guessed:
        if rid is None:
            return "no region is known; treated as mainland (fail closed)"
        if info.sdk_known:
            return (
                f"region '{rid}' is known to Alibaba Cloud's SDK but china-site has not classified it yet; treated "
                "as mainland (fail closed)"
            )
        if rid.startswith("cn-"):
            return (
                f"region '{rid}' is not in the known region list; treated as mainland because every 'cn-' region "
                "except cn-hongkong is in the mainland (fail closed)"
            )
        return f"region '{rid}' is unknown; treated as mainland (fail closed)"
    if info.area == "mainland":
        kind = "a special-purpose region in mainland China" if info.special else "in mainland China"
        if info.internal:
            kind = "an internal or endpoint-only region ID in mainland China"
        return f"region '{rid}' ({info.name}) is {kind}, where public websites need an ICP filing"
    if info.area == "hongkong":
        return f"region '{rid}' ({info.name}) is in Hong Kong SAR, outside the mainland ICP filing rules"
    return f"region '{rid}' ({info.name}) is outside China, where no ICP filing applies"
