"""The policy pack's configuration: one policy's ``--policy-pack-config`` entry → :class:`PackSettings`.

Pure (no Pulumi imports): the CrossGuard pack (``policies/``) and the offline engine call the same functions.

Pulumi hands each policy only its own config entry, so the keys every policy understands (``filings``, ``today``,
``psbGraceDays``, …, ``waivers``) are resolved **once, here**, in this order:

1. the policy's own config entry (``--policy-pack-config``);
2. the stack config ``china-site:<key>`` (the ``PULUMI_CONFIG`` JSON the engine gives the analyzer; structured
   values — lists, the waiver list — are JSON strings there);
3. the default.

The registry source defaults to ``filings.yaml`` in the Pulumi project directory (the nearest directory holding a
``Pulumi.yaml`` at or above the policy pack). A relative ``filings`` path is read relative to that directory too,
so the pack and the program (which reads ``china-site:filings`` from the project directory) read the same file.

Unknown keys, wrong types and malformed dates raise :class:`~china_site.errors.InputError` with one line naming the
policy (or the stack config key), the field and the fix.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from china_site.errors import InputError
from china_site.locations import display_source
from china_site.model import RuleOptions
from china_site.policy_schema import CONFIG_SCHEMA
from china_site.project_dir import find_project_dir

__all__ = [
    "CHINA_TZ",
    "CONFIG_SCHEMA",
    "DEFAULT_LIVE_TIMEOUT",
    "PROGRAM_KEYS",
    "SHARED_KEYS",
    "STACK_CONFIG_PREFIX",
    "PackSettings",
    "PolicyConfig",
    "Waiver",
    "WaiverMatch",
    "check_stack_keys",
    "china_today",
    "find_project_dir",
    "match_waiver",
    "parse_policy_config",
    "read_stack_config",
    "resolve_settings",
]

STACK_CONFIG_PREFIX: Final = "china-site:"
DEFAULT_LIVE_TIMEOUT: Final = 3.0
CHINA_TZ: Final = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time, no DST
VerifyMode = Literal["registry", "live"]


def china_today() -> dt.date:
    """Today's date in China (UTC+8): filing deadlines run on the authorities' calendar, not the CI runner's."""
    return dt.datetime.now(CHINA_TZ).date()


