"""The filing registry (DESIGN.md contract): loading it — decoding bytes (JSON/YAML) and the loaders.

The registry is outside data: every key is checked (unknown keys are rejected), every number is parsed by
:mod:`china_site.numbers` and stored in its normalised form, domains are stored as ASCII (punycode) lower-case
registrable domains, access providers under one canonical name (``aliyun`` → ``alibaba-cloud``).

The cross-field checks live in :mod:`china_site.registry_checks` (run by :class:`FilingRegistry`'s validator).
Every problem found — field errors and cross-field errors alike — ends up in ONE
:class:`~china_site.errors.RegistryError`: its message is one line naming the first problem (source, entry, field,
how to fix) and a count of the others; ``.problems`` lists them all, one line each. Non-fatal findings (alias
province characters, a number without its closing 号, a cached copy used offline) are in
:attr:`FilingRegistry.warnings`.

Sources (:func:`load_registry`): a local path (``.json`` is JSON; ``.yaml``/``.yml``/anything else YAML),
``oss://BUCKET/KEY`` (Alibaba Cloud OSS through its S3-compatible API, see :mod:`china_site.oss`) and
``s3://BUCKET/KEY`` (boto3's own settings, e.g. ``AWS_ENDPOINT_URL``). Remote objects are cached on disk with their
ETag and re-validated with ``If-None-Match`` on every load; an unreachable server fails closed unless
``CHINA_SITE_REGISTRY_OFFLINE_CACHE=1`` allows the last cached copy (said in a warning). boto3 is imported only
when a remote source is loaded. A local file whose bytes were already loaded in this process (same source) is not
parsed again (:func:`clear_registry_cache`).

Where the rest lives (every name that was importable from here still is): :mod:`china_site.registry_fields` (field
types, validation helpers, the base model), :mod:`china_site.registry_models` (the models and their lookups),
:mod:`china_site.registry_checks` (cross-field checks), :mod:`china_site.registry_parse` (data → registry, one-line
problems), :mod:`china_site.registry_remote` (``oss://`` and ``s3://``, the ETag cache).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal, NoReturn

import yaml

from china_site.errors import RegistryError
from china_site.registry_fields import ACCESS_PROVIDER_ALIASES, normalize_access_provider
from china_site.registry_fields import DomainHolderRole as DomainHolderRole
from china_site.registry_fields import EntityType as EntityType
from china_site.registry_fields import ForeignShareKind as ForeignShareKind
from china_site.registry_fields import Ownership as Ownership
from china_site.registry_fields import PermitKind as PermitKind
from china_site.registry_fields import SiteStatus as SiteStatus
from china_site.registry_fields import _Invalid as _Invalid
from china_site.registry_fields import _Model as _Model
from china_site.registry_fields import _Problem as _Problem
from china_site.registry_fields import _Problems as _Problems
from china_site.registry_fields import _province_name as _province_name
from china_site.registry_fields import _short as _short
from china_site.registry_models import Entity, Expiring, FetchInfo, FilingRegistry, Permit, SectorApproval, Site
from china_site.registry_models import days_after as days_after
from china_site.registry_parse import _gc_paused, parse_registry
from china_site.registry_remote import CACHE_DIR_ENV as CACHE_DIR_ENV
from china_site.registry_remote import OFFLINE_CACHE_ENV as OFFLINE_CACHE_ENV
from china_site.registry_remote import _fetch_remote as _fetch_remote
from china_site.safeio import (
    MAX_DEPTH,
    DatesAsWrittenLoader,
    NestingError,
    NumberTooLongError,
    UniqueKeys,
    clip,
    load_json,
    read_capped,
)

__all__ = [
    "ACCESS_PROVIDER_ALIASES",
    "Entity",
    "Expiring",
    "FetchInfo",
    "FilingRegistry",
    "Permit",
    "SectorApproval",
    "Site",
    "clear_registry_cache",
    "decode_registry",
    "default_cache_dir",
    "load_registry",
    "normalize_access_provider",
    "parse_registry",
]

# A registry is usually a few KB; a 100,000-site one is ~36 MB of JSON. Anything larger is not a registry.
MAX_REGISTRY_BYTES = 256 * 1024 * 1024


# --- decoding -----------------------------------------------------------------------------------------------------


class _UniqueKeyLoader(UniqueKeys, DatesAsWrittenLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one: a lost entity or site), with
    bounded nesting and alias expansion; an impossible date stays text so validation names its entry and field."""


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {clip(repr(key), 80)}")
        out[key] = value
    return out


