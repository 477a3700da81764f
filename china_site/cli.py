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
from pathlib import Path
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
    third_party_sellers: Annotated[
        bool | None,
        typer.Option(
            "--third-party-sellers/--no-third-party-sellers",
            help="Do third parties sell on the platform? (yes: an EDI permit, B21; no: own-goods sales, which some "
            "provinces exempt; the strict default still asks for B25 with payments)",
        ),
    ] = None,
    origin: Annotated[
        OriginOpt,
        typer.Option(
            help="What serves the site: private-bucket (CDN in front of a private OSS bucket: any provider's filing) "
            "or alibaba (an origin Alibaba Cloud hosts publicly: Alibaba Cloud must be an access provider)."
        ),
    ] = OriginOpt.private_bucket,
) -> None:
    """Hong Kong or mainland? What mainland hosting would still need."""
    from china_site import api
    from china_site.hosting import SCOPE_ZH

    with user_errors():
        advice = api.advise(
            entity=entity.value,  # type: ignore[arg-type]
            payments=payments,
            platform=platform,
            third_party_sellers=third_party_sellers,
            origin=origin.value,  # type: ignore[arg-type]
            game=game,
            mainland_audience=mainland_audience,
            registrar_in_china=registrar_in_china,
            domain=domain,
            filings=filings,
            region=region,
            today=_parse_date(today),
        )
    if format is Format.json:
        _emit_json(advice.to_json())
        return
    from rich.panel import Panel
    from rich.text import Text

    console = _console()
    colour = "green" if advice.hosting == "mainland" else "yellow"
    body = Text()
    body.append(_safe(advice.hosting), style=f"bold {colour}")
    body.append(" — region ")
    body.append(_safe(advice.region), style="bold")
    body.append(", CDN scope ")
    body.append(_safe(advice.cdn_scope), style="bold")
    body.append(_safe(f" / 地域 {advice.region}，CDN 加速区域：{SCOPE_ZH[advice.cdn_scope]}"))
    body.append("\n\n")
    if advice.required:
        needs = ", ".join(advice.required)
        body.append(_safe(f"Mainland would still need: {needs} / 中国内地部署仍需：{needs}") + "\n\n")
    body.append("\n".join(f"• {_safe(r)}" for r in advice.reasons))
    console.print(Panel(body, title="china-site advise", expand=False))


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


# ---------------------------------------------------------------------------------------------------------------
# preflight · audit (the offline engine: china_site.engine)


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    codequality = "codequality"


_FORMAT_HELP = (
    "table (plan + verdicts), json (DESIGN.md contract), sarif (2.1.0), junit (XML) or codequality (GitLab Code "
    "Quality JSON)."
)
_FILINGS_HELP = (
    "Filing registry: path, oss://BUCKET/KEY or s3://BUCKET/KEY. Overrides china-site:filings for the program and "
    "every policy (also over --policy-config)."
)
_AUDIT_FILINGS_HELP = (
    "Filing registry: path, oss://BUCKET/KEY or s3://BUCKET/KEY. Overrides china-site:filings for every policy "
    "(also over --policy-config)."
)
_PREFLIGHT_HELP = (
    "Run the Pulumi program and the policy pack offline: no Pulumi CLI, no credentials, no network.\n\n"
    "The program runs under mocks with the stack's config (Pulumi.<stack>.yaml), as `pulumi preview` would run it, "
    "and the pack's policies judge every resource it registers. A program that refuses at program time (a Site with "
    "hosting: mainland for a domain without its filings) is a mandatory finding on that component.\n\n"
    "Exit 0: no mandatory finding. 1: mandatory findings. 2: bad input, or the program crashed."
)
_AUDIT_HELP = (
    "Check what the real Pulumi CLI wrote with the policy pack: `pulumi stack export` (v3/v4), "
    "`pulumi preview --json` (best with --show-sames) or JSON engine events (`pulumi up --json`, "
    "`PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json`, Automation API on_event lines).\n\n"
    "A resource whose explicit provider is not in the artifact is not read as mainland: it gets the mandatory "
    "finding provider-not-in-artifact, unless --state gives the provider. With engine events that carry the pack's "
    "own policyEvents, the report shows them beside ours and flags any disagreement.\n\n"
    "Resource policies see each resource's inputs and provider; stack policies see the outputs. Without --filings and "
    "without china-site:filings in the artifact, the registry is filings.yaml of the Pulumi project around the "
    "current directory; a registry that cannot be read is a mandatory finding, never a pass.\n\n"
    "A run that failed (an error diagnostic such as a program refusing a mainland deploy, a failed operation, a "
    "failed summary) is the mandatory finding run-failed: audit never passes what the engine did not.\n\n"
    "Exit 0: no mandatory finding. 1: mandatory findings. 2: bad input."
)
_POLICY_CONFIG_HELP = "Policy config in Pulumi's --policy-pack-config JSON format (enforcement levels, waivers, …)."
_TODAY_HELP = "Evaluate as of this ISO date (YYYY-MM-DD); default: today in China (UTC+8)."
_OUTPUT_HELP = "Write the report to this file instead of standard output."
_PROGRESS_MIN_RESOURCES = 25  # a progress bar (stderr, terminals only) for runs at least this large


