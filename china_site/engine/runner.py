"""The mock runner behind ``china-site preflight``: run a Pulumi Python program offline and judge it with the pack.

:func:`run_program` executes a project directory (``Pulumi.yaml`` + ``Pulumi.<stack>.yaml``) the way Pulumi's Python
host does, but under :mod:`china_site.engine.mocks` instead of an engine: no Pulumi CLI, no credentials, no network.
Every registration becomes an artifact :class:`~china_site.engine.artifacts.Record` in the **engine's own form**, so
the pack driver (:func:`china_site.engine.driver.evaluate`) hands the same Policy objects exactly what ``pulumi preview
--policy-pack policies`` would:

* URNs ``urn:pulumi:<stack>::<project>::<parent type chain$type>::<name>`` (no Stack in the chain), the
  ``pulumi:pulumi:Stack`` root (``<project>-<stack>``) carrying the stack outputs, default providers
  (``pulumi:providers:<pkg>::default_<version>``, inputs = the stack's ``<pkg>:*`` config + ``version``) registered
  before their first user;
* inputs as they crossed the wire (camelCase names, secrets as the secret signature map, unknowns as sentinels),
  dependencies and property dependencies, resource options;
* outputs: the inputs plus plausible computed values (bucket endpoints, CDN cname, EIP address, ALB DNS name, …), so
  stack policies that follow DNS records to what they point at see realistic values.

Configuration. ``Pulumi.yaml`` gives the project name, the runtime (Python only) and ``main``; its ``config:`` block
gives project defaults; ``Pulumi.<stack>.yaml`` the stack's values (keys without a namespace belong to the project,
structured values become JSON, as Pulumi passes them). ``secure:`` values cannot be decrypted offline: the program
sees the placeholder ``[secret]`` (or the plaintext given in ``secrets=``), the key is a secret key, and the pack
sees ``[secret]`` — a secret never reaches a message, a log or a report.

Verdicts about the program itself. A program can refuse at program time: ``Site(hosting="mainland")`` raises
:class:`china_site.hosting.HostingError` for a domain the rules do not allow. That is a compliance verdict, not a
crash: :attr:`RunResult.refusal` carries it (message, the refusing component's URN, the policies named in the
message) and :func:`refusal_diagnostics` turns it into mandatory findings filed under that URN — policy
``icp-filing-required`` unless the message names others (``[commercial-permit-required] …``). Any other failure
is :class:`ProgramError` (a :class:`~china_site.errors.ChinaSiteError`, one line; exit 2 in the CLI): a config
error the program reports (``china-site:domain`` missing), or a real crash (its exception type and message, the
traceback only with ``--debug``).

Isolation. Each run has its own thread, event loop and context (Pulumi's config, settings, mocks and root stack
are context variables): two runs in one process never see each other. Python modules the program imports stay
imported for the process, as in any Python process.
"""

from __future__ import annotations

import datetime as dt
import heapq
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from china_site.engine.artifacts import (
    MASKED_SECRET,
    PROVIDER_TYPE_PREFIX,
    STACK_TYPE,
    Artifact,
    ProviderRef,
    Record,
    RecordOptions,
    parse_urn,
    root_stack_urn,
    secret_strings,
)
from china_site.errors import ChinaSiteError, InputError

if TYPE_CHECKING:
    from pulumi_policy import Policy

    from china_site.engine.driver import Diagnostic, Evaluation
    from china_site.engine.mocks import LogEntry, ProgramRun, Recorder, Registration
    from china_site.model import Finding

__all__ = [
    "FILINGS_KEY",
    "TODAY_KEY",
    "Pack",
    "PlanRow",
    "ProgramError",
    "ProgramRefusal",
    "Project",
    "RunResult",
    "available_stacks",
    "check",
    "load_pack",
    "message_redactor",
    "plan",
    "project_config",
    "read_project",
    "refusal_diagnostics",
    "reset_pack_state",
    "resolve_filings",
    "run_program",
    "shared_policy_config",
]

FILINGS_KEY = "china-site:filings"
TODAY_KEY = "china-site:today"
_PROGRAM_FIX = "fix the program or its stack configuration, then run preflight again"


class ProgramError(ChinaSiteError):
    """The program could not run to the end for a reason that is not a compliance verdict (exit 2)."""


