"""The pack and one check: load the CrossGuard pack in-process and run it over records as the engine would.

:func:`load_pack` imports the china-site pack (or a stand-in pack folder); :func:`shared_policy_config` sets the
command line's ``filings``/``today`` on every policy; :func:`reset_pack_state` starts each check with a fresh pack
state; :func:`check` runs :func:`china_site.engine.driver.evaluate` and adds a program's refusal findings. Every message
of a report goes through :func:`message_redactor` (secret values, what a policy derives from them, credentials in
URLs). :func:`omission_diagnostics` and :func:`provider_gap_diagnostics` are the mandatory findings for an artifact
that leaves resources or their providers out. Running a program is :mod:`china_site.engine.runner`'s.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from china_site.engine.artifacts import MASKED_SECRET, Artifact, Record, parse_urn, secret_strings
from china_site.engine.pipeline import gap_finding
from china_site.engine.project import FILINGS_KEY, TODAY_KEY, resolve_filings
from china_site.errors import InputError

if TYPE_CHECKING:
    from pulumi_policy import Policy

    from china_site.engine.driver import Diagnostic, Evaluation
    from china_site.engine.runner import ProgramRefusal

__all__ = [
    "ADAPTER_MODULE",
    "PACK_MODULE",
    "PROVIDER_NOT_IN_ARTIFACT",
    "RESOURCES_NOT_IN_ARTIFACT",
    "Checked",
    "Pack",
    "check",
    "load_pack",
    "message_redactor",
    "omission_diagnostics",
    "provider_gap_diagnostics",
    "reset_pack_state",
    "shared_policy_config",
]


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
    from china_site.engine.runner import refusal_diagnostics

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


def _redact(text: str, secrets: Iterable[str]) -> str:
    for value in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(value, MASKED_SECRET)
    return text


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

    stack = artifact.stack or "?"
    if artifact.kind == "events" and artifact.events_cut_off:
        return [
            gap_finding(
                RESOURCES_NOT_IN_ARTIFACT,
                artifact,
                (
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
        gap_finding(
            RESOURCES_NOT_IN_ARTIFACT,
            artifact,
            (
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

    out: list[Diagnostic] = []
    for gap in artifact.missing_providers:
        rec = gap.record
        provider = parse_urn(gap.provider_urn)
        what = f"{rec.type} '{rec.name}'"
        out.append(
            gap_finding(
                PROVIDER_NOT_IN_ARTIFACT,
                artifact,
                record=rec,
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
