"""Effects across the resources of one stack, as data (``stack`` in ``china_site/data/exposure_types.yaml``): what
cancels an exposure (an intranet load balancer under its rules, OSS Block Public Access under a public ACL or
policy), which DNS records are turned off, and which resources an EIP association ties a domain to although they
have no entry of their own (network interfaces). Pure: no Pulumi imports; ``dns-linked-exposure`` applies it.

``deferred`` types are only public through another resource of the stack (a forwarding rule through its load
balancer): the resource policies leave them to ``dns-linked-exposure``, which judges them with the stack here.
Every other target of a suppressor is *stack-judged* (a bucket whose public ACL OSS Block Public Access blocks): the
resource policies judge it at ``AnalyzeStack`` instead of ``Analyze``, with the same rules and under the same names
(the untied advisory included), unless a suppressor of the stack cancels its exposure.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from china_site.model import Exposure

__all__ = [
    "Suppressor",
    "deferred_types",
    "is_deferred",
    "is_stack_judged",
    "record_disabled",
    "suppressor_of",
    "tie_exposure",
    "tie_types",
]

_MAX_HOPS: Final = 4


class StackDataError(ValueError):
    """``data/exposure_types.yaml``'s ``stack`` section cannot be read (a bad edit)."""


@dataclass(frozen=True)
class Suppressor:
    name: str
    targets: frozenset[str]
    by: frozenset[str]
    via: tuple[str, ...] = ()
    match: str | None = None  # "bucket" | "account"
    when_private: bool = False
    when_flag: str | None = None
    source: str = ""


@dataclass(frozen=True)
class _Stack:
    deferred: frozenset[str]
    suppressors: tuple[Suppressor, ...]
    disabled: Mapping[str, Mapping[str, frozenset[str]]]
    ties: frozenset[str]
    links: Mapping[str, str]  # linker type → the property whose dependency names the resource it makes public
    # deferred type → (via property, types whose area it takes, True: siblings depending on the same resource)
    areas: Mapping[str, tuple[str, frozenset[str], bool]]


@functools.cache
def _data() -> _Stack:
    from china_site.exposure_data import _exposing_head

    spec = _exposing_head().get("stack")
    where = "china_site/data/exposure_types.yaml: stack"
    if not isinstance(spec, Mapping):
        raise StackDataError(f"{where} is missing")
    suppressors: list[Suppressor] = []
    for name, entry in (spec.get("suppressors") or {}).items():
        if not isinstance(entry, Mapping) or not entry.get("targets") or not entry.get("by"):
            raise StackDataError(f"{where}.suppressors.{name}: targets and by are required")
        when = entry.get("when")
        flag = when.get("flag") if isinstance(when, Mapping) else None
        if when != "private" and not isinstance(flag, str):
            raise StackDataError(f"{where}.suppressors.{name}: when is private or {{flag: P}}")
        via = tuple(str(v) for v in entry.get("via") or ())
        match = entry.get("match")
        if bool(via) == (match is not None) or match not in (None, "bucket", "account"):
            raise StackDataError(f"{where}.suppressors.{name}: exactly one of via or match (bucket | account)")
        suppressors.append(
            Suppressor(
                name=str(name),
                targets=frozenset(str(t) for t in entry["targets"]),
                by=frozenset(str(t) for t in entry["by"]),
                via=via,
                match=match,
                when_private=when == "private",
                when_flag=flag,
                source=str(entry.get("source", "")),
            )
        )
    disabled: dict[str, dict[str, frozenset[str]]] = {}
    for token, props in (spec.get("disabled_records") or {}).items():
        if not isinstance(props, Mapping):
            raise StackDataError(f"{where}.disabled_records.{token}: a map of property → values")
        disabled[str(token)] = {str(k): frozenset(str(v).lower() for v in vs) for k, vs in props.items()}
    areas: dict[str, tuple[str, frozenset[str], bool]] = {}
    for name, entry in (spec.get("areas") or {}).items():
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("via"), str)
            or bool(entry.get("from")) == bool(entry.get("siblings"))
        ):
            raise StackDataError(f"{where}.areas.{name}: targets, via and one of from or siblings are required")
        sources = frozenset(str(t) for t in entry.get("from") or entry.get("siblings") or ())
        for token in entry.get("targets") or ():
            areas[str(token)] = (entry["via"], sources, bool(entry.get("siblings")))
    links: dict[str, str] = {}
    for token, entry in (spec.get("links") or {}).items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("via"), str):
            raise StackDataError(f"{where}.links.{token}: {{via: P}} is required")
        links[str(token)] = entry["via"]
    return _Stack(
        areas=areas,
        links=links,
        deferred=frozenset(str(t) for t in spec.get("deferred") or ()),
        suppressors=tuple(suppressors),
        disabled=disabled,
        ties=frozenset(str(t) for t in spec.get("ties") or ()),
    )


