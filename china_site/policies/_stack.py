"""Stack policies: the stack's resources as plain views (built once per ``AnalyzeStack``), and the bodies of
``filing-registry-available`` and ``dns-linked-exposure``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)

from china_site.model import (
    FILING_REGISTRY_AVAILABLE,
    Finding,
)
from china_site.policies._config import (
    _registry_skip,
    pack_config_errors,
    registry_failure_message,
    registry_for,
    settings_for,
    take_registry_failures,
)
from china_site.policies._exposures import (
    BUCKET_LINKER_TYPES,
    LINKER_TYPES,
    is_covered,
    is_deferred,
    is_stack_judged,
)
from china_site.policies._memo import request_memo
from china_site.policies._reporting import all_findings, config_error_message, core_findings, report_findings
from china_site.policies._routing import DNS_LINKED_EXPOSURE
from china_site.policies._values import explicit_provider, plain, provider_props

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry
    from china_site.model import Exposure
    from china_site.policy_config import PackSettings

# ---------------------------------------------------------------------------------------------------------------
# Stack views


def stack_views(args: StackValidationArgs) -> list[Any]:
    """The stack's resources as ``china_site.exposure.ResourceView`` (plain values; props are the outputs).

    Built once per ``AnalyzeStack`` request (every stack policy gets its own copy of the same resources); the views
    are shared, so callers only read them."""
    memo = request_memo()
    urns = tuple(r.urn for r in args.resources) if memo is not None else ()
    if memo is not None:
        cached = memo.get("stack_views")
        if cached is not None and cached[0] == urns:
            return cached[1]  # type: ignore[no-any-return]
    views = _stack_views(args)
    if memo is not None:
        memo["stack_views"] = (urns, views)
    return views


def _stack_views(args: StackValidationArgs) -> list[Any]:
    from china_site.exposure import ResourceView

    views: list[Any] = []
    for resource in args.resources:
        props = plain(resource.props)
        views.append(
            ResourceView(
                urn=resource.urn,
                type=resource.resource_type,
                name=resource.name,
                props=props if isinstance(props, Mapping) else {},
                provider_props=provider_props(resource.provider),
                explicit_provider=explicit_provider(resource.provider),
                outputs=props if isinstance(props, Mapping) else None,
                dependencies=[d.urn for d in (resource.dependencies or [])],
                property_dependencies={
                    k: [d.urn for d in v] for k, v in (resource.property_dependencies or {}).items()
                },
            )
        )
    return views


# ---------------------------------------------------------------------------------------------------------------
# Stack policies' bodies


def check_registry_available(args: StackValidationArgs, report: ReportViolation) -> None:
    """``filing-registry-available``: every registry source that failed in this run, as one violation each."""
    from china_site.errors import ChinaSiteError

    # Another policy's invalid config: that policy checks nothing, whatever its level, so block here (its own entry
    # is reported below, once).
    for policy, error in sorted(pack_config_errors().items()):
        if policy != FILING_REGISTRY_AVAILABLE:
            report(config_error_message(policy, error), None)
    # By type first: the properties (a copy of every resource) are needed only if no type is covered.
    covered = any(is_covered(r.resource_type) for r in args.resources) or any(
        is_covered(v.type, v.props) for v in stack_views(args)
    )
    if not covered:
        take_registry_failures()
        args.not_applicable("no Alibaba Cloud resource in the stack needs the filing registry")
        return
    try:
        settings = settings_for(FILING_REGISTRY_AVAILABLE, args.get_config())
    except ChinaSiteError as exc:
        report(config_error_message(FILING_REGISTRY_AVAILABLE, exc), None)
        return
    registry_for(settings)  # records its own source's failure, if any
    seen: set[str] = set()
    for source, display, origin, error in take_registry_failures():
        key = f"{source}|{origin}"
        if key in seen:
            continue
        seen.add(key)
        report(registry_failure_message(source, display, origin, error), None)


def check_dns_linked(args: StackValidationArgs, report: ReportViolation) -> None:
    """``dns-linked-exposure``: names a DNS record of the stack ties to a mainland resource that does not show them.

    The core's ``link_stack`` finds the (resource, FQDNs) pairs; each FQDN is evaluated by every core rule as an
    exposure of that resource, and its **mandatory** findings are reported on the DNS record(s) naming it.
    """
    from dataclasses import replace

    from china_site.errors import ChinaSiteError
    from china_site.exposure import dns_link, link_buckets, link_eip_associations, link_stack, view_exposure

    views = stack_views(args)
    records: dict[str, list[Any]] = {}
    for view in views:
        if not view.type.startswith("alicloud:dns/"):
            continue
        link = dns_link(view.props, type_token=view.type)
        if link is not None:
            records.setdefault(link.fqdn.lower(), []).append(view)
    from china_site.origin_links import CDN_SOURCE_TYPES, link_cdn_origins

    linkers = any(view.type in LINKER_TYPES for view in views)
    cdns = any(view.type in CDN_SOURCE_TYPES for view in views)
    deferred = [view for view in views if is_deferred(view.type)]
    if not records and not linkers and not cdns and not deferred:
        return
    try:
        settings = settings_for(DNS_LINKED_EXPOSURE, args.get_config())
    except ChinaSiteError as exc:
        report(config_error_message(DNS_LINKED_EXPOSURE, exc), None)
        return
    links = link_stack(views, settings.stack_config) if records else []
    buckets = [*link_buckets(views, settings.stack_config), *link_eip_associations(views, settings.stack_config)]
    buckets = buckets if linkers else []
    origins = link_cdn_origins(views, settings.stack_config) if cdns else []
    alone = _deferred_exposures(deferred, views, settings.stack_config)
    if not links and not buckets and not origins and not alone:
        return
    registry = registry_for(settings)
    if isinstance(registry, Exception):
        _registry_skip(args, DNS_LINKED_EXPOSURE)
        return
    for target, exposure in links:
        own = view_exposure(target, target.props, settings.stack_config)
        shown_alone = {d.lower() for d in (own.domains if own is not None else ())}
        for fqdn in exposure.domains:
            if fqdn.lower() in shown_alone or fqdn.lower() not in records:
                continue
            findings = _mandatory(replace(exposure, domains=(fqdn,)), registry, settings)
            if not findings:
                continue
            for record in records[fqdn.lower()]:
                where = f"{target.type} '{target.name}'"

                def prefix(finding: Finding, record: Any = record, where: str = where, fqdn: str = fqdn) -> str:
                    return (
                        f"[{finding.policy}] DNS record {fqdn} ('{record.name}') points at {where}:\n"
                        f"DNS 记录 {fqdn} 指向 {where}：\n"
                    )

                _report_on(report, findings, settings, record, prefix)
    for view, exposure in alone:
        findings = _mandatory(exposure, registry, settings)

        def deferred_prefix(finding: Finding, view: Any = view) -> str:
            return (
                f"[{finding.policy}] {view.type} '{view.name}' (judged with the stack: no resource of it makes it "
                "private):\n"
                f"{view.type} '{view.name}'（结合整个栈判断：栈内没有资源使其不对公网开放）：\n"
            )

        _report_on(report, findings, settings, view, deferred_prefix)
    for linker, bucket, exposure in buckets:
        findings = _mandatory(exposure, registry, settings)

        def bucket_prefix(finding: Finding, linker: Any = linker, bucket: Any = bucket) -> str:
            if linker.type not in BUCKET_LINKER_TYPES:
                return (
                    f"[{finding.policy}] {linker.type} '{linker.name}' gives {bucket.type} '{bucket.name}' a public "
                    "IP (judged with that resource's own tags):\n"
                    f"{linker.type} '{linker.name}' 为 {bucket.type} '{bucket.name}' 绑定公网 IP：\n"
                )
            return (
                f"[{finding.policy}] {linker.type} '{linker.name}' makes bucket '{bucket.name}' public "
                "(judged as the bucket's own public ACL):\n"
                f"{linker.type} '{linker.name}' 使存储桶 '{bucket.name}' 公开：\n"
            )

        _report_on(report, findings, settings, linker, bucket_prefix)
    for cdn, origin, exposure in origins:
        # A name the origin shows by itself (its china-site:domain tag) is reported by the resource policies.
        own = view_exposure(origin, origin.props, settings.stack_config)
        shown_alone = {d.lower() for d in (own.domains if own is not None else ())}
        names = tuple(d for d in exposure.domains if d.lower() not in shown_alone)
        if not names:
            continue
        findings = _mandatory(replace(exposure, domains=names), registry, settings)

        def origin_prefix(finding: Finding, cdn: Any = cdn, origin: Any = origin) -> str:
            return (
                f"[{finding.policy}] CDN domain '{cdn.name}' ({cdn.type}) fetches its content from {origin.type} "
                f"'{origin.name}', an origin Alibaba Cloud hosts, which therefore serves its domain too:\n"
                f"CDN 加速域名 '{cdn.name}' 的源站为 {origin.type} '{origin.name}'（托管在阿里云的源站），"
                "源站同样为该域名提供服务：\n"
            )

        _report_on(report, findings, settings, origin, origin_prefix)


def stack_judged_in(types: Iterable[str]) -> bool:
    """Whether any of the stack's resource types is stack-judged (``is_stack_judged``): cheap, by type only."""
    return any(is_stack_judged(t) for t in types)


