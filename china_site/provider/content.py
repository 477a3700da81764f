"""``china-site:index:SiteContent`` — the custom resource's lifecycle over :mod:`china_site.sync`.

Pure functions over plain dicts of the resource's wire properties (camelCase), shared by the provider plugin
(:mod:`china_site.provider.server`), the Python ``SiteContent`` class (its program-time inputs) and the legacy
dynamic provider kept for stacks deployed before the provider existed (``ContentSyncProvider``).

- :func:`program_inputs` hashes the folder and checks the homepage footer (the inputs ``files``,
  ``icpNumberDisplayed`` … that ``pulumi preview`` and the policy ``icp-number-displayed`` read);
- :func:`check` validates the inputs and fills the program-time ones when a caller (YAML, TypeScript, Go) left them out;
- :func:`diff`, :func:`create`, :func:`update`, :func:`delete`, :func:`read`: the sync, as before.

Credentials never enter the state: the OSS client reads them when the provider runs (:mod:`china_site.oss`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "RESOURCE_TYPE",
    "ProgramInputs",
    "check",
    "create",
    "delete",
    "diff",
    "program_inputs",
    "read",
    "resource_id",
    "update",
]

RESOURCE_TYPE: Final = "china-site:index:SiteContent"

# Inputs whose change means "sync again" (an update). ``contentDir`` is deliberately absent: moving the checkout
# changes the path, not the content (``files`` carries the content).
SYNC_INPUTS: Final = ("files", "region", "endpoint", "cachePolicy", "exclude")
# Inputs that are only recorded (an update with nothing to upload).
RECORD_INPUTS: Final = (
    "domain",
    "icpNumber",
    "psbNumber",
    "mainland",
    "icpNumberDisplayed",
    "psbNumberDisplayed",
    "icpNumberLinked",
    "psbNumberLinked",
    "homepageProblems",
    "maxWorkers",
    "owner",
    "takeOverExisting",
)
# Inputs that name *where* the content lives: a change means a new resource. Delete-before-replace: the old objects
# go before the new ones are written, so a prefix change can never delete what the new resource just uploaded.
REPLACE_INPUTS: Final = ("bucket", "prefix")
REQUIRED_INPUTS: Final = ("bucket", "contentDir", "region", "domain")
# Outputs only (never inputs); ``__provider`` is the pickle of a pre-provider (dynamic) state, dropped on sight.
OUTPUT_ONLY: Final = ("manifest", "objectCount", "__provider", "component")
# Inputs computed from the folder at program time (by the Python class, or by check when left out).
DERIVED_INPUTS: Final = (
    "files",
    "icpNumberDisplayed",
    "psbNumberDisplayed",
    "icpNumberLinked",
    "psbNumberLinked",
    "homepageProblems",
)


class Unknown:
    """A value not known yet (preview: e.g. the bucket name of a bucket still to be created)."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


UNKNOWN: Final = Unknown()


