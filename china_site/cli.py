"""The ``china-site`` command (typer + rich). Thin: every decision is the core's.

Exit codes: 0 = no mandatory finding; 1 = mandatory findings (or nothing found where something was asked);
2 = bad input or usage, as one line naming the file, entry and field (a traceback only with ``--debug``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from china_site.errors import ChinaSiteError, InputError

if TYPE_CHECKING:
    from rich.console import Console

    from china_site.filings import FilingRegistry

app = typer.Typer(
    name="china-site",
    help="Websites for Chinese users on Alibaba Cloud within China's filing rules (ICP, PSB, commercial permits).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
filings_app = typer.Typer(help="Validate and query the filing registry.", no_args_is_help=True)
app.add_typer(filings_app, name="filings")

_state: dict[str, Any] = {"debug": False}


class Format(StrEnum):
    table = "table"
    json = "json"


class EntityOpt(StrEnum):
    domestic = "domestic"
    foreign_invested = "foreign-invested"
    foreign = "foreign"
    individual = "individual"


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """User errors become one line on stderr and exit code 2; tracebacks only with --debug."""
    try:
        yield
    except ChinaSiteError as err:
        if _state["debug"]:
            raise
        typer.echo(f"china-site: error: {err.line()}", err=True)
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


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    _state["debug"] = debug


# ---------------------------------------------------------------------------------------------------------------
# advise


@app.command()
def advise(
    entity: Annotated[
        EntityOpt, typer.Option(help="Who would file: a PRC company, foreign-invested, foreign, or a person.")
    ] = EntityOpt.domestic,
    payments: Annotated[bool, typer.Option("--payments", help="The site takes payments (shop, paid content).")] = False,
    platform: Annotated[
        bool, typer.Option("--platform", help="A platform for third-party sellers (needs B21).")
    ] = False,
    game: Annotated[bool, typer.Option("--game", help="An online game.")] = False,
    mainland_audience: Annotated[
        bool, typer.Option("--mainland-audience/--no-mainland-audience", help="Users in mainland China.")
    ] = True,
    registrar_in_china: Annotated[
        bool,
        typer.Option(
            "--registrar-in-china/--registrar-abroad", help="Domain registered with an MIIT-accredited registrar."
        ),
    ] = True,
    domain: Annotated[str | None, typer.Option(help="Check this domain against the registry.")] = None,
    filings: Annotated[
        str | None, typer.Option(help="Filing registry: path, oss://BUCKET/KEY or s3://BUCKET/KEY.")
    ] = None,
    region: Annotated[str, typer.Option(help="Mainland region to propose.")] = "cn-shanghai",
    today: Annotated[str | None, typer.Option(help="Evaluate as of this ISO date.")] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Hong Kong or mainland? What mainland hosting would still need."""
    from china_site.hosting import AdviceInput
    from china_site.hosting import advise as run_advise

    with user_errors():
        if (domain is None) != (filings is None):
            raise InputError(
                "--domain and --filings go together",
                where="advise",
                fix="give both (to check a domain against the registry) or neither",
            )
        registry = _load(filings) if filings else None
        advice = run_advise(
            AdviceInput(
                entity=entity.value,  # type: ignore[arg-type]
                payments=payments,
                platform=platform,
                game=game,
                mainland_audience=mainland_audience,
                registrar_in_china=registrar_in_china,
                domain=domain,
                registry=registry,
                today=_parse_date(today),
                mainland_region=region,
            )
        )
    if format is Format.json:
        _emit_json(advice.to_json())
        return
    from rich.panel import Panel

    console = _console()
    colour = "green" if advice.hosting == "mainland" else "yellow"
    head = (
        f"[bold {colour}]{advice.hosting}[/] — region [bold]{advice.region}[/], CDN scope [bold]{advice.cdn_scope}[/]"
    )
    body = [head, ""]
    if advice.required:
        body.append("Mainland would still need: " + ", ".join(advice.required))
        body.append("")
    body += [f"• {r}" for r in advice.reasons]
    console.print(Panel("\n".join(body), title="china-site advise", expand=False))


# ---------------------------------------------------------------------------------------------------------------
# filings