def check_stack_judged(policy: str, args: StackValidationArgs, report: ReportViolation) -> None:
    """A resource policy at ``AnalyzeStack``: its findings for the stack-judged resources (``is_stack_judged``), the
    same rules and messages as at ``Analyze``, unless a suppressor of the stack cancels the exposure (a bucket whose
    public ACL or policy OSS Block Public Access blocks gets no finding). Raises ChinaSiteError on bad config."""
    if not stack_judged_in(r.resource_type for r in args.resources):
        return  # by type first: no properties are read
    settings = settings_for(policy, args.get_config())
    judged = _stack_judged_exposures(args, settings.stack_config)
    if not judged:
        return
    registry = registry_for(settings)
    if isinstance(registry, Exception):
        _registry_skip(args, policy)
        return
    for view, exposure in judged:
        findings = core_findings(policy, exposure, registry, settings)
        report_findings(report, findings, settings, policy=policy, urn=view.urn, name=view.name, report_urn=view.urn)


def _stack_judged_exposures(args: StackValidationArgs, stack_config: Mapping[str, str]) -> list[tuple[Any, Exposure]]:
    """The public stack-judged resources no suppressor of the stack cancels (computed once per request and stack
    config: every resource policy asks)."""
    from china_site.exposure import view_exposure
    from china_site.exposure_links import _merged
    from china_site.exposure_stack import suppressor_of

    memo = request_memo()
    key = f"stack_judged:{sorted(stack_config.items())!r}"
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    views = stack_views(args)
    out: list[tuple[Any, Exposure]] = []
    for view in views:
        if not is_stack_judged(view.type):
            continue
        exposure = view_exposure(view, _merged(view), stack_config)
        if exposure is None or not exposure.public or suppressor_of(view, views, stack_config) is not None:
            continue
        out.append((view, exposure))
    if memo is not None:
        memo[key] = out
    return out


