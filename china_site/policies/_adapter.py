"""The pack's only glue: pulumi_policy arguments → the core's values, the core's findings → violations.

No rule lives here. Per call a policy (1) resolves its settings (``china_site.policy_config``), (2) turns the
engine's properties into plain values (unknown markers → ``china_site.exposure.UNKNOWN``, secrets unwrapped for
reading only), (3) asks ``china_site.exposure`` for the :class:`~china_site.model.Exposure`, (4) runs the core rules
whose findings this pack policy reports, (5) applies waivers and reports each finding's bilingual message.

Routing. Pulumi's Python SDK fixes the enforcement level per *policy*, not per violation, so the core's
(policy, enforcement) pairs are routed to pack policies: the advisory PSB finding (inside the grace window) goes to
``psb-filing-due``, the advisory "public but no domain tied to it" ICP finding to ``untied-mainland-exposure``;
every other pair goes to the pack policy of the same name (so a mandatory finding is never reported as advisory).

Registry failure. The registry is loaded once per process and source (failures cached too). When it cannot be
used, resource policies report nothing and mark themselves not applicable; ``filing-registry-available`` (stack,
mandatory) reports every failed source of the run — fail closed, one clear violation instead of one per resource.

Never a crash: an unexpected exception inside a policy becomes a violation of that policy naming the resource and
the exception type (fail closed for mandatory policies); the traceback goes to stderr only with CHINA_SITE_DEBUG=1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypedDict, Unpack

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from china_site.model import (
    COMMERCIAL_PERMIT_REQUIRED,
    DOMAIN_ELIGIBLE,
    FILED_DOMAIN_OFF_MAINLAND,
    FILING_REGISTRY_AVAILABLE,
    ICP_FILING_REQUIRED,
    ICP_NUMBER_DISPLAYED,
    PSB_FILING_REQUIRED,
    Exposure,
    Finding,
)

if TYPE_CHECKING:
    from china_site.filings import FilingRegistry
    from china_site.policy_config import PackSettings

PACK_NAME: Final = "china-site"

# Pack-only policy names (the SDK's one-level-per-policy constraint; see the module docstring).
PSB_FILING_DUE: Final = "psb-filing-due"
UNTIED_MAINLAND_EXPOSURE: Final = "untied-mainland-exposure"
DNS_LINKED_EXPOSURE: Final = "dns-linked-exposure"

# (core policy, enforcement) → pack policy. Pairs not listed go to the pack policy of the core policy's name.
ROUTES: Final[Mapping[tuple[str, str], str]] = {
    (ICP_FILING_REQUIRED, "mandatory"): ICP_FILING_REQUIRED,
    (ICP_FILING_REQUIRED, "advisory"): UNTIED_MAINLAND_EXPOSURE,
    (PSB_FILING_REQUIRED, "mandatory"): PSB_FILING_REQUIRED,
    (PSB_FILING_REQUIRED, "advisory"): PSB_FILING_DUE,
    (COMMERCIAL_PERMIT_REQUIRED, "mandatory"): COMMERCIAL_PERMIT_REQUIRED,
    (DOMAIN_ELIGIBLE, "mandatory"): DOMAIN_ELIGIBLE,
    (FILED_DOMAIN_OFF_MAINLAND, "advisory"): FILED_DOMAIN_OFF_MAINLAND,
    (ICP_NUMBER_DISPLAYED, "advisory"): ICP_NUMBER_DISPLAYED,
}

# Types whose CDN scope ``icp-filing-required`` may rewrite to ``overseas`` (enforcement ``remediate``).
SCOPE_REMEDIABLE_TYPES: Final = frozenset(
    {"alicloud:cdn/domainNew:DomainNew", "alicloud:cdn/domain:Domain", "alicloud:dcdn/domain:Domain"}
)
# Homepage-footer inputs (SiteContent's dynamic resource, or any resource that carries them).
DISPLAY_KEYS: Final = ("icpNumberDisplayed", "psbNumberDisplayed")


def route(finding: Finding) -> str:
    """The pack policy that reports a core finding."""
    return ROUTES.get((finding.policy, finding.enforcement), finding.policy)


@functools.cache
def core_rules_for(pack_policy: str) -> tuple[str, ...]:
    """The core rules whose findings may be routed to ``pack_policy``."""
    names = [core for (core, _), target in ROUTES.items() if target == pack_policy]
    if pack_policy not in names and pack_policy in {core for core, _ in ROUTES}:
        names.append(pack_policy)  # the fallback route (unlisted enforcement)
    return tuple(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------------------------
# Logging (stderr only: stdout carries the port line)

_LOGGED: set[str] = set()
_LOG_LOCK = threading.Lock()


def log_once(message: str) -> None:
    with _LOG_LOCK:
        if message in _LOGGED:
            return
        _LOGGED.add(message)
    sys.stderr.write(f"china-site: {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------------
# Stack config: PULUMI_CONFIG (set by the engine for analyzers), overlaid with ConfigureStack's config when the
# engine sends it (pack.py forwards it here).

_ENGINE_STACK_CONFIG: dict[str, Any] = {"config": None, "secrets": frozenset(), "version": 0}
# The last (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS, engine config version) read, and what it gave: the environment
# is parsed again only when one of them changes (every policy asks on every call).
_STACK_CONFIG_CACHE: dict[str, Any] = {"key": None, "value": None}
_STACK_CONFIG_LOCK = threading.Lock()


def set_engine_stack_config(config: Mapping[str, str], secret_keys: Iterable[str]) -> None:
    with _STACK_CONFIG_LOCK:
        _ENGINE_STACK_CONFIG["config"] = dict(config)
        _ENGINE_STACK_CONFIG["secrets"] = frozenset(secret_keys)
        _ENGINE_STACK_CONFIG["version"] += 1


def _stack_config_keyed() -> tuple[tuple[Any, ...], dict[str, str], frozenset[str]]:
    """(key, stack config, secret keys); the key changes whenever the result may. Raises InputError like
    ``read_stack_config`` (never cached). Read once per request inside a request scope."""
    memo = _request_memo()
    if memo is not None and "stack" in memo:
        return memo["stack"]  # type: ignore[no-any-return]
    found = _read_stack_config_keyed()
    if memo is not None:
        memo["stack"] = found
    return found


def _read_stack_config_keyed() -> tuple[tuple[Any, ...], dict[str, str], frozenset[str]]:
    key = (
        os.environ.get("PULUMI_CONFIG"),
        os.environ.get("PULUMI_CONFIG_SECRET_KEYS"),
        _ENGINE_STACK_CONFIG["version"],
    )
    with _STACK_CONFIG_LOCK:
        if _STACK_CONFIG_CACHE["key"] == key:
            config, secrets = _STACK_CONFIG_CACHE["value"]
            return key, config, secrets
    from china_site.policy_config import read_stack_config

    config, secrets = read_stack_config(os.environ)
    with _STACK_CONFIG_LOCK:
        engine = _ENGINE_STACK_CONFIG["config"]
        if engine:
            config = {**config, **engine}
            secrets = secrets | _ENGINE_STACK_CONFIG["secrets"]
        key = (*key[:2], _ENGINE_STACK_CONFIG["version"])
        _STACK_CONFIG_CACHE["key"], _STACK_CONFIG_CACHE["value"] = key, (config, secrets)
    return key, config, secrets


def stack_config() -> tuple[dict[str, str], frozenset[str]]:
    """The stack config and its secret keys (a fresh copy of the config: callers may change it)."""
    _key, config, secrets = _stack_config_keyed()
    return dict(config), secrets


# ---------------------------------------------------------------------------------------------------------------
# Settings (cached per policy and config)

_SETTINGS: dict[tuple[Any, ...], PackSettings] = {}
_SETTINGS_LOCK = threading.Lock()


def _config_key(config: Mapping[str, Any]) -> Any:
    """A hashable key equal for equal configs: the items themselves when every value is a plain scalar (the usual
    ``filings``/``today``), else canonical JSON. Raises TypeError/ValueError when neither works."""
    items = sorted(config.items())
    if all(type(v) in _KEY_SCALARS for _k, v in items):
        return tuple((k, type(v).__name__, v) for k, v in items)
    return json.dumps(config, sort_keys=True, default=str)


_KEY_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def settings_for(policy: str, config: Mapping[str, Any] | None) -> PackSettings:
    """Resolve one policy's settings; raises ``InputError`` (one line) on bad config."""
    stack_key, stack, secrets = _stack_config_keyed()
    own = plain(config or {})
    key: tuple[Any, ...] | None
    try:
        # The stack config enters the key as the strings it was read from (no re-serialising on every call).
        key = (policy, _config_key(own), stack_key)
    except (TypeError, ValueError):
        key = None
    with _SETTINGS_LOCK:
        cached = _SETTINGS.get(key) if key else None
    if cached is not None:
        return cached
    from china_site.policy_config import find_project_dir, resolve_settings

    settings = resolve_settings(
        own,
        policy=policy,
        stack_config=stack,
        secret_keys=secrets,
        project_dir=find_project_dir(Path.cwd()),  # the engine starts the pack in its folder
    )
    if key:
        with _SETTINGS_LOCK:
            _SETTINGS[key] = settings
    return settings


