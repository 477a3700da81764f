"""Sync a local folder into an OSS bucket through OSS's S3-compatible API (boto3). Pure engine: no Pulumi.

``plan`` compares the folder with the *manifest* of the previous sync (what this tool uploaded: key →
``{sha256, etag, size, content_type, cache_control}``) by content hash; ``apply`` uploads what changed with bounded
parallelism, verifies each upload's checksum, then deletes what the previous manifest holds and the folder no longer
has — never an object it did not upload — and returns the new manifest.

Convergence: the manifest only ever lists completed uploads. When ``apply`` fails midway it raises
:class:`SyncError` carrying the manifest of what *did* complete; a later run planned against any manifest (the old
one or the partial one) finishes the job, and keys not in the manifest that are already in the bucket with the
same MD5 ETag, Content-Type and Cache-Control are adopted without re-uploading.

Order: assets first, HTML last, deletions after every upload succeeded — a visitor never gets a page that refers to
an asset not uploaded yet, nor loses a file the old pages still use while the new ones are going up.

Keys in manifests and plans are relative to ``prefix`` (posix paths, e.g. ``css/style.css``).

Where the parts live (every name that was importable from here still is): :mod:`china_site.sync_objects` (keys,
Content-Type, Cache-Control, the manifest, the plan's types), :mod:`china_site.sync_scan` (scanning the folder and
planning), :mod:`china_site.sync_ownership` (owner marks, ETags, the listing pass), :mod:`china_site.sync_multipart`
(sizes, part layout, hashing), :mod:`china_site.sync_errors` (:class:`SyncError`, :func:`describe_error`). This
module applies a plan: :func:`apply`, :func:`teardown`, :func:`refresh`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from china_site import sync_multipart
from china_site.sync_errors import SyncError, describe_error
from china_site.sync_multipart import MAX_OBJECT_SIZE as MAX_OBJECT_SIZE
from china_site.sync_multipart import MAX_PARTS as MAX_PARTS
from china_site.sync_multipart import MAX_SINGLE_PUT, _multipart_etag, _read_into, part_size_for
from china_site.sync_multipart import MIN_PART_SIZE as MIN_PART_SIZE
from china_site.sync_multipart import MULTIPART_THRESHOLD as MULTIPART_THRESHOLD
from china_site.sync_objects import (
    DEFAULT_EXCLUDE,
    CachePolicy,
    LocalFile,
    Manifest,
    ManifestEntry,
    SyncEvent,
    SyncPlan,
    _dump,
    content_type_for,
    load_manifest,
)
from china_site.sync_ownership import (
    _LIST_FROM,
    _MD5_HEX,
    _MULTIPART_ETAG,
    DEFAULT_OWNER,
    OWNER_METADATA,
    _clean_etag,
    _list_existing,
    _Remote,
    _unexpected_etag,
    owner_token,
)
from china_site.sync_scan import SKIP_LINK_EXCLUDED as SKIP_LINK_EXCLUDED
from china_site.sync_scan import SKIP_LINK_OUT as SKIP_LINK_OUT
from china_site.sync_scan import SKIP_LINK_SPECIAL as SKIP_LINK_SPECIAL
from china_site.sync_scan import SKIP_NAME as SKIP_NAME
from china_site.sync_scan import SKIP_SPECIAL as SKIP_SPECIAL
from china_site.sync_scan import UNSAFE_SKIPS as UNSAFE_SKIPS
from china_site.sync_scan import _open_checked, file_hashes, plan, scan
from china_site.sync_scan import describe_skipped as describe_skipped

__all__ = [
    "DEFAULT_EXCLUDE",
    "MAX_SINGLE_PUT",
    "CachePolicy",
    "LocalFile",
    "Manifest",
    "ManifestEntry",
    "SyncError",
    "SyncEvent",
    "SyncPlan",
    "apply",
    "content_type_for",
    "file_hashes",
    "load_manifest",
    "plan",
    "refresh",
    "scan",
    "teardown",
]


def _prefix(prefix: str) -> str:
    prefix = prefix.strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def apply(
    client: Any,
    bucket: str,
    plan: SyncPlan,
    *,
    prefix: str = "",
    max_workers: int = 8,
    adopt_existing: bool = True,
    owner: str = DEFAULT_OWNER,
    take_over: bool = False,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Carry out ``plan`` on ``bucket`` and return the new manifest (keys relative to ``prefix``).

    Ownership: every object written carries the metadata ``china-site-owner: <owner>``. Before anything is written,
    each key the plan would write or delete is checked: a key in the previous manifest must still hold the ETag the
    manifest recorded (or carry our owner mark), a new key must be absent or carry our owner mark. Anything else is
    a *foreign* object: the sync is refused before any upload (:class:`SyncError`, code ``ForeignObject``, naming
    the keys) unless ``take_over`` is set, in which case it is overwritten and from then on ours. A foreign object
    at a key to delete is left alone and dropped from the manifest (event ``released``).

    Uploads run on at most ``max_workers`` threads, assets before HTML. Files up to :data:`MULTIPART_THRESHOLD` go
    up in one PutObject with Content-MD5 and their ETag is compared with the file's MD5; larger files go up as a
    multipart upload, read one part at a time (at most ``max_workers + 1`` parts in memory across all files), each
    part with its Content-MD5, the whole file re-hashed while it is read and compared with the plan. Deletes
    happen only after every upload succeeded and only for keys in the previous manifest. With ``adopt_existing``,
    a key not in the previous manifest that already holds this content and metadata *with our owner mark* (an
    interrupted earlier sync of this resource) is recorded without uploading.
    ``on_event(event, key)`` is called (in the calling thread) for every object written, adopted, deleted or
    released.

    Raises :class:`SyncError` (one line, no credentials) whose ``manifest`` records the work that completed.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    pfx = _prefix(prefix)
    mark = owner_token(owner)
    entries: dict[str, ManifestEntry] = dict(plan.previous)

    def notify(event: SyncEvent, key: str) -> None:
        if on_event is not None:
            on_event(event, key)

    # --- 1. who owns the keys this plan touches ------------------------------------------------------------------
    touched = sorted({f.key for f in plan.uploads} | set(plan.deletes))
    # One listing pass when keys are new (the usual first sync) or many; a few changed keys get a HeadObject each.
    new_keys = any(key not in plan.previous for key in touched)
    listed = _list_existing(client, bucket, pfx, touched) if new_keys or len(touched) >= _LIST_FROM else None

    def remote(key: str, *, need_meta: bool) -> _Remote | None:
        from botocore.exceptions import ClientError

        if listed is not None and listed.covers(pfx + key):
            found = listed.objects.get(pfx + key)
            if found is None:
                return None
            if not need_meta:
                return _Remote(etag=found[0], size=found[1])
        try:
            head = client.head_object(Bucket=bucket, Key=pfx + key)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if status == 404 or code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        meta = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        return _Remote(
            etag=_clean_etag(head.get("ETag")),
            size=int(head.get("ContentLength", -1)),
            owner=meta.get(OWNER_METADATA, ""),
            content_type=head.get("ContentType"),
            cache_control=head.get("CacheControl"),
        )

    Verdict = tuple[str, Any]  # ("absent"|"ours"|"adopt"|"foreign", etag or None)

    def judge(key: str) -> Verdict:
        old = plan.previous.get(key)
        found = remote(key, need_meta=old is None)
        if found is None:
            return ("absent", None)
        if old is not None and found.etag == old.etag.lower():
            return ("ours", None)
        if found.owner is None:  # a listing said "not what the manifest holds": read the owner mark
            found = remote(key, need_meta=True)
            if found is None:
                return ("absent", None)
        if found.owner != mark:
            return ("foreign", None)
        f = uploads_by_key.get(key)
        if (
            adopt_existing
            and f is not None
            and old is None
            and found.etag == f.expected_etag
            and found.size == f.size
            and found.content_type == f.content_type
            and found.cache_control == f.cache_control
        ):
            return ("adopt", found.etag)
        return ("ours", None)

    uploads_by_key = {f.key: f for f in plan.uploads}
    verdicts: dict[str, Verdict] = {}
    if touched:
        _run_all(
            touched,
            judge,
            lambda key, verdict: verdicts.__setitem__(key, verdict),
            max_workers=max_workers,
            fail=lambda exc, key: _fail(exc, client, bucket, pfx + key, "HeadObject", entries),
        )
    conflicts = sorted(k for k in uploads_by_key if verdicts.get(k, ("absent", None))[0] == "foreign")
    if conflicts and not take_over:
        shown = ", ".join(_clip(pfx + k, 120) for k in conflicts[:5]) + (
            f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        )
        raise SyncError(
            f"{len(conflicts)} object(s) this sync would overwrite were not uploaded by this SiteContent ({shown}); "
            "nothing was uploaded / 存储桶中已有不是由本资源上传的同名对象，未上传任何文件",
            where=f"oss://{bucket}/{pfx}",
            fix=(
                "use another bucket or prefix, remove those objects yourself, or set takeOverExisting: true "
                "(SiteContentArgs.take_over_existing) to let this SiteContent replace and own them"
            ),
            manifest=_dump(entries),
            code="ForeignObject",
        )

    # --- 2. uploads ----------------------------------------------------------------------------------------------
    # Parts in memory at once, across all files: one per worker. Their buffers are reused (a freed 8 MiB block would
    # otherwise stay in the reading thread's malloc arena, and the process would grow past the parts in flight).
    part_slots = threading.BoundedSemaphore(max_workers)
    free_buffers: dict[int, list[bytearray]] = {}
    buffers_lock = threading.Lock()

    def take_buffer(size: int) -> bytearray:
        with buffers_lock:
            spare = free_buffers.setdefault(size, [])
            return spare.pop() if spare else bytearray(size)

    def give_buffer(buf: bytearray) -> None:
        with buffers_lock:
            free_buffers.setdefault(len(buf), []).append(buf)

    part_pool: list[ThreadPoolExecutor] = []
    part_pool_lock = threading.Lock()

    def parts_executor() -> ThreadPoolExecutor:
        with part_pool_lock:
            if not part_pool:
                part_pool.append(ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="china-site-part"))
            return part_pool[0]

    headers = {"Metadata": {OWNER_METADATA: mark}}

    def changed(f: LocalFile) -> SyncError:
        return SyncError(
            "file changed after the sync was planned / 文件在同步计划生成后被修改",
            where=f.path,
            fix="run the sync (pulumi up) again once the build has finished writing",
        )

    def put_single(f: LocalFile, key: str) -> str:
        with _open_checked(f.path, f.inode) as fh:
            data = fh.read(sync_multipart.MULTIPART_THRESHOLD + 1)
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.sha256:
            raise changed(f)
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        response = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=f.content_type,
            CacheControl=f.cache_control,
            ContentMD5=base64.b64encode(digest).decode("ascii"),
            **headers,
        )
        etag = _unexpected_etag(response, digest.hex(), _MD5_HEX)
        if etag is not None:
            raise SyncError(
                f"checksum mismatch after upload: ETag {etag} is not the file's MD5 {digest.hex()} / "
                "上传后校验和不一致",
                where=f"oss://{bucket}/{key}",
                fix="run the sync again; if it persists, check for a proxy rewriting the content",
            )
        return digest.hex()

    def put_multipart(f: LocalFile, key: str) -> str:
        part_size = part_size_for(f.size)
        started = client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=f.content_type, CacheControl=f.cache_control, **headers
        )
        upload_id = started["UploadId"]
        failed = threading.Event()

        def send(number: int, buf: bytearray, length: int, digest: bytes) -> dict[str, Any]:
            data = buf if length == len(buf) else bytes(memoryview(buf)[:length])
            try:
                response = client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=base64.b64encode(digest).decode("ascii"),
                )
                if _unexpected_etag(response, digest.hex(), _MD5_HEX) is not None:
                    raise SyncError(
                        f"part {number} does not have the checksum planned: the file changed after the sync was "
                        "planned, or something rewrote the upload / 分片校验和不一致",
                        where=f"oss://{bucket}/{key}",
                        fix="run the sync again once the build has finished writing; if it persists, check for a "
                        "proxy rewriting the content",
                    )
                return {"ETag": response.get("ETag"), "PartNumber": number}
            except BaseException:
                failed.set()
                raise
            finally:
                del data
                give_buffer(buf)
                part_slots.release()

        futures: list[Future[dict[str, Any]]] = []
        digests: list[bytes] = []
        planned = f.parts if len(f.parts) == -(-f.size // part_size) else ()
        try:
            sha = hashlib.sha256()
            size = 0
            with _open_checked(f.path, f.inode) as fh:
                while not failed.is_set():
                    part_slots.acquire()
                    buf = take_buffer(part_size)
                    try:
                        length = _read_into(fh, buf)
                    except BaseException:
                        give_buffer(buf)
                        part_slots.release()
                        raise
                    if not length:
                        give_buffer(buf)
                        part_slots.release()
                        break
                    view = memoryview(buf)[:length]
                    sha.update(view)
                    size += length
                    n = len(digests)
                    # The part's MD5 from the scan when the layout is the same: the server checks the bytes sent
                    # against it (BadDigest if the file changed), and the SHA-256 here checks the whole file.
                    digest = (
                        planned[n]
                        if n < len(planned) and length == min(part_size, f.size - n * part_size)
                        else hashlib.md5(view, usedforsecurity=False).digest()
                    )
                    view.release()
                    digests.append(digest)
                    futures.append(parts_executor().submit(send, len(digests), buf, length, digest))
            parts = [fut.result() for fut in futures]  # the first failure raises here
            if size != f.size or sha.hexdigest() != f.sha256:
                raise changed(f)
            try:
                response = client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except Exception:
                # Completing a large object can outlast the read timeout; the retry then finds the upload gone.
                # If the object is there with exactly our parts and our mark, the first attempt did it.
                response = completed_already(key, _multipart_etag(digests))
                if response is None:
                    raise
        except BaseException:
            for fut in futures:
                fut.cancel()
            wait(futures)
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        expected = _multipart_etag(digests)
        etag = _clean_etag(response.get("ETag"))
        if _unexpected_etag(response, expected, _MULTIPART_ETAG) is not None:
            raise SyncError(
                f"checksum mismatch after upload: ETag {etag} is not the parts' checksum {expected} / "
                "上传后校验和不一致",
                where=f"oss://{bucket}/{key}",
                fix="run the sync again; if it persists, check for a proxy rewriting the content",
            )
        return etag or expected

    def completed_already(key: str, expected: str) -> dict[str, Any] | None:
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except Exception:
            return None
        meta = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        if _clean_etag(head.get("ETag")) == expected and meta.get(OWNER_METADATA) == mark:
            return {"ETag": head.get("ETag")}
        return None

    def upload(f: LocalFile) -> tuple[SyncEvent, ManifestEntry]:
        verdict, etag = verdicts.get(f.key, ("absent", None))
        if verdict == "adopt":
            return "adopted", f.entry(etag)
        key = pfx + f.key
        written = put_multipart(f, key) if f.multipart else put_single(f, key)
        return "uploaded", f.entry(written)

    def delete(key: str) -> SyncEvent:
        if verdicts.get(key, ("absent", None))[0] == "foreign":
            return "released"  # someone else's object now: left alone, no longer ours
        client.delete_object(Bucket=bucket, Key=pfx + key)
        return "deleted"

    def uploaded(f: LocalFile, result: tuple[SyncEvent, ManifestEntry]) -> None:
        event, entry = result
        entries[f.key] = entry
        notify(event, f.key)

    def deleted(key: str, event: SyncEvent) -> None:
        entries.pop(key, None)
        notify(event, key)

    def failing(operation: str) -> Callable[[BaseException, Any], SyncError]:
        def fail(exc: BaseException, item: Any) -> SyncError:
            key = item.key if isinstance(item, LocalFile) else str(item)
            return _fail(exc, client, bucket, pfx + key, operation, entries)

        return fail

    assets = [f for f in plan.uploads if not f.content_type.startswith("text/html")]
    pages = [f for f in plan.uploads if f.content_type.startswith("text/html")]
    try:
        _run_all(assets, upload, uploaded, max_workers=max_workers, fail=failing("PutObject"))
        _run_all(pages, upload, uploaded, max_workers=max_workers, fail=failing("PutObject"))
    finally:
        for pool in part_pool:
            pool.shutdown(wait=True)
    _run_all(list(plan.deletes), delete, deleted, max_workers=max_workers, fail=failing("DeleteObject"))
    return _dump(entries)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(
    exc: BaseException, client: Any, bucket: str, key: str, operation: str, entries: Mapping[str, ManifestEntry]
) -> SyncError:
    error = describe_error(exc, client=client, bucket=bucket, key=key, operation=operation)
    error.manifest = _dump(entries)
    return error


def _run_all(
    items: list[Any],
    fn: Callable[[Any], Any],
    on_done: Callable[[Any, Any], None],
    *,
    max_workers: int,
    fail: Callable[[BaseException, Any], SyncError],
) -> None:
    """``fn`` over ``items`` on at most ``max_workers`` threads; ``on_done(item, result)`` in the calling thread.
    On the first failure the rest is cancelled, the ones already running finish (and are recorded: they did reach
    the bucket), then ``fail(exc, item)`` is raised."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="china-site-sync") as pool:
        futures: dict[Future[Any], Any] = {pool.submit(fn, item): item for item in items}
        done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
        failure: tuple[BaseException, Any] | None = None
        for fut in list(done):
            exc = fut.exception()
            if exc is None:
                on_done(futures[fut], fut.result())
            elif failure is None:
                failure = (exc, futures[fut])
        if failure is not None:
            for fut in not_done:
                fut.cancel()
            for fut in not_done:
                if fut.cancelled():
                    continue
                if fut.exception() is None:
                    on_done(futures[fut], fut.result())
            raise fail(*failure) from None


