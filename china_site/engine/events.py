"""JSON engine events as an audit input: ``pulumi up --json``, ``pulumi preview --json`` with
``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true``, and events saved from the Automation API's ``on_event``.

The shape is Pulumi's ``apitype.EngineEvent`` (sdk/go/common/apitype/events.go): one object per event, exactly one
of ``resourcePreEvent``, ``resOutputsEvent``, ``policyEvent``, ``preludeEvent``, ``summaryEvent``, … set, plus
``sequence`` and ``timestamp``. The CLI writes one per line (``display.ShowJSONEvents``). What is read:

* ``preludeEvent.config`` — the stack config (secrets blinded as ``[secret]``), for default providers' regions;
* ``resourcePreEvent`` / ``resOutputsEvent`` ``.metadata`` (``op``, ``urn``, ``provider``, ``new`` = the resource's
  ``StepEventStateMetadata``: ``type``, ``urn``, ``custom``, ``parent``, ``provider``, ``inputs``, ``outputs``) —
  the latest event of a resource wins (an ``up`` sends the preview's and then the update's);
* ``policyEvent`` — what a policy pack reported (``policyName``, ``policyPackName``, ``enforcementLevel``,
  ``resourceUrn``, ``message``), to compare with our own verdicts;
* ``summaryEvent.PolicyPacks`` — which packs ran (``"<name>|<kind>|<location>"`` → version, e.g.
  ``"china-site|local|policies"``; the only trace of the pack in Automation API events, whose Python ``EngineEvent``
  drops the policy summary events).

The engine sends events for every step but its *internal* ones: default providers never appear (their region comes
from the config, as for a preview), unchanged resources do (``op: same``), explicit providers included.

Events saved by the Python Automation API are ``pulumi.automation.events.EngineEvent`` objects; saved as JSON
(``vars()`` recursively, or :func:`event_to_json`) their keys are snake_case (``resource_pre_event``,
``policy_pack_name``, …) and absent events are ``null``. Both spellings are read; property maps (``inputs``,
``outputs``, ``config``) are kept as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, NoReturn

from china_site.engine.artifacts import (
    INCLUDED_OPS,
    SKIPPED_OPS,
    Artifact,
    EnginePolicyEvent,
    Record,
    RunFailure,
    _clip,
    _kind,
    _parse_state,
    _RawRecord,
    failed_run_artifact,
    partial_artifact,
)
from china_site.engine.pipeline import DNS_LINKED_EXPOSURE, LINKS_NOT_IN_ARTIFACT
from china_site.errors import InputError

__all__ = ["Comparison", "Disagreement", "compare", "event_to_json", "is_event", "parse_event_lines", "parse_events"]

EVENT_KEYS = frozenset(
    {
        "cancelEvent",
        "stdoutEvent",
        "diagnosticEvent",
        "preludeEvent",
        "summaryEvent",
        "resourcePreEvent",
        "resOutputsEvent",
        "resOpFailedEvent",
        "policyEvent",
        "policyRemediationEvent",
        "policyLoadEvent",
        "policyAnalyzeSummaryEvent",
        "policyRemediateSummaryEvent",
        "policyAnalyzeStackSummaryEvent",
        "startDebuggingEvent",
        "progressEvent",
        "errorEvent",
    }
)
# The payloads parse_events reads: each must be an object when present.
_READ_PAYLOADS = (
    "preludeEvent",
    "summaryEvent",
    "resourcePreEvent",
    "resOutputsEvent",
    "policyEvent",
    "policyAnalyzeSummaryEvent",
    "policyAnalyzeStackSummaryEvent",
)
# Keys whose values are property maps (never renamed).
_OPAQUE = frozenset({"inputs", "outputs", "config", "before", "after", "detailedDiff", "detailed_diff"})

_FIX = (
    "save the events as JSON: `pulumi up --json > events.jsonl`, `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true "
    "pulumi preview --json > events.jsonl`, or one JSON object per Automation API on_event call"
)


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def _normalize_keys(value: Any) -> Any:
    """snake_case → camelCase for the event envelope and metadata (Automation API saves); property maps kept."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = _camel(str(k)) if "_" in str(k) else str(k)
            out[key] = v if key in _OPAQUE else _normalize_keys(v)
        return out
    if isinstance(value, list):
        return [_normalize_keys(v) for v in value]
    return value


def is_event(value: Any) -> bool:
    """An engine event object (either spelling)."""
    if not isinstance(value, Mapping):
        return False
    keys = {_camel(str(k)) for k, v in value.items() if v is not None}
    return bool(keys & EVENT_KEYS) and ("sequence" in keys or "timestamp" in keys or len(keys & EVENT_KEYS) == 1)


