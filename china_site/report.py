"""Reports of a policy run: table (rich), JSON (the DESIGN.md contract), SARIF 2.1.0 and JUnit XML.

Only what the diagnostics carry is printed: policy, level, resource URN/type/name and the policy's message.
Resource properties are never added, so secrets cannot leak through a report.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from china_site import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from china_site.engine.artifacts import Record

T = TypeVar("T")

TOOL_NAME = "china-site"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class ResourceId(NamedTuple):
    urn: str
    type: str
    name: str


DiagnosticLevel = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class Diagnostic:
    """One policy violation, as the engine reports it. ``message`` is the policy description, a newline and the
    policy's message (or only the description when the policy gave no message)."""

    policy: str
    enforcement: DiagnosticLevel
    urn: str
    type: str
    name: str
    message: str


@dataclass(frozen=True)
class PolicyMeta:
    """What a report says about a policy (SARIF rules, JUnit test cases)."""

    name: str
    description: str = ""
    enforcement: str = "advisory"  # default level: mandatory | advisory | remediate | disabled
    display_name: str | None = None
    help_text: str | None = None
    help_uri: str | None = None
    severity: str | None = None  # the pack's severity: low | medium | high | critical
    details: str | None = None  # the full description (``description`` is its first sentence, as the engine prints)
    stack: bool = False  # a stack policy (judges the whole stack once) rather than a resource policy


