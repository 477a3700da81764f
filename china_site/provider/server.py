"""The provider plugin ``pulumi-resource-china-site`` on Pulumi's provider API (``pulumi.provider.experimental``).

- ``china-site:index:Site`` and ``china-site:index:WebBackend``: components, built in this process through Construct
  by the same Python classes a Python program uses (:mod:`china_site.components`); a property left out is read from
  the stack config ``china-site:<property>``.
- ``china-site:index:SiteContent``: a custom resource; Check/Diff/Create/Read/Update/Delete are
  :mod:`china_site.provider.content` (the same sync code as ever). Nothing pickled reaches the state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue, ResourceReference
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    ConstructRequest,
    ConstructResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from china_site.provider import content, ownership
from china_site.provider.content import UNKNOWN, Unknown
from china_site.provider.schema import schema, version

__all__ = ["BACKEND", "SITE", "ChinaSiteProvider", "from_python", "main", "to_python"]

SITE = "china-site:index:Site"
BACKEND = "china-site:index:WebBackend"


# ---------------------------------------------------------------------------------------------------------------------
# PropertyValue <-> plain Python


def to_python(value: PropertyValue) -> Any:
    """A PropertyValue as plain Python (secrets unwrapped, unknowns as :data:`UNKNOWN`, whole numbers as int)."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, str):
        from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

        return UNKNOWN if inner == WIRE_UNKNOWN else inner
    if isinstance(inner, bool) or inner is None:
        return inner
    if isinstance(inner, float):
        return int(inner) if inner.is_integer() else inner
    if isinstance(inner, ResourceReference):
        return inner.urn
    if isinstance(inner, Mapping):
        return {k: to_python(v) for k, v in inner.items()}
    if isinstance(inner, tuple | list):
        return [to_python(v) for v in inner]
    return inner


