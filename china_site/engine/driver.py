"""Run CrossGuard Policy objects in-process over artifact records, exactly as the Pulumi engine would drive them.

How this stays identical to ``pulumi preview --policy-pack``
-----------------------------------------------------------
The engine talks to a Python pack through gRPC: it builds ``AnalyzeRequest`` / ``AnalyzeStackRequest``
protobufs, and the pack's ``pulumi_policy.policy._PolicyAnalyzerServicer`` turns them into
``ResourceValidationArgs`` / ``StackValidationArgs`` (``deserialize_properties`` → ``unknown_checking_proxy``,
``PolicyResourceOptions``, ``PolicyProviderResource``, the policy's config, ``UnknownValueError`` → the advisory
"can't run policy … during preview" diagnostic, not-applicable handling, "description + newline + message").

This module does the engine's half — it builds the *same protobuf requests* the engine builds
(:func:`analyze_request`, :func:`remediate_request`, :func:`analyze_stack_request`, :func:`configure_request`,
:func:`configure_stack_request`, all public so a gRPC harness can send them over the wire) — and hands them to
the SDK's own servicer object in-process instead of over a socket. The policy side is therefore not
re-implemented at all: it is the SDK's code, byte for byte. To prove "in-process == gRPC", a test sends the
requests these helpers build to the pack's real gRPC server and compares the diagnostics with
:func:`evaluate` (the transport is the only difference).

What the engine sends (pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` and
``sdk/go/common/resource/plugin/analyzer_plugin.go``), and what we therefore do:

* **Every registered resource is analyzed** — custom resources, components, the ``pulumi:pulumi:Stack`` resource
  and provider resources alike: the analyzer loop in ``continueStepsFromImport`` ("Send the resource off to any
  Analyzers before being operated on") runs for each ``RegisterResourceEvent`` with no filter on ``Custom`` or on
  provider types. Read resources (``GenerateReadSteps``) are *not* analyzed; we skip ``external`` records.
* Two passes per resource: **Remediate first** ("During the first pass, perform remediations"), its returned
  properties replace the inputs (``inputs = tresult.Properties``), then **Analyze** sees the remediated inputs.
  A remediation's diagnostic is reported as advisory. An Analyze diagnostic at level remediate is reported as
  mandatory. Analyze diagnostics are always filed under the analyzed resource's URN.
* Properties: ``MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys)`` — secrets as the secret
  signature object, unknowns as sentinels, numbers as doubles, keys starting with ``__`` dropped (Remediate keeps
  them: ``SkipInternalKeys: false``), resource references as their ID (or URN for components). See
  :func:`engine_props` / :func:`to_engine_struct`.
* The provider is sent with its **inputs** (``providerResource.Inputs``) — that is where ``region`` lives.
* ``AnalyzeStack`` runs once at the end over every resource with its **outputs** (``AnalyzeResources``: "Unlike
  Analyze, AnalyzeStack is called on the final outputs"), plus parent, dependencies and non-empty property
  dependencies; its options carry no ``parent``. A stack diagnostic whose URN is empty or not in the stack is
  filed under the root stack URN. A preview create has no outputs in ``pulumi preview --json``; we then send its
  (remediated) inputs, which is what the provider's preview of a create returns.
* Config: Pulumi's ``--policy-pack-config`` JSON, reconciled as ``ReconcilePolicyPackConfig`` does (schema
  defaults, then the pack's initial config, then the file; ``"all"`` sets every enforcement level first), validated
  against each policy's ``config_schema`` with ``jsonschema`` and sent with ``Configure`` for every policy.
  Unlike the engine, a key naming no policy of the pack is an error here (a typo must not silently do nothing).

This module drives the run (:func:`evaluate`: :class:`InProcessAnalyzer`, the passes, diagnostics filed and
redacted) and gives the report its policy metadata (:func:`policies_meta`). The requests and property encoding live
in :mod:`china_site.engine.wire`, the ``--policy-pack-config`` plumbing in :mod:`china_site.engine.pack_config`; every
name of those two is still importable from here.

Nothing heavy is imported at module import: ``pulumi_policy``, protobuf and ``jsonschema`` load inside functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from china_site.engine.pack_config import (
    ENFORCEMENT_LEVELS,
    EnforcementName,
    PolicyConfig,
    PolicyRunError,
    _policy_level,
    current_backend,
    load_policy_config,
    policy_entries,
    reconcile_policy_config,
)
from china_site.engine.records import STACK_TYPE, Record, parse_urn, root_stack_urn, secret_strings
from china_site.engine.wire import (
    analyze_request,
    analyze_stack_request,
    configure_request,
    configure_stack_request,
    engine_props,
    from_engine_struct,
    remediate_request,
    stack_config_env,
    stack_properties,
    to_engine_struct,
)
from china_site.errors import ChinaSiteError, InputError
from china_site.report import Diagnostic, DiagnosticLevel, PolicyMeta

if TYPE_CHECKING:
    from pulumi_policy import Policy

__all__ = [
    "DEFAULT_PACK_NAME",
    "ENFORCEMENT_LEVELS",
    "SDK_PACK_VERSION",
    "Analyzer",
    "Diagnostic",
    "DiagnosticLevel",
    "EnforcementName",
    "Evaluation",
    "InProcessAnalyzer",
    "NotApplicable",
    "PolicyConfig",
    "PolicyMeta",
    "PolicyRunError",
    "RemediationApplied",
    "analyze_request",
    "analyze_stack_request",
    "configure_request",
    "configure_stack_request",
    "current_backend",
    "engine_props",
    "evaluate",
    "from_engine_struct",
    "load_policy_config",
    "policies_meta",
    "policy_entries",
    "reconcile_policy_config",
    "remediate_request",
    "run_policies",
    "stack_config_env",
    "stack_properties",
    "to_engine_struct",
]

DEFAULT_PACK_NAME = "china-site"
# pulumi_policy.PolicyPack always gives its servicer version "0.0.1" (the CLI takes the real version from
# PulumiPolicy.yaml); the servicer puts it into its "can't run policy 'x' from policy pack 'p@v0.0.1'" messages.
SDK_PACK_VERSION = "0.0.1"


@dataclass(frozen=True)
class RemediationApplied:
    """A remediate-level policy rewrote a resource's inputs (the values are deliberately not kept)."""

    policy: str
    urn: str


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    urn: str
    reason: str


