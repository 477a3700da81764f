"""``china-site preflight`` and ``china-site audit`` (the offline engine, :mod:`china_site.engine`): their options'
help, and how a report is written (the plan table, the verdicts, JSON, SARIF, JUnit, Code Quality) with its exit
code."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from china_site.commands.common import _console, _parse_date, _plain, _safe, user_errors
from china_site.errors import InputError


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
