"""The pack's configuration: per-policy config → stack config ``china-site:<key>`` → defaults; waivers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from china_site.errors import InputError
from china_site.model import RuleOptions
from china_site.policy_config import (
    CONFIG_SCHEMA,
    SHARED_KEYS,
    PolicyConfig,
    Waiver,
    china_today,
    find_project_dir,
    match_waiver,
    parse_policy_config,
    read_stack_config,
    resolve_settings,
)

DAY = dt.date(2026, 11, 28)
POLICY = "icp-filing-required"


def resolve(config: dict | None = None, stack: dict | None = None, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("project_dir", Path("/proj"))
    kw.setdefault("today", DAY)
    return resolve_settings(config, policy=POLICY, stack_config=stack, **kw)  # type: ignore[arg-type]


# --- defaults ---------------------------------------------------------------------------------------------------------


def test_defaults() -> None:
    s = resolve()
    assert s.options == RuleOptions()
    assert s.filings == "/proj/filings.yaml"
    assert "default" in s.filings_origin and "china-site:filings" in s.filings_origin
    assert (s.today, s.verify, s.waivers, s.live_timeout) == (DAY, "registry", (), 3.0)


def test_today_defaults_to_china_date() -> None:
    s = resolve_settings({}, policy=POLICY, project_dir=Path("/proj"))
    assert s.today == china_today()
    utc = dt.datetime.now(dt.UTC).date()
    assert abs((china_today() - utc).days) <= 1


# --- policy config ------------------------------------------------------------------------------------------------


def test_policy_config_values() -> None:
    s = resolve(
        {
            "filings": "registry/filings.yaml",
            "today": "2025-01-02",
            "psbGraceDays": 45.0,  # the engine sends JSON numbers as doubles
            "ownGoodsNeedPermit": False,
            "approvedTlds": [".ORG", "dev"],
            "deniedTlds": ["xyz"],
            "requireRegistrarInChina": False,
            "requireRealName": False,
            "verify": "live",
            "liveTimeoutSeconds": 0.5,
            "enforcementLevel": "mandatory",  # Pulumi's own key: ignored
        }
    )
    assert s.filings == "/proj/registry/filings.yaml"
    assert s.filings_origin == f"policy config of '{POLICY}'"
    assert s.today == dt.date(2025, 1, 2)
    assert s.options.psb_grace_days == 45
    assert s.options.own_goods_need_permit is False
    assert s.options.approved_tlds == ("org", "dev")
    assert s.options.denied_tlds == ("xyz",)
    assert not s.options.require_registrar_in_china and not s.options.require_real_name
    assert (s.verify, s.live_timeout) == ("live", 0.5)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"psbGraceDay": 30}, "psbGraceDay"),
        ({"psbGraceDays": 30.5}, "psbGraceDays"),
        ({"psbGraceDays": True}, "psbGraceDays"),
        ({"psbGraceDays": "30"}, "psbGraceDays"),
        ({"psbGraceDays": -1}, "psbGraceDays"),
        ({"today": "2025-13-01"}, "today"),
        ({"today": 20250101}, "today"),
        ({"today": "2025-01-01T00:00:00"}, "today"),
        ({"verify": "sometimes"}, "verify"),
        ({"requireRealName": "false"}, "requireRealName"),
        ({"approvedTlds": "org"}, "approvedTlds"),
        ({"filings": ""}, "filings"),
        ({"waivers": [{"policy": "x", "resource": "y", "reason": "z"}]}, "waivers.0.expires"),
        ({"waivers": [{"policy": "x", "resource": "y", "reason": "", "expires": "2030-01-01"}]}, "waivers.0.reason"),
        (
            {"waivers": [{"policy": "x", "resource": "y", "reason": "z", "expires": "2030-01-01", "by": "me"}]},
            "waivers.0.by",
        ),
    ],
)
def test_bad_policy_config_is_one_line_naming_policy_and_field(config: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        resolve(config)
    line = str(info.value)
    assert "\n" not in line
    assert f"policy config of '{POLICY}', field '{field}'" in line


def test_unknown_key_message_lists_the_keys() -> None:
    with pytest.raises(InputError, match=r"unknown key.*psbGraceDays"):
        parse_policy_config({"grace": 1}, policy=POLICY)


# --- stack config fallback -----------------------------------------------------------------------------------------


def test_stack_config_fallback_for_every_shared_key() -> None:
    waivers = [{"policy": "p", "resource": "r", "reason": "why", "expires": "2027-01-01"}]
    stack = {
        "china-site:filings": "oss://bucket/filings.yaml",
        "china-site:today": "2026-01-01",
        "china-site:psbGraceDays": "60",
        "china-site:ownGoodsNeedPermit": "false",
        "china-site:approvedTlds": '["org"]',
        "china-site:deniedTlds": "[]",
        "china-site:requireRegistrarInChina": "false",
        "china-site:requireRealName": "true",
        "china-site:verify": "live",
        "china-site:liveTimeoutSeconds": "1.5",
        "china-site:waivers": json.dumps(waivers),
        "alicloud:region": "cn-shanghai",
    }
    s = resolve(None, stack)
    assert s.filings == "oss://bucket/filings.yaml"
    assert s.filings_origin == "stack config china-site:filings"
    assert s.today == dt.date(2026, 1, 1)
    assert s.options.psb_grace_days == 60
    assert s.options.own_goods_need_permit is False
    assert s.options.approved_tlds == ("org",)
    assert s.options.require_registrar_in_china is False and s.options.require_real_name is True
    assert (s.verify, s.live_timeout) == ("live", 1.5)
    assert s.waivers == (Waiver(policy="p", resource="r", reason="why", expires=dt.date(2027, 1, 1)),)
    assert s.stack_config["alicloud:region"] == "cn-shanghai"


def test_policy_config_wins_over_stack_config() -> None:
    s = resolve(
        {"psbGraceDays": 10, "filings": "/abs/f.yaml"}, {"china-site:psbGraceDays": "60", "china-site:filings": "x"}
    )
    assert s.options.psb_grace_days == 10
    assert s.filings == "/abs/f.yaml"


def test_relative_stack_config_path_is_read_from_the_project() -> None:
    assert resolve(None, {"china-site:filings": "data/filings.json"}).filings == "/proj/data/filings.json"


def test_secret_registry_source_is_not_shown() -> None:
    s = resolve(None, {"china-site:filings": "s3://secret-bucket/f.yaml"}, secret_keys=["china-site:filings"])
    assert s.filings == "s3://secret-bucket/f.yaml"
    assert s.filings_display == "<secret>"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [("psbGraceDays", "thirty", "cannot parse"), ("psbGraceDays", "30.5", "whole number"), ("today", "soon", "ISO")],
)
def test_bad_stack_config_names_the_key(key: str, value: str, problem: str) -> None:
    with pytest.raises(InputError) as info:
        resolve(None, {f"china-site:{key}": value})
    assert f"stack config 'china-site:{key}'" in str(info.value)
    assert problem in str(info.value)


def test_bad_secret_stack_config_does_not_echo_the_value() -> None:
    with pytest.raises(InputError) as info:
        resolve(None, {"china-site:today": "hunter2"}, secret_keys=["china-site:today"])
    assert "hunter2" not in str(info.value)


def test_read_stack_config() -> None:
    env = {
        "PULUMI_CONFIG": json.dumps({"china-site:filings": "f.yaml", "aws:tags": {"a": 1}}),
        "PULUMI_CONFIG_SECRET_KEYS": '["alicloud:secretKey"]',
    }
    config, secrets = read_stack_config(env)
    assert config == {"china-site:filings": "f.yaml", "aws:tags": '{"a": 1}'}
    assert secrets == frozenset({"alicloud:secretKey"})
    assert read_stack_config({}) == ({}, frozenset())
    with pytest.raises(InputError, match="PULUMI_CONFIG"):
        read_stack_config({"PULUMI_CONFIG": "[1, 2]"})


def test_find_project_dir(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    pack = tmp_path / "policies"
    pack.mkdir()
    assert find_project_dir(pack) == tmp_path
    lonely = tmp_path.parent / f"{tmp_path.name}-lonely"
    lonely.mkdir()
    assert find_project_dir(lonely) == lonely


# --- the JSON schema handed to Pulumi agrees with the model -----------------------------------------------------------


def test_schema_covers_every_key() -> None:
    assert set(CONFIG_SCHEMA) == set(SHARED_KEYS) == {f.alias or n for n, f in PolicyConfig.model_fields.items()}


@pytest.mark.parametrize(
    ("config", "valid"),
    [
        ({"filings": "f.yaml", "today": "2026-11-28", "psbGraceDays": 30, "verify": "live"}, True),
        ({"waivers": [{"policy": "p", "resource": "r", "reason": "x", "expires": "2027-01-01"}]}, True),
        ({"psbGraceDays": "30"}, False),
        ({"verify": "maybe"}, False),
        ({"today": "28/11/2026"}, False),
        ({"waivers": [{"policy": "p", "resource": "r", "reason": "x"}]}, False),
        ({"waivers": [{"policy": "p", "resource": "r", "reason": "x", "expires": "2027-01-01", "y": 1}]}, False),
    ],
)
def test_schema_and_model_agree(config: dict, valid: bool) -> None:
    schema = {"type": "object", "properties": CONFIG_SCHEMA}
    schema_ok = jsonschema.Draft7Validator(schema).is_valid(config)
    try:
        parse_policy_config(config, policy=POLICY)
        model_ok = True
    except InputError:
        model_ok = False
    assert schema_ok == model_ok == valid


# --- waivers ---------------------------------------------------------------------------------------------------------

URN = "urn:pulumi:dev::china-site::china-site:index:Site$alicloud:cdn/domainNew:DomainNew::site-cdn"


def waiver(policy: str = POLICY, resource: str = "site-cdn", expires: str = "2026-12-31") -> Waiver:
    return Waiver(policy=policy, resource=resource, reason="ticket", expires=dt.date.fromisoformat(expires))


@pytest.mark.parametrize("resource", [URN, "site-cdn", "*::site-*", "*DomainNew*", "site-?dn"])
def test_waiver_matches_urn_name_or_glob(resource: str) -> None:
    match = match_waiver([waiver(resource=resource)], policy=POLICY, urn=URN, name="site-cdn", today=DAY)
    assert match is not None and not match.expired


def test_waiver_policy_glob_and_rule_alias() -> None:
    assert match_waiver([waiver(policy="icp-*")], policy=POLICY, urn=URN, name="site-cdn", today=DAY)
    w = waiver(policy="psb-filing-required")
    assert match_waiver([w], policy="dns-linked-exposure", urn=URN, name="site-cdn", today=DAY) is None
    assert match_waiver([w], policy="dns-linked-exposure", urn=URN, name="site-cdn", today=DAY, rule=w.policy)


def test_waiver_not_matching() -> None:
    assert match_waiver([waiver(resource="other")], policy=POLICY, urn=URN, name="site-cdn", today=DAY) is None
    assert match_waiver([waiver(policy="domain-eligible")], policy=POLICY, urn=URN, name="site-cdn", today=DAY) is None


def test_waiver_expiry_day_is_inclusive_and_expired_is_reported() -> None:
    on_the_day = match_waiver([waiver(expires="2026-11-28")], policy=POLICY, urn=URN, name="site-cdn", today=DAY)
    assert on_the_day is not None and not on_the_day.expired
    after = match_waiver([waiver(expires="2026-11-27")], policy=POLICY, urn=URN, name="site-cdn", today=DAY)
    assert after is not None and after.expired
    assert "Waiver expired on 2026-11-27 (reason: ticket)" in after.note()
    assert "豁免有效期至 2026-11-27（含当日），现已过期" in after.note()


def test_active_waiver_wins_over_an_expired_one() -> None:
    waivers = [waiver(expires="2026-01-01"), waiver(expires="2027-01-01")]
    match = match_waiver(waivers, policy=POLICY, urn=URN, name="site-cdn", today=DAY)
    assert match is not None and not match.expired
