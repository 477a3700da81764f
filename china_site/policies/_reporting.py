"""Findings → violations: running the core rules for a pack policy (live verification applied), waivers,
bilingual messages, and ``guarded`` (an unexpected exception becomes a violation, never a crash). Logging goes to
stderr only: stdout carries the port line."""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    ReportViolation,
)

from china_site.model import (
    ICP_FILING_REQUIRED,
    Exposure,
    Finding,
)
from china_site.policies._config import redact_source
from china_site.policies._memo import request_memo
from china_site.policies._routing import core_rules_for, route

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry
    from china_site.policy_config import PackSettings

# ---------------------------------------------------------------------------------------------------------------
# Logging (stderr only: stdout carries the port line)

_LOGGED: set[str] = set()
_LOG_LOCK = threading.Lock()


def log_once(message: str) -> None:
    with _LOG_LOCK:
        if message in _LOGGED:
            return
        _LOGGED.add(message)
    sys.stderr.write(f"china-site: {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------------
# Findings


def core_findings(
    pack_policy: str, exposure: Exposure, registry: FilingRegistry, settings: PackSettings
) -> list[Finding]:
    """The core's findings that ``pack_policy`` reports for one exposure (live verification applied)."""
    from china_site.rules import RULES

    memo = request_memo()
    findings: list[Finding] = []
    for core in core_rules_for(pack_policy):
        rule = RULES.get(core)
        if rule is None:
            continue
        if memo is None or _live(core, settings):
            found = _run_rule(core, rule, exposure, registry, settings)
        else:
            # Two pack policies report each of the ICP and PSB rules (routing by enforcement): a rule is a pure
            # function of these four, so within one request it runs once for the same ones.
            ran: list[tuple[Any, ...]] = memo.setdefault("rules", [])
            cached: list[Finding] | None = next(
                (
                    r[-1]
                    for r in ran
                    if r[0] == core
                    and r[1] is exposure
                    and r[2] is registry
                    and r[3] == settings.today
                    and r[4] == settings.options
                ),
                None,
            )
            if cached is None:
                found = _run_rule(core, rule, exposure, registry, settings)
                ran.append((core, exposure, registry, settings.today, settings.options, found))
            else:
                found = cached
        findings.extend(found)
    return [f for f in findings if route(f) == pack_policy]


def all_findings(exposure: Exposure, registry: FilingRegistry, settings: PackSettings) -> list[Finding]:
    """Every core rule's findings for an exposure (live verification applied to the ICP ones)."""
    from china_site.rules import RULES

    findings: list[Finding] = []
    for core, rule in RULES.items():
        findings.extend(_run_rule(core, rule, exposure, registry, settings))
    return findings


def _live(core: str, settings: PackSettings) -> bool:
    """``verify: live`` reconciles the ICP rule's findings with the live ICP check."""
    return core == ICP_FILING_REQUIRED and settings.verify == "live"


def _run_rule(
    core: str, rule: Callable[..., list[Finding]], exposure: Exposure, registry: FilingRegistry, settings: PackSettings
) -> list[Finding]:
    """One core rule's findings for an exposure (live verification applied to the ICP ones)."""
    found = rule(exposure, registry, settings.today, settings.options)
    return live_reconcile(exposure, found, settings) if _live(core, settings) else found


def live_reconcile(exposure: Exposure, findings: list[Finding], settings: PackSettings) -> list[Finding]:
    from china_site import live

    verifier = live.get_verifier(environ=os.environ, stack_config=settings.stack_config, timeout=settings.live_timeout)
    result, unavailable = live.reconcile(exposure, findings, verifier.check)
    for answer in unavailable:
        log_once(
            f"live ICP check for {answer.domain} unavailable ({answer.detail}); the filing registry decides "
            "(an unreachable API never approves a domain)"
        )
    return result


def waived(settings: PackSettings, *, policy: str, urn: str, name: str, finding: Finding) -> tuple[bool, str | None]:
    """(suppressed, note): an active waiver suppresses; an expired one adds its note to the message."""
    from china_site.policy_config import match_waiver

    match = match_waiver(settings.waivers, policy=policy, urn=urn, name=name, today=settings.today, rule=finding.policy)
    if match is None:
        return False, None
    if not match.expired:
        return True, None
    return False, match.note()


def _active_waiver_note(settings: PackSettings, *, policy: str, urn: str, name: str, finding: Finding) -> str | None:
    from china_site.policy_config import match_waiver

    match = match_waiver(settings.waivers, policy=policy, urn=urn, name=name, today=settings.today, rule=finding.policy)
    return match.active_note() if match is not None and not match.expired else None


def mark_waived(message: str) -> None:
    """Remember a reported message as covered by an active waiver: ``pack.py`` reports it at advisory level (the
    SDK fixes one level per policy; the engine reads each diagnostic's own). Outside a request scope (a policy
    called directly) nothing lowers it: the finding stays at its policy's level — fail closed."""
    memo = request_memo()
    if memo is not None:
        memo.setdefault("waived", set()).add(message)


def waived_messages() -> frozenset[str]:
    """The messages of this request that an active waiver covers (see :func:`mark_waived`)."""
    memo = request_memo()
    return frozenset(memo.get("waived", ())) if memo is not None else frozenset()


def report_findings(
    report: ReportViolation,
    findings: Sequence[Finding],
    settings: PackSettings,
    *,
    policy: str,
    urn: str,
    name: str,
    prefix: Callable[[Finding], str] | None = None,
    report_urn: str | None = None,
) -> int:
    """Report each finding; one an active waiver covers opens with the waiver (policy, resource, reason, expiry)
    and is marked to be reported at advisory level — a waiver relaxes, it never hides."""
    count = 0
    for finding in findings:
        suppressed, note = waived(settings, policy=policy, urn=urn, name=name, finding=finding)
        if suppressed:
            note = _active_waiver_note(settings, policy=policy, urn=urn, name=name, finding=finding)
        message = redact_source(finding.message, settings.filings, settings.filings_display)
        if prefix is not None:
            message = prefix(finding) + message
        if note:
            message = f"{note}\n{message}"
        if suppressed:
            mark_waived(message)
        if report_urn is None:
            report(message, None)
        else:
            report(message, report_urn)
        count += 1
    return count


def config_error_message(policy: str, error: Exception) -> str:
    return (
        f"The configuration of policy '{policy}' is invalid, so it checked nothing: {error}\n"
        f"策略 {policy} 的配置无效，未执行任何检查。\n"
        "Fix: correct the --policy-pack-config entry (or the china-site:* stack config); see policies/README.md"
    )


def internal_error_message(policy: str, error: BaseException) -> str:
    return (
        f"china-site could not evaluate policy '{policy}' on this resource ({type(error).__name__}); it is "
        "not approved. Please report this with CHINA_SITE_DEBUG=1 output.\n"
        f"china-site 无法对该资源执行策略 {policy}（内部错误），视为未通过。"
    )


def _passthrough(exc: BaseException) -> bool:
    """The SDK's own control-flow exceptions (not applicable; unknown at preview) are re-raised untouched."""
    return type(exc).__name__ in ("_NotApplicableError", "UnknownValueError")


def guarded(policy: str, body: Callable[[Any, ReportViolation], None]) -> Callable[[Any, ReportViolation], None]:
    """Run a validation; any unexpected exception becomes a violation of ``policy`` (never a crash)."""

    def validate(args: Any, report: ReportViolation) -> None:
        try:
            body(args, report)
        except BaseException as exc:
            if _passthrough(exc) or not isinstance(exc, Exception):
                raise
            if os.environ.get("CHINA_SITE_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            log_once(f"internal error in {policy}: {type(exc).__name__}")
            report(internal_error_message(policy, exc), None)

    return validate