# ---------------------------------------------------------------------------------------------------------------
# Models


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` strings (or dates): numbers are not dates, and neither are timestamps."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from None
    raise ValueError(f"expected an ISO date string YYYY-MM-DD, got {type(value).__name__}")


def _whole_number(value: object) -> object:
    """Integers; also the floats the engine sends for JSON numbers (30.0), but not 30.5, True or "30"."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected a whole number, got {value}")
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError(f"expected a whole number, got {type(value).__name__}")


def _tld_list(value: object) -> object:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError('expected a list of suffixes such as ["org", "dev"]')
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip().strip("."):
            raise ValueError(f'expected suffix strings such as "org", got {item!r}')
        out.append(item.strip().lstrip(".").lower())
    return tuple(out)


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
TldList = Annotated[tuple[str, ...], BeforeValidator(_tld_list)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Waiver(BaseModel):
    """An accepted exception: ``policy`` and ``resource`` (URN, name or glob) it covers, why, and until when.

    A waiver applies through its ``expires`` day: the finding it covers is still reported, at advisory level, naming
    the waiver, its reason and its expiry (never hidden). From the day after, it stops applying and is reported.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    policy: NonEmpty
    resource: NonEmpty
    reason: NonEmpty
    expires: IsoDate


class PolicyConfig(BaseModel):
    """One policy's config entry, wire names in camelCase (Pulumi's ``--policy-pack-config`` JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, str_strip_whitespace=True)

    filings: NonEmpty | None = None
    today: IsoDate | None = None
    psb_grace_days: Annotated[WholeNumber, Field(ge=0, le=3650)] | None = Field(None, alias="psbGraceDays")
    own_goods_need_permit: StrictBool | None = Field(None, alias="ownGoodsNeedPermit")
    approved_tlds: TldList | None = Field(None, alias="approvedTlds")
    denied_tlds: TldList | None = Field(None, alias="deniedTlds")
    require_registrar_in_china: StrictBool | None = Field(None, alias="requireRegistrarInChina")
    require_real_name: StrictBool | None = Field(None, alias="requireRealName")
    verify: VerifyMode | None = None
    live_timeout_seconds: Annotated[float, Field(gt=0, le=60)] | None = Field(None, alias="liveTimeoutSeconds")
    waivers: tuple[Waiver, ...] | None = None


# Wire name → model field name, in schema order.
SHARED_KEYS: Final[dict[str, str]] = {(field.alias or name): name for name, field in PolicyConfig.model_fields.items()}

# The ``china-site:*`` stack config keys the bundled program reads (README, "Stack configuration"); with SHARED_KEYS
# (read by every policy) they are every key of the namespace, so anything else is a typo.
PROGRAM_KEYS: Final = (
    "domain", "hosting", "mainlandRegion", "filings", "contentDir", "payments", "platform", "dnsZone", "cdn",
    "cdnGlobal", "certificate", "certificateKey", "bucketName", "today", "backend", "domainVerified",
    "verificationTimeout",
)  # fmt: skip


def check_stack_keys(config: Mapping[str, object], *, where: str) -> None:
    """Raise InputError naming the first ``china-site:*`` key that neither the program nor the pack reads."""
    import difflib

    known = dict.fromkeys((*PROGRAM_KEYS, *SHARED_KEYS))
    for full in config:
        if not full.startswith(STACK_CONFIG_PREFIX):
            continue
        key = full[len(STACK_CONFIG_PREFIX) :]
        name = key.split(".", 1)[0].split("[", 1)[0]
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean '{STACK_CONFIG_PREFIX}{close[0]}'? " if close else ""
            raise InputError(
                "unknown key: neither the program nor the policy pack reads it",
                where=f"{where}, field '{full}'",
                fix=f"{hint}the keys are: {', '.join(known)}",
            )


# The JSON schema of each policy's config lives in a module without pydantic, so that the pack can declare it at
# start-up without importing pydantic (see china_site.policy_schema); re-exported here.


# ---------------------------------------------------------------------------------------------------------------
# Parsing


def _error_line(exc: ValidationError) -> tuple[str, str]:
    """(field path, problem) of the first error, in wire names."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid value"))
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    msg = msg.removeprefix("Value error, ")
    return loc or "(config)", msg


def parse_policy_config(config: Mapping[str, Any] | None, *, policy: str) -> PolicyConfig:
    """Validate one policy's config entry (``enforcementLevel`` is Pulumi's own and ignored)."""
    raw = {k: v for k, v in dict(config or {}).items() if k != "enforcementLevel"}
    try:
        return PolicyConfig.model_validate(raw)
    except ValidationError as exc:
        loc, msg = _error_line(exc)
        known = ", ".join(SHARED_KEYS)
        raise InputError(
            f"{msg}",
            where=f"policy config of '{policy}', field '{loc}'",
            fix=f"the keys are: {known} (see policies/README.md)",
        ) from None


def _decode_stack_value(key: str, text: str, *, secret: bool) -> object:
    """Stack config values are strings; structured ones (lists, numbers, booleans) are JSON inside them."""
    if key in ("filings", "today", "verify"):
        return text
    from china_site.safeio import load_json

    try:
        return load_json(text)  # a number too long or nesting too deep is a ValueError too
    except (ValueError, TypeError):
        shown = "the (secret) value" if secret else repr(text[:40])
        raise InputError(
            f"cannot parse {shown} as JSON",
            where=f"stack config '{STACK_CONFIG_PREFIX}{key}'",
            fix="set it with `pulumi config set --path` or as a JSON value",
        ) from None


def _from_stack_config(key: str, stack_config: Mapping[str, str], secret: bool) -> object | None:
    """One shared key from stack config, validated alone; None when not set."""
    text = stack_config.get(STACK_CONFIG_PREFIX + key)
    if text is None:
        return None
    value = _decode_stack_value(key, text, secret=secret) if isinstance(text, str) else text
    try:
        parsed = PolicyConfig.model_validate({key: value})
    except ValidationError as exc:
        _loc, msg = _error_line(exc)
        if secret:  # validator messages may quote the value
            msg = "invalid value (secret, not shown)"
        raise InputError(
            msg,
            where=f"stack config '{STACK_CONFIG_PREFIX}{key}'",
            fix="see policies/README.md for the expected value",
        ) from None
    return getattr(parsed, SHARED_KEYS[key])


def read_stack_config(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], frozenset[str]]:
    """(stack config, secret keys) from ``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS``; empty when unset.

    Raises InputError when ``PULUMI_CONFIG`` is set but is not a JSON object.
    """
    from china_site.safeio import load_json

    env = os.environ if environ is None else environ
    raw = env.get("PULUMI_CONFIG")
    config: dict[str, str] = {}
    if raw:
        try:
            data = load_json(raw)
        except ValueError:  # malformed, a number too long, nested too deep
            data = None
        if not isinstance(data, dict):
            raise InputError(
                "PULUMI_CONFIG is not a JSON object",
                where="environment",
                fix="let the Pulumi engine set it, or unset it",
            )
        config = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    secrets: frozenset[str] = frozenset()
    raw_secrets = env.get("PULUMI_CONFIG_SECRET_KEYS")
    if raw_secrets:
        try:
            keys = load_json(raw_secrets)
        except ValueError:
            keys = []
        if isinstance(keys, list):
            secrets = frozenset(str(k) for k in keys)
    return config, secrets


# ---------------------------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class PackSettings:
    """Everything one policy needs for one run, resolved."""

    options: RuleOptions
    filings: str  # the registry source to load (absolute path, oss://…, s3://…)
    filings_display: str  # how messages name it: as the user gave it, never absolute ("<secret>" for a secret key)
    filings_origin: str  # where the source came from, for messages
    today: dt.date
    verify: VerifyMode
    live_timeout: float
    waivers: tuple[Waiver, ...]
    stack_config: Mapping[str, str]
    # Set when ``filings`` is relative (or the default) but the Pulumi project's folder is unknown: why (then
    # ``filings`` is empty, and loading the registry fails with a finding that says so).
    unresolved: str | None = None


_REMOTE_PREFIXES: Final = ("oss://", "s3://")


def _absolute_source(source: str, project_dir: Path) -> str:
    if source.startswith(_REMOTE_PREFIXES) or "://" in source:
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (project_dir / path))


def resolve_settings(
    policy_config: Mapping[str, Any] | None,
    *,
    policy: str,
    stack_config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    project_dir: Path | str | None = None,
    project_unknown: str | None = None,
    today: dt.date | None = None,
) -> PackSettings:
    """Resolve one policy's settings: its own config, else stack config ``china-site:<key>``, else defaults.

    ``today`` overrides the clock when no ``today`` is configured (tests); ``project_dir`` is where a relative or
    default registry path is read from (default: the nearest ``Pulumi.yaml`` above the current directory);
    ``project_unknown``, instead, says why the project's folder cannot be known (a pack the engine started outside
    the project): a relative or default registry path then stays unresolved (``PackSettings.unresolved``).
    """
    own = parse_policy_config(policy_config, policy=policy)
    stack = dict(stack_config or {})
    secrets = frozenset(secret_keys)
    base = Path(project_dir) if project_dir is not None else find_project_dir(Path.cwd())

    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    for key, field_name in SHARED_KEYS.items():
        value = getattr(own, field_name)
        if value is not None:
            values[key], origins[key] = value, f"policy config of '{policy}'"
            continue
        secret = STACK_CONFIG_PREFIX + key in secrets
        value = _from_stack_config(key, stack, secret)
        if value is not None:
            values[key], origins[key] = value, f"stack config {STACK_CONFIG_PREFIX}{key}"

    defaults = RuleOptions()
    options = RuleOptions(
        psb_grace_days=int(values.get("psbGraceDays", defaults.psb_grace_days)),  # type: ignore[call-overload]
        own_goods_need_permit=bool(values.get("ownGoodsNeedPermit", defaults.own_goods_need_permit)),
        approved_tlds=tuple(values.get("approvedTlds", defaults.approved_tlds)),  # type: ignore[arg-type]
        denied_tlds=tuple(values.get("deniedTlds", defaults.denied_tlds)),  # type: ignore[arg-type]
        require_registrar_in_china=bool(values.get("requireRegistrarInChina", defaults.require_registrar_in_china)),
        require_real_name=bool(values.get("requireRealName", defaults.require_real_name)),
    )

    unresolved: str | None = None
    if "filings" in values:
        given = str(values["filings"])
        filings = _absolute_source(given, base)
        origin = origins["filings"]
        secret_source = origin.startswith("stack config") and f"{STACK_CONFIG_PREFIX}filings" in secrets
        if project_unknown is not None and filings != given and not Path(given).expanduser().is_absolute():
            filings, unresolved = given, project_unknown
    else:
        filings = str(base / "filings.yaml")
        origin = "default: filings.yaml in the Pulumi project (no `filings` policy config, no stack config "
        origin += f"{STACK_CONFIG_PREFIX}filings)"
        secret_source = False
        if project_unknown is not None:
            filings, unresolved = "filings.yaml", project_unknown

    day = values.get("today")
    return PackSettings(
        options=options,
        filings=filings,
        filings_display="<secret>" if secret_source else display_source(filings, project_dir=base),
        filings_origin=origin,
        today=day if isinstance(day, dt.date) else (today or china_today()),
        verify=values.get("verify", "registry"),  # type: ignore[arg-type]
        live_timeout=float(values.get("liveTimeoutSeconds", DEFAULT_LIVE_TIMEOUT)),  # type: ignore[arg-type]
        waivers=tuple(values.get("waivers", ())),  # type: ignore[arg-type]
        stack_config=stack,
        unresolved=unresolved,
    )


# ---------------------------------------------------------------------------------------------------------------
# Waivers


@dataclass(frozen=True)
class WaiverMatch:
    waiver: Waiver
    expired: bool

    def note(self) -> str:
        """The bilingual lines added to a finding whose waiver has expired."""
        w = self.waiver
        return (
            f"Waiver expired on {w.expires.isoformat()} (reason: {w.reason}); the finding applies again.\n"
            f"豁免有效期至 {w.expires.isoformat()}（含当日），现已过期（原因：{w.reason}），该问题重新生效。"
        )

    def active_note(self) -> str:
        """The bilingual lines that open a finding an active waiver covers (reported at advisory level)."""
        w = self.waiver
        return (
            f"WAIVED until {w.expires.isoformat()} by the waiver {{policy: {w.policy}, resource: {w.resource}}} "
            f"(reason: {w.reason}): reported as advisory, not enforced; from {_next_day(w.expires)} it is enforced "
            "again.\n"
            f"已豁免至 {w.expires.isoformat()}（豁免 {w.policy} / {w.resource}，原因：{w.reason}），"
            "仅作提示、不阻止部署；到期后恢复执行。"
        )


def _next_day(day: dt.date) -> str:
    return (day + dt.timedelta(days=1)).isoformat()


def _matches(pattern: str, *candidates: str | None) -> bool:
    return any(c is not None and (c == pattern or fnmatch.fnmatchcase(c, pattern)) for c in candidates)


def match_waiver(
    waivers: Iterable[Waiver],
    *,
    policy: str,
    urn: str | None,
    name: str | None,
    today: dt.date,
    rule: str | None = None,
) -> WaiverMatch | None:
    """The waiver covering (policy, resource): an active one first, else an expired one, else None.

    ``policy`` and ``resource`` are matched exactly or as ``fnmatch`` globs; ``resource`` against the URN and the
    resource name. ``rule`` is an alternative policy name (the core rule a stack policy reports for).
    """
    expired: Waiver | None = None
    for waiver in waivers:
        if not _matches(waiver.policy, policy, rule):
            continue
        if not _matches(waiver.resource, urn, name):
            continue
        if today <= waiver.expires:
            return WaiverMatch(waiver, expired=False)
        expired = expired or waiver
    return WaiverMatch(expired, expired=True) if expired is not None else None
