"""china-site's Python API: what ``china-site advise`` and ``china-site audit`` do, as typed functions.

A contract like the command line (DESIGN.md): the names and signatures below stay; the CLI itself calls them.

    from china_site import api

    advice = api.advise(entity="foreign", payments=True)
    print(advice.hosting, advice.region, advice.required)

    report = api.audit("state.json", filings="filings.yaml")
    for finding in report.diagnostics:
        headline, *reason = report.finding_lines(finding)
        print(finding.enforcement, finding.policy, finding.name, headline, *reason, sep="\\n  ")
    raise SystemExit(report.exit_code)

``audit`` takes what ``china-site audit`` takes — a file path, or the decoded document: a ``pulumi stack export``,
a ``pulumi preview --json`` document, or engine events (a list of event objects: ``pulumi up --json`` lines, or the
Automation API's ``on_event`` events turned into JSON with :func:`event_to_json`). Bad input raises
:class:`~china_site.errors.InputError` (one line: what, where, how to fix) — the CLI's exit code 2; a filing
registry that cannot be read is a mandatory finding in the report, never an exception.

Imports are lazy: ``import china_site.api`` is cheap; the engine loads on the first ``audit``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from china_site.errors import ChinaSiteError, InputError
from china_site.report import Diagnostic, PolicyMeta, Report

if TYPE_CHECKING:
    from china_site.engine.artifacts import Artifact
    from china_site.engine.runner import Checked, PlanRow
    from china_site.hosting import Advice

__all__ = [
    "Advice",
    "AuditRun",
    "ChinaSiteError",
    "Diagnostic",
    "InputError",
    "PolicyMeta",
    "Report",
    "advise",
    "audit",
    "event_to_json",
    "not_applicable",
    "run_audit",
]


def __getattr__(name: str) -> Any:
    if name == "Advice":  # loaded on use: the hosting rules pull in the registry and region data
        from china_site.hosting import Advice

        return Advice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Entity = Literal["domestic", "foreign-invested", "foreign", "individual"]
Origin = Literal["private-bucket", "alibaba"]
# What serves the site behind its domain → the exposing products (data/access_providers.yaml decides what each needs):
# a CDN in front of a private OSS bucket (the Site component's layout), or an origin Alibaba Cloud hosts publicly.
ORIGIN_PRODUCTS: dict[str, tuple[str, ...]] = {"private-bucket": ("cdn",), "alibaba": ("cdn", "ecs")}
ArtifactInput = str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]]
PolicyConfigInput = str | os.PathLike[str] | Mapping[str, Any] | None


def advise(
    *,
    entity: Entity = "domestic",
    payments: bool = False,
    platform: bool = False,
    third_party_sellers: bool | None = None,
    origin: Origin = "private-bucket",
    game: bool = False,
    mainland_audience: bool = True,
    registrar_in_china: bool = True,
    domain: str | None = None,
    filings: str | None = None,
    region: str = "cn-shanghai",
    today: dt.date | str | None = None,
) -> Advice:
    """Hong Kong or mainland, the region and CDN scope, and what mainland hosting would still need.

    ``third_party_sellers``: do third parties sell on the platform (True: an EDI permit, B21; False: own-goods
    sales, which some provinces exempt; None: not asked, the strict default). ``origin``: what serves the site —
    ``private-bucket`` (CDN in front of a private bucket: any provider's filing) or ``alibaba`` (an origin Alibaba
    Cloud hosts publicly: Alibaba Cloud must be an access provider). ``domain`` and ``filings`` (a registry source:
    path, ``oss://``, ``s3://``) go together: the domain is then
    checked against the registry. Raises InputError for a bad domain, region or date."""
    from china_site.hosting import AdviceInput
    from china_site.hosting import advise as run_advise

    if (domain is None) != (filings is None):
        raise InputError(
            "--domain and --filings go together",
            where="advise",
            fix="give both (to check a domain against the registry) or neither",
        )
    registry = None
    if domain is not None and filings is not None:
        from china_site import domains
        from china_site.filings import load_registry

        domains.to_ascii(domain)  # a host name, or one line saying why not (never advice for garbage)
        registry = load_registry(filings)
    return run_advise(
        AdviceInput(
            entity=entity,
            payments=payments,
            platform=platform or bool(third_party_sellers),
            third_party_sellers=third_party_sellers,
            products=ORIGIN_PRODUCTS[origin],
            game=game,
            mainland_audience=mainland_audience,
            registrar_in_china=registrar_in_china,
            domain=domain,
            registry=registry,
            today=_date(today) or dt.date.today(),
            mainland_region=region,
        )
    )


@dataclass(frozen=True)
class AuditRun:
    """Everything one audit produced: the :class:`Report`, and what the CLI's table and JSON add to it (the plan,
    the engine's own verdicts when the input carries them)."""

    report: Report
    artifact: Artifact
    checked: Checked
    project_dir: Path
    plan: list[PlanRow] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)  # engine_policy_events, disagreements, engine_compared
    notes: list[str] = field(default_factory=list)