# ---------------------------------------------------------------------------------------------------------------
# Project and stack configuration


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
    from china_site.engine.mocks import config_text

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
    from china_site.engine.mocks import config_text

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


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ProgramRefusal:
    """A program-time compliance refusal (e.g. ``Site(hosting="mainland")`` for an unfiled domain).

    ``urn``/``type``/``name``: the refusing component as the engine would have named it (it was never registered);
    the root Stack when it cannot be told. ``message``: the program's own one-line message (bilingual, secrets
    redacted). ``policies``: the policies the message names (``[policy-name]``), else ``icp-filing-required``.
    """

    message: str
    urn: str
    type: str
    name: str
    policies: tuple[str, ...]
    what: str = ""
    fix: str | None = None
    where: str | None = None
    findings: tuple[Finding, ...] = ()  # the rules' mandatory findings behind the refusal (secrets redacted)
    head: str = ""

    @property
    def headline(self) -> str:
        """The refusal's first sentence, for a one-line summary."""
        head = self.head.strip().rstrip(":").strip()
        if not head:
            return self.message
        return f"{self.where}: {head}" if self.where else head


@dataclass
class RunResult:
    """What one offline run produced. ``config`` is the stack config as the pack should see it: secret values masked
    as ``[secret]`` and a relative ``china-site:filings`` made absolute against the project directory."""

    records: list[Record]
    outputs: dict[str, Any]
    config: dict[str, str]
    project: str
    stack: str
    secret_keys: frozenset[str] = frozenset()
    refusal: ProgramRefusal | None = None
    logs: list[LogEntry] = field(default_factory=list)
    directory: Path | None = None

    @property
    def stack_urn(self) -> str:
        return root_stack_urn(self.stack, self.project)


# ---------------------------------------------------------------------------------------------------------------
# Running


