"""Mainland sample stack, the whole life, with the real engine and the pack: preview, up, no-op up, one edited page,
refresh, destroy."""

from __future__ import annotations

from typing import Any

from e2e_helpers import Project, policies_passed, policy_events, s3_objects
from fake_cdn_api import FakeCdn
from localcloud.fixtures import LocalCloud, MotoS3
from sample_stacks import MAINLAND_RESOURCES

ICP = "沪ICP备2021012345号-1"
PSB = "沪公网安备31011502012345号"


def _cloud_types(local_cloud: LocalCloud) -> set[str]:
    return {r["type"] for r in local_cloud.resources()}


def test_mainland_whole_life(project: Project, local_cloud: LocalCloud, moto_s3: MotoS3, cdn_api: FakeCdn) -> None:
    project.stack("mainland")

    # preview with the pack: no violation at all.
    preview = project.pulumi("preview", "--policy-pack", "policies")
    assert policy_events(preview) == set(), preview.stdout[-3000:]
    passed = policies_passed(preview)  # the pack did run, on the CDN domain among others
    assert any(p == "icp-filing-required" and "DomainNew" in urn for p, urn in passed), passed
    assert ("dns-linked-exposure", "") in passed

    # up: the resources land in the local cloud, with the pack judging every step (no violation).
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    assert policy_events(up) == set()
    expected = {t for t, _ in MAINLAND_RESOURCES if t.startswith("alicloud:")}
    assert _cloud_types(local_cloud) == expected
    outputs: dict[str, Any] = project.pulumi("stack", "output", "--json").json()
    assert (outputs["hosting"], outputs["region"], outputs["cdn_scope"]) == ("mainland", "cn-shanghai", "domestic")
    assert outputs["icp_number"] == ICP and outputs["psb_number"] == PSB
    assert ICP in outputs["footer_html"] and PSB in outputs["footer_html"]
    cdn = [r for r in local_cloud.resources("alicloud:cdn/domainNew:DomainNew")]
    assert [r["inputs"]["scope"] for r in cdn] == ["domestic"]
    assert outputs["cdn_cname"] == cdn[0]["outputs"]["cname"]

    # CDN ownership through the DNS zone: the content looked up, the TXT record created, then the check.
    assert {"DescribeVerifyContent", "VerifyDomainOwner"} <= set(cdn_api.actions())
    txt = [
        r for r in local_cloud.resources("alicloud:dns/alidnsRecord:AlidnsRecord") if r["inputs"].get("type") == "TXT"
    ]
    assert [r["inputs"]["rr"] for r in txt] == ["verification"]

    # the site's objects, with the right headers; the homepage's footer shows both numbers.
    bucket = outputs["bucket_name"]
    s3 = moto_s3.client()
    objects = s3_objects(s3, bucket)
    assert {"index.html", "404.html", "style.css", "images/logo.png"} <= set(objects)
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"].startswith("text/html")
    assert "no-cache" in index.get("CacheControl", "")
    body = index["Body"].read().decode()
    assert ICP in body and PSB in body
    css = s3.head_object(Bucket=bucket, Key="style.css")
    assert css["ContentType"].startswith("text/css") and css.get("CacheControl")
    logo = s3.head_object(Bucket=bucket, Key="images/logo.png")
    assert logo["ContentType"] == "image/png"

    # a second up changes nothing.
    creates_before = len(local_cloud.calls("Create"))
    project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", "--expect-no-changes")
    assert len(local_cloud.calls("Create")) == creates_before
    assert local_cloud.calls("Update") == []
    assert s3_objects(s3, bucket) == objects

    # editing one page uploads exactly that object.
    page = project.dir / "site" / "404.html"
    page.write_text(page.read_text().replace("</body>", "<p>edited</p></body>"))
    project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    after = s3_objects(s3, bucket)
    changed = {k for k in after if after[k] != objects.get(k)}
    assert changed == {"404.html"}
    assert set(after) == set(objects)

    # refresh is clean.
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")

    # destroy removes what it created; an object it did not upload stays untouched.
    s3.put_object(Bucket=bucket, Key="uploaded-by-hand.txt", Body=b"keep me", ContentType="text/plain")
    destroy = project.pulumi("destroy", "--yes", "--skip-preview", check=False)
    left = s3_objects(s3, bucket)
    assert set(left) == {"uploaded-by-hand.txt"}, left
    assert s3.get_object(Bucket=bucket, Key="uploaded-by-hand.txt")["Body"].read() == b"keep me"
    # OSS refuses to delete a bucket that still holds objects: the bucket (and only it) stays, and the CLI says why.
    assert destroy.returncode != 0
    assert "BucketNotEmpty" in destroy.output
    assert _cloud_types(local_cloud) == {"alicloud:oss/bucket:Bucket"}
    # Once the foreign object is gone, destroy finishes.
    s3.delete_object(Bucket=bucket, Key="uploaded-by-hand.txt")
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []
