"""The china-site Pulumi package's provider plugin (``pulumi-resource-china-site``).

- :mod:`.schema` — the package schema (``pulumi package get-schema``);
- :mod:`.server` — the provider (Pulumi's ``pulumi.provider.experimental`` API): Construct for ``Site`` and
  ``WebBackend``, the custom resource ``SiteContent``;
- :mod:`.content` — SiteContent's lifecycle over :mod:`china_site.sync`;
- :mod:`.construct` — engine inputs → ``SiteArgs`` / ``WebBackendArgs``;
- :mod:`.install` — where the engine finds the plugin (Pulumi's plugin cache, or a folder for ``pulumi package add``).

Imports are lazy: ``import china_site.provider`` loads nothing of Pulumi's.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """The plugin (``python -m china_site.provider``; the launcher in Pulumi's plugin cache runs it)."""
    from china_site.provider.server import main as serve

    serve()
