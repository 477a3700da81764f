"""Validating decoded registry data into a :class:`~china_site.registry_models.FilingRegistry` (split from
:mod:`china_site.filings`).

What lives here: :func:`parse_registry` (data → registry, or ONE :class:`~china_site.errors.RegistryError` naming
the first problem and listing them all), the translation of pydantic's errors into one-line problems (entry,
field, what, how to fix), and the pause of the cyclic garbage collector while a large registry is built
(``_gc_paused``, also used by :func:`china_site.filings.decode_registry`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator, Mapping

from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from china_site.errors import RegistryError
from china_site.registry_fields import _Invalid, _Problem, _Problems, _short
from china_site.registry_models import Entity, FilingRegistry, Permit, SectorApproval, Site

__all__ = ["parse_registry"]


# --- turning pydantic errors into one-line problems ---------------------------------------------------------------

_MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "top": FilingRegistry.FILE_KEYS,
    "site": tuple(Site.model_fields),
    "entity": tuple(Entity.model_fields),
    "permit": tuple(Permit.model_fields),
    "sector": tuple(SectorApproval.model_fields),
}


def _raw_domain(data: object, index: int) -> str | None:
    if isinstance(data, Mapping):
        sites = data.get("sites")
        if isinstance(sites, list | tuple) and 0 <= index < len(sites):
            item = sites[index]
            if isinstance(item, Mapping) and isinstance(item.get("domain"), str):
                return str(item["domain"]).strip()
    return None


def _dotted(parts: list[int | str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _locate(loc: tuple[int | str, ...], data: object) -> tuple[str | None, list[int | str], str]:
    """(entry, remaining path, model kind) for a pydantic error location."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "sites" and isinstance(parts[1], int):
        domain = _raw_domain(data, parts[1])
        entry = f"sites[{parts[1]}]" + (f" ({domain})" if domain else "")
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "sectors" and isinstance(rest[1], int):
            return entry, rest, "sector"
        return entry, rest, "site"
    if len(parts) >= 2 and parts[0] == "entities":
        rest = parts[2:]
        if rest and rest[-1] == "[key]":  # the id itself is wrong (e.g. a number in YAML)
            return f"entities.{parts[1]}", [], "entity-id"
        entry = f"entities.{parts[1]}"
        if len(rest) >= 2 and rest[0] == "permits" and isinstance(rest[1], int):
            return f"{entry}.permits[{rest[1]}]", rest[2:], "permit"
        return entry, rest, "entity"
    return None, parts, "top"


_TYPE_FIXES = {
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write it as text (quote it in YAML)",
}


def _from_pydantic(err: ValidationError, data: object) -> list[_Problem]:
    problems: list[_Problem] = []
    for e in err.errors(include_url=False):
        exc = e.get("ctx", {}).get("error")
        if isinstance(exc, _Problems):
            problems.extend(exc.problems)
            continue
        entry, rest, kind = _locate(e["loc"], data)
        field = _dotted(rest) or None
        kind_type = e["type"]
        value = e.get("input", PydanticUndefined)
        if isinstance(exc, _Invalid):
            if exc.field and not field:
                field = exc.field
            problems.append(_Problem(entry, field, exc.what, exc.fix))
        elif kind == "entity-id":
            problems.append(
                _Problem(
                    entry,
                    None,
                    f"entity id {_short(rest or value)} must be text",
                    "quote the id or start it with a letter, e.g. acme",
                )
            )
        elif kind_type == "extra_forbidden":
            allowed = ", ".join(_MODEL_KEYS.get(kind, ()))
            problems.append(
                _Problem(
                    entry,
                    field,
                    "unknown key (not part of the registry format)",
                    f"remove it or correct its spelling; allowed keys here: {allowed}",
                )
            )
        elif kind_type == "missing":
            problems.append(_Problem(entry, field, "required field is missing", "add it"))
        elif kind_type == "literal_error":
            fix = (
                "this version of china-site reads registry version 1"
                if field == "version"
                else ("use one of the listed values")
            )
            problems.append(_Problem(entry, field, f"{e['msg']} (got {_short(value)})", fix))
        elif kind_type in ("dict_type", "model_type", "model_attributes_type"):
            problems.append(
                _Problem(
                    entry,
                    field,
                    f"expected a mapping of keys to values, got {type(value).__name__}",
                    "write it as 'key: value' lines (see filings.yaml for the format)",
                )
            )
        elif kind_type in ("tuple_type", "list_type"):
            problems.append(
                _Problem(
                    entry,
                    field,
                    f"expected a list, got {type(value).__name__}",
                    "write it as a YAML list ('- item' lines or [a, b])",
                )
            )
        else:
            msg = e["msg"].removeprefix("Value error, ")
            shown = value is not PydanticUndefined and not isinstance(value, Mapping)
            got = f" (got {_short(value)})" if shown else ""
            fix = _TYPE_FIXES.get(kind_type, "correct the value (see filings.yaml for the format)")
            problems.append(_Problem(entry, field, f"{msg}{got}", fix))
    return problems


def _raise(problems: list[_Problem], source: str) -> None:
    if not problems:
        return
    first = problems[0]
    others = len(problems) - 1
    what = first.what + (f" (and {others} more problem{'s' if others > 1 else ''})" if others else "")
    raise RegistryError(
        what,
        source=source,
        entry=first.entry,
        field=first.field,
        fix=first.fix,
        problems=[p.error(source).line() for p in problems],
    )


_GC_LOCK = threading.Lock()
_GC_STATE = {"depth": 0, "resume": False}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a registry is decoded and validated.

    Both allocate many long-lived, acyclic objects; every full collection in between traverses the whole heap built
    so far, which made loading a 100,000-site registry 40% slower per site than a 10,000-site one. Garbage made in
    the meantime is collected once the collector runs again. Nested and concurrent uses resume it once, at the end
    of the last one, and only if it was running before.
    """
    with _GC_LOCK:
        if _GC_STATE["depth"] == 0:
            _GC_STATE["resume"] = gc.isenabled()
            gc.disable()
        _GC_STATE["depth"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["depth"] -= 1
            if _GC_STATE["depth"] == 0 and _GC_STATE["resume"]:
                gc.enable()


def parse_registry(data: object, *, source: str) -> FilingRegistry:
    """Validate already-decoded data; raises RegistryError naming source, entry and field."""
    with _gc_paused():
        return _parse_registry(data, source=source)


def _parse_registry(data: object, *, source: str) -> FilingRegistry:
    if data is None:
        raise RegistryError(
            "the registry is empty",
            source=source,
            fix="write version: 1, entities: and sites: (see filings.yaml for the format)",
        )
    if not isinstance(data, Mapping):
        raise RegistryError(
            f"the registry must be a mapping with version, entities and sites, got {type(data).__name__}",
            source=source,
            fix="write version: 1, entities: and sites: at the top level (see filings.yaml for the format)",
        )
    problems: list[_Problem] = []
    content = dict(data)
    if "source" in content:
        content.pop("source")
        problems.append(
            _Problem(
                None,
                "source",
                "unknown key (not part of the registry format)",
                f"remove it; allowed keys here: {', '.join(FilingRegistry.FILE_KEYS)}",
            )
        )
    content["source"] = source
    try:
        registry = FilingRegistry.model_validate(content)
    except ValidationError as err:
        problems.extend(_from_pydantic(err, data))
        _raise(problems, source)
        raise  # pragma: no cover - _raise always raises when there are problems
    _raise(problems, source)
    return registry
