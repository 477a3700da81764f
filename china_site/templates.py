"""Template-driven types (``ros.Stack``, ``ros.StackGroup``, …) → the resources their template creates, judged with
the same exposure data. Pure: no Pulumi imports.

A ROS template (JSON or YAML, ``templateBody``) lists ``Resources`` of ``ALIYUN::*`` types. The data file's
``templates`` section maps each ROS type to a pulumi-alicloud type (its properties are PascalCase: ``AddressType`` →
``addressType``, with renames where the names differ) and names the template types. ``Ref`` to a template parameter
is resolved from the stack's ``parameters``, else the parameter's ``Default``; anything else (``Fn::GetAtt``, a
``Ref`` to a resource or an unknown parameter, ``!Sub`` …) is unknown — read the stricter way by every decider.

What cannot be read never passes: a template only at a URL, one that does not parse, is too large or too deep, or a
type whose template lives elsewhere (a stack instance's group) is **unreadable**; an ``ALIYUN::*`` type the table
does not know is **unmapped**. Both are reported by ``unreviewed-exposure`` / ``unreviewed-type``
(:mod:`china_site.unreviewed`); the mapped resources make the template type's own exposure (``icp-filing-required``
and the other rules, as for any exposing type).

Parsing is bounded: at most :data:`MAX_TEMPLATE` characters (ROS's own limit is 512 KiB), YAML with the safe loader,
a node budget for aliases (no "billion laughs"), ROS short-form tags (``!Ref``, ``!GetAtt``) read as their long form.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "MAX_TEMPLATE",
    "Template",
    "TemplateResource",
    "is_template_type",
    "read_template",
    "template_types",
]

MAX_TEMPLATE: Final = 524_288
_MAX_NODES: Final = 200_000
_MAX_DEPTH: Final = 40
_MAX_RESOURCES: Final = 2_000


@dataclass(frozen=True)
class TemplateResource:
    """One resource of a template: its logical id, ROS type, the pulumi-alicloud type it maps to (None: unmapped),
    and its properties under the pulumi wire names (intrinsic functions resolved, or UNKNOWN)."""

    logical_id: str
    ros_type: str
    token: str | None
    props: Mapping[str, Any]
    reviewed: bool = False  # a ROS type reviewed as not exposing anything


@dataclass(frozen=True)
class Template:
    """What a template type creates, or why that cannot be read (``unreadable``: a reason, in words)."""

    resources: tuple[TemplateResource, ...] = ()
    unreadable: str | None = None
    unknown: tuple[str, ...] = field(default=())  # template properties unknown at preview (e.g. templateBody)

    @property
    def unmapped(self) -> tuple[TemplateResource, ...]:
        return tuple(r for r in self.resources if r.token is None and not r.reviewed)


class TemplateDataError(ValueError):
    """``data/exposure_types.yaml``'s ``templates`` section cannot be read (a bad edit)."""


@dataclass(frozen=True)
class _TypeSpec:
    body: str | None
    url: tuple[str, ...]
    parameters: str | None
    opaque: str | None  # why its template cannot be read here (it lives elsewhere)
    region: str | None  # a region property (where the template's resources are created)


@dataclass(frozen=True)
class _RosSpec:
    token: str
    rename: Mapping[str, str] = field(default_factory=dict)
    deep: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Tables:
    types: Mapping[str, _TypeSpec]
    ros: Mapping[str, _RosSpec]
    reviewed: frozenset[str]
    reviewed_prefixes: tuple[str, ...]