def _absolute_source(source: str) -> str:
    """A --filings value: URIs as they are, paths absolute (relative to the current directory)."""
    from china_site.engine.runner import resolve_filings

    return resolve_filings(source, ".")


def _progress(records: Any, total: int) -> Any:
    from china_site.report import progress

    return progress(records, total, enabled=total >= _PROGRESS_MIN_RESOURCES, description="Checking policies")


def _plan_table(title: str, rows: list[Any]) -> Any:
    """The plan: each resource (name, then its type), where it is served from (region, then the area the compliance
    core reads from it), its CDN scope and whether it is public (with the domains it serves)."""
    from rich.table import Table
    from rich.text import Text

    from china_site.hosting import SCOPE_ZH

    table = Table(title=_plain(title), title_justify="left", expand=False)
    table.add_column("Resource / 资源", overflow="fold")
    table.add_column("Region · area\n地域 · 区域", overflow="fold")
    table.add_column("CDN scope\n加速区域", no_wrap=True)
    table.add_column("Public\n公网", overflow="fold")
    colours = {"mainland": "bold", "hongkong": "green", "overseas": "green"}
    for row in rows:
        resource = Text(_safe(row.name), style="bold")
        resource.append(f"\n{_safe(row.type)}", style="dim")
        where = Text(_safe(row.region or "—"))
        if row.area:
            where.append(f"\n{_safe(row.area)}", style=colours.get(row.area, ""))
        if row.area_note and not row.cdn_scope:
            where.append(f"\n({_safe(row.area_note)})", style="dim")
        public = Text("—" if row.public is None else ("yes / 是" if row.public else "no / 否"))
        if row.public and row.domains:
            public.append("\n" + "\n".join(_safe(d) for d in row.domains), style="dim")
        scope = _plain(row.cdn_scope or "—")
        if row.cdn_scope in SCOPE_ZH:  # the console's name of the API value (overseas → 全球（不包含中国内地）)
            scope.append("\n" + SCOPE_ZH[row.cdn_scope])
        table.add_row(resource, where, scope, public)
    return table


