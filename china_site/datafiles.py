"""Bundled data files (``china_site/data/<name>.yaml``): lists that change without a code release.

``load("provinces")`` returns the parsed YAML of ``data/provinces.yaml``. Results are cached for the life of the
process and shared, so callers must not mutate them. The modules that own a file validate its shape
(``numbers`` → provinces, ``regions`` → regions and provider_regions, ``domains`` → tlds, ``eligibility`` →
pilot_zones and sectors, ``access`` → access_providers, ``rule_findings`` → error_codes). Each file names its sources
and the date they were read.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from china_site.errors import ChinaSiteError

__all__ = ["DataFileError", "load", "validated"]

M = TypeVar("M", bound=BaseModel)

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class DataFileError(ChinaSiteError):
    """A bundled data file is missing or is not valid YAML (a broken installation or a bad edit)."""


@functools.cache
def load(name: str) -> Any:
    """Parse ``china_site/data/<name>.yaml`` (``name`` without extension, e.g. ``"tlds"``), cached."""
    where = f"china_site/data/{name}.yaml"
    if not _NAME.fullmatch(name):
        raise DataFileError(f"invalid data file name {name!r}", where=where, fix="use a bare name such as 'tlds'")
    resource = resources.files("china_site").joinpath("data", f"{name}.yaml")
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(
            f"cannot read bundled data file ({exc.__class__.__name__})",
            where=where,
            fix="reinstall china-site; the package data is incomplete",
        ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise DataFileError(
            f"bundled data file is not valid YAML{at}",
            where=where,
            fix="fix the YAML syntax of the edited file or reinstall china-site",
        ) from exc


def validated(name: str, model: type[M]) -> M:
    """Load ``data/<name>.yaml`` and validate it with a pydantic ``model`` (cached per name and model)."""
    return cast(M, _validated(name, model))


@functools.cache
def _validated(name: str, model: type[M]) -> M:
    data = load(name)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise DataFileError(
            f"bundled data file is invalid at {loc}: {first['msg']} ({exc.error_count()} error(s))",
            where=f"china_site/data/{name}.yaml",
            fix="correct the edited entry or reinstall china-site",
        ) from exc
