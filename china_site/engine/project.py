"""Project and stack configuration, read as the Pulumi CLI reads it: ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``.

:func:`read_project` gives the project's name, its program and its ``config:`` defaults; :func:`project_config` the
stack's configuration (keys without a namespace belong to the project, structured values become JSON, ``secure:``
values a placeholder or the plaintext given); :func:`available_stacks` the stacks a directory has;
:func:`resolve_filings` a registry source made absolute against the project directory. Every unusable file is an
:class:`~china_site.errors.InputError` naming the file and field. The program itself runs in
:mod:`china_site.engine.runner`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from china_site.engine.artifacts import MASKED_SECRET
from china_site.errors import InputError

__all__ = [
    "FILINGS_KEY",
    "TODAY_KEY",
    "Project",
    "available_stacks",
    "project_config",
    "read_project",
    "resolve_filings",
]

FILINGS_KEY = "china-site:filings"
TODAY_KEY = "china-site:today"


@dataclass(frozen=True)
class Project:
    """What ``Pulumi.yaml`` says: the project's name, its directory and the program to run."""

    name: str
    directory: Path
    main: Path  # a directory (run as a package: its __main__.py) or a .py file
    defaults: dict[str, str] = field(default_factory=dict)  # project-level config defaults, full keys
    secret_defaults: frozenset[str] = frozenset()


def _yaml(path: Path) -> Any:
    import yaml

    from china_site.safeio import MAX_CONFIG_BYTES, NestingError, UniqueKeyLoader, read_capped

    def refuse(why: str) -> NoReturn:
        raise InputError(f"is too large for a Pulumi project or stack file: {why}", where=str(path))

    try:
        text = read_capped(str(path), MAX_CONFIG_BYTES, refuse=refuse).decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or type(exc).__name__})", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"is not UTF-8 text (invalid byte at offset {exc.start})", where=str(path), fix="save the file as UTF-8"
        ) from None
    try:
        # SafeLoader with bounded nesting and aliases, refusing a key written twice (as the Pulumi CLI does)
        return yaml.load(text, Loader=UniqueKeyLoader)
    except NestingError as exc:
        raise InputError(f"is not usable YAML ({exc})", where=str(path), fix="write the values out") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"is not valid YAML ({problem}{at})", where=str(path), fix="correct the YAML") from None
    except (ValueError, TypeError, RecursionError) as exc:  # a value YAML cannot build, e.g. the date 2026-02-30
        raise InputError(
            f"is not valid YAML ({type(exc).__name__}: {str(exc)[:80]})",
            where=str(path),
            fix="correct the value (quote it to keep it a string, e.g. '2026-02-28')",
        ) from None


def _project_file(directory: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        if (directory / name).is_file():
            return directory / name
    raise InputError(
        "no Pulumi.yaml here, so this is not a Pulumi project",
        where=str(directory),
        fix="pass the directory that holds Pulumi.yaml (default: the current directory)",
    )


def _contains_secure(value: Any) -> bool:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return True
        return any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _replace_secure(value: Any, plaintext: str) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return plaintext
        return {k: _replace_secure(v, plaintext) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v, plaintext) for v in value]
    return value


def _full_key(raw: object, project: str) -> str:
    key = str(raw)
    return key if ":" in key else f"{project}:{key}"