def _deferred_exposures(deferred: list[Any], views: list[Any], stack_config: Any) -> list[tuple[Any, Exposure]]:
    """The deferred resources that are public once the stack is seen: no suppressor of the data applies (a rule whose
    load balancer is intranet serves nothing)."""
    from china_site.exposure import view_exposure
    from china_site.exposure_links import _merged
    from china_site.exposure_stack import placed_by_stack, suppressor_of

    out: list[tuple[Any, Exposure]] = []
    for view in deferred:
        exposure = view_exposure(view, _merged(view), stack_config)
        if exposure is None or not exposure.public or suppressor_of(view, views, stack_config) is not None:
            continue
        out.append((view, placed_by_stack(view, exposure, views, stack_config)))
    return out


def _mandatory(exposure: Exposure, registry: FilingRegistry, settings: PackSettings) -> list[Finding]:
    """The core's mandatory findings for one exposure (the only ones ``dns-linked-exposure`` reports)."""
    return [f for f in all_findings(exposure, registry, settings) if f.enforcement == "mandatory"]


def _report_on(
    report: ReportViolation,
    findings: list[Finding],
    settings: PackSettings,
    view: Any,
    prefix: Callable[[Finding], str],
) -> None:
    """Report ``findings`` for ``dns-linked-exposure`` on the stack resource ``view`` (a DNS record or a linker)."""
    report_findings(
        report,
        findings,
        settings,
        policy=DNS_LINKED_EXPOSURE,
        urn=view.urn,
        name=view.name,
        prefix=prefix,
        report_urn=view.urn,
    )