def _fail(source: str, what: str, *, entry: str | None = None, field: str | None = None) -> NoReturn:
    where = source + (f", {entry}" if entry else "") + (f", field '{field}'" if field else "")
    raise InputError(what, where=where, fix=_FIX)


def parse_event_lines(text: str, source: str, *, state: Artifact | None = None) -> Artifact:
    """Newline-delimited events (blank lines skipped)."""
    from china_site.safeio import MAX_DEPTH, NestingError, NumberTooLongError, load_json

    events: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(load_json(line))  # numbers and nesting bounded before anything reads the event
        except json.JSONDecodeError as exc:
            _fail(source, f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})")
        except NumberTooLongError as exc:
            _fail(source, f"line {number} holds {exc}, which no engine event does")
        except NestingError:
            _fail(source, f"line {number} is nested more than {MAX_DEPTH} levels deep, which no engine event is")
    return parse_events(events, source, state=state)


def parse_events(events: list[Any], source: str, *, state: Artifact | None = None) -> Artifact:
    """Engine events (decoded) → an :class:`Artifact` of kind ``events`` with the engine's policy verdicts."""
    config: dict[str, str] = {}
    latest: dict[str, tuple[str, dict[str, Any], Any, str]] = {}  # urn → (op, new state, step provider, entry)
    order: list[str] = []
    policy_events: list[EnginePolicyEvent] = []
    packs: dict[str, str] = {}
    seen_policy: set[tuple[str, str, str, str]] = set()
    ended = False  # the engine ends every run (preview, update, failed or not) with a summaryEvent
    failures: list[RunFailure] = []
    counted = 0  # resources a summaryEvent counts (the largest count: an `up` sends a preview's and an update's)
    carried: set[str] = set()  # resources the events carry (any step but a delete)
    for index, raw in enumerate(events):
        entry = f"event {index + 1}"
        if not isinstance(raw, Mapping):
            _fail(source, f"expected an event object, found {_kind(raw)}", entry=entry)
        event = _normalize_keys(raw)
        for name in _READ_PAYLOADS:  # every payload this function reads is an object (or absent)
            payload = event.get(name)
            if payload is not None and not isinstance(payload, Mapping):
                _fail(source, f"expected an object, found {_kind(payload)}", entry=entry, field=name)
        if event.get("preludeEvent"):
            cfg = event["preludeEvent"].get("config") or {}
            if not isinstance(cfg, Mapping):
                _fail(source, f"expected an object, found {_kind(cfg)}", entry=entry, field="preludeEvent.config")
            config.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in cfg.items()})
        for key in ("resourcePreEvent", "resOutputsEvent"):
            payload = event.get(key)
            if not payload:
                continue
            meta = payload.get("metadata") if isinstance(payload, Mapping) else None
            if not isinstance(meta, Mapping):
                _fail(source, "the event has no metadata object", entry=entry, field=f"{key}.metadata")
            op = meta.get("op")
            op = op.value if isinstance(op, Enum) else op
            urn = meta.get("urn")
            if not isinstance(op, str) or not op:
                _fail(source, "the step has no op", entry=entry, field=f"{key}.metadata.op")
            if not isinstance(urn, str) or not urn:
                _fail(source, "the step has no urn", entry=entry, field=f"{key}.metadata.urn")
            if op in SKIPPED_OPS:
                continue
            carried.add(urn)
            if op not in INCLUDED_OPS:
                _fail(source, f"unknown step op '{_clip(op)}'", entry=entry, field=f"{key}.metadata.op")
            new = meta.get("new")
            if new is None:
                continue
            if not isinstance(new, Mapping):
                _fail(source, f"expected an object, found {_kind(new)}", entry=entry, field=f"{key}.metadata.new")
            if urn not in latest:
                order.append(urn)
            latest[urn] = (op, dict(new), meta.get("provider"), f"{entry} ({key}.metadata.new)")
        policy = event.get("policyEvent")
        if policy:
            found = _policy_event(policy, source, entry)
            key4 = (found.pack, found.policy, found.urn, found.enforcement)
            if key4 not in seen_policy:  # an `up` reports in its preview and again in its update
                seen_policy.add(key4)
                policy_events.append(found)
        failures.extend(_failures(event, entry))
        summary = event.get("summaryEvent")
        if summary is not None:
            ended = True
        if isinstance(summary, Mapping):
            counted = max(counted, _counted(summary.get("resourceChanges")))
        ran = (summary.get("policyPacks") or summary.get("PolicyPacks")) if summary else None
        if ran is not None:
            field_name = "summaryEvent." + ("policyPacks" if summary.get("policyPacks") else "PolicyPacks")
            if not isinstance(ran, Mapping):
                _fail(source, f"expected an object, found {_kind(ran)}", entry=entry, field=field_name)
            # The engine keys them "<name>|<kind>|<location>" ("china-site|local|policies" for a local pack; the real
            # engine showed it), so the pack's name is what comes before the first "|".
            for k, v in ran.items():
                if not isinstance(v, str):
                    _fail(source, f"expected a version string, found {_kind(v)}", entry=entry, field=field_name)
                packs[str(k).split("|", 1)[0]] = v
        for name in ("policyAnalyzeSummaryEvent", "policyAnalyzeStackSummaryEvent"):
            analyzed = event.get(name)
            if not analyzed or analyzed.get("policyPackName") is None:
                continue
            pack_name, pack_version = analyzed.get("policyPackName"), analyzed.get("policyPackVersion") or ""
            if not isinstance(pack_name, str) or not isinstance(pack_version, str):
                _fail(source, "expected a string", entry=entry, field=f"{name}.policyPack…")
            packs.setdefault(pack_name, pack_version)
            break
    for found in policy_events:
        packs.setdefault(found.pack, found.pack_version)

    raw_records: list[_RawRecord] = []
    for urn in order:
        op, new, step_provider, entry = latest[urn]
        rec = _parse_state(
            new,
            source,
            entry,
            fix=_FIX,
            masked_secrets=True,
            op=op,
            step_urn=urn,
            step_provider=step_provider,
        )
        if rec is not None:
            raw_records.append(rec)
    if not raw_records:
        if not failures:
            _fail(
                source,
                "the events describe no resources (no resourcePreEvent/resOutputsEvent), so there is nothing to audit",
            )
        artifact = failed_run_artifact("events", tuple(failures), config, source)
    else:
        artifact = partial_artifact("events", raw_records, config, source, state)
        if state is not None:
            artifact = replace(artifact, records=_links_from_state(artifact.records, state))
    return replace(
        artifact,
        policy_events=tuple(policy_events),
        policy_packs=packs,
        events_cut_off=not ended,
        run_failures=tuple(failures),
        counted_resources=counted,
        carried_resources=len(carried),
    )


