"""Pulumi Automation API: preview a stack with the china-site policy pack, print each finding with its reason, and
fail the pipeline on a mandatory one.

    python automation_api.py --stack prod --work-dir . --policy-pack "$(china-site pack-dir)"

Exit codes: 0 no mandatory finding, 1 mandatory findings (each printed with its reason and fix), 2 the preview failed
for another reason. A mandatory violation makes `pulumi preview` itself fail; the policy events say why, so they
decide the exit code. The findings are read back with china-site's Python API (`china_site.api.audit` over the
preview's events): the finding itself and its reason, never only the policy's one-line description.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pulumi import automation as auto
from pulumi.automation.events import EngineEvent

from china_site import api


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # mandatory | advisory | remediate
    urn: str
    message: str


def violations(events: Iterable[EngineEvent]) -> list[Violation]:
    """Every policy violation the engine reported, in order."""
    found = []
    for event in events:
        policy = event.policy_event
        if policy is None:
            continue
        found.append(
            Violation(
                policy=policy.policy_name,
                level=policy.enforcement_level.lower(),
                urn=policy.resource_urn or "",
                message=policy.message,
            )
        )
    return found


def exit_code(found: Iterable[Violation], preview_failed: bool, report: api.Report | None = None) -> int:
    """1 when the engine or the audit found a mandatory violation, else 2 when the preview failed anyway, else 0."""
    if any(v.level == "mandatory" for v in found) or (report is not None and report.mandatory):
        return 1
    return 2 if preview_failed else 0


def print_findings(report: api.Report) -> None:
    """Each finding: level, policy and resource, the finding, then its reason and fix, indented."""
    for finding in report.diagnostics:
        headline, *reason = report.finding_lines(finding) or [finding.message]
        print(f"[{finding.enforcement}] {finding.policy} {finding.name}: {headline}")
        for line in reason:
            print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--work-dir", default=".")
    parser.add_argument("--policy-pack", default="policies")
    parser.add_argument("--filings", default=None, help="registry source (default: the stack's china-site:filings)")
    args = parser.parse_args(argv)

    stack = auto.select_stack(stack_name=args.stack, work_dir=args.work_dir)
    events: list[EngineEvent] = []
    failed = False
    try:
        stack.preview(policy_packs=[args.policy_pack], on_event=events.append, diff=False)
    except auto.CommandError as error:
        failed = True
        print(f"pulumi preview failed: {str(error).splitlines()[0] if str(error) else error}", file=sys.stderr)
    found = violations(events)
    report: api.Report | None = None
    saved: list[dict[str, Any]] = [api.event_to_json(e) for e in events]
    try:
        report = api.audit(saved, filings=args.filings, project_root=args.work_dir)
    except api.ChinaSiteError as error:  # e.g. the program failed before registering anything
        print(f"china-site: {error}", file=sys.stderr)
        for v in found:  # the engine's own messages: the policy's one-line description, then the finding
            lines = [line for line in v.message.splitlines() if line.strip()]
            print(f"[{v.level}] {v.policy} {v.urn}: " + " / ".join(lines[1:] or lines))
    if report is not None:
        print_findings(report)
    return exit_code(found, failed, report)


if __name__ == "__main__":
    sys.exit(main())