@functools.cache
def _tables() -> _Tables:
    from china_site.exposure_data import _exposing_head

    spec = _exposing_head().get("templates")
    where = "china_site/data/exposure_types.yaml: templates"
    if not isinstance(spec, Mapping) or not isinstance(spec.get("types"), Mapping):
        raise TemplateDataError(f"{where}.types is missing")
    types: dict[str, _TypeSpec] = {}
    for token, entry in spec["types"].items():
        if not isinstance(entry, Mapping):
            raise TemplateDataError(f"{where}.types.{token}: expected a map")
        url = entry.get("url") or []
        types[str(token)] = _TypeSpec(
            body=_opt(entry.get("body")),
            url=tuple(str(u) for u in (url if isinstance(url, list) else [url])),
            parameters=_opt(entry.get("parameters")),
            opaque=_opt(entry.get("opaque")),
            region=_opt(entry.get("region")),
        )
    ros: dict[str, _RosSpec] = {}
    for ros_type, entry in (spec.get("ros") or {}).items():
        if isinstance(entry, str):
            ros[str(ros_type)] = _RosSpec(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("type"), str):
            rename, deep, defaults = entry.get("rename") or {}, entry.get("deep") or [], entry.get("defaults") or {}
            if not isinstance(rename, Mapping) or not isinstance(deep, list) or not isinstance(defaults, Mapping):
                raise TemplateDataError(f"{where}.ros.{ros_type}: rename and defaults are maps, deep a list")
            ros[str(ros_type)] = _RosSpec(
                entry["type"],
                {str(k): str(v) for k, v in rename.items()},
                frozenset(str(d) for d in deep),
                dict(defaults),
            )
        else:
            raise TemplateDataError(f"{where}.ros.{ros_type}: a pulumi-alicloud type, or {{type, rename}}")
    reviewed = [str(r) for r in spec.get("reviewed") or []]
    return _Tables(
        types,
        ros,
        frozenset(r for r in reviewed if not r.endswith("*")),
        tuple(r[:-1] for r in reviewed if r.endswith("*")),
    )


