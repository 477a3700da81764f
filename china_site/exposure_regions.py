"""Where a resource serves: its region (the provider's, else the stack config ``alicloud:region`` for a default
provider, else unknown = mainland), its area (``china_site.regions``), CDN-like scopes and acceleration regions
(``_SCOPE_AREA``, ``_regions_area``), and the strictest-first order of areas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from china_site.exposure_deciders import _Ctx, _unknown_in
from china_site.exposure_values import UNKNOWN, _get, _text
from china_site.model import Area


def _classify(region: str | None) -> tuple[Area, bool, str | None]:
    """(area, guessed, normalised region id)."""
    from china_site.regions import classify  # lazy: regions loads a data file

    info = classify(region)
    return info.area, info.guessed, info.region_id


_CONFIG_REGION_KEYS: Final = ("alicloud:region", "alicloud:config:region")


RegionSource = Literal["provider", "config", "unknown"]


def is_default_provider(name: object) -> bool:
    """The engine's rule (``providers.IsDefaultProvider``): a provider named ``default`` or ``default_<version>``."""
    return isinstance(name, str) and (name == "default" or name.startswith("default_"))


EXPLICIT_PROVIDER_NOTE: Final = (
    "an explicit alicloud.Provider without region: only default providers read alicloud:region from stack config, "
    "so its region is unknown until it runs"
)


def _region(
    provider_props: Mapping[str, Any] | None,
    stack_config: Mapping[str, str] | None,
    explicit_provider: bool = False,
) -> tuple[str | None, RegionSource, bool]:
    """(region, source, unknown_at_preview)."""
    if provider_props is not None:
        value = _get(provider_props, "region")
        if value is UNKNOWN:
            return None, "unknown", True
        text = _text(value)
        if text:
            return text, "provider", False
    if explicit_provider:
        return None, "unknown", False  # the stack config is not where an explicit provider's region comes from
    if stack_config is not None:
        for key in _CONFIG_REGION_KEYS:
            value = _get(stack_config, key)
            if value is UNKNOWN:
                return None, "unknown", True
            text = _text(value)
            if text:
                return text, "config", False
    return None, "unknown", False


def region_of(
    provider_props: Mapping[str, Any] | None,
    stack_config: Mapping[str, str] | None,
    *,
    explicit_provider: bool = False,
) -> tuple[str | None, RegionSource]:
    """The Alibaba Cloud region a resource is created in, and where that came from.

    The provider's ``region`` property first; else, for a default provider (or none), stack config
    ``alicloud:region``; else ``(None, "unknown")``. An explicit ``alicloud.Provider`` without ``region`` never reads
    the stack config (the engine does not give it to explicit providers): ``(None, "unknown")``, read as mainland.
    An unknown (preview-time) provider region is ``(None, "unknown")`` as well.
    """
    region, source, _ = _region(provider_props, stack_config, explicit_provider)
    return region, source


_SCOPE_AREA: Final[Mapping[str, Area]] = {"domestic": "mainland", "global": "mainland", "overseas": "overseas"}


_AREA_ORDER: Final[Mapping[str, int]] = {"mainland": 0, "hongkong": 1, "overseas": 2}


def _regions_area(ctx: _Ctx, path: str) -> Area | None:
    """``{regions: P}``: the strictest area among the regions listed at P (a GA accelerator's acceleration regions,
    its IP sets' ``accelerateRegionId``): mainland when any is, or when one is unknown; None when none is given."""
    leaves = ctx.leaves(path)
    if _unknown_in(ctx, path, leaves):
        return "mainland"
    areas: list[Area] = []
    for leaf in leaves:
        text = _text(leaf)
        if text is None:
            if isinstance(leaf, str):
                continue
            return "mainland"  # the wrong shape: the stricter reading
        areas.append(_classify(text)[0])
    return min(areas, key=lambda a: _AREA_ORDER.get(a or "mainland", 0)) if areas else None