@dataclass
class Evaluation:
    """Everything one run produced. ``resources`` counts the artifact's records."""

    diagnostics: list[Diagnostic]
    remediations: list[RemediationApplied] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    resources: int = 0
    stack_urn: str = ""


# ---------------------------------------------------------------------------------------------------------------
# Running.


class Analyzer(Protocol):
    """The engine's view of a policy pack: the ``pulumirpc.Analyzer`` methods, each taking one request.

    A gRPC ``AnalyzerStub`` connected to a running pack satisfies it as it is; :class:`InProcessAnalyzer` wraps the
    SDK's servicer for in-process runs.
    """

    def Configure(self, request: Any) -> Any: ...
    def ConfigureStack(self, request: Any) -> Any: ...
    def Remediate(self, request: Any) -> Any: ...
    def Analyze(self, request: Any) -> Any: ...
    def AnalyzeStack(self, request: Any) -> Any: ...


class InProcessAnalyzer:
    """``pulumi_policy``'s own ``_PolicyAnalyzerServicer`` (what ``PolicyPack`` serves over gRPC), called directly."""

    def __init__(self, policies: Sequence[Policy], pack_name: str, pack_enforcement: str) -> None:
        from pulumi_policy import EnforcementLevel
        from pulumi_policy.policy import _PolicyAnalyzerServicer

        self._servicer = _PolicyAnalyzerServicer(
            pack_name, SDK_PACK_VERSION, list(policies), EnforcementLevel(pack_enforcement), None
        )

    def Configure(self, request: Any) -> Any:
        return self._servicer.Configure(request, None)

    def ConfigureStack(self, request: Any) -> Any:
        return self._servicer.ConfigureStack(request, None)

    def Remediate(self, request: Any) -> Any:
        return self._servicer.Remediate(request, None)

    def Analyze(self, request: Any) -> Any:
        return self._servicer.Analyze(request, None)

    def AnalyzeStack(self, request: Any) -> Any:
        return self._servicer.AnalyzeStack(request, None)


