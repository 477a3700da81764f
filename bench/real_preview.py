"""Figure 7 — what the pack costs a real preview: ``pulumi preview`` of the sample mainland stack through the real
Pulumi CLI (tools/pulumi-engine.sh) and the local cloud (tests/e2e/localcloud: the alicloud provider plugin and
moto's S3), with the china-site pack vs the no-op one-policy pack (``bench/trivial_pack``), and without a pack.

Each preview runs as a user runs it, in a copy of the project with a file backend; the three variants alternate
round by round (the order rotates), after one unmeasured run of each (plugin caches, ``.pyc``). Wall time is the
command's; CPU time is user + system of the CLI and everything it started and waited for (the language host, the
program, the provider plugin, the pack), from ``getrusage(RUSAGE_CHILDREN)``. The figure is the median of the rounds.

Needs the engine: it runs with ``make bench`` (not ``--quick``; CI's smoke run has no engine).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, TRIVIAL_PACK_DIR, Sizes, check, figure, median

NAME = "real_preview"
TITLE = "pulumi preview of the mainland sample: our pack vs a one-policy pack (real CLI)"
GOAL = 1.05
ROUNDS = 7


def _engine_bin() -> Path:
    ready = Path("/work/coord/ENGINE_READY")
    done = subprocess.run(["bash", str(ROOT / "tools" / "pulumi-engine.sh")], capture_output=True, text=True)
    if done.returncode == 0 and done.stdout.strip():
        return Path(done.stdout.strip().splitlines()[-1])
    if ready.is_file():  # pragma: no cover - a shared machine's prebuilt engine
        return Path(ready.read_text().strip())
    raise RuntimeError(f"tools/pulumi-engine.sh failed: {done.stderr[-300:]}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - start, _children_cpu() - cpu, done


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests")]
    from e2e_helpers import TODAY, base_env, copy_project
    from localcloud.harness import LocalCloud, cloud_env, start_moto

    engine = _engine_bin()
    rounds = 1 if sz.quick else ROUNDS
    project = copy_project(work / "project")
    trivial = work / "trivial_pack"
    shutil.copytree(TRIVIAL_PACK_DIR, trivial)
    (trivial / "PulumiPolicy.yaml").write_text(
        (TRIVIAL_PACK_DIR / "PulumiPolicy.yaml").read_text().replace("../../.venv", str(ROOT / ".venv"))
    )
    moto = start_moto()
    try:
        state, log = work / "cloud-state", work / "cloud-calls.jsonl"
        state.mkdir()
        cloud = LocalCloud(state_dir=state, log_file=log, env=cloud_env(state, log, s3_endpoint=moto.endpoint))
        env = base_env(work, engine, [], {})
        env.update(
            {
                k: v
                for k, v in cloud.install(Path(env["PULUMI_HOME"])).items()
                if k.startswith(("LOCALCLOUD_", "CHINA_SITE_OSS_ENDPOINT", "ALIBABA_CLOUD_", "AWS_"))
            }
        )
        env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
        pulumi = str(engine / "pulumi")
        for args in (["stack", "init", "mainland"], ["config", "set", "china-site:today", TODAY]):
            subprocess.run([pulumi, *args, "--non-interactive"], cwd=project, env=env, check=True, capture_output=True)
        variants = {
            "china-site": ["--policy-pack", str(project / "policies")],
            "trivial": ["--policy-pack", str(trivial)],
            "no pack": [],
        }
        wall: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        names = list(variants)
        for i in range(rounds + 1):
            order = names[i % 3 :] + names[: i % 3]
            for name in order:
                seconds, cpu_s, done = _run([pulumi, "preview", "--non-interactive", *variants[name]], project, env)
                if done.returncode != 0:
                    raise RuntimeError(f"pulumi preview ({name}) failed: {(done.stderr or done.stdout)[-300:]}")
                if i:  # the first round warms caches, unmeasured
                    wall[name].append(seconds)
                    cpu[name].append(cpu_s)
    finally:
        moto.stop()
    primary = check(
        "preview wall time, median: ours vs the one-policy pack",
        floor=median(wall["trivial"]),
        ours=median(wall["china-site"]),
        unit="s",
        goal=GOAL,
        n=rounds,
    )
    cpu_check = check(
        "preview CPU time (CLI + plugins), median: ours vs the one-policy pack",
        floor=median(cpu["trivial"]),
        ours=median(cpu["china-site"]),
        unit="s",
        goal=GOAL,
        n=rounds,
    )
    no_pack = check(
        "preview wall time, median: ours vs no pack (informative)",
        floor=median(wall["no pack"]),
        ours=median(wall["china-site"]),
        unit="s",
        goal=float("inf"),
        n=rounds,
    )
    return figure(
        primary,
        checks=[cpu_check, no_pack],
        wall_s_by_variant={k: v for k, v in wall.items()},
        cpu_s_by_variant={k: v for k, v in cpu.items()},
        load_average=os.getloadavg(),
    )
