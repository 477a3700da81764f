"""Two syncs of the same site at once (issue 22, item 5): both end correctly and the bucket converges.

Each round starts both syncs from the same previous manifest at the same moment (a barrier), as two deploys of the
same stack from two machines would; every round must leave the bucket holding exactly the folder's files, with our
owner mark, and each sync's manifest must describe what is in the bucket.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from china_site.sync import OWNER_METADATA, apply, plan


def oss_client() -> Any:
    from china_site.oss import client

    return client("oss", region="cn-shanghai")


def objects(admin: Any, bucket: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"].strip('"')
    return out


def both_at_once(site: Path, bucket: str, manifest: Any) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        p = plan(site, manifest)
        client = oss_client()
        barrier.wait()
        try:
            results[i] = apply(client, bucket, p, max_workers=4)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("round_", range(2))
def test_two_syncs_of_the_same_site_at_once_both_succeed(
    tmp_path: Path, bucket: str, oss_env: Any, round_: int
) -> None:
    admin = oss_env.client()
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    for i in range(12):
        (site / f"page{i}.html").write_text(f"<p>{i}</p>", encoding="utf-8")
        (site / "css" / f"s{i}.css").write_text(f"a{{b:{i}}}", encoding="utf-8")

    first = both_at_once(site, bucket, None)  # a fresh bucket
    assert all(isinstance(r, dict) for r in first), first
    assert first[0] == first[1] and set(first[0]) == set(objects(admin, bucket))

    # Then an update from the same manifest: three pages change, three go away, two are new.
    for i in range(3):
        (site / f"page{i}.html").write_text(f"<p>new {i}</p>", encoding="utf-8")
        (site / "css" / f"s{i}.css").unlink()
    (site / "new1.html").write_text("<p>n1</p>", encoding="utf-8")
    (site / "css" / "n2.css").write_text("x{}", encoding="utf-8")
    second = both_at_once(site, bucket, first[0])
    assert all(isinstance(r, dict) for r in second), second
    remote = objects(admin, bucket)
    assert set(remote) == set(second[0]) == set(second[1])
    assert {k: e["etag"] for k, e in second[0].items()} == remote
    head = admin.head_object(Bucket=bucket, Key="page0.html")
    assert OWNER_METADATA in {k.lower() for k in head.get("Metadata", {})}
