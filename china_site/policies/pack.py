"""The china-site CrossGuard policy pack: the policies, in a stable order, and the pack's entry point.

``POLICIES`` is what ``python -m pulumi.policy`` serves (through :func:`main`) and what the offline engine feeds
in-process. Importing this module imports only pulumi_policy, the policy modules and the light core modules; the
registry loader, YAML, boto3 and the Alibaba Cloud SDK load on first use.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pulumi_policy import Policy, PolicyPack

from china_site.policies import (
    commercial_permit_required,
    dns_linked_exposure,
    domain_eligible,
    filed_domain_off_mainland,
    filing_registry_available,
    filing_registry_consistent,
    icp_filing_required,
    icp_number_displayed,
    psb_filing_due,
    psb_filing_required,
    unreviewed_exposure,
    unreviewed_type,
    untied_mainland_exposure,
)
from china_site.policies._adapter import (
    PACK_NAME,
    check_pack_config,
    request_memo,
    request_scope,
    set_engine_stack_config,
)

POLICIES: list[Policy] = [
    icp_filing_required.POLICY,
    psb_filing_required.POLICY,
    psb_filing_due.POLICY,
    commercial_permit_required.POLICY,
    domain_eligible.POLICY,
    filed_domain_off_mainland.POLICY,
    icp_number_displayed.POLICY,
    filing_registry_consistent.POLICY,
    untied_mainland_exposure.POLICY,
    filing_registry_available.POLICY,
    dns_linked_exposure.POLICY,
    unreviewed_exposure.POLICY,
    unreviewed_type.POLICY,
]

DESCRIPTION = (
    "No mainland China exposure on Alibaba Cloud without the filings: ICP filing through Alibaba Cloud, PSB filing "
    "on time, a commercial permit for payments, an eligible domain."
)


def _forward_stack_config() -> None:
    """Let the policies see the stack config the engine sends in ConfigureStack (the SDK keeps only the tags).

    PULUMI_CONFIG (environment) is read as well; this only adds what an engine passes over gRPC instead.
    """
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer
        original = servicer.ConfigureStack
    except (ImportError, AttributeError):
        return
    if getattr(original, "_china_site", False):
        return  # already forwarded (idempotent)

    def configure_stack(self, request, context):  # type: ignore[no-untyped-def]
        with contextlib.suppress(AttributeError):
            set_engine_stack_config(dict(request.config), list(request.config_secret_keys))
        return original(self, request, context)

    configure_stack._china_site = True  # type: ignore[attr-defined]
    servicer.ConfigureStack = configure_stack  # type: ignore[method-assign]


_MANDATORY_LEVEL, _REMEDIATE_LEVEL = 1, 3  # pulumirpc.EnforcementLevel


def _check_config_on_configure() -> None:
    """Check every policy's config entry when the engine sends them (``Configure``), so that a bad entry of an
    advisory policy is reported at mandatory level by ``filing-registry-available`` (the SDK keeps them unread
    until the policy runs, and then the policy can only report at its own level)."""
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer
        original = servicer.Configure
    except (ImportError, AttributeError):
        return
    if getattr(original, "_china_site", False):
        return

    def configure(self, request, context):  # type: ignore[no-untyped-def]
        response = original(self, request, context)
        try:
            entries = {
                str(name): sdk.json_format.MessageToDict(entry.properties)
                for name, entry in request.policyConfig.items()
            }
            blocking = [
                str(name)
                for name, entry in request.policyConfig.items()
                if entry.enforcementLevel in (_MANDATORY_LEVEL, _REMEDIATE_LEVEL)
            ]
        except (AttributeError, TypeError, ValueError):
            return response
        check_pack_config(entries, blocking)
        return response

    configure._china_site = True  # type: ignore[attr-defined]
    servicer.Configure = configure  # type: ignore[method-assign]


def _scope_requests() -> None:
    """Run each ``Analyze`` / ``AnalyzeStack`` request inside ``_adapter.request_scope()``.

    The SDK deserialises the request once per policy and hands each policy its own copy; inside the scope, what our
    policies derive from those equal copies (plain properties, provider properties, exposures, stack views) is
    computed once per request instead of once per policy. The SDK's methods run unchanged. ``Remediate`` is left
    alone: there a remediation changes the properties the next policy sees.
    """
    try:
        from pulumi_policy import policy as sdk

        servicer = sdk._PolicyAnalyzerServicer
    except (ImportError, AttributeError):
        return
    for method in ("Analyze", "AnalyzeStack"):
        original = getattr(servicer, method, None)
        if original is None or getattr(original, "_china_site", False):
            continue  # absent in this SDK version, or already wrapped (idempotent)

        def scoped(self, request, context, _original=original, _stack=method == "AnalyzeStack"):  # type: ignore[no-untyped-def]
            with request_scope():
                response = _original(self, request, context)
                if _stack:
                    _judge_stack_types(self, request, response)
                _waived_as_advisory(response)
                return response

        scoped._china_site = True  # type: ignore[attr-defined]
        scoped.__name__ = scoped.__qualname__ = method
        setattr(servicer, method, scoped)


def _judge_stack_types(servicer: Any, request: Any, response: Any) -> None:
    """At ``AnalyzeStack``, every resource policy judges the stack-judged resources (a bucket whose public ACL OSS
    Block Public Access may cancel: ``_stack.check_stack_judged``) — the SDK runs only stack policies there. Their
    violations are reported as the SDK reports any policy's (its name, level, severity; not applicable likewise).
    The stack's resources are built once for all of them, and not at all when the request has no such type; when a
    stack policy already built the stack's views in this request (``stack_views``), only types and URNs are needed."""
    from china_site.policies._adapter import StackJudgingPolicy, stack_judged_in

    if not stack_judged_in(r.type for r in request.resources):
        return
    from pulumi_policy import EnforcementLevel, StackValidationArgs
    from pulumi_policy import policy as sdk

    policies = [
        (policy, level)
        for policy in getattr(servicer, "_PolicyAnalyzerServicer__policies", ())
        if isinstance(policy, StackJudgingPolicy)
        and (level := servicer._get_enforcement_level(policy)) != EnforcementLevel.DISABLED
    ]
    if not policies:
        return
    resources = _stack_resources(servicer, request)
    tags = getattr(servicer, "_PolicyAnalyzerServicer__stack_tags", {})
    for policy, level in policies:
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY  # as the SDK treats a stack policy
        report = _report_violation(servicer, response, policy, level)
        try:
            policy.judge_stack(StackValidationArgs(resources, servicer._get_policy_config(policy.name), tags), report)
        except sdk._NotApplicableError as exc:
            response.not_applicable.append(
                sdk.proto.PolicyNotApplicable(policy_name=policy.name, reason=exc.reason or "")
            )


