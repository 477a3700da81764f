"""Engine values as the exposure model reads them: the preview-time :data:`UNKNOWN` marker and the engine's raw
unknown sentinels, secret-wrapped values (unwrapped only to read), the compliance tags (``china-site:domain`` …),
and the small readers (``_get``, ``_text``, ``_number``, ``_flag``) every decider uses. Pure: no Pulumi imports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final


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
