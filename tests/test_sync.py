"""china_site.sync against a real S3-compatible server (moto's server mode on loopback, tests/conftest.py)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import OSS_SECRET as SECRET

from china_site.errors import ChinaSiteError
from china_site.sync import (
    CachePolicy,
    SyncError,
    apply,
    content_type_for,
    describe_error,
    file_hashes,
    load_manifest,
    plan,
    refresh,
    teardown,
)

# ---------------------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def admin(oss_env: Any) -> Any:
    """A plain boto3 client to look at the server side (not the one under test)."""
    return oss_env.client()


class PutCounter:
    """Counts the PutObject calls a real client sends (a botocore event hook; nothing is mocked)."""

    def __init__(self, client: Any) -> None:
        self.keys: list[str] = []
        self._lock = threading.Lock()
        client.meta.events.register("before-call.s3.PutObject", self._on_put)

    def _on_put(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.keys.append(params["url_path"].rsplit("/", 1)[-1])

    @property
    def count(self) -> int:
        return len(self.keys)


def oss_client() -> Any:
    from china_site.oss import client

    return client("oss", region="cn-shanghai")


def make_site(root: Path, n_assets: int = 6) -> Path:
    (root / "css").mkdir(parents=True, exist_ok=True)
    (root / "js").mkdir(exist_ok=True)
    (root / "img").mkdir(exist_ok=True)
    (root / "index.html").write_text("<html><body>首页</body></html>", encoding="utf-8")
    (root / "404.html").write_text("<html><body>404</body></html>", encoding="utf-8")
    (root / "css" / "style.css").write_text("body{color:#333}", encoding="utf-8")
    (root / "js" / "app.3f2a9c1b.js").write_text("console.log(1)", encoding="utf-8")
    (root / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    for i in range(n_assets):
        (root / "img" / f"pic{i}.webp").write_bytes(f"webp-{i}".encode())
    return root


def server_objects(admin: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"].strip('"')
    return out


def sync(local: Path, bucket: str, manifest: Any = None, **kw: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    events: list[tuple[str, str]] = []
    client = kw.pop("client", None) or oss_client()
    result = apply(client, bucket, plan(local, manifest), on_event=lambda e, k: events.append((e, k)), **kw)
    return result, events


# ---------------------------------------------------------------------------------------------------------------------
# Pure parts


def test_content_types() -> None:
    assert content_type_for("index.html") == "text/html; charset=utf-8"
    assert content_type_for("a/b/style.CSS") == "text/css; charset=utf-8"
    assert content_type_for("app.js").startswith("application/javascript")
    assert content_type_for("data.json").startswith("application/json")
    assert content_type_for("logo.svg") == "image/svg+xml"
    assert content_type_for("font.woff2") == "font/woff2"
    assert content_type_for("pic.webp") == "image/webp"
    assert content_type_for("mod.wasm") == "application/wasm"
    assert content_type_for("README") == "application/octet-stream"


def test_cache_policy() -> None:
    policy = CachePolicy()
    assert policy.for_key("index.html") == "no-cache"
    assert policy.for_key("assets/app.3f2a9c1b.js") == "public, max-age=31536000, immutable"
    assert policy.for_key("assets/index-B4fK3l2X.css") == "public, max-age=31536000, immutable"
    assert policy.for_key("css/style.css") == "public, max-age=3600"
    assert policy.for_key("img/background-illustration.png") == "public, max-age=3600"
    custom = CachePolicy(default="max-age=60", overrides=(("robots.txt", "no-store"),))
    assert custom.for_key("robots.txt") == "no-store" and custom.for_key("a.png") == "max-age=60"
    assert CachePolicy.from_dict(custom.to_dict()) == custom


def test_plan_by_content_hash(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    first = plan(site, None)
    assert not first.deletes and not first.unchanged and len(first.uploads) == 11
    manifest = {
        f.key: {"sha256": f.sha256, "etag": f.md5, "size": float(f.size), **_meta(f)} for f in first.uploads
    }  # sizes come back from Pulumi state as floats
    manifest["gone.txt"] = {"sha256": "0" * 64, "etag": "0" * 32, "size": 1, **_meta(first.uploads[0])}
    (site / "css" / "style.css").write_text("body{color:#000}", encoding="utf-8")
    again = plan(site, manifest)
    assert [f.key for f in again.uploads] == ["css/style.css"]
    assert again.deletes == ("gone.txt",)
    assert len(again.unchanged) == 10
    assert file_hashes(site)["css/style.css"] == hashlib.sha256(b"body{color:#000}").hexdigest()


def _meta(f: Any) -> dict[str, str]:
    return {"content_type": f.content_type, "cache_control": f.cache_control}


def test_plan_reuploads_when_the_cache_policy_changes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    p = plan(site, None)
    manifest = {f.key: f.entry().model_dump() for f in p.uploads}
    assert plan(site, manifest).empty
    changed = plan(site, manifest, cache_policy=CachePolicy(default="max-age=60"))
    assert {f.key for f in changed.uploads} == {"css/style.css", "img/logo.png"}


def test_plan_skips_vcs_and_os_litter(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("x")
    (site / ".DS_Store").write_bytes(b"x")
    (site / ".well-known").mkdir()
    (site / ".well-known" / "security.txt").write_text("Contact: x")
    keys = set(file_hashes(site))
    assert ".well-known/security.txt" in keys
    assert not any(k.startswith(".git/") or k.endswith(".DS_Store") for k in keys)


def test_missing_folder_and_bad_manifest_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ChinaSiteError) as err:
        plan(tmp_path / "nope", None)
    assert "\n" not in str(err.value) and "content directory" in str(err.value)
    with pytest.raises(SyncError) as err:
        load_manifest({"index.html": {"sha256": "x"}})
    assert "index.html" in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------------------------------
# Against the server


def test_first_sync_uploads_everything_with_the_right_headers(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site")
    client = oss_client()
    puts = PutCounter(client)
    manifest, events = sync(site, bucket, client=client)
    assert puts.count == 11
    assert Counter(e for e, _ in events) == {"uploaded": 11}
    remote = server_objects(admin, bucket)
    assert set(remote) == set(manifest) == set(file_hashes(site))
    for key, entry in manifest.items():
        assert remote[key] == entry["etag"] == hashlib.md5((site / key).read_bytes()).hexdigest()

    head = admin.head_object(Bucket=bucket, Key="index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "no-cache"
    head = admin.head_object(Bucket=bucket, Key="js/app.3f2a9c1b.js")
    assert head["ContentType"].startswith("application/javascript")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    head = admin.head_object(Bucket=bucket, Key="img/pic0.webp")
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=3600"
    head = admin.head_object(Bucket=bucket, Key="css/style.css")
    assert head["ContentType"] == "text/css; charset=utf-8"


def test_second_sync_uploads_only_the_changed_file(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site")
    manifest, _ = sync(site, bucket)
    before = {k: admin.head_object(Bucket=bucket, Key=k)["LastModified"] for k in manifest}

    client = oss_client()
    puts = PutCounter(client)
    same, events = sync(site, bucket, manifest, client=client)
    assert puts.count == 0 and events == [] and same == manifest

    (site / "css" / "style.css").write_text("body{color:#c00}", encoding="utf-8")
    updated, events = sync(site, bucket, manifest, client=client)
    assert puts.keys == ["style.css"]
    assert events == [("uploaded", "css/style.css")]
    assert updated["css/style.css"]["etag"] == hashlib.md5(b"body{color:#c00}").hexdigest()
    assert server_objects(admin, bucket)["css/style.css"] == updated["css/style.css"]["etag"]
    after = {k: admin.head_object(Bucket=bucket, Key=k)["LastModified"] for k in manifest if k != "css/style.css"}
    assert after == {k: v for k, v in before.items() if k != "css/style.css"}


def test_removed_file_is_deleted_and_foreign_objects_are_untouched(tmp_path: Path, bucket: str, admin: Any) -> None:
    admin.put_object(Bucket=bucket, Key="www/uploads/user-photo.jpg", Body=b"theirs")
    admin.put_object(Bucket=bucket, Key="other-app/index.html", Body=b"theirs")
    site = make_site(tmp_path / "site")
    manifest, _ = sync(site, bucket, prefix="www")
    assert "www/img/pic3.webp" in server_objects(admin, bucket)

    (site / "img" / "pic3.webp").unlink()
    manifest2, events = sync(site, bucket, manifest, prefix="www")
    assert events == [("deleted", "img/pic3.webp")]
    remote = server_objects(admin, bucket)
    assert "www/img/pic3.webp" not in remote and "img/pic3.webp" not in manifest2
    assert "www/uploads/user-photo.jpg" in remote and "other-app/index.html" in remote

    # tearing the site down removes exactly its own objects
    assert teardown(oss_client(), bucket, manifest2, prefix="www/") == {}
    assert set(server_objects(admin, bucket)) == {"www/uploads/user-photo.jpg", "other-app/index.html"}


def test_a_key_never_uploaded_is_never_deleted(tmp_path: Path, bucket: str, admin: Any) -> None:
    admin.put_object(Bucket=bucket, Key="legacy.html", Body=b"old site")
    site = make_site(tmp_path / "site", n_assets=0)
    manifest, _ = sync(site, bucket)
    assert "legacy.html" not in manifest
    sync(site, bucket, manifest)
    assert "legacy.html" in server_objects(admin, bucket)


class FailAfter:
    """A real client that stops reaching the server after ``k`` PutObject calls (a network drop mid-sync)."""

    def __init__(self, client: Any, k: int) -> None:
        self._client = client
        self._k = k
        self._lock = threading.Lock()
        self.puts = 0
        self.meta = client.meta

    def put_object(self, **kw: Any) -> Any:
        from botocore.exceptions import EndpointConnectionError

        with self._lock:
            self.puts += 1
            if self.puts > self._k:
                raise EndpointConnectionError(endpoint_url=self.meta.endpoint_url)
        return self._client.put_object(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.parametrize("resume_from", ["partial-manifest", "old-manifest"])
def test_interrupted_sync_converges(tmp_path: Path, bucket: str, admin: Any, resume_from: str) -> None:
    site = make_site(tmp_path / "site")
    total = len(file_hashes(site))
    k = 4
    with pytest.raises(SyncError) as err:
        sync(site, bucket, client=FailAfter(oss_client(), k), max_workers=3)
    message = str(err.value)
    assert "\n" not in message and "cannot reach" in message and SECRET not in message
    partial = err.value.manifest
    assert partial is not None and len(partial) == k  # only completed uploads are recorded
    assert set(partial) <= set(server_objects(admin, bucket))
    assert not any(key.endswith(".html") for key in partial)  # pages go up last

    client = oss_client()
    puts = PutCounter(client)
    start = partial if resume_from == "partial-manifest" else None  # a failed Pulumi create keeps no state
    final, events = sync(site, bucket, start, client=client)
    assert puts.count == total - k
    kinds = Counter(e for e, _ in events)
    assert kinds["uploaded"] == total - k
    assert kinds["adopted"] == (k if resume_from == "old-manifest" else 0)
    assert set(final) == set(file_hashes(site))
    remote = server_objects(admin, bucket)
    assert all(remote[key] == entry["etag"] for key, entry in final.items())
    # and a further run has nothing to do
    assert plan(site, final).empty


def test_a_file_changed_after_planning_fails_the_sync_cleanly(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    p = plan(site, None)
    (site / "css" / "style.css").write_text("rewritten by a build", encoding="utf-8")
    with pytest.raises(SyncError) as err:
        apply(oss_client(), bucket, p, max_workers=1)
    assert "changed after the sync was planned" in str(err.value)
    assert "css/style.css" not in (err.value.manifest or {})
    final = apply(oss_client(), bucket, plan(site, err.value.manifest))
    assert server_objects(admin, bucket)["css/style.css"] == final["css/style.css"]["etag"]


class Corrupting:
    """A real client behind a "proxy" that alters the bytes on the way (the server stores what it receives)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta

    def put_object(self, **kw: Any) -> Any:
        kw["Body"] = kw["Body"] + b"<!-- injected -->"
        kw.pop("ContentMD5", None)  # a proxy that recomputes the header; the ETag still tells
        return self._client.put_object(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_an_etag_that_is_not_the_files_md5_fails_the_sync(tmp_path: Path, bucket: str) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    with pytest.raises(SyncError) as err:
        apply(Corrupting(oss_client()), bucket, plan(site, None), max_workers=1)
    assert "checksum mismatch" in str(err.value) and "校验和" in str(err.value)
    assert err.value.manifest == {}  # nothing unverified is recorded


def test_adopting_requires_same_content_and_headers(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    # same bytes and our owner mark (an earlier run of ours) but the wrong Content-Type: must be re-uploaded
    admin.put_object(
        Bucket=bucket,
        Key="css/style.css",
        Body=(site / "css/style.css").read_bytes(),
        Metadata={"china-site-owner": "china-site"},
    )
    _, events = sync(site, bucket)
    assert ("uploaded", "css/style.css") in events
    assert admin.head_object(Bucket=bucket, Key="css/style.css")["ContentType"] == "text/css; charset=utf-8"


def test_refresh_drops_objects_changed_behind_our_back(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=1)
    manifest, _ = sync(site, bucket)
    admin.delete_object(Bucket=bucket, Key="img/pic0.webp")
    admin.put_object(Bucket=bucket, Key="css/style.css", Body=b"defaced")
    kept = refresh(oss_client(), bucket, manifest)
    assert set(manifest) - set(kept) == {"img/pic0.webp", "css/style.css"}
    # the replaced object is someone else's now: never overwritten silently …
    with pytest.raises(SyncError) as err:
        sync(site, bucket, kept)
    assert err.value.code == "ForeignObject" and "css/style.css" in str(err.value)
    assert server_objects(admin, bucket).keys() == set(manifest) - {"img/pic0.webp"}
    # … only when the user says so
    final, events = sync(site, bucket, kept, take_over=True)
    assert {k for e, k in events if e == "uploaded"} == {"img/pic0.webp", "css/style.css"}
    assert server_objects(admin, bucket)["css/style.css"] == final["css/style.css"]["etag"]


# ---------------------------------------------------------------------------------------------------------------------
# Errors: one line, bilingual, never credentials


def test_missing_bucket(tmp_path: Path, oss_env: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    with pytest.raises(SyncError) as err:
        sync(site, f"no-such-{uuid.uuid4().hex[:8]}")
    assert err.value.code == "NoSuchBucket"
    text = str(err.value)
    assert "\n" not in text and "does not exist" in text and "不存在" in text and SECRET not in text


def test_unreachable_endpoint(tmp_path: Path, oss_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", f"http://127.0.0.1:{port}")
    from china_site.oss import client

    c = client("oss", region="cn-shanghai", connect_timeout=0.5, max_attempts=1)
    site = make_site(tmp_path / "site", n_assets=0)
    with pytest.raises(SyncError) as err:
        apply(c, "b", plan(site, None))
    assert "cannot reach" in str(err.value) and "\n" not in str(err.value)


def test_access_denied_message_names_the_variables_not_their_values(oss_env: Any) -> None:
    from botocore.exceptions import ClientError

    exc = ClientError(
        {"Error": {"Code": "InvalidAccessKeyId", "Message": f"key testing / {SECRET} rejected"}}, "PutObject"
    )
    error = describe_error(exc, client=oss_client(), bucket="b", key="index.html", operation="PutObject")
    text = str(error)
    assert "access denied" in text and "ALIBABA_CLOUD_ACCESS_KEY_ID" in text and "访问被拒绝" in text
    assert SECRET not in text and "\n" not in text


# ---------------------------------------------------------------------------------------------------------------------
# Requests sent: the adopt-existing check lists the prefix once instead of a HeadObject per new key


class RequestCounter:
    """Counts every S3 operation a real client sends, by name (a botocore event hook; nothing is mocked).

    ``deny_listing`` makes ListObjectsV2 fail as it does without oss:ListObjects (the request is not sent)."""

    def __init__(self, client: Any, *, deny_listing: bool = False) -> None:
        self.calls: Counter[str] = Counter()
        self.heads: list[str] = []
        self._lock = threading.Lock()
        self._deny_listing = deny_listing
        client.meta.events.register("before-parameter-build.s3", self._on_call)

    def _on_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import ClientError

        with self._lock:
            self.calls[model.name] += 1
            if model.name == "HeadObject":
                self.heads.append(params["Key"])
        if self._deny_listing and model.name == "ListObjectsV2":
            raise ClientError({"Error": {"Code": "AccessDenied"}}, "ListObjectsV2")


def test_first_sync_to_an_empty_prefix_sends_no_head_object(tmp_path: Path, bucket: str, admin: Any) -> None:
    admin.put_object(Bucket=bucket, Key="other-app/index.html", Body=b"theirs")  # outside the prefix
    site = make_site(tmp_path / "site")
    client = oss_client()
    requests = RequestCounter(client)
    manifest, events = sync(site, bucket, client=client, prefix="www")
    assert requests.calls["HeadObject"] == 0
    assert requests.calls["ListObjectsV2"] == 1
    assert requests.calls["PutObject"] == len(manifest) == 11
    assert Counter(e for e, _ in events) == {"uploaded": 11}


def test_first_sync_without_a_usable_listing_falls_back_to_head_object(tmp_path: Path, bucket: str) -> None:
    site = make_site(tmp_path / "site")
    client = oss_client()
    requests = RequestCounter(client, deny_listing=True)
    manifest, events = sync(site, bucket, client=client, prefix="www")
    assert requests.calls["ListObjectsV2"] == 1  # tried once, refused
    assert requests.calls["HeadObject"] == 11  # then one HeadObject per new key, as before
    assert requests.calls["PutObject"] == len(manifest) == 11
    assert Counter(e for e, _ in events) == {"uploaded": 11}


def test_identical_object_not_in_the_manifest_is_adopted_after_one_listing(
    tmp_path: Path, bucket: str, admin: Any
) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    css = site / "css" / "style.css"
    # Uploaded earlier with the same bytes and headers (e.g. by a run whose state was lost).
    admin.put_object(
        Bucket=bucket,
        Key="www/css/style.css",
        Body=css.read_bytes(),
        ContentType="text/css; charset=utf-8",
        CacheControl="public, max-age=3600",
        Metadata={"china-site-owner": "china-site"},
    )
    # Another key holds other content from the same earlier run: overwritten (HeadObject reads the owner mark).
    admin.put_object(
        Bucket=bucket, Key="www/img/logo.png", Body=b"an older logo", Metadata={"china-site-owner": "china-site"}
    )
    before = admin.head_object(Bucket=bucket, Key="www/css/style.css")["LastModified"]

    client = oss_client()
    requests = RequestCounter(client)
    puts = PutCounter(client)
    manifest, events = sync(site, bucket, client=client, prefix="www")
    assert requests.calls["ListObjectsV2"] == 1
    assert sorted(requests.heads) == ["www/css/style.css", "www/img/logo.png"]  # only keys the listing holds
    assert ("adopted", "css/style.css") in events and "style.css" not in puts.keys
    assert ("uploaded", "img/logo.png") in events and puts.count == len(manifest) - 1
    assert manifest["css/style.css"]["etag"] == hashlib.md5(css.read_bytes()).hexdigest()
    assert admin.head_object(Bucket=bucket, Key="www/css/style.css")["LastModified"] == before


def test_listed_match_with_other_headers_is_uploaded_not_adopted(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    css = site / "css" / "style.css"
    # Same bytes (the listing matches on ETag and size) but another Cache-Control: HeadObject tells, then PutObject.
    admin.put_object(
        Bucket=bucket,
        Key="css/style.css",
        Body=css.read_bytes(),
        ContentType="text/css; charset=utf-8",
        CacheControl="no-store",
        Metadata={"china-site-owner": "china-site"},
    )
    client = oss_client()
    requests = RequestCounter(client)
    puts = PutCounter(client)
    _, events = sync(site, bucket, client=client)
    assert requests.calls["ListObjectsV2"] == 1 and requests.heads == ["css/style.css"]
    assert ("uploaded", "css/style.css") in events and "style.css" in puts.keys
    assert not any(e == "adopted" for e, _ in events)
    assert admin.head_object(Bucket=bucket, Key="css/style.css")["CacheControl"] == "public, max-age=3600"


# ---------------------------------------------------------------------------------------------------------------------
# Hardening (issue 13): nothing outside the folder leaves the machine, nothing we did not upload is touched


def hostile_site(root: Path, outside: Path) -> Path:
    """A build folder with links out of it, a device link, a pipe, and secret-ish dotfiles."""
    import os

    site = make_site(root, n_assets=0)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("ALIBABA_CLOUD_ACCESS_KEY_SECRET=leak", encoding="utf-8")
    (outside / "dir").mkdir(exist_ok=True)
    (outside / "dir" / "x.txt").write_text("outside dir", encoding="utf-8")
    os.symlink("/etc/passwd", site / "passwd.txt")
    os.symlink("/proc/self/environ", site / "env.txt")
    os.symlink(os.path.relpath(outside / "secret.txt", site / "css"), site / "css" / "up.txt")  # ../../outside/…
    os.symlink(outside / "secret.txt", site / "abs.txt")
    os.symlink("/dev/zero", site / "zero.bin")
    os.symlink(outside / "dir", site / "linked-dir")
    os.symlink(site / "css" / "style.css", site / "same.css")  # inside the folder: followed
    os.symlink("missing-target", site / "broken.txt")
    os.mkfifo(site / "pipe")
    for name in (".env", ".env.production", ".gitignore", ".npmrc", "server.pem", "tls.key", ".htpasswd"):
        (site / name).write_text("SECRET=1", encoding="utf-8")
    (site / ".github" / "workflows").mkdir(parents=True)
    (site / ".github" / "workflows" / "ci.yml").write_text("token: x", encoding="utf-8")
    (site / "sub").mkdir()
    (site / "sub" / ".env").write_text("SECRET=2", encoding="utf-8")
    (site / ".well-known").mkdir()
    (site / ".well-known" / "security.txt").write_text("Contact: x", encoding="utf-8")
    (site / "keyboard.js").write_text("1", encoding="utf-8")
    with open(os.path.join(os.fsencode(site), b"latin1-\xe9.txt"), "wb") as fh:  # not UTF-8: cannot be a key
        fh.write(b"x")
    return site


SAFE_KEYS = {
    "index.html",
    "404.html",
    "css/style.css",
    "js/app.3f2a9c1b.js",
    "img/logo.png",
    "same.css",
    ".well-known/security.txt",
    "keyboard.js",
}


def test_links_out_of_the_folder_devices_and_secret_dotfiles_are_never_read(tmp_path: Path) -> None:
    site = hostile_site(tmp_path / "site", tmp_path / "outside")
    p = plan(site, None)
    assert {f.key for f in p.uploads} == SAFE_KEYS
    why = dict(p.skipped)
    for key in ("passwd.txt", "env.txt", "css/up.txt", "abs.txt"):
        assert "outside the content folder" in why[key], key
    assert "outside the content folder" in why["zero.bin"]  # /dev is outside too
    assert "regular file" in why["pipe"] and "broken" in why["broken.txt"]
    assert "folder (not followed)" in why["linked-dir/"]
    assert "not valid UTF-8" in why["latin1-\ufffd.txt"]
    for key in (".env", ".env.production", ".gitignore", ".npmrc", "server.pem", "tls.key", ".htpasswd",
                ".github/workflows/ci.yml", "sub/.env"):  # fmt: skip
        assert "excluded" in why[key], key
    same = next(f for f in p.uploads if f.key == "same.css")
    assert same.path == str((site / "css" / "style.css").resolve())
    from china_site.sync import describe_skipped

    text = describe_skipped(p.skipped)
    assert "passwd.txt" in text and "leak" not in text and "/etc/passwd" not in text


def test_a_link_to_an_excluded_file_is_not_uploaded_and_odd_names_are_logged_as_utf8(tmp_path: Path) -> None:
    import os

    from china_site.sync import describe_skipped

    site = tmp_path / "site"
    (site / ".git").mkdir(parents=True)
    (site / "index.html").write_text("<p>hi</p>", encoding="utf-8")
    (site / ".env").write_text("SECRET=leak\n", encoding="utf-8")
    (site / ".git" / "config").write_text("[remote] url = https://token@example.invalid\n", encoding="utf-8")
    (site / "config.txt").symlink_to(".env")
    (site / "git.txt").symlink_to(".git/config")
    (site / "page.html").symlink_to("index.html")  # a link to an uploadable file still is one
    root = os.fsencode(site)
    os.symlink(b"/tmp", os.path.join(root, b"linked-\xfe"))  # a symlinked folder with a Latin-1 name
    (site / os.fsdecode(b"old-\xff.swp")).write_text("x", encoding="utf-8")  # an excluded Latin-1 name
    p = plan(site, None)
    assert {f.key for f in p.uploads} == {"index.html", "page.html"}
    why = dict(p.skipped)
    assert "exclude list" in why["config.txt"] and "exclude list" in why["git.txt"]
    assert set(why) >= {"linked-\ufffd/", "old-\ufffd.swp"}
    describe_skipped(p.skipped).encode("utf-8")  # a log line: valid UTF-8
    assert set(file_hashes(site, exclude=())) >= {"config.txt", ".env"}  # an empty list excludes nothing


def test_the_exclude_list_is_configurable(tmp_path: Path) -> None:
    from china_site.sync import DEFAULT_EXCLUDE

    site = hostile_site(tmp_path / "site", tmp_path / "outside")
    keys = set(file_hashes(site, exclude=()))
    assert {".env", "server.pem", ".github/workflows/ci.yml"} <= keys
    assert "passwd.txt" not in keys and "abs.txt" not in keys  # links out stay out whatever the list says
    keys = set(file_hashes(site, exclude=(*DEFAULT_EXCLUDE, "keyboard.*")))
    assert "keyboard.js" not in keys and "index.html" in keys


def test_hostile_folder_uploads_only_its_own_files(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = hostile_site(tmp_path / "site", tmp_path / "outside")
    manifest, _ = sync(site, bucket)
    assert set(server_objects(admin, bucket)) == set(manifest) == SAFE_KEYS
    for key in SAFE_KEYS:
        body = admin.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert b"leak" not in body and b"root:" not in body


def test_a_file_swapped_for_a_link_after_planning_is_not_uploaded(tmp_path: Path, bucket: str, admin: Any) -> None:
    import os

    site = make_site(tmp_path / "site", n_assets=0)
    secret = tmp_path / "secret.txt"
    secret.write_text("leak", encoding="utf-8")
    p = plan(site, None)
    (site / "css" / "style.css").unlink()
    os.symlink(secret, site / "css" / "style.css")
    with pytest.raises(SyncError) as err:
        apply(oss_client(), bucket, p)
    assert "\n" not in str(err.value)
    assert "css/style.css" not in server_objects(admin, bucket)


def test_a_foreign_object_at_a_colliding_key_is_refused(tmp_path: Path, bucket: str, admin: Any) -> None:
    admin.put_object(Bucket=bucket, Key="www/index.html", Body=b"<p>another team's page</p>")
    site = make_site(tmp_path / "site", n_assets=0)
    with pytest.raises(SyncError) as err:
        sync(site, bucket, prefix="www")
    text = str(err.value)
    assert err.value.code == "ForeignObject" and "www/index.html" in text and "takeOverExisting" in text
    assert "\n" not in text and err.value.manifest == {}
    assert set(server_objects(admin, bucket)) == {"www/index.html"}  # nothing uploaded, theirs untouched
    assert admin.get_object(Bucket=bucket, Key="www/index.html")["Body"].read() == b"<p>another team's page</p>"

    # identical bytes and headers are still not adopted silently
    index = (site / "index.html").read_bytes()
    admin.put_object(Bucket=bucket, Key="www/index.html", Body=index, ContentType="text/html; charset=utf-8",
                     CacheControl="no-cache")  # fmt: skip
    with pytest.raises(SyncError, match="not uploaded by this SiteContent"):
        sync(site, bucket, prefix="www")

    # taken over only when the user says so; then it is ours
    manifest, events = sync(site, bucket, prefix="www", take_over=True, owner="proj/stack/site")
    assert ("uploaded", "index.html") in events and "index.html" in manifest
    head = admin.head_object(Bucket=bucket, Key="www/index.html")
    assert head["Metadata"]["china-site-owner"] == "proj/stack/site"


def test_another_resource_at_the_same_prefix_is_foreign(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    sync(site, bucket, owner="proj/prod/site-a")
    with pytest.raises(SyncError) as err:
        sync(site, bucket, owner="proj/prod/site-b")
    assert err.value.code == "ForeignObject"
    # … while the same resource resuming an interrupted first sync adopts its own uploads
    _, events = sync(site, bucket, owner="proj/prod/site-a")
    assert {e for e, _ in events} == {"adopted"}


def test_objects_replaced_by_someone_else_are_never_deleted(tmp_path: Path, bucket: str, admin: Any) -> None:
    site = make_site(tmp_path / "site", n_assets=2)
    manifest, _ = sync(site, bucket)
    admin.put_object(Bucket=bucket, Key="img/pic0.webp", Body=b"theirs now")
    (site / "img" / "pic0.webp").unlink()
    manifest2, events = sync(site, bucket, manifest)
    assert ("released", "img/pic0.webp") in events and "img/pic0.webp" not in manifest2
    assert admin.get_object(Bucket=bucket, Key="img/pic0.webp")["Body"].read() == b"theirs now"
    admin.put_object(Bucket=bucket, Key="img/pic1.webp", Body=b"also theirs")
    assert teardown(oss_client(), bucket, manifest2) == {}
    assert server_objects(admin, bucket).keys() == {"img/pic0.webp", "img/pic1.webp"}


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Multipart from 5 MiB with 5 MiB parts (S3's smallest, which moto enforces), so a test file of some dozen MiB
    exercises what a 1 GB file does. The sizes live in ``sync_multipart`` (every sync module reads them there)."""
    from china_site import sync_multipart

    monkeypatch.setattr(sync_multipart, "MULTIPART_THRESHOLD", 5 * 1024**2)
    monkeypatch.setattr(sync_multipart, "MIN_PART_SIZE", 5 * 1024**2)
    return 5 * 1024**2


def big_file(path: Path, mib: int) -> bytes:
    import os

    data = os.urandom(256 * 1024) * (4 * mib)
    path.write_bytes(data)
    return data


def test_large_files_stream_as_multipart_with_bounded_memory(
    tmp_path: Path, bucket: str, admin: Any, small_parts: int
) -> None:
    import tracemalloc

    site = make_site(tmp_path / "site", n_assets=0)
    data = big_file(site / "video.mp4", 60)
    p = plan(site, None)
    video = next(f for f in p.uploads if f.key == "video.mp4")
    assert video.multipart and video.etag.endswith("-12")
    client = oss_client()
    requests = RequestCounter(client)
    tracemalloc.start()
    try:
        manifest = apply(client, bucket, p, max_workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert requests.calls["UploadPart"] == 12 and requests.calls["CompleteMultipartUpload"] == 1
    assert peak < 5 * small_parts, peak  # at most max_workers + 1 parts in memory (+ one being read), not 60 MiB
    head = admin.head_object(Bucket=bucket, Key="video.mp4")
    assert head["ContentLength"] == len(data) and head["ContentType"] == "video/mp4"
    assert head["Metadata"]["china-site-owner"] == "china-site"
    assert manifest["video.mp4"]["etag"] == video.etag == head["ETag"].strip('"')
    assert hashlib.sha256(admin.get_object(Bucket=bucket, Key="video.mp4")["Body"].read()).hexdigest() == video.sha256
    assert plan(site, refresh(client, bucket, manifest)).empty  # the multipart ETag round-trips through refresh


class CorruptingParts(Corrupting):
    """The "proxy" alters each part of a multipart upload (and nothing else: which upload fails first must not depend
    on the order the workers take them in); the part's ETag tells."""

    def put_object(self, **kw: Any) -> Any:
        return self._client.put_object(**kw)

    def upload_part(self, **kw: Any) -> Any:
        kw["Body"] = bytes(kw["Body"])[:-1] + b"!"
        kw.pop("ContentMD5", None)
        return self._client.upload_part(**kw)


def test_a_part_whose_etag_is_not_its_md5_aborts_the_multipart_upload(
    tmp_path: Path, bucket: str, admin: Any, small_parts: int
) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    big_file(site / "video.mp4", 11)
    with pytest.raises(SyncError) as err:
        apply(CorruptingParts(oss_client()), bucket, plan(site, None), max_workers=1)
    assert "does not have the checksum planned" in str(err.value) and "分片校验和不一致" in str(err.value)
    assert "video.mp4" not in server_objects(admin, bucket)
    assert not admin.list_multipart_uploads(Bucket=bucket).get("Uploads")  # aborted, no parts left behind


def test_a_large_file_changed_during_upload_aborts_the_multipart_upload(
    tmp_path: Path, bucket: str, admin: Any, small_parts: int
) -> None:
    site = make_site(tmp_path / "site", n_assets=0)
    big_file(site / "video.mp4", 16)
    p = plan(site, None)
    with open(site / "video.mp4", "r+b") as fh:  # same file (same inode), other bytes
        fh.seek(3 * small_parts)
        fh.write(b"tampered")
    with pytest.raises(SyncError) as err:
        apply(oss_client(), bucket, p)
    assert "changed after the sync was planned" in str(err.value)
    assert "video.mp4" not in server_objects(admin, bucket)
    assert not admin.list_multipart_uploads(Bucket=bucket).get("Uploads")  # aborted, no parts left behind