def _emit_report(
    report: Any,
    *,
    format: ReportFormat,
    output: Path | None,
    title: str,
    plan_rows: list[Any],
    notes: list[str],
    refusal: Any = None,
    extra: dict[str, Any] | None = None,
    notes_title: str = "The program says / 程序输出:",
) -> int:
    """Render ``report`` in ``format`` to stdout or ``output``; returns the exit code (0/1). ``extra``: optional
    top-level keys of the JSON report (the engine's own verdicts), beside the contract's findings and summary."""
    from china_site.report import to_codequality, to_json, to_junit, to_sarif

    meta = report.policies
    if format is ReportFormat.table:
        text = _render_table_text(
            report, title, plan_rows, notes, refusal, to_file=output is not None, notes_title=notes_title
        )
    elif format is ReportFormat.json:
        text = to_json(report)
        if extra:
            text = json.dumps({**json.loads(text), **extra}, ensure_ascii=False, indent=2) + "\n"
    elif format is ReportFormat.sarif:
        text = to_sarif(report, policies_meta=meta)
    elif format is ReportFormat.codequality:
        text = to_codequality(report)
    else:
        text = to_junit(report)
    if text is not None:
        text = _encodable(text)
    if output is None:
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
    else:
        try:
            output.write_text(text or "", encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"cannot write the report ({exc.strerror or type(exc).__name__})",
                where=f"--output {output}",
                fix="choose a writable file path",
            ) from None
        typer.echo(
            f"china-site: {format.value} report written to {output}: {report.mandatory} mandatory, "
            f"{report.advisory} advisory",
            err=True,
        )
    return int(report.exit_code)


def _encodable(text: str) -> str:
    """``text`` with any lone surrogate written as a ``\\udXXX`` escape (valid in JSON strings, visible elsewhere):
    the report can always be written as UTF-8."""
    import re

    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def _render_table_text(
    report: Any,
    title: str,
    plan_rows: list[Any],
    notes: list[str],
    refusal: Any,
    *,
    to_file: bool,
    notes_title: str = "The program says / 程序输出:",
) -> str | None:
    """The table view; printed directly (colours on terminals) unless it goes to a file (then returned as text)."""
    import io

    from rich.console import Console
    from rich.text import Text

    from china_site.report import render_table

    buffer = io.StringIO() if to_file else None
    console = (
        Console(file=buffer, width=160, highlight=False, color_system=None, soft_wrap=False)
        if buffer is not None
        else _console()
    )
    if plan_rows:
        console.print(_plan_table(f"Plan / 部署计划 — {title}", plan_rows))
    else:
        console.print(_plain(f"Plan / 部署计划 — {title}: no resources / 无资源", style="bold"))
    if notes:
        console.print(Text(notes_title, style="bold"))
    for note in notes:
        console.print(_plain(f"• {note}", style="dim"))
    if refusal is not None:
        console.print(
            Text("The program refused to deploy / 程序拒绝部署: ", style="bold red") + _plain(refusal.headline)
        )
        if refusal.fix:
            console.print(_plain(f"Fix / 修复: {refusal.fix}"))
    render_table(report, console)
    return buffer.getvalue() if buffer is not None else None


def _policy_config(path: str | None) -> dict[str, Any] | None:
    from china_site.engine.driver import load_policy_config

    return load_policy_config(path) if path else None