def audit(
    artifact: ArtifactInput,
    *,
    filings: str | None = None,
    policy_config: PolicyConfigInput = None,
    today: dt.date | str | None = None,
    state: ArtifactInput | None = None,
    project_root: str | os.PathLike[str] | None = None,
) -> Report:
    """Judge a Pulumi artifact with the china-site pack, offline; the report of :func:`run_audit`.

    ``report.mandatory`` > 0 is a failed check (``report.exit_code`` is the CLI's 0/1)."""
    return run_audit(
        artifact, filings=filings, policy_config=policy_config, today=today, state=state, project_root=project_root
    ).report


def run_audit(
    artifact: ArtifactInput,
    *,
    filings: str | None = None,
    policy_config: PolicyConfigInput = None,
    today: dt.date | str | None = None,
    state: ArtifactInput | None = None,
    project_root: str | os.PathLike[str] | None = None,
    progress: Any = None,
) -> AuditRun:
    """:func:`audit`, with the plan and the engine comparison the CLI shows.

    ``filings``: the registry for every policy (over the artifact's ``china-site:filings`` and the policy config);
    a relative path starts at the current directory. ``policy_config``: a ``--policy-pack-config`` file or its
    decoded document. ``state``: a ``pulumi stack export`` of the same stack (the providers a preview without
    ``--show-sames`` leaves out, or the resources ``pulumi policy analyze --json`` judged). ``project_root``: the
    folder of the program's ``Pulumi.yaml`` (default: found from the artifact's folder or the current one)."""
    from dataclasses import replace

    from china_site.engine.artifacts import root_stack_urn
    from china_site.engine.driver import policies_meta
    from china_site.engine.pipeline import (
        LINKS_NOT_IN_ARTIFACT,
        RUN_FAILED,
        judge_what_decides_itself,
        link_gap_diagnostics,
        run_failure_diagnostics,
        uncarried_diagnostics,
    )
    from china_site.engine.runner import (
        PROVIDER_NOT_IN_ARTIFACT,
        RESOURCES_NOT_IN_ARTIFACT,
        check,
        load_pack,
        message_redactor,
        omission_diagnostics,
        plan,
        provider_gap_diagnostics,
        resolve_filings,
    )

    day = _date(today)
    config = _policy_config(policy_config)
    source = resolve_filings(filings, ".") if filings is not None else None
    state_doc = None
    if state is not None:
        state_doc = _read(state)
        if state_doc.kind != "export":
            raise InputError(
                f"--state needs a `pulumi stack export` document, found {state_doc.kind} output",
                where=state_doc.source,
                fix="run `pulumi stack export --file state.json` and pass that file",
            )
    doc = judge_what_decides_itself(_read(artifact, state=state_doc))
    project_dir = _project_root(project_root, artifact, doc.project)
    pack = load_pack()
    config_source = str(policy_config) if isinstance(policy_config, str | os.PathLike) else "policy config"

    def judge(records: list[Any], **more: Any) -> Checked:
        return check(
            records,
            pack=pack,
            stack_config=doc.config,
            policy_config=config,
            config_source=config_source,
            filings=source,
            today=day,
            stack=doc.stack,
            project=doc.project,
            project_dir=project_dir,
            **more,
        )

    checked = judge(doc.judged_records, progress=progress)

    def dns_linked(records: list[Any]) -> list[Any]:
        """The pack over ``records`` as for the audit itself (what a missing DNS link could change)."""
        return judge(records).diagnostics

    gaps = (
        run_failure_diagnostics(doc)
        + omission_diagnostics(doc)
        + uncarried_diagnostics(doc)
        + provider_gap_diagnostics(doc)
        + link_gap_diagnostics(doc, dns_linked)
    )
    # Engine-copied text (failed-run messages) goes through the redaction of our own messages.
    redact = message_redactor(doc.records)
    gaps = [d if redact(d.message) == d.message else replace(d, message=redact(d.message)) for d in gaps]
    checked = replace(checked, diagnostics=gaps + checked.diagnostics, records=doc.records)
    engine: dict[str, Any] = {}
    notes: list[str] = []
    if doc.kind == "events":
        from china_site.engine.events import compare

        stack_urn = root_stack_urn(doc.stack or "", doc.project or "")
        skip = [PROVIDER_NOT_IN_ARTIFACT, RESOURCES_NOT_IN_ARTIFACT, RUN_FAILED, LINKS_NOT_IN_ARTIFACT]
        comparison = compare(doc, checked.diagnostics, pack=pack.name, stack_urn=stack_urn, skip_policies=skip)
        engine, notes = _engine_section(comparison, redact)
    rows = plan(doc.records, checked.stack_config)
    report = Report.from_records(
        checked.diagnostics,
        checked.records,
        title=f"{doc.project or '?'}/{doc.stack or '?'} ({doc.kind}: {doc.source})",
        stack=checked.stack,
        project=checked.project,
        policies=policies_meta(checked.pack.policies, pack_enforcement=checked.pack.enforcement),
        not_applicable=not_applicable(checked, rows),
    )
    return AuditRun(
        report=report,
        artifact=doc,
        checked=checked,
        project_dir=project_dir,
        plan=rows,
        engine=engine,
        notes=notes,
    )