def read_project(directory: str | os.PathLike[str], *, require_program: bool = True) -> Project:
    """Read ``Pulumi.yaml``. Raises InputError (one line naming the file and field) for anything unusable,
    including (with ``require_program``) a missing program."""
    from china_site.engine.mock_wire import config_text

    root = Path(directory).expanduser().resolve()
    if not root.is_dir():
        raise InputError("is not a directory", where=str(directory), fix="pass a Pulumi project directory")
    path = _project_file(root)
    doc = _yaml(path)
    if not isinstance(doc, Mapping):
        raise InputError("expected a YAML mapping", where=str(path), fix="write a Pulumi project file")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("the project has no name", where=f"{path}, field 'name'", fix="set name: <project>")
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name != "python":
        raise InputError(
            f"runtime '{runtime_name}' is not supported: preflight runs Python programs",
            where=f"{path}, field 'runtime'",
            fix="run `pulumi preview --json` and `china-site audit` on its output instead",
        )
    main = doc.get("main")
    program = root
    if main is not None:
        if not isinstance(main, str) or not main.strip():
            raise InputError("expected a path", where=f"{path}, field 'main'", fix="set main to the program's path")
        program = (root / main).resolve()
    entry = program / "__main__.py" if program.is_dir() else program
    if require_program and not entry.is_file():
        raise InputError(
            f"no Python program at {entry}",
            where=f"{path}, field 'main'" if main is not None else str(root),
            fix="add __main__.py to the project (or set main: in Pulumi.yaml)",
        )
    defaults: dict[str, str] = {}
    secret_defaults: set[str] = set()
    config = doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise InputError("expected a mapping", where=f"{path}, field 'config'", fix="write config: as key: value")
    for raw, spec in config.items():
        key = _full_key(raw, name)
        if isinstance(spec, Mapping) and ({"default", "value", "type", "secret", "description"} & set(spec)):
            value = spec.get("value", spec.get("default"))
            if spec.get("secret") is True:
                secret_defaults.add(key)
        else:
            value = spec
        if value is not None:
            defaults[key] = config_text(value)
    return Project(name=name.strip(), directory=root, main=program, defaults=defaults,
                   secret_defaults=frozenset(secret_defaults))  # fmt: skip


def available_stacks(directory: str | os.PathLike[str]) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` in ``directory``, sorted."""
    root = Path(directory)
    files = [p for p in root.glob("Pulumi.*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file()]
    names = {p.name[len("Pulumi.") : -len(p.suffix)] for p in files}
    return sorted(n for n in names if n)


def _stack_file(project: Project, stack: str) -> Path:
    short = stack.rsplit("/", 1)[-1]  # org/project/stack → stack
    for suffix in (".yaml", ".yml"):
        path = project.directory / f"Pulumi.{short}{suffix}"
        if path.is_file():
            return path
    stacks = available_stacks(project.directory)
    raise InputError(
        f"no stack '{stack}': there is no Pulumi.{short}.yaml",
        where=str(project.directory),
        fix=f"use --stack with one of: {', '.join(stacks)}" if stacks else "create Pulumi.<stack>.yaml",
    )


def project_config(
    project_dir: str | os.PathLike[str],
    stack: str,
    *,
    secrets: Mapping[str, str] | None = None,
    secret_placeholder: str = MASKED_SECRET,
) -> tuple[str, dict[str, str], list[str]]:
    """``(project name, config, secret keys)`` from ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``.

    Keys without a namespace belong to the project. Project-level ``config:`` defaults apply first, then the stack
    file. ``secure:`` values cannot be decrypted offline: their plaintext comes from ``secrets`` (by full key) or is
    ``secret_placeholder``; either way the key is listed as secret.
    """
    from china_site.engine.mock_wire import config_text

    project = read_project(project_dir, require_program=False)
    path = _stack_file(project, stack)
    doc = _yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise InputError("expected a YAML mapping", where=str(path), fix="write config: as key: value")
    raw_config = doc.get("config") or {}
    if not isinstance(raw_config, Mapping):
        raise InputError("expected a mapping", where=f"{path}, field 'config'", fix="write config: as key: value")
    config = dict(project.defaults)
    secret_keys = list(project.secret_defaults)
    for raw, value in raw_config.items():
        key = _full_key(raw, project.name)
        if _contains_secure(value):
            plaintext = (secrets or {}).get(key)
            if isinstance(value, Mapping) and set(value) == {"secure"}:
                config[key] = plaintext if plaintext is not None else secret_placeholder
            else:  # secure values inside structured config
                config[key] = config_text(_replace_secure(value, secret_placeholder))
            secret_keys.append(key)
        else:
            config[key] = config_text(value)
    return project.name, config, sorted(set(secret_keys))


def resolve_filings(source: str, base: str | os.PathLike[str]) -> str:
    """A registry source as an absolute path (relative to ``base``); URIs (``oss://``, ``s3://``) as they are."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (Path(base) / path).resolve())