def _report_violation(servicer: Any, response: Any, policy: Any, level: Any) -> Any:
    """The SDK's own violation reporter for ``policy``: with its severity where the SDK reports one (pulumi-policy
    ≥ 1.20 takes it as a fifth argument), without it on older SDKs (1.19, the floor)."""
    import inspect

    create = servicer._create_report_violation
    if "severity" in inspect.signature(create).parameters:
        return create(response, policy.name, policy.description, level, getattr(policy, "severity", None))
    return create(response, policy.name, policy.description, level)


def _stack_resources(servicer: Any, request: Any) -> list[Any]:
    """The request's resources as the SDK gives a stack policy (``PolicyResource`` with properties, options, provider
    and property dependencies), built once; bare (type and URN) when this request's stack views already exist."""
    from pulumi_policy import PolicyResource
    from pulumi_policy import policy as sdk

    memo = request_memo()
    cached = memo.get("stack_views") if memo is not None else None
    bare = cached is not None and cached[0] == tuple(r.urn for r in request.resources)
    out: list[Any] = []
    by_urn: dict[str, Any] = {}
    for r in request.resources:
        if bare:
            props: Any = {}
            options: Any = None
            provider: Any = None
        else:
            props = sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties)))
            options, provider = servicer._get_resource_options(r), servicer._get_provider_resource(r)
        resource = PolicyResource(r.type, props, r.urn, r.name, options, provider, None, [], {})
        out.append(resource)
        by_urn[r.urn] = resource
    if not bare:
        for r, resource in zip(request.resources, out, strict=True):
            resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
            for key, urns in r.propertyDependencies.items():
                resource.property_dependencies[key] = [by_urn[u] for u in urns.urns if u in by_urn]
    return out