def _level(proto_level: int) -> DiagnosticLevel | None:
    """The engine reports remediate-level violations as mandatory; disabled never reaches a diagnostic."""
    from pulumi.runtime import proto

    if proto_level in (proto.MANDATORY, proto.REMEDIATE):
        return "mandatory"
    if proto_level == proto.ADVISORY:
        return "advisory"
    return None


def _redact(text: str, secrets: set[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        if s in text:
            text = text.replace(s, "[secret]")
    return text


def evaluate(
    policies: Sequence[Policy],
    records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None = None,
    pack_enforcement: str = "advisory",
    stack_tags: Mapping[str, str] | None = None,
    pack_name: str = DEFAULT_PACK_NAME,
    initial_config: Mapping[str, Any] | None = None,
    config_source: str = "policy config",
    dry_run: bool = True,
    stack_config: Mapping[str, str] | None = None,
    progress: Callable[[Iterable[Record], int], Iterable[Record]] | None = None,
    analyzer: Analyzer | None = None,
) -> Evaluation:
    """Run ``policies`` over ``records`` as the engine would (see the module docstring) and return everything:
    diagnostics in engine order (per resource: remediation diagnostics, then Analyze; then AnalyzeStack),
    applied remediations and not-applicable reports. ``config`` is a parsed ``--policy-pack-config`` document.

    ``analyzer`` defaults to the SDK's servicer in-process. Pass a ``pulumirpc`` ``AnalyzerStub`` connected to the
    pack's gRPC server (started from the same policies) to run the very same requests over the wire: the two
    evaluations must be equal (``tests/test_driver.py::test_in_process_equals_grpc``).

    ``stack_config`` (e.g. a preview's ``Artifact.config``) reaches the policies as the engine passes it: in
    ``ConfigureStack`` and, for the in-process analyzer, as ``PULUMI_CONFIG`` during the run (a gRPC pack process
    must be started with that environment, as the engine does)."""
    with stack_config_env(stack_config if analyzer is None else None):
        return _evaluate(
            policies,
            records,
            config=config,
            pack_enforcement=pack_enforcement,
            stack_tags=stack_tags,
            pack_name=pack_name,
            initial_config=initial_config,
            config_source=config_source,
            dry_run=dry_run,
            stack_config=stack_config,
            progress=progress,
            analyzer=analyzer,
        )


def _evaluate(
    policies: Sequence[Policy],
    records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None,
    pack_enforcement: str,
    stack_tags: Mapping[str, str] | None,
    pack_name: str,
    initial_config: Mapping[str, Any] | None,
    config_source: str,
    dry_run: bool,
    stack_config: Mapping[str, str] | None,
    progress: Callable[[Iterable[Record], int], Iterable[Record]] | None,
    analyzer: Analyzer | None,
) -> Evaluation:
    if not policies:
        raise InputError("no policies to run", where="policy pack", fix="pass at least one Policy")
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyRunError(f"duplicate policy names {', '.join(duplicates)}", where="policy pack", fix="rename them")

    reconciled = reconcile_policy_config(
        policies, config, pack_enforcement=pack_enforcement, initial_config=initial_config, source=config_source
    )
    if analyzer is None:
        analyzer = InProcessAnalyzer(policies, pack_name, pack_enforcement)
    analyzer.Configure(configure_request(reconciled))

    stack_record = next((r for r in records if r.type == STACK_TYPE), None)
    stack_name = project = None
    if records:
        first = parse_urn(records[0].urn)
        stack_name, project = first.stack, first.project
    analyzer.ConfigureStack(
        configure_stack_request(stack_name, project, stack_tags, dry_run=dry_run, stack_config=stack_config)
    )
    stack_urn = (
        stack_record.urn if stack_record else (root_stack_urn(stack_name, project) if project and stack_name else "")
    )

    secrets = secret_strings(records, min_length=6)
    result = Evaluation(diagnostics=[], resources=len(records), stack_urn=stack_urn)
    remediated: dict[str, dict[str, Any]] = {}

    def call(method: Callable[[Any], Any], request: Any, where: str) -> Any:
        try:
            return method(request)
        except ChinaSiteError:
            raise
        except Exception as exc:
            detail = _redact(str(exc).splitlines()[0] if str(exc) else "", secrets)[:200]
            raise PolicyRunError(
                f"a policy raised {type(exc).__name__}{': ' + detail if detail else ''}",
                where=where,
                fix="fix the policy pack; this is a bug, not a finding",
            ) from exc

    iterable: Iterable[Record] = records if progress is None else progress(records, len(records))
    for record in iterable:
        if record.external:  # read resources: the engine does not call Analyze for them
            continue
        inputs: dict[str, Any] = record.inputs
        response = call(analyzer.Remediate, remediate_request(record, inputs), record.urn)
        for rem in response.remediations:
            if rem.diagnostic:
                result.diagnostics.append(
                    Diagnostic(
                        rem.policyName,
                        "advisory",
                        record.urn,
                        record.type,
                        record.name,
                        _redact(rem.diagnostic, secrets),
                    )
                )
            elif rem.HasField("properties"):
                inputs = from_engine_struct(rem.properties)
                remediated[record.urn] = inputs
                result.remediations.append(RemediationApplied(rem.policyName, record.urn))
        for na in response.not_applicable:
            result.not_applicable.append(NotApplicable(na.policy_name, record.urn, na.reason))

        response = call(analyzer.Analyze, analyze_request(record, inputs), record.urn)
        for d in response.diagnostics:
            level = _level(d.enforcementLevel)
            if level is not None:  # the engine files Analyze diagnostics under the analyzed resource's URN
                result.diagnostics.append(
                    Diagnostic(d.policyName, level, record.urn, record.type, record.name, _redact(d.message, secrets))
                )
        for na in response.not_applicable:
            result.not_applicable.append(NotApplicable(na.policy_name, record.urn, na.reason))

    by_urn = {r.urn: r for r in records}
    response = call(analyzer.AnalyzeStack, analyze_stack_request(records, remediated), stack_urn or "stack")
    for d in response.diagnostics:
        level = _level(d.enforcementLevel)
        if level is None:
            continue
        target = by_urn.get(d.urn) if d.urn else None
        if target is not None:
            urn, rtype, name = target.urn, target.type, target.name
        else:
            urn = stack_urn
            rtype = STACK_TYPE
            name = stack_record.name if stack_record else (f"{project}-{stack_name}" if project else "")
        result.diagnostics.append(Diagnostic(d.policyName, level, urn, rtype, name, _redact(d.message, secrets)))
    for na in response.not_applicable:
        result.not_applicable.append(NotApplicable(na.policy_name, stack_urn, na.reason))
    return result


def run_policies(
    policies: Sequence[Policy],
    artifact_records: Sequence[Record],
    *,
    config: Mapping[str, Any] | None = None,
    pack_enforcement: str = "advisory",
    stack_tags: Mapping[str, str] | None = None,
    stack_config: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """The diagnostics of :func:`evaluate` (remediation first, then Analyze per resource, then AnalyzeStack)."""
    return evaluate(
        policies,
        artifact_records,
        config=config,
        pack_enforcement=pack_enforcement,
        stack_tags=stack_tags,
        stack_config=stack_config,
    ).diagnostics


def _severity_name(policy: Policy) -> str | None:
    """The policy's severity as its name (``low`` … ``critical``), or None when it declares none."""
    severity = getattr(policy, "severity", None)
    value = getattr(severity, "value", severity)
    return value.lower() if isinstance(value, str) and value else None


def policies_meta(policies: Sequence[Policy], *, pack_enforcement: str = "advisory") -> list[PolicyMeta]:
    """Report metadata (:class:`china_site.report.PolicyMeta`) for each policy: name, description, default
    level, remediation steps as help text, URL as help URI."""
    from pulumi_policy import StackValidationPolicy

    return [
        PolicyMeta(
            name=p.name,
            description=p.description,
            enforcement=_policy_level(p, pack_enforcement),
            display_name=p.display_name,
            help_text=p.remediation_steps,
            help_uri=p.url,
            severity=_severity_name(p),
            stack=isinstance(p, StackValidationPolicy),
            details=getattr(p, "china_site_details", None),
        )
        for p in policies
    ]
