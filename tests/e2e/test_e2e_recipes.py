"""The CI recipes (docs/recipes) run command for command in a scratch repository that is not this checkout, with the
real CLI and the local cloud (issue 21, item 3).

The scratch repository is a user's: the sample program and its stack ``prod``, a ``requirements.txt`` asking for
``china-site[components]``, no link to this checkout's virtualenv. Each recipe's own commands run as the CI runner
would run them (``bash -eo pipefail`` for GitHub's ``shell: bash``; the job's ``before_script`` and ``script`` lines
in one shell for GitLab), except the steps that install the runner's tools (the Pulumi CLI comes from the engine).
The team's package index is a local stand-in: pip's main index switched off and a folder holding china-site's wheel
(rebuilt from this installation) and the dependencies (the e2e wheelhouse).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from e2e_helpers import ROOT, TODAY, Project, copy_project
from localcloud.fixtures import LocalCloud
from test_e2e_published_pack import wheels  # noqa: F401  (the fixture: the dependency wheelhouse)

RECIPES = ROOT / "docs" / "recipes"
RUNNER_TOOLS = ("get.pulumi.com", 'export PATH="$HOME/.pulumi/bin')  # the runner's own Pulumi CLI install


@pytest.fixture
def repo(tmp_path: Path, cloud_env: dict[str, str], wheels: tuple[Path, Path]) -> Project:  # noqa: F811
    from china_site.publishdir import build_wheel, wheel_name

    folder = copy_project(tmp_path / "repo")
    (folder / ".venv").unlink()  # the user's runner builds its own virtualenv
    shutil.rmtree(folder / "policies")
    (folder / "Pulumi.mainland.yaml").rename(folder / "Pulumi.prod.yaml")
    (folder / "Pulumi.hongkong.yaml").unlink()
    (folder / "requirements.txt").write_text("pulumi>=3.260,<4\nchina-site[components]>=0.1,<0.2\n")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    index = tmp_path / "team-index"
    index.mkdir()
    (index / wheel_name()).write_bytes(build_wheel())
    _dist, house = wheels
    tools = tmp_path / "runner-bin"  # what actions/setup-python (or the python image) puts on PATH
    tools.mkdir()
    (tools / "python").symlink_to(Path(getattr(sys, "_base_executable", sys.executable)))
    env = {
        **cloud_env,
        "PATH": f"{tools}{os.pathsep}{cloud_env['PATH']}",
        "PIP_NO_INDEX": "1",  # stands for the team's index: china-site's wheel and the dependencies, nothing else
        "PIP_FIND_LINKS": f"{index} {house}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    project = Project(folder, env)
    project.pulumi("stack", "init", "prod")
    project.pulumi("config", "set", "china-site:today", TODAY)
    return project


def _bash(project: Project, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=project.dir,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def test_the_github_recipe_runs_in_a_users_repository(repo: Project, local_cloud: LocalCloud) -> None:
    workflow = yaml.safe_load((RECIPES / "github-actions.yml").read_text(encoding="utf-8"))
    assert workflow["defaults"]["run"]["shell"] == "bash"  # what `bash -eo pipefail` stands for
    runs = [step["run"] for step in workflow["jobs"]["audit"]["steps"] if "run" in step]
    assert len(runs) == 3  # install, preview, audit
    for script in runs:
        done = _bash(repo, script)
        assert done.returncode == 0, f"{script}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    installed = _bash(repo, ".venv/bin/python -c 'import china_site; print(china_site.__file__)'").stdout.strip()
    assert Path(installed).is_relative_to(repo.dir / ".venv")  # from the wheel, not this checkout
    sarif = json.loads((repo.dir / "china-site.sarif").read_text(encoding="utf-8"))
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "china-site" and run["results"] == []  # the mainland sample is filed
    assert run["properties"]["summary"]["resources"] > 5


def test_the_gitlab_recipe_runs_in_a_users_repository(repo: Project, local_cloud: LocalCloud) -> None:
    job = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text(encoding="utf-8"))["china-site"]
    lines = [line for line in job["before_script"] + job["script"] if not any(t in line for t in RUNNER_TOOLS)]
    variables = "".join(f"export {name}={value}\n" for name, value in job.get("variables", {}).items())
    # masked project variables, as GitLab hands them to the job
    secrets = "export ALIBABA_CLOUD_ACCESS_KEY_ID=$LOCALCLOUD_KEY ALIBABA_CLOUD_ACCESS_KEY_SECRET=$LOCALCLOUD_SECRET\n"
    done = _bash(repo, secrets.replace("$LOCALCLOUD_KEY", "test-key").replace("$LOCALCLOUD_SECRET", "test-secret")
                 + variables + "\n".join(lines))  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    junit = ET.parse(repo.dir / job["artifacts"]["reports"]["junit"]).getroot()
    assert junit.tag == "testsuites" and int(junit.get("tests", "0")) > 0 and junit.get("failures") == "0"
    quality = json.loads((repo.dir / job["artifacts"]["reports"]["codequality"]).read_text(encoding="utf-8"))
    assert quality == []  # nothing to report on the filed mainland sample


def test_a_recipe_fails_the_job_on_a_mandatory_finding(repo: Project, local_cloud: LocalCloud) -> None:
    workflow = yaml.safe_load((RECIPES / "github-actions.yml").read_text(encoding="utf-8"))
    install, preview, audit = [step["run"] for step in workflow["jobs"]["audit"]["steps"] if "run" in step]
    assert _bash(repo, install).returncode == 0 and _bash(repo, preview).returncode == 0
    # the same plan judged against a registry that lost the domain's filing: the step fails, the SARIF is written
    (repo.dir / "empty.yaml").write_text("version: 1\nentities: {}\nsites: []\n")
    done = _bash(repo, audit.replace("audit plan.json", "audit plan.json --filings empty.yaml"))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    sarif = json.loads((repo.dir / "china-site.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert ("icp-filing-required", "error") in {(r["ruleId"], r["level"]) for r in results}