def _links_from_state(records: list[Record], state: Artifact) -> list[Record]:
    """Engine events never carry a resource's dependencies (``StepEventStateMetadata`` has no field for them), which
    tie a DNS record whose value is unknown at preview to what it points at; a ``pulumi stack export`` of the stack
    has them: each record without its own takes those of the same resource in the export."""
    known = {r.urn: r for r in state.records}
    out: list[Record] = []
    for record in records:
        found = known.get(record.urn)
        if found is not None and not record.dependencies and not record.property_dependencies:
            record = replace(
                record, dependencies=found.dependencies, property_dependencies=dict(found.property_dependencies)
            )
        out.append(record)
    return out


def _counted(changes: Any) -> int:
    """The resources a summaryEvent's ``resourceChanges`` counts, deletes left out (their events are skipped too).
    The engine counts one logical step per resource it reports (never a default provider, never an unchanged
    read), so the events of a whole run carry at least as many resources."""
    if not isinstance(changes, Mapping):
        return 0
    return sum(
        n
        for op, n in changes.items()
        if str(op) not in SKIPPED_OPS and isinstance(n, int) and not isinstance(n, bool) and n > 0
    )


_SUCCEEDED = frozenset({"succeeded", "success", "ok"})
# (A cancelEvent is no failure: the CLI ends every JSON event stream with one.)


def _failures(event: Mapping[str, Any], entry: str) -> list[RunFailure]:
    """What in one event says the run failed: an error diagnostic, a failed resource operation, a summary whose
    ``result`` is not a success (``failed``, ``cancelled``) or an error event."""
    out: list[RunFailure] = []
    diag = event.get("diagnosticEvent")
    if isinstance(diag, Mapping) and str(diag.get("severity") or "").lower() == "error":
        message = diag.get("message")
        prefix = diag.get("prefix")
        text = message if isinstance(message, str) and message.strip() else "(an error without a message)"
        if isinstance(prefix, str) and prefix.strip() and not text.startswith(prefix):
            text = prefix + text
        urn = diag.get("urn")
        out.append(RunFailure(text, urn if isinstance(urn, str) else "", entry))
    failed = event.get("resOpFailedEvent")
    if isinstance(failed, Mapping):
        meta = failed.get("metadata")
        meta = meta if isinstance(meta, Mapping) else {}
        urn = meta.get("urn") if isinstance(meta.get("urn"), str) else ""
        op = meta.get("op")
        op = op.value if isinstance(op, Enum) else op
        out.append(RunFailure(f"the {_clip(str(op or 'resource'))} operation failed", str(urn), entry))
    summary = event.get("summaryEvent")
    result = str(summary.get("result") or "").strip().lower() if isinstance(summary, Mapping) else ""
    if result and result not in _SUCCEEDED:  # "failed", "cancelled", or a value we do not know: fail closed
        text = f"the engine's summary says the run did not succeed (result: {_clip(result, 40)})"
        out.append(RunFailure(text, "", entry))
    error = event.get("errorEvent")
    if isinstance(error, Mapping):
        said = error.get("error") or error.get("message")
        out.append(RunFailure(str(said) if said else "(an error event without a message)", "", entry))
    return out


