"""What the recording mocks record, and the wire form they record it in.

:class:`Registration` (one resource as the engine received it), :class:`Call` (an invoke) and :class:`LogEntry` (an
engine log line); :func:`engine_urn` builds URNs as the engine does (the parent's full type chain, no Stack);
:func:`wire_value` / ``_struct_json`` / ``_to_wire`` turn properties into the engine's JSON form (camelCase names,
secrets as the signature map, unknowns as sentinels, whole doubles as integers); :func:`is_secret` /
:func:`reveal` read secret wrappers; :func:`parse_duration` reads ``customTimeouts``; :func:`config_text` gives a
config value as Pulumi hands it to a program. The recorder that fills them is :mod:`china_site.engine.mocks`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from china_site.engine.artifacts import SECRET_SIG, SIG_KEY, STACK_TYPE

__all__ = [
    "PROVIDER_PREFIX",
    "SECRET_SIG_KEY",
    "Call",
    "LogEntry",
    "Registration",
    "config_text",
    "engine_urn",
    "is_secret",
    "parse_duration",
    "reveal",
    "wire_value",
]

SECRET_SIG_KEY = SIG_KEY
PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine received it (``RegisterResource`` or ``ReadResource``)."""

    urn: str
    type: str
    name: str
    parent: str  # parent URN; "" for the root Stack and default providers
    provider: str  # provider reference "<urn>::<id>" as requested; "" = the default provider (see ``effective``)
    custom: bool
    id: str
    inputs: dict[str, Any]  # wire names (camelCase), as the SDK deserialises them; secrets wrapped
    outputs: dict[str, Any]  # the state the mock answered with (same form)
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version: str = ""
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    custom_timeouts: tuple[float, float, float] = (0.0, 0.0, 0.0)  # create, update, delete (seconds)
    read: bool = False  # a ``get`` (ReadResource) rather than a registration
    synthesized: bool = False  # a default provider the engine would have created
    effective_provider: str = ""  # provider reference actually used (explicit, or the synthesized default)
    wire_inputs: dict[str, Any] = field(default_factory=dict)  # exactly as sent (engine JSON form)
    wire_outputs: dict[str, Any] = field(default_factory=dict)  # the state as the engine would store it
    source_position: str = ""  # where the program registered it, as the engine records it (``file:///…#line,col``)

    @property
    def qualified_type(self) -> str:
        """The type chain in the URN, e.g. ``china-site:index:Site$alicloud:oss/bucket:Bucket``."""
        return self.urn.split("::")[2]

    @property
    def package(self) -> str:
        if self.type.startswith(PROVIDER_PREFIX):
            return self.type[len(PROVIDER_PREFIX) :]
        return self.type.split(":", 1)[0]


@dataclass(frozen=True)
class Call:
    token: str
    args: dict[str, Any]
    provider: str
    result: dict[str, Any]


@dataclass(frozen=True)
class LogEntry:
    severity: str  # "debug" | "info" | "warning" | "error"
    message: str
    urn: str


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """A URN as the engine builds it: the parent's full qualified type chain, the root Stack left out."""
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def is_secret(value: object) -> bool:
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper removed (deeply), for assertions and output functions."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value


def wire_value(value: Any) -> Any:
    """A value from ``json_format.MessageToDict`` of a Struct, with whole doubles back to integers (the engine
    stores JSON numbers; ``pulumi stack export`` prints ``2``, not ``2.0``) and object keys sorted (as the engine
    writes them; a Struct's map order varies from run to run)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: wire_value(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    return value


def _struct_json(struct: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    if struct is None:
        return {}
    data = json_format.MessageToDict(struct)
    return wire_value(data) if isinstance(data, dict) else {}


def _to_wire(value: Any) -> Any:
    """A plain Python value (an output function's answer) in wire JSON form; secrets stay wrapped."""
    from pulumi.output import Unknown

    from china_site.engine.artifacts import UNKNOWN

    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (``"5m"``, ``"1h30m"``, ``"90s"``) in seconds, as the engine parses ``customTimeouts``;
    0 for an empty or unparseable value."""
    text = (text or "").strip()
    if not text:
        return 0.0
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            return 0.0
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) else 0.0


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def config_text(value: Any) -> str:
    """A config value as Pulumi hands it to a program: strings as they are, everything else JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _source_position(request: Any) -> str:
    """The request's ``sourcePosition`` in the engine's state form (``<uri>#<line>[,<column>]``), or ""."""
    try:
        if not request.HasField("sourcePosition"):
            return ""
    except ValueError:  # a request type without the field (older SDKs)
        return ""
    position = request.sourcePosition
    if not position.uri:
        return ""
    fragment = f"#{position.line}" if position.line else ""
    if fragment and position.column:
        fragment += f",{position.column}"
    return position.uri + fragment
