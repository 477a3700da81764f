"""The real consumers of our reports and recipes, installed by the tests into a cache outside the checkout.

* Microsoft's SARIF Multitool (npm ``@microsoft/sarif-multitool-linux``, a self-contained .NET executable: no .NET
  runtime needed), run with GitHub's rules (``--rule-kind "Sarif;Gh"``).
* actionlint (Go module ``github.com/rhysd/actionlint/cmd/actionlint``), built with ``go install``.

Cache: ``$CHINA_SITE_CACHE``, else ``$XDG_CACHE_HOME/china-site``, else ``~/.cache/china-site``. Installing is
serialised with a file lock (pytest-xdist workers share the cache). A tool that cannot be installed raises
:class:`ToolUnavailable` with the reason; the tests turn it into a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

MULTITOOL_PACKAGE = "@microsoft/sarif-multitool-linux"
MULTITOOL_VERSION = "5.7.0"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint"
ACTIONLINT_VERSION = "v1.7.12"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


class ToolUnavailable(RuntimeError):
    """A consumer tool could not be installed or run (the message says why and how to fix it)."""


def cache_dir() -> Path:
    explicit = os.environ.get("CHINA_SITE_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "china-site"


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: Sequence[str | Path], *, what: str, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ToolUnavailable(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------------------------
# SARIF Multitool


def multitool() -> Path:
    """The Multitool executable, installed from npm on first use."""
    if not sys.platform.startswith("linux"):
        raise ToolUnavailable(f"{MULTITOOL_PACKAGE} runs on Linux x64 only (this is {sys.platform})")
    prefix = cache_dir() / f"sarif-multitool-{MULTITOOL_VERSION}"
    exe = prefix / "node_modules" / MULTITOOL_PACKAGE / "Sarif.Multitool"
    with _locked("sarif-multitool"):
        if not exe.is_file():
            npm = shutil.which("npm")
            if npm is None:
                raise ToolUnavailable(
                    f"npm not found: install Node.js (npm) so the tests can install {MULTITOOL_PACKAGE}"
                )
            _run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    prefix,
                    f"{MULTITOOL_PACKAGE}@{MULTITOOL_VERSION}",
                ],
                what=f"npm install {MULTITOOL_PACKAGE}@{MULTITOOL_VERSION}",
                timeout=900,
            )
            if not exe.is_file():
                raise ToolUnavailable(f"npm installed {MULTITOOL_PACKAGE} but {exe} is missing")
        exe.chmod(0o755)  # the package's postinstall (chmod u+x) does not run where npm blocks install scripts
    version = _run([exe, "--version"], what="Sarif.Multitool --version", timeout=120)
    if MULTITOOL_VERSION not in version:
        raise ToolUnavailable(f"expected SARIF Multitool {MULTITOOL_VERSION}, found: {version.strip()}")
    return exe


def _network_isolation() -> list[str]:
    """``unshare -rn``: the Multitool fetches the ``$schema`` URI of every log it validates; in a namespace
    without network it gets nowhere (and the vendored schema is used). Empty when unavailable."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    try:
        ok = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return [unshare, "-rn"] if ok else []


def validate_sarif(files: Sequence[Path], workdir: Path) -> dict[str, list[str]]:
    """Run ``Sarif.Multitool validate --rule-kind "Sarif;Gh"`` once over ``files``; file name → its problems
    (errors and warnings, ``RULE level: message``), plus ``"<tool>"`` for the Multitool's own notifications."""
    exe = multitool()
    isolate = _network_isolation()
    targets = list(files)
    if not isolate:  # no network namespace: point $schema at the vendored copy, so nothing is fetched
        copies = workdir / "offline"
        copies.mkdir(parents=True, exist_ok=True)
        targets = []
        for f in files:
            doc = json.loads(f.read_text(encoding="utf-8"))
            doc["$schema"] = SARIF_SCHEMA.as_uri()
            (copies / f.name).write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
            targets.append(copies / f.name)
    out = workdir / "multitool-results.sarif"
    cmd = [*isolate, exe, "validate", *targets, "--json-schema", SARIF_SCHEMA, "--rule-kind", "Sarif;Gh"]
    cmd += ["--output", out, "--log", "ForceOverwrite", "--quiet"]
    _run(cmd, what="Sarif.Multitool validate", timeout=600)
    return _problems(json.loads(out.read_text(encoding="utf-8-sig")), [t.name for t in targets])


def _problems(log: dict[str, Any], names: list[str]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {name: [] for name in names}
    problems["<tool>"] = []
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for result in run.get("results", []):
            level = result.get("level", "warning")
            if level not in ("error", "warning"):
                continue
            uri = result.get("locations", [{}])[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
            name = Path(uri).name if uri else "<tool>"
            problems.setdefault(name, []).append(f"{result.get('ruleId')} {level}: {_text(result, rules)}")
        for invocation in run.get("invocations", []):
            for note in invocation.get("toolExecutionNotifications", []) + invocation.get(
                "toolConfigurationNotifications", []
            ):
                problems["<tool>"].append(str(note.get("message", {}).get("text", note)))
            if invocation.get("executionSuccessful") is False:
                problems["<tool>"].append("executionSuccessful: false")
    return problems


def _text(result: dict[str, Any], rules: list[dict[str, Any]]) -> str:
    message = result.get("message", {})
    if "text" in message:
        return str(message["text"])
    index = result.get("ruleIndex")
    template = ""
    if isinstance(index, int) and 0 <= index < len(rules):
        template = rules[index].get("messageStrings", {}).get(message.get("id", ""), {}).get("text", "")
    args = message.get("arguments", [])
    for i, arg in enumerate(args):
        template = template.replace("{" + str(i) + "}", str(arg))
    return template or f"{message.get('id')} {args}"


# ---------------------------------------------------------------------------------------------------------------
# actionlint


def actionlint() -> Path:
    """actionlint, built from its Go module on first use (``go install`` into the cache's ``bin``)."""
    bin_dir = cache_dir() / "bin"
    exe = bin_dir / "actionlint"
    with _locked("actionlint"):
        if not exe.is_file() or _actionlint_version(exe) != ACTIONLINT_VERSION:
            go = shutil.which("go")
            if go is None:
                raise ToolUnavailable("go not found: install Go (1.22 or later) so the tests can build actionlint")
            env = {**os.environ, "GOBIN": str(bin_dir), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
            _run(
                [go, "install", f"{ACTIONLINT_MODULE}@{ACTIONLINT_VERSION}"],
                what=f"go install {ACTIONLINT_MODULE}@{ACTIONLINT_VERSION}",
                timeout=1200,
                env=env,
            )
    found = _actionlint_version(exe)
    if found != ACTIONLINT_VERSION:
        raise ToolUnavailable(f"expected actionlint {ACTIONLINT_VERSION}, found {found or 'nothing'} at {exe}")
    return exe


def _actionlint_version(exe: Path) -> str | None:
    try:
        out = subprocess.run([str(exe), "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.stdout.strip().splitlines()
    return first[0].strip() if first else None


def run_actionlint(files: Sequence[Path]) -> tuple[int, str]:
    """(exit code, output) of actionlint over workflow files (0 = clean, 1 = problems found)."""
    exe = actionlint()
    done = subprocess.run(
        [str(exe), "-no-color", *[str(f) for f in files]], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode not in (0, 1):
        raise ToolUnavailable(f"actionlint failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.returncode, done.stdout + done.stderr