def teardown(
    client: Any,
    bucket: str,
    manifest: Mapping[str, Any] | None,
    *,
    prefix: str = "",
    max_workers: int = 8,
    owner: str = DEFAULT_OWNER,
    on_event: Callable[[SyncEvent, str], None] | None = None,
) -> Manifest:
    """Delete every object the manifest lists that is still ours (and nothing else); returns the (empty) manifest
    left. An object someone else replaced since is left alone (event ``released``)."""
    previous = load_manifest(manifest)
    doomed = SyncPlan(uploads=(), deletes=tuple(sorted(previous)), unchanged=(), previous=previous)
    return apply(client, bucket, doomed, prefix=prefix, max_workers=max_workers, owner=owner, on_event=on_event)


def refresh(client: Any, bucket: str, manifest: Mapping[str, Any] | None, *, prefix: str = "") -> Manifest:
    """The part of ``manifest`` the bucket still holds unchanged (same ETag): objects deleted or overwritten by
    someone else drop out, so the next sync uploads them again."""
    previous = load_manifest(manifest)
    if not previous:
        return {}
    pfx = _prefix(prefix)
    remote: dict[str, str] = {}
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=pfx):
            for obj in page.get("Contents", ()) or ():
                key = str(obj.get("Key", ""))
                if key.startswith(pfx):
                    remote[key[len(pfx) :]] = _clean_etag(obj.get("ETag"))
    except Exception as exc:
        raise describe_error(exc, client=client, bucket=bucket, key=pfx or None, operation="ListObjectsV2") from None
    kept = {key: entry for key, entry in previous.items() if remote.get(key) == entry.etag.lower()}
    return _dump(kept)