def deferred_types() -> frozenset[str]:
    return _data().deferred


def is_deferred(type_token: str) -> bool:
    """A type the resource policies leave to the stack (its exposure depends on another resource)."""
    return type_token in _data().deferred


def stack_judged_types() -> frozenset[str]:
    """The targets of a suppressor that are not deferred: public by themselves (with or without a domain), but a
    resource of the stack can cancel that (OSS Block Public Access under a bucket's own public ACL)."""
    return _stack_judged()


@functools.cache
def _stack_judged() -> frozenset[str]:
    data = _data()
    return frozenset(t for s in data.suppressors for t in s.targets) - data.deferred


def is_stack_judged(type_token: str) -> bool:
    """A type the resource policies judge with the stack (``AnalyzeStack``): a suppressor of the data targets it."""
    return type_token in _stack_judged()


def suppressors() -> tuple[Suppressor, ...]:
    return _data().suppressors


def area_sources(type_token: str) -> frozenset[str]:
    """The types whose area a deferred type takes when they are in the stack (empty: none)."""
    rule = _data().areas.get(type_token)
    return rule[1] if rule is not None else frozenset()


def tie_types() -> frozenset[str]:
    return _data().ties


def links() -> Mapping[str, str]:
    """Linker type → the property whose dependency names the resource it gives a public address."""
    return _data().links


def record_disabled(type_token: str | None, props: Mapping[str, Any]) -> bool:
    """A DNS record turned off (``status: DISABLE``): it resolves nothing, so it links nothing. An unknown status is
    not off (the stricter reading)."""
    from china_site.exposure_values import _get, _text

    if type_token is None:
        return False
    rules = _data().disabled.get(type_token)
    if not rules:
        return False
    for key, values in rules.items():
        text = _text(_get(props, key))
        if text is not None and text.lower() in values:
            return True
    return False


def _flag_true(props: Mapping[str, Any], key: str) -> bool:
    from china_site.exposure_values import _flag, _get

    return _flag(_get(props, key)) is True


def _text_of(props: Mapping[str, Any], key: str) -> str | None:
    from china_site.exposure import is_unknown
    from china_site.exposure_values import _get, _text

    text = _text(_get(props, key))
    return None if text is None or is_unknown(text) else text


def suppressor_of(
    target: Any, resources: Sequence[Any], stack_config: Mapping[str, str] | None = None
) -> tuple[Suppressor, Any] | None:
    """The suppressor (data) and the resource of the stack (a ``ResourceView``) that cancel ``target``'s exposure,
    or None. Found through the target's property dependencies (``via``) or the same bucket name (``match``)."""
    from china_site.exposure import view_exposure
    from china_site.exposure_links import _merged

    candidates = [s for s in _data().suppressors if target.type in s.targets]
    if not candidates:
        return None
    by_urn = {view.urn: view for view in resources if isinstance(view.urn, str)}

    def cancels(rule: Suppressor, view: Any) -> bool:
        if view.type not in rule.by:
            return False
        merged = _merged(view)
        if rule.when_flag is not None:
            return _flag_true(merged, rule.when_flag)
        exposure = view_exposure(view, merged, stack_config)
        return exposure is not None and not exposure.public  # an unknown deciding value reads public

    for rule in candidates:
        if rule.via:
            frontier = [target]
            for hop in rule.via[:_MAX_HOPS]:
                following: list[Any] = []
                for view in frontier:
                    deps = view.property_dependencies if isinstance(view.property_dependencies, Mapping) else {}
                    urns = deps.get(hop) or ()
                    following += [by_urn[u] for u in urns if isinstance(u, str) and u in by_urn]
                for view in following:
                    if cancels(rule, view):
                        return rule, view
                frontier = following
            continue
        bucket = _text_of(_merged(target), "bucket")
        for view in resources:
            if view is target:
                continue
            if rule.match == "bucket" and (bucket is None or _text_of(_merged(view), "bucket") != bucket):
                continue
            if cancels(rule, view):
                return rule, view
    return None