def from_python(value: Any) -> PropertyValue:
    if isinstance(value, Unknown):
        # The wire's unknown sentinel: PropertyValue.computed() does not marshal (pulumi 3.272's SDK).
        from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

        return PropertyValue(WIRE_UNKNOWN)
    if isinstance(value, PropertyValue):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value)
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(k): from_python(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([from_python(v) for v in value])
    raise TypeError(f"cannot send a {type(value).__name__} to the engine")


def _plain(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: to_python(v) for k, v in props.items()}


def _pv(props: Mapping[str, Any]) -> dict[str, PropertyValue]:
    return {k: from_python(v) for k, v in props.items()}


# ---------------------------------------------------------------------------------------------------------------------
# The provider


class ChinaSiteProvider(Provider):
    """Serves the china-site package (see the module docstring)."""

    def __init__(self) -> None:
        self._schema = json.dumps(schema())

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=self._schema)

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        # No provider settings: a provider change (e.g. from the dynamic provider of a stack deployed before this
        # plugin existed) never replaces the resources it serves.
        return DiffResponse(changes=False)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        # No output values: pulumi 3.272's PropertyValue.unmarshal fails on them (an output value without a secret
        # field, or an unknown one without a value); plain values plus inputDependencies carry the same.
        return ConfigureResponse(
            accept_secrets=True, supports_preview=True, accept_resources=True, accept_outputs=False
        )

    # -- Custom resources: SiteContent, DomainVerifyContent, DomainOwnership --------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        kind = _custom(request.type)
        news = _plain(request.new_inputs)
        if kind != content.RESOURCE_TYPE:
            return CheckResponse(inputs=_pv(ownership.inputs_of(news)))
        if not news.get("owner"):
            news["owner"] = f"{_project_stack(request.urn)}/{request.name}"
        inputs, failures = content.check(news)
        if failures:
            return CheckResponse(
                inputs=request.new_inputs, failures=[CheckFailure(prop, reason) for prop, reason in failures]
            )
        return CheckResponse(inputs=_pv(inputs))

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = _custom(request.type)
        olds, news = _plain(request.old_state), _plain(request.new_inputs)
        if kind == content.RESOURCE_TYPE:
            changed, replaces = content.diff(olds, news)
        else:
            changed = replaces = ownership.diff(olds, news)
        changed = [k for k in changed if k not in request.ignore_changes]
        replaces = [k for k in replaces if k not in request.ignore_changes]
        # A state written by the dynamic provider of a stack deployed before this plugin: an update rewrites it
        # without the pickle (nothing is uploaded again: the manifest says what is there).
        changed += [k for k in _LEGACY_KEYS if k in olds]
        return DiffResponse(
            changes=bool(changed),
            replaces=replaces,
            diffs=changed,
            delete_before_replace=kind == content.RESOURCE_TYPE,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = _custom(request.type)
        if request.preview:  # what it will be: the inputs, the outputs unknown
            return CreateResponse(resource_id="", properties=_pv({**_plain(request.properties), **_unknown(kind)}))
        with _user_errors():
            if kind == content.RESOURCE_TYPE:
                resource_id, outs = content.create(_plain(request.properties))
            else:
                resource_id, outs = ownership.create(kind, _plain(request.properties))
        return CreateResponse(resource_id=resource_id, properties=_pv(outs))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = _custom(request.type)
        if kind != content.RESOURCE_TYPE:  # only replaces (diff): an update just records the new inputs
            merged = {**_plain(request.olds), **_plain(request.news)}
            return UpdateResponse(properties=_pv({k: v for k, v in merged.items() if k not in _LEGACY_KEYS}))
        olds, news = _plain(request.olds), _plain(request.news)
        if request.preview:
            if content.diff(olds, news)[0]:  # something to sync: what lands is known only after the sync
                return UpdateResponse(properties=_pv({**news, **_unknown(kind)}))
            return UpdateResponse(
                properties=_pv({**news, "manifest": olds.get("manifest"), "objectCount": olds.get("objectCount")})
            )
        with _user_errors():
            outs = content.update(olds, news)
        return UpdateResponse(properties=_pv(outs))

    async def delete(self, request: DeleteRequest) -> None:
        if _custom(request.type) == content.RESOURCE_TYPE:
            with _user_errors():
                content.delete(_plain(request.properties))

    async def read(self, request: ReadRequest) -> ReadResponse:
        kind = _custom(request.type)
        props = _plain(request.properties)
        if kind != content.RESOURCE_TYPE:
            kept = {k: v for k, v in props.items() if k not in _LEGACY_KEYS}
            return ReadResponse(
                resource_id=request.resource_id, properties=_pv(kept), inputs=_pv(ownership.inputs_of(kept))
            )
        inputs = _plain(request.inputs) or content.inputs_of(props)
        with _user_errors():
            resource_id, outs = content.read(request.resource_id, {**inputs, **props})
        if not resource_id:
            return ReadResponse(resource_id="", properties={}, inputs={})
        return ReadResponse(resource_id=resource_id, properties=_pv(outs), inputs=_pv(content.inputs_of(outs)))

    # -- Site and WebBackend (components) ---------------------------------------------------------------------------

    async def construct(self, request: ConstructRequest) -> ConstructResponse:
        from china_site.provider.construct import construct

        return await construct(request)


# What a dynamic provider's state holds besides the properties: its pickle, and our type marker.
_LEGACY_KEYS = ("__provider", "component")
_CUSTOM = (content.RESOURCE_TYPE, ownership.VERIFY_CONTENT_TYPE, ownership.OWNERSHIP_TYPE)


def _unknown(kind: str) -> dict[str, Any]:
    """The outputs a create or sync computes, unknown at preview."""
    names = {
        content.RESOURCE_TYPE: ("manifest", "objectCount"),
        ownership.VERIFY_CONTENT_TYPE: ("content",),
        ownership.OWNERSHIP_TYPE: ("verified", "attempts"),
    }[kind]
    return dict.fromkeys(names, UNKNOWN)


def _custom(type_chain: str) -> str:
    """The resource's type from the URN's type chain (``parent$…$type``)."""
    type_ = type_chain.rsplit("$", 1)[-1]
    if type_ not in _CUSTOM:
        raise ValueError(f"unknown resource type {type_} (this provider serves {', '.join(_CUSTOM)})")
    return type_


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """A user error of ours (one line, bilingual, with the fix) reaches the CLI without a Python traceback: Pulumi's
    provider server appends ``traceback.extract_tb`` of the error, which honours ``sys.tracebacklimit``."""
    import sys

    from china_site.errors import ChinaSiteError

    try:
        yield
    except ChinaSiteError:
        sys.tracebacklimit = 0
        raise
    else:
        if getattr(sys, "tracebacklimit", None) == 0:
            del sys.tracebacklimit


def _project_stack(urn: str) -> str:
    """``project/stack`` from ``urn:pulumi:stack::project::…`` (the owner mark's prefix, as the Python class)."""
    parts = urn.split("::")
    stack = parts[0].rsplit(":", 1)[-1] if parts else ""
    project = parts[1] if len(parts) > 1 else ""
    return f"{project}/{stack}"


def main() -> None:
    """``pulumi-resource-china-site``: the engine starts it with its address as the first argument."""
    import os
    import sys

    from pulumi.provider.experimental.server import main as serve

    from china_site.provider.install import _IN_PLUGIN

    os.environ[_IN_PLUGIN] = "1"

    # A plugin run from a source folder (PulumiPlugin.yaml) gets that folder first; the engine address follows.
    args = [a for a in sys.argv[1:] if not Path(a).is_dir()]
    sys.argv = [sys.argv[0], *args]
    serve(args, version(), ChinaSiteProvider())
