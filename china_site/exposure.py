"""One Alibaba Cloud resource, as the Pulumi engine shows it to a policy pack, → an :class:`Exposure`.

Pure: no Pulumi imports. Adapters (the CrossGuard pack, the artifact readers) pass the resource's type token and its
properties under their **wire** names (camelCase, as in the pulumi-alicloud schema); numbers arrive as floats.

Preview-time unknowns: adapters translate the engine's unknown markers to :data:`UNKNOWN`; the engine's raw sentinel
strings are accepted too. An unknown deciding value (CDN ``scope``, load balancer ``addressType``, ECS bandwidth, …)
is read the stricter way (public, mainland) and its property name is listed in ``Exposure.unknown``, so the message
can say it will be checked again at update. Values wrapped by the engine's secret signature are opaque: their
``value`` is unwrapped only to read a domain or a flag and never copied anywhere else.

Which types expose anything, and how, is data: ``china_site/data/exposure_types.yaml`` classifies every resource type
of pulumi-alicloud (exposing, with the properties that decide it, where the host name and the region come from; or
reviewed and not exposing). :data:`RESOURCE_TYPES` is its ``exposing`` part, compiled on first use; dispatch is one
dict lookup per resource.

This module is the public API; the model lives in modules named after what they hold:
  ``exposure_values``    engine values: UNKNOWN and the raw sentinels, secrets, compliance tags, value readers
  ``exposure_deciders``  the ``public`` decider vocabulary and wire-path evaluation (maps, list items, JSON text)
  ``exposure_regions``   region and area placement: provider/stack config region, scopes, acceleration regions
  ``exposure_data``      the data file: loading, :class:`ResourceType`, the compiler from entries to deciders
  ``exposure_resource``  one resource → :class:`Exposure` (tags, template types)
  ``exposure_links``     DNS records, :class:`ResourceView` and the stack-level links (records, bucket ACLs, EIPs)
  ``exposure_stack``     stack effects as data: suppressors, deferred and stack-judged types, areas, ties
"""

from __future__ import annotations

from china_site.exposure_data import RESOURCE_TYPES, ExposureDataError, ResourceType, exposure_data, reviewed_types
from china_site.exposure_links import (
    EIP_ASSOCIATION,
    DnsLink,
    ResourceView,
    dns_link,
    link_buckets,
    link_eip_associations,
    link_stack,
    view_exposure,
)
from china_site.exposure_regions import EXPLICIT_PROVIDER_NOTE, is_default_provider, region_of
from china_site.exposure_resource import exposure_from_resource
from china_site.exposure_values import (
    SECRET_SIG_KEY,
    TAG_DOMAIN,
    TAG_OWN_GOODS,
    TAG_PAYMENTS,
    TAG_PLATFORM,
    UNKNOWN,
    is_unknown,
)

__all__ = [
    "EIP_ASSOCIATION",
    "EXPLICIT_PROVIDER_NOTE",
    "RESOURCE_TYPES",
    "SECRET_SIG_KEY",
    "TAG_DOMAIN",
    "TAG_OWN_GOODS",
    "TAG_PAYMENTS",
    "TAG_PLATFORM",
    "UNKNOWN",
    "DnsLink",
    "ExposureDataError",
    "ResourceType",
    "ResourceView",
    "dns_link",
    "exposure_data",
    "exposure_from_resource",
    "is_default_provider",
    "is_unknown",
    "link_buckets",
    "link_eip_associations",
    "link_stack",
    "region_of",
    "reviewed_types",
    "view_exposure",
]
