"""The mock runner behind ``china-site preflight``: run a Pulumi Python program offline and judge it with the pack.

:func:`run_program` executes a project directory (``Pulumi.yaml`` + ``Pulumi.<stack>.yaml``) the way Pulumi's Python
host does, but under :mod:`china_site.engine.mocks` instead of an engine: no Pulumi CLI, no credentials, no network.
Every registration becomes an artifact :class:`~china_site.engine.artifacts.Record` in the **engine's own form**, so
the pack driver (:func:`china_site.engine.driver.evaluate`) hands the same Policy objects exactly what ``pulumi preview
--policy-pack policies`` would:

* URNs ``urn:pulumi:<stack>::<project>::<parent type chain$type>::<name>`` (no Stack in the chain), the
  ``pulumi:pulumi:Stack`` root (``<project>-<stack>``) carrying the stack outputs, default providers
  (``pulumi:providers:<pkg>::default_<version>``, inputs = the stack's ``<pkg>:*`` config + ``version``) registered
  before their first user;
* inputs as they crossed the wire (camelCase names, secrets as the secret signature map, unknowns as sentinels),
  dependencies and property dependencies, resource options;
* outputs: the inputs plus plausible computed values (bucket endpoints, CDN cname, EIP address, ALB DNS name, …), so
  stack policies that follow DNS records to what they point at see realistic values.

Configuration. ``Pulumi.yaml`` gives the project name, the runtime (Python only) and ``main``; its ``config:`` block
gives project defaults; ``Pulumi.<stack>.yaml`` the stack's values (keys without a namespace belong to the project,
structured values become JSON, as Pulumi passes them). ``secure:`` values cannot be decrypted offline: the program
sees the placeholder ``[secret]`` (or the plaintext given in ``secrets=``), the key is a secret key, and the pack
sees ``[secret]`` — a secret never reaches a message, a log or a report.

Verdicts about the program itself. A program can refuse at program time: ``Site(hosting="mainland")`` raises
:class:`china_site.hosting.HostingError` for a domain the rules do not allow. That is a compliance verdict, not a
crash: :attr:`RunResult.refusal` carries it (message, the refusing component's URN, the policies named in the
message) and :func:`refusal_diagnostics` turns it into mandatory findings filed under that URN — policy
``icp-filing-required`` unless the message names others (``[commercial-permit-required] …``). Any other failure
is :class:`ProgramError` (a :class:`~china_site.errors.ChinaSiteError`, one line; exit 2 in the CLI): a config
error the program reports (``china-site:domain`` missing), or a real crash (its exception type and message, the
traceback only with ``--debug``).

Where the rest lives: reading ``Pulumi.yaml``/``Pulumi.<stack>.yaml`` is :mod:`china_site.engine.project`; loading
the pack, a check over records and the report's redaction are :mod:`china_site.engine.packcheck`. Their public names
are re-exported here, as before the split.

Isolation. Each run has its own thread, event loop and context (Pulumi's config, settings, mocks and root stack
are context variables): two runs in one process never see each other. Python modules the program imports stay
imported for the process, as in any Python process.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from china_site.engine.artifacts import (
    MASKED_SECRET,
    PROVIDER_TYPE_PREFIX,
    STACK_TYPE,
    ProviderRef,
    Record,
    RecordOptions,
    root_stack_urn,
)
from china_site.engine.packcheck import (  # re-exported: the pack and a check lived here before the split
    ADAPTER_MODULE,
    PACK_MODULE,
    PROVIDER_NOT_IN_ARTIFACT,
    RESOURCES_NOT_IN_ARTIFACT,
    Checked,
    Pack,
    _redact,
    _secret_forms,
    check,
    load_pack,
    message_redactor,
    omission_diagnostics,
    provider_gap_diagnostics,
    reset_pack_state,
    shared_policy_config,
)
from china_site.engine.project import (  # re-exported: project and stack configuration lived here before the split
    FILINGS_KEY,
    TODAY_KEY,
    Project,
    _full_key,
    available_stacks,
    project_config,
    read_project,
    resolve_filings,
)
from china_site.errors import ChinaSiteError

if TYPE_CHECKING:
    from pulumi_policy import Policy

    from china_site.engine.driver import Diagnostic
    from china_site.engine.mocks import LogEntry, ProgramRun, Recorder, Registration
    from china_site.model import Finding

__all__ = [
    "ADAPTER_MODULE",
    "FILINGS_KEY",
    "PACK_MODULE",
    "PROVIDER_NOT_IN_ARTIFACT",
    "RESOURCES_NOT_IN_ARTIFACT",
    "TODAY_KEY",
    "Checked",
    "Pack",
    "PlanRow",
    "ProgramError",
    "ProgramRefusal",
    "Project",
    "RunResult",
    "available_stacks",
    "check",
    "load_pack",
    "message_redactor",
    "omission_diagnostics",
    "plan",
    "project_config",
    "provider_gap_diagnostics",
    "read_project",
    "records_of",
    "refusal_diagnostics",
    "reset_pack_state",
    "resolve_filings",
    "run_program",
    "shared_policy_config",
]

_PROGRAM_FIX = "fix the program or its stack configuration, then run preflight again"


class ProgramError(ChinaSiteError):
    """The program could not run to the end for a reason that is not a compliance verdict (exit 2)."""


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ProgramRefusal:
    """A program-time compliance refusal (e.g. ``Site(hosting="mainland")`` for an unfiled domain).

    ``urn``/``type``/``name``: the refusing component as the engine would have named it (it was never registered);
    the root Stack when it cannot be told. ``message``: the program's own one-line message (bilingual, secrets
    redacted). ``policies``: the policies the message names (``[policy-name]``), else ``icp-filing-required``.
    """

    message: str
    urn: str
    type: str
    name: str
    policies: tuple[str, ...]
    what: str = ""
    fix: str | None = None
    where: str | None = None
    findings: tuple[Finding, ...] = ()  # the rules' mandatory findings behind the refusal (secrets redacted)
    head: str = ""

    @property
    def headline(self) -> str:
        """The refusal's first sentence, for a one-line summary."""
        head = self.head.strip().rstrip(":").strip()
        if not head:
            return self.message
        return f"{self.where}: {head}" if self.where else head