def not_applicable(checked: Checked, rows: Sequence[PlanRow]) -> list[tuple[str, str]]:
    """(URN, policy) checks that did not apply, for JUnit's ``skipped``: what the policies reported as not applicable
    (a registry that could not be read), and every resource policy on a resource the plan shows is not public
    (nothing for it to judge). A check with a finding is never among them (the report keeps findings first)."""
    from pulumi_policy import StackValidationPolicy

    pairs = [(na.urn, na.policy) for na in checked.evaluation.not_applicable]
    resource_policies = [p.name for p in checked.pack.policies if not isinstance(p, StackValidationPolicy)]
    for row in rows:
        if not row.public:
            pairs.extend((row.urn, name) for name in resource_policies)
    return pairs


def event_to_json(event: Any) -> dict[str, Any]:
    """An Automation API ``EngineEvent`` (``on_event``) as the CLI's JSON event object, for :func:`audit`."""
    from china_site.engine.events import event_to_json as line

    return json.loads(line(event))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------------------


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(
            f"'{value}' is not an ISO date", where="--today", fix="write the date as YYYY-MM-DD, e.g. 2026-11-28"
        ) from None


def _read(artifact: ArtifactInput, *, state: Artifact | None = None) -> Artifact:
    from china_site.engine.artifacts import parse_document, read_artifact

    if isinstance(artifact, str | os.PathLike):
        return read_artifact(os.fspath(artifact), state=state)
    if isinstance(artifact, Mapping):
        return parse_document(artifact, "<document>", state=state)
    from china_site.engine.events import parse_events

    # a list is engine events, as `pulumi up --json` lines (the Automation API's include bare {sequence, timestamp})
    return parse_events(list(artifact), "<events>", state=state)


def _policy_config(value: PolicyConfigInput) -> dict[str, Any] | None:
    from china_site.engine.driver import load_policy_config, policy_entries

    if value is None:
        return None
    if isinstance(value, str | os.PathLike):
        return load_policy_config(os.fspath(value))
    return policy_entries(value, source="policy config")


def _project_root(given: str | os.PathLike[str] | None, artifact: ArtifactInput, project: str | None) -> Path:
    """The Pulumi project an audited artifact came from (where ``project:///`` source positions and relative
    registry paths start): ``project_root``; else the folder of the ``Pulumi.yaml`` at or above the artifact's
    folder or the working folder; else the one folder below the working folder whose ``Pulumi.yaml`` names the
    artifact's project (a monorepo); else the working folder."""
    from china_site.locations import locate_project

    if given is not None:
        folder = Path(given)
        if not folder.is_dir():
            raise InputError(
                "the project root is not a folder",
                where=f"--project-root {os.fspath(given)}",
                fix="pass the folder that holds the program's Pulumi.yaml",
            )
        return folder.resolve()
    near = [Path(os.fspath(artifact)).parent] if isinstance(artifact, str | os.PathLike) and artifact != "-" else []
    return locate_project(project, near=near) or Path.cwd().resolve()


def _engine_section(comparison: Any, redact: Callable[[str], str]) -> tuple[dict[str, Any], list[str]]:
    """The JSON keys and the table notes for the engine's own policy verdicts (events with policyEvents). The
    engine's messages go through ``redact``, the redaction of our own messages."""
    events = [
        {"policy": e.policy, "enforcement": e.enforcement, "urn": e.urn, "pack": e.pack, "message": redact(e.message)}
        for e in comparison.engine
    ]
    disagreements = [d.to_dict() for d in comparison.disagreements]
    extra = {
        "engine_policy_events": events,
        "disagreements": disagreements,
        "engine_compared": comparison.compared,
    }
    if not comparison.compared:
        notes = [
            f"The events show no run of the {comparison.pack} pack (no policyEvent, no summaryEvent PolicyPacks): "
            "nothing to compare. / 事件中没有该策略包的运行记录，无法比对。"
        ]
    else:
        notes = [
            f"The engine reported {len(events)} violation(s) of {comparison.pack}; "
            f"{len(disagreements)} disagreement(s) with this audit. / 引擎报告 {len(events)} 项，"
            f"与本次审计不一致 {len(disagreements)} 项。"
        ]
        notes += [
            f"DISAGREEMENT / 不一致: {d.policy} [{d.enforcement}] {d.urn} — reported by {d.reported_by} only"
            for d in comparison.disagreements
        ]
    return extra, notes