# ---------------------------------------------------------------------------------------------------------------
# The registry: loaded once per process and source; failures cached and remembered for filing-registry-available.

_REGISTRIES: dict[str, FilingRegistry | Exception] = {}
_FAILED_SINCE_STACK_CHECK: dict[str, tuple[str, str, str, Exception]] = {}  # source → (source, display, origin, error)
_REGISTRY_LOCK = threading.Lock()


def registry_for(settings: PackSettings) -> FilingRegistry | Exception:
    """The registry, or the exception that made it unusable (never raises)."""
    source = settings.filings
    with _REGISTRY_LOCK:
        cached = _REGISTRIES.get(source)
        if cached is None:
            try:
                from china_site.filings import load_registry

                cached = load_registry(source)
            except Exception as exc:  # RegistryError, or anything else: fail closed, never crash
                cached = exc
            _REGISTRIES[source] = cached
        if isinstance(cached, Exception):
            _FAILED_SINCE_STACK_CHECK[source] = (source, settings.filings_display, settings.filings_origin, cached)
    return cached


def reset_run_state() -> None:
    """Start over as a fresh pack process would (the offline engine calls this before each check): forget the loaded
    registries, the failures not yet reported, the resolved settings and the stack config read."""
    take_registry_failures()
    with _REGISTRY_LOCK:
        _REGISTRIES.clear()
    with _SETTINGS_LOCK:
        _SETTINGS.clear()
    with _STACK_CONFIG_LOCK:
        _STACK_CONFIG_CACHE["key"] = _STACK_CONFIG_CACHE["value"] = None


