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
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from china_site.model import Area, Exposure

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
]

# ---------------------------------------------------------------------------------------------------------------
# Engine markers


class _Unknown:
    """The type of :data:`UNKNOWN`: a value not known until the resource is created (preview time)."""

    __slots__ = ()
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()

# The engine's raw unknown sentinels (pulumi_policy.proxy): string, boolean, number, array, asset, archive, object.
_UNKNOWN_SENTINELS: Final = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)

SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # the engine's special-signature key (secrets, assets)

# Compliance tags: tie a bare resource to its site.
TAG_DOMAIN: Final = "china-site:domain"  # one host name, or several separated by commas
TAG_PAYMENTS: Final = "china-site:payments"  # "true" | "false"
TAG_PLATFORM: Final = "china-site:platform"  # "true" | "false": hosts third-party sellers (B21)
TAG_OWN_GOODS: Final = "china-site:own-goods"  # "true" | "false": sells only its own goods (disputed permit point)

_TRUE: Final = frozenset({"true", "yes", "1", "on"})
_FALSE: Final = frozenset({"false", "no", "0", "off", ""})

_MAX_SECRET_DEPTH = 8


def is_unknown(value: object) -> bool:
    """True for :data:`UNKNOWN` and for the engine's raw unknown sentinel strings."""
    return value is UNKNOWN or (isinstance(value, str) and value in _UNKNOWN_SENTINELS)


def _reveal(value: object) -> object:
    """Unwrap the engine's secret/special-signature maps to read a flag or a domain. Assets/archives → None."""
    depth = 0
    while isinstance(value, Mapping) and SECRET_SIG_KEY in value:
        depth += 1
        if depth > _MAX_SECRET_DEPTH:
            return None
        value = _raw(value, "value")
    if is_unknown(value):
        return UNKNOWN
    return value


def _raw(mapping: Mapping[str, Any], key: str) -> object:
    """``mapping.get(key)``; a mapping that refuses to give the value (pulumi_policy's proxies raise
    ``UnknownValueError`` for unknowns) yields :data:`UNKNOWN`: the stricter reading, never "absent"."""
    try:
        return mapping.get(key)
    except Exception:
        return UNKNOWN


def _get(mapping: Mapping[str, Any] | None, key: str) -> object:
    if mapping is None:
        return None
    return _reveal(_raw(mapping, key))


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict copy of a mapping's top level (refused values become :data:`UNKNOWN`)."""
    if type(mapping) is dict:  # a plain dict refuses nothing: the same copy, without a lookup per key
        return dict(mapping)
    try:
        keys = list(mapping.keys())
    except Exception:
        return {}
    return {key: _raw(mapping, key) for key in keys}


def _text(value: object) -> str | None:
    """A non-empty stripped string, else None (numbers, lists and maps are not text)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Regions


def _classify(region: str | None) -> tuple[Area, bool, str | None]:
    """(area, guessed, normalised region id)."""
    from china_site.regions import classify  # lazy: regions loads a data file

    info = classify(region)
    return info.area, info.guessed, info.region_id


_CONFIG_REGION_KEYS: Final = ("alicloud:region", "alicloud:config:region")


RegionSource = Literal["provider", "config", "unknown"]


def is_default_provider(name: object) -> bool:
    """The engine's rule (``providers.IsDefaultProvider``): a provider named ``default`` or ``default_<version>``."""
    return isinstance(name, str) and (name == "default" or name.startswith("default_"))


EXPLICIT_PROVIDER_NOTE: Final = (
    "an explicit alicloud.Provider without region: only default providers read alicloud:region from stack config, "
    "so its region is unknown until it runs"
)


def _region(
    provider_props: Mapping[str, Any] | None,
    stack_config: Mapping[str, str] | None,
    explicit_provider: bool = False,
) -> tuple[str | None, RegionSource, bool]:
    """(region, source, unknown_at_preview)."""
    if provider_props is not None:
        value = _get(provider_props, "region")
        if value is UNKNOWN:
            return None, "unknown", True
        text = _text(value)
        if text:
            return text, "provider", False
    if explicit_provider:
        return None, "unknown", False  # the stack config is not where an explicit provider's region comes from
    if stack_config is not None:
        for key in _CONFIG_REGION_KEYS:
            value = _get(stack_config, key)
            if value is UNKNOWN:
                return None, "unknown", True
            text = _text(value)
            if text:
                return text, "config", False
    return None, "unknown", False


