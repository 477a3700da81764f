"""The Site component from a YAML program (the china-site provider plugin, Construct), with the real engine and the
pack: ``pulumi package add``, preview, up, one edited page, destroy — and the pack's verdicts equal the Python
program's on the same stack config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from e2e_helpers import VENV, Project, policies_passed, policy_events, s3_objects
from fake_cdn_api import FakeCdn
from localcloud.fixtures import LocalCloud, MotoS3
from sample_stacks import MAINLAND_RESOURCES

ICP = "沪ICP备2021012345号-1"

# The sample program in YAML: contentDir and filings as arguments, everything else from the stack config
# (china-site:<property>), as the Python program reads it.
YAML_PROGRAM = """\
name: china-site
runtime: yaml
description: The china-site sample site from YAML.
resources:
  site:
    type: china-site:index:Site
    properties:
      contentDir: site
      filings: filings.yaml
outputs:
  url: ${site.url}
  hosting: ${site.hosting}
  region: ${site.region}
  cdn_scope: ${site.cdnScope}
  bucket_name: ${site.bucketName}
  icp_number: ${site.icpNumber}
  footer_html: ${site.footerHtml}
"""


def _as_yaml(project: Project, program: str = YAML_PROGRAM) -> Path:
    """Turn the project copy into the YAML program, with the provider added the way a user adds a package."""
    python_program = project.dir / "Pulumi.yaml"
    python_program.rename(project.dir / "Pulumi.python.yaml")
    (project.dir / "__main__.py").unlink()
    python_program.write_text(program, encoding="utf-8")
    done = project.china_site("provider-dir", check=True)
    folder = Path(done.stdout.strip())
    assert folder == Path(project.env["PULUMI_HOME"]) / "plugins" / folder.name
    add = project.pulumi("package", "add", str(folder / "pulumi-resource-china-site"))
    assert "Added package china-site" in add.output
    assert "china-site:" in python_program.read_text(encoding="utf-8").split("packages:")[1]
    return folder


def _verdicts(project: Project, program: str) -> tuple[set[Any], set[Any]]:
    # As with an activated virtualenv: its bin folder on PATH, and the engine allowed to look there.
    activated = {"PATH": f"{VENV / 'bin'}{os.pathsep}{project.env['PATH']}", "PULUMI_IGNORE_AMBIENT_PLUGINS": "false"}
    preview = project.pulumi("preview", "--policy-pack", "policies", check=False, env=activated)
    assert preview.returncode in (0, 255), preview.output[-4000:]
    assert "from $PATH" not in preview.output  # the plugin comes from Pulumi's plugin cache, as any provider's
    return policy_events(preview), policies_passed(preview)


def test_yaml_site_whole_life(
    project: Project, local_cloud: LocalCloud, moto_s3: MotoS3, cdn_api: FakeCdn, tmp_path: Path
) -> None:
    # The Python program's verdicts first (same copy, same stack config), for the comparison below.
    project.stack("mainland")
    python_violations, python_passed = _verdicts(project, "python")
    assert python_violations == set() and python_passed

    _as_yaml(project)
    yaml_violations, yaml_passed = _verdicts(project, "yaml")
    assert yaml_violations == python_violations
    assert yaml_passed == python_passed  # same URNs, same policies passed

    # up: the same resources as the Python program's, into the local cloud; no violation.
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    assert policy_events(up) == set()
    expected = {t for t, _ in MAINLAND_RESOURCES if t.startswith("alicloud:")}
    assert {r["type"] for r in local_cloud.resources()} == expected
    state = project.pulumi("stack", "export").json()
    types = {(r["type"], r["urn"].rsplit("::", 1)[1]) for r in state["deployment"]["resources"]}
    assert {(t, n) for t, n in MAINLAND_RESOURCES} <= types
    assert not [t for t, _ in types if t.startswith("pulumi-python:dynamic")]  # nothing pickled
    outputs: dict[str, Any] = project.pulumi("stack", "output", "--json").json()
    assert (outputs["hosting"], outputs["region"], outputs["cdn_scope"]) == ("mainland", "cn-shanghai", "domestic")
    assert outputs["icp_number"] == ICP and ICP in outputs["footer_html"]
    bucket = outputs["bucket_name"]
    s3 = moto_s3.client()
    objects = s3_objects(s3, bucket)
    assert {"index.html", "404.html", "style.css", "images/logo.png"} <= set(objects)

    # a second up changes nothing.
    project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", "--expect-no-changes")
    assert s3_objects(s3, bucket) == objects

    # one edited page: exactly that object uploads.
    page = project.dir / "site" / "404.html"
    page.write_text(page.read_text().replace("</body>", "<p>edited</p></body>"))
    preview = project.pulumi("preview", "--diff")
    assert "china-site:index:SiteContent" in preview.output and "404.html" in preview.output
    project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    after = s3_objects(s3, bucket)
    assert {k for k in after if after[k] != objects.get(k)} == {"404.html"} and set(after) == set(objects)

    # destroy: our objects and the cloud resources go.
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []


def test_yaml_site_gets_the_python_programs_violations(
    project: Project, local_cloud: LocalCloud, cdn_api: FakeCdn
) -> None:
    """A homepage without its filing numbers: the same icp-number-displayed violation from both programs."""
    index = project.dir / "site" / "index.html"
    html = index.read_text(encoding="utf-8")
    index.write_text(html.replace(ICP, "").replace("沪公网安备31011502012345号", ""), encoding="utf-8")
    project.stack("mainland")
    python_violations, _ = _verdicts(project, "python")
    assert {p for p, _, _ in python_violations} == {"icp-number-displayed"}
    _as_yaml(project)
    yaml_violations, _ = _verdicts(project, "yaml")
    assert yaml_violations == python_violations


def test_yaml_site_refusal_is_the_python_programs_one_line(project: Project, cdn_api: FakeCdn) -> None:
    """hosting: mainland for a domain without an approved filing: refused when the program runs, nothing created,
    the same bilingual line as from Python, no traceback."""
    project.stack("hongkong", **{"china-site:hosting": "mainland"})
    python = project.pulumi("preview", check=False)
    _as_yaml(project, YAML_PROGRAM.replace("contentDir: site", "contentDir: site-hk"))
    yaml = project.pulumi("preview", check=False)
    assert python.returncode != 0 and yaml.returncode != 0
    assert "Traceback" not in yaml.output and 'File "' not in yaml.output
    refusal = next(ln for ln in python.output.splitlines() if "no ICP filing in the registry" in ln)
    assert refusal.strip().split("error: ")[-1] in yaml.output
    assert "DomainNotRegistration" in yaml.output and "备案" in yaml.output


BACKEND_PROGRAM = """\
name: china-site
runtime: yaml
resources:
  backend:
    type: china-site:index:WebBackend
    properties:
      imageId: m-uf6backend
      certificateId: "12345678"
      instanceCount: 2
      filings: filings.yaml
  site:
    type: china-site:index:Site
    properties:
      filings: filings.yaml
      origin: ${backend.dnsName}
outputs:
  url: ${site.url}
  backendDnsName: ${backend.dnsName}
  backendRegion: ${backend.region}
"""


def test_yaml_backend_output_is_the_sites_origin(project: Project, local_cloud: LocalCloud, cdn_api: FakeCdn) -> None:
    """A WebBackend is its own component; its dnsName output (a string) is the Site's origin: the CDN fetches from
    the load balancer, and the Site waits for it."""
    project.stack("mainland")
    project.pulumi("config", "rm", "china-site:contentDir")  # a site with an origin has no bucket to upload to
    _as_yaml(project, BACKEND_PROGRAM)
    project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    outputs: dict[str, Any] = project.pulumi("stack", "output", "--json").json()
    assert outputs["backendRegion"] == "cn-shanghai" and outputs["backendDnsName"]
    [cdn] = local_cloud.resources("alicloud:cdn/domainNew:DomainNew")
    assert [(s["type"], s["content"]) for s in cdn["inputs"]["sources"]] == [("domain", outputs["backendDnsName"])]
    assert local_cloud.resources("alicloud:oss/bucket:Bucket") == []
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert local_cloud.resources() == []