def _policy_event(policy: Any, source: str, entry: str) -> EnginePolicyEvent:
    if not isinstance(policy, Mapping):
        _fail(source, f"expected an object, found {_kind(policy)}", entry=entry, field="policyEvent")

    def text(name: str, *, required: bool) -> str:
        value = policy.get(name)
        if value is None or value == "":
            if required:
                _fail(source, "the policy event has no value here", entry=entry, field=f"policyEvent.{name}")
            return ""
        if not isinstance(value, str):
            _fail(source, f"expected a string, found {_kind(value)}", entry=entry, field=f"policyEvent.{name}")
        return value

    level = text("enforcementLevel", required=True).lower()
    return EnginePolicyEvent(
        policy=text("policyName", required=True),
        pack=text("policyPackName", required=True),
        pack_version=text("policyPackVersion", required=False),
        enforcement="advisory" if level == "warning" else level,
        urn=text("resourceUrn", required=False),
        message=text("message", required=False),
    )


def event_to_json(event: Any) -> str:
    """One Automation API ``EngineEvent`` as a JSON line (the CLI's camelCase keys): for ``on_event`` callbacks,
    ``stack.up(on_event=lambda e: log.write(event_to_json(e)))``."""

    def plain(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if hasattr(value, "__dict__"):
            return {k: plain(v) for k, v in vars(value).items() if v is not None}
        return value

    return json.dumps(_normalize_keys(plain(event)), ensure_ascii=False, default=str) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# The engine's verdicts beside ours


@dataclass(frozen=True)
class Disagreement:
    """A (policy, resource, level) that one side reported and the other did not."""

    policy: str
    urn: str
    enforcement: str
    reported_by: str  # "engine" | "china-site"

    def to_dict(self) -> dict[str, Any]:
        other = "china-site" if self.reported_by == "engine" else "engine"
        return {
            "policy": self.policy,
            "urn": self.urn,
            "enforcement": self.enforcement,
            "reported_by": self.reported_by,
            "detail": f"reported by {self.reported_by} only; {other} did not report it (different registry, date, "
            "policy config or pack version?)",
        }


@dataclass(frozen=True)
class Comparison:
    """The pack's own ``policyEvent`` s from the events beside the audit's findings. ``compared`` is False when the
    events show no run of our pack (then nothing can disagree)."""

    pack: str
    compared: bool
    engine: tuple[EnginePolicyEvent, ...]
    disagreements: tuple[Disagreement, ...]


# links-not-in-artifact (engine events lack a DNS record's dependencies) is dns-linked-exposure left unjudged.
_GAP_STANDS_FOR = {LINKS_NOT_IN_ARTIFACT: DNS_LINKED_EXPOSURE}


def compare(
    artifact: Artifact, findings: Sequence[Any], *, pack: str, stack_urn: str, skip_policies: Iterable[str] = ()
) -> Comparison:
    """Compare the engine's policy events of ``pack`` with ``findings`` (driver Diagnostics) by (policy, resource,
    level). A stack-level event without a resource counts as the stack's URN. Remediations are not violations. A
    mandatory gap finding on a resource (``links-not-in-artifact``) answers the engine's verdict there of the policy
    it could not judge (``dns-linked-exposure``): not a disagreement."""
    skip = set(skip_policies)
    engine = tuple(e for e in artifact.policy_events if e.pack == pack and e.enforcement != "remediate")
    compared = pack in artifact.policy_packs or bool(engine)
    if not compared:
        return Comparison(pack, False, engine, ())

    def key(policy: str, urn: str, level: str) -> tuple[str, str, str]:
        return policy, urn or stack_urn, level

    theirs = {key(e.policy, e.urn, e.enforcement) for e in engine}
    ours = {key(d.policy, d.urn, d.enforcement) for d in findings if d.policy not in skip}
    # A gap finding of ours on a resource stands for the engine's verdict there of the policy it could not judge
    # (mandatory both): the report already says why, so it is no disagreement to explain.
    ours |= {
        key(_GAP_STANDS_FOR[d.policy], d.urn, d.enforcement)
        for d in findings
        if d.policy in _GAP_STANDS_FOR and d.urn and d.enforcement == "mandatory"
    }
    out = [Disagreement(p, u, lvl, "engine") for p, u, lvl in sorted(theirs - ours)]
    out += [Disagreement(p, u, lvl, "china-site") for p, u, lvl in sorted(ours - theirs)]
    return Comparison(pack, True, engine, tuple(out))