@dataclass(frozen=True)
class Report:
    """The outcome of one run. ``resources`` is how many resources were checked; ``resource_ids`` lists them
    (for JUnit's passing test cases; when empty, the resources named by the diagnostics are used); ``policies``
    describes the pack's policies (SARIF rules, JUnit test cases, the table's message lines) when known."""

    diagnostics: list[Diagnostic]
    resources: int
    title: str = TOOL_NAME
    stack: str | None = None
    project: str | None = None
    resource_ids: tuple[ResourceId, ...] = field(default=())
    policies: tuple[PolicyMeta, ...] = field(default=())
    sources: Mapping[str, SourceSpot] = field(default_factory=dict)  # URN → the program's source position
    artifact: SourceSpot | None = None  # the audited file (SARIF's physical location when no source is known)
    not_applicable: frozenset[tuple[str, str]] = frozenset()  # (URN, policy) pairs the policy said do not apply

    @classmethod
    def from_records(
        cls,
        diagnostics: list[Diagnostic],
        records: Sequence[Record],
        *,
        title: str = TOOL_NAME,
        stack: str | None = None,
        project: str | None = None,
        policies: Sequence[PolicyMeta] = (),
        sources: Mapping[str, SourceSpot] | None = None,
        artifact: SourceSpot | None = None,
        not_applicable: Iterable[tuple[str, str]] = (),
    ) -> Report:
        return cls(
            diagnostics=list(diagnostics),
            resources=len(records),
            title=title,
            stack=stack,
            project=project,
            resource_ids=tuple(ResourceId(r.urn, r.type, r.name) for r in records),
            policies=tuple(policies),
            sources=dict(sources or {}),
            artifact=artifact,
            not_applicable=frozenset((urn, policy) for urn, policy in not_applicable),
        )

    @property
    def mandatory(self) -> int:
        return sum(1 for d in self.diagnostics if d.enforcement == "mandatory")

    @property
    def advisory(self) -> int:
        return sum(1 for d in self.diagnostics if d.enforcement == "advisory")

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this report: 1 with a mandatory finding, else 0."""
        return 1 if self.mandatory else 0

    def finding_lines(self, diagnostic: Diagnostic) -> list[str]:
        """A finding's own lines, without the policy description the engine puts first: the finding (English),
        then its reason and fix (Chinese, the Alibaba Cloud error the deploy would hit, ``Fix: …``)."""
        description = next((m.description for m in self.policies if m.name == diagnostic.policy), None)
        return [line for line in policy_message_lines(diagnostic, description or None) if line.strip()]


def exit_code(report: Report) -> int:
    """0 = no mandatory finding; 1 = at least one (DESIGN.md exit codes; 2 is the CLI's, for bad input)."""
    return 1 if report.mandatory else 0


# ---------------------------------------------------------------------------------------------------------------
# JSON (DESIGN.md contract)


def to_dict(report: Report) -> dict[str, Any]:
    """The contract's ``findings`` and ``summary``; ``policies`` adds each policy's full description, severity, fix
    and link (a violation's message leads with the description's first sentence only)."""
    doc: dict[str, Any] = {
        "findings": [
            {
                "policy": d.policy,
                "enforcement": d.enforcement,
                "urn": d.urn,
                "type": d.type,
                "name": d.name,
                "message": d.message,
            }
            for d in report.diagnostics
        ],
        "summary": {"resources": report.resources, "mandatory": report.mandatory, "advisory": report.advisory},
    }
    if report.policies:
        doc["policies"] = [
            {
                "name": m.name,
                "enforcement": m.enforcement,
                "severity": m.severity,
                "kind": "stack" if m.stack else "resource",
                "description": m.details or m.description,
                "remediation": m.help_text,
                "url": m.help_uri,
            }
            for m in report.policies
        ]
    return doc


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(doc: Any) -> str:
    """Readable JSON (UTF-8 text, not ``\\u`` escapes) that can always be written as UTF-8: a lone surrogate (a
    ``\\ud800`` escape in the artifact read) stays a JSON escape instead of breaking the file."""
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_json(report: Report) -> str:
    return json_text(to_dict(report))


# ---------------------------------------------------------------------------------------------------------------
# SARIF 2.1.0 (what GitHub code scanning and Microsoft's SARIF Multitool with the "Sarif;Gh" rules accept)

_FINGERPRINT_KEY = "chinaSitePolicyResource/v1"
# GitHub maps security-severity to critical (≥ 9.0), high (≥ 7.0), medium (≥ 4.0) and low (> 0): from the pack's
# own severity of each policy; without one (a policy of another pack), from its enforcement level.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_ENFORCEMENT_SEVERITY = {"mandatory": "high", "remediate": "high", "advisory": "medium"}
# An advisory finding (a policy advisory by default, or a waived finding of a blocking one) never shows as an error.
_SEVERITY_LEVEL = {"critical": "warning", "high": "warning", "medium": "warning", "low": "note"}
_PROJECT_URL_LABELS = ("homepage", "home", "repository", "source", "documentation")


def information_uri() -> str | None:
    """The project's home as the installed distribution declares it (``[project.urls]``: Homepage, Repository,
    Source or Documentation); None when it declares none (SARIF's ``informationUri`` is then left out rather than
    pointing at a page that does not exist)."""
    from importlib import metadata

    try:
        entries = metadata.metadata(TOOL_NAME).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    urls: dict[str, str] = {}
    for entry in entries:
        label, _, url = str(entry).partition(",")
        if url.strip().startswith("https://"):
            urls.setdefault(label.strip().lower(), url.strip())
    return next((urls[label] for label in _PROJECT_URL_LABELS if label in urls), None)


def _severity(meta: PolicyMeta | None, enforcement: str) -> str | None:
    if meta is not None and meta.severity in _SECURITY_SEVERITY:
        return meta.severity
    return _ENFORCEMENT_SEVERITY.get(enforcement)


def result_level(meta: PolicyMeta | None, enforcement: str) -> str:
    """A result's SARIF level: a finding that blocks the deployment (mandatory) is an error; an advisory one is a
    warning, or a note when the pack rates the policy's severity low."""
    if enforcement in ("mandatory", "remediate"):
        return "error"
    if enforcement == "disabled":
        return "none"
    severity = _severity(meta, enforcement)
    return _SEVERITY_LEVEL.get(severity or "", "warning")


_RULE_TAGS = ("security", "compliance", "china", "icp")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]")