def take_registry_failures() -> list[tuple[str, str, str, Exception]]:
    """Failed sources seen by any policy since the last call (the stack policy reports them, then forgets)."""
    with _REGISTRY_LOCK:
        failures = list(_FAILED_SINCE_STACK_CHECK.values())
        _FAILED_SINCE_STACK_CHECK.clear()
    return failures


def registry_failure_message(source: str, display: str, origin: str, error: Exception) -> str:
    from china_site.errors import ChinaSiteError
    from china_site.rules import registry_unavailable

    if not isinstance(error, ChinaSiteError):
        error = RuntimeError(f"{type(error).__name__} while loading the registry")
    message = f"{registry_unavailable(error, display).message}\nRegistry source: {origin}"
    return redact_source(message, source, display)


def redact_source(message: str, source: str, display: str) -> str:
    """Hide a registry source that comes from a secret stack config key."""
    return message.replace(source, display) if display != source and source else message


def _registry_skip(args: ResourceValidationArgs | StackValidationArgs, policy: str) -> None:
    args.not_applicable(
        f"filing registry unavailable: {policy} checked nothing; filing-registry-available reports the failure"
    )


# ---------------------------------------------------------------------------------------------------------------
# One engine request: what every policy derives alike from it, computed once

_REQUEST = threading.local()


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    """Scope of one engine request (``Analyze`` or ``AnalyzeStack``; ``pack.py`` opens it around the SDK servicer's
    methods). The SDK hands each policy its own copy of the same resource, so everything the policies derive from it
    the same way — plain properties, provider properties, exposures, stack views — is computed by the first policy
    and reused by the others. Outside a scope (a policy called directly) nothing is reused. Per thread: the gRPC
    server may serve requests concurrently, each on one thread."""
    outer = getattr(_REQUEST, "memo", None)
    _REQUEST.memo = {}
    try:
        yield
    finally:
        _REQUEST.memo = outer


def request_memo() -> dict[str, Any] | None:
    """The current request scope's memo (per thread), None outside a scope."""
    memo: dict[str, Any] | None = getattr(_REQUEST, "memo", None)
    return memo


_request_memo = request_memo


def _resource_memo(args: ResourceValidationArgs) -> dict[str, Any] | None:
    """This request's memo for the analysed resource (None outside a request scope)."""
    memo = _request_memo()
    if memo is None:
        return None
    key = (args.urn, args.resource_type, args.name)
    entry: dict[str, Any] | None = memo.get("resource")
    if entry is None or entry["key"] != key:  # one resource per Analyze request; a guard all the same
        entry = {"key": key, "exposures": []}
        memo["resource"] = entry
    return entry


# ---------------------------------------------------------------------------------------------------------------
# Engine values → plain values


def _proxy_types() -> tuple[type, ...]:
    from pulumi_policy.proxy import _DictProxy, _ListProxy
    from pulumi_policy.secret import _DictSecretsProxy, _ListSecretsProxy

    return (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)


_PROXIES: Final = _proxy_types()
_PROXY_KINDS: Final = frozenset(_PROXIES)


_SCALARS: Final = frozenset({int, float, bool, type(None)})
_PLAIN_DEPS: dict[str, Any] = {}  # Secret, UNKNOWN, is_unknown and the raw unknown sentinels, bound on first use


def _plain_deps() -> dict[str, Any]:
    if not _PLAIN_DEPS:
        from pulumi_policy import Secret

        from china_site.exposure import _UNKNOWN_SENTINELS, UNKNOWN, is_unknown

        _PLAIN_DEPS.update(Secret=Secret, UNKNOWN=UNKNOWN, is_unknown=is_unknown, sentinels=_UNKNOWN_SENTINELS)
    return _PLAIN_DEPS