@dataclass
class RunResult:
    """What one offline run produced. ``config`` is the stack config as the pack should see it: secret values masked
    as ``[secret]`` and a relative ``china-site:filings`` made absolute against the project directory."""

    records: list[Record]
    outputs: dict[str, Any]
    config: dict[str, str]
    project: str
    stack: str
    secret_keys: frozenset[str] = frozenset()
    refusal: ProgramRefusal | None = None
    logs: list[LogEntry] = field(default_factory=list)
    directory: Path | None = None

    @property
    def stack_urn(self) -> str:
        return root_stack_urn(self.stack, self.project)


# ---------------------------------------------------------------------------------------------------------------
# Running


def run_program(
    directory: str | os.PathLike[str],
    stack: str,
    *,
    config_overrides: Mapping[str, Any] | None = None,
    filings: str | None = None,
    secrets: Mapping[str, str] | None = None,
    preview: bool = True,
) -> RunResult:
    """Run the Pulumi Python program in ``directory`` with stack ``stack``'s config, offline, and record it.

    ``config_overrides``: extra or replaced config (``key`` → value; keys without a namespace are the project's).
    ``filings``: overrides ``china-site:filings`` (a relative path is relative to ``directory``). ``secrets``:
    plaintext for ``secure:`` keys (full key → value; otherwise the program sees ``[secret]``). ``preview``: run as
    ``pulumi preview`` does (``pulumi.runtime.is_dry_run()``; outputs the mocks do not give stay unknown).

    Returns a :class:`RunResult` — with :attr:`~RunResult.refusal` set when the program refused at program time
    (a compliance verdict). Raises :class:`ProgramError` for every other program failure and
    :class:`~china_site.errors.InputError` for unusable project or stack files.
    """
    from china_site.engine.mocks import config_text, run_mocked

    project = read_project(directory)
    name, config, secret_keys = project_config(project.directory, stack, secrets=secrets)
    secret_set = set(secret_keys)
    for raw, value in (config_overrides or {}).items():
        key = _full_key(raw, name)
        config[key] = config_text(value)
        secret_set.discard(key)
    if filings is not None:
        config[FILINGS_KEY] = resolve_filings(filings, project.directory)
        secret_set.discard(FILINGS_KEY)
    secret_values = {config[k] for k in secret_set if k in config and config[k] != MASKED_SECRET}

    run = run_mocked(
        project.main,
        config,
        project=name,
        stack=stack,
        preview=preview,
        secret_keys=sorted(secret_set),
        cwd=project.directory,
        check=False,
    )
    refusal = None
    if run.error is not None:
        refusal = _classify_failure(run, project, stack, secret_values)

    pack_config = {k: (MASKED_SECRET if k in secret_set else v) for k, v in config.items()}
    if FILINGS_KEY in pack_config and pack_config[FILINGS_KEY] != MASKED_SECRET:
        pack_config[FILINGS_KEY] = resolve_filings(pack_config[FILINGS_KEY], project.directory)
    logs = [replace(e, message=_redact(e.message, secret_values)) for e in run.recorder.logs]
    records = records_of(run.recorder)
    stack_record = next((r for r in records if r.type == STACK_TYPE), None)
    outputs = dict(stack_record.outputs or {}) if stack_record else {}
    return RunResult(
        records=records,
        outputs=outputs,
        config=pack_config,
        project=name,
        stack=stack,
        secret_keys=frozenset(secret_set),
        refusal=refusal,
        logs=logs,
        directory=project.directory,
    )


def _classify_failure(run: ProgramRun, project: Project, stack: str, secrets: set[str]) -> ProgramRefusal:
    """A HostingError is a refusal (returned); everything else raises ProgramError (one line)."""
    import pulumi

    from china_site.hosting import HostingError

    err = run.error
    assert err is not None
    where = f"program {project.main}, stack '{stack}'"
    if isinstance(err, HostingError):
        return _refusal(err, run.recorder, project.name, stack, secrets)
    if isinstance(err, ChinaSiteError):
        raise ProgramError(f"the program stopped: {_redact(err.line(), secrets)}", where=where, fix=None) from err
    if isinstance(err, pulumi.RunError):
        first = _redact(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__, secrets)
        raise ProgramError(f"the program stopped: {first}", where=where, fix=_PROGRAM_FIX) from err
    detail = _redact(str(err).strip().splitlines()[0] if str(err).strip() else "", secrets)[:300]
    location = _program_location(err, project.directory)
    raise ProgramError(
        f"the program crashed with {type(err).__name__}{': ' + detail if detail else ''}{location}",
        where=where,
        fix="fix the program (run `china-site --debug preflight …` for the traceback)",
    ) from err


def _program_location(err: BaseException, directory: Path) -> str:
    """`` (at file:line)`` of the innermost traceback frame inside the project directory, if any."""
    tb = err.__traceback__
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        try:
            rel = Path(filename).resolve().relative_to(directory)
        except (ValueError, OSError):
            rel = None
        if rel is not None and ".venv" not in rel.parts and "site-packages" not in rel.parts:
            found = f" (at {rel}:{tb.tb_lineno})"
        tb = tb.tb_next
    return found


def _refusal(err: ChinaSiteError, recorder: Recorder, project: str, stack: str, secrets: set[str]) -> ProgramRefusal:
    from china_site.model import ICP_FILING_REQUIRED

    urn, rtype, name = _refusing_component(err, recorder, project, stack)
    findings = tuple(
        replace(
            f,
            message_en=_redact(f.message_en, secrets),
            message_zh=_redact(f.message_zh, secrets),
            fix=_redact(f.fix, secrets),
        )
        for f in getattr(err, "findings", ())
    )
    policies = tuple(dict.fromkeys(f.policy for f in findings)) or (ICP_FILING_REQUIRED,)
    return ProgramRefusal(
        message=_redact(err.line(), secrets),
        urn=urn,
        type=rtype,
        name=name,
        policies=policies,
        what=_redact(err.what, secrets),
        fix=_redact(err.fix, secrets) if err.fix else None,
        where=_redact(err.where, secrets) if err.where else None,
        findings=findings,
        head=_redact(getattr(err, "headline", ""), secrets),
    )


def _type_token_of(obj: object, module_globals: Mapping[str, Any]) -> str | None:
    """A component's type token before ``super().__init__`` ran: a ``pkg:module:ClassName`` string constant in the
    class or the module its constructor lives in (``SITE_TYPE = "china-site:index:Site"``)."""
    cls = type(obj)
    pattern = re.compile(rf"[^\s:$]+:[^\s:$]*:{re.escape(cls.__name__)}")
    for namespace in (vars(cls), module_globals):
        for value in namespace.values():
            if isinstance(value, str) and pattern.fullmatch(value):
                return value
    return None


def _refusing_component(err: BaseException, recorder: Recorder, project: str, stack: str) -> tuple[str, str, str]:
    """(urn, type, name) of the innermost component whose constructor the error left, as the engine would have named
    it; the root Stack when there is none."""
    import pulumi

    from china_site.engine.mock_wire import engine_urn

    found: tuple[str, str, str] | None = None
    tb = err.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        tb = tb.tb_next
        if frame.f_code.co_name != "__init__":
            continue
        obj = frame.f_locals.get("self")
        if not isinstance(obj, pulumi.ComponentResource):
            continue
        rtype = getattr(obj, "_type", None) or _type_token_of(obj, frame.f_globals)
        name = getattr(obj, "_name", None) or frame.f_locals.get("name") or frame.f_locals.get("resource_name")
        if not isinstance(rtype, str) or not isinstance(name, str):
            continue
        parent_urn = ""
        opts = frame.f_locals.get("opts")
        parent = getattr(opts, "parent", None) if opts is not None else None
        if parent is not None:
            ptype, pname = getattr(parent, "_type", None), getattr(parent, "_name", None)
            matches = [r.urn for r in recorder.registrations if r.type == ptype and r.name == pname]
            parent_urn = matches[0] if len(matches) == 1 else ""
        found = (engine_urn(stack, project, parent_urn, rtype, name), rtype, name)
    if found is not None:
        return found
    return root_stack_urn(stack, project), STACK_TYPE, f"{project}-{stack}"


def refusal_diagnostics(refusal: ProgramRefusal, policies: Sequence[Policy] = ()) -> list[Diagnostic]:
    """The refusal as mandatory findings, one per finding behind it, in the engine's message shape
    (the policy's description, a newline, then English, Chinese, the Alibaba Cloud error, the fix)."""
    from china_site.engine.driver import Diagnostic

    descriptions = {p.name: p.description for p in policies}
    bodies: list[tuple[str, list[str]]] = [(f.policy, f.message.splitlines()) for f in refusal.findings]
    if not bodies:
        bodies = [
            (
                policy,
                [
                    f"The program refused at program time: {refusal.what}",
                    "程序在部署前拒绝了该配置（见上一行的英文说明），未创建任何资源。",
                ],
            )
            for policy in refusal.policies
        ]
    diagnostics: list[Diagnostic] = []
    for policy, body in bodies:
        lines = [
            *body,
            "Nothing was deployed: the program refused before registering the resource. / "
            "程序在注册资源之前即拒绝部署，未创建任何资源。",
        ]
        if refusal.fix:
            lines.append(f"Program fix: {refusal.fix}")
        message = "\n".join(lines)
        if descriptions.get(policy):
            message = f"{descriptions[policy]}\n{message}"
        diagnostics.append(Diagnostic(policy, "mandatory", refusal.urn, refusal.type, refusal.name, message))
    return diagnostics


# ---------------------------------------------------------------------------------------------------------------
# Registrations → records


def _record(reg: Registration, recorder: Recorder) -> Record:
    provider = None
    if reg.custom and not reg.type.startswith(PROVIDER_TYPE_PREFIX) and reg.type != STACK_TYPE:
        prov = recorder.provider_of(reg)
        if prov is not None:
            provider = ProviderRef(prov.urn, prov.type, prov.name, dict(prov.wire_inputs))
    if reg.type == STACK_TYPE:
        outputs: dict[str, Any] | None = dict(recorder.wire_outputs.get(reg.urn, {}))
    elif reg.custom:
        outputs = dict(reg.wire_outputs)
    else:  # components: what they passed to register_outputs
        outputs = dict(recorder.wire_outputs.get(reg.urn, {}))
    return Record(
        urn=reg.urn,
        type=reg.type,
        name=reg.name,
        custom=reg.custom,
        inputs=dict(reg.wire_inputs),
        outputs=outputs,
        provider=provider,
        parent=reg.parent or None,
        # The SDK collects dependencies in sets: sorted, so two runs of one program give the same records.
        dependencies=tuple(sorted(set(reg.dependencies))),
        property_dependencies={k: tuple(sorted(set(v))) for k, v in sorted(reg.property_dependencies.items()) if v},
        op="read" if reg.read else "create",
        external=reg.read,
        options=RecordOptions(
            protect=reg.protect,
            ignore_changes=reg.ignore_changes,
            aliases=reg.aliases,
            additional_secret_outputs=reg.additional_secret_outputs,
            custom_timeouts=reg.custom_timeouts,
        ),
        source_position=reg.source_position or None,
    )