def _waived_as_advisory(response: Any) -> None:
    """Report at advisory level each diagnostic an active waiver covers (``_reporting.mark_waived``): the SDK gives
    every violation its policy's level, the engine honours each diagnostic's own. Its message names the waiver."""
    from china_site.policies._reporting import waived_messages

    waived = waived_messages()
    diagnostics = getattr(response, "diagnostics", None)
    if not waived or diagnostics is None:
        return
    from pulumi.runtime import proto

    for diag in diagnostics:
        message = diag.message
        if message in waived or any(message.endswith("\n" + m) for m in waived):
            diag.enforcementLevel = proto.ADVISORY


class _ScopedJsonFormat:
    """``google.protobuf.json_format`` as the SDK's servicer module sees it, with ``MessageToDict`` converting each
    message once per request scope.

    Inside ``Analyze`` / ``AnalyzeStack`` the SDK converts the same protobuf ``Struct`` (the resource's properties,
    its provider's) to a dict once per policy, then deserialises that dict into the policy's own copy. The dict is
    only an intermediate — ``deserialize_properties`` reads it and builds new values — so one conversion per message
    per request serves every policy; each policy still gets its own deserialised properties. Outside a request
    scope, and for calls with options, it is the real function. Entries hold their message, so an ``id`` cannot be
    reused by another message while its entry lives (the scope's lifetime).
    """

    _china_site = True  # marks the SDK module as already given this wrapper (idempotent across re-imports)

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # protobuf's name
        memo = request_memo()
        if memo is None or args or kwargs:
            return self._module.MessageToDict(message, *args, **kwargs)
        table: dict[int, tuple[Any, Any]] = memo.setdefault("message_dicts", {})
        hit = table.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        converted = self._module.MessageToDict(message)
        table[id(message)] = (message, converted)
        return converted


def _convert_messages_once() -> None:
    """Give the SDK's servicer module the :class:`_ScopedJsonFormat` (idempotent; skipped if the SDK changed)."""
    try:
        from pulumi_policy import policy as sdk
    except ImportError:
        return
    current = getattr(sdk, "json_format", None)
    if current is None or getattr(current, "_china_site", False) or not hasattr(current, "MessageToDict"):
        return
    sdk.json_format = _ScopedJsonFormat(current)


# At import, so an in-process analyzer (the offline engine) built on the same SDK class does the same.
_forward_stack_config()
_check_config_on_configure()
_scope_requests()
_convert_messages_once()


WARM_UP_DELAY = 0.05  # seconds after start: the port line goes out first


def warm_up() -> None:
    """What every first request needs and no request changes: the registry's modules (pydantic), the Public Suffix
    List, the bundled data. Loaded while the engine runs the program, so the first ``Analyze`` does not wait
    for it. Never fails: anything wrong here is reported by the request that needs it."""
    try:
        import china_site.filings  # noqa: F401  (the registry's models: pydantic)
        from china_site import domains, exposure

        domains.registrable_domain("www.example.com.cn")
        exposure.RESOURCE_TYPES.get("alicloud:cdn/domainNew:DomainNew")
    except Exception:  # the request that needs it reports it
        pass


def _warm_up_soon() -> None:
    import threading

    timer = threading.Timer(WARM_UP_DELAY, warm_up)
    timer.daemon = True
    timer.name = "china-site-warm-up"
    timer.start()


def main() -> None:
    """Serve the pack (prints the port on stdout, then blocks); called by ``__main__.py``.

    Pulumi's Python language host runs it as ``<venv>/bin/python -u -m pulumi.policy <engine> <pack dir>`` in the
    pack's folder (``-u``: the port line reaches the engine at once), with the stack's config, project and stack names
    in the environment; a relative registry path is resolved against the project's folder (``china_site.project_dir``).
    """
    from china_site.policies._config import serve_for_engine

    serve_for_engine()
    _warm_up_soon()
    PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        description=DESCRIPTION,
        display_name="China website filings (ICP / PSB / permits)",
        provider="alicloud",
        tags=["china", "icp", "alicloud", "compliance"],
    )
