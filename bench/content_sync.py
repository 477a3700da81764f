"""Figure 5 — content sync against a local S3-compatible server (moto on loopback), through the OSS client.

A generated site (HTML pages with the ICP footer, fingerprinted JS/CSS, images, fonts) is uploaded once
(``initial_sync_s``). Then:

- **No-op resync** (ours): what a deploy with ``--refresh`` does when nothing changed — ``sync.refresh`` (what the
  bucket still holds of the manifest: one ListObjectsV2 pass), ``sync.plan`` (hash the folder, compare) and
  ``sync.apply`` of the empty plan. Floor: one bare paginated ListObjectsV2 pass over the bucket with the same
  client. Goal ≤ 1.5×. Reading and hashing the folder is inherent to a content-hash sync (``bare_hash_folder_s``;
  ``ratio_vs_list_plus_hash`` is the ratio against list + bare hashing).
- **One-file change**: one page edited, plan + apply; the PutObject requests that reached the wire are counted
  (a botocore ``before-send`` hook on the real client). Goal: exactly 1.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._common import Sizes, check, figure, interleaved, median, timed

NAME = "content_sync"
TITLE = "Content sync (moto S3 server)"
GOAL = 1.5
BUCKET = "bench-site"

_CREDENTIALS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "testing",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testing-secret",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class RequestCounter:
    """Requests that reached the wire, per operation (botocore ``before-send``: retries count, nothing mocked)."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        client.meta.events.register("before-send.s3", self._on_send)

    def _on_send(self, request: Any = None, **kwargs: Any) -> None:
        name = str(kwargs.get("event_name", "")).rsplit(".", 1)[-1]
        self.counts[name] += 1

    def take(self) -> dict[str, int]:
        out = dict(self.counts)
        self.counts.clear()
        return out


def hash_folder(root: Path) -> int:
    """Read every file and hash it (SHA-256 and MD5, what a content-hash sync needs): the local half of the work."""
    import hashlib

    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            data = Path(directory, name).read_bytes()
            hashlib.sha256(data).digest()
            hashlib.md5(data, usedforsecurity=False).digest()
            total += len(data)
    return total


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    from bench import gen
    from china_site import sync
    from china_site.oss import client
    from tests.processes import start_s3_server

    site = work / "site"
    total_bytes = gen.site_folder(site, sz.files, seed=55)
    with start_s3_server() as server, _environment(_CREDENTIALS):
        client("s3", endpoint=server.endpoint, region="us-east-1").create_bucket(Bucket=BUCKET)
        oss = client("oss", endpoint=server.endpoint, region="cn-shanghai", max_pool_connections=8)
        counter = RequestCounter(oss)

        initial_s, manifest = timed(lambda: sync.apply(oss, BUCKET, sync.plan(site, None)))
        initial_requests = counter.take()

        def bare_list() -> int:
            keys = 0
            for page in oss.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
                keys += len(page.get("Contents", ()) or ())
            return keys

        def resync() -> tuple[int, int]:
            kept = sync.refresh(oss, BUCKET, manifest)
            plan = sync.plan(site, kept)
            sync.apply(oss, BUCKET, plan)
            return len(plan.uploads), len(plan.deletes)

        bare_list()
        resync()
        counter.take()
        floor_times, our_times, listed, changes = interleaved(sz.sync_rounds, bare_list, resync)
        # Where one no-op resync spends its time, and the requests it sends.
        counter.take()
        refresh_s, kept = timed(lambda: sync.refresh(oss, BUCKET, manifest))
        plan_s, noop_plan = timed(lambda: sync.plan(site, kept))
        apply_s, _ = timed(lambda: sync.apply(oss, BUCKET, noop_plan))
        hash_s = median([timed(lambda: hash_folder(site))[0] for _ in range(3)])
        resync_requests = counter.take()

        page = site / "index.html"
        page.write_text(page.read_text(encoding="utf-8").replace("第0页", "第0页（更新）"), encoding="utf-8")
        change_s, _ = timed(lambda: sync.apply(oss, BUCKET, sync.plan(site, manifest)))
        change_requests = counter.take()

    puts = change_requests.get("PutObject", 0)
    primary = check(
        "no-op resync vs one ListObjectsV2 pass",
        floor=median(floor_times),
        ours=median(our_times),
        unit="s",
        goal=GOAL,
        n=sz.files,
    )
    one_change = check(
        "one file changed: PutObject requests", floor=1, ours=puts, unit="requests", goal=1, kind="exact", n=1
    )
    return figure(
        primary,
        checks=[one_change],
        files=sz.files,
        site_mb=total_bytes / 1e6,
        objects_listed=listed,
        noop_changes=list(changes),
        initial_sync_s=initial_s,
        initial_requests=initial_requests,
        resync_requests=resync_requests,
        resync_refresh_s=refresh_s,
        resync_plan_s=plan_s,
        resync_apply_s=apply_s,
        bare_hash_folder_s=hash_s,
        ratio_vs_list_plus_hash=median(our_times) / (median(floor_times) + hash_s),
        one_change_s=change_s,
        one_change_requests=change_requests,
    )
