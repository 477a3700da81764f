"""``SiteContent`` (``china-site:index:SiteContent``): a local folder synced into an OSS bucket.

A custom resource of the china-site provider plugin (:mod:`china_site.provider`), the same one YAML, TypeScript
and Go programs use; its lifecycle is :mod:`china_site.provider.content` over :mod:`china_site.sync`:

- at program time this class hashes the folder (``files``: key → sha256), so ``pulumi preview`` already shows which
  files change, and — for mainland sites — checks that ``index.html`` shows the ICP number (and the PSB number once
  filed), logging a bilingual warning when it does not and recording the result as the inputs
  ``icpNumberDisplayed`` / ``psbNumberDisplayed`` that the policy ``icp-number-displayed`` reads at preview;
- at apply time the provider uploads only changed files, deletes only objects it uploaded (its manifest, kept in
  the state, and the owner mark on each object), with bounded parallel uploads and verified checksums.

Nothing pickled enters the state, and neither do credentials: the provider reads them when it runs from the usual
Alibaba Cloud environment variables (``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` /
``ALIBABA_CLOUD_SECURITY_TOKEN``, see :mod:`china_site.oss`); the endpoint comes from the bucket's region
(``oss-<region>.aliyuncs.com``), or ``endpoint``, or ``CHINA_SITE_OSS_ENDPOINT``.

``SiteContent(name, …)`` registers the resource as ``<name>-sync`` with the owner mark ``<project>/<stack>/<name>``
and an alias to what stacks deployed before the plugin hold: a ``SiteContent`` component ``<name>`` with a
``pulumi-python:dynamic:Resource`` child ``<name>-sync`` that uploaded the objects. ``pulumi up`` adopts that child
in place (no object uploaded again or deleted); the old component, which holds nothing, goes.
:class:`ContentSyncProvider` stays importable for such stacks' refresh/destroy before the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

if TYPE_CHECKING:
    from china_site.sync import CachePolicy

__all__ = ["COMPONENT_TYPE", "ContentSyncProvider", "SiteContent", "SiteContentArgs"]

COMPONENT_TYPE = "china-site:index:SiteContent"
LEGACY_TYPE = "pulumi-python:dynamic:Resource"  # what stacks deployed before the provider plugin hold


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
    # The owner mark on every object this resource uploads (only objects with it are ever deleted); None =
    # "<project>/<stack>/<name>".
    owner: str | None = None


class ContentSyncProvider(ResourceProvider):
    """The dynamic provider of stacks deployed before the china-site provider plugin (state pickled by reference to
    this class). Kept so such a stack can still be refreshed or destroyed before it is upgraded; it delegates to
    :mod:`china_site.provider.content`, like the plugin. New state never uses it (see :class:`SiteContent`)."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        from china_site.provider import content

        resource_id, outs = content.create(props)
        return CreateResult(resource_id, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        from china_site.provider import content

        changed, replaces = content.diff(olds, news)
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        from china_site.provider import content

        return UpdateResult(content.update(olds, news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from china_site.provider import content

        content.delete(props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from china_site.provider import content

        resource_id, outs = content.read(id_, props)
        return ReadResult(resource_id, outs)


class SiteContent(pulumi.CustomResource):
    """A local folder kept in sync with an OSS bucket (only changed files upload; only its own objects deleted).

    The provider plugin's ``china-site:index:SiteContent``, registered as ``<name>-sync`` (see the module docstring:
    stacks of earlier versions upgrade in place).

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
        from china_site.provider.content import program_inputs
        from china_site.provider.schema import version
        from china_site.sync import CachePolicy, describe_skipped

        # raises a one-line ChinaSiteError when the folder is missing
        found = program_inputs(
            args.content_dir,
            exclude=args.exclude,
            mainland=args.mainland,
            icp_number=args.icp_number,
            psb_number=args.psb_number,
            index_document=args.index_document,
        )
        props: dict[str, Any] = {
            "bucket": args.bucket,
            "region": args.region,
            "endpoint": args.endpoint,
            "prefix": args.prefix,
            "cachePolicy": (args.cache_policy or CachePolicy()).to_dict(),
            "maxWorkers": args.max_workers,
            "owner": args.owner or f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}",
            "takeOverExisting": args.take_over_existing,
            "domain": args.domain,
            "icpNumber": args.icp_number,
            "psbNumber": args.psb_number,
            "mainland": args.mainland,
            "indexDocument": args.index_document,
            **found.inputs,
            "manifest": None,
            "objectCount": None,
        }
        from china_site.provider.install import ensure_for_program

        ensure_for_program()
        # The pre-plugin layout: component <name> (under the same parent) → dynamic child <name>-sync.
        legacy_component = pulumi.resource.create_urn(name, COMPONENT_TYPE, parent=opts.parent if opts else None)
        legacy = pulumi.Alias(name=f"{name}-sync", type_=LEGACY_TYPE, parent=legacy_component)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=version(), aliases=[legacy]))
        super().__init__(COMPONENT_TYPE, f"{name}-sync", props, opts)
        self.object_count = self.objectCount  # type: ignore[attr-defined]  # set from props by the SDK
        self.icp_number_displayed = pulumi.Output.from_input(found.inputs["icpNumberDisplayed"])
        self.psb_number_displayed = pulumi.Output.from_input(found.inputs["psbNumberDisplayed"])
        self.homepage_problems = pulumi.Output.from_input(list(found.problems))

        if found.skipped:
            pulumi.log.info(
                f"{args.content_dir}: files not uploaded / 未上传的文件:\n{describe_skipped(found.skipped)}",
                resource=self,
            )
        if found.unsafe:
            pulumi.log.warn(
                f"{args.content_dir}: {len(found.unsafe)} link(s) or special file(s) in the content folder are never "
                "uploaded (a link out of the folder or to an excluded file, a device, a pipe, a name not in UTF-8) / "
                "内容目录中指向目录外或被排除文件的链接、特殊文件或非 UTF-8 文件名不会上传:\n"
                + describe_skipped(found.unsafe),
                resource=self,
            )
        if found.problems:
            pulumi.log.warn(
                f"{args.domain}: the homepage ({args.index_document}) does not show its filing numbers as "
                "the rules require (policy icp-number-displayed).\n"
                f"{args.domain}：首页（{args.index_document}）未按规定展示备案号（策略 icp-number-displayed）。\n"
                + "\n".join(found.problems),
                resource=self,
            )
