"""The JSON schema of every china-site policy's ``--policy-pack-config`` entry, as a plain dict.

Kept apart from :mod:`china_site.policy_config` (which validates the same keys with pydantic) so that the policy pack
can declare its config schema at start-up without importing pydantic: the pack's start-up is paid on every
``pulumi preview``. ``tests/test_policy_config.py`` checks that the two agree key for key.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["CONFIG_SCHEMA"]

_DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"
_TLD_ITEMS: Final = {"type": "string", "minLength": 1}

# The JSON schema of each policy's config (Pulumi validates ``--policy-pack-config`` against it before the run;
# :func:`parse_policy_config` re-validates, rejecting unknown keys, which Pulumi's schema format cannot express).
CONFIG_SCHEMA: Final[dict[str, dict[str, Any]]] = {
    "filings": {
        "type": "string",
        "minLength": 1,
        "description": "Filing registry: a path (relative to the Pulumi project), oss://BUCKET/KEY or s3://BUCKET/KEY. "
        "Default: stack config china-site:filings, else filings.yaml in the Pulumi project.",
    },
    "today": {
        "type": "string",
        "pattern": _DATE_PATTERN,
        "description": "The date to check against (ISO YYYY-MM-DD), for reproducible runs. Default: today in China.",
    },
    "psbGraceDays": {
        "type": "integer",
        "minimum": 0,
        "maximum": 3650,
        "description": "Days after launch within which the PSB filing is due (default 30).",
    },
    "ownGoodsNeedPermit": {
        "type": "boolean",
        "description": "Whether a store selling only its own goods needs a commercial permit (disputed; default true).",
    },
    "approvedTlds": {
        "type": "array",
        "items": _TLD_ITEMS,
        "description": 'Extra suffixes to treat as MIIT-approved, e.g. ["org"].',
    },
    "deniedTlds": {
        "type": "array",
        "items": _TLD_ITEMS,
        "description": "Suffixes to treat as not approved.",
    },
    "requireRegistrarInChina": {
        "type": "boolean",
        "description": "Require an MIIT-accredited registrar (default true).",
    },
    "requireRealName": {
        "type": "boolean",
        "description": "Require real-name verification of the domain (default true).",
    },
    "verify": {
        "type": "string",
        "enum": ["registry", "live"],
        "description": "registry (default) or live: also ask Alibaba Cloud CDN CheckCdnDomainICP (never the only "
        "source: an unreachable API changes nothing).",
    },
    "liveTimeoutSeconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 60,
        "description": "Timeout of one live check (default 3 s).",
    },
    "waivers": {
        "type": "array",
        "description": "Accepted exceptions; an expired waiver stops applying and is reported.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["policy", "resource", "reason", "expires"],
            "properties": {
                "policy": {"type": "string", "minLength": 1, "description": "policy name (glob allowed)"},
                "resource": {"type": "string", "minLength": 1, "description": "URN, resource name or glob"},
                "reason": {"type": "string", "minLength": 1},
                "expires": {"type": "string", "pattern": _DATE_PATTERN},
            },
        },
    },
}
