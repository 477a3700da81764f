"""Which Pulumi project a policy pack is judging: the folder a relative registry path starts from.

Pulumi's Python language host starts a policy pack **in the pack's own folder** (``python -u -m pulumi.policy
<engine> <pack dir>``, working directory = the pack), never in the project's. The engine tells the pack the project's
*name* (``ConfigureStack``; ``PULUMI_PROJECT`` in its environment) and the stack config, but not the project's
folder. What the pack can see of it:

1. ``CHINA_SITE_PROJECT_DIR`` in the environment, when the user sets it (explicit, always wins);
2. the working folder of the pack's parent process: the language host, which the CLI starts in the project's
   program folder (its root, or the folder ``main:`` names) — read through ``psutil`` (``/proc`` on Linux);
3. ``PWD``, the folder the shell ran ``pulumi`` from (stale under ``pulumi -C DIR`` or the Automation API);
4. the pack's own folder (a pack kept inside the project).

A candidate counts only when the nearest ``Pulumi.yaml`` at or above it names **the project the engine runs**
(``PULUMI_PROJECT``): a pack folder that happens to sit inside *another* project (the checkout's ``policies/`` beside
its sample project) must never read that project's registry. When no candidate fits, the folder is unknown, and a
relative registry path gets a finding that says so and how to fix it — never a guess.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "PROJECT_DIR_ENV",
    "ProjectDir",
    "find_project_dir",
    "locate_project_dir",
    "parent_working_dir",
    "project_name",
]

PROJECT_DIR_ENV: Final = "CHINA_SITE_PROJECT_DIR"
_PROJECT_FILES: Final = ("Pulumi.yaml", "Pulumi.yml")
_MAX_PROJECT_FILE: Final = 1 << 20  # a Pulumi.yaml larger than 1 MiB is not read for its name


@dataclass(frozen=True)
class ProjectDir:
    """The project folder (``path``) and how it was found (``how``, for messages); ``path`` is None when unknown,
    and ``how`` then says what was tried."""

    path: Path | None
    how: str


def _project_file(directory: Path) -> Path | None:
    for name in _PROJECT_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def find_project_dir(start: Path | str) -> Path:
    """The nearest directory at or above ``start`` holding a ``Pulumi.yaml`` (or ``.yml``), else ``start``."""
    begin = Path(start).resolve()
    for candidate in (begin, *begin.parents):
        if _project_file(candidate) is not None:
            return candidate
    return begin


_NAME_LINE = re.compile(r"^name\s*:\s*(.*?)\s*$")


def project_name(directory: Path) -> str | None:
    """The ``name:`` of the ``Pulumi.yaml`` in ``directory`` (None when absent, unreadable or nameless).

    Read with YAML when the top-level ``name:`` line is not a plain scalar (quotes, anchors): the usual file costs no
    YAML import on the pack's start-up path."""
    path = _project_file(directory)
    if path is None:
        return None
    try:
        if path.stat().st_size > _MAX_PROJECT_FILE:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        found = _NAME_LINE.match(line)
        if found is None:
            continue
        value = found.group(1).split(" #", 1)[0].strip()
        if value and value[0] not in "'\"&*!{[|>":
            return value
        break
    try:
        import yaml

        data = yaml.safe_load(text)
    except Exception:  # a broken Pulumi.yaml: the engine would not have run it; not our project
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def parent_working_dir() -> Path | None:
    """The working folder of this process's parent (the language host that started the pack), or None."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency; a broken install falls back to the others
        proc = Path(f"/proc/{os.getppid()}/cwd")
        try:
            return Path(os.readlink(proc))
        except OSError:
            return None
    try:
        return Path(psutil.Process(os.getppid()).cwd())
    except Exception:  # gone, no permission, unsupported platform
        return None


def locate_project_dir(
    environ: Mapping[str, str],
    *,
    cwd: Path,
    parent_cwd: Callable[[], Path | None] = parent_working_dir,
) -> ProjectDir:
    """The folder of the Pulumi project a pack started by the engine is judging (see the module docstring)."""
    explicit = environ.get(PROJECT_DIR_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if _project_file(path) is None:
            return ProjectDir(None, f"{PROJECT_DIR_ENV}={explicit} holds no Pulumi.yaml")
        return ProjectDir(path.resolve(), f"environment {PROJECT_DIR_ENV}")
    wanted = environ.get("PULUMI_PROJECT") or None
    tried: list[str] = []
    candidates: list[tuple[str, Callable[[], Path | None]]] = [
        ("the language host's working folder", parent_cwd),
        ("PWD", lambda: Path(environ["PWD"]) if environ.get("PWD") else None),
        ("the policy pack's folder", lambda: cwd),
    ]
    for how, get in candidates:
        start = get()
        if start is None:
            continue
        found = find_project_dir(start)
        name = project_name(found)
        if name is None:
            tried.append(f"{how}: no Pulumi.yaml")
            continue
        if wanted is None or name == wanted:
            return ProjectDir(found, how)
        tried.append(f"{how}: project '{name}'")
    target = f"project '{wanted}'" if wanted else "the Pulumi project"
    return ProjectDir(None, f"no folder of {target} found ({'; '.join(tried) or 'nothing to look at'})")