def plain(value: object, _depth: int = 0) -> Any:
    """A plain copy of an engine value: proxies unwrapped, secrets revealed for reading, unknowns → UNKNOWN.

    Reading through the SDK's unknown-checking proxy would raise at the first unknown; this never does.
    """
    deps = _PLAIN_DEPS or _plain_deps()
    return _plain(value, _depth, deps)


def _plain(value: object, depth: int, deps: dict[str, Any]) -> Any:
    # The same steps as always (proxy unwrapped once, Secret, Mapping, list/tuple, unknown), with the exact
    # built-in types the SDK's deserialiser produces tested first: ``isinstance`` against the SDK's proxies and
    # ``Mapping`` goes through ABCMeta and dominated the time.
    if depth > 64:
        return None
    kind = type(value)
    if kind is str:
        return deps["UNKNOWN"] if value in deps["sentinels"] else value
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind is list:
        return [_plain(v, depth + 1, deps) for v in value]  # type: ignore[attr-defined]
    if kind in _PROXY_KINDS or isinstance(value, _PROXIES):
        value = value["__target"]  # type: ignore[index]
        kind = type(value)
        if kind is dict:
            return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}  # type: ignore[attr-defined]
        if kind is list:
            return [_plain(v, depth + 1, deps) for v in value]  # type: ignore[attr-defined]
    if isinstance(value, deps["Secret"]):
        return _plain(value.value, depth + 1, deps)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1, deps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1, deps) for v in value]
    if deps["is_unknown"](value):
        return deps["UNKNOWN"]
    return value


def provider_props(provider: object) -> dict[str, Any] | None:
    props = getattr(provider, "props", None)
    return plain(props) if props is not None else None


def explicit_provider(provider: object) -> bool:
    """An explicit ``alicloud.Provider`` (not the engine's default one): its region never comes from stack config."""
    from china_site.exposure import is_default_provider

    return provider is not None and not is_default_provider(getattr(provider, "name", None))


# ---------------------------------------------------------------------------------------------------------------
# Exposures


BUCKET_LINKER_TYPES: Final = frozenset({"alicloud:oss/bucketAcl:BucketAcl", "alicloud:oss/bucketPolicy:BucketPolicy"})
LINKER_TYPES: Final = BUCKET_LINKER_TYPES | {"alicloud:ecs/eipAssociation:EipAssociation"}
_COVERED_TYPES: list[Mapping[str, Any]] = []  # china_site.exposure.RESOURCE_TYPES, bound on first use


def is_covered(type_token: str, props: Mapping[str, Any] | None = None) -> bool:
    """A type ``china_site.exposure`` knows, or a resource carrying homepage-footer inputs."""
    if not _COVERED_TYPES:
        from china_site.exposure import RESOURCE_TYPES

        _COVERED_TYPES.append(RESOURCE_TYPES)
    if type_token in _COVERED_TYPES[0]:
        return True
    return props is not None and _has_display_inputs(props)


def _has_display_inputs(props: Mapping[str, Any]) -> bool:
    try:
        return any(key in props for key in DISPLAY_KEYS)
    except Exception:
        return False


def resource_exposure(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str,
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
    explicit: bool = False,
) -> Exposure | None:
    from china_site.exposure import exposure_from_resource

    return exposure_from_resource(
        type_token, props, name=name, provider_props=provider, stack_config=stack, explicit_provider=explicit
    )


def display_exposure(
    type_token: str,
    props: Mapping[str, Any],
    *,
    name: str,
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
    explicit: bool = False,
) -> Exposure | None:
    """The homepage-footer view of a resource carrying ``icpNumberDisplayed``/``psbNumberDisplayed`` (SiteContent).

    Its domain is the ``domain`` input, else the ``china-site:domain`` tag; its area comes from the ``region`` input,
    else the provider/stack-config region, else the ``mainland`` input, else unknown → mainland (fail closed).
    The ``__provider`` blob of a dynamic resource is never read.
    """
    from china_site.exposure import TAG_DOMAIN, UNKNOWN, region_of
    from china_site.regions import classify

    if not _has_display_inputs(props):
        return None

    def flag(key: str) -> bool | None:
        value = props.get(key)
        return value if isinstance(value, bool) else None

    icp, psb = flag("icpNumberDisplayed"), flag("psbNumberDisplayed")
    if icp is None and psb is None:
        return None
    domains: list[str] = []
    domain = props.get("domain")
    if isinstance(domain, str) and domain.strip():
        domains.append(domain.strip())
    tags = props.get("tags")
    if isinstance(tags, Mapping) and isinstance(tags.get(TAG_DOMAIN), str):
        domains.extend(d.strip() for d in tags[TAG_DOMAIN].split(",") if d.strip())
    unknown: list[str] = []
    region = props.get("region")
    if region is UNKNOWN:
        unknown.append("region")
        region = None
    if not (isinstance(region, str) and region.strip()):
        region, _source = region_of(provider, stack, explicit_provider=explicit)
    mainland = props.get("mainland")
    if region is None and isinstance(mainland, bool):
        area, guessed = ("mainland" if mainland else "overseas"), False
    else:
        info = classify(region)
        area, guessed, region = info.area, info.guessed, info.region_id
    return Exposure(
        resource=type_token,
        name=name,
        public=True,
        area=area,  # type: ignore[arg-type]
        region=region,
        region_guessed=guessed,
        domains=tuple(dict.fromkeys(domains)),
        icp_number_displayed=icp,
        psb_number_displayed=psb,
        unknown=tuple(unknown),
        product="oss",
    )