def records_of(recorder: Recorder) -> list[Record]:
    """Every registration as a record, in a deterministic order the engine could have seen: the Stack first, then
    each resource after its parent, its provider and its dependencies (ties by URN). The SDK registers from several
    threads, so the raw order varies from run to run; this one does not."""
    regs = {r.urn: r for r in recorder.registrations}
    before: dict[str, set[str]] = {urn: set() for urn in regs}
    for reg in regs.values():
        needs = {reg.parent, *reg.dependencies, *(u for us in reg.property_dependencies.values() for u in us)}
        ref = reg.effective_provider or reg.provider
        if ref:
            needs.add(ref.rsplit("::", 1)[0])
        before[reg.urn] = {u for u in needs if u and u in regs and u != reg.urn}
    after: dict[str, list[str]] = {urn: [] for urn in regs}
    for urn, needs in before.items():
        for need in needs:
            after[need].append(urn)
    pending = {urn: len(needs) for urn, needs in before.items()}
    ready = [(0 if regs[u].type == STACK_TYPE else 1, u) for u, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, urn = heapq.heappop(ready)
        order.append(urn)
        for nxt in after[urn]:
            pending[nxt] -= 1
            if pending[nxt] == 0:
                heapq.heappush(ready, (1, nxt))
    order += sorted(u for u in regs if u not in set(order))  # a cycle cannot happen; never drop a resource
    return [_record(regs[urn], recorder) for urn in order]


# ---------------------------------------------------------------------------------------------------------------
# The plan (what the table shows before the verdicts)


@dataclass(frozen=True)
class PlanRow:
    urn: str
    type: str
    name: str
    region: str | None  # None: not a regional resource (components, other clouds)
    area: str | None  # mainland | hongkong | overseas (the core's reading); None: not applicable
    area_note: str = ""  # e.g. "region unknown: treated as mainland"
    cdn_scope: str | None = None
    public: bool | None = None
    domains: tuple[str, ...] = ()


def _text(value: Any) -> str | None:
    from china_site.exposure_values import _reveal

    value = _reveal(value)
    return value if isinstance(value, str) and value else None


def plan(records: Sequence[Record], stack_config: Mapping[str, str] | None = None) -> list[PlanRow]:
    """What each resource is and where it is served from, read by the compliance core (``china_site.exposure``):
    every record except the root Stack. Secret values (and what derives from a secret host name) are masked."""
    from china_site.exposure import RESOURCE_TYPES, exposure_from_resource, is_default_provider, region_of
    from china_site.regions import classify

    forms = _secret_forms(records)

    def mask(text: str | None) -> str | None:
        return text if text is None or not forms else _redact(text, forms)

    rows: list[PlanRow] = []
    for record in records:
        if record.type == STACK_TYPE:
            continue
        package = record.type.split(":", 1)[0]
        if record.type.startswith(PROVIDER_TYPE_PREFIX):
            package = record.type[len(PROVIDER_TYPE_PREFIX) :]
        if package != "alicloud":
            rows.append(PlanRow(record.urn, record.type, record.name, None, None))
            continue
        provider_props = record.inputs if record.is_provider else (record.provider.inputs if record.provider else None)
        provider_name = record.name if record.is_provider else (record.provider.name if record.provider else None)
        explicit = provider_name is not None and not is_default_provider(provider_name)
        exposure = None
        if not record.is_provider:
            exposure = exposure_from_resource(
                record.type,
                record.inputs,
                name=record.name,
                provider_props=provider_props,
                stack_config=stack_config,
                explicit_provider=explicit,
            )
        spec = RESOURCE_TYPES.get(record.type) if exposure is not None else None
        scope_key = spec.area_property if spec is not None and spec.area_kind == "scope" else None
        scope = _text(record.inputs.get(scope_key)) if scope_key else None
        if exposure is not None and exposure.region is None and scope is not None:
            area, note, region = exposure.area, f"by {'CDN scope' if scope_key == 'scope' else scope_key} {scope}", None
        elif exposure is not None:
            area, region = exposure.area, exposure.region
            note = "region unknown: treated as mainland" if exposure.region_guessed else ""
            if exposure.region_guessed and exposure.region_note:
                note = f"region unknown ({exposure.region_note}): treated as mainland"
        else:
            region, _source = region_of(provider_props, stack_config, explicit_provider=explicit)
            info = classify(region)
            area, region = info.area, info.region_id
            note = "region unknown: treated as mainland" if info.guessed else ""
        rows.append(
            PlanRow(
                record.urn,
                record.type,
                record.name,
                mask(region),
                area,
                note,
                mask(scope),
                exposure.public if exposure is not None else None,
                tuple(mask(d) or "" for d in exposure.domains) if exposure is not None else (),
            )
        )
    return rows
