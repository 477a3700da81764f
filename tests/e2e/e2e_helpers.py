"""Helpers of the e2e tests (``make e2e``): project copies, a clean CLI environment, ``pulumi`` runs.

The real Pulumi engine in the test loop.

Every test gets its own copy of the project (``Pulumi.yaml``, ``__main__.py``, the sample stacks, the pack folder, the
site folders) in a temporary directory, a file backend there (``pulumi login file://…``), its own ``PULUMI_HOME`` and
a passphrase; no network: the alicloud provider is the local cloud's plugin (``tests/e2e/localcloud``) first on PATH,
OSS is moto's S3 server on loopback, and plugin downloads are switched off.

The engine comes from ``tools/pulumi-engine.sh`` (a ``pulumi`` on PATH when recent enough, otherwise the CLI built from
Go modules into ``~/.cache/china-site`` with Pulumi's own Python language host built from its upstream source; see the
README, "make e2e").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / ".venv"
ENGINE_SCRIPT = ROOT / "tools" / "pulumi-engine.sh"
PASSPHRASE = "e2e-passphrase-not-a-secret"
# The bundled sample registry is dated around 2026-11-28 (the Makefile's DEMO_DAY): pinned for reproducible verdicts.
TODAY = "2026-11-28"
# What a project copy holds (besides the .venv link).
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "filings.yaml", "Pulumi.mainland.yaml", "Pulumi.hongkong.yaml")
PROJECT_DIRS = ("site", "site-hk", "policies")


@dataclass
class Run:
    """One finished ``pulumi`` command."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    # The engine events of the run (``--event-log``): what ``--json`` digests and the console display are made of.
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def json_lines(self) -> list[dict[str, Any]]:
        """``pulumi up --json`` (and destroy/refresh): one engine event per line."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip().startswith("{")]


@dataclass
class Project:
    """A project copy with its own backend, PULUMI_HOME and local cloud."""

    dir: Path
    env: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    def pulumi(self, *args: str, check: bool = True, timeout: float = 900, env: Mapping[str, str] | None = None) -> Run:
        cmd = ["pulumi", *args, "--non-interactive"]
        log: Path | None = None
        if args and args[0] in ("preview", "up", "refresh", "destroy"):
            log = self.dir.parent / f"events-{len(self.runs)}.jsonl"
            cmd += ["--event-log", str(log)]
        done = subprocess.run(
            cmd,
            cwd=self.dir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        run = Run(cmd, done.returncode, done.stdout, done.stderr)
        if log is not None and log.exists():
            run.events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        self.runs.append(run)
        if check and done.returncode != 0:
            pytest.fail(
                f"`{' '.join(cmd)}` exited {done.returncode}\n--- stdout\n{done.stdout[-6000:]}\n"
                f"--- stderr\n{done.stderr[-6000:]}",
                pytrace=False,
            )
        return run

    def stack(self, name: str, **config: str) -> None:
        """``pulumi stack init NAME`` (its Pulumi.NAME.yaml, if any, is already there) plus ``config set``s."""
        self.pulumi("stack", "init", name)
        self.pulumi("config", "set", "china-site:today", TODAY)
        for key, value in config.items():
            self.pulumi("config", "set", key, value)

    def china_site(
        self, *args: str, check: bool = False, stdin: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The china-site CLI of the checkout's virtualenv, run in the project copy."""
        return subprocess.run(
            [str(VENV / "bin" / "china-site"), *args],
            cwd=self.dir,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=check,
        )


def copy_project(dest: Path) -> Path:
    """The repository's project (sample program, stacks, pack, site folders) copied to ``dest``; ``.venv`` links to
    the checkout's virtualenv (where china-site is installed), which Pulumi.yaml and PulumiPolicy.yaml name."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in PROJECT_DIRS:
        # symlinks=True: a pack's `venv -> ../.venv` link stays a link (to the .venv link below), never a copy.
        shutil.copytree(ROOT / name, dest / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / ".venv").symlink_to(VENV)
    return dest


def base_env(tmp: Path, engine_bin: Path, extra_path: list[Path], extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment for the CLI: nothing of the caller's Pulumi or cloud settings leaks in."""
    keep = ("LANG", "LC_ALL", "TMPDIR", "GOCACHE", "GOMODCACHE", "GOPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    state = tmp / "state"
    state.mkdir(exist_ok=True)
    path = [str(p) for p in extra_path] + [str(engine_bin), "/usr/local/bin", "/usr/bin", "/bin"]
    env.update(
        {
            "HOME": str(home),
            "PATH": os.pathsep.join(path),
            "PULUMI_HOME": str(home / ".pulumi"),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_COPILOT": "false",
            "PULUMI_DEBUG_COMMANDS": "true",  # enables --event-log (as the Automation API does)
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "CHINA_SITE_CACHE_DIR": str(tmp / "china-site-cache"),
            # Never the real CDN API: a closed loopback port unless a test starts the fake one (conftest: cdn_api).
            "CHINA_SITE_CDN_ENDPOINT": "http://127.0.0.1:9",
            "NO_COLOR": "1",
        }
    )
    env.update(extra)
    return env


PolicyFinding = tuple[str, str, str]  # (policy name, resource URN or "" for the stack, enforcement level)


def policy_events(run_or_events: Run | list[dict[str, Any]]) -> set[PolicyFinding]:
    """The (policy, URN, enforcement level) of every policy violation the engine reported."""
    events = run_or_events.events if isinstance(run_or_events, Run) else run_or_events
    found: set[PolicyFinding] = set()
    for e in events:
        pe = e.get("policyEvent")
        if pe:
            found.add((pe["policyName"], pe.get("resourceUrn", ""), pe["enforcementLevel"]))
    return found


def s3_objects(s3: Any, bucket: str) -> dict[str, tuple[str, str]]:
    """key → (ETag, LastModified) of every object in the bucket."""
    out: dict[str, tuple[str, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["ETag"], o["LastModified"].isoformat())
    return out


def policies_passed(run: Run) -> set[tuple[str, str]]:
    """(policy, URN) of every policy the engine reports as passed on a resource ("" for stack policies)."""
    passed: set[tuple[str, str]] = set()
    for e in run.events:
        s = e.get("policyAnalyzeSummaryEvent")
        if s:
            passed |= {(p, s["resourceUrn"]) for p in s.get("passed", [])}
        st = e.get("policyAnalyzeStackSummaryEvent")
        if st:
            passed |= {(p, "") for p in st.get("passed", [])}
    return passed