def region_of(
    provider_props: Mapping[str, Any] | None,
    stack_config: Mapping[str, str] | None,
    *,
    explicit_provider: bool = False,
) -> tuple[str | None, RegionSource]:
    """The Alibaba Cloud region a resource is created in, and where that came from.

    The provider's ``region`` property first; else, for a default provider (or none), stack config
    ``alicloud:region``; else ``(None, "unknown")``. An explicit ``alicloud.Provider`` without ``region`` never reads
    the stack config (the engine does not give it to explicit providers): ``(None, "unknown")``, read as mainland.
    An unknown (preview-time) provider region is ``(None, "unknown")`` as well.
    """
    region, source, _ = _region(provider_props, stack_config, explicit_provider)
    return region, source


# ---------------------------------------------------------------------------------------------------------------
# Per-type facts: china_site/data/exposure_types.yaml, compiled once into deciders


@dataclass
class _Ctx:
    """What a decider reads: props, plus the names of deciding values that were unknown."""

    props: Mapping[str, Any]
    unknown: list[str] = field(default_factory=list)

    def value(self, key: str) -> object:
        return _get(self.props, key)

    def text(self, key: str) -> str | None:
        """The property as text; records it as unknown (and returns None) when unknown."""
        value = self.value(key)
        if value is UNKNOWN:
            self.unknown.append(key)
            return None
        return _text(value)

    def leaves(self, path: str, *, flatten_end: bool = True) -> list[object]:
        """The values at a dotted wire path: maps are walked by key, lists item by item (a list at the end too,
        unless ``flatten_end`` is False: it is then returned as one value); absent and null values are left out, so
        ``[]`` means absent. A value of the wrong shape on the way (text where a map is expected) is returned as
        itself: the decider then reads it the stricter way."""
        out: list[object] = []
        _walk(self.props, path.split("."), out, 0, flatten_end)
        return out


_MAX_WALK = 16


_JSON_SUFFIX: Final = "@json"
_MAX_JSON_TEXT: Final = 256 * 1024


class _Unreadable:
    """A value that cannot be read (JSON text that does not parse, or is too long): every decider reads it the
    stricter way (public), as it does any wrong-shaped value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Final = _Unreadable()


def _json_value(value: object) -> object:
    """A ``P@json`` segment: text holding a JSON document (an ACK addon's ``config``, an FC trigger's
    ``triggerConfig``) → the parsed value; a map or list is used as is; unparseable text → :data:`UNREADABLE`."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    if len(value) > _MAX_JSON_TEXT:
        return UNREADABLE
    from china_site.safeio import load_json

    try:
        return load_json(value)  # a number too long or nesting too deep (ValueErrors too) is unreadable
    except ValueError:
        return UNREADABLE


def _walk(value: object, segments: Sequence[str], out: list[object], depth: int, flatten_end: bool = True) -> None:
    if depth > _MAX_WALK:
        out.append(UNKNOWN)
        return
    if isinstance(value, list | tuple) and (segments or flatten_end):
        for item in value:
            _walk(_reveal(item), segments, out, depth + 1, flatten_end)
        return
    if not segments:
        if value is not None:
            out.append(value)
        return
    if value is UNKNOWN:
        out.append(UNKNOWN)
        return
    if isinstance(value, Mapping):
        key = segments[0]
        child = _get(value, key.removesuffix(_JSON_SUFFIX))
        if key.endswith(_JSON_SUFFIX) and child is not UNKNOWN:
            child = _json_value(child)
        _walk(child, segments[1:], out, depth + 1, flatten_end)
        return
    if value is not None:
        out.append(value)  # the wrong shape: a scalar where a map is expected


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
Decider = Callable[[_Ctx], bool]
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


def _number(value: object) -> float | None:
    """A finite-or-infinite float from an int/float/numeric string; None when unparseable (bool is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(result) else result


def _flag(value: object) -> bool | None:
    """A boolean from a bool or a "true"/"false" string; None when absent or unparseable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def _unknown_in(ctx: _Ctx, path: str, leaves: Sequence[object]) -> bool:
    if any(leaf is UNKNOWN for leaf in leaves):
        ctx.unknown.append(path)
        return True
    return False


def _absent(leaves: Sequence[object]) -> bool:
    """No value, or only empty text (an empty string is how the engine shows an unset optional string)."""
    return all(isinstance(leaf, str) and not leaf.strip() for leaf in leaves)