def _format_of(name: str) -> Literal["json", "yaml"]:
    return "json" if name.lower().endswith(".json") else "yaml"


def decode_registry(raw: bytes, *, source: str, fmt: Literal["json", "yaml"]) -> object:
    """Bytes → Python data (UTF-8; JSON or YAML); raises RegistryError with line and column on malformed input."""
    with _gc_paused():
        return _decode_registry(raw, source=source, fmt=fmt)


def _decode_registry(raw: bytes, *, source: str, fmt: Literal["json", "yaml"]) -> object:
    if len(raw) > MAX_REGISTRY_BYTES:
        raise RegistryError(
            f"{len(raw)} bytes is too large for a filing registry (limit {MAX_REGISTRY_BYTES})",
            source=source,
            fix="point at the registry file itself",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RegistryError(
            f"not UTF-8 text (invalid byte at offset {err.start})", source=source, fix="save the file as UTF-8"
        ) from None
    too_deep = (
        f"nested more than {MAX_DEPTH} levels deep",
        "a filing registry has a few levels (entities, sites, permits); point at the registry file itself",
    )
    if fmt == "json":
        try:
            return load_json(text, object_pairs_hook=_json_pairs)
        except NumberTooLongError as err:
            raise RegistryError(f"malformed JSON: {err}", source=source, fix="write the number as text") from None
        except json.JSONDecodeError as err:
            raise RegistryError(
                f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                source=source,
                fix="fix the JSON syntax there (quotes, commas, brackets)",
            ) from None
        except (RecursionError, NestingError):
            raise RegistryError(too_deep[0], source=source, fix=too_deep[1]) from None
        except ValueError as err:  # duplicate key
            raise RegistryError(f"malformed JSON: {err}", source=source, fix="keep each key once") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = err.problem or err.context or "syntax error"
        context = f" ({err.context})" if err.context and err.problem else ""
        raise RegistryError(
            f"malformed YAML{where}: {problem}{context}",
            source=source,
            fix="fix the YAML syntax there (indentation, a missing ':' or quote, duplicate keys)",
        ) from None
    except NestingError as err:
        raise RegistryError(
            str(err), source=source, fix="write the values out instead of repeating them through aliases"
        ) from None
    except RecursionError:
        raise RegistryError(too_deep[0], source=source, fix=too_deep[1]) from None
    except yaml.YAMLError as err:
        raise RegistryError(f"malformed YAML: {err}", source=source, fix="fix the YAML syntax") from None
    except (ValueError, TypeError) as err:  # a value PyYAML cannot build (e.g. an unhashable key)
        raise RegistryError(
            f"malformed YAML: {type(err).__name__}: {err}", source=source, fix="fix the value there"
        ) from None


# --- loaders ------------------------------------------------------------------------------------------------------

_REMOTE = re.compile(r"(?P<scheme>oss|s3)://(?P<bucket>[^/?#]+)/(?P<key>[^?#]+)")


DEADLINE_ENV = "CHINA_SITE_REGISTRY_DEADLINE"
DEFAULT_DEADLINE = 30.0


def default_cache_dir() -> Path:
    """``$CHINA_SITE_CACHE_DIR``, else ``$XDG_CACHE_HOME/china-site``, else ``~/.cache/china-site``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "china-site"


def load_registry(
    source: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_attempts: int = 3,
    deadline: float | None = None,
) -> FilingRegistry:
    """Load from a path (YAML/JSON), ``oss://BUCKET/KEY`` or ``s3://BUCKET/KEY``; raises RegistryError.

    Remote objects are cached under ``cache_dir`` (default :func:`default_cache_dir`) per endpoint and source with
    their ETag and checksum, and re-validated with ``If-None-Match``. ``max_attempts`` is the number of requests
    sent at most, the first one included (1 = no retry; a redirect counts as a request, so a redirect loop ends
    there); ``deadline`` (seconds; default ``CHINA_SITE_REGISTRY_DEADLINE``, else 30) bounds the whole load —
    connecting, every attempt and reading the body — whatever the server does (hangs, trickles, redirects). A
    server that cannot be reached in time fails closed unless ``CHINA_SITE_REGISTRY_OFFLINE_CACHE=1``. A local
    file whose bytes were already loaded (same source) returns the same registry object without parsing it again.
    """
    text = str(source).strip()
    if not text:
        raise RegistryError(
            "no registry given", source="<none>", fix="pass a path, oss://BUCKET/KEY or s3://BUCKET/KEY"
        )
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("oss", "s3"):
        m = _REMOTE.fullmatch(text)
        if m is None:
            raise RegistryError(
                "a remote registry is named oss://BUCKET/KEY or s3://BUCKET/KEY",
                source=text,
                fix="give both the bucket and the object key, e.g. oss://my-bucket/filings.yaml",
            )
        if deadline is None:
            from china_site.deadline import seconds_from_env

            deadline = seconds_from_env(os.environ, DEADLINE_ENV, DEFAULT_DEADLINE)
        raw, info, notes = _fetch_remote(
            text,
            m["scheme"],  # type: ignore[arg-type]
            m["bucket"],
            m["key"],
            cache_root=Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            deadline=deadline,
            max_bytes=MAX_REGISTRY_BYTES,
        )
        registry = parse_registry(decode_registry(raw, source=text, fmt=_format_of(m["key"])), source=text)
        registry._fetch = info
        registry._warnings = (*notes, *registry._warnings)
        return registry
    if scheme and scheme != "file":
        raise RegistryError(
            f"unsupported source scheme '{scheme}://'",
            source=text,
            fix="use a local path, oss://BUCKET/KEY or s3://BUCKET/KEY",
        )
    path = Path(text[len("file://") :] if scheme == "file" else text).expanduser()
    raw = _read_file(path, text)
    # Keyed by the bytes themselves: an edit is seen at once, even one within the file system's timestamp
    # granularity that keeps the size. Reading and hashing cost a fraction of a per-cent of parsing.
    key = (text, hashlib.sha256(raw).digest())
    with _LOADED_LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            _LOADED.move_to_end(key)
            return cached
    registry = parse_registry(decode_registry(raw, source=text, fmt=_format_of(path.name)), source=text)
    with _LOADED_LOCK:
        _LOADED[key] = registry
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return registry


# Local registries already loaded in this process, keyed by (source as given, SHA-256 of the file's bytes): a
# program with many sites naming the same file parses it once, and a changed file is parsed again. Only valid
# registries are kept — an error is raised again on every load, so a fixed file is read at once. The source is
# part of the key because the registry names it in its messages. Remote sources have their own ETag cache.
_LOADED: OrderedDict[tuple[str, bytes], FilingRegistry] = OrderedDict()
_LOADED_MAX = 8
_LOADED_LOCK = threading.Lock()


def clear_registry_cache() -> None:
    """Forget the local registries loaded so far (the next :func:`load_registry` of a path parses it again)."""
    with _LOADED_LOCK:
        _LOADED.clear()


def _read_file(path: Path, source: str) -> bytes:
    def refuse(why: str) -> NoReturn:
        raise RegistryError(
            f"too large for a filing registry: {why}", source=source, fix="point at the registry file itself"
        )

    try:
        return read_capped(str(path), MAX_REGISTRY_BYTES, refuse=refuse)
    except FileNotFoundError:
        raise RegistryError(
            "file not found",
            source=source,
            fix="check the path: a relative path in the policy config or stack config (china-site:filings) starts "
            "at the Pulumi project folder (the one holding Pulumi.yaml); one given to --filings, at the current "
            "directory",
        ) from None
    except IsADirectoryError:
        raise RegistryError("is a directory, not a file", source=source, fix="name the registry file itself") from None
    except PermissionError:
        raise RegistryError(
            "permission denied reading the file", source=source, fix="make the file readable by this user"
        ) from None
    except OSError as err:
        raise RegistryError(
            f"cannot read the file: {err.strerror or type(err).__name__}", source=source, fix="check the path"
        ) from None
