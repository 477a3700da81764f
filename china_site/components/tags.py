"""Compliance tags: put on every taggable child of a ``Site`` or ``WebBackend``.

The tag keys are defined once, in :mod:`china_site.exposure` (the policy pack reads them there); this module only
builds the values. With them a policy can tie a bare resource (a bucket, a load balancer, an ECS instance) to the
site it serves, even when the resource itself carries no domain name:

===========================  =====================================================================
key                          value
===========================  =====================================================================
``china-site:domain``        the site's host name, ASCII (punycode) lower case, e.g. ``www.example.cn``
``china-site:payments``      ``"true"`` when the site takes payments (commercial permit), else ``"false"``
``china-site:platform``      ``"true"`` when it hosts third-party sellers (B21/EDI permit), else ``"false"``
===========================  =====================================================================
"""

from __future__ import annotations

from china_site.exposure import TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM

__all__ = ["TAG_DOMAIN", "TAG_KEYS", "TAG_PAYMENTS", "TAG_PLATFORM", "compliance_tags"]

TAG_KEYS: tuple[str, ...] = (TAG_DOMAIN, TAG_PAYMENTS, TAG_PLATFORM)


def compliance_tags(domain: str, *, payments: bool = False, platform: bool = False) -> dict[str, str]:
    """The compliance tags for a site's children. ``domain`` must already be the ASCII host name."""
    return {
        TAG_DOMAIN: domain,
        TAG_PAYMENTS: "true" if payments else "false",
        TAG_PLATFORM: "true" if platform else "false",
    }