def _always(_ctx: _Ctx) -> bool:
    return True


def _never(_ctx: _Ctx) -> bool:
    return False


def _on_leaves(path: str, judge: Callable[[Sequence[object]], bool], absent: bool | None = None) -> Decider:
    """A decider reading ``path``: an unknown leaf decides public (noted in ``ctx.unknown``); with ``absent`` given,
    no value decides ``absent``; otherwise ``judge`` decides from the leaves."""

    def decide(ctx: _Ctx) -> bool:
        leaves = ctx.leaves(path)
        if _unknown_in(ctx, path, leaves):
            return True
        if absent is not None and _absent(leaves):
            return absent
        return judge(leaves)

    return decide


def _bandwidth(path: str) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        for leaf in leaves:
            number = _number(leaf)
            if number is None or number > 0:  # unparseable or wrong-typed: the stricter reading
                return True
        return False

    return _on_leaves(path, judge)


def _bool(path: str, absent: bool) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        return any(_flag(leaf) is not False for leaf in leaves)  # unparseable: the stricter reading

    return _on_leaves(path, judge, absent)


def _values(path: str, private: frozenset[str] | None, public: frozenset[str] | None, absent: bool) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        for leaf in leaves:
            text = _text(leaf)
            if text is None:
                if isinstance(leaf, str):
                    continue  # an empty item
                return True  # a number, list or map where text is expected: the stricter reading
            lowered = text.lower()
            if public is not None:
                if lowered in public:
                    return True
            elif private is not None and lowered not in private:
                return True  # any other text, recognised or not: the stricter reading
        return False

    return _on_leaves(path, judge, absent)


def _filled(leaf: object) -> bool:
    """A value that counts as given: non-empty text, a non-empty map, or any other value (a number or a boolean
    where text is expected is read the stricter way)."""
    if isinstance(leaf, str):
        return bool(leaf.strip())
    if isinstance(leaf, Mapping):
        return bool(leaf)
    return True


def _present(path: str) -> Decider:
    return _on_leaves(path, lambda leaves: any(_filled(leaf) for leaf in leaves))


def _output(path: str) -> Decider:
    """An output (known only after deploy): a non-empty text decides; unknown at preview does not."""

    def decide(ctx: _Ctx) -> bool:
        return any(isinstance(leaf, str) and _text(leaf) is not None for leaf in ctx.leaves(path))

    return decide


def _anonymous_principal(principal: object) -> bool:
    principal = _reveal(principal)
    if isinstance(principal, str):
        return principal.strip() == "*"
    if isinstance(principal, list | tuple):
        return any(_anonymous_principal(p) for p in principal)
    if isinstance(principal, Mapping):
        return any(_anonymous_principal(p) for p in principal.values())
    return principal is not None  # an unreadable principal: the stricter reading


_RESTRICTING_OPERATORS: Final = frozenset({"stringequals", "stringlike", "stringequalsignorecase"})


def _restricted(statement: Mapping[str, Any], private_conditions: frozenset[str]) -> bool:
    """The statement's Condition limits it to a VPC (``StringEquals``/``StringLike`` on one of
    ``private_conditions``, e.g. ``acs:SourceVpc``): anonymous, but not from the internet."""
    condition = _reveal(statement.get("Condition"))
    if not private_conditions or not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        tests = _reveal(tests)
        if str(operator).lower() not in _RESTRICTING_OPERATORS or not isinstance(tests, Mapping):
            continue
        for key, value in tests.items():
            value = _reveal(value)
            values = value if isinstance(value, list | tuple) else [value]
            if str(key).lower() in private_conditions and values and all(_text(v) for v in values):
                return True
    return False


def _policy_public(document: object, private_conditions: frozenset[str] = frozenset()) -> bool:
    """An OSS policy document grants anonymous access: a statement with Effect Allow and Principal ``*``, unless
    its Condition restricts it to a VPC (one of ``private_conditions``)."""
    if isinstance(document, str):
        if not document.strip():
            return False
        from china_site.safeio import load_json

        try:
            document = load_json(document)
        except ValueError:  # malformed, a number too long, nested too deep (NestingError is a ValueError)
            return True  # unparseable: the stricter reading
    if not isinstance(document, Mapping):
        return True
    statements = _reveal(document.get("Statement"))
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list | tuple):
        return statements is not None
    for statement in statements:
        statement = _reveal(statement)
        if not isinstance(statement, Mapping):
            return True
        effect = _text(_reveal(statement.get("Effect")))
        if effect is not None and effect.lower() == "deny":
            continue
        if _anonymous_principal(statement.get("Principal")) and not _restricted(statement, private_conditions):
            return True
    return False