# ---------------------------------------------------------------------------------------------------------------
# Findings


def core_findings(
    pack_policy: str, exposure: Exposure, registry: FilingRegistry, settings: PackSettings
) -> list[Finding]:
    """The core's findings that ``pack_policy`` reports for one exposure (live verification applied)."""
    from china_site.rules import RULES

    memo = _request_memo()
    findings: list[Finding] = []
    for core in core_rules_for(pack_policy):
        rule = RULES.get(core)
        if rule is None:
            continue
        if memo is None or _live(core, settings):
            found = _run_rule(core, rule, exposure, registry, settings)
        else:
            # Two pack policies report each of the ICP and PSB rules (routing by enforcement): a rule is a pure
            # function of these four, so within one request it runs once for the same ones.
            ran: list[tuple[Any, ...]] = memo.setdefault("rules", [])
            cached: list[Finding] | None = next(
                (
                    r[-1]
                    for r in ran
                    if r[0] == core
                    and r[1] is exposure
                    and r[2] is registry
                    and r[3] == settings.today
                    and r[4] == settings.options
                ),
                None,
            )
            if cached is None:
                found = _run_rule(core, rule, exposure, registry, settings)
                ran.append((core, exposure, registry, settings.today, settings.options, found))
            else:
                found = cached
        findings.extend(found)
    return [f for f in findings if route(f) == pack_policy]


def all_findings(exposure: Exposure, registry: FilingRegistry, settings: PackSettings) -> list[Finding]:
    """Every core rule's findings for an exposure (live verification applied to the ICP ones)."""
    from china_site.rules import RULES

    findings: list[Finding] = []
    for core, rule in RULES.items():
        findings.extend(_run_rule(core, rule, exposure, registry, settings))
    return findings


def _live(core: str, settings: PackSettings) -> bool:
    """``verify: live`` reconciles the ICP rule's findings with the live ICP check."""
    return core == ICP_FILING_REQUIRED and settings.verify == "live"


def _run_rule(
    core: str, rule: Callable[..., list[Finding]], exposure: Exposure, registry: FilingRegistry, settings: PackSettings
) -> list[Finding]:
    """One core rule's findings for an exposure (live verification applied to the ICP ones)."""
    found = rule(exposure, registry, settings.today, settings.options)
    return live_reconcile(exposure, found, settings) if _live(core, settings) else found


def live_reconcile(exposure: Exposure, findings: list[Finding], settings: PackSettings) -> list[Finding]:
    from china_site import live

    verifier = live.get_verifier(environ=os.environ, stack_config=settings.stack_config, timeout=settings.live_timeout)
    result, unavailable = live.reconcile(exposure, findings, verifier.check)
    for answer in unavailable:
        log_once(
            f"live ICP check for {answer.domain} unavailable ({answer.detail}); the filing registry decides "
            "(an unreachable API never approves a domain)"
        )
    return result


def waived(settings: PackSettings, *, policy: str, urn: str, name: str, finding: Finding) -> tuple[bool, str | None]:
    """(suppressed, note): an active waiver suppresses; an expired one adds its note to the message."""
    from china_site.policy_config import match_waiver

    match = match_waiver(settings.waivers, policy=policy, urn=urn, name=name, today=settings.today, rule=finding.policy)
    if match is None:
        return False, None
    if not match.expired:
        return True, None
    return False, match.note()


def report_findings(
    report: ReportViolation,
    findings: Sequence[Finding],
    settings: PackSettings,
    *,
    policy: str,
    urn: str,
    name: str,
    prefix: Callable[[Finding], str] | None = None,
    report_urn: str | None = None,
) -> int:
    count = 0
    for finding in findings:
        suppressed, note = waived(settings, policy=policy, urn=urn, name=name, finding=finding)
        if suppressed:
            continue
        message = redact_source(finding.message, settings.filings, settings.filings_display)
        if prefix is not None:
            message = prefix(finding) + message
        if note:
            message = f"{note}\n{message}"
        if report_urn is None:
            report(message, None)
        else:
            report(message, report_urn)
        count += 1
    return count