def _opt(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def template_types() -> frozenset[str]:
    """The pulumi-alicloud types that create resources from a template or blueprint."""
    return frozenset(_tables().types)


def is_template_type(type_token: str) -> bool:
    return type_token in _tables().types


def template_region_property(type_token: str) -> str | None:
    spec = _tables().types.get(type_token)
    return spec.region if spec is not None else None


# ---------------------------------------------------------------------------------------------------------------
# Parsing (bounded)


class _TooLarge(ValueError):
    pass


def _yaml_loader() -> type:
    import yaml

    # The pure-Python safe loader, not libyaml's: a template is outside input, and libyaml composes nested flow
    # collections by C recursion — 50,000 ``[`` crashed the process (a segfault with PyYAML 6.0.3, found by the suite
    # on the lowest allowed versions); Python's composer raises RecursionError instead, which _parse turns into a
    # finding. Templates are at most 512 KiB, so the slower loader costs little.
    base = yaml.SafeLoader

    class RosLoader(base):  # type: ignore[misc, valid-type]
        """The safe loader, reading ROS short-form tags (``!Ref X`` → ``{"Ref": X}``, ``!GetAtt`` →
        ``{"Fn::GetAtt": …}``)."""

    def short_form(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}

    RosLoader.add_multi_constructor("!", short_form)
    return RosLoader


def _count_nodes(node: Any) -> None:
    """Walk the composed YAML graph as construction would (aliases expanded each time they are used), raising
    :class:`_TooLarge` past the node or depth budget."""
    budget = [_MAX_NODES]
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        budget[0] -= 1
        if budget[0] < 0 or depth > _MAX_DEPTH:
            raise _TooLarge("too many nodes or too deep (YAML aliases are expanded when read)")
        value = getattr(current, "value", None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, tuple):
                    stack.extend((part, depth + 1) for part in item)
                else:
                    stack.append((item, depth + 1))


def _parse(body: str) -> Any:
    if len(body) > MAX_TEMPLATE:
        raise _TooLarge(f"longer than {MAX_TEMPLATE} characters (ROS's own limit)")
    text = body.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise _TooLarge("nested too deep") from exc
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count_nodes(node)
        return loader.construct_document(node)
    except RecursionError as exc:
        raise _TooLarge("nested too deep") from exc
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Reading a template type's resources


def read_template(type_token: str, props: Mapping[str, Any]) -> Template | None:
    """What ``type_token`` (a template type) creates, read from its wire inputs; None for any other type."""
    from china_site.exposure import UNKNOWN
    from china_site.exposure_values import _get, _text

    spec = _tables().types.get(type_token)
    if spec is None:
        return None
    if spec.opaque is not None:
        return Template(unreadable=spec.opaque)
    body = _get(props, spec.body) if spec.body else None
    if body is UNKNOWN:
        return Template(unreadable=f"its {spec.body} is not known until it is created", unknown=(str(spec.body),))
    text = _text(body)
    if text is None:
        urls = [u for u in spec.url if _get(props, u) not in (None, "")]
        if urls:
            return Template(unreadable=f"its template is only at a URL ({urls[0]}), which the pack does not fetch")
        return Template(unreadable=f"it has no {spec.body or 'template body'}")
    try:
        document = _parse(text)
    except _TooLarge as exc:
        return Template(unreadable=f"its {spec.body} is {exc}")
    except Exception as exc:  # a YAML/JSON error: the template cannot be read (never a traceback)
        return Template(unreadable=f"its {spec.body} does not parse as ROS JSON/YAML ({type(exc).__name__})")
    if not isinstance(document, Mapping):
        return Template(unreadable=f"its {spec.body} is not a ROS template (no Resources map)")
    resources = document.get("Resources")
    if resources is None:
        return Template()
    if not isinstance(resources, Mapping) or len(resources) > _MAX_RESOURCES:
        return Template(unreadable=f"its {spec.body} has an unreadable Resources section")
    values = _parameters(document, _get(props, spec.parameters) if spec.parameters else None)
    tables = _tables()
    out: list[TemplateResource] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            return Template(unreadable=f"resource {logical_id} of its template has no Type")
        ros_type = resource["Type"]
        raw = resource.get("Properties") or {}
        resolved = _resolve(raw, values, 0)
        mapped = tables.ros.get(ros_type)
        reviewed = ros_type in tables.reviewed or any(ros_type.startswith(p) for p in tables.reviewed_prefixes)
        if mapped is None:
            props_out = resolved if isinstance(resolved, Mapping) else {}
            out.append(TemplateResource(str(logical_id), ros_type, None, props_out, reviewed=reviewed))
            continue
        if not isinstance(resolved, Mapping):
            return Template(unreadable=f"the Properties of resource {logical_id} of its template are not a map")
        wire = {**mapped.defaults, **_wire(resolved, mapped)}
        out.append(TemplateResource(str(logical_id), ros_type, mapped.token, wire))
    return Template(resources=tuple(out))


def _parameters(document: Mapping[str, Any], given: object) -> dict[str, object]:
    """Parameter name → value: the stack's ``parameters`` ({parameterKey, parameterValue}), else the template's
    ``Default``; a parameter with neither is absent (a ``Ref`` to it is then unknown)."""
    from china_site.exposure import UNKNOWN
    from china_site.exposure_values import _get

    values: dict[str, object] = {}
    declared = document.get("Parameters")
    if isinstance(declared, Mapping):
        for name, spec in declared.items():
            if isinstance(spec, Mapping) and "Default" in spec:
                values[str(name)] = spec["Default"]
    if given is UNKNOWN:
        return dict.fromkeys(values, UNKNOWN)
    if isinstance(given, Sequence) and not isinstance(given, str):
        for item in given:
            if not isinstance(item, Mapping):
                continue
            key = _get(item, "parameterKey")
            if isinstance(key, str) and key:
                values[key] = _get(item, "parameterValue")
    return values


def _resolve(value: object, parameters: Mapping[str, object], depth: int) -> object:
    """Template values with ``Ref`` to parameters resolved; any other intrinsic function → UNKNOWN."""
    from china_site.exposure import UNKNOWN

    if depth > _MAX_DEPTH:
        return UNKNOWN
    if isinstance(value, Mapping):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if isinstance(arg, str) and arg in parameters:
                    return parameters[arg]
                return UNKNOWN  # a resource, a pseudo parameter (ALIYUN::Region) or an unknown parameter
            if isinstance(key, str) and key.startswith("Fn::"):
                return UNKNOWN
        return {str(k): _resolve(v, parameters, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters, depth + 1) for v in value]
    return value


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


def _wire(props: Mapping[str, Any], spec: _RosSpec) -> dict[str, Any]:
    """ROS PascalCase properties → pulumi wire names (renamed by the table, else camelCased; nested keys only for
    the table's ``deep`` properties); ROS ``Tags`` lists of ``{Key, Value}`` → a tags map."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        key = str(key)
        name = spec.rename.get(key, _camel(key))
        if key == "Tags" and isinstance(value, list):
            value = {
                str(t.get("Key")): t.get("Value")
                for t in value
                if isinstance(t, Mapping) and isinstance(t.get("Key"), str)
            }
            out[name] = value
            continue
        out[name] = _camel_deep(value, 0) if key in spec.deep else value
    return out


def _camel_deep(value: object, depth: int) -> object:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {_camel(str(k)): _camel_deep(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_deep(v, depth + 1) for v in value]
    return value
