"""Readers for real Pulumi CLI artifacts: ``pulumi stack export`` (versions 3 and 4) and ``pulumi preview --json``.

Both are read into one common shape, :class:`Artifact` holding :class:`Record` s, so the pack driver
(:mod:`china_site.engine.driver`) can hand them to the *same* Policy objects the engine would run.

Property values are kept in Pulumi's JSON property form, with these normalisations:

* **Secrets** always become the wire form the policy SDK deserialises as a secret:
  ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": …}``.
  A ``ciphertext`` secret (a normal export) and a masked ``"[secret]"`` string (``pulumi preview --json``)
  cannot be decrypted here, so their value is the engine's *unknown* sentinel: a policy that reads one gets
  the SDK's ``UnknownValueError`` (an advisory "can't run policy … during preview" diagnostic) instead of a
  made-up value. A ``plaintext`` secret (``pulumi stack export --show-secrets``) keeps its value, still wrapped.
* **Unknowns** (``"04da6b54-80e4-46f7-96ec-b56ff0331ba9"`` and the other typed sentinels) are kept as they are:
  they are exactly what the engine sends for unknown values.
* Assets, archives and resource references are kept; the driver encodes them as the engine does.

This module imports nothing from Pulumi: it is safe to import when the CLI starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NoReturn

from china_site.errors import InputError
from china_site.safeio import MAX_DEPTH, NestingError, NumberTooLongError, clip, load_json, read_capped

# Pulumi's special signature key and the signatures that can follow it (sdk/go/common/resource/properties.go).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

# The engine's unknown sentinels (sdk/go/common/resource/plugin/rpc.go; pulumi_policy/proxy.py).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown string: what `pulumi preview --json` writes
UNKNOWN_VALUES = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # bool
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN,  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
MASKED_SECRET = "[secret]"  # how `pulumi preview --json` prints a secret it does not show

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
SUPPORTED_EXPORT_VERSIONS = (3, 4)

# `pulumi preview --json` step ops (sdk/go/common/display/... StepOp). Deletes are skipped: a deleted resource is
# not part of the stack the policies judge (the engine does not analyze it either).
INCLUDED_OPS = frozenset(
    {
        "same",
        "create",
        "update",
        "replace",
        "create-replacement",
        "read",
        "read-replacement",
        "import",
        "import-replacement",
        "refresh",
    }
)
SKIPPED_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"})
READ_OPS = frozenset({"read", "read-replacement"})

_EXPORT_FIX = (
    "run `pulumi stack export --file state.json` (or `pulumi preview --json > preview.json`) and pass that file"
)
_PREVIEW_FIX = "run `pulumi preview --json > preview.json` and pass that file"

ArtifactKind = Literal["export", "preview", "events"]


def secret(value: Any = UNKNOWN) -> dict[str, Any]:
    """The secret wire form the policy SDK deserialises as a secret; ``value`` defaults to *unknown*."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def secret_strings(records: Iterable[Record], *, min_length: int) -> set[str]:
    """Plaintext secret strings (of at least ``min_length`` characters) in the records' inputs, outputs and
    provider inputs: only ``--show-secrets`` exports and secrets given to a preflight have any."""
    found: set[str] = set()

    def walk(value: Any, inside: bool) -> None:
        if isinstance(value, Mapping):
            secret_here = inside or is_secret(value)
            for v in value.values():
                walk(v, secret_here)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, inside)
        elif inside and isinstance(value, str) and len(value) >= min_length and value not in UNKNOWN_VALUES:
            found.add(value)

    for record in records:
        walk(record.inputs, False)
        walk(record.outputs or {}, False)
        if record.provider is not None:
            walk(record.provider.inputs, False)
    return found


@dataclass(frozen=True)
class ParsedURN:
    """The parts of ``urn:pulumi:<stack>::<project>::<parent-type$…$type>::<name>``."""

    stack: str
    project: str
    qualified_type: str
    type: str
    name: str

    @property
    def parent_types(self) -> tuple[str, ...]:
        return tuple(self.qualified_type.split("$")[:-1])