@dataclass(frozen=True)
class SourceSpot:
    """Where a result is shown: a file as a relative URI (relative to the repository root or the working
    directory; never an absolute path of the machine) and, when known, a line (1-based) and column. Without a line,
    the whole file is meant (``lines`` = its line count)."""

    uri: str
    line: int | None = None
    column: int | None = None
    lines: int | None = None

    def region(self) -> dict[str, int]:
        if self.line is not None:
            region = {"startLine": self.line}
            if self.column is not None:
                region["startColumn"] = self.column
            return region
        return {"startLine": 1, "endLine": max(1, self.lines or 1)}


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (a rule's short description); the whole text when it has one sentence."""
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    return text[: match.end()] if match else text


def _help(meta: PolicyMeta) -> dict[str, str]:
    """``help`` in text and markdown: the fix (the policy's remediation steps) and where to read more."""
    steps = (meta.help_text or "").strip()
    if not steps:
        steps = f"See the china-site documentation of policy {meta.name}."
    text, markdown = f"Fix:\n{steps}", f"**Fix**\n\n{steps}"
    if meta.help_uri:
        text += f"\n\nMore: {meta.help_uri}"
        markdown += f"\n\nMore: <{meta.help_uri}>"
    return {"text": text, "markdown": markdown}


def _rule_json(meta: PolicyMeta) -> dict[str, Any]:
    description = " ".join((meta.details or meta.description or meta.name).split())
    rule: dict[str, Any] = {"id": meta.name}
    if meta.display_name:
        rule["name"] = meta.display_name
    rule["shortDescription"] = {"text": first_sentence(" ".join((meta.description or description).split()))}
    rule["fullDescription"] = {"text": description}
    rule["help"] = _help(meta)
    if meta.help_uri:
        rule["helpUri"] = meta.help_uri
    level = result_level(meta, meta.enforcement)
    rule["defaultConfiguration"] = {"level": level, "enabled": meta.enforcement != "disabled"}
    properties: dict[str, Any] = {"enforcement": meta.enforcement, "tags": list(_RULE_TAGS), "precision": "high"}
    severity = _severity(meta, meta.enforcement)
    if severity is not None and meta.enforcement != "disabled":
        properties["severity"] = severity
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
        properties["problem.severity"] = {"error": "error", "warning": "warning"}.get(level, "recommendation")
    rule["properties"] = properties
    return rule


def _rules(report: Report, policies_meta: Sequence[PolicyMeta]) -> list[PolicyMeta]:
    """One rule per policy, in the pack's order; policies that only appear in diagnostics are added after."""
    rules = list(policies_meta)
    known = {m.name for m in rules}
    for d in report.diagnostics:
        if d.policy not in known:
            known.add(d.policy)
            rules.append(PolicyMeta(name=d.policy, description=d.policy, enforcement=d.enforcement))
    return rules


def fingerprint(policy: str, urn: str) -> str:
    """A result's identity across runs (``partialFingerprints``): the policy and the resource's URN only — never
    the message (dates, days left) or the location (line numbers move), so GitHub does not reopen alerts."""
    return hashlib.sha256(f"{policy}\0{urn}".encode("utf-8", "surrogatepass")).hexdigest()


def _location(d: Diagnostic, spot: SourceSpot | None) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if spot is not None:
        location["physicalLocation"] = {"artifactLocation": {"uri": spot.uri}, "region": spot.region()}
    location["logicalLocations"] = [{"fullyQualifiedName": d.urn, "name": d.name, "kind": "resource"}]
    return location


def to_sarif(
    report: Report, *, policies_meta: Sequence[PolicyMeta] = (), artifact_uri: str | SourceSpot | None = None
) -> str:
    """SARIF 2.1.0: tool ``china-site``, one rule per policy (id = policy name), one result per diagnostic with the
    resource as a logical location (``fullyQualifiedName`` = URN, kind ``resource``) and a physical location: the
    program's source line when the artifact carries one (``report.sources``), else the audited file
    (``artifact_uri`` or ``report.artifact``: a relative URI, with its line count when known)."""
    rules = _rules(report, policies_meta or report.policies)
    index = {m.name: i for i, m in enumerate(rules)}
    metas = {m.name: m for m in rules}
    descriptions = {m.name: m.description for m in rules if m.description}
    artifact = SourceSpot(artifact_uri) if isinstance(artifact_uri, str) else (artifact_uri or report.artifact)
    results = []
    for d in report.diagnostics:
        lines = policy_message_lines(d, descriptions.get(d.policy))
        text = "\n".join(line for line in lines if line.strip()) or d.message or d.policy
        results.append(
            {
                "ruleId": d.policy,
                "ruleIndex": index[d.policy],
                "level": result_level(metas.get(d.policy), d.enforcement),
                "message": {"text": text},
                "locations": [_location(d, report.sources.get(d.urn, artifact))],
                "partialFingerprints": {_FINGERPRINT_KEY: fingerprint(d.policy, d.urn)},
                "properties": {"enforcement": d.enforcement, "resourceType": d.type},
            }
        )
    driver: dict[str, Any] = {"name": TOOL_NAME, "version": __version__, "semanticVersion": __version__}
    home = information_uri()
    if home:
        driver["informationUri"] = home
    driver["rules"] = [_rule_json(m) for m in rules]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "summary": {"resources": report.resources, "mandatory": report.mandatory, "advisory": report.advisory}
        },
    }
    if report.stack or report.project:
        run["automationDetails"] = {"id": f"{TOOL_NAME}/{report.project or ''}/{report.stack or ''}/"}
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json_text(doc)


