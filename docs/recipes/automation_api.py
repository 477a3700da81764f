"""Pulumi Automation API: preview a stack with the china-site policy pack and fail the pipeline on a mandatory
violation.

    python docs/recipes/automation_api.py --stack prod --work-dir . --policy-pack policies

Exit codes: 0 no mandatory violation, 1 mandatory violations (each printed), 2 the preview failed for another reason.
A mandatory violation makes `pulumi preview` itself fail; the policy events say why, so they decide the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi import automation as auto
from pulumi.automation.events import EngineEvent


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


def exit_code(found: Iterable[Violation], preview_failed: bool) -> int:
    """1 when a mandatory violation was reported, else 2 when the preview failed anyway, else 0."""
    if any(v.level == "mandatory" for v in found):
        return 1
    return 2 if preview_failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--work-dir", default=".")
    parser.add_argument("--policy-pack", default="policies")
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
    for v in found:
        first = v.message.strip().splitlines()[0] if v.message.strip() else ""
        print(f"[{v.level}] {v.policy} {v.urn}: {first}")
    return exit_code(found, failed)


if __name__ == "__main__":
    sys.exit(main())
