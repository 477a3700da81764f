"""The filing registry's commands: ``china-site filings validate|show|expiring`` and ``china-site footer`` (the
homepage footer with the registry's ICP and PSB numbers)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from china_site.commands.common import Format, _console, _emit_json, _load, _parse_date, _plain, _safe, user_errors
from china_site.errors import InputError

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry


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
    from rich.text import Text

    from china_site.safeio import clip

    console = _console()
    console.print(
        Text("valid", style="green")
        + _plain(f": {source} — {len(registry.entities)} entities, {len(registry.sites)} sites ({approved} approved)"),
        soft_wrap=True,  # one line: a path is never broken
    )
    for w in registry.warnings:
        console.print(Text("warning", style="yellow") + _plain(f": {clip(w, 600)}"), soft_wrap=True)


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
            typer.echo(_safe(f"{domain}: no filing in {filings} covers it / 备案清单文件中没有覆盖该域名的备案"))
        raise typer.Exit(1)
    if format is Format.json:
        _emit_json(data)
        return
    from rich.table import Table

    table = Table(title=_plain(f"{domain} → {data['domain']}"), show_header=False)
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
        table.add_row(key, _plain(", ".join(value) if isinstance(value, list) else str(value)))
    for item in data.get("sectors") or []:
        approval = item.get("approval") or "no approval recorded / 未登记审批文号"
        table.add_row("sector", _plain(f"{item['sector']}: {approval}"))
    ent = data["entity"]
    where = ", ".join(
        f"{key} {ent[key]}" for key in ("city", "district", "pilot_zone", "foreign_share") if ent.get(key) is not None
    )
    table.add_row(
        "entity",
        _plain(
            f"{ent['id']}: {ent['name']} ({ent['type']}, {ent['ownership']}, province {ent['province']}"
            + (f", {where}" if where else "")
            + ")"
        ),
    )
    for p in ent.get("permits", []):
        table.add_row("permit", _plain(f"{p['number']} {p['kind']} {p['issued']} → {p['expires']}"))
    _console().print(table)


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
                days = str((dt.date.fromisoformat(r["date"]) - day).days)
                table.add_row(_plain(r["kind"]), _plain(r["what"]), _plain(r["date"]), days)
            _console().print(table)
    if rows:
        raise typer.Exit(1)


def _expiring_row(item: Any) -> dict[str, str]:
    if isinstance(item, dict):
        return {k: str(v) for k, v in item.items()}
    kind, what, when = item[0], item[1], item[2]
    return {"kind": str(kind), "what": str(what), "date": when.isoformat() if hasattr(when, "isoformat") else str(when)}


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
