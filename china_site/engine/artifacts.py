"""Readers for real Pulumi CLI artifacts: ``pulumi stack export`` (versions 3 and 4) and ``pulumi preview --json``.

Both are read into one common shape, :class:`~china_site.engine.records.Artifact` holding
:class:`~china_site.engine.records.Record` s, so the pack driver (:mod:`china_site.engine.driver`) can hand them to the
*same* Policy objects the engine would run. Here live the entry points (:func:`read_artifact`, :func:`parse_artifact`,
:func:`parse_document`: file size cap, decoding, and sniffing which document it is) and the export and preview
readers; JSON engine events are read by :mod:`china_site.engine.events`, one resource state by
:mod:`china_site.engine.resource_state` (which also says how property values are normalised), and the record model
lives in :mod:`china_site.engine.records`. Every name of those two is still importable from here.

This module imports nothing from Pulumi: it is safe to import when the CLI starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, NoReturn

from china_site.engine.records import (
    ARCHIVE_SIG,
    ASSET_SIG,
    INCLUDED_OPS,
    MASKED_SECRET,
    OUTPUT_VALUE_SIG,
    PROVIDER_TYPE_PREFIX,
    READ_OPS,
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    SKIPPED_OPS,
    STACK_TYPE,
    UNKNOWN,
    UNKNOWN_VALUES,
    Artifact,
    ArtifactKind,
    EnginePolicyEvent,
    MissingProvider,
    ParsedURN,
    ProviderRef,
    Record,
    RecordOptions,
    RunFailure,
    is_secret,
    is_unknown,
    parse_urn,
    root_stack_urn,
    secret,
    secret_strings,
)
from china_site.engine.resource_state import (
    ALICLOUD_PROVIDER_TYPE,
    _artifact,
    _fail,
    _kind,
    _parse_state,
    _RawRecord,
    failed_run_artifact,
    partial_artifact,
)
from china_site.engine.resource_state import _clip as _clip  # re-exported: events.py imports it from here
from china_site.errors import InputError
from china_site.safeio import MAX_DEPTH, NestingError, NumberTooLongError, clip, load_json, read_capped

__all__ = [
    "ALICLOUD_PROVIDER_TYPE",
    "ARCHIVE_SIG",
    "ASSET_SIG",
    "DEFAULT_MAX_ARTIFACT_MB",
    "INCLUDED_OPS",
    "MASKED_SECRET",
    "MAX_ARTIFACT_ENV",
    "OUTPUT_VALUE_SIG",
    "PROVIDER_TYPE_PREFIX",
    "READ_OPS",
    "RESOURCE_REFERENCE_SIG",
    "SECRET_SIG",
    "SIG_KEY",
    "SKIPPED_OPS",
    "STACK_TYPE",
    "SUPPORTED_EXPORT_VERSIONS",
    "UNKNOWN",
    "UNKNOWN_VALUES",
    "Artifact",
    "ArtifactKind",
    "EnginePolicyEvent",
    "MissingProvider",
    "ParsedURN",
    "ProviderRef",
    "Record",
    "RecordOptions",
    "RunFailure",
    "failed_run_artifact",
    "is_secret",
    "is_unknown",
    "max_artifact_bytes",
    "parse_artifact",
    "parse_document",
    "parse_urn",
    "partial_artifact",
    "read_artifact",
    "root_stack_urn",
    "secret",
    "secret_strings",
]

SUPPORTED_EXPORT_VERSIONS = (3, 4)

_EXPORT_FIX = (
    "run `pulumi stack export --file state.json` (or `pulumi preview --json > preview.json`) and pass that file"
)
_PREVIEW_FIX = "run `pulumi preview --json > preview.json` and pass that file"


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