def _bucket_policy(path: str, private_conditions: frozenset[str] = frozenset()) -> Decider:
    return _on_leaves(path, lambda leaves: any(_policy_public(leaf, private_conditions) for leaf in leaves))


def _combined(kind: str, deciders: Sequence[Decider]) -> Decider:
    def combined(ctx: _Ctx) -> bool:
        results = [decide(ctx) for decide in deciders]  # every one runs: each lists its unknowns
        return any(results) if kind == "any" else all(results)

    return combined


def _suppressed_unless(path: str, listed: frozenset[str] | None) -> Decider:
    """``{not: {flag: P}}`` / ``{not: {values: P, public: [..]}}``: a suppressor (``disabled: true``,
    ``disableURLInternet: true``). Public unless P is *known* to suppress: true, or one of the listed values, in
    every value found. An unknown value keeps the exposure and is listed; an absent or unparseable one keeps it too
    (the stricter reading: only a readable suppressor suppresses)."""

    def suppresses(leaf: object) -> bool:
        if listed is None:
            return _flag(leaf) is True
        text = _text(leaf)
        return text is not None and text.lower() in listed

    def decide(ctx: _Ctx) -> bool:
        leaves = ctx.leaves(path)
        if _unknown_in(ctx, path, leaves):
            return True
        return not (leaves and all(suppresses(leaf) for leaf in leaves))

    return decide


