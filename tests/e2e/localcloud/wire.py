"""Pulumi's property values on the wire (google.protobuf.Struct) and the special values in them.

The engine encodes unknowns as a sentinel string and secrets, resource references, assets and output values as
objects carrying a signature key (``sdk/go/common/resource/plugin/rpc.go``, and the Python SDK's
``pulumi.runtime.rpc``). This module converts Structs to plain Python values, keeps those objects as they are, and
redacts secrets for the call log and the state on disk.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from google.protobuf import json_format, struct_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
# How the state on disk keeps a secret: never the value, only a digest to recognise it (as a real cloud returns
# neither a private key nor a password on read: the provider copies them from its old state).
SECRET_MARK = "__localcloud_secret_sha256"


def to_dict(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    if struct is None:
        return {}
    return json_format.MessageToDict(struct, preserving_proto_field_name=True)


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_plain_numbers(value))
    return struct


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "value": value}


def unwrap(value: Any) -> Any:
    """A secret's value (recursively through nested secrets); anything else as it is."""
    while is_secret(value):
        value = value.get("value")
    return value


def reveal(value: Any) -> Any:
    """Every secret in a value replaced by its plain value (what the cloud API receives)."""
    value = unwrap(value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """Every secret replaced by ``"[secret]"``: what the call log shows."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def seal(value: Any) -> Any:
    """Every secret replaced by a digest of its value: what the state on disk keeps."""
    if is_secret(value):
        digest = hashlib.sha256(json.dumps(reveal(value), sort_keys=True).encode()).hexdigest()
        return {SECRET_MARK: digest}
    if isinstance(value, dict):
        return {k: seal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [seal(v) for v in value]
    return value


def unseal(stored: Any, known: Any) -> Any:
    """A stored value with its sealed secrets taken back from ``known`` (the engine's copy) where that matches.

    A sealed secret the engine's copy cannot supply (or supplies with another value) stays sealed: the resource
    then differs from its state, as a real drifted secret would.
    """
    if isinstance(stored, dict) and SECRET_MARK in stored:
        if is_secret(known) and seal(known) == stored:
            return known
        if known is not None and not is_secret(known):
            candidate = secret(known)
            if seal(candidate) == stored:
                return candidate
        return stored
    if isinstance(stored, dict):
        known_map = unwrap(known) if isinstance(unwrap(known), dict) else {}
        return {k: unseal(v, known_map.get(k)) for k, v in stored.items()}
    if isinstance(stored, list):
        known_list = unwrap(known) if isinstance(unwrap(known), list) else []
        return [unseal(v, known_list[i] if i < len(known_list) else None) for i, v in enumerate(stored)]
    return stored


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
