"""Engine figure — ``pulumi preview`` of the sample site (mainland stack): the ``Site`` component from a YAML program,
built by the provider plugin through Construct, vs the same component in-process in the Python program.

Both run the real engine (``tools/pulumi-engine.sh``) against the local cloud of ``tests/e2e`` (its alicloud
plugin, moto's S3 server), each in its own project copy with the same stack config, alternately, after one
unmeasured preview each (plugin start-up caches, ``.pyc``). The floor is the Python program; the ratio is what the
provider path costs on top.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from bench._common import ROOT, Sizes, check, figure, interleaved, median

NAME = "provider_preview"
TITLE = "pulumi preview: YAML via the provider vs the Python component"
GOAL = 1.5  # our proposal: a YAML user waits at most half again as long as a Python user

YAML_PROGRAM = """\
name: china-site
runtime: yaml
resources:
  site:
    type: china-site:index:Site
    properties:
      contentDir: site
      filings: filings.yaml
outputs:
  url: ${site.url}
"""


def _engine_bin() -> Path:
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "pulumi-engine.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/pulumi-engine.sh failed: {done.stderr.strip()[-300:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    sys.path.insert(0, str(ROOT / "tests"))
    from e2e_helpers import TODAY, VENV, Project, base_env, copy_project
    from localcloud.harness import LocalCloud, cloud_env, start_moto

    engine = _engine_bin()
    moto = start_moto()
    try:
        projects: dict[str, Project] = {}
        for kind in ("python", "yaml"):
            base = work / kind
            state_dir, log = base / "localcloud-state", base / "localcloud-calls.jsonl"
            state_dir.mkdir(parents=True)
            cloud = LocalCloud(
                state_dir=state_dir, log_file=log, env=cloud_env(state_dir, log, s3_endpoint=moto.endpoint)
            )
            env = base_env(base, engine, [], {})
            installed = cloud.install(Path(env["PULUMI_HOME"]))
            env.update({k: v for k, v in installed.items() if k.startswith(("LOCALCLOUD_", "CHINA_SITE_OSS", "AWS_"))})
            env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
            project = Project(copy_project(base / "project"), env)
            if kind == "yaml":
                (project.dir / "__main__.py").unlink()
                (project.dir / "Pulumi.yaml").write_text(YAML_PROGRAM, encoding="utf-8")
                folder = subprocess.run(
                    [str(VENV / "bin" / "china-site"), "provider-dir"], env=env, capture_output=True, text=True
                ).stdout.strip()
                project.pulumi("package", "add", f"{folder}/pulumi-resource-china-site")
            project.pulumi("stack", "init", "mainland")
            project.pulumi("config", "set", "china-site:today", TODAY)
            projects[kind] = project

        def preview(kind: str) -> Any:
            return lambda: projects[kind].pulumi("preview")

        preview("python")()
        preview("yaml")()
        rounds = 2 if sz.quick else 5
        floor_times, our_times, _, _ = interleaved(rounds, preview("python"), preview("yaml"))
    finally:
        moto.stop()
    primary = check(
        "preview of the mainland sample, median",
        floor=median(floor_times),
        ours=median(our_times),
        unit="s",
        goal=GOAL,
        n=rounds,
    )
    return figure(primary, python_s=floor_times, yaml_s=our_times)
