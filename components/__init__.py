"""Pulumi components for China websites on Alibaba Cloud: ``Site``, ``WebBackend`` (and ``SiteContent``).

Imports are lazy so that ``import components`` stays cheap (the Alibaba Cloud SDK is large).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.backend import WebBackend, WebBackendArgs
    from components.content import SiteContent, SiteContentArgs
    from components.site import Site, SiteArgs, SiteCertificate

__all__ = ["Site", "SiteArgs", "SiteCertificate", "SiteContent", "SiteContentArgs", "WebBackend", "WebBackendArgs"]

_LAZY = {
    "Site": "components.site",
    "SiteArgs": "components.site",
    "SiteCertificate": "components.site",
    "SiteContent": "components.content",
    "SiteContentArgs": "components.content",
    "WebBackend": "components.backend",
    "WebBackendArgs": "components.backend",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