@app.command(help=_PREFLIGHT_HELP)
def preflight(
    directory: Annotated[
        Path, typer.Argument(help="The Pulumi project directory (holds Pulumi.yaml).", show_default=".")
    ] = Path("."),
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Stack name: reads Pulumi.<stack>.yaml (default: the only stack)."),
    ] = None,
    filings: Annotated[str | None, typer.Option(help=_FILINGS_HELP)] = None,
    policy_config: Annotated[str | None, typer.Option("--policy-config", help=_POLICY_CONFIG_HELP)] = None,
    today: Annotated[str | None, typer.Option(help=_TODAY_HELP)] = None,
    format: Annotated[ReportFormat, typer.Option("--format", help=_FORMAT_HELP)] = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_OUTPUT_HELP)] = None,
) -> None:
    """Run the program and the pack offline (see ``_PREFLIGHT_HELP``)."""
    from china_site import api
    from china_site.engine.driver import policies_meta
    from china_site.engine.runner import (
        TODAY_KEY,
        available_stacks,
        check,
        load_pack,
        plan,
        project_config,
        read_project,
        run_program,
    )
    from china_site.locations import source_spots
    from china_site.policy_config import check_stack_keys, china_today
    from china_site.report import Report

    names: dict[str, str] = {}
    with user_errors(names):
        day = _parse_date(today) if today is not None else None
        project = read_project(directory)
        if stack is None:
            stacks = available_stacks(project.directory)
            if len(stacks) != 1:
                raise InputError(
                    "choose a stack" if stacks else "the project has no stack config (Pulumi.<stack>.yaml)",
                    where=str(project.directory),
                    fix=f"pass --stack with one of: {', '.join(stacks)}" if stacks else "create Pulumi.<stack>.yaml",
                )
            stack = stacks[0]
        config_policies = _policy_config(policy_config)
        source = _absolute_source(filings) if filings is not None else None
        if source is not None and filings is not None:
            names[source] = filings  # errors name the registry as given, never by the machine's absolute path
        _, config, _ = project_config(project.directory, stack)
        check_stack_keys(config, where=f"{project.directory}, stack '{stack}'")
        overrides: dict[str, str] = {}
        if day is not None:
            overrides[TODAY_KEY] = day.isoformat()
        elif TODAY_KEY not in config:
            overrides[TODAY_KEY] = china_today().isoformat()  # the program and the pack agree on the day
        pack = load_pack()
        result = run_program(project.directory, stack, config_overrides=overrides, filings=source)
        checked = check(
            result.records,
            pack=pack,
            stack_config=result.config,
            policy_config=config_policies,
            config_source=policy_config or "policy config",
            filings=source,
            today=day,
            refusal=result.refusal,
            stack=result.stack,
            project=result.project,
            project_dir=result.directory,
            progress=_progress,
        )
        notes = _program_notes(result.logs)
        entry = project.main / "__main__.py" if project.main.is_dir() else project.main
        title = f"{result.project}/{result.stack}"
        rows = plan(result.records, checked.stack_config)
        report = Report.from_records(
            checked.diagnostics,
            checked.records,
            title=title,
            stack=checked.stack,
            project=checked.project,
            policies=policies_meta(checked.pack.policies, pack_enforcement=checked.pack.enforcement),
            sources=source_spots(result.records, project_dir=project.directory)
            if format in (ReportFormat.sarif, ReportFormat.codequality)
            else {},
            artifact=_whole_file(entry),
            not_applicable=api.not_applicable(checked, rows),
        )
        code = _emit_report(
            report,
            format=format,
            output=output,
            title=title,
            plan_rows=rows,
            notes=notes,
            refusal=result.refusal,
        )
    raise typer.Exit(code)


def _program_notes(logs: list[Any]) -> list[str]:
    """The program's own info/warning lines (e.g. the Site's hosting decision), once each."""
    seen: dict[str, None] = {}
    for entry in logs:
        if entry.severity in ("info", "warning") and entry.message.strip():
            seen.setdefault(entry.message.strip().splitlines()[0], None)
    return list(seen)


def _whole_file(path: Path) -> Any:
    """A file as a report location: its URI relative to the repository (never an absolute path) and its line
    count (a whole-file region)."""
    from china_site.locations import file_uri
    from china_site.report import SourceSpot

    try:
        lines = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        lines = None
    return SourceSpot(file_uri(str(path)), lines=lines)


