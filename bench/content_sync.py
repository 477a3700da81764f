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
- **Large file** (1 GiB; 40 MiB with ``--quick``): ``sync.apply`` of a folder holding one large file (multipart,
  8 workers) in a child process, against ``aws s3 cp`` of the same file to the same server with the same part size,
  threshold and concurrency (``AWS_CONFIG_FILE``), alternately. Goal: apply ≤ 1.25× ``aws s3 cp``; the child's
  peak RSS grows by at most 100 MB during the upload (a 1 GiB file is never held in memory). ``plan`` (hashing the
  file once: what diffing needs) is reported beside it. ``aws`` comes from ``$CHINA_SITE_BENCH_AWS``,
  ``.venv-awscli/bin/aws`` (``make bench-awscli``) or ``PATH``; without it the check is reported as skipped.
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

        large = _large_file(sz, work, server.endpoint)

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
        checks=[one_change, *large.pop("checks")],
        large_file=large,
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


# ---------------------------------------------------------------------------------------------------------------------
# One large file: our multipart upload against `aws s3 cp` on the same server

_PART_MB = 8  # china_site.sync.MIN_PART_SIZE
_THRESHOLD_MB = 16  # china_site.sync.MULTIPART_THRESHOLD
_WORKERS = 8
_LARGE_GOAL = 1.25
_MEMORY_GOAL_MB = 100

_OURS = r"""
import json, os, resource, sys, time
args = json.loads(sys.argv[1])
from china_site import sync
from china_site.oss import client
c = client("oss", endpoint=args["endpoint"], region="cn-shanghai", max_pool_connections=args["workers"] + 2,
           read_timeout=60.0)  # as the provider's client (and the AWS CLI's default)
t0 = time.perf_counter()
plan = sync.plan(args["dir"], None)
t1 = time.perf_counter()
with open("/proc/self/statm") as fh:  # resident set now (ru_maxrss would be the peak of the imports)
    base = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024
manifest = sync.apply(c, args["bucket"], plan, prefix=args["prefix"], max_workers=args["workers"])
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"plan_s": t1 - t0, "apply_s": t2 - t1, "base_rss_mb": base / 1024, "peak_rss_mb": peak / 1024,
                  "etag": next(iter(manifest.values()))["etag"]}))
"""


def _aws_cli() -> str | None:
    import shutil

    from bench._common import ROOT

    env = os.environ.get("CHINA_SITE_BENCH_AWS")
    if env:
        return env
    local = ROOT / ".venv-awscli" / "bin" / "aws"
    if local.exists():
        return str(local)
    return shutil.which("aws")


def _run_child(argv: list[str], env: dict[str, str]) -> tuple[float, str, float]:
    """(seconds, stdout, peak RSS in MB) of a child process (``wait4``: its own rusage, nothing else's)."""
    import subprocess
    import time

    out_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"china-site-bench-{os.getpid()}.out"
    with open(out_file, "w+b") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    out_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {text[-500:]}")
    return seconds, text, usage.ru_maxrss / 1024


def _large_file(sz: Sizes, work: Path, endpoint: str) -> dict[str, Any]:
    import json
    import sys

    from china_site.oss import client

    folder = work / "large"
    folder.mkdir(exist_ok=True)
    big = folder / "video.mp4"
    block = os.urandom(_PART_MB * 1024**2)
    with open(big, "wb") as fh:
        for i in range(sz.large_file_mb // _PART_MB):
            fh.write(block[i % 7 :] + block[: i % 7])  # every part different
    size_mb = big.stat().st_size / 1024**2
    admin = client("s3", endpoint=endpoint, region="us-east-1")
    config = work / "aws-config"
    config.write_text(
        "[default]\nregion = us-east-1\ns3 =\n"
        f"  max_concurrent_requests = {_WORKERS}\n  multipart_threshold = {_THRESHOLD_MB}MB\n"
        f"  multipart_chunksize = {_PART_MB}MB\n",
        encoding="utf-8",
    )
    env = {**os.environ, **_CREDENTIALS, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    aws = _aws_cli()
    ours_runs: list[dict[str, Any]] = []
    aws_times: list[float] = []
    aws_rss: list[float] = []

    def ours() -> None:
        args = {"endpoint": endpoint, "dir": str(folder), "bucket": BUCKET, "prefix": "large-ours", "workers": _WORKERS}
        seconds, text, _ = _run_child([sys.executable, "-c", _OURS, json.dumps(args)], env)
        ours_runs.append({**json.loads(text.strip().splitlines()[-1]), "wall_s": seconds})
        admin.delete_object(Bucket=BUCKET, Key="large-ours/video.mp4")

    def theirs() -> None:
        assert aws is not None
        argv = [aws, "s3", "cp", str(big), f"s3://{BUCKET}/large-aws/video.mp4", "--endpoint-url", endpoint,
                "--only-show-errors"]  # fmt: skip
        seconds, _, rss = _run_child(argv, env)
        aws_times.append(seconds)
        aws_rss.append(rss)
        admin.delete_object(Bucket=BUCKET, Key="large-aws/video.mp4")

    for i in range(sz.large_rounds):
        order = [ours, theirs] if i % 2 == 0 else [theirs, ours]
        for fn in order:
            if fn is theirs and aws is None:
                continue
            fn()
    big.unlink()
    apply_s = median([r["apply_s"] for r in ours_runs])
    extra_mb = max(r["peak_rss_mb"] - r["base_rss_mb"] for r in ours_runs)
    memory = check(
        f"large file ({size_mb:.0f} MiB, {_WORKERS} workers): extra peak memory of the upload",
        floor=_MEMORY_GOAL_MB,
        ours=extra_mb,
        unit="MB",
        goal=1.0,
        n=1,
    )
    checks = [memory]
    if aws is not None:
        checks.insert(
            0,
            check(
                f"large file ({size_mb:.0f} MiB): sync.apply vs aws s3 cp, same server, parts and concurrency",
                floor=median(aws_times),
                ours=apply_s,
                unit="s",
                goal=_LARGE_GOAL,
                n=1,
            ),
        )
    return {
        "checks": checks,
        "size_mib": size_mb,
        "aws_cli": aws or "not installed (make bench-awscli): comparison skipped",
        "aws_s3_cp_s": aws_times,
        "aws_s3_cp_peak_rss_mb": aws_rss,
        "ours": ours_runs,
        "ours_plan_plus_apply_s": median([r["plan_s"] + r["apply_s"] for r in ours_runs]),
    }
