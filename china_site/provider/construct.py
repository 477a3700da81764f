"""Construct: ``china-site:index:Site`` / ``china-site:index:WebBackend`` from the engine's inputs.

The inputs become the same ``SiteArgs`` / ``WebBackendArgs`` a Python program passes (camelCase → snake_case; a
property left out comes from the stack config ``china-site:<property>``; a relative path is relative to the
program's folder, the plugin's working directory), and the same classes build the children. The hosting decision
needs its inputs known when the program runs: an unknown ``domain`` or ``filings`` is refused with the fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import ConstructRequest, ConstructResponse

from china_site.provider.schema import BACKEND_INPUTS, BACKEND_OUTPUTS, SITE_CONFIG_KEYS, SITE_INPUTS, SITE_OUTPUTS

__all__ = ["construct", "site_args", "web_backend_args"]

# Inputs that may stay Outputs (secrets, another resource's output); every other input must be a known value.
_OUTPUT_INPUTS = frozenset({"origin", "certificate", "imageId", "certificateId", "userData"})


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _local(path: Any) -> Any:
    if not isinstance(path, str) or not path or "://" in path:
        return path
    expanded = os.path.expanduser(path)
    return expanded if os.path.isabs(expanded) else os.path.join(os.getcwd(), expanded)


async def _as_input(value: PropertyValue) -> Any:
    """A PropertyValue as a Pulumi input: plain when known, not secret and without dependencies; else an Output."""
    from pulumi.provider.experimental.server import ProviderServicer
    from pulumi.runtime import rpc

    raw = rpc.deserialize_property(value.marshal(), keep_unknowns=True)
    return await ProviderServicer._select_value(raw, value.all_dependencies())


def _config(key: str) -> Any:
    config = pulumi.Config("china-site")
    kind = SITE_INPUTS.get(key, BACKEND_INPUTS.get(key, {})).get("type")
    if kind == "boolean":
        return config.get_bool(key)
    if kind == "number":
        return config.get_float(key)
    return config.get(key)


async def _inputs(
    request_inputs: Mapping[str, PropertyValue], allowed: Mapping[str, Any], where: str
) -> dict[str, Any]:
    from china_site.provider.server import to_python

    out: dict[str, Any] = {}
    errors: list[InputPropertyErrorDetails] = []
    for key, value in request_inputs.items():
        if key not in allowed:
            errors.append({"property_path": key, "reason": f"{where} has no input {key}"})
            continue
        if key in _OUTPUT_INPUTS:
            out[key] = await _as_input(value)
            continue
        plain = to_python(value)
        from china_site.provider.content import Unknown

        if isinstance(plain, Unknown) or (isinstance(plain, list) and any(isinstance(v, Unknown) for v in plain)):
            errors.append(
                {
                    "property_path": key,
                    "reason": f"{key} must be known when the program runs (the hosting decision reads it) / "
                    f"{key} 须在程序运行时已知; pass a literal or stack config value, not another resource's output",
                }
            )
            continue
        out[key] = plain
    if errors:
        raise InputPropertiesError(f"{where}: invalid inputs / 输入无效", errors)
    for key in SITE_CONFIG_KEYS:
        if key in allowed and out.get(key) is None:
            value = _config(key)
            if value is not None:
                out[key] = value
    return out


def site_args(props: Mapping[str, Any]) -> Any:
    """``SiteArgs`` from the (already Python) inputs of ``china-site:index:Site``."""
    from china_site.components.site import SiteArgs, SiteCertificate

    kwargs: dict[str, Any] = {}
    for key, value in props.items():
        if value is None:
            continue
        if key == "certificate":
            cert = pulumi.Output.from_input(value)
            kwargs["certificate"] = SiteCertificate(
                certificate=cert.apply(lambda c: c["certificate"]), private_key=cert.apply(lambda c: c["privateKey"])
            )
        elif key in ("filings", "contentDir"):
            kwargs[_snake(key)] = _local(value)
        elif key == "contentExclude":
            kwargs["content_exclude"] = list(value)
        else:
            kwargs[_snake(key)] = value
    return SiteArgs(**kwargs)


def web_backend_args(props: Mapping[str, Any]) -> Any:
    """``WebBackendArgs`` from the inputs of ``china-site:index:WebBackend``."""
    from china_site.components.backend import WebBackendArgs

    kwargs: dict[str, Any] = {}
    for key, value in props.items():
        if value is None:
            continue
        if key == "filings":
            kwargs["filings"] = _local(value)
        elif key == "zones":
            kwargs["zones"] = tuple(value)
        else:
            kwargs[_snake(key)] = value
    return WebBackendArgs(**kwargs)


async def _state(component: pulumi.Resource, outputs: Mapping[str, Any]) -> ConstructResponse:
    from pulumi.runtime import rpc

    values = {key: getattr(component, _snake(key)) for key in outputs}
    deps: dict[str, list[pulumi.Resource]] = {}
    struct = await rpc.serialize_properties(values, deps)
    state = PropertyValue.unmarshal_map(struct)
    state_deps: dict[str, set[str]] = {}
    for key, resources in deps.items():
        urns = [await r.urn.future() for r in resources]
        state_deps[key] = {u for u in urns if u}
        state[key] = state[key].with_dependencies(state_deps[key])
    urn = await component.urn.future()
    assert urn is not None
    return ConstructResponse(urn=urn, state=state, state_dependencies=state_deps)


async def construct(request: ConstructRequest) -> ConstructResponse:
    from china_site.errors import ChinaSiteError

    if request.resource_type == "china-site:index:Site":
        from china_site.components.site import Site

        props = await _inputs(request.inputs, SITE_INPUTS, f"Site '{request.name}'")
        try:
            site = Site(request.name, site_args(props), request.options)
        except (ChinaSiteError, TypeError, ValueError) as err:
            raise InputPropertiesError(str(err), []) from None
        return await _state(site, SITE_OUTPUTS)
    if request.resource_type == "china-site:index:WebBackend":
        from china_site.components.backend import WebBackend

        props = await _inputs(request.inputs, BACKEND_INPUTS, f"WebBackend '{request.name}'")
        try:
            backend = WebBackend(request.name, web_backend_args(props), request.options)
        except (ChinaSiteError, TypeError, ValueError) as err:
            raise InputPropertiesError(str(err), []) from None
        return await _state(backend, BACKEND_OUTPUTS)
    raise ValueError(f"unknown component type {request.resource_type}")
