"""``unreviewed-exposure`` / ``unreviewed-type``: a resource whose type the exposure data does not know
(``china_site.unreviewed``) — one body, routed by the core's level to the policy that reports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from china_site.policies._config import settings_for
from china_site.policies._reporting import config_error_message, report_findings
from china_site.policies._values import explicit_provider, plain, provider_props


def check_unreviewed(policy: str) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """The validation of ``policy``: report the unreviewed-type finding of the analysed resource when the core
    routes it here (mandatory → ``unreviewed-exposure``, advisory → ``unreviewed-type``)."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        from china_site.unreviewed import needs_check

        if not needs_check(args.resource_type):
            return  # cheap exit: one dict lookup for every reviewed type
        from china_site.errors import ChinaSiteError
        from china_site.exposure import region_of
        from china_site.exposure_values import _text
        from china_site.regions import classify
        from china_site.unreviewed import unreviewed_findings

        try:
            settings = settings_for(policy, args.get_config())
        except ChinaSiteError as exc:
            report(config_error_message(policy, exc), None)
            return
        props: Any = plain(args.props)
        provider = provider_props(args.provider)
        region, _source = region_of(provider, settings.stack_config, explicit_provider=explicit_provider(args.provider))
        info = classify(region)
        version = _text(provider.get("version")) if isinstance(provider, dict) else None
        results = unreviewed_findings(
            args.resource_type,
            props if isinstance(props, dict) else {},
            area=info.area,
            region=info.region_id,
            provider_version=version,
            name=args.name,
        )
        findings = [r.finding for r in results if r.policy == policy]
        if findings:
            report_findings(report, findings, settings, policy=policy, urn=args.urn, name=args.name)

    return validate