def placed_by_stack(
    target: Any, exposure: Exposure, resources: Sequence[Any], stack_config: Mapping[str, str] | None
) -> Exposure:
    """``exposure`` of a deferred ``target`` placed where the resource it depends on serves (an ESA record where
    its site's coverage serves), or where its siblings serve (a GA domain where the IP sets of its accelerator do:
    the strictest); unchanged when the data names no such resource, or none is in the stack."""
    from dataclasses import replace

    from china_site.exposure import view_exposure
    from china_site.exposure_links import _merged

    rule = _data().areas.get(target.type)
    if rule is None:
        return exposure
    via, sources, siblings = rule
    deps = target.property_dependencies if isinstance(target.property_dependencies, Mapping) else {}
    if not deps and not target.dependencies:
        # No dependencies at all (JSON engine events never carry them): which resource it depends on is unknown,
        # so it is placed at the strictest of its own area and every candidate of the stack — never more lenient
        # than the engine, which knows.
        found = [view for view in resources if view.type in sources and view is not target]
        own = [(target, exposure)]
        placed_by = own + [(v, e) for v in found if (e := view_exposure(v, _merged(v), stack_config)) is not None]
        source, placed = min(placed_by, key=lambda pair: {"mainland": 0, "hongkong": 1}.get(pair[1].area, 2))
        if source is target:
            return exposure
        return replace(exposure, area=placed.area, region=placed.region, region_guessed=placed.region_guessed)
    urns = [u for u in deps.get(via) or () if isinstance(u, str)]
    if siblings:
        found = [
            view
            for view in resources
            if view.type in sources
            and isinstance(view.property_dependencies, Mapping)
            and set(urns) & set(view.property_dependencies.get(via) or ())
        ]
    else:
        by_urn = {view.urn: view for view in resources if isinstance(view.urn, str)}
        found = [by_urn[u] for u in urns if u in by_urn and by_urn[u].type in sources]
    placed_by = [(v, e) for v in found if (e := view_exposure(v, _merged(v), stack_config)) is not None]
    if not placed_by:
        return exposure
    source, placed = min(placed_by, key=lambda pair: {"mainland": 0, "hongkong": 1}.get(pair[1].area, 2))
    unknown = tuple(dict.fromkeys((*exposure.unknown, *(f"{source.name}.{u}" for u in placed.unknown))))
    return replace(
        exposure,
        area=placed.area,
        region=placed.region,
        region_guessed=placed.region_guessed,
        region_note=placed.region_note,
        unknown=unknown,
    )


def tie_exposure(view: Any, stack_config: Mapping[str, str] | None) -> Exposure | None:
    """The exposure of a resource with no entry of its own that an EIP association makes public (a network
    interface): public, with its own ``china-site:domain`` tags, in its region. None for any other type."""
    from china_site.exposure_deciders import _Ctx
    from china_site.exposure_links import _merged
    from china_site.exposure_regions import _classify, _region
    from china_site.exposure_resource import _dedupe, _tag_facts

    if view.type not in _data().ties:
        return None
    ctx = _Ctx(_merged(view))
    domains, payments, platform, own_goods = _tag_facts(ctx)
    region, _, _ = _region(view.provider_props, stack_config, view.explicit_provider)
    area, guessed, region = _classify(region)
    return Exposure(
        resource=view.type,
        name=view.name if isinstance(view.name, str) else "",
        public=True,
        area=area,
        region=region,
        region_guessed=guessed,
        domains=_dedupe(domains),
        payments=payments,
        platform=platform,
        own_goods=own_goods,
        unknown=tuple(dict.fromkeys(ctx.unknown)),
        product="ecs",
    )
