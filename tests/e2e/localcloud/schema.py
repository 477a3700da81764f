"""What the real ``alicloud`` provider accepts as inputs, derived from the installed ``pulumi_alicloud`` Python SDK.

The SDK is generated from the provider's Pulumi schema, so it carries, per resource type token:

- the input properties: the ``<Resource>Args`` input type, whose property getters carry the wire (camelCase) names
  (``pulumi._types.input_type_py_to_pulumi_names``), and the nested input types through their type annotations;
- the required inputs: the parameters of ``<Resource>Args.__init__`` without a default (also nested ``...Args``);
- all properties, outputs included: the ``_<Resource>State`` input type (what ``Resource.get`` accepts). A
  property of the state that is not an input is computed-only at the top level.

Nested computed-only fields are not visible in the SDK (a nested type is one type for inputs and outputs), so they
are an explicit table, :data:`NESTED_COMPUTED_ONLY`, each entry with its source in the Terraform provider the
Pulumi provider bridges.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib
import inspect
import json
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "alicloud"

# Nested fields the Terraform schema declares ``Computed: true`` without ``Optional``: setting one is rejected by the
# real provider's Check ("computed attributes cannot be set"). Keyed by type token, then by the wire path of the
# nested object (list/object nesting collapsed, as the CheckFailure property path names it).
NESTED_COMPUTED_ONLY: dict[str, dict[str, frozenset[str]]] = {
    # aliyun/terraform-provider-alicloud, alicloud/resource_alicloud_oss_bucket_cname.go, "certificate" block:
    # status, creation_date, valid_end_date, type, fingerprint, valid_start_date are Computed only.
    "alicloud:oss/bucketCname:BucketCname": {
        "certificate": frozenset(
            {"status", "creationDate", "validEndDate", "type", "fingerprint", "validStartDate"},
        ),
    },
}

# Provider configuration keys the engine itself adds to a provider resource's inputs.
ENGINE_PROVIDER_KEYS = frozenset({"version", "pluginDownloadURL"})


@dataclass(frozen=True)
class ObjectSchema:
    """One input object (a resource's Args or a nested ``...Args``): wire names, required ones, nested objects."""

    name: str
    properties: frozenset[str]
    required: frozenset[str]
    nested: dict[str, ObjectSchema] = field(default_factory=dict, compare=False, hash=False)
    python_names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # wire → Python/TF name


@dataclass(frozen=True)
class ResourceSchema:
    token: str
    inputs: ObjectSchema
    all_properties: frozenset[str]  # inputs and outputs (the SDK's _<Resource>State)

    @property
    def computed_only(self) -> frozenset[str]:
        return self.all_properties - self.inputs.properties


@dataclass(frozen=True)
class CheckFailure:
    """One failure as the bridged provider reports it: ``property`` empty, the path inside ``reason``
    (``... Examine values at '<resource name>.<path>'.``); ``path`` is the same path, for tests and the log."""

    path: str
    reason: str
    property: str = ""


class UnknownType(LookupError):
    pass


@functools.cache
def _resource_modules() -> dict[str, tuple[str, str]]:
    """type token → (Python module, class name), from the SDK's own registration table in its ``__init__``."""
    import pulumi_alicloud

    text = Path(pulumi_alicloud.__file__).read_text(encoding="utf-8")
    start = text.index('resource_modules="""') + len('resource_modules="""')
    entries = json.loads(text[start : text.index('"""', start)])
    return {token: (entry["fqn"], cls) for entry in entries for token, cls in entry["classes"].items()}


def sdk_version() -> str:
    """The installed pulumi_alicloud SDK's version: the plugin version its programs ask the engine for."""
    from importlib.metadata import version

    return version("pulumi_alicloud")


def known_types() -> frozenset[str]:
    return frozenset(_resource_modules())


NEWER_TYPES_ENV = "LOCALCLOUD_NEWER_TYPES"


def _newer_type(token: str) -> ResourceSchema | None:
    """A type of a provider release newer than the installed SDK, which the cloud serves as well: the JSON file named
    by ``LOCALCLOUD_NEWER_TYPES`` maps a token to ``{"inputs": [wire names], "required": [wire names]}``. How a
    test stands for a pulumi-alicloud 4.x that brings a type no one has reviewed (unset: only the SDK's types)."""
    import os

    path = os.environ.get(NEWER_TYPES_ENV)
    if not path:
        return None
    entry = json.loads(Path(path).read_text(encoding="utf-8")).get(token)
    if not isinstance(entry, dict):
        return None
    inputs = frozenset(str(n) for n in entry.get("inputs", ()))
    required = frozenset(str(n) for n in entry.get("required", ()))
    schema = ObjectSchema(name=token.rsplit(":", 1)[-1] + "Args", properties=inputs | required, required=required)
    return ResourceSchema(token=token, inputs=schema, all_properties=schema.properties)


@functools.cache
def resource_schema(token: str) -> ResourceSchema:
    try:
        module_name, class_name = _resource_modules()[token]
    except KeyError:
        newer = _newer_type(token)
        if newer is not None:
            return newer
        raise UnknownType(f"unknown resource type {token!r} (not in pulumi_alicloud {sdk_version()})") from None
    module = importlib.import_module(module_name)
    resource_cls = getattr(module, class_name, None)
    if resource_cls is None:  # not re-exported (pulumi_alicloud.config is also the provider's config module)
        file_name = re.sub(r"(?<!^)(?=[A-Z])", "_", token.split(":")[1].split("/")[-1]).lower()
        resource_cls = getattr(importlib.import_module(f"{module_name}.{file_name}"), class_name)
    defining = sys.modules[resource_cls.__module__]
    args_cls = _args_class(defining, class_name)
    state_cls = getattr(defining, f"_{class_name}State", None)
    inputs = object_schema(args_cls)
    everything = frozenset(_wire_names(state_cls).values()) if state_cls is not None else inputs.properties
    return ResourceSchema(token=token, inputs=inputs, all_properties=everything | inputs.properties)


def _args_class(module: Any, class_name: str) -> type:
    """The resource's own Args type: the one its module exports. Codegen renames it ``<Resource>InitArgs`` when a
    nested type already has the name ``<Resource>Args`` (``oss.BucketWebsite`` vs ``Bucket``'s ``website``)."""
    exported = [name for name in getattr(module, "__all__", ()) if name.endswith("Args")]
    for name in (*exported, f"{class_name}InitArgs", f"{class_name}Args"):
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls
    raise UnknownType(f"no Args type for {class_name} in {module.__name__}")


@functools.cache
def provider_schema() -> ObjectSchema:
    import pulumi_alicloud

    return object_schema(pulumi_alicloud.ProviderArgs)


def _wire_names(cls: type) -> dict[str, str]:
    from pulumi import _types

    return _types.input_type_py_to_pulumi_names(cls)


@functools.cache
def object_schema(cls: type) -> ObjectSchema:
    from pulumi import _types

    names = _wire_names(cls)
    signature = inspect.signature(cls.__init__)
    required = frozenset(
        names.get(param, param)
        for param, spec in signature.parameters.items()
        if param not in ("self", "__self__")
        and spec.default is inspect.Parameter.empty
        and spec.kind is inspect.Parameter.KEYWORD_ONLY
    )
    nested: dict[str, ObjectSchema] = {}
    for wire, hint in _types.input_type_types(cls).items():
        inner = _input_class(hint)
        if inner is not None and inner is not cls:
            nested[wire] = object_schema(inner)
    return ObjectSchema(
        name=cls.__name__,
        properties=frozenset(names.values()),
        required=required,
        nested=nested,
        python_names={wire: py for py, wire in names.items()},
    )


def _input_class(hint: Any, depth: int = 0) -> type | None:
    """The nested ``@pulumi.input_type`` class inside an annotation (Sequence[Union[XArgs, Awaitable, Output]] …)."""
    from pulumi import _types

    if depth > 6:
        return None
    if isinstance(hint, type) and _types.is_input_type(hint):
        return hint
    origin = typing.get_origin(hint)
    if origin is None:
        return None
    args = typing.get_args(hint)
    if origin in (collections.abc.Mapping, dict):
        args = args[1:]
    for arg in args:
        found = _input_class(arg, depth + 1)
        if found is not None:
            return found
    return None


def _is_unknown(value: Any) -> bool:
    from .wire import UNKNOWN

    return isinstance(value, str) and value == UNKNOWN


def check_inputs(token: str, news: dict[str, Any], name: str = "") -> list[CheckFailure]:
    """The failures the real provider's Check reports for these inputs (wire names; secrets may be wrapped).

    Messages follow the bridged provider (pulumi-terraform-bridge over the Terraform plugin SDK): Terraform's
    diagnostic, then ``Examine values at '<name>.<path>'.``; a missing top-level input is the bridge's own
    ``Missing required property '<name>'``.
    """
    schema = resource_schema(token)
    failures: list[CheckFailure] = []
    computed = NESTED_COMPUTED_ONLY.get(token, {})
    _check_object(schema.inputs, news, "", "", failures, computed, name, top=schema)
    return failures


def check_provider_config(news: dict[str, Any], name: str = "default") -> list[CheckFailure]:
    schema = provider_schema()
    failures: list[CheckFailure] = []
    for key in sorted(news):
        if key in ENGINE_PROVIDER_KEYS or key.startswith("__"):
            continue
        if key not in schema.properties:
            where = (
                f"Check `pulumi config get {PACKAGE}:{key}`."
                if name.startswith("default")
                else f"Examine values at '{name}.{key}'."
            )
            reason = f"could not validate provider configuration: Invalid or unknown key. {where}"
            failures.append(CheckFailure(key, reason))
    return failures


def _examine(name: str, path: str) -> str:
    return f"Examine values at '{name}.{path}'." if name else f"Examine values at '{path}'."


def _check_object(
    schema: ObjectSchema,
    values: dict[str, Any],
    prefix: str,
    collapsed: str,
    failures: list[CheckFailure],
    computed: dict[str, frozenset[str]],
    name: str,
    *,
    top: ResourceSchema | None = None,
) -> None:
    """``prefix``: the path so far with list indexes (``sources[0].``); ``collapsed``: without them (``sources``),
    the key of :data:`NESTED_COMPUTED_ONLY`."""
    from .wire import unwrap

    for key in sorted(values):
        if key.startswith("__"):  # engine/bridge metadata such as __defaults
            continue
        path = f"{prefix}{key}"
        if key not in schema.properties:
            if top is not None and key in top.computed_only:
                failures.append(CheckFailure(path, f"Computed attribute cannot be set. {_examine(name, path)}"))
            else:
                failures.append(CheckFailure(path, f"Invalid or unknown key. {_examine(name, path)}"))
            continue
        value = unwrap(values[key])
        if key in computed.get(collapsed, frozenset()):
            if value is not None:
                failures.append(CheckFailure(path, f"Computed attribute cannot be set. {_examine(name, path)}"))
            continue
        nested = schema.nested.get(key)
        if nested is None or value is None or _is_unknown(value):
            continue
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            item = unwrap(item)
            if isinstance(item, dict):
                at = f"{path}[{index}]." if index is not None else f"{path}."
                inner = f"{collapsed}.{key}" if collapsed else key
                _check_object(nested, item, at, inner, failures, computed, name)
    for key in sorted(schema.required):
        if unwrap(values.get(key)) is None:
            path = f"{prefix}{key}"
            if top is not None:
                failures.append(CheckFailure(path, f"Missing required property '{key}'"))
            else:
                tf_name = schema.python_names.get(key, key)
                failures.append(
                    CheckFailure(
                        path,
                        f'Missing required argument. The argument "{tf_name}" is required, but no definition was '
                        f"found.. {_examine(name, path)}",
                    )
                )
