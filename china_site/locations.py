"""Where reports point: relative file locations for SARIF, and registry sources as the user named them.

Nothing here prints an absolute path of the machine that ran the check: a file is named relative to the repository
root (the nearest directory holding ``.git``, else the working directory), a registry by the form the user gave
(relative path, ``oss://…``, ``s3://…``).

Pulumi records where each resource was registered (``sourcePosition`` in ``pulumi stack export`` and in the
``newState`` of ``pulumi preview --json`` steps): ``project:///<path relative to the Pulumi project>#<line>[,<column>]``
for files of the project, ``file:///<absolute path>#…`` otherwise (pkg/resource/deploy/source_eval.go).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from china_site.engine.artifacts import Record
    from china_site.report import SourceSpot

_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class SourcePosition(NamedTuple):
    scheme: str  # "project" or "file"
    path: str  # project-relative (project) or absolute (file), POSIX form
    line: int | None
    column: int | None


def base_dir(cwd: Path | None = None) -> Path:
    """What report URIs are relative to: the repository root around ``cwd`` (GitHub resolves SARIF locations from
    there), else ``cwd`` itself."""
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def relative_uri(path: Path, base: Path) -> str | None:
    """``path`` as a relative URI under ``base`` (POSIX separators), or None when it lies outside."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def parse_source_position(value: object) -> SourcePosition | None:
    """Pulumi's ``sourcePosition`` (``project:///main.py#12,5``), or None when absent or not in that form."""
    if not isinstance(value, str) or not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("project", "file"):
        return None
    path = unquote(parts.netloc + parts.path) if parts.scheme == "project" else unquote(parts.path)
    if not path.strip("/"):
        return None
    line_text, _, column_text = parts.fragment.partition(",")
    line = int(line_text) if line_text.isdigit() and int(line_text) > 0 else None
    column = int(column_text) if column_text.isdigit() and int(column_text) > 0 else None
    return SourcePosition(parts.scheme, path, line, column)


def _program_spot(position: SourcePosition, project_dir: Path | None, base: Path) -> SourceSpot | None:
    from china_site.report import SourceSpot

    if position.scheme == "project":
        if project_dir is None:
            return None
        file = project_dir / position.path.lstrip("/")
    else:
        file = Path(position.path)
    if {"site-packages", "dist-packages"} & set(file.parts):  # inside an installed library: not the user's code
        return None
    uri = relative_uri(file, base)
    if uri is None or not file.is_file():  # outside the repository, or not in this checkout: not a place to show
        return None
    return SourceSpot(uri, line=position.line or 1, column=position.column)


def source_spots(
    records: Iterable[Record], *, project_dir: Path | None, base: Path | None = None
) -> dict[str, SourceSpot]:
    """URN → the program line that registered the resource. A resource registered outside the repository (inside a
    component library) takes the position of its nearest ancestor that has one: the line in the user's program."""
    base = base or base_dir()
    records = list(records)
    own: dict[str, SourceSpot] = {}
    parents: dict[str, str | None] = {}
    for record in records:
        parents[record.urn] = record.parent
        position = parse_source_position(getattr(record, "source_position", None))
        spot = _program_spot(position, project_dir, base) if position else None
        if spot is not None:
            own[record.urn] = spot
    spots: dict[str, SourceSpot] = {}
    for record in records:
        urn: str | None = record.urn
        seen: set[str] = set()
        while urn is not None and urn not in seen:
            seen.add(urn)
            if urn in own:
                spots[record.urn] = own[urn]
                break
            urn = parents.get(urn)
    return spots


def artifact_spots(text: str, urns: Iterable[str], uri: str) -> dict[str, SourceSpot]:
    """URN → the line of the audited file where the resource's ``"urn"`` is written (its first occurrence)."""
    from china_site.report import SourceSpot

    spots: dict[str, SourceSpot] = {}
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for urn in urns:
        for encoded in dict.fromkeys((json.dumps(urn, ensure_ascii=False), json.dumps(urn))):
            match = re.search(r'"urn"\s*:\s*' + re.escape(encoded), text)
            if match is None:
                continue
            offset = match.start()
            line = _bisect(starts, offset)
            spots[urn] = SourceSpot(uri, line=line + 1, column=offset - starts[line] + 1)
            break
    return spots


def _bisect(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo


def file_uri(given: str, base: Path | None = None) -> str:
    """A file the user named, as a relative URI: relative to ``base`` when inside it, else as given when given
    relative, else its file name (never the machine's absolute path)."""
    base = base or base_dir()
    path = Path(given)
    uri = relative_uri(path, base)
    if uri is not None:
        return uri
    return path.as_posix() if not path.is_absolute() else path.name


def display_source(source: str, *, project_dir: Path | None = None, cwd: Path | None = None) -> str:
    """How messages name a registry: ``oss://…``/``s3://…`` as they are; a relative path as given; an absolute path
    relative to the working directory or the Pulumi project when inside one of them, else relative to the project
    (the same text from the CLI and from the pack's own process) — never the machine's absolute path."""
    if _REMOTE.match(source):
        return source
    path = Path(source)
    if not path.is_absolute():
        return path.as_posix()
    cwd = (cwd or Path.cwd()).resolve()
    anchors = [cwd] + ([project_dir.resolve()] if project_dir else [])
    for anchor in anchors:
        uri = relative_uri(path, anchor)
        if uri is not None:
            return uri
    try:
        return Path(os.path.relpath(path, anchors[-1])).as_posix()
    except ValueError:  # another drive (Windows)
        return path.name


_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "venv", ".venv", "__pycache__", ".tox", ".mypy_cache"})
_SCAN_DEPTH = 4  # how deep below the working folder a monorepo's Pulumi projects are looked for
_SCAN_LIMIT = 2000  # folders visited at most (a huge tree is not walked; the working folder is used)


def _project_name(folder: Path) -> str | None:
    """The ``name:`` of ``folder/Pulumi.yaml`` (or ``.yml``), read without a YAML parser (a top-level scalar)."""
    for file_name in ("Pulumi.yaml", "Pulumi.yml"):
        try:
            text = (folder / file_name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = re.search(r"^name:[ \t]*['\"]?([^'\"#\r\n]+?)['\"]?[ \t]*(?:#.*)?$", text, re.MULTILINE)
        return match.group(1).strip() if match else ""
    return None


def locate_project(project: str | None, *, near: Iterable[Path] = (), cwd: Path | None = None) -> Path | None:
    """The folder of the ``Pulumi.yaml`` a run came from: at or above one of ``near`` (the audited file's folder)
    or the working folder; else, in a monorepo, the one folder below the working folder whose ``Pulumi.yaml`` names
    ``project``. None when there is none, or more than one candidate below (ambiguous: pass --project-root)."""
    start = (cwd or Path.cwd()).resolve()
    for origin in (*near, start):
        begin = origin.resolve()
        for candidate in (begin, *begin.parents):
            name = _project_name(candidate)
            if name is not None and (not project or not name or name == project):
                return candidate
    if not project:
        return None
    found: list[Path] = []
    for visited, (folder, dirs, _files) in enumerate(os.walk(start), start=1):
        depth = len(Path(folder).relative_to(start).parts)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and depth < _SCAN_DEPTH)
        if visited > _SCAN_LIMIT:
            return None
        if _project_name(Path(folder)) == project:
            found.append(Path(folder))
    return found[0] if len(found) == 1 else None
