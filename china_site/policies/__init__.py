"""The china-site CrossGuard policy pack's code: one module per policy, the glue in ``_adapter`` (and its parts
``_config``, ``_values``, ``_exposures``, ``_reporting``, ``_routing``, ``_memo``, ``_stack``), the pack in ``pack``.

The pack folder that ``pulumi preview --policy-pack`` runs is ``policies/`` at the repository root (its
``__main__.py`` calls :func:`china_site.policies.pack.main`).
"""