def _artifact_locations(artifact: str, records: list[Any], project_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Where audit results point: the program's source line for resources whose artifact carries a
    ``sourcePosition`` (read from ``project_dir``), else the audited file (whole, or the line of each resource's
    URN). From standard input: the project's Pulumi.yaml."""
    from china_site.locations import artifact_spots, file_uri, source_spots

    sources: dict[str, Any] = {}
    if artifact == "-":
        pulumi_yaml = project_dir / "Pulumi.yaml"
        whole = _whole_file(pulumi_yaml) if pulumi_yaml.is_file() else None
    else:
        whole = _whole_file(Path(artifact))
        try:
            text = Path(artifact).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        sources.update(artifact_spots(text, [r.urn for r in records], file_uri(artifact)))
    sources.update(source_spots(records, project_dir=project_dir))
    return whole, sources


@app.command(help=_AUDIT_HELP)
def audit(
    artifact: Annotated[
        str,
        typer.Argument(
            help="`pulumi stack export` (v3/v4), `pulumi preview --json` output or JSON engine events; - reads stdin."
        ),
    ],
    filings: Annotated[str | None, typer.Option(help=_AUDIT_FILINGS_HELP)] = None,
    policy_config: Annotated[str | None, typer.Option("--policy-config", help=_POLICY_CONFIG_HELP)] = None,
    today: Annotated[str | None, typer.Option(help=_TODAY_HELP)] = None,
    format: Annotated[ReportFormat, typer.Option("--format", help=_FORMAT_HELP)] = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_OUTPUT_HELP)] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="A `pulumi stack export` of the same stack: the providers a preview without --show-sames leaves out, "
            "and the dependencies engine events never carry (a DNS record's link to what it points at).",
        ),
    ] = None,
    project_root: Annotated[
        Path | None,
        typer.Option(
            "--project-root",
            help="The folder of the program's Pulumi.yaml: where SARIF source locations and relative registry paths "
            "start. Default: the Pulumi.yaml at or above the artifact or the working folder, else the one below the "
            "working folder naming the artifact's project.",
        ),
    ] = None,
) -> None:
    """Check a Pulumi artifact with the pack (see ``_AUDIT_HELP``)."""
    from dataclasses import replace

    from china_site import api

    with user_errors():
        run = api.run_audit(
            artifact,
            filings=filings,
            policy_config=policy_config,
            today=_parse_date(today) if today is not None else None,
            state=state,
            project_root=project_root,
            progress=_progress,
        )
        report = run.report
        if format in (ReportFormat.sarif, ReportFormat.codequality):
            whole, sources = _artifact_locations(artifact, run.artifact.records, run.project_dir)
            report = replace(report, artifact=whole, sources=sources)
        code = _emit_report(
            report,
            format=format,
            output=output,
            title=report.title,
            plan_rows=run.plan,
            notes=run.notes,
            extra=run.engine,
            notes_title="The engine's own policy verdicts / 引擎自身的策略结论:",
        )
    raise typer.Exit(code)


@app.command("pack-dir")
def pack_dir(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Write the pack here instead of the cache folder.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a --dir folder that holds files other than a china-site pack (overwrites them)."
        ),
    ] = False,
) -> None:
    """Print a folder that is a working policy pack: pulumi preview --policy-pack "$(china-site pack-dir)".

    The pack shipped with this installation, copied into the cache (CHINA_SITE_CACHE_DIR, else XDG_CACHE_HOME/
    china-site) with its virtualenv set to this interpreter's environment (where china-site is installed)."""
    from china_site.packdir import materialise

    with user_errors():
        folder = materialise(directory, force=force)
    typer.echo(str(folder))


@app.command("provider-dir")
def provider_dir() -> None:
    """Print the folder of the china-site provider plugin: pulumi package add "$(china-site provider-dir)".

    The plugin (``pulumi-resource-china-site``, this environment's interpreter) is put into Pulumi's plugin cache
    ($PULUMI_HOME/plugins, ~/.pulumi by default) first, where the engine finds it like any provider."""
    from china_site.provider.install import ensure_installed

    try:
        folder = ensure_installed()
    except OSError as err:
        print(
            f"china-site: error: cannot write the provider plugin into Pulumi's plugin cache ({err.strerror}) / "
            "无法写入 Pulumi 插件缓存 — set PULUMI_HOME to a writable folder",
            file=sys.stderr,
        )
        raise typer.Exit(2) from None
    typer.echo(str(folder))


@app.command("publish-dir")
def publish_dir(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) folder to write the pack to.")],
) -> None:
    """Write a policy pack folder for `pulumi policy publish`: the pack, china-site's own wheel and a
    requirements.txt that installs that wheel (china-site is not on PyPI), then: cd DIR && pulumi policy publish."""
    from china_site.publishdir import write_publish_dir

    with user_errors():
        folder = write_publish_dir(directory)
    typer.echo(str(folder))


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