# ---------------------------------------------------------------------------------------------------------------
# GitLab Code Quality (Code Climate JSON: the report GitLab shows in merge requests)

_CODEQUALITY_SEVERITY = {"critical": "critical", "high": "major", "medium": "minor", "low": "info"}


def to_codequality(report: Report) -> str:
    """GitLab's Code Quality report: a JSON array of issues (``description``, ``check_name``, ``fingerprint``,
    ``severity``, ``location.path`` + ``location.lines.begin``). A mandatory finding is ``blocker``; an advisory one
    takes the pack's severity (``high`` → major, ``medium`` → minor, ``low`` → info). Located like SARIF results: the
    program line that declared the resource, else the audited file, else ``Pulumi.yaml``."""
    metas = {m.name: m for m in report.policies}
    issues = []
    seen: set[str] = set()
    for d in report.diagnostics:
        meta = metas.get(d.policy)
        headline, *reason = report.finding_lines(d) or [d.message or d.policy]
        spot = report.sources.get(d.urn, report.artifact)
        severity = "blocker" if d.enforcement in ("mandatory", "remediate") else "minor"
        if d.enforcement == "advisory":
            severity = _CODEQUALITY_SEVERITY.get(_severity(meta, d.enforcement) or "", "minor")
        key = fingerprint(d.policy, d.urn)
        if key in seen:  # a second finding of the same policy on the same resource: its own issue
            key = fingerprint(d.policy, f"{d.urn}\0{headline}")
        seen.add(key)
        issues.append(
            {
                "type": "issue",
                "check_name": d.policy,
                "description": f"[{d.enforcement}] {d.name}: {headline}",
                "content": {"body": "\n".join(reason)},
                "categories": ["Security"],
                "fingerprint": key,
                "severity": severity,
                "location": {
                    "path": spot.uri if spot is not None else "Pulumi.yaml",
                    "lines": {"begin": spot.line if spot is not None and spot.line else 1},
                },
            }
        )
    return json_text(issues)


# ---------------------------------------------------------------------------------------------------------------
# JUnit XML


