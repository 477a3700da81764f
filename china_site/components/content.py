"""``SiteContent`` (``china-site:index:SiteContent``): a local folder synced into an OSS bucket.

A thin adapter over :mod:`china_site.sync` (the engine) and :mod:`china_site.footer` (the homepage check):

- at program time it hashes the folder (``files``: key → sha256), so ``pulumi preview`` already shows which files
  change, and — for mainland sites — checks that ``index.html`` shows the ICP number (and the PSB number once
  filed), logging a bilingual warning when it does not and recording the result as the inputs
  ``icpNumberDisplayed`` / ``psbNumberDisplayed`` that the policy ``icp-number-displayed`` reads at preview;
- at apply time :class:`ContentSyncProvider` (a Pulumi dynamic provider) uploads only changed files, deletes only
  objects it uploaded (its manifest, kept in the state), with bounded parallel uploads and verified checksums.

Credentials never enter the state: the provider reads them at apply time from the usual Alibaba Cloud environment
variables (``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` / ``ALIBABA_CLOUD_SECURITY_TOKEN``,
see :mod:`china_site.oss`); the endpoint comes from the bucket's region (``oss-<region>.aliyuncs.com``), or
``endpoint``, or ``CHINA_SITE_OSS_ENDPOINT``.

The child is a ``pulumi-python:dynamic:Resource`` whose input ``component`` is ``china-site:index:SiteContent``:
that is how a policy recognises it among other dynamic resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

if TYPE_CHECKING:
    from china_site.footer import HomepageCheck
    from china_site.sync import CachePolicy

__all__ = ["COMPONENT_TYPE", "ContentSyncProvider", "SiteContent", "SiteContentArgs"]

COMPONENT_TYPE = "china-site:index:SiteContent"

# Inputs whose change means "sync again" (an update). ``contentDir`` is deliberately absent: moving the checkout
# changes the path, not the content (``files`` carries the content).
_SYNC_INPUTS = ("files", "region", "endpoint", "cachePolicy", "exclude")
# Inputs that are only recorded (an update with nothing to upload).
_RECORD_INPUTS = (
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
_REPLACE_INPUTS = ("bucket", "prefix")
_PROVIDER_KEY = "__provider"


@dataclass
class SiteContentArgs:
    bucket: pulumi.Input[str]
    content_dir: str
    region: pulumi.Input[str]
    domain: str
    icp_number: str | None = None
    psb_number: str | None = None
    mainland: bool = False
    prefix: str = ""
    endpoint: str | None = None
    cache_policy: CachePolicy | None = None  # None = the defaults (HTML no-cache, hashed assets immutable, 1 h)
    index_document: str = "index.html"
    max_workers: int = 8
    # Glob patterns (on the key, ``*`` matches ``/`` too) of files never uploaded; None = sync.DEFAULT_EXCLUDE
    # (VCS, .env*, .npmrc, private keys, … — ``.well-known/`` is kept). Pass DEFAULT_EXCLUDE + (...) to extend it.
    exclude: Sequence[str] | None = None
    # Objects already in the bucket at the keys this resource writes that it did not upload are refused (the deploy
    # fails naming them); True lets this resource overwrite them and own them from then on.
    take_over_existing: bool = False


class ContentSyncProvider(ResourceProvider):
    """Dynamic provider: create / diff / update / delete / read over :mod:`china_site.sync`.

    Holds no state of its own (the instance is pickled into the Pulumi state, so it must never hold credentials).
    """

    serialize_as_secret_always = False

    # -- helpers --------------------------------------------------------------------------------------------------

    @staticmethod
    def _client(props: dict[str, Any]) -> Any:
        from china_site.oss import client

        # 60 s read timeout (as the AWS CLI): completing a multipart upload of a large file takes a while.
        return client(
            "oss", region=props.get("region") or None, endpoint=props.get("endpoint") or None, read_timeout=60.0
        )

    @staticmethod
    def _id(props: dict[str, Any]) -> str:
        return f"oss://{props['bucket']}/{props.get('prefix') or ''}"

    @staticmethod
    def _inputs(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k not in (_PROVIDER_KEY, "manifest", "objectCount")}

    def _sync(self, props: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
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
            self._client(props),
            str(props["bucket"]),
            sync_plan,
            prefix=str(props.get("prefix") or ""),
            max_workers=int(props.get("maxWorkers") or 8),
            owner=_owner(props),
            take_over=bool(props.get("takeOverExisting")),
        )
        return {**self._inputs(props), "manifest": manifest, "objectCount": len(manifest)}

    # -- the provider protocol ------------------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._sync(props, None)
        return CreateResult(self._id(props), outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _REPLACE_INPUTS if _value(olds, k) != _value(news, k)]
        changed = [k for k in (*_SYNC_INPUTS, *_RECORD_INPUTS) if _value(olds, k) != _value(news, k)]
        return DiffResult(
            changes=bool(replaces or changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=True,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._sync(news, olds.get("manifest")))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from china_site.sync import SyncError, teardown

        try:
            teardown(
                self._client(props),
                str(props["bucket"]),
                props.get("manifest"),
                prefix=str(props.get("prefix") or ""),
                max_workers=int(props.get("maxWorkers") or 8),
                owner=_owner(props),
            )
        except SyncError as exc:
            if exc.code != "NoSuchBucket":  # a deleted bucket took its objects with it
                raise

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from china_site.sync import SyncError, refresh

        try:
            manifest = refresh(
                self._client(props),
                str(props["bucket"]),
                props.get("manifest"),
                prefix=str(props.get("prefix") or ""),
            )
        except SyncError as exc:
            if exc.code == "NoSuchBucket":
                return ReadResult("", {})
            raise
        outs = self._inputs(props)
        # What the bucket still holds; a dropped object changes ``files`` so the next update uploads it again.
        outs["files"] = {key: entry["sha256"] for key, entry in manifest.items()}
        outs["manifest"] = manifest
        outs["objectCount"] = len(manifest)
        return ReadResult(id_, outs)


def _exclude(props: dict[str, Any]) -> tuple[str, ...]:
    from china_site.sync import DEFAULT_EXCLUDE

    value = props.get("exclude")
    return DEFAULT_EXCLUDE if value is None else tuple(str(p) for p in value)


def _owner(props: dict[str, Any]) -> str:
    from china_site.sync import DEFAULT_OWNER

    return str(props.get("owner") or DEFAULT_OWNER)


def _value(props: dict[str, Any], key: str) -> Any:
    value = props.get(key)
    return {} if key in ("files", "cachePolicy") and value is None else value


class _ContentSync(pulumi.dynamic.Resource):
    """The dynamic resource (``pulumi-python:dynamic:Resource``). Output attributes mirror the props."""

    manifest: pulumi.Output[dict[str, Any]]
    objectCount: pulumi.Output[int]  # the wire name

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ContentSyncProvider(), name, {**props, "manifest": None, "objectCount": None}, opts)


def _homepage_check(args: SiteContentArgs, content_dir: Path) -> HomepageCheck:
    import os
    import stat

    from china_site.footer import check_homepage
    from china_site.safeio import read_capped

    # Read only a regular file inside the folder (never a link out of it, /dev/zero or a pipe), at most 16 MiB.
    real = os.path.realpath(content_dir / args.index_document)
    html_text: str | None = None
    try:
        inside = real.startswith(str(content_dir).rstrip(os.sep) + os.sep)
        if inside and stat.S_ISREG(os.stat(real).st_mode):

            def refuse(_why: str) -> Any:
                raise OSError("homepage too large")

            html_text = read_capped(real, 16 * 1024**2, refuse=refuse).decode("utf-8", errors="replace")
    except OSError:
        html_text = None
    return check_homepage(html_text, args.icp_number, args.psb_number)


class SiteContent(pulumi.ComponentResource):
    """A local folder kept in sync with an OSS bucket (only changed files upload; only its own objects deleted).

    Outputs: ``manifest`` (key → sha256, etag, size, content_type, cache_control), ``object_count``,
    ``icp_number_displayed`` / ``psb_number_displayed`` (None when not checked: outside the mainland, or no PSB
    number yet) and ``homepage_problems`` (bilingual).
    """

    manifest: pulumi.Output[dict[str, Any]]
    object_count: pulumi.Output[int]
    icp_number_displayed: pulumi.Output[bool | None]
    psb_number_displayed: pulumi.Output[bool | None]
    homepage_problems: pulumi.Output[list[str]]

    def __init__(self, name: str, args: SiteContentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        from china_site.sync import DEFAULT_EXCLUDE, UNSAFE_SKIPS, CachePolicy, describe_skipped, file_hashes

        content_dir = Path(args.content_dir).resolve()
        exclude = DEFAULT_EXCLUDE if args.exclude is None else tuple(args.exclude)
        skipped: list[tuple[str, str]] = []
        # raises a one-line ChinaSiteError when the folder is missing
        files = file_hashes(content_dir, exclude=exclude, skipped=skipped)
        if skipped:
            pulumi.log.info(
                f"{args.content_dir}: files not uploaded / 未上传的文件:\n{describe_skipped(skipped)}", resource=self
            )
        unsafe = [item for item in skipped if item[1] in UNSAFE_SKIPS]
        if unsafe:
            pulumi.log.warn(
                f"{args.content_dir}: {len(unsafe)} link(s) or special file(s) in the content folder are never "
                "uploaded (a link out of the folder or to an excluded file, a device, a pipe, a name not in UTF-8) / "
                "内容目录中指向目录外或被排除文件的链接、特殊文件或非 UTF-8 文件名不会上传:\n"
                + describe_skipped(unsafe),
                resource=self,
            )

        icp_displayed: bool | None = None
        psb_displayed: bool | None = None
        icp_linked: bool | None = None
        psb_linked: bool | None = None
        problems: tuple[str, ...] = ()
        if args.mainland:
            check = _homepage_check(args, content_dir)
            icp_displayed, icp_linked = check.icp_displayed, check.icp_linked
            if args.psb_number is not None:
                psb_displayed, psb_linked = check.psb_displayed, check.psb_linked
            problems = check.problems
            if problems:
                pulumi.log.warn(
                    f"{args.domain}: the homepage ({args.index_document}) does not show its filing numbers as "
                    "the rules require (policy icp-number-displayed).\n"
                    f"{args.domain}：首页（{args.index_document}）未按规定展示备案号（策略 icp-number-displayed）。\n"
                    + "\n".join(problems),
                    resource=self,
                )

        policy = args.cache_policy or CachePolicy()
        props: dict[str, Any] = {
            "component": COMPONENT_TYPE,
            "bucket": args.bucket,
            "region": args.region,
            "endpoint": args.endpoint,
            "prefix": args.prefix,
            "contentDir": str(content_dir),
            "files": files,
            "cachePolicy": policy.to_dict(),
            "maxWorkers": args.max_workers,
            "exclude": list(exclude),
            "owner": f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}",
            "takeOverExisting": args.take_over_existing,
            "domain": args.domain,
            "icpNumber": args.icp_number,
            "psbNumber": args.psb_number,
            "mainland": args.mainland,
            "icpNumberDisplayed": icp_displayed,
            "psbNumberDisplayed": psb_displayed,
            "icpNumberLinked": icp_linked,
            "psbNumberLinked": psb_linked,
            "homepageProblems": list(problems),
        }
        self.sync = _ContentSync(f"{name}-sync", props, pulumi.ResourceOptions(parent=self))
        self.manifest = self.sync.manifest
        self.object_count = self.sync.objectCount
        self.icp_number_displayed = pulumi.Output.from_input(icp_displayed)
        self.psb_number_displayed = pulumi.Output.from_input(psb_displayed)
        self.homepage_problems = pulumi.Output.from_input(list(problems))
        self.register_outputs(
            {
                "manifest": self.manifest,
                "object_count": self.object_count,
                "icp_number_displayed": self.icp_number_displayed,
                "psb_number_displayed": self.psb_number_displayed,
                "homepage_problems": self.homepage_problems,
            }
        )
