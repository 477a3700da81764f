"""Resources → exposures: which types the pack covers, and the :class:`~china_site.model.Exposure` of a resource
(``china_site.exposure``) or of a homepage-footer carrier (SiteContent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from china_site.model import (
    Exposure,
)
from china_site.policies._routing import DISPLAY_KEYS

# ---------------------------------------------------------------------------------------------------------------
# Exposures


BUCKET_LINKER_TYPES: Final = frozenset({"alicloud:oss/bucketAcl:BucketAcl", "alicloud:oss/bucketPolicy:BucketPolicy"})
LINKER_TYPES: Final = BUCKET_LINKER_TYPES | {
    "alicloud:ecs/eipAssociation:EipAssociation",
    "alicloud:vpc/ipv6InternetBandwidth:Ipv6InternetBandwidth",
}  # the data's stack.links (tests/test_stack_suppressors.py checks that they agree)
_COVERED_TYPES: list[Mapping[str, Any]] = []  # china_site.exposure.RESOURCE_TYPES, bound on first use


def is_covered(type_token: str, props: Mapping[str, Any] | None = None) -> bool:
    """A type ``china_site.exposure`` knows, or a resource carrying homepage-footer inputs."""
    if not _COVERED_TYPES:
        from china_site.exposure import RESOURCE_TYPES

        _COVERED_TYPES.append(RESOURCE_TYPES)
    if type_token in _COVERED_TYPES[0]:
        return True
    return props is not None and _has_display_inputs(props)


_DEFERRED: list[frozenset[str]] = []  # china_site.exposure_stack.deferred_types(), bound on first use


def is_deferred(type_token: str) -> bool:
    """A covered type the resource policies leave to ``dns-linked-exposure`` (its exposure depends on another
    resource of the stack: a forwarding rule on an intranet load balancer serves nothing)."""
    if not _DEFERRED:
        from china_site.exposure_stack import deferred_types

        _DEFERRED.append(deferred_types())
    return type_token in _DEFERRED[0]


_STACK_JUDGED: list[frozenset[str]] = []  # china_site.exposure_stack.stack_judged_types(), bound on first use


def is_stack_judged(type_token: str) -> bool:
    """A covered type the resource policies judge at ``AnalyzeStack`` rather than ``Analyze``: a resource of the stack
    can cancel its exposure (OSS Block Public Access under a bucket's public ACL), which ``Analyze`` cannot see."""
    if not _STACK_JUDGED:
        from china_site.exposure_stack import stack_judged_types

        _STACK_JUDGED.append(stack_judged_types())
    return type_token in _STACK_JUDGED[0]


def _has_display_inputs(props: Mapping[str, Any]) -> bool:
    try:
        return any(key in props for key in DISPLAY_KEYS)
    except Exception:
        return False


def resource_exposure(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str,
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
    explicit: bool = False,
) -> Exposure | None:
    """``china_site.exposure.exposure_from_resource`` under the pack's names. Its signature is the same as
    :func:`display_exposure`'s on purpose: ``_adapter._memo_exposure`` calls either builder alike and keeps the
    result per builder."""
    from china_site.exposure import exposure_from_resource

    return exposure_from_resource(
        type_token, props, name=name, provider_props=provider, stack_config=stack, explicit_provider=explicit
    )


def display_exposure(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str,
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
    explicit: bool = False,
) -> Exposure | None:
    """The homepage-footer view of a resource carrying ``icpNumberDisplayed``/``psbNumberDisplayed`` (SiteContent).

    Its domain is the ``domain`` input, else the ``china-site:domain`` tag; its area comes from the ``region`` input,
    else the provider/stack-config region, else the ``mainland`` input, else unknown → mainland (fail closed).
    The ``__provider`` blob of a dynamic resource is never read.
    """
    from china_site.exposure import TAG_DOMAIN, UNKNOWN, region_of
    from china_site.regions import classify

    if not _has_display_inputs(props):
        return None

    def flag(key: str) -> bool | None:
        value = props.get(key)
        return value if isinstance(value, bool) else None

    icp, psb = flag("icpNumberDisplayed"), flag("psbNumberDisplayed")
    if icp is None and psb is None:
        return None
    domains: list[str] = []
    domain = props.get("domain")
    if isinstance(domain, str) and domain.strip():
        domains.append(domain.strip())
    tags = props.get("tags")
    if isinstance(tags, Mapping) and isinstance(tags.get(TAG_DOMAIN), str):
        domains.extend(d.strip() for d in tags[TAG_DOMAIN].split(",") if d.strip())
    unknown: list[str] = []
    region = props.get("region")
    if region is UNKNOWN:
        unknown.append("region")
        region = None
    if not (isinstance(region, str) and region.strip()):
        region, _source = region_of(provider, stack, explicit_provider=explicit)
    mainland = props.get("mainland")
    if region is None and isinstance(mainland, bool):
        area, guessed = ("mainland" if mainland else "overseas"), False
    else:
        info = classify(region)
        area, guessed, region = info.area, info.guessed, info.region_id
    return Exposure(
        resource=type_token,
        name=name,
        public=True,
        area=area,  # type: ignore[arg-type]
        region=region,
        region_guessed=guessed,
        domains=tuple(dict.fromkeys(domains)),
        icp_number_displayed=icp,
        psb_number_displayed=psb,
        unknown=tuple(unknown),
        product="oss",
    )
