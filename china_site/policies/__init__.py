"""The china-site CrossGuard policy pack's code: one module per policy, the glue in ``_adapter``, the pack in ``pack``.

The pack folder that ``pulumi preview --policy-pack`` runs is ``policies/`` at the repository root (its
``__main__.py`` calls :func:`china_site.policies.pack.main`).
"""
