"""The pack's glue: pulumi_policy arguments → the core's values, the core's findings → violations.

No rule lives here. Per call a policy (1) resolves its settings (``_config``), (2) turns the engine's properties into
plain values (``_values``: unknown markers → ``china_site.exposure.UNKNOWN``, secrets unwrapped for reading only),
(3) asks ``china_site.exposure`` for the :class:`~china_site.model.Exposure` (``_exposures``), (4) runs the core rules
whose findings this pack policy reports (``_reporting``, routed by ``_routing``), (5) applies waivers and reports each
finding's bilingual message (``_reporting``). What one engine request derives once is kept in ``_memo``; the stack
policies' bodies are in ``_stack``. This module builds the pack policies (``resource_policy``, ``stack_policy``, the
CDN-scope remediation) and re-exports the parts' names, so ``_adapter.X`` keeps working.

Where to look:
  ``_routing``   pack policy names; (core policy, enforcement) → pack policy
  ``_config``    stack config, per-policy settings, the config schema, the filing registry and its failures
  ``_values``    engine values (proxies, secrets, unknowns) → plain values
  ``_exposures`` covered types; resource → Exposure (and the homepage-footer view of SiteContent)
  ``_reporting`` core findings for a pack policy, live verification, waivers, messages, ``guarded``, ``log_once``
  ``_memo``      the per-request memo (``request_scope``)
  ``_stack``     stack views and the stack policies' bodies

Registry failure. The registry is loaded once per process and source (failures cached too). When it cannot be
used, resource policies report nothing and mark themselves not applicable; ``filing-registry-available`` (stack,
mandatory) reports every failed source of the run — fail closed, one clear violation instead of one per resource.

Never a crash: an unexpected exception inside a policy becomes a violation of that policy naming the resource and
the exception type (fail closed for mandatory policies); the traceback goes to stderr only with CHINA_SITE_DEBUG=1.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, Unpack

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from china_site.model import (
    ICP_FILING_REQUIRED,
    ICP_NUMBER_DISPLAYED,
    Exposure,
    Finding,
)
from china_site.policies._config import (
    _registry_skip,
    check_pack_config,
    config_schema,
    pack_config_errors,
    redact_source,
    registry_failure_message,
    registry_for,
    reset_run_state,
    set_engine_stack_config,
    settings_for,
    stack_config,
    take_registry_failures,
)
from china_site.policies._exposures import (
    BUCKET_LINKER_TYPES,
    LINKER_TYPES,
    _has_display_inputs,
    display_exposure,
    is_covered,
    is_deferred,
    is_stack_judged,
    resource_exposure,
)
from china_site.policies._memo import _memoized, _resource_memo, request_memo, request_scope
from china_site.policies._reporting import (
    all_findings,
    config_error_message,
    core_findings,
    guarded,
    internal_error_message,
    live_reconcile,
    log_once,
    report_findings,
    waived,
)
from china_site.policies._routing import (
    DISPLAY_KEYS,
    DNS_LINKED_EXPOSURE,
    PACK_NAME,
    PSB_FILING_DUE,
    ROUTES,
    SCOPE_REMEDIABLE_TYPES,
    UNTIED_MAINLAND_EXPOSURE,
    core_rules_for,
    route,
)
from china_site.policies._stack import (
    check_dns_linked,
    check_registry_available,
    check_stack_judged,
    stack_judged_in,
    stack_views,
)
from china_site.policies._values import _PROXIES, explicit_provider, plain, provider_props

if TYPE_CHECKING:
    from china_site.policy_config import PackSettings

__all__ = [
    "BUCKET_LINKER_TYPES",
    "DISPLAY_KEYS",
    "DNS_LINKED_EXPOSURE",
    "LINKER_TYPES",
    "PACK_NAME",
    "PSB_FILING_DUE",
    "ROUTES",
    "SCOPE_REMEDIABLE_TYPES",
    "UNTIED_MAINLAND_EXPOSURE",
    "PolicyMeta",
    "StackJudgingPolicy",
    "all_findings",
    "check_dns_linked",
    "check_pack_config",
    "check_registry_available",
    "config_error_message",
    "config_schema",
    "core_findings",
    "core_rules_for",
    "display_exposure",
    "explicit_provider",
    "guarded",
    "internal_error_message",
    "is_covered",
    "is_deferred",
    "is_stack_judged",
    "live_reconcile",
    "log_once",
    "pack_config_errors",
    "plain",
    "provider_props",
    "redact_source",
    "registry_failure_message",
    "registry_for",
    "remediate_cdn_scope",
    "report_findings",
    "request_memo",
    "request_scope",
    "reset_run_state",
    "resource_exposure",
    "resource_policy",
    "route",
    "set_engine_stack_config",
    "settings_for",
    "stack_config",
    "stack_judged_in",
    "stack_policy",
    "stack_views",
    "take_registry_failures",
    "waived",
]


def _evaluate_resource(policy: str, args: ResourceValidationArgs) -> tuple[PackSettings, list[Finding]] | None:
    """Settings and this policy's findings for one resource; None when the resource is out of scope.

    Raises InputError on bad config; calls ``args.not_applicable`` when the registry is unavailable.
    """
    displays = policy == ICP_NUMBER_DISPLAYED
    if not displays and not is_covered(args.resource_type):
        return None  # cheap exit before touching the properties
    if is_deferred(args.resource_type):
        return None  # public only through another resource of the stack: dns-linked-exposure judges it
    if not displays and is_stack_judged(args.resource_type):
        return None  # a resource of the stack may cancel its exposure: judged at AnalyzeStack (check_stack_judged)
    memo = _resource_memo(args)
    props = _memoized(memo, "props", lambda: plain(args.props))
    if not isinstance(props, Mapping):
        return None
    if not (displays and _has_display_inputs(props)) and not is_covered(args.resource_type):
        return None
    if displays and is_stack_judged(args.resource_type) and not _has_display_inputs(props):
        return None  # judged at AnalyzeStack, like the other policies (check_stack_judged)
    settings = settings_for(policy, args.get_config())
    provider = _memoized(memo, "provider", lambda: provider_props(args.provider))
    build = display_exposure if displays and _has_display_inputs(props) else resource_exposure
    exposure = _memo_exposure(memo, build, args, props, provider, settings.stack_config)
    if exposure is None or not exposure.public:
        return None
    registry = registry_for(settings)
    if isinstance(registry, Exception):
        _registry_skip(args, policy)
        return None
    return settings, core_findings(policy, exposure, registry, settings)


def _memo_exposure(
    memo: dict[str, Any] | None,
    build: Callable[..., Exposure | None],
    args: ResourceValidationArgs,
    props: Mapping[str, Any],
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
) -> Exposure | None:
    """``build(...)`` for the analysed resource, reused within the request for the same builder and stack config."""
    if memo is not None:
        for built_by, built_for, exposure in memo["exposures"]:
            if built_by is build and built_for == stack:
                return exposure  # type: ignore[no-any-return]
    exposure = build(
        args.resource_type,
        props,
        name=args.name,
        provider=provider,
        stack=stack,
        explicit=explicit_provider(args.provider),
    )
    if memo is not None:
        memo["exposures"].append((build, stack, exposure))
    return exposure


class PolicyMeta(TypedDict):
    """What every pack policy declares about itself (the SDK's policy arguments other than the callbacks)."""

    name: str
    description: str
    enforcement_level: EnforcementLevel
    severity: Severity
    remediation_steps: str
    url: str
    display_name: str
    tags: list[str]
    details: NotRequired[str]  # the full description; ``description`` (what the engine prints first) is one sentence


def _with_details(policy: Any, details: str | None) -> Any:
    """Keep the full description on the SDK's policy object (reports and docs show it; the engine does not)."""
    policy.china_site_details = details or policy.description
    return policy


class StackJudgingPolicy(ResourceValidationPolicy):
    """A resource policy that also judges, once the engine shows the whole stack, the stack-judged types
    (``check_stack_judged``: a resource of the stack may cancel their exposure). The SDK runs only stack policies at
    ``AnalyzeStack``; ``pack.py`` calls these with ``StackValidationArgs`` there, building the stack's resources once
    for all of them, and their findings keep this policy's name and level (the untied advisory included)."""

    def judge_stack(self, args: StackValidationArgs, report: ReportViolation) -> None:
        """The policy at ``AnalyzeStack`` (its validate tells the args apart)."""
        self.validate(args, report)  # type: ignore[arg-type]


def resource_policy(
    *,
    remediate: Callable[[ResourceValidationArgs], Mapping[str, Any] | None] | None = None,
    **meta: Unpack[PolicyMeta],
) -> ResourceValidationPolicy:
    """A resource policy reporting the core findings routed to ``meta["name"]``."""
    name = meta["name"]
    details = meta.pop("details", None)

    def body(args: ResourceValidationArgs | StackValidationArgs, report: ReportViolation) -> None:
        from china_site.errors import ChinaSiteError

        try:
            if isinstance(args, StackValidationArgs):
                check_stack_judged(name, args, report)
                return
            evaluated = _evaluate_resource(name, args)
        except ChinaSiteError as exc:
            report(config_error_message(name, exc), None)
            return
        if evaluated is None:
            return
        settings, findings = evaluated
        report_findings(report, findings, settings, policy=name, urn=args.urn, name=args.name)

    policy = StackJudgingPolicy(
        validate=guarded(name, body),
        remediate=remediate,  # type: ignore[arg-type]  # the SDK's hint wants Awaitable | None; plain returns work
        config_schema=config_schema(),
        **meta,  # type: ignore[misc]  # "details" was popped above
    )
    return _with_details(policy, details)


def remediate_cdn_scope(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """``icp-filing-required`` with ``remediate``: an unfiled CDN/DCDN domain gets ``scope: overseas``.

    Mainland users are then served from Hong Kong/Japan/Singapore nodes, which need no ICP filing. Only when the
    policy has an unwaived finding for this resource; anything else (other types, bad config, registry down) is
    left to validation, which reports it as mandatory.
    """
    if args.resource_type not in SCOPE_REMEDIABLE_TYPES:
        return None
    try:
        evaluated = _evaluate_resource(ICP_FILING_REQUIRED, args)
    except Exception as exc:
        if type(exc).__name__ == "_NotApplicableError":
            return None
        if os.environ.get("CHINA_SITE_DEBUG"):
            traceback.print_exc(file=sys.stderr)
        return None  # validation reports it
    if evaluated is None:
        return None
    settings, findings = evaluated
    unwaived = [
        f
        for f in findings
        if not waived(settings, policy=ICP_FILING_REQUIRED, urn=args.urn, name=args.name, finding=f)[0]
    ]
    if not unwaived:
        return None
    from pulumi_policy.secret import _DictSecretsProxy

    props: Any = args.props
    current = plain(props)
    old = current.get("scope") if isinstance(current, Mapping) else None
    if isinstance(props, _DictSecretsProxy):
        props["scope"] = "overseas"  # the SDK's Remediate proxy: secrets stay secrets when serialized back
    else:
        holder: Any = args.props
        raw: Any = holder["__target"] if isinstance(holder, _PROXIES) else holder  # type: ignore[index]
        props = {**dict(raw), "scope": "overseas"}
    domains = ", ".join(sorted({f.domain for f in unwaived if f.domain})) or "its domain"
    was = old if isinstance(old, str) else ("domestic" if old is None else "unknown")
    log_once(
        f"icp-filing-required remediated {args.urn}: scope {was} → overseas "
        f"({domains} has no usable ICP filing; mainland users are served from Hong Kong/Japan/Singapore nodes). "
        f"icp-filing-required 已将 CDN 加速区域改为全球（不包含中国内地）"
        f"（{domains if domains != 'its domain' else '该域名'} 无有效 ICP 备案）。"
    )
    return props


def stack_policy(
    *, validate: Callable[[StackValidationArgs, ReportViolation], None], **meta: Unpack[PolicyMeta]
) -> StackValidationPolicy:
    details = meta.pop("details", None)
    policy = StackValidationPolicy(
        validate=guarded(meta["name"], validate),
        config_schema=config_schema(),
        **meta,  # type: ignore[misc]  # "details" was popped above
    )
    return _with_details(policy, details)