def resolve_filings(source: str, base: str | os.PathLike[str]) -> str:
    """A registry source as an absolute path (relative to ``base``); URIs (``oss://``, ``s3://``) as they are."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (Path(base) / path).resolve())


def run_program(
    directory: str | os.PathLike[str],
    stack: str,
    *,
    config_overrides: Mapping[str, Any] | None = None,
    filings: str | None = None,
    secrets: Mapping[str, str] | None = None,
    preview: bool = True,
) -> RunResult:
    """Run the Pulumi Python program in ``directory`` with stack ``stack``'s config, offline, and record it.

    ``config_overrides``: extra or replaced config (``key`` → value; keys without a namespace are the project's).
    ``filings``: overrides ``china-site:filings`` (a relative path is relative to ``directory``). ``secrets``:
    plaintext for ``secure:`` keys (full key → value; otherwise the program sees ``[secret]``). ``preview``: run as
    ``pulumi preview`` does (``pulumi.runtime.is_dry_run()``; outputs the mocks do not give stay unknown).

    Returns a :class:`RunResult` — with :attr:`~RunResult.refusal` set when the program refused at program time
    (a compliance verdict). Raises :class:`ProgramError` for every other program failure and
    :class:`~china_site.errors.InputError` for unusable project or stack files.
    """
    from china_site.engine.mocks import config_text, run_mocked

    project = read_project(directory)
    name, config, secret_keys = project_config(project.directory, stack, secrets=secrets)
    secret_set = set(secret_keys)
    for raw, value in (config_overrides or {}).items():
        key = _full_key(raw, name)
        config[key] = config_text(value)
        secret_set.discard(key)
    if filings is not None:
        config[FILINGS_KEY] = resolve_filings(filings, project.directory)
        secret_set.discard(FILINGS_KEY)
    secret_values = {config[k] for k in secret_set if k in config and config[k] != MASKED_SECRET}

    run = run_mocked(
        project.main,
        config,
        project=name,
        stack=stack,
        preview=preview,
        secret_keys=sorted(secret_set),
        cwd=project.directory,
        check=False,
    )
    refusal = None
    if run.error is not None:
        refusal = _classify_failure(run, project, stack, secret_values)

    pack_config = {k: (MASKED_SECRET if k in secret_set else v) for k, v in config.items()}
    if FILINGS_KEY in pack_config and pack_config[FILINGS_KEY] != MASKED_SECRET:
        pack_config[FILINGS_KEY] = resolve_filings(pack_config[FILINGS_KEY], project.directory)
    logs = [replace(e, message=_redact(e.message, secret_values)) for e in run.recorder.logs]
    records = records_of(run.recorder)
    stack_record = next((r for r in records if r.type == STACK_TYPE), None)
    outputs = dict(stack_record.outputs or {}) if stack_record else {}
    return RunResult(
        records=records,
        outputs=outputs,
        config=pack_config,
        project=name,
        stack=stack,
        secret_keys=frozenset(secret_set),
        refusal=refusal,
        logs=logs,
        directory=project.directory,
    )


def _redact(text: str, secrets: Iterable[str]) -> str:
    for value in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(value, MASKED_SECRET)
    return text


def _classify_failure(run: ProgramRun, project: Project, stack: str, secrets: set[str]) -> ProgramRefusal:
    """A HostingError is a refusal (returned); everything else raises ProgramError (one line)."""
    import pulumi

    from china_site.hosting import HostingError

    err = run.error
    assert err is not None
    where = f"program {project.main}, stack '{stack}'"
    if isinstance(err, HostingError):
        return _refusal(err, run.recorder, project.name, stack, secrets)
    if isinstance(err, ChinaSiteError):
        raise ProgramError(f"the program stopped: {_redact(err.line(), secrets)}", where=where, fix=None) from err
    if isinstance(err, pulumi.RunError):
        first = _redact(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__, secrets)
        raise ProgramError(f"the program stopped: {first}", where=where, fix=_PROGRAM_FIX) from err
    detail = _redact(str(err).strip().splitlines()[0] if str(err).strip() else "", secrets)[:300]
    location = _program_location(err, project.directory)
    raise ProgramError(
        f"the program crashed with {type(err).__name__}{': ' + detail if detail else ''}{location}",
        where=where,
        fix="fix the program (run `china-site --debug preflight …` for the traceback)",
    ) from err


def _program_location(err: BaseException, directory: Path) -> str:
    """`` (at file:line)`` of the innermost traceback frame inside the project directory, if any."""
    tb = err.__traceback__
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        try:
            rel = Path(filename).resolve().relative_to(directory)
        except (ValueError, OSError):
            rel = None
        if rel is not None and ".venv" not in rel.parts and "site-packages" not in rel.parts:
            found = f" (at {rel}:{tb.tb_lineno})"
        tb = tb.tb_next
    return found


def _refusal(err: ChinaSiteError, recorder: Recorder, project: str, stack: str, secrets: set[str]) -> ProgramRefusal:
    from china_site.model import ICP_FILING_REQUIRED

    urn, rtype, name = _refusing_component(err, recorder, project, stack)
    findings = tuple(
        replace(
            f,
            message_en=_redact(f.message_en, secrets),
            message_zh=_redact(f.message_zh, secrets),
            fix=_redact(f.fix, secrets),
        )
        for f in getattr(err, "findings", ())
    )
    policies = tuple(dict.fromkeys(f.policy for f in findings)) or (ICP_FILING_REQUIRED,)
    return ProgramRefusal(
        message=_redact(err.line(), secrets),
        urn=urn,
        type=rtype,
        name=name,
        policies=policies,
        what=_redact(err.what, secrets),
        fix=_redact(err.fix, secrets) if err.fix else None,
        where=_redact(err.where, secrets) if err.where else None,
        findings=findings,
        head=_redact(getattr(err, "headline", ""), secrets),
    )


def _type_token_of(obj: object, module_globals: Mapping[str, Any]) -> str | None:
    """A component's type token before ``super().__init__`` ran: a ``pkg:module:ClassName`` string constant in the
    class or the module its constructor lives in (``SITE_TYPE = "china-site:index:Site"``)."""
    cls = type(obj)
    pattern = re.compile(rf"[^\s:$]+:[^\s:$]*:{re.escape(cls.__name__)}")
    for namespace in (vars(cls), module_globals):
        for value in namespace.values():
            if isinstance(value, str) and pattern.fullmatch(value):
                return value
    return None


def _refusing_component(err: BaseException, recorder: Recorder, project: str, stack: str) -> tuple[str, str, str]:
    """(urn, type, name) of the innermost component whose constructor the error left, as the engine would have named
    it; the root Stack when there is none."""
    import pulumi

    from china_site.engine.mocks import engine_urn

    found: tuple[str, str, str] | None = None
    tb = err.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        tb = tb.tb_next
        if frame.f_code.co_name != "__init__":
            continue
        obj = frame.f_locals.get("self")
        if not isinstance(obj, pulumi.ComponentResource):
            continue
        rtype = getattr(obj, "_type", None) or _type_token_of(obj, frame.f_globals)
        name = getattr(obj, "_name", None) or frame.f_locals.get("name") or frame.f_locals.get("resource_name")
        if not isinstance(rtype, str) or not isinstance(name, str):
            continue
        parent_urn = ""
        opts = frame.f_locals.get("opts")
        parent = getattr(opts, "parent", None) if opts is not None else None
        if parent is not None:
            ptype, pname = getattr(parent, "_type", None), getattr(parent, "_name", None)
            matches = [r.urn for r in recorder.registrations if r.type == ptype and r.name == pname]
            parent_urn = matches[0] if len(matches) == 1 else ""
        found = (engine_urn(stack, project, parent_urn, rtype, name), rtype, name)
    if found is not None:
        return found
    return root_stack_urn(stack, project), STACK_TYPE, f"{project}-{stack}"


def refusal_diagnostics(refusal: ProgramRefusal, policies: Sequence[Policy] = ()) -> list[Diagnostic]:
    """The refusal as mandatory findings, one per finding behind it, in the engine's message shape
    (the policy's description, a newline, then English, Chinese, the Alibaba Cloud error, the fix)."""
    from china_site.engine.driver import Diagnostic

    descriptions = {p.name: p.description for p in policies}
    bodies: list[tuple[str, list[str]]] = [(f.policy, f.message.splitlines()) for f in refusal.findings]
    if not bodies:
        bodies = [
            (
                policy,
                [
                    f"The program refused at program time: {refusal.what}",
                    "程序在部署前拒绝了该配置（见上一行的英文说明），未创建任何资源。",
                ],
            )
            for policy in refusal.policies
        ]
    diagnostics: list[Diagnostic] = []
    for policy, body in bodies:
        lines = [
            *body,
            "Nothing was deployed: the program refused before registering the resource. / "
            "程序在注册资源之前即拒绝部署，未创建任何资源。",
        ]
        if refusal.fix:
            lines.append(f"Program fix: {refusal.fix}")
        message = "\n".join(lines)
        if descriptions.get(policy):
            message = f"{descriptions[policy]}\n{message}"
        diagnostics.append(Diagnostic(policy, "mandatory", refusal.urn, refusal.type, refusal.name, message))
    return diagnostics


# ---------------------------------------------------------------------------------------------------------------
# Registrations → records


def _record(reg: Registration, recorder: Recorder) -> Record:
    provider = None
    if reg.custom and not reg.type.startswith(PROVIDER_TYPE_PREFIX) and reg.type != STACK_TYPE:
        prov = recorder.provider_of(reg)
        if prov is not None:
            provider = ProviderRef(prov.urn, prov.type, prov.name, dict(prov.wire_inputs))
    if reg.type == STACK_TYPE:
        outputs: dict[str, Any] | None = dict(recorder.wire_outputs.get(reg.urn, {}))
    elif reg.custom:
        outputs = dict(reg.wire_outputs)
    else:  # components: what they passed to register_outputs
        outputs = dict(recorder.wire_outputs.get(reg.urn, {}))
    return Record(
        urn=reg.urn,
        type=reg.type,
        name=reg.name,
        custom=reg.custom,
        inputs=dict(reg.wire_inputs),
        outputs=outputs,
        provider=provider,
        parent=reg.parent or None,
        # The SDK collects dependencies in sets: sorted, so two runs of one program give the same records.
        dependencies=tuple(sorted(set(reg.dependencies))),
        property_dependencies={k: tuple(sorted(set(v))) for k, v in sorted(reg.property_dependencies.items()) if v},
        op="read" if reg.read else "create",
        external=reg.read,
        options=RecordOptions(
            protect=reg.protect,
            ignore_changes=reg.ignore_changes,
            aliases=reg.aliases,
            additional_secret_outputs=reg.additional_secret_outputs,
            custom_timeouts=reg.custom_timeouts,
        ),
        source_position=reg.source_position or None,
    )


def records_of(recorder: Recorder) -> list[Record]:
    """Every registration as a record, in a deterministic order the engine could have seen: the Stack first, then
    each resource after its parent, its provider and its dependencies (ties by URN). The SDK registers from several
    threads, so the raw order varies from run to run; this one does not."""
    regs = {r.urn: r for r in recorder.registrations}
    before: dict[str, set[str]] = {urn: set() for urn in regs}
    for reg in regs.values():
        needs = {reg.parent, *reg.dependencies, *(u for us in reg.property_dependencies.values() for u in us)}
        ref = reg.effective_provider or reg.provider
        if ref:
            needs.add(ref.rsplit("::", 1)[0])
        before[reg.urn] = {u for u in needs if u and u in regs and u != reg.urn}
    after: dict[str, list[str]] = {urn: [] for urn in regs}
    for urn, needs in before.items():
        for need in needs:
            after[need].append(urn)
    pending = {urn: len(needs) for urn, needs in before.items()}
    ready = [(0 if regs[u].type == STACK_TYPE else 1, u) for u, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, urn = heapq.heappop(ready)
        order.append(urn)
        for nxt in after[urn]:
            pending[nxt] -= 1
            if pending[nxt] == 0:
                heapq.heappush(ready, (1, nxt))
    order += sorted(u for u in regs if u not in set(order))  # a cycle cannot happen; never drop a resource
    return [_record(regs[urn], recorder) for urn in order]


# ---------------------------------------------------------------------------------------------------------------
# The plan (what the table shows before the verdicts)


@dataclass(frozen=True)
class PlanRow:
    urn: str
    type: str
    name: str
    region: str | None  # None: not a regional resource (components, other clouds)
    area: str | None  # mainland | hongkong | overseas (the core's reading); None: not applicable
    area_note: str = ""  # e.g. "region unknown: treated as mainland"
    cdn_scope: str | None = None
    public: bool | None = None
    domains: tuple[str, ...] = ()


def _text(value: Any) -> str | None:
    from china_site.exposure_values import _reveal

    value = _reveal(value)
    return value if isinstance(value, str) and value else None


def plan(records: Sequence[Record], stack_config: Mapping[str, str] | None = None) -> list[PlanRow]:
    """What each resource is and where it is served from, read by the compliance core (``china_site.exposure``):
    every record except the root Stack. Secret values (and what derives from a secret host name) are masked."""
    from china_site.exposure import RESOURCE_TYPES, exposure_from_resource, is_default_provider, region_of
    from china_site.regions import classify

    forms = _secret_forms(records)

    def mask(text: str | None) -> str | None:
        return text if text is None or not forms else _redact(text, forms)

    rows: list[PlanRow] = []
    for record in records:
        if record.type == STACK_TYPE:
            continue
        package = record.type.split(":", 1)[0]
        if record.type.startswith(PROVIDER_TYPE_PREFIX):
            package = record.type[len(PROVIDER_TYPE_PREFIX) :]
        if package != "alicloud":
            rows.append(PlanRow(record.urn, record.type, record.name, None, None))
            continue
        provider_props = record.inputs if record.is_provider else (record.provider.inputs if record.provider else None)
        provider_name = record.name if record.is_provider else (record.provider.name if record.provider else None)
        explicit = provider_name is not None and not is_default_provider(provider_name)
        exposure = None
        if not record.is_provider:
            exposure = exposure_from_resource(
                record.type,
                record.inputs,
                name=record.name,
                provider_props=provider_props,
                stack_config=stack_config,
                explicit_provider=explicit,
            )
        spec = RESOURCE_TYPES.get(record.type) if exposure is not None else None
        scope_key = spec.area_property if spec is not None and spec.area_kind == "scope" else None
        scope = _text(record.inputs.get(scope_key)) if scope_key else None
        if exposure is not None and exposure.region is None and scope is not None:
            area, note, region = exposure.area, f"by {'CDN scope' if scope_key == 'scope' else scope_key} {scope}", None
        elif exposure is not None:
            area, region = exposure.area, exposure.region
            note = "region unknown: treated as mainland" if exposure.region_guessed else ""
            if exposure.region_guessed and exposure.region_note:
                note = f"region unknown ({exposure.region_note}): treated as mainland"
        else:
            region, _source = region_of(provider_props, stack_config, explicit_provider=explicit)
            info = classify(region)
            area, region = info.area, info.region_id
            note = "region unknown: treated as mainland" if info.guessed else ""
        rows.append(
            PlanRow(
                record.urn,
                record.type,
                record.name,
                mask(region),
                area,
                note,
                mask(scope),
                exposure.public if exposure is not None else None,
                tuple(mask(d) or "" for d in exposure.domains) if exposure is not None else (),
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The pack and a check


@dataclass(frozen=True)
class Pack:
    policies: list[Policy]
    name: str
    directory: Path
    enforcement: str = "advisory"


ADAPTER_MODULE = "china_site.policies._adapter"
PACK_MODULE = "china_site.policies.pack"


def load_pack(directory: str | os.PathLike[str] | None = None) -> Pack:
    """Import the china-site CrossGuard pack (``china_site.policies.pack``: ``POLICIES``) in-process, as the same
    Policy objects ``python -m pulumi.policy`` serves from the pack folder. ``directory`` (or
    ``$CHINA_SITE_POLICY_PACK``) names another pack folder whose ``pack.py`` defines ``POLICIES`` (tests and
    benchmarks use it for stand-in packs)."""
    import importlib

    chosen = directory if directory is not None else os.environ.get("CHINA_SITE_POLICY_PACK")
    if chosen is None or (
        (Path(chosen).expanduser() / "__main__.py").is_file() and not (Path(chosen).expanduser() / "pack.py").is_file()
    ):
        module = importlib.import_module(PACK_MODULE)
        pack_dir = Path(module.__file__ or ".").resolve().parent
    else:
        pack_dir = Path(chosen).expanduser().resolve()
        entry = pack_dir / "pack.py"
        if not entry.is_file():
            raise InputError(
                "no china-site policy pack here (no pack.py)",
                where=str(pack_dir),
                fix="unset CHINA_SITE_POLICY_PACK to use the installed pack (china_site.policies), or point it at a "
                "pack folder with a pack.py",
            )
        loaded = sys.modules.get("pack")
        if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() != entry.resolve():
            raise InputError(
                f"another module named 'pack' is already imported ({getattr(loaded, '__file__', '?')})",
                where=str(entry),
                fix="rename the other module",
            )
        if str(pack_dir) not in sys.path:
            sys.path.insert(0, str(pack_dir))
        module = importlib.import_module("pack")
    policies = list(getattr(module, "POLICIES", []))
    if not policies:
        raise InputError("the pack defines no POLICIES", where=str(pack_dir), fix="fix the policy pack")
    adapter = sys.modules.get(ADAPTER_MODULE)
    name = str(getattr(module, "PACK_NAME", None) or getattr(adapter, "PACK_NAME", "china-site"))
    return Pack(policies=policies, name=name, directory=pack_dir)


def shared_policy_config(
    policies: Sequence[Policy], config: Mapping[str, Any] | None, shared: Mapping[str, Any]
) -> dict[str, Any]:
    """``config`` (a ``--policy-pack-config`` document) with ``shared`` keys (``filings``, ``today`` from the
    command line) set on every policy, so a command-line flag wins over the file and over stack config."""
    out: dict[str, Any] = dict(config or {})
    if not shared:
        return out
    for policy in policies:
        entry = out.get(policy.name)
        if isinstance(entry, str):
            merged: dict[str, Any] = {"enforcementLevel": entry}
        elif isinstance(entry, Mapping):
            merged = dict(entry)
        else:
            merged = {}
        merged.update(shared)
        out[policy.name] = merged
    return out


def reset_pack_state() -> None:
    """Start each check as the engine starts each run: with a fresh pack process. The pack keeps per-process state
    (loaded registries, failures not yet reported by ``filing-registry-available``, resolved settings); in one
    process running several checks (tests, a long-lived caller) that state must not carry over from one run to the
    next. Uses the pack's ``reset_run_state()`` when it has one."""
    adapter = sys.modules.get(ADAPTER_MODULE)
    if adapter is None:
        return
    reset = getattr(adapter, "reset_run_state", None)
    if callable(reset):
        reset()
        return
    take = getattr(adapter, "take_registry_failures", None)
    if callable(take):
        take()
    for name in ("_REGISTRIES", "_SETTINGS"):
        cache = getattr(adapter, name, None)
        if isinstance(cache, dict):
            cache.clear()


@dataclass
class Checked:
    """One check: the evaluation, the refusal findings (if any) and everything a report needs."""

    evaluation: Evaluation
    diagnostics: list[Diagnostic]
    records: list[Record]
    pack: Pack
    stack: str | None
    project: str | None
    stack_config: dict[str, str]


def check(
    records: Sequence[Record],
    *,
    pack: Pack,
    stack_config: Mapping[str, str] | None,
    policy_config: Mapping[str, Any] | None = None,
    config_source: str = "policy config",
    filings: str | None = None,
    today: dt.date | None = None,
    refusal: ProgramRefusal | None = None,
    stack: str | None = None,
    project: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[Iterable[Record], int], Iterable[Record]] | None = None,
) -> Checked:
    """Run the pack over ``records`` as the engine would (:func:`china_site.engine.driver.evaluate`).

    ``filings``/``today`` (command-line flags) reach every policy as the shared config keys — in the stack config
    (``china-site:filings``/``china-site:today``) and in the policy config of every policy (so they win).
    A ``refusal`` adds its mandatory findings first. ``project_dir``: the Pulumi project the records come from; a
    relative ``china-site:filings`` is read from there, and without any registry setting the pack's documented
    default applies to *that* project: its ``filings.yaml`` (a missing file is a mandatory finding, never a pass).
    """
    from china_site.engine.driver import evaluate

    reset_pack_state()
    config = dict(stack_config or {})
    if project_dir is not None:
        current = config.get(FILINGS_KEY)
        if current is None:
            config[FILINGS_KEY] = str(Path(project_dir).resolve() / "filings.yaml")
        elif current != MASKED_SECRET:
            config[FILINGS_KEY] = resolve_filings(current, project_dir)
    shared: dict[str, Any] = {}
    if filings is not None:
        config[FILINGS_KEY] = filings
        shared["filings"] = filings
    if today is not None:
        config[TODAY_KEY] = today.isoformat()
        shared["today"] = today.isoformat()
    policy_doc = shared_policy_config(pack.policies, policy_config, shared)
    evaluation = evaluate(
        pack.policies,
        records,
        config=policy_doc,
        pack_enforcement=pack.enforcement,
        pack_name=pack.name,
        config_source=config_source,
        stack_config=config,
        progress=progress,
    )
    diagnostics = _redact_derived(list(evaluation.diagnostics), records)
    if refusal is not None:
        diagnostics = refusal_diagnostics(refusal, pack.policies) + diagnostics
    return Checked(evaluation, diagnostics, list(records), pack, stack, project, config)


def _derived_forms(text: str) -> set[str]:
    """What a policy message may show of a secret host name: its ASCII and Unicode forms and its registrable
    domain ("Fix: file example.cn …"). Other secrets have no derived forms."""
    from china_site import domains

    forms: set[str] = set()
    candidate = text.strip().lower()
    if not candidate or any(c.isspace() for c in candidate) or "." not in candidate or len(candidate) > 253:
        return forms
    try:
        ascii_host = domains.to_ascii(candidate)
        forms |= {ascii_host, domains.to_unicode(ascii_host)}
        registrable = domains.registrable_domain(ascii_host)
        if registrable:
            forms |= {registrable, domains.to_unicode(registrable)}
    except Exception:  # not a host name: nothing derived
        return set()
    return {f for f in forms if f and len(f) >= 3}


def _secret_forms(records: Sequence[Record]) -> set[str]:
    """Every plaintext secret of the records and what a message may derive from it."""
    secrets = secret_strings(records, min_length=3)
    forms = set(secrets)
    for text in secrets:
        forms |= _derived_forms(text)
    return forms


def message_redactor(records: Sequence[Record]) -> Callable[[str], str]:
    """The one redaction every message of a report goes through, ours and the engine's alike: the records' secret
    values and what a policy may derive from them (the registrable domain of a secret host name) become
    ``[secret]``, and credentials in any URL (user info, token parameters) become ``***``."""
    from china_site.redact import redact_urls

    forms = _secret_forms(records) if secret_strings(records, min_length=3) else set()

    def redact(text: str) -> str:
        return redact_urls(_redact(text, forms) if forms else text)

    return redact


def _redact_derived(diagnostics: list[Diagnostic], records: Sequence[Record]) -> list[Diagnostic]:
    """The driver redacts secret values it finds verbatim; a policy can also print what it *derived* from a secret
    (the registrable domain of a secret host name), or a URL with credentials. Redact those too: a secret never
    reaches a report."""
    secrets = secret_strings(records, min_length=3)
    redact = message_redactor(records)
    out = []
    for d in diagnostics:
        message = redact(d.message)
        name = _redact(d.name, secrets)
        out.append(d if (message, name) == (d.message, d.name) else replace(d, message=message, name=name))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Artifacts that leave a resource's provider out (a preview without --show-sames)

PROVIDER_NOT_IN_ARTIFACT = "provider-not-in-artifact"


RESOURCES_NOT_IN_ARTIFACT = "resources-not-in-artifact"


def omission_diagnostics(artifact: Artifact) -> list[Diagnostic]:
    """One mandatory stack-level finding when a preview leaves out unchanged resources (no ``--show-sames``).

    The engine judges every resource at each preview (a waiver that expired, a filing that lapsed, a new registry all
    change verdicts without changing the resource), so an audit that judged only the listed ones would pass silently
    where ``pulumi preview --policy-pack`` fails. Found by the real-engine suite (tests/e2e/test_e2e_audit.py)."""
    from china_site.engine.driver import Diagnostic

    stack = artifact.stack or "?"
    if artifact.kind == "events" and artifact.events_cut_off:
        return [
            Diagnostic(
                policy=RESOURCES_NOT_IN_ARTIFACT,
                enforcement="mandatory",
                urn="",
                type="pulumi:pulumi:Stack",
                name=f"{artifact.project or '?'}-{stack}",
                message=(
                    "The engine events must be a whole run: every run of the engine ends with a summaryEvent, and "
                    f"{artifact.source or 'the artifact'} has none, so it was cut off (a killed job, a partial "
                    "upload) and resources after the cut were not checked.\n"
                    "该事件文件没有 summaryEvent（引擎每次运行都以它结束），说明文件被截断，截断之后的资源未被检查。\n"
                    "Fix: save the whole output of `pulumi up --json` / `pulumi preview --json` (or every event the "
                    "Automation API's on_event received), or audit the state: `pulumi stack export --file state.json`."
                ),
            )
        ]
    n = artifact.omitted_unchanged
    if artifact.kind != "preview" or n <= 0:
        return []
    return [
        Diagnostic(
            policy=RESOURCES_NOT_IN_ARTIFACT,
            enforcement="mandatory",
            urn="",
            type="pulumi:pulumi:Stack",
            name=f"{artifact.project or '?'}-{stack}",
            message=(
                f"The preview must list every resource the policy pack judges: {n} unchanged resource(s) of stack "
                f"'{stack}' are counted in {artifact.source or 'the artifact'} (changeSummary.same) but not listed, "
                "so they were not checked — the engine checks them at every preview.\n"
                f"该预览统计了 {n} 个未变更的资源（changeSummary.same），但没有列出它们，因此未检查这些资源。\n"
                "Fix: run `pulumi preview --json --show-sames > plan.json`, or audit the current state: "
                "`pulumi stack export --file state.json` and `china-site audit state.json`."
            ),
        )
    ]


def provider_gap_diagnostics(artifact: Artifact) -> list[Diagnostic]:
    """One mandatory finding per resource whose explicit provider the artifact lacks (and ``--state`` did not give).

    Mandatory because nothing can be said for such a resource — its region decides whether ICP rules apply — so the
    audit fails closed; but it says *why* (the artifact is incomplete) and how to fix it, instead of reading the
    missing region as mainland and reporting an ICP violation that may not exist. The resource is not judged by the
    pack at all (``Artifact.judged_records``).
    """
    from china_site.engine.driver import Diagnostic

    out: list[Diagnostic] = []
    for gap in artifact.missing_providers:
        rec = gap.record
        provider = parse_urn(gap.provider_urn)
        what = f"{rec.type} '{rec.name}'"
        out.append(
            Diagnostic(
                policy=PROVIDER_NOT_IN_ARTIFACT,
                enforcement="mandatory",
                urn=rec.urn,
                type=rec.type,
                name=rec.name,
                message=(
                    "The artifact must carry every resource's provider: its region decides whether China's filing "
                    "rules apply.\n"
                    f"{what} uses the explicit provider '{provider.name}' ({gap.provider_urn}), which is not in "
                    f"{artifact.source or 'the artifact'}: its region, and so whether it serves mainland China, is "
                    "unknown, so it was not checked (it is not read as mainland).\n"
                    f"{what} 使用的显式 provider '{provider.name}' 不在该文件中，无法确定其地域（是否在中国内地提供"
                    "服务），因此未检查该资源。\n"
                    "Fix: run `pulumi preview --json --show-sames > plan.json` (a preview without --show-sames "
                    "leaves out unchanged resources, explicit providers included), or also pass the current state: "
                    "`pulumi stack export --file state.json` and `china-site audit plan.json --state state.json`."
                ),
            )
        )
    return out