def _each(path: str, inner: Decider) -> Decider:
    """``{each: P, then: D}``: public when D, run on one item of the list (or map) at P, is public — e.g. the
    addons of an ACK cluster, each judged by its own name, ``disabled`` flag and JSON ``config``. An unknown item
    is public (the stricter reading); an item that is not a map is the wrong shape (public)."""

    def each(ctx: _Ctx) -> bool:
        public = False
        for item in ctx.leaves(path):
            if item is UNKNOWN:
                ctx.unknown.append(path)
                public = True
                continue
            if not isinstance(item, Mapping):
                public = True
                continue
            sub = _Ctx(item)
            if inner(sub):
                public = True
            ctx.unknown.extend(f"{path}.{name}" for name in sub.unknown)
        return public

    return each


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


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _domains(ctx: _Ctx, paths: Sequence[str], required: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(host names, unreadable property paths) from the first domain path that has a value."""
    for path in paths:
        # A list is a host name list only where the data says so (``values[]``); elsewhere it is the wrong type.
        listed = path.endswith("[]")
        path = path.removesuffix("[]")
        leaves = ctx.leaves(path, flatten_end=listed)
        if not leaves or _absent(leaves):
            continue
        if _unknown_in(ctx, path, leaves):
            return (), ()  # known at update: checked again then
        hosts = [text for text in (_text(leaf) for leaf in leaves) if text]
        wrong = [leaf for leaf in leaves if not isinstance(leaf, str)]
        if required and (wrong or any(_is_ip(h) for h in hosts)):
            return tuple(h for h in hosts if not _is_ip(h)), (path,)
        return tuple(hosts), ()
    return (), (paths[0].removesuffix("[]"),) if required and paths else ()


_SCOPE_AREA: Final[Mapping[str, Area]] = {"domestic": "mainland", "global": "mainland", "overseas": "overseas"}


_AREA_ORDER: Final[Mapping[str, int]] = {"mainland": 0, "hongkong": 1, "overseas": 2}


def _regions_area(ctx: _Ctx, path: str) -> Area | None:
    """``{regions: P}``: the strictest area among the regions listed at P (a GA accelerator's acceleration regions,
    its IP sets' ``accelerateRegionId``): mainland when any is, or when one is unknown; None when none is given."""
    leaves = ctx.leaves(path)
    if _unknown_in(ctx, path, leaves):
        return "mainland"
    areas: list[Area] = []
    for leaf in leaves:
        text = _text(leaf)
        if text is None:
            if isinstance(leaf, str):
                continue
            return "mainland"  # the wrong shape: the stricter reading
        areas.append(_classify(text)[0])
    return min(areas, key=lambda a: _AREA_ORDER.get(a or "mainland", 0)) if areas else None


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

# ---------------------------------------------------------------------------------------------------------------
# Tags


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


# ---------------------------------------------------------------------------------------------------------------
# One resource


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


# ---------------------------------------------------------------------------------------------------------------
# DNS records and the stack-level graph

_DNS_TYPES: Final = frozenset({"alicloud:dns/alidnsRecord:AlidnsRecord", "alicloud:dns/record:Record"})
_LINKED_RECORD_TYPES: Final = frozenset({"A", "AAAA", "CNAME"})


@dataclass(frozen=True)
class DnsLink:
    """A DNS record that can tie a host name to a resource: ``value`` is None when unknown at preview."""

    fqdn: str
    record_type: Literal["A", "AAAA", "CNAME"]
    value: str | None


def _norm_value(value: str, record_type: str) -> str:
    text = value.strip().rstrip(".").lower()
    if record_type in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(text).compressed
        except ValueError:
            return text
    return text


def dns_link(props: Mapping[str, Any], *, type_token: str | None = None) -> DnsLink | None:
    """The link an Alibaba Cloud DNS record makes (A/AAAA/CNAME), or None.

    ``alicloud:dns/alidnsRecord:AlidnsRecord`` (``domainName``, ``rr``, ``type``, ``value``) and the older
    ``alicloud:dns/record:Record`` (``name``, ``hostRecord``, ``type``, ``value``); without ``type_token`` the shape
    is recognised by its keys. ``rr`` ``@`` (or empty) is the apex. A record whose name is unknown links nothing.
    """
    if not isinstance(props, Mapping):
        return None
    if type_token == "alicloud:dns/record:Record" or (
        type_token is None and "hostRecord" in props and "domainName" not in props
    ):
        zone_key, rr_key, token = "name", "hostRecord", "alicloud:dns/record:Record"
    else:
        zone_key, rr_key, token = "domainName", "rr", "alicloud:dns/alidnsRecord:AlidnsRecord"
    from china_site.exposure_stack import record_disabled

    if record_disabled(type_token or token, props):
        return None  # a disabled record resolves nothing
    record_type = _text(_get(props, "type"))
    if record_type is None or record_type.upper() not in _LINKED_RECORD_TYPES:
        return None
    record_type = record_type.upper()
    zone = _get(props, zone_key)
    rr = _get(props, rr_key)
    if zone is UNKNOWN or rr is UNKNOWN:
        return None
    zone_text = _text(zone)
    if zone_text is None:
        return None
    zone_text = zone_text.rstrip(".")
    rr_text = _text(rr) or "@"
    fqdn = _clean_host(zone_text if rr_text == "@" else f"{rr_text.rstrip('.')}.{zone_text}")
    if not fqdn:
        return None
    value = _get(props, "value")
    if value is UNKNOWN:
        return DnsLink(fqdn=fqdn, record_type=record_type, value=None)  # type: ignore[arg-type]
    value_text = _text(value)
    if value_text is None:
        return None
    return DnsLink(fqdn=fqdn, record_type=record_type, value=_norm_value(value_text, record_type))  # type: ignore[arg-type]


@dataclass
class ResourceView:
    """One resource of a stack as an adapter sees it: wire-named inputs (``props``) and, after deploy, outputs.

    ``dependencies`` / ``property_dependencies`` (URNs) let a record whose value is unknown at preview still be
    linked to the resource its value comes from.
    """

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    provider_props: Mapping[str, Any] | None
    outputs: Mapping[str, Any] | None = None
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] | None = None
    explicit_provider: bool = False  # managed by an explicit alicloud.Provider (see is_default_provider)


def view_exposure(
    view: ResourceView, props: Mapping[str, Any], stack_config: Mapping[str, str] | None
) -> Exposure | None:
    """:func:`exposure_from_resource` for one resource of a stack, read with ``props`` (usually its merged props)."""
    return exposure_from_resource(
        view.type,
        props,
        name=view.name,
        provider_props=view.provider_props,
        stack_config=stack_config,
        explicit_provider=view.explicit_provider,
    )


def _merged(view: ResourceView) -> Mapping[str, Any]:
    """Inputs overlaid with known outputs (outputs are where addresses live after deploy)."""
    merged = _plain(view.props) if isinstance(view.props, Mapping) else {}
    if view.outputs is view.props and type(merged) is dict and type(view.props) is dict:
        return merged  # overlaying a plain dict with itself changes nothing
    if isinstance(view.outputs, Mapping):
        for key, value in _plain(view.outputs).items():
            if key not in merged or not is_unknown(_reveal(value)):
                merged[key] = value
    return merged


def _known_texts(view: ResourceView, keys: Sequence[str]) -> list[str]:
    out: list[str] = []
    for source in (view.props, view.outputs):
        if not isinstance(source, Mapping):
            continue
        for key in keys:
            text = _text(_get(source, key))
            if text and not is_unknown(text):
                out.append(text)
    return out


def _oss_endpoints(view: ResourceView, merged: Mapping[str, Any], stack_config: Mapping[str, str] | None) -> list[str]:
    """``<bucket>.oss-<region>.aliyuncs.com`` (and ``<bucket>.<extranetEndpoint>``) for a bucket."""
    bucket = _text(_get(merged, "bucket"))
    if not bucket or is_unknown(bucket):
        return []
    hosts: list[str] = []
    endpoint = _text(_get(merged, "extranetEndpoint"))
    if endpoint and not is_unknown(endpoint):
        hosts.append(f"{bucket}.{endpoint}")
    region, _, _ = _region(view.provider_props, stack_config, view.explicit_provider)
    location = _text(_get(merged, "location"))
    if region is None and location and location.startswith("oss-"):
        region = location[4:]
    if region:
        hosts.append(f"{bucket}.oss-{region}.aliyuncs.com")
    return hosts


_OSS_BUCKET: Final = "alicloud:oss/bucket:Bucket"


def link_stack(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, Exposure]]:
    """Exposures found through DNS: each resource an A/AAAA or CNAME record points at, with the record's FQDN(s).

    Only linked resources are returned (one entry per resource, all its linked names merged after the names it
    shows alone); what a resource shows alone is :func:`exposure_from_resource`'s job. A record whose value is
    unknown at preview links to the covered resources its ``value`` depends on. Resources that are not public
    (an intranet load balancer) are left out, except an OSS bucket: a name pointed at its endpoint is meant to
    serve it.
    """
    address_index: dict[str, list[int]] = {}
    cname_index: dict[str, list[int]] = {}
    merged_props: dict[int, Mapping[str, Any]] = {}
    by_urn: dict[str, int] = {}
    for index, view in enumerate(resources):
        spec = RESOURCE_TYPES.get(view.type)
        if spec is None:
            continue
        if isinstance(view.urn, str):
            by_urn[view.urn] = index
        merged = _merged(view)
        merged_props[index] = merged
        for text in _known_texts(view, spec.addresses):
            address_index.setdefault(_norm_value(text, "A"), []).append(index)
        cnames = _known_texts(view, spec.cnames)
        if view.type == _OSS_BUCKET:
            cnames += _oss_endpoints(view, merged, stack_config)
        for text in cnames:
            cname_index.setdefault(_norm_value(text, "CNAME"), []).append(index)

    linked: dict[int, list[str]] = {}
    for index, view in enumerate(resources):
        if view.type not in _DNS_TYPES:
            continue
        known = merged_props.get(index)
        link = dns_link(_merged(view) if known is None else known, type_token=view.type)
        if link is None:
            continue
        targets: Iterable[int]
        if link.value is not None:
            index_for = cname_index if link.record_type == "CNAME" else address_index
            targets = index_for.get(link.value, ())
        else:
            targets = _dependency_targets(view, resources, by_urn, link.record_type)
        for target in dict.fromkeys(targets):
            names = linked.setdefault(target, [])
            if link.fqdn not in names:
                names.append(link.fqdn)

    out: list[tuple[ResourceView, Exposure]] = []
    for index, names in linked.items():
        view = resources[index]
        exposure = view_exposure(view, merged_props[index], stack_config)
        if exposure is None:
            continue
        if not exposure.public:
            if view.type != _OSS_BUCKET:
                continue
            exposure = replace(exposure, public=True)
        out.append((view, replace(exposure, domains=_dedupe([*exposure.domains, *names]))))
    return out