# Characters XML 1.0 cannot carry, not even as character references: C0 controls other than tab, newline and
# carriage return, lone surrogates, U+FFFE and U+FFFF. ElementTree writes them as they are (a file no parser reads).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` made representable in XML 1.0: each character XML cannot carry is written as a visible escape
    (``\\x1b``, ``\\ud800``); everything else — including non-BMP characters and ``]]>`` — is left to the
    serialiser, which escapes markup."""
    return _XML_INVALID.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def to_junit(report: Report, *, policies: Sequence[str] = ()) -> str:
    """JUnit XML: one ``testsuite``; one ``testcase`` per resource × resource policy and one per stack policy on the
    stack (classname = URN, name = policy). A mandatory diagnostic makes it a ``failure``; advisory diagnostics are
    printed in ``system-out`` of a passing test case; a check in ``report.not_applicable`` (a resource policy on a
    resource that is not public, a check the policy reported as not applicable) is ``skipped``, never counted as
    passed. Combinations
    named by a diagnostic but outside those are added, so nothing is lost."""
    import xml.etree.ElementTree as ET

    resources: list[ResourceId] = list(report.resource_ids)
    seen = {r.urn for r in resources}
    for d in report.diagnostics:
        if d.urn not in seen:
            seen.add(d.urn)
            resources.append(ResourceId(d.urn, d.type, d.name))
    given = list(policies) or [m.name for m in report.policies]
    policy_names = list(dict.fromkeys([*given, *(d.policy for d in report.diagnostics)]))
    stack_policies = {m.name for m in report.policies if m.stack}
    stack_urns = [r.urn for r in resources if r.type == "pulumi:pulumi:Stack"]

    descriptions = {m.name: m.description for m in report.policies if m.description}
    by_case: dict[tuple[str, str], list[Diagnostic]] = {}
    for d in report.diagnostics:
        by_case.setdefault((d.urn, d.policy), []).append(d)

    cases: list[tuple[ResourceId, str]] = []
    for res in resources:
        for policy in policy_names:
            if (
                policy in stack_policies
                and stack_urns
                and res.urn not in stack_urns
                and (res.urn, policy) not in by_case
            ):
                continue  # a stack policy judges the stack once: its case is on the stack resource
            cases.append((res, policy))

    def is_skipped(urn: str, policy: str) -> bool:
        return (urn, policy) in report.not_applicable and not by_case.get((urn, policy))

    suite_name = report.title
    if report.project or report.stack:
        suite_name += f" ({report.project or '?'}/{report.stack or '?'})"
    tests = len(cases)
    failures = sum(1 for diags in by_case.values() if any(d.enforcement == "mandatory" for d in diags))
    skipped = sum(1 for res, policy in cases if is_skipped(res.urn, policy))

    root = ET.Element("testsuites", name=xml_text(report.title), tests=str(tests), failures=str(failures), errors="0")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=xml_text(suite_name),
        tests=str(tests),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
    )
    for res, policy in cases:
        case = ET.SubElement(suite, "testcase", classname=xml_text(res.urn), name=xml_text(policy))
        diags = by_case.get((res.urn, policy), [])
        mandatory = [d for d in diags if d.enforcement == "mandatory"]
        advisory = [d for d in diags if d.enforcement == "advisory"]
        if is_skipped(res.urn, policy):
            ET.SubElement(case, "skipped", message="not applicable to this resource")
        if mandatory:
            first = policy_message_lines(mandatory[0], descriptions.get(policy))
            message = xml_text(first[0] if first else policy)
            failure = ET.SubElement(case, "failure", message=message, type="mandatory")
            failure.text = xml_text("\n\n".join(d.message for d in mandatory))
        if advisory:
            out = ET.SubElement(case, "system-out")
            out.text = xml_text("\n\n".join(f"advisory: {d.message}" for d in advisory))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Table (rich)


def _summary_line(report: Report) -> str:
    return (
        f"{report.resources} resource{'' if report.resources == 1 else 's'} checked: {report.mandatory} mandatory, "
        f"{report.advisory} advisory · "
        f"已检查 {report.resources} 个资源：{report.mandatory} 项强制，{report.advisory} 项建议"
    )


def policy_message_lines(diag: Diagnostic, description: str | None = None) -> list[str]:
    """The policy's own message lines, without the description the engine puts in front of them
    ("description + newline + message"). Without a known description, a message of three or more lines is taken
    to be in that shape (description, English, Chinese, …)."""
    lines = diag.message.splitlines()
    if description and diag.message.startswith(description + "\n"):
        return diag.message[len(description) + 1 :].splitlines()
    if not description and len(lines) >= 3:
        return lines[1:]
    return lines


def render_table(report: Report, console: Console) -> None:
    """A table grouped by resource (type and name shown once per group): policy, level (red mandatory, yellow
    advisory) and the first two lines of the policy's message (English, Chinese); then a bilingual summary."""
    from rich.table import Table
    from rich.text import Text

    from china_site.safeio import printable  # outside text: control characters shown, never sent

    if report.diagnostics:
        table = Table(title=Text(printable(report.title)), show_lines=False, expand=False)
        table.add_column("Resource / 资源", overflow="fold")
        table.add_column("Policy / 策略", overflow="fold")
        table.add_column("Level / 级别")
        table.add_column("Message / 说明", overflow="fold")
        descriptions = {m.name: m.description for m in report.policies if m.description}
        groups: dict[str, list[Diagnostic]] = {}
        for d in report.diagnostics:
            groups.setdefault(d.urn, []).append(d)
        for i, (_urn, diags) in enumerate(groups.items()):
            diags = sorted(diags, key=lambda d: (d.enforcement != "mandatory", d.policy))
            if i:
                table.add_section()
            for j, d in enumerate(diags):
                resource = Text(printable(f"{d.type}\n{d.name}", keep_newlines=True)) if j == 0 else Text("")
                style = "bold red" if d.enforcement == "mandatory" else "yellow"
                lines = policy_message_lines(d, descriptions.get(d.policy))
                message = Text(printable("\n".join(lines[:2]), keep_newlines=True))
                table.add_row(resource, Text(printable(d.policy)), Text(d.enforcement, style=style), message)
        console.print(table)
    else:
        console.print(Text("No findings. 未发现问题。"))
    style = "bold red" if report.mandatory else ("yellow" if report.advisory else "green")
    console.print(Text(_summary_line(report), style=style))


# ---------------------------------------------------------------------------------------------------------------
# Progress


def progress(iterable: Iterable[T], total: int, enabled: bool = True, description: str = "Checking") -> Iterator[T]:
    """Yield from ``iterable``, drawing a rich progress bar on stderr only when ``enabled`` and stderr is a
    terminal (never in pipelines, never on stdout)."""
    if not enabled or not sys.stderr.isatty():
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in iterable:
            yield item
            bar.advance(task)