def parse_urn(urn: str) -> ParsedURN:
    """Split a URN the way Pulumi builds it (``resource.NewURN``). The name is everything after the fourth
    ``::`` and may itself contain ``::``; stack, project and type never do. Raises ValueError if malformed."""
    prefix = "urn:pulumi:"
    if not isinstance(urn, str) or not urn.startswith(prefix):
        raise ValueError("does not start with 'urn:pulumi:'")
    parts = urn[len(prefix) :].split("::", 3)
    if len(parts) != 4 or not all(parts[:3]):
        raise ValueError("expected urn:pulumi:<stack>::<project>::<type>::<name>")
    stack, project, qualified_type, name = parts
    return ParsedURN(stack, project, qualified_type, qualified_type.rsplit("$", 1)[-1], name)


def root_stack_urn(stack: str, project: str) -> str:
    """``resource.DefaultRootStackURN``: where the engine files stack-level policy violations."""
    return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"


@dataclass(frozen=True)
class ProviderRef:
    """The provider a resource is managed by, as the engine sends it to policies (its *inputs*)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class RecordOptions:
    """The resource options the engine passes to policies (``AnalyzerResourceOptions``), as far as an artifact
    records them. ``delete_before_replace`` is never in an artifact, so it is always "not defined"."""

    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    custom_timeouts: tuple[float, float, float] = (0.0, 0.0, 0.0)  # create, update, delete (seconds)


@dataclass(frozen=True)
class Record:
    """One resource of an artifact.

    ``inputs`` feed resource policies (Analyze, Remediate); ``outputs`` feed stack policies (AnalyzeStack) and
    are ``None`` when the artifact has none (preview creates). ``op`` is the preview step op, ``None`` for exports.
    ``external`` marks read resources (``.get``/``read`` steps), which the engine does not analyze one by one.
    """

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    provider: ProviderRef | None
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    op: str | None
    external: bool = False
    options: RecordOptions = field(default_factory=RecordOptions)
    source_position: str | None = None  # Pulumi's ``sourcePosition`` (``project:///main.py#12,5``), when recorded

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_TYPE_PREFIX)

    @property
    def is_stack(self) -> bool:
        return self.type == STACK_TYPE


@dataclass(frozen=True)
class MissingProvider:
    """A resource whose explicit provider is neither in the artifact nor in the ``--state`` export: its region (and
    so where it is served from) cannot be known. ``pulumi preview --json`` without ``--show-sames`` leaves out
    unchanged resources, explicit providers included."""

    record: Record
    provider_urn: str


@dataclass(frozen=True)
class EnginePolicyEvent:
    """A ``policyEvent`` of the engine (apitype.PolicyEvent): what a policy pack reported during the run."""

    policy: str
    pack: str
    pack_version: str
    enforcement: str  # advisory | mandatory | remediate | disabled (older SDKs wrote "warning" = advisory)
    urn: str  # "" for a stack-level violation without a resource
    message: str


@dataclass(frozen=True)
class RunFailure:
    """What says the run that wrote the artifact failed: an error diagnostic (the program's refusal, a provider
    error, "preview failed: N mandatory policy violations"), a failed resource operation, a summary whose result is
    ``failed``, or a cancellation. ``urn`` is the resource it names ("" for none); ``message`` has no colours."""

    message: str
    urn: str = ""
    where: str = ""  # the entry of the artifact it comes from (``diagnostics[2]``, ``event 37``)


@dataclass(frozen=True)
class Artifact:
    kind: ArtifactKind
    records: list[Record]
    config: dict[str, str]
    stack: str | None
    project: str | None
    source: str = ""
    missing_providers: tuple[MissingProvider, ...] = ()
    policy_events: tuple[EnginePolicyEvent, ...] = ()
    policy_packs: dict[str, str] = field(default_factory=dict)  # pack name → version the engine ran (summaryEvent)
    # Unchanged resources a preview counts (changeSummary.same) but does not list (no --show-sames): not judged.
    omitted_unchanged: int = 0
    events_cut_off: bool = False  # JSON engine events without the summaryEvent that ends every run
    run_failures: tuple[RunFailure, ...] = ()  # the run that wrote the artifact failed (preview/events only)
    # JSON engine events: the resources the summaryEvent counts (its resourceChanges, deletes left out; the largest
    # of an `up`'s two summaries) and how many distinct resources the events carry.
    counted_resources: int = 0
    carried_resources: int = 0

    @property
    def judged_records(self) -> list[Record]:
        """The records the pack can judge: all but those whose provider is missing."""
        missing = {m.record.urn for m in self.missing_providers}
        return [r for r in self.records if r.urn not in missing]


# ---------------------------------------------------------------------------------------------------------------
# Errors: one line naming the file, the entry and the field, and how to fix it.


def _fail(source: str, what: str, *, entry: str | None = None, field: str | None = None, fix: str) -> NoReturn:
    where = source
    if entry:
        where += f", {entry}"
    if field:
        where += f", field '{field}'"
    raise InputError(what, where=where, fix=fix)


# ---------------------------------------------------------------------------------------------------------------
# Reading


def read_artifact(path_or_dash: str, *, state: Artifact | None = None) -> Artifact:
    """Read a ``pulumi stack export``, ``pulumi preview --json`` or JSON engine events file; ``-`` reads standard
    input. ``state``: a ``pulumi stack export`` whose providers resolve those a preview leaves out.

    Raises :class:`~china_site.errors.InputError` (one line: file, entry, field, fix) for anything unreadable.
    """
    source = "<stdin>" if path_or_dash == "-" else path_or_dash
    cap = max_artifact_bytes()

    def refuse(why: str) -> NoReturn:
        _fail(
            source,
            f"is too large for an artifact: {why}",
            fix=f"check that this is the export or preview file; raise the limit with {MAX_ARTIFACT_ENV}=<megabytes>",
        )

    try:
        data = read_capped(path_or_dash, cap, refuse=refuse)
    except OSError as exc:
        what = "standard input" if path_or_dash == "-" else "the file"
        _fail(source, f"cannot read {what} ({exc.strerror or type(exc).__name__})", fix=_EXPORT_FIX)
    return parse_artifact(data, source, state=state)


MAX_ARTIFACT_ENV = "CHINA_SITE_MAX_ARTIFACT_MB"
DEFAULT_MAX_ARTIFACT_MB = 1024


def max_artifact_bytes() -> int:
    """The size cap of an artifact: ``$CHINA_SITE_MAX_ARTIFACT_MB`` megabytes (MiB), default 1024 (a 10,000-resource
    export is about 30 MB)."""
    import os

    raw = os.environ.get(MAX_ARTIFACT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_ARTIFACT_MB * 1024**2
    try:
        value = int(raw)
        if value < 1:
            raise ValueError
    except ValueError:
        raise InputError(
            f"{clip(repr(raw), 40)} is not a positive whole number of megabytes",
            where=f"environment variable {MAX_ARTIFACT_ENV}",
            fix=f"set it to e.g. {DEFAULT_MAX_ARTIFACT_MB}, or unset it",
        ) from None
    return value * 1024**2


def parse_artifact(data: bytes | str, source: str = "<artifact>", *, state: Artifact | None = None) -> Artifact:
    """Parse artifact text (bytes or str); ``source`` names it in error messages. A stream of JSON engine events
    (one object per line, ``pulumi up --json``) is recognised too."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _fail(source, f"is not UTF-8 text (byte {exc.start})", fix=_EXPORT_FIX)
    else:
        text = data
    if not text.strip():
        _fail(source, "is empty", fix=_EXPORT_FIX)
    try:
        doc = load_json(text)  # numbers and nesting bounded as it decodes
    except NumberTooLongError as exc:
        _fail(source, f"holds {exc}, which no Pulumi export or preview does", fix=_EXPORT_FIX)
    except json.JSONDecodeError as exc:
        from china_site.engine.events import parse_event_lines

        if exc.msg == "Extra data":  # more than one JSON value: newline-delimited engine events
            return parse_event_lines(text, source, state=state)
        _fail(source, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", fix=_EXPORT_FIX)
    except (RecursionError, NestingError):
        _fail(
            source,
            f"is nested more than {MAX_DEPTH} levels deep, which no Pulumi export or preview is",
            fix=_EXPORT_FIX,
        )
    if _SURROGATE_ESCAPE.search(text):
        doc = _without_lone_surrogates(doc)
    return parse_document(doc, source, state=state)


# A ``\ud800``-style escape: JSON can spell a lone UTF-16 surrogate, which no UTF-8 file, protobuf message or report
# can carry. Go's decoder (the Pulumi CLI's) reads one as U+FFFD; so do we.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def parse_document(doc: Any, source: str = "<artifact>", *, state: Artifact | None = None) -> Artifact:
    """Parse an already-decoded JSON document."""
    from china_site.engine.events import is_event, parse_events

    if isinstance(doc, list) and doc and all(is_event(e) for e in doc):
        return parse_events(doc, source, state=state)
    if isinstance(doc, dict) and is_event(doc):
        return parse_events([doc], source, state=state)
    if isinstance(doc, dict) and isinstance(doc.get("events"), list) and "steps" not in doc:
        return parse_events(doc["events"], source, state=state)  # EngineEventBatch / GetUpdateEventsResponse
    if not isinstance(doc, dict):
        _fail(source, f"expected a JSON object at the top level, found {_kind(doc)}", fix=_EXPORT_FIX)
    if "deployment" in doc or ("version" in doc and "steps" not in doc):
        return _parse_export(doc, source)
    if "steps" in doc:
        return _parse_preview(doc, source, state_export=state)
    _fail(
        source,
        "is neither a `pulumi stack export` document (no 'deployment') nor a `pulumi preview --json` "
        "document (no 'steps')",
        fix=_EXPORT_FIX,
    )


def _parse_export(doc: dict[str, Any], source: str) -> Artifact:
    version = doc.get("version")
    if "version" not in doc:
        _fail(source, "the export has no version", field="version", fix=_EXPORT_FIX)
    if isinstance(version, bool) or not isinstance(version, int):
        _fail(source, f"the export version must be a number, found {_kind(version)}", field="version", fix=_EXPORT_FIX)
    if version not in SUPPORTED_EXPORT_VERSIONS:
        fix = (
            "export with Pulumi CLI 3.x: `pulumi stack export --file state.json`"
            if version < SUPPORTED_EXPORT_VERSIONS[0]
            else "re-export with a Pulumi CLI that writes version 3 or 4, or upgrade china-site"
        )
        _fail(
            source,
            f"unsupported export version {version} (china-site reads versions 3 and 4)",
            field="version",
            fix=fix,
        )
    deployment = doc.get("deployment")
    if not isinstance(deployment, dict):
        _fail(source, f"expected an object, found {_kind(deployment)}", field="deployment", fix=_EXPORT_FIX)
    resources = deployment.get("resources")
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        _fail(source, f"expected a list, found {_kind(resources)}", field="deployment.resources", fix=_EXPORT_FIX)
    if not resources:
        _fail(
            source,
            "the export contains no resources, so there is nothing to audit",
            field="deployment.resources",
            fix="export the stack after `pulumi up`, or audit `pulumi preview --json` output instead",
        )

    raw: list[_RawRecord] = []
    for index, res in enumerate(resources):
        entry = f"deployment.resources[{index}]"
        rec = _parse_state(res, source, entry, fix=_EXPORT_FIX, masked_secrets=False)
        if rec is not None:
            raw.append(rec)

    if not raw:
        _fail(
            source,
            "every exported resource is pending deletion, so there is nothing to audit",
            field="deployment.resources",
            fix=_EXPORT_FIX,
        )

    def missing_provider(provider_urn: str, entry: str, _resource: str) -> NoReturn:
        _fail(
            source,
            f"the provider {provider_urn} is not among the exported resources",
            entry=entry,
            field="provider",
            fix=_EXPORT_FIX,
        )

    return _artifact("export", raw, {}, source, missing_provider)


def _parse_preview(doc: dict[str, Any], source: str, *, state_export: Artifact | None = None) -> Artifact:
    steps = doc.get("steps")
    if not isinstance(steps, list):
        _fail(source, f"expected a list, found {_kind(steps)}", field="steps", fix=_PREVIEW_FIX)
    config_doc = doc.get("config")
    if config_doc is None:
        config_doc = {}
    if not isinstance(config_doc, dict):
        _fail(source, f"expected an object, found {_kind(config_doc)}", field="config", fix=_PREVIEW_FIX)
    config = {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in config_doc.items()}

    raw: list[_RawRecord] = []
    seen: set[str] = set()
    for index, step in enumerate(steps):
        entry = f"steps[{index}]"
        if not isinstance(step, dict):
            _fail(source, f"expected an object, found {_kind(step)}", entry=entry, fix=_PREVIEW_FIX)
        op = step.get("op")
        if not isinstance(op, str) or not op:
            _fail(source, "the step has no op", entry=entry, field="op", fix=_PREVIEW_FIX)
        urn = step.get("urn")
        if not isinstance(urn, str) or not urn:
            _fail(source, "the step has no urn", entry=entry, field="urn", fix=_PREVIEW_FIX)
        if op in SKIPPED_OPS:
            continue
        if op not in INCLUDED_OPS:
            _fail(
                source,
                f"unknown step op '{op}'",
                entry=entry,
                field="op",
                fix="upgrade china-site, or report the Pulumi version that wrote this preview",
            )
        if urn in seen:  # a replacement shows the same resource twice; its first step carries the new state
            continue
        state = step.get("newState")
        if not isinstance(state, dict):
            _fail(source, f"a '{op}' step needs a newState object", entry=entry, field="newState", fix=_PREVIEW_FIX)
        rec = _parse_state(
            state,
            source,
            f"{entry}.newState",
            fix=_PREVIEW_FIX,
            masked_secrets=True,
            op=op,
            step_urn=urn,
            step_provider=step.get("provider"),
        )
        if rec is not None:
            seen.add(urn)
            raw.append(rec)
    failures = _preview_failures(doc.get("diagnostics"), source)
    if not raw:
        if failures:  # the program failed before registering anything: the failure is the finding
            return failed_run_artifact("preview", failures, config, source)
        _fail(
            source,
            "the preview contains no resources, so there is nothing to audit (did `pulumi preview` fail?)",
            field="steps",
            fix=_PREVIEW_FIX,
        )
    counted, carried = _counted_changes(doc, steps)
    artifact = replace(
        partial_artifact("preview", raw, config, source, state_export),
        run_failures=failures,
        counted_resources=counted,
        carried_resources=carried,
    )
    if state_export is None:
        return replace(artifact, omitted_unchanged=_omitted_unchanged(doc, steps))
    # With the current state, the unchanged resources the preview leaves out are judged as the state has them.
    listed = {r.urn for r in artifact.records}
    unchanged = [r for r in state_export.records if r.urn not in listed]
    return replace(artifact, records=artifact.records + unchanged)


# Ops a preview digest may count without listing: unchanged resources (listed only with --show-sames) and reads
# (listed only with --show-reads); deletes are not judged.
_UNLISTED_OPS = frozenset({"same", *READ_OPS}) | SKIPPED_OPS


def _counted_changes(doc: dict[str, Any], steps: list[Any]) -> tuple[int, int]:
    """(resources ``changeSummary`` counts as created, updated, replaced, …; distinct resources the steps list with
    those ops): a preview whose steps were filtered or cut lists fewer than it counts."""
    summary = doc.get("changeSummary")
    counted = 0
    if isinstance(summary, dict):
        counted = sum(
            n
            for op, n in summary.items()
            if op not in _UNLISTED_OPS and isinstance(n, int) and not isinstance(n, bool) and n > 0
        )
    listed = {
        s.get("urn")
        for s in steps
        if isinstance(s, dict) and isinstance(s.get("op"), str) and s["op"] not in _UNLISTED_OPS
    }
    return counted, len(listed)


def _preview_failures(diagnostics: Any, source: str) -> tuple[RunFailure, ...]:
    """The error diagnostics of a ``pulumi preview --json`` document (``diagnostics[]``: ``urn``, ``message``,
    ``severity``; ``ShowPreviewDigest`` keeps every non-debug diagnostic): a refusing program, a provider error or
    the engine's "preview failed" all arrive here, and nowhere else in the document."""
    if diagnostics is None:
        return ()
    if not isinstance(diagnostics, list):
        _fail(source, f"expected a list, found {_kind(diagnostics)}", field="diagnostics", fix=_PREVIEW_FIX)
    out: list[RunFailure] = []
    for index, diag in enumerate(diagnostics):
        if not isinstance(diag, dict):
            _fail(source, f"expected an object, found {_kind(diag)}", entry=f"diagnostics[{index}]", fix=_PREVIEW_FIX)
        if str(diag.get("severity") or "").lower() != "error":
            continue
        message = diag.get("message")
        urn = diag.get("urn")
        out.append(
            RunFailure(
                message=message if isinstance(message, str) and message.strip() else "(an error without a message)",
                urn=urn if isinstance(urn, str) else "",
                where=f"diagnostics[{index}]",
            )
        )
    return tuple(out)


def failed_run_artifact(
    kind: ArtifactKind, failures: tuple[RunFailure, ...], config: dict[str, str], source: str
) -> Artifact:
    """An artifact of a run that failed before any resource was registered: no records, only its failures (the
    stack and project come from a URN a failure names, when one does)."""
    stack = project = None
    for failure in failures:
        try:
            parsed = parse_urn(failure.urn)
        except ValueError:
            continue
        stack, project = parsed.stack, parsed.project
        break
    return Artifact(kind, [], config, stack, project, source, run_failures=failures)


def _omitted_unchanged(doc: dict[str, Any], steps: list[Any]) -> int:
    """How many unchanged resources the preview counts in ``changeSummary.same`` but leaves out of ``steps``: an
    ordinary ``pulumi preview --json`` (no ``--show-sames``) lists only the root stack among unchanged resources, while
    the engine still runs the policy pack over all of them."""
    summary = doc.get("changeSummary")
    same = summary.get("same") if isinstance(summary, dict) else None
    if not isinstance(same, int) or isinstance(same, bool):
        return 0
    shown = sum(1 for s in steps if isinstance(s, dict) and s.get("op") == "same")
    return max(0, same - shown)


def partial_artifact(
    kind: ArtifactKind, raw: list[_RawRecord], config: dict[str, str], source: str, state: Artifact | None
) -> Artifact:
    """An artifact that may leave out unchanged resources (a preview without ``--show-sames``): a provider that is
    not among its records comes from ``state`` (a stack export), else — a default provider — from the stack config;
    an explicit alicloud provider found nowhere is recorded in ``missing_providers`` (never read as "no region")."""
    from_state = {r.urn: r for r in state.records if r.is_provider} if state is not None else {}
    missing: list[tuple[str, str]] = []  # (resource urn, provider urn)

    def resolve(provider_urn: str, entry: str, resource_urn: str) -> ProviderRef:
        known = from_state.get(provider_urn)
        if known is not None:
            return ProviderRef(known.urn, known.type, known.name, known.inputs)
        ref = _provider_from_config(provider_urn, config)
        if not _is_default_provider(provider_urn) and ref.type == ALICLOUD_PROVIDER_TYPE:
            missing.append((resource_urn, provider_urn))
        return ref

    artifact = _artifact(kind, raw, config, source, resolve)
    by_urn = {r.urn: r for r in artifact.records}
    gaps = tuple(MissingProvider(by_urn[res], prov) for res, prov in missing if res in by_urn)
    return replace(artifact, missing_providers=gaps)


ALICLOUD_PROVIDER_TYPE = "pulumi:providers:alicloud"


def _is_default_provider(provider_urn: str) -> bool:
    """The engine names default providers ``default`` or ``default_<version>`` (they are never in a preview)."""
    try:
        name = parse_urn(provider_urn).name
    except ValueError:
        return False
    return name == "default" or name.startswith("default_")


def _artifact(
    kind: ArtifactKind,
    raw: list[_RawRecord],
    config: dict[str, str],
    source: str,
    missing_provider: Callable[[str, str, str], ProviderRef],
) -> Artifact:
    """The records with their providers resolved: a provider among the resources, else
    ``missing_provider(provider_urn, entry, resource_urn)``."""
    by_urn = {r.record.urn: r.record for r in raw}
    records: list[Record] = []
    for r in raw:
        provider = None
        if r.provider_urn is not None:
            prov = by_urn.get(r.provider_urn)
            provider = (
                missing_provider(r.provider_urn, r.entry, r.record.urn)
                if prov is None
                else ProviderRef(prov.urn, prov.type, prov.name, prov.inputs)
            )
        records.append(r.build(provider))
    first = parse_urn(raw[0].record.urn)
    return Artifact(kind=kind, records=records, config=config, stack=first.stack, project=first.project, source=source)


def _provider_from_config(provider_urn: str, config: Mapping[str, str]) -> ProviderRef:
    """A provider that has no step of its own. ``pulumi preview --json`` hides *default* providers; the engine
    builds their inputs from the stack config of their package (``alicloud:region`` → ``region``), so we do the
    same. An explicit provider without a step gets empty inputs (its region then reads as missing: fail closed).
    """
    parsed = parse_urn(provider_urn)
    inputs: dict[str, Any] = {}
    package = parsed.type[len(PROVIDER_TYPE_PREFIX) :] if parsed.type.startswith(PROVIDER_TYPE_PREFIX) else ""
    if package and _is_default_provider(provider_urn):
        prefix = package + ":"
        for key, value in config.items():
            if key.startswith(prefix) and ":" not in key[len(prefix) :]:
                inputs[key[len(prefix) :]] = secret() if value == MASKED_SECRET else value
    return ProviderRef(provider_urn, parsed.type, parsed.name, inputs)


@dataclass
class _RawRecord:
    """A record as read, before its provider reference (``provider_urn``) is resolved against the others."""

    entry: str
    provider_urn: str | None
    record: Record  # provider: None

    def build(self, provider: ProviderRef | None) -> Record:
        return replace(self.record, provider=provider)


def _parse_state(
    res: Any,
    source: str,
    entry: str,
    *,
    fix: str,
    masked_secrets: bool,
    op: str | None = None,
    step_urn: str | None = None,
    step_provider: Any = None,
) -> _RawRecord | None:
    """One resource state (an export's resource or a preview step's newState). ``None`` = skip it."""
    if not isinstance(res, dict):
        _fail(source, f"expected an object, found {_kind(res)}", entry=entry, fix=fix)
    urn = res.get("urn", step_urn)
    if not isinstance(urn, str) or not urn:
        _fail(source, "the resource has no urn", entry=entry, field="urn", fix=fix)
    try:
        parsed = parse_urn(urn)
    except ValueError as exc:
        _fail(source, f"'{_clip(urn)}' is not a Pulumi URN ({exc})", entry=entry, field="urn", fix=fix)
    if res.get("delete") is True:  # pending deletion after a replacement: not part of the stack
        return None

    rtype = res.get("type", parsed.type)
    if not isinstance(rtype, str) or not rtype:
        _fail(source, f"expected a type token, found {_kind(rtype)}", entry=entry, field="type", fix=fix)
    custom = res.get("custom", False)
    if not isinstance(custom, bool):
        _fail(source, f"expected true or false, found {_kind(custom)}", entry=entry, field="custom", fix=fix)

    def obj(name: str) -> dict[str, Any] | None:
        value = res.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            _fail(source, f"expected an object, found {_kind(value)}", entry=entry, field=name, fix=fix)
        out = _normalize(value, source, entry, name, fix=fix, masked_secrets=masked_secrets)
        assert isinstance(out, dict)
        return out

    def urn_list(name: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
            _fail(source, f"expected a list of URNs, found {_kind(value)}", entry=entry, field=name, fix=fix)
        return tuple(value)

    def opt_str(name: str, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            _fail(source, f"expected a string, found {_kind(value)}", entry=entry, field=name, fix=fix)
        return value

    inputs = obj("inputs") or {}
    outputs = obj("outputs")
    parent = opt_str("parent", res.get("parent"))
    dependencies = urn_list("dependencies", res.get("dependencies"))
    prop_deps_doc = res.get("propertyDependencies")
    prop_deps_doc = {} if prop_deps_doc is None else prop_deps_doc
    if not isinstance(prop_deps_doc, dict):
        _fail(
            source,
            f"expected an object, found {_kind(prop_deps_doc)}",
            entry=entry,
            field="propertyDependencies",
            fix=fix,
        )
    property_dependencies = {str(k): urn_list(f"propertyDependencies.{k}", v) for k, v in prop_deps_doc.items()}

    provider_urn = None
    provider_ref = opt_str("provider", res.get("provider", step_provider))
    if provider_ref is not None:
        ref_urn, sep, _ref_id = provider_ref.rpartition("::")
        try:
            if not sep:
                raise ValueError("expected <provider urn>::<provider id>")
            parse_urn(ref_urn)
        except ValueError as exc:
            _fail(
                source,
                f"'{_clip(provider_ref)}' is not a provider reference ({exc})",
                entry=entry,
                field="provider",
                fix=fix,
            )
        provider_urn = ref_urn

    timeouts = res.get("customTimeouts")
    timeouts = {} if timeouts is None else timeouts
    if not isinstance(timeouts, dict):
        _fail(source, f"expected an object, found {_kind(timeouts)}", entry=entry, field="customTimeouts", fix=fix)
    try:
        custom_timeouts = tuple(float(timeouts.get(k) or 0) for k in ("create", "update", "delete"))
    except (TypeError, ValueError):
        _fail(source, "expected numbers of seconds", entry=entry, field="customTimeouts", fix=fix)
    options = RecordOptions(
        protect=res.get("protect") is True,
        ignore_changes=urn_list("ignoreChanges", res.get("ignoreChanges")),
        aliases=_alias_urns(res.get("aliases")),
        additional_secret_outputs=urn_list("additionalSecretOutputs", res.get("additionalSecretOutputs")),
        custom_timeouts=(custom_timeouts[0], custom_timeouts[1], custom_timeouts[2]),
    )
    record = Record(
        urn=urn,
        type=rtype,
        name=parsed.name,
        custom=custom,
        inputs=inputs,
        outputs=outputs,
        provider=None,
        parent=parent,
        dependencies=dependencies,
        property_dependencies=property_dependencies,
        op=op,
        external=res.get("external") is True or (op in READ_OPS),
        options=options,
        source_position=res.get("sourcePosition") if isinstance(res.get("sourcePosition"), str) else None,
    )
    return _RawRecord(entry=entry, provider_urn=provider_urn, record=record)


def _alias_urns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(a for a in value if isinstance(a, str))


def _normalize(value: Any, source: str, entry: str, path: str, *, fix: str, masked_secrets: bool) -> Any:
    """Bring one property value into the common form (see the module docstring)."""
    if isinstance(value, dict):
        if SIG_KEY in value:
            sig = value[SIG_KEY]
            if sig == SECRET_SIG:
                if "value" in value:
                    inner = _normalize(value["value"], source, entry, path, fix=fix, masked_secrets=masked_secrets)
                    return secret(inner)
                if "plaintext" in value:  # `pulumi stack export --show-secrets`
                    plaintext = value["plaintext"]
                    try:
                        decoded = load_json(plaintext) if isinstance(plaintext, str) else plaintext
                    except json.JSONDecodeError:
                        _fail(source, "the secret's plaintext is not JSON", entry=entry, field=path, fix=fix)
                    except (NumberTooLongError, NestingError) as exc:
                        _fail(source, f"the secret's plaintext holds {exc}", entry=entry, field=path, fix=fix)
                    return secret(_normalize(decoded, source, entry, path, fix=fix, masked_secrets=masked_secrets))
                if "ciphertext" in value:  # encrypted: we cannot (and must not) decrypt it
                    return secret()
                _fail(source, "a secret without value, plaintext or ciphertext", entry=entry, field=path, fix=fix)
            if sig in (ASSET_SIG, ARCHIVE_SIG):
                return dict(value)
            if sig == RESOURCE_REFERENCE_SIG:
                if not isinstance(value.get("urn"), str):
                    _fail(source, "a resource reference without a urn", entry=entry, field=path, fix=fix)
                return dict(value)
            if sig == OUTPUT_VALUE_SIG:
                if "value" not in value:
                    return secret() if value.get("secret") is True else UNKNOWN
                inner = _normalize(value["value"], source, entry, path, fix=fix, masked_secrets=masked_secrets)
                return secret(inner) if value.get("secret") is True else inner
            _fail(source, f"unrecognised value signature '{_clip(str(sig))}'", entry=entry, field=path, fix=fix)
        return {
            k: _normalize(v, source, entry, f"{path}.{k}", fix=fix, masked_secrets=masked_secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _normalize(v, source, entry, f"{path}[{i}]", fix=fix, masked_secrets=masked_secrets)
            for i, v in enumerate(value)
        ]
    if masked_secrets and value == MASKED_SECRET:
        return secret()
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clip(text: str, limit: int = 120) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