def _dependency_targets(
    record: ResourceView, resources: Sequence[ResourceView], by_urn: Mapping[str, int], record_type: str
) -> list[int]:
    """Covered resources a record's unknown ``value`` comes from (its property dependencies, else dependencies)."""
    urns: Sequence[str] = ()
    deps = record.property_dependencies
    if isinstance(deps, Mapping):
        value_deps = deps.get("value")
        if isinstance(value_deps, Sequence) and not isinstance(value_deps, str):
            urns = value_deps
    if not urns and isinstance(record.dependencies, Sequence) and not isinstance(record.dependencies, str):
        urns = record.dependencies
    out: list[int] = []
    for urn in urns:
        index = by_urn.get(urn) if isinstance(urn, str) else None
        if index is None:
            continue
        spec = RESOURCE_TYPES[resources[index].type]
        can_target = spec.cnames or resources[index].type == _OSS_BUCKET
        if (record_type == "CNAME" and can_target) or (record_type != "CNAME" and spec.addresses):
            out.append(index)
    return out


_BUCKET_LINKERS: Final = frozenset({"alicloud:oss/bucketAcl:BucketAcl", "alicloud:oss/bucketPolicy:BucketPolicy"})


def link_buckets(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, ResourceView, Exposure]]:
    """Buckets of the stack made public by another resource (``oss.BucketAcl`` public-read, ``oss.BucketPolicy``
    granting anonymous access): ``(linker, bucket, exposure)``, the exposure being the **bucket's** (its tags, its
    region) made public — judged exactly as ``acl: public-read`` on the bucket itself would be.

    The linker names the bucket by its ``bucket`` name; a linker whose bucket is not in the stack links nothing (it
    is reported alone, as a public bucket with no domain tied to it).
    """
    buckets: dict[str, list[int]] = {}
    for index, view in enumerate(resources):
        if view.type != _OSS_BUCKET:
            continue
        name = _text(_get(_merged(view), "bucket"))
        if name and not is_unknown(name):
            buckets.setdefault(name, []).append(index)
    if not buckets:
        return []
    out: list[tuple[ResourceView, ResourceView, Exposure]] = []
    from china_site.exposure_stack import suppressor_of

    for view in resources:
        if view.type not in _BUCKET_LINKERS:
            continue
        merged = _merged(view)
        linker = view_exposure(view, merged, stack_config)
        if linker is None or not linker.public or suppressor_of(view, resources, stack_config) is not None:
            continue
        name = _text(_get(merged, "bucket"))
        for index in buckets.get(name or "", ()):
            bucket = resources[index]
            exposure = view_exposure(bucket, _merged(bucket), stack_config)
            if exposure is not None:
                unknown = tuple(dict.fromkeys((*exposure.unknown, *linker.unknown)))
                out.append((view, bucket, replace(exposure, public=True, unknown=unknown)))
    return out


