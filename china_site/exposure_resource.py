"""One resource → an :class:`~china_site.model.Exposure`: its type's compiled facts (``exposure_data``), its
compliance tags, its region and area; a template type (``ros.Stack``) merged from the resources its template
creates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from china_site.exposure_data import RESOURCE_TYPES, ResourceType
from china_site.exposure_deciders import _Ctx
from china_site.exposure_regions import _AREA_ORDER, EXPLICIT_PROVIDER_NOTE, _classify, _region
from china_site.exposure_values import TAG_DOMAIN, TAG_OWN_GOODS, TAG_PAYMENTS, TAG_PLATFORM, UNKNOWN, _flag
from china_site.model import Exposure


def _split_domains(text: str) -> list[str]:
    return [part for part in (_clean_host(p) for p in text.split(",")) if part]


def _clean_host(text: str) -> str:
    """Strip blanks and a trailing dot; a wildcard label is dropped (``*.a.example`` → ``a.example``).

    Filing coverage of a wildcard equals that of its parent (the registrable domain and its subdomains), and the
    rules skip names that are not valid hosts, so a kept ``*`` would silently drop the name.
    """
    host = text.strip().rstrip(".")
    while host.startswith("*."):
        host = host[2:]
    return "" if host == "*" else host


def _tag_facts(ctx: _Ctx) -> tuple[list[str], bool, bool, bool]:
    """(domains, payments, platform, own_goods) from the compliance tags; unknowns read the stricter way
    (payments and platform true, own goods false: the permit is then required)."""
    tags = ctx.value("tags")
    if tags is UNKNOWN:
        ctx.unknown.append("tags")
        return [], True, False, False
    if not isinstance(tags, Mapping):
        return [], False, False, False
    tag_ctx = _Ctx(tags)
    domains: list[str] = []
    value = tag_ctx.value(TAG_DOMAIN)
    if value is UNKNOWN:
        ctx.unknown.append(f"tags.{TAG_DOMAIN}")
    elif isinstance(value, str):
        domains = _split_domains(value)

    def flag(key: str, strict: bool = True) -> bool:
        raw = tag_ctx.value(key)
        if raw is UNKNOWN:
            ctx.unknown.append(f"tags.{key}")
            return strict
        if raw is None:
            return False
        parsed = _flag(raw)
        return strict if parsed is None else parsed  # unparseable: stricter reading

    return domains, flag(TAG_PAYMENTS), flag(TAG_PLATFORM), flag(TAG_OWN_GOODS, strict=False)


def _dedupe(hosts: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for host in hosts:
        key = host.lower()
        if host and key not in seen:
            seen.add(key)
            out.append(host)
    return tuple(out)


def exposure_from_resource(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str = "",
    provider_props: Mapping[str, Any] | None = None,
    stack_config: Mapping[str, str] | None = None,
    explicit_provider: bool = False,
) -> Exposure | None:
    """The exposure of one resource, or None for a type that exposes nothing (not covered).

    Never raises for odd property values: anything unparseable in a deciding property is read the stricter way.
    ``explicit_provider``: the resource's provider is an explicit ``alicloud.Provider`` (not a default one, see
    :func:`is_default_provider`); without a ``region`` of its own its region is unknown (never the stack config's).
    """
    spec = RESOURCE_TYPES.get(type_token)
    if spec is None:
        return None
    if not isinstance(props, Mapping):
        props = {}
    if spec.template:
        return _template_exposure(spec, props, name, provider_props, stack_config, explicit_provider)
    ctx = _Ctx(props)
    facts = spec.handler(ctx)
    tag_domains, payments, platform, own_goods = _tag_facts(ctx) if spec.taggable else ([], False, False, False)
    domains = _dedupe([_clean_host(d) for d in facts.domains] + tag_domains)

    region: str | None
    guessed = False
    note = ""
    if facts.area is not None:
        area, region = facts.area, None
    else:
        if facts.region_from_props:
            region, region_unknown = facts.region, facts.region_unknown
        else:
            region, _, region_unknown = _region(provider_props, stack_config, explicit_provider)
            if region is None and not region_unknown:
                region = facts.region  # the resource's own location output (after deploy)
            if region_unknown:
                ctx.unknown.append("region")
            elif region is None and explicit_provider:
                note = EXPLICIT_PROVIDER_NOTE
        area, guessed, region = _classify(region)

    return Exposure(
        resource=type_token,
        name=name if isinstance(name, str) else "",
        public=facts.public,
        area=area,
        region=region,
        region_guessed=guessed,
        domains=domains,
        payments=payments,
        platform=platform,
        own_goods=own_goods,
        unknown=tuple(dict.fromkeys(ctx.unknown)),
        product=spec.product,
        domain_unreadable=facts.domain_unreadable,
        region_note=note if guessed else "",
    )


def _template_exposure(
    spec: ResourceType,
    props: Mapping[str, Any],
    name: object,
    provider_props: Mapping[str, Any] | None,
    stack_config: Mapping[str, str] | None,
    explicit_provider: bool,
) -> Exposure:
    """A template type (``ros.Stack``): the resources its template creates, each judged with the same data in the
    stack's region, merged into one exposure — public when one of them is, with all their domains and the
    template type's own tags; placed where its public resources serve (the strictest). An unreadable template or an
    unmapped ROS type is not decided here: ``unreviewed-exposure`` reports it."""
    from china_site.templates import read_template

    template = read_template(spec.token, props)
    label = name if isinstance(name, str) else ""
    inner: list[tuple[str, Exposure]] = []
    for resource in template.resources if template is not None else ():
        if resource.token is None:
            continue
        exposure = exposure_from_resource(
            resource.token,
            resource.props,
            name=f"{label}/{resource.logical_id}",
            provider_props=provider_props,
            stack_config=stack_config,
            explicit_provider=explicit_provider,
        )
        if exposure is not None:
            inner.append((resource.logical_id, exposure))
    public = [e for _, e in inner if e.public]
    ctx = _Ctx(props)
    tag_domains, payments, platform, own_goods = _tag_facts(ctx)
    unknown = [*ctx.unknown, *(template.unknown if template is not None else ())]
    unknown += [f"Resources.{logical}.{u}" for logical, e in inner if e.public for u in e.unknown]
    if public:
        placed = min(public, key=lambda e: _AREA_ORDER.get(e.area, 0))
        area, region, guessed, note = placed.area, placed.region, placed.region_guessed, placed.region_note
    else:
        region, _, region_unknown = _region(provider_props, stack_config, explicit_provider)
        area, guessed, region = _classify(region)
        note = EXPLICIT_PROVIDER_NOTE if guessed and explicit_provider and not region_unknown else ""
    return Exposure(
        resource=spec.token,
        name=label,
        public=bool(public),
        area=area,
        region=region,
        region_guessed=guessed,
        domains=_dedupe([*tag_domains, *(d for e in public for d in e.domains)]),
        payments=payments or any(e.payments for e in public),
        platform=platform or any(e.platform for e in public),
        own_goods=own_goods,
        unknown=tuple(dict.fromkeys(unknown)),
        product=public[0].product if len({e.product for e in public}) == 1 else spec.product,
        domain_unreadable=tuple(dict.fromkeys(u for e in public for u in e.domain_unreadable)),
        region_note=note,
    )