@filings_app.command("validate")
def filings_validate(
    source: Annotated[str, typer.Argument(help="Registry: path, oss://BUCKET/KEY or s3://BUCKET/KEY.")],
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Validate a registry: every entry, every number, every cross-field rule."""
    with user_errors():
        registry = _load(source)
    approved = sum(1 for s in registry.sites if registry.effective_status(s) == "approved")
    summary = {
        "source": source,
        "valid": True,
        "entities": len(registry.entities),
        "sites": len(registry.sites),
        "approved": approved,
        "warnings": list(registry.warnings),
    }
    if format is Format.json:
        _emit_json(summary)
        return
    console = _console()
    console.print(
        f"[green]valid[/]: {source} — {len(registry.entities)} entities, {len(registry.sites)} sites "
        f"({approved} approved)"
    )
    for w in registry.warnings:
        console.print(f"[yellow]warning[/]: {w}")


def _site_json(registry: FilingRegistry, host: str) -> dict[str, Any] | None:
    site = registry.covering(host)
    if site is None:
        return None
    entity = registry.entity_of(site)
    data = site.model_dump(mode="json")
    data["effective_status"] = registry.effective_status(site)
    data["entity"] = {"id": site.entity, **entity.model_dump(mode="json")}
    data["query"] = host
    return data


@filings_app.command("show")
def filings_show(
    domain: Annotated[str, typer.Argument(help="A domain or any host under it.")],
    filings: Annotated[str, typer.Option(help="Registry source.")],
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Show the filing that covers DOMAIN (exit 1 when none does)."""
    from china_site import domains

    with user_errors():
        registry = _load(filings)
        host = domains.to_ascii(domain)
        data = _site_json(registry, host)
    if data is None:
        if format is Format.json:
            _emit_json({"query": host, "filed": False})
        else:
            typer.echo(f"{domain}: no filing in {filings} covers it / 备案登记中没有该域名的备案")
        raise typer.Exit(1)
    if format is Format.json:
        _emit_json(data)
        return
    from rich.table import Table

    table = Table(title=f"{domain} → {data['domain']}", show_header=False)
    for key in (
        "domain",
        "effective_status",
        "icp_number",
        "approved",
        "access_providers",
        "registrar_in_china",
        "real_name_verified",
        "launched",
        "psb_number",
        "psb_filed",
    ):
        value = data.get(key)
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    ent = data["entity"]
    table.add_row(
        "entity", f"{ent['id']}: {ent['name']} ({ent['type']}, {ent['ownership']}, province {ent['province']})"
    )
    for p in ent.get("permits", []):
        table.add_row("permit", f"{p['number']} {p['kind']} {p['issued']} → {p['expires']}")
    _console().print(table)


@filings_app.command("expiring")
def filings_expiring(
    within: Annotated[int, typer.Option("--within", help="Days ahead.", min=0)],
    filings: Annotated[str, typer.Option(help="Registry source.")],
    today: Annotated[str | None, typer.Option(help="Evaluate as of this ISO date.")] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Permits that expire and PSB filings that fall due within DAYS (exit 1 when any)."""
    with user_errors():
        registry = _load(filings)
        day = _parse_date(today)
        items = registry.expiring(within, day)
    rows = [_expiring_row(item) for item in items]
    if format is Format.json:
        _emit_json({"today": day.isoformat(), "within_days": within, "items": rows})
    else:
        if not rows:
            typer.echo(f"nothing expires or falls due within {within} days of {day.isoformat()}")
        else:
            from rich.table import Table

            table = Table(title=f"due within {within} days of {day.isoformat()}")
            for col in ("kind", "what", "date", "days"):
                table.add_column(col)
            for r in rows:
                table.add_row(r["kind"], r["what"], r["date"], str((dt.date.fromisoformat(r["date"]) - day).days))
            _console().print(table)
    if rows:
        raise typer.Exit(1)


def _expiring_row(item: Any) -> dict[str, str]:
    if isinstance(item, dict):
        return {k: str(v) for k, v in item.items()}
    kind, what, when = item[0], item[1], item[2]
    return {"kind": str(kind), "what": str(what), "date": when.isoformat() if hasattr(when, "isoformat") else str(when)}


# ---------------------------------------------------------------------------------------------------------------
# footer


@app.command()
def footer(
    domain: Annotated[str, typer.Argument(help="The site's domain.")],
    filings: Annotated[str, typer.Option(help="Registry source.")],
) -> None:
    """Print the homepage footer HTML: ICP number → beian.miit.gov.cn, PSB number → beian.mps.gov.cn."""
    from china_site import domains
    from china_site import footer as footer_mod
    from china_site.model import RuleOptions

    with user_errors():
        registry = _load(filings)
        host = domains.to_ascii(domain)
        site = registry.covering(host)
        if site is None or registry.effective_status(site) != "approved":
            state = "no filing" if site is None else f"a {registry.effective_status(site)} filing"
            raise InputError(
                f"{domain} has {state} in {filings}, so there is no number to show",
                where=f"footer {domain}",
                fix="file the domain (or record its approved filing in the registry) first",
            )
        icp, psb = footer_mod.footer_numbers(site, registry.entity_of(site), RuleOptions())
        html = footer_mod.render_footer(icp, psb)
    typer.echo(html)


def main() -> None:
    try:
        app()
    except ChinaSiteError as err:  # pragma: no cover - commands already translate these
        if _state["debug"]:
            raise
        print(f"china-site: error: {err.line()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