@dataclass(frozen=True)
class ProgramInputs:
    """What the folder and its homepage say at program time, and what to tell the user about it."""

    inputs: dict[str, Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unsafe: list[tuple[str, str]] = field(default_factory=list)
    problems: tuple[str, ...] = ()


def _homepage_html(content_dir: Path, index_document: str) -> str | None:
    from china_site.safeio import read_capped

    # Read only a regular file inside the folder (never a link out of it, /dev/zero or a pipe), at most 16 MiB.
    real = os.path.realpath(content_dir / index_document)
    try:
        inside = real.startswith(str(content_dir).rstrip(os.sep) + os.sep)
        if inside and stat.S_ISREG(os.stat(real).st_mode):

            def refuse(_why: str) -> Any:
                raise OSError("homepage too large")

            return read_capped(real, 16 * 1024**2, refuse=refuse).decode("utf-8", errors="replace")
    except OSError:
        return None
    return None


def program_inputs(
    content_dir: str | os.PathLike[str],
    *,
    exclude: Sequence[str] | None,
    mainland: bool,
    icp_number: str | None,
    psb_number: str | None,
    index_document: str = "index.html",
) -> ProgramInputs:
    """``files`` (key → sha256) and the homepage-footer inputs for a content folder.

    Raises a one-line ChinaSiteError when the folder is missing."""
    from china_site.footer import check_homepage
    from china_site.sync import DEFAULT_EXCLUDE, UNSAFE_SKIPS, file_hashes

    folder = Path(content_dir).resolve()
    patterns = DEFAULT_EXCLUDE if exclude is None else tuple(exclude)
    skipped: list[tuple[str, str]] = []
    files = file_hashes(folder, exclude=patterns, skipped=skipped)
    unsafe = [item for item in skipped if item[1] in UNSAFE_SKIPS]
    icp_displayed = psb_displayed = icp_linked = psb_linked = None
    problems: tuple[str, ...] = ()
    if mainland:
        found = check_homepage(_homepage_html(folder, index_document), icp_number, psb_number)
        icp_displayed, icp_linked = found.icp_displayed, found.icp_linked
        if psb_number is not None:
            psb_displayed, psb_linked = found.psb_displayed, found.psb_linked
        problems = found.problems
    return ProgramInputs(
        inputs={
            "contentDir": str(folder),
            "exclude": list(patterns),
            "files": files,
            "icpNumberDisplayed": icp_displayed,
            "psbNumberDisplayed": psb_displayed,
            "icpNumberLinked": icp_linked,
            "psbNumberLinked": psb_linked,
            "homepageProblems": list(problems),
        },
        skipped=skipped,
        unsafe=unsafe,
        problems=problems,
    )


# ---------------------------------------------------------------------------------------------------------------------
# The lifecycle


def inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """The input properties of a state (outputs and a legacy pickle left out)."""
    return {k: v for k, v in props.items() if k not in OUTPUT_ONLY}


def check(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(checked inputs, failures as (property, reason)). Fills the program-time inputs when they are missing."""
    inputs = inputs_of(news)
    failures = [
        (key, f"{key} is required / {key} 为必填项")
        for key in REQUIRED_INPUTS
        if inputs.get(key) is None or inputs.get(key) == ""
    ]
    for key in ("maxWorkers",):
        value = inputs.get(key)
        if value is not None and not isinstance(value, Unknown):
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 1:
                failures.append((key, f"{key} must be a whole number of at least 1 (got {value!r})"))
            else:
                inputs[key] = int(value)
    if failures:
        return inputs, failures
    if inputs.get("files") is None and not isinstance(inputs.get("contentDir"), Unknown):
        from china_site.errors import ChinaSiteError

        try:
            derived = program_inputs(
                str(inputs["contentDir"]),
                exclude=inputs.get("exclude"),
                mainland=bool(inputs.get("mainland")),
                icp_number=inputs.get("icpNumber"),
                psb_number=inputs.get("psbNumber"),
                index_document=str(inputs.get("indexDocument") or "index.html"),
            )
        except ChinaSiteError as err:
            return inputs, [("contentDir", str(err))]
        inputs.update(derived.inputs)
    return inputs, []


def _value(props: Mapping[str, Any], key: str) -> Any:
    value = props.get(key)
    return {} if key in ("files", "cachePolicy") and value is None else value


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(changed inputs, inputs whose change replaces the resource). An unknown new value counts as a change."""
    replaces = [k for k in REPLACE_INPUTS if _value(olds, k) != _value(news, k)]
    changed = [k for k in (*REPLACE_INPUTS, *SYNC_INPUTS, *RECORD_INPUTS) if _value(olds, k) != _value(news, k)]
    return changed, replaces


def resource_id(props: Mapping[str, Any]) -> str:
    return f"oss://{props['bucket']}/{props.get('prefix') or ''}"


def _client(props: Mapping[str, Any]) -> Any:
    from china_site.oss import client

    # 60 s read timeout (as the AWS CLI): completing a multipart upload of a large file takes a while.
    return client("oss", region=props.get("region") or None, endpoint=props.get("endpoint") or None, read_timeout=60.0)


def _exclude(props: Mapping[str, Any]) -> tuple[str, ...]:
    from china_site.sync import DEFAULT_EXCLUDE

    value = props.get("exclude")
    return DEFAULT_EXCLUDE if value is None else tuple(str(p) for p in value)


def _owner(props: Mapping[str, Any]) -> str:
    from china_site.sync import DEFAULT_OWNER

    return str(props.get("owner") or DEFAULT_OWNER)


def _sync(props: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    from china_site.errors import ChinaSiteError
    from china_site.sync import CachePolicy, apply, plan

    policy = CachePolicy.from_dict(props.get("cachePolicy"))
    sync_plan = plan(props["contentDir"], previous, cache_policy=policy, exclude=_exclude(props))
    on_disk = {f.key: f.sha256 for f in sync_plan.uploads}
    on_disk.update({key: sync_plan.previous[key].sha256 for key in sync_plan.unchanged})
    if on_disk != dict(props.get("files") or {}):
        raise ChinaSiteError(
            "the content folder changed after the program read it (the files differ from the plan) / "
            "内容目录在程序读取后发生了变化",
            where=str(props["contentDir"]),
            fix="run pulumi up again once the build has finished writing the folder",
        )
    manifest = apply(
        _client(props),
        str(props["bucket"]),
        sync_plan,
        prefix=str(props.get("prefix") or ""),
        max_workers=int(props.get("maxWorkers") or 8),
        owner=_owner(props),
        take_over=bool(props.get("takeOverExisting")),
    )
    return {**inputs_of(props), "manifest": manifest, "objectCount": len(manifest)}


def create(props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Upload everything (refusing objects at our keys that we did not upload); (id, outputs)."""
    return resource_id(props), _sync(props, None)


def update(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """Upload what changed, delete what we uploaded and is gone locally; the outputs."""
    return _sync(news, olds.get("manifest"))


def delete(props: Mapping[str, Any]) -> None:
    """Delete the objects this resource uploaded (its manifest, checked against the owner mark), nothing else."""
    from china_site.sync import SyncError, teardown

    try:
        teardown(
            _client(props),
            str(props["bucket"]),
            props.get("manifest"),
            prefix=str(props.get("prefix") or ""),
            max_workers=int(props.get("maxWorkers") or 8),
            owner=_owner(props),
        )
    except SyncError as exc:
        if exc.code != "NoSuchBucket":  # a deleted bucket took its objects with it
            raise


def read(id_: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """What the bucket still holds: ("", {}) when the bucket is gone; a dropped object changes ``files`` so the next
    update uploads it again."""
    from china_site.sync import SyncError, refresh

    try:
        manifest = refresh(
            _client(props), str(props["bucket"]), props.get("manifest"), prefix=str(props.get("prefix") or "")
        )
    except SyncError as exc:
        if exc.code == "NoSuchBucket":
            return "", {}
        raise
    outs = inputs_of(props)
    outs["files"] = {key: entry["sha256"] for key, entry in manifest.items()}
    outs["manifest"] = manifest
    outs["objectCount"] = len(manifest)
    return id_, outs
