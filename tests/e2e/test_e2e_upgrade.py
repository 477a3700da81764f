"""Upgrade: a stack deployed by the release before the provider plugin (SiteContent and the ownership check as
Python dynamic resources, their providers pickled in the state) is updated with ``pulumi up`` by this version.

The previous release's code comes from git (``LEGACY_COMMIT``: ``china_site/``, ``__main__.py`` and the registry in
its format), run with the checkout's virtualenv through ``PYTHONPATH``. Then the engine's plan and the bucket are
checked: nothing deleted, created or replaced that holds data, no object uploaded again, no ownership check asked
again; the new state holds no pickle, and refresh and destroy work afterwards.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import ROOT, Project, s3_objects
from fake_cdn_api import FakeCdn
from localcloud.fixtures import LocalCloud, MotoS3

# The last commit before the provider plugin (main, 2026-12-05): SiteContent a dynamic resource.
LEGACY_COMMIT = "26bb689ea404d80d417ea0a85d9dfbe0cb9c38b3"


def _legacy_code(dest: Path) -> Path:
    """``china_site/``, ``__main__.py`` and ``filings.yaml`` of LEGACY_COMMIT (its registry format), extracted into
    ``dest``."""
    try:
        blob = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "archive",
                "--format=tar",
                LEGACY_COMMIT,
                "china_site",
                "__main__.py",
                "filings.yaml",
            ],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"the previous release's code is not in this checkout's git history ({err})")
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _resources(project: Project) -> list[dict[str, Any]]:
    return project.pulumi("stack", "export").json()["deployment"]["resources"]  # type: ignore[no-any-return]


def _steps(project: Project) -> dict[str, str]:
    """URN → operation of ``pulumi preview --json`` (the engine's plan)."""
    plan = project.pulumi("preview", "--json").json()
    return {step["urn"]: step["op"] for step in plan.get("steps", [])}


def test_upgrade_from_the_dynamic_provider_keeps_every_object(
    project: Project, local_cloud: LocalCloud, moto_s3: MotoS3, cdn_api: FakeCdn, tmp_path: Path
) -> None:
    legacy = _legacy_code(tmp_path / "legacy")
    current = {name: (project.dir / name).read_text(encoding="utf-8") for name in ("__main__.py", "filings.yaml")}
    for name in current:
        (project.dir / name).write_text((legacy / name).read_text(encoding="utf-8"), encoding="utf-8")
    old = {"PYTHONPATH": str(legacy)}

    # 1. Deploy with the previous release.
    project.stack("mainland")
    project.pulumi("up", "--yes", "--skip-preview", env=old)
    before = _resources(project)
    dynamic = {r["urn"].rsplit("::", 1)[1]: r for r in before if r["type"].startswith("pulumi-python:dynamic")}
    assert set(dynamic) == {"site-content-sync", "site-verify-content", "site-domain-ownership"}
    assert all("__provider" in r["outputs"] for r in dynamic.values())
    bucket = project.pulumi("stack", "output", "bucket_name", env=old).stdout.strip()
    s3 = moto_s3.client()
    objects = s3_objects(s3, bucket)  # key → (ETag, LastModified)
    assert {"index.html", "404.html", "style.css"} <= set(objects)
    verifies = cdn_api.actions().count("VerifyDomainOwner")
    cloud_calls = len(local_cloud.calls("Create")), len(local_cloud.calls("Delete"))

    # 2. Upgrade: this version's code (the checkout's virtualenv), same stack.
    for name, text in current.items():
        (project.dir / name).write_text(text, encoding="utf-8")
    steps = _steps(project)
    by_name = {urn.rsplit("::", 1)[1]: op for urn, op in steps.items()}
    # The data-holding resources are adopted through their aliases: updated in place (the pickle dropped), never
    # created, deleted or replaced.
    for name in ("site-content-sync", "site-verify-content", "site-domain-ownership"):
        assert by_name[name] == "update", (name, steps)
    # What depends on them sees no change (the provider previews the update: same content, same manifest).
    assert {n: op for n, op in by_name.items() if op != "same"}.keys() == {
        "site-content",  # the old component wrapper, deleted
        "site-content-sync",
        "site-verify-content",
        "site-domain-ownership",
    }, steps
    assert not [u for u, op in steps.items() if op in ("replace", "create-replacement", "delete-replaced")], steps
    deleted = {urn.rsplit("::", 2)[1].rsplit("$", 1)[-1] for urn, op in steps.items() if op == "delete"}
    # Only the old component wrapper and the dynamic provider's default provider go; both hold nothing.
    assert deleted <= {"china-site:index:SiteContent", "pulumi:providers:pulumi-python"}, steps
    created = {urn for urn, op in steps.items() if op == "create"}
    assert all("pulumi:providers:china-site" in urn for urn in created), created

    project.pulumi("up", "--yes", "--skip-preview")
    assert s3_objects(s3, bucket) == objects  # no object deleted or uploaded again (same ETag and LastModified)
    assert cdn_api.actions().count("VerifyDomainOwner") == verifies  # ownership not asked again
    assert (len(local_cloud.calls("Create")), len(local_cloud.calls("Delete"))) == cloud_calls

    after = _resources(project)
    assert not [r["type"] for r in after if r["type"].startswith("pulumi-python:")]
    assert not [r["urn"] for r in after if "__provider" in (r.get("outputs") or {})]
    content = next(r for r in after if r["type"] == "china-site:index:SiteContent" and r.get("custom"))
    assert content["outputs"]["objectCount"] == len(objects)

    # 3. Afterwards: up and refresh change nothing; destroy removes our objects.
    project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    assert s3_objects(s3, bucket) == objects
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []
