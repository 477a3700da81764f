"""Pulumi components for China websites on Alibaba Cloud: ``Site``, ``WebBackend`` (and ``SiteContent``).

Imports are lazy so that ``import china_site.components`` stays cheap (the Alibaba Cloud SDK is large).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from china_site.components.backend import WebBackend, WebBackendArgs
    from china_site.components.content import SiteContent, SiteContentArgs
    from china_site.components.site import Site, SiteArgs, SiteCertificate

__all__ = ["Site", "SiteArgs", "SiteCertificate", "SiteContent", "SiteContentArgs", "WebBackend", "WebBackendArgs"]

_LAZY = {
    "Site": "china_site.components.site",
    "SiteArgs": "china_site.components.site",
    "SiteCertificate": "china_site.components.site",
    "SiteContent": "china_site.components.content",
    "SiteContentArgs": "china_site.components.content",
    "WebBackend": "china_site.components.backend",
    "WebBackendArgs": "china_site.components.backend",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    import importlib

    from china_site.errors import require

    require("pulumi_alicloud", "components", "china_site.components")
    return getattr(importlib.import_module(module), name)