def config_error_message(policy: str, error: Exception) -> str:
    return (
        f"The configuration of policy '{policy}' is invalid, so it checked nothing: {error}\n"
        f"策略 {policy} 的配置无效，未执行任何检查。\n"
        "Fix: correct the --policy-pack-config entry (or the china-site:* stack config); see policies/README.md"
    )


def internal_error_message(policy: str, error: BaseException) -> str:
    return (
        f"china-site could not evaluate policy '{policy}' on this resource ({type(error).__name__}); it is "
        "not approved. Please report this with CHINA_SITE_DEBUG=1 output.\n"
        f"china-site 无法对该资源执行策略 {policy}（内部错误），视为未通过。"
    )


def _passthrough(exc: BaseException) -> bool:
    """The SDK's own control-flow exceptions (not applicable; unknown at preview) are re-raised untouched."""
    return type(exc).__name__ in ("_NotApplicableError", "UnknownValueError")


def guarded(policy: str, body: Callable[[Any, ReportViolation], None]) -> Callable[[Any, ReportViolation], None]:
    """Run a validation; any unexpected exception becomes a violation of ``policy`` (never a crash)."""

    def validate(args: Any, report: ReportViolation) -> None:
        try:
            body(args, report)
        except BaseException as exc:
            if _passthrough(exc) or not isinstance(exc, Exception):
                raise
            if os.environ.get("CHINA_SITE_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            log_once(f"internal error in {policy}: {type(exc).__name__}")
            report(internal_error_message(policy, exc), None)

    return validate


# ---------------------------------------------------------------------------------------------------------------
# Policy builders


def config_schema() -> PolicyConfigSchema:
    """Every policy's config schema (a copy each: the SDK owns what it is given). From the pydantic-free
    ``china_site.policy_schema``: every policy module calls this at import, and pydantic (loaded by
    ``china_site.policy_config`` on the first call) would add ~100 ms to the pack's start-up."""
    from china_site.policy_schema import CONFIG_SCHEMA

    return PolicyConfigSchema(properties=json.loads(json.dumps(CONFIG_SCHEMA)))


def _evaluate_resource(policy: str, args: ResourceValidationArgs) -> tuple[PackSettings, list[Finding]] | None:
    """Settings and this policy's findings for one resource; None when the resource is out of scope.

    Raises InputError on bad config; calls ``args.not_applicable`` when the registry is unavailable.
    """
    displays = policy == ICP_NUMBER_DISPLAYED
    if not displays and not is_covered(args.resource_type):
        return None  # cheap exit before touching the properties
    memo = _resource_memo(args)
    props = _memoized(memo, "props", lambda: plain(args.props))
    if not isinstance(props, Mapping):
        return None
    if not (displays and _has_display_inputs(props)) and not is_covered(args.resource_type):
        return None
    settings = settings_for(policy, args.get_config())
    provider = _memoized(memo, "provider", lambda: provider_props(args.provider))
    build = display_exposure if displays and _has_display_inputs(props) else resource_exposure
    exposure = _memo_exposure(memo, build, args, props, provider, settings.stack_config)
    if exposure is None or not exposure.public:
        return None
    registry = registry_for(settings)
    if isinstance(registry, Exception):
        _registry_skip(args, policy)
        return None
    return settings, core_findings(policy, exposure, registry, settings)


def _memoized(memo: dict[str, Any] | None, key: str, compute: Callable[[], Any]) -> Any:
    """``memo[key]``, computed (and kept, inside a request scope) on first use."""
    if memo is not None and key in memo:
        return memo[key]
    value = compute()
    if memo is not None:
        memo[key] = value
    return value


def _memo_exposure(
    memo: dict[str, Any] | None,
    build: Callable[..., Exposure | None],
    args: ResourceValidationArgs,
    props: Mapping[str, Any],
    provider: Mapping[str, Any] | None,
    stack: Mapping[str, str],
) -> Exposure | None:
    """``build(...)`` for the analysed resource, reused within the request for the same builder and stack config."""
    if memo is not None:
        for built_by, built_for, exposure in memo["exposures"]:
            if built_by is build and built_for == stack:
                return exposure  # type: ignore[no-any-return]
    exposure = build(
        args.resource_type,
        props,
        name=args.name,
        provider=provider,
        stack=stack,
        explicit=explicit_provider(args.provider),
    )
    if memo is not None:
        memo["exposures"].append((build, stack, exposure))
    return exposure


class PolicyMeta(TypedDict):
    """What every pack policy declares about itself (the SDK's policy arguments other than the callbacks)."""

    name: str
    description: str
    enforcement_level: EnforcementLevel
    severity: Severity
    remediation_steps: str
    url: str
    display_name: str
    tags: list[str]


def resource_policy(
    *,
    remediate: Callable[[ResourceValidationArgs], Mapping[str, Any] | None] | None = None,
    **meta: Unpack[PolicyMeta],
) -> ResourceValidationPolicy:
    """A resource policy reporting the core findings routed to ``meta["name"]``."""
    name = meta["name"]

    def body(args: ResourceValidationArgs, report: ReportViolation) -> None:
        from china_site.errors import ChinaSiteError

        try:
            evaluated = _evaluate_resource(name, args)
        except ChinaSiteError as exc:
            report(config_error_message(name, exc), None)
            return
        if evaluated is None:
            return
        settings, findings = evaluated
        report_findings(report, findings, settings, policy=name, urn=args.urn, name=args.name)

    return ResourceValidationPolicy(
        validate=guarded(name, body),
        remediate=remediate,  # type: ignore[arg-type]  # the SDK's hint wants Awaitable | None; plain returns work
        config_schema=config_schema(),
        **meta,
    )


def remediate_cdn_scope(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """``icp-filing-required`` with ``remediate``: an unfiled CDN/DCDN domain gets ``scope: overseas``.

    Mainland users are then served from Hong Kong/Japan/Singapore nodes, which need no ICP filing. Only when the
    policy has an unwaived finding for this resource; anything else (other types, bad config, registry down) is
    left to validation, which reports it as mandatory.
    """
    if args.resource_type not in SCOPE_REMEDIABLE_TYPES:
        return None
    try:
        evaluated = _evaluate_resource(ICP_FILING_REQUIRED, args)
    except Exception as exc:
        if type(exc).__name__ == "_NotApplicableError":
            return None
        if os.environ.get("CHINA_SITE_DEBUG"):
            traceback.print_exc(file=sys.stderr)
        return None  # validation reports it
    if evaluated is None:
        return None
    settings, findings = evaluated
    unwaived = [
        f
        for f in findings
        if not waived(settings, policy=ICP_FILING_REQUIRED, urn=args.urn, name=args.name, finding=f)[0]
    ]
    if not unwaived:
        return None
    from pulumi_policy.secret import _DictSecretsProxy

    props: Any = args.props
    current = plain(props)
    old = current.get("scope") if isinstance(current, Mapping) else None
    if isinstance(props, _DictSecretsProxy):
        props["scope"] = "overseas"  # the SDK's Remediate proxy: secrets stay secrets when serialized back
    else:
        holder: Any = args.props
        raw: Any = holder["__target"] if isinstance(holder, _PROXIES) else holder  # type: ignore[index]
        props = {**dict(raw), "scope": "overseas"}
    domains = ", ".join(sorted({f.domain for f in unwaived if f.domain})) or "its domain"
    was = old if isinstance(old, str) else ("domestic" if old is None else "unknown")
    log_once(
        f"icp-filing-required remediated {args.urn}: scope {was} → overseas "
        f"({domains} has no usable ICP filing; mainland users are served from Hong Kong/Japan/Singapore nodes). "
        f"icp-filing-required 已将 CDN 加速区域改为 overseas（{domains} 无有效 ICP 备案）。"
    )
    return props


def stack_policy(
    *, validate: Callable[[StackValidationArgs, ReportViolation], None], **meta: Unpack[PolicyMeta]
) -> StackValidationPolicy:
    return StackValidationPolicy(validate=guarded(meta["name"], validate), config_schema=config_schema(), **meta)


# ---------------------------------------------------------------------------------------------------------------
# Stack views


def stack_views(args: StackValidationArgs) -> list[Any]:
    """The stack's resources as ``china_site.exposure.ResourceView`` (plain values; props are the outputs).

    Built once per ``AnalyzeStack`` request (every stack policy gets its own copy of the same resources); the views
    are shared, so callers only read them."""
    memo = _request_memo()
    urns = tuple(r.urn for r in args.resources) if memo is not None else ()
    if memo is not None:
        cached = memo.get("stack_views")
        if cached is not None and cached[0] == urns:
            return cached[1]  # type: ignore[no-any-return]
    views = _stack_views(args)
    if memo is not None:
        memo["stack_views"] = (urns, views)
    return views


def _stack_views(args: StackValidationArgs) -> list[Any]:
    from china_site.exposure import ResourceView

    views: list[Any] = []
    for resource in args.resources:
        props = plain(resource.props)
        views.append(
            ResourceView(
                urn=resource.urn,
                type=resource.resource_type,
                name=resource.name,
                props=props if isinstance(props, Mapping) else {},
                provider_props=provider_props(resource.provider),
                explicit_provider=explicit_provider(resource.provider),
                outputs=props if isinstance(props, Mapping) else None,
                dependencies=[d.urn for d in (resource.dependencies or [])],
                property_dependencies={
                    k: [d.urn for d in v] for k, v in (resource.property_dependencies or {}).items()
                },
            )
        )
    return views


# ---------------------------------------------------------------------------------------------------------------
# Stack policies' bodies


def check_registry_available(args: StackValidationArgs, report: ReportViolation) -> None:
    """``filing-registry-available``: every registry source that failed in this run, as one violation each."""
    from china_site.errors import ChinaSiteError

    # By type first: the properties (a copy of every resource) are needed only if no type is covered.
    covered = any(is_covered(r.resource_type) for r in args.resources) or any(
        is_covered(v.type, v.props) for v in stack_views(args)
    )
    if not covered:
        take_registry_failures()
        args.not_applicable("no Alibaba Cloud resource in the stack needs the filing registry")
        return
    try:
        settings = settings_for(FILING_REGISTRY_AVAILABLE, args.get_config())
    except ChinaSiteError as exc:
        report(config_error_message(FILING_REGISTRY_AVAILABLE, exc), None)
        return
    registry_for(settings)  # records its own source's failure, if any
    seen: set[str] = set()
    for source, display, origin, error in take_registry_failures():
        key = f"{source}|{origin}"
        if key in seen:
            continue
        seen.add(key)
        report(registry_failure_message(source, display, origin, error), None)


def check_dns_linked(args: StackValidationArgs, report: ReportViolation) -> None:
    """``dns-linked-exposure``: names a DNS record of the stack ties to a mainland resource that does not show them.

    The core's ``link_stack`` finds the (resource, FQDNs) pairs; each FQDN is evaluated by every core rule as an
    exposure of that resource, and its **mandatory** findings are reported on the DNS record(s) naming it.
    """
    from dataclasses import replace

    from china_site.errors import ChinaSiteError
    from china_site.exposure import dns_link, exposure_from_resource, link_buckets, link_eip_associations, link_stack

    views = stack_views(args)
    records: dict[str, list[Any]] = {}
    for view in views:
        if not view.type.startswith("alicloud:dns/"):
            continue
        link = dns_link(view.props, type_token=view.type)
        if link is not None:
            records.setdefault(link.fqdn.lower(), []).append(view)
    linkers = any(view.type in LINKER_TYPES for view in views)
    if not records and not linkers:
        return
    try:
        settings = settings_for(DNS_LINKED_EXPOSURE, args.get_config())
    except ChinaSiteError as exc:
        report(config_error_message(DNS_LINKED_EXPOSURE, exc), None)
        return
    links = link_stack(views, settings.stack_config) if records else []
    buckets = [*link_buckets(views, settings.stack_config), *link_eip_associations(views, settings.stack_config)]
    buckets = buckets if linkers else []
    if not links and not buckets:
        return
    registry = registry_for(settings)
    if isinstance(registry, Exception):
        _registry_skip(args, DNS_LINKED_EXPOSURE)
        return
    for target, exposure in links:
        own = exposure_from_resource(
            target.type,
            target.props,
            name=target.name,
            provider_props=target.provider_props,
            stack_config=settings.stack_config,
            explicit_provider=target.explicit_provider,
        )
        shown_alone = {d.lower() for d in (own.domains if own is not None else ())}
        for fqdn in exposure.domains:
            if fqdn.lower() in shown_alone or fqdn.lower() not in records:
                continue
            findings = [
                f
                for f in all_findings(replace(exposure, domains=(fqdn,)), registry, settings)
                if f.enforcement == "mandatory"
            ]
            if not findings:
                continue
            for record in records[fqdn.lower()]:
                where = f"{target.type} '{target.name}'"

                def prefix(finding: Finding, record: Any = record, where: str = where, fqdn: str = fqdn) -> str:
                    return (
                        f"[{finding.policy}] DNS record {fqdn} ('{record.name}') points at {where}:\n"
                        f"DNS 记录 {fqdn} 指向 {where}：\n"
                    )

                report_findings(
                    report,
                    findings,
                    settings,
                    policy=DNS_LINKED_EXPOSURE,
                    urn=record.urn,
                    name=record.name,
                    prefix=prefix,
                    report_urn=record.urn,
                )
    for linker, bucket, exposure in buckets:
        findings = [f for f in all_findings(exposure, registry, settings) if f.enforcement == "mandatory"]

        def bucket_prefix(finding: Finding, linker: Any = linker, bucket: Any = bucket) -> str:
            if linker.type not in BUCKET_LINKER_TYPES:
                return (
                    f"[{finding.policy}] {linker.type} '{linker.name}' gives {bucket.type} '{bucket.name}' a public "
                    "IP (judged with that resource's own tags):\n"
                    f"{linker.type} '{linker.name}' 为 {bucket.type} '{bucket.name}' 绑定公网 IP：\n"
                )
            return (
                f"[{finding.policy}] {linker.type} '{linker.name}' makes bucket '{bucket.name}' public "
                "(judged as the bucket's own public ACL):\n"
                f"{linker.type} '{linker.name}' 使存储桶 '{bucket.name}' 公开：\n"
            )

        report_findings(
            report,
            findings,
            settings,
            policy=DNS_LINKED_EXPOSURE,
            urn=linker.urn,
            name=linker.name,
            prefix=bucket_prefix,
            report_urn=linker.urn,
        )