_EIP_TYPES: Final = frozenset({"alicloud:ecs/eipAddress:EipAddress", "alicloud:ecs/eip:Eip"})
EIP_ASSOCIATION: Final = "alicloud:ecs/eipAssociation:EipAssociation"


def link_eip_associations(
    resources: Sequence[ResourceView], stack_config: Mapping[str, str] | None = None
) -> list[tuple[ResourceView, ResourceView, Exposure]]:
    """Resources of the stack that an ``ecs.EipAssociation`` (or another linker of the data's ``stack.links``: a
    ``vpc.Ipv6InternetBandwidth``) gives a public IP: ``(association, target, exposure)``,
    the exposure being the **target's** (its tags: domain, payments; its region) made public.

    The association is not an exposure of its own (its EIP is, and is reported once); what it adds is the tie
    between the EIP and the instance whose tags name the site. The target is found through the association's
    ``instanceId`` property dependency (the engine records it, at preview as after deploy).
    """
    from china_site.exposure_stack import links

    linkers = links()
    by_urn = {view.urn: view for view in resources if isinstance(view.urn, str)}
    out: list[tuple[ResourceView, ResourceView, Exposure]] = []
    for view in resources:
        via = linkers.get(view.type)
        if via is None or not isinstance(view.property_dependencies, Mapping):
            continue
        urns = view.property_dependencies.get(via) or ()
        if isinstance(urns, str):
            continue
        for urn in dict.fromkeys(urns):
            target = by_urn.get(urn) if isinstance(urn, str) else None
            if target is None or target.type in _EIP_TYPES:
                continue
            exposure = view_exposure(target, _merged(target), stack_config)
            if exposure is None:
                from china_site.exposure_stack import tie_exposure

                exposure = tie_exposure(target, stack_config)  # a network interface: its own tags
            if exposure is not None:
                out.append((view, target, replace(exposure, public=True)))
    return out
