"""``china_site/data/exposure_types.yaml`` → compiled per-type facts: loading the file (the ``exposing`` part
alone at policy time), :class:`ResourceType`, and the compiler from each entry's ``public`` / ``domain`` / ``area``
to a decider and a handler (:data:`RESOURCE_TYPES`, compiled on first use). No per-type code: a type is data plus the
vocabulary of ``china_site.exposure_deciders``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from china_site.exposure_deciders import (
    _JSON_SUFFIX,
    Decider,
    _always,
    _bandwidth,
    _bool,
    _bucket_policy,
    _combined,
    _Ctx,
    _domains,
    _each,
    _never,
    _output,
    _present,
    _suppressed_unless,
    _values,
)
from china_site.exposure_regions import _SCOPE_AREA, _regions_area
from china_site.exposure_values import UNKNOWN, _text
from china_site.model import Area


@dataclass(frozen=True)
class _Facts:
    public: bool
    domains: tuple[str, ...] = ()
    area: Area | None = None  # None: from the region (provider/config, or ``region`` below)
    region: str | None = None  # a region read from the resource itself (e.g. a GA endpoint group's region)
    region_from_props: bool = False
    region_unknown: bool = False
    domain_unreadable: tuple[str, ...] = ()


AreaKind = Literal["region", "scope", "property", "location", "regions", "mainland"]
Handler = Callable[[_Ctx], _Facts]


@dataclass(frozen=True)
class ResourceType:
    """Facts about one exposing resource type (one entry of ``exposing`` in ``data/exposure_types.yaml``).

    ``reads``: the top-level wire properties this module reads (besides ``tags``, read when ``taggable``).
    ``addresses`` / ``cnames``: wire properties (inputs or outputs) whose value an A/AAAA or CNAME record can point
    at, for :func:`link_stack`. ``how``: what makes it public, in words. ``example``: wire inputs of a public
    instance (the tests build a mainland and a Hong Kong case from it).
    """

    token: str
    product: str
    handler: Handler
    reads: tuple[str, ...]
    addresses: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    taggable: bool = True
    how: str = ""
    domain_paths: tuple[str, ...] = ()
    domain_required: bool = False
    area_kind: AreaKind = "region"
    area_property: str | None = None  # the scope, region or location property (area_kind other than "region")
    example: Mapping[str, Any] = field(default_factory=dict)
    template: bool = False  # creates resources from a template (china_site.templates judges them)
    considered: tuple[str, ...] = ()  # the paths to the internet reviewed (issue 18's checklist), in words
    source: str = ""  # what was read: the SDK's <Type>Args docstring, an Alibaba Cloud doc page
    cases: tuple[Mapping[str, Any], ...] = ()  # {path, public: inputs, private: inputs}: one per further path


class ExposureDataError(ValueError):
    """``data/exposure_types.yaml`` has an entry this module cannot read (a bad edit)."""


def _decider(spec: object, where: str) -> tuple[Decider, tuple[str, ...]]:
    """A decider and the wire paths it reads, from one ``public`` entry of the data file."""
    if spec == "always":
        return _always, ()
    if spec == "template":
        return _never, ()  # judged by china_site.templates: the resources its template creates
    if not isinstance(spec, Mapping) or not spec:
        raise ExposureDataError(f"{where}: public must be 'always' or a decider map, not {spec!r}")
    absent = spec.get("absent", "private")
    if absent not in ("private", "public"):
        raise ExposureDataError(f"{where}: absent must be private or public")
    absent_public = absent == "public"
    for combine in ("any", "all"):
        if combine in spec:
            if not isinstance(spec[combine], list) or not spec[combine]:
                raise ExposureDataError(f"{where}: {combine} needs a list of deciders")
            parts = [_decider(part, where) for part in spec[combine]]
            return _combined(combine, [d for d, _ in parts]), tuple(p for _, paths in parts for p in paths)
    if "not" in spec:
        inner = spec["not"]
        if not isinstance(inner, Mapping) or not ("flag" in inner or ("values" in inner and "public" in inner)):
            raise ExposureDataError(f"{where}: not takes a {{flag: P}} or a {{values: P, public: [..]}} suppressor")
        path = str(inner.get("flag", inner.get("values")))
        listed = frozenset(str(v).lower() for v in inner.get("public", ()))
        return _suppressed_unless(path, None if "flag" in inner else listed), (path,)
    if "each" in spec:
        if "then" not in spec:
            raise ExposureDataError(f"{where}: each needs then (the decider run on every item)")
        path = str(spec["each"])
        inner, paths = _decider(spec["then"], where)
        return _each(path, inner), (path, *(f"{path}.{p}" for p in paths))
    if "bucket_policy" in spec:
        conditions = spec.get("private_conditions") or []
        if not isinstance(conditions, list):
            raise ExposureDataError(f"{where}: private_conditions must be a list of condition keys")
        path = str(spec["bucket_policy"])
        return _bucket_policy(path, frozenset(str(c).lower() for c in conditions)), (path,)
    simple: tuple[tuple[str, Callable[[str], Decider]], ...] = (
        ("bandwidth", _bandwidth),
        ("present", _present),
        ("output", _output),
    )
    for kind, build in simple:
        if kind in spec:
            return build(str(spec[kind])), (str(spec[kind]),)
    if "flag" in spec:
        return _bool(str(spec["flag"]), absent_public), (str(spec["flag"]),)
    if "values" in spec:
        private = spec.get("private")
        public = spec.get("public")
        if (private is None) == (public is None):
            raise ExposureDataError(f"{where}: values needs exactly one of private or public")
        as_set = lambda items: None if items is None else frozenset(str(i).lower() for i in items)  # noqa: E731
        return _values(str(spec["values"]), as_set(private), as_set(public), absent_public), (str(spec["values"]),)
    raise ExposureDataError(f"{where}: unknown decider {sorted(spec)!r}")


def _handler(
    decide: Decider, domain_paths: tuple[str, ...], required: bool, area: Mapping[str, str] | str | None
) -> Handler:
    fixed: Area | None = "mainland" if area == "mainland" else None
    area = area if isinstance(area, Mapping) else None
    scope = area.get("scope") if area else None
    region_prop = area.get("region") if area else None
    location = area.get("location") if area else None
    regions = area.get("regions") if area else None

    def handler(ctx: _Ctx) -> _Facts:
        public = decide(ctx)
        domains, unreadable = _domains(ctx, domain_paths, required) if domain_paths else ((), ())
        if not public:
            unreadable = ()
        if fixed is not None:
            # Serves mainland nodes whatever its API region (SCDN: no scope setting exists).
            return _Facts(public=public, domains=domains, area=fixed, domain_unreadable=unreadable)
        if regions is not None:
            served = _regions_area(ctx, regions)
            if served is not None:
                return _Facts(public=public, domains=domains, area=served, domain_unreadable=unreadable)
        if scope is not None:
            # CDN-like: the area is the scope (domestic and global serve mainland nodes), never the API region.
            value = ctx.value(scope)
            if value is UNKNOWN:
                ctx.unknown.append(scope)
                where: Area = "mainland"
            else:
                text = _text(value)
                where = "mainland" if text is None else _SCOPE_AREA.get(text.lower(), "mainland")  # missing: domestic
            return _Facts(public=public, domains=domains, area=where, domain_unreadable=unreadable)
        if region_prop is not None:
            value = ctx.value(region_prop)
            if value is UNKNOWN:
                ctx.unknown.append(region_prop)
                return _Facts(
                    public, domains, region_from_props=True, region_unknown=True, domain_unreadable=unreadable
                )
            return _Facts(public, domains, region=_text(value), region_from_props=True, domain_unreadable=unreadable)
        if location is not None:
            text = _text(ctx.value(location))  # an output, e.g. "oss-cn-hangzhou"
            if text and text.startswith("oss-"):
                return _Facts(public, domains, region=text[4:], domain_unreadable=unreadable)
        return _Facts(public=public, domains=domains, domain_unreadable=unreadable)

    return handler


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ExposureDataError(f"{where}: expected a list of property names")
    return tuple(value)


def _compile(token: str, entry: object) -> ResourceType:
    where = f"exposing.{token}"
    if not isinstance(entry, Mapping):
        raise ExposureDataError(f"{where}: expected a map")
    known = {
        "product",
        "how",
        "public",
        "domain",
        "domain_required",
        "area",
        "addresses",
        "cnames",
        "example",
        "considered",
        "source",
        "cases",
    }
    extra = set(entry) - known
    if extra:
        raise ExposureDataError(f"{where}: unknown keys {sorted(extra)!r}")
    product, how = entry.get("product"), entry.get("how")
    if not isinstance(product, str) or not isinstance(how, str) or "public" not in entry:
        raise ExposureDataError(f"{where}: product, how and public are required")
    decide, paths = _decider(entry["public"], where)
    domain_paths = _strings(entry.get("domain"), f"{where}.domain")
    required = entry.get("domain_required", False)
    if not isinstance(required, bool) or (required and not domain_paths):
        raise ExposureDataError(f"{where}: domain_required needs domain paths")
    area = entry.get("area", "region")
    kind: AreaKind = "region"
    area_map: Mapping[str, str] | None = None
    if area == "mainland":
        kind = "mainland"
    elif area != "region":
        if (
            not isinstance(area, Mapping)
            or len(area) != 1
            or next(iter(area)) not in ("scope", "region", "location", "regions")
        ):
            raise ExposureDataError(
                f"{where}: area must be region, mainland, {{scope: P}}, {{region: P}}, {{regions: P}} or "
                "{location: P}"
            )
        area_map = {str(k): str(v) for k, v in area.items()}
        key = next(iter(area_map))
        kind = "property" if key == "region" else key  # type: ignore[assignment]
        paths += tuple(area_map.values())
    addresses = _strings(entry.get("addresses"), f"{where}.addresses")
    cnames = _strings(entry.get("cnames"), f"{where}.cnames")
    example = entry.get("example", {})
    if not isinstance(example, Mapping):
        raise ExposureDataError(f"{where}: example must be a map of wire inputs")
    considered = _strings(entry.get("considered"), f"{where}.considered")
    source = entry.get("source", "")
    if not isinstance(source, str):
        raise ExposureDataError(f"{where}: source must be text (the SDK docstring or doc page read)")
    cases = entry.get("cases") or []
    if not isinstance(cases, list) or not all(
        isinstance(c, Mapping)
        and isinstance(c.get("path"), str)
        and isinstance(c.get("public"), Mapping)
        and isinstance(c.get("private"), Mapping)
        for c in cases
    ):
        raise ExposureDataError(f"{where}: cases must be a list of {{path, public: inputs, private: inputs}}")
    reads = tuple(
        dict.fromkeys(
            p.split(".", 1)[0].removesuffix("[]").removesuffix(_JSON_SUFFIX)
            for p in (*paths, *domain_paths, *addresses, *cnames)
        )
    )
    return ResourceType(
        token=token,
        product=product,
        handler=_handler(decide, domain_paths, required, "mainland" if kind == "mainland" else area_map),
        reads=reads,
        addresses=addresses,
        cnames=cnames,
        how=how,
        domain_paths=domain_paths,
        domain_required=required,
        area_kind=kind,
        area_property=next(iter(area_map.values())) if area_map else None,
        example=example,
        template=entry["public"] == "template",
        considered=considered,
        source=source,
        cases=tuple(cases),
    )


_DATA_FILE: Final = "exposure_types.yaml"
_REVIEWED_KEY: Final = "\nreviewed:"


def _parse(text: str) -> Any:
    import yaml  # lazy: the pack's start-up

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _data_text() -> str:
    from importlib import resources

    return resources.files("china_site").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")


@functools.cache
def exposure_data() -> Mapping[str, Any]:
    """The parsed ``china_site/data/exposure_types.yaml``, both lists (shared: do not mutate)."""
    data = _parse(_data_text())
    if not isinstance(data, Mapping) or not isinstance(data.get("exposing"), Mapping):
        raise ExposureDataError("china_site/data/exposure_types.yaml: no exposing map")
    return data


@functools.cache
def _exposing_head() -> Mapping[str, Any]:
    """The data file without its reviewed list (two thirds of the file, last in it), which is not parsed at policy
    time: ``exposing``, ``templates``, ``unreviewed``. Falls back to the whole file when the layout differs."""
    text = _data_text()
    head, found, _ = text.partition(_REVIEWED_KEY)
    data = _parse(head) if found else None
    if not isinstance(data, Mapping) or not isinstance(data.get("exposing"), Mapping):
        data = exposure_data()
    return data


def _exposing_data() -> Mapping[str, Any]:
    """Only the ``exposing`` map (see :func:`_exposing_head`)."""
    return _exposing_head()["exposing"]  # type: ignore[no-any-return]


def reviewed_types() -> dict[str, str]:
    """Every type reviewed as not exposing anything by itself → why."""
    out: dict[str, str] = {}
    reviewed = exposure_data().get("reviewed") or {}
    if not isinstance(reviewed, Mapping):
        raise ExposureDataError("china_site/data/exposure_types.yaml: reviewed must map a reason to types")
    for reason, tokens in reviewed.items():
        for token in tokens or ():
            out[str(token)] = str(reason)
    return out


class _ResourceTypes(Mapping[str, ResourceType]):
    """The exposing types, compiled from the data file on first use (one dict lookup per resource after that)."""

    _types: dict[str, ResourceType] | None = None

    def _load(self) -> dict[str, ResourceType]:
        types = self._types
        if types is None:
            exposing = _exposing_data()
            types = {str(token): _compile(str(token), entry) for token, entry in exposing.items()}
            self._types = types
        return types

    def __getitem__(self, token: str) -> ResourceType:
        return self._load()[token]

    def get(self, token: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._load().get(token, default)

    def __contains__(self, token: object) -> bool:
        return token in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


RESOURCE_TYPES: Final[Mapping[str, ResourceType]] = _ResourceTypes()
