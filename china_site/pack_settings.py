"""One policy's resolved settings (:class:`PackSettings`), and what resolves them without pydantic.

Split from :mod:`china_site.policy_config` (which validates config entries with pydantic) so that the policy pack's
first request does not build pydantic models when there is nothing to validate: no config entry of its own and only
``china-site:filings`` / ``china-site:today`` in the stack config (the usual case) resolve here
(:func:`fast_settings`), and both paths end in the same :func:`build_settings`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from china_site.errors import InputError
from china_site.locations import display_source
from china_site.model import RuleOptions

if TYPE_CHECKING:
    from china_site.policy_config import Waiver

STACK_CONFIG_PREFIX: Final = "china-site:"
DEFAULT_LIVE_TIMEOUT: Final = 3.0
CHINA_TZ: Final = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time, no DST
VerifyMode = Literal["registry", "live"]


def china_today() -> dt.date:
    """Today's date in China (UTC+8): filing deadlines run on the authorities' calendar, not the CI runner's."""
    return dt.datetime.now(CHINA_TZ).date()


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


def build_settings(
    values: Mapping[str, object],
    origins: Mapping[str, str],
    *,
    stack: Mapping[str, str],
    secrets: frozenset[str],
    base: Path,
    project_unknown: str | None,
    today: dt.date | None,
) -> PackSettings:
    """:class:`PackSettings` from validated ``values`` (wire key → value) and where each came from."""
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


_FAST_KEYS: Final = frozenset({"filings", "today"})


def fast_settings(
    policy_config: Mapping[str, object] | None,
    *,
    stack_config: Mapping[str, str],
    secret_keys: Iterable[str],
    project_dir: Path,
    project_unknown: str | None,
    shared_keys: Iterable[str],
) -> PackSettings | None:
    """The settings when there is nothing for pydantic to check: no entry of the policy's own and, of the shared keys
    (``shared_keys``), at most ``china-site:filings`` (non-empty text) and ``china-site:today`` (an ISO date) in the
    stack config, neither secret. None otherwise (then :func:`china_site.policy_config.resolve_settings` decides,
    with its one-line errors)."""
    if any(k != "enforcementLevel" for k in (policy_config or {})):
        return None
    secrets = frozenset(secret_keys)
    present = [key for key in shared_keys if STACK_CONFIG_PREFIX + key in stack_config]
    if not set(present) <= _FAST_KEYS or any(STACK_CONFIG_PREFIX + key in secrets for key in present):
        return None
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    if "filings" in present:
        text = stack_config[STACK_CONFIG_PREFIX + "filings"]
        if not isinstance(text, str) or not text.strip():
            return None
        values["filings"] = text.strip()
        origins["filings"] = f"stack config {STACK_CONFIG_PREFIX}filings"
    if "today" in present:
        text = stack_config[STACK_CONFIG_PREFIX + "today"]
        try:
            values["today"] = dt.date.fromisoformat(text.strip())
        except (AttributeError, TypeError, ValueError):
            return None
        origins["today"] = f"stack config {STACK_CONFIG_PREFIX}today"
    return build_settings(
        values,
        origins,
        stack=dict(stack_config),
        secrets=secrets,
        base=project_dir,
        project_unknown=project_unknown,
        today=None,
    )
