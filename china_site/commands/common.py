"""What every ``china-site`` command shares: the ``--debug`` state, user errors as one line with exit code 2
(:func:`user_errors`), outside text made safe for the terminal, ISO dates, the registry loader, JSON output and the
option enums."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from china_site.errors import ChinaSiteError, InputError

if TYPE_CHECKING:
    from rich.console import Console

    from china_site.filings import FilingRegistry

_state: dict[str, Any] = {"debug": False}


class Format(StrEnum):
    table = "table"
    json = "json"


class EntityOpt(StrEnum):
    domestic = "domestic"
    foreign_invested = "foreign-invested"
    foreign = "foreign"
    individual = "individual"


class OriginOpt(StrEnum):
    """What serves the site behind its domain (data/access_providers.yaml decides what each needs)."""

    private_bucket = "private-bucket"  # CDN in front of a private OSS bucket (the Site component's layout)
    alibaba = "alibaba"  # an origin Alibaba Cloud hosts publicly: ECS, load balancer, public bucket, FC, …


def _safe(text: object) -> str:
    """Outside text (registry values, paths, resource names, domains) for the terminal: control characters and
    escape sequences shown as ``\\xNN``, never sent."""
    from china_site.safeio import printable

    return printable(str(text))


def _plain(text: object, style: str = "") -> Any:
    """A rich ``Text`` of outside text: printed literally (no ``[markup]``), control characters made visible."""
    from rich.text import Text

    return Text(_safe(text), style=style)


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


@contextmanager
def user_errors(names: dict[str, str] | None = None) -> Iterator[None]:
    """User errors become one line on stderr and exit code 2; tracebacks only with --debug. ``names`` maps absolute
    paths the command made (e.g. of the registry) to how the user named them: the line shows the latter."""
    try:
        yield
    except ChinaSiteError as err:
        if _state["debug"]:
            raise
        line = err.line()
        for absolute, given in sorted((names or {}).items(), key=lambda kv: -len(kv[0])):
            line = line.replace(absolute, given)
        typer.echo(f"china-site: error: {line}", err=True)
        raise typer.Exit(2) from None


def _parse_date(value: str | None, what: str = "--today") -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"'{value}' is not an ISO date", where=what, fix="write the date as YYYY-MM-DD, e.g. 2026-11-28"
        ) from None


def _load(source: str) -> FilingRegistry:
    from china_site.filings import load_registry

    return load_registry(source)


def _emit_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
