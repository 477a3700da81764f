"""No traceback for any input (issue 22, item 4): every hostile input below is one line on stderr and exit 2.

Each family: event fields of the wrong type, numbers too long for Python's int conversion, nesting deep enough to
exhaust the decoder's recursion, policy config entries of the wrong type, dates at the end of the calendar and
duplicate keys in stack config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from china_site.cli import app

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "data" / "engine" / "mainland-unfiled-up-events.jsonl"
EXPORT = ROOT / "tests" / "data" / "engine" / "hongkong-state-export.json"
REGISTRY = ROOT / "filings.yaml"
runner = CliRunner()


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output[-3000:])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) < 1000
    return lines[0]


def audit(path: Path, *args: str) -> Any:
    return runner.invoke(app, ["audit", str(path), "--filings", str(REGISTRY), "--today", "2026-11-28", *args])


def events_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(EVENTS.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra + "\n", encoding="utf-8")
    return path


# --- event fields of the wrong type ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["preludeEvent", "summaryEvent", "policyAnalyzeSummaryEvent", "prelude_event"])
@pytest.mark.parametrize("value", ["5", "[1]", '"text"', "true"])
def test_an_event_payload_that_is_not_an_object_is_one_line(tmp_path: Path, key: str, value: str) -> None:
    line = one_line_error(audit(events_with(tmp_path, f'{{"sequence": 99, "{key}": {value}}}')))
    assert "event" in line and "expected an object" in line


@pytest.mark.parametrize(
    "payload",
    [
        '{"preludeEvent": {"config": {"a": 1}, "x": 1}, "sequence": 99}',  # fine: config values may be any JSON
        '{"summaryEvent": {"policyPacks": {"china-site|local|p": "1"}}, "sequence": 99}',
    ],
)
def test_well_formed_payloads_still_pass(tmp_path: Path, payload: str) -> None:
    assert audit(events_with(tmp_path, payload)).exit_code == 1  # the sample's one mandatory finding


@pytest.mark.parametrize(
    "payload",
    [
        '{"summaryEvent": {"policyPacks": [1, 2]}, "sequence": 99}',
        '{"summaryEvent": {"policyPacks": {"china-site|local|p": {"v": 1}}}, "sequence": 99}',
        '{"policyAnalyzeSummaryEvent": {"policyPackName": 5}, "sequence": 99}',
        '{"preludeEvent": {"config": [1]}, "sequence": 99}',
    ],
)
def test_nested_event_fields_of_the_wrong_type_are_one_line(tmp_path: Path, payload: str) -> None:
    line = one_line_error(audit(events_with(tmp_path, payload)))
    assert "field '" in line


# --- numbers and nesting -----------------------------------------------------------------------------------------


def test_a_number_of_5000_digits_in_an_export_is_one_line(tmp_path: Path) -> None:
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    text = json.dumps(doc).replace('"version": 3', '"version": ' + "9" * 5000, 1)
    assert "9" * 5000 in text
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    assert "digits" in one_line_error(audit(path))


def test_a_number_of_5000_digits_in_an_event_line_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(audit(events_with(tmp_path, '{"sequence": ' + "9" * 5000 + ', "stdoutEvent": {}}')))
    assert "digits" in line and "line" in line


def test_an_event_line_nested_1000_deep_is_one_line(tmp_path: Path) -> None:
    deep = '{"sequence": 99, "stdoutEvent": {"x": ' + "[" * 1000 + "]" * 1000 + "}}"
    assert "nested" in one_line_error(audit(events_with(tmp_path, deep)))
    deep = '{"sequence": 99, "stdoutEvent": {"x": ' + "[" * 300 + "]" * 300 + "}}"  # deeper than any real event
    assert "nested" in one_line_error(audit(events_with(tmp_path, deep)))


def test_a_long_number_in_the_policy_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"psb-filing-due": {"psbGraceDays": ' + "9" * 5000 + "}}", encoding="utf-8")
    assert "digits" in one_line_error(audit(EVENTS, "--policy-config", str(config)))


def test_a_long_number_inside_a_secret_plaintext_is_one_line(tmp_path: Path) -> None:
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    resources = doc["deployment"]["resources"]
    target = next(r for r in resources if r.get("inputs"))
    target["inputs"]["hidden"] = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                  "plaintext": "9" * 5000}  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    one_line_error(audit(path))


# --- policy config entries of the wrong type ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["5", "null", "[]", "true", "1.5"])
@pytest.mark.parametrize("policy", ["icp-filing-required", "all"])
def test_a_policy_config_entry_of_the_wrong_type_is_one_line(tmp_path: Path, value: str, policy: str) -> None:
    config = tmp_path / "config.json"
    config.write_text(f'{{"{policy}": {value}}}', encoding="utf-8")
    line = one_line_error(audit(EVENTS, "--policy-config", str(config)))
    assert policy in line and "enforcement level" in line
    config.write_text(f'{{"version": 2, "policies": {{"{policy}": {value}}}}}', encoding="utf-8")
    assert policy in one_line_error(audit(EVENTS, "--policy-config", str(config)))


def test_a_policy_config_entry_of_the_right_type_still_passes(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"icp-filing-required": "advisory", "all": "mandatory"}', encoding="utf-8")
    assert audit(EVENTS, "--policy-config", str(config)).exit_code in (0, 1)


# --- registries: validate and every filings command accept the same -----------------------------------------------


@pytest.mark.parametrize("launched", ["9999-12-31", "9999-12-01", "0001-01-01"])
def test_every_filings_command_accepts_what_validate_accepts(tmp_path: Path, launched: str) -> None:
    text = REGISTRY.read_text(encoding="utf-8")
    path = tmp_path / "filings.yaml"
    path.write_text(text.replace("launched: 2026-11-10", f"launched: {launched}", 1), encoding="utf-8")
    assert f"launched: {launched}" in path.read_text(encoding="utf-8")
    assert runner.invoke(app, ["filings", "validate", str(path)]).exit_code == 0
    for args in (
        ["filings", "expiring", "--filings", str(path), "--within", "30"],
        ["filings", "expiring", "--filings", str(path), "--within", "30", "--format", "json"],
        ["filings", "expiring", "--filings", str(path), "--within", "999999999"],
        ["filings", "expiring", "--filings", str(path), "--within", "30", "--today", "9999-12-30"],
        ["filings", "show", "mingyue-gift.cn", "--filings", str(path)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output[-2000:])
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))


# --- stack config --------------------------------------------------------------------------------------------------


def test_a_duplicate_key_in_the_stack_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  demo:domain: www.example.cn\n  demo:domain: www.other.cn\n", encoding="utf-8"
    )
    (tmp_path / "__main__.py").write_text("import pulumi\n", encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["preflight", str(tmp_path)]))
    assert "Pulumi.dev.yaml" in line and "duplicate key" in line and "demo:domain" in line
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nname: other\nruntime: python\n", encoding="utf-8")
    assert "duplicate key" in one_line_error(runner.invoke(app, ["preflight", str(tmp_path)]))


# --- JSON inside other inputs: stack config values, PULUMI_CONFIG, bucket policy documents ---------------------------


def test_json_inside_stack_config_and_bucket_policies_is_bounded() -> None:
    from china_site.errors import InputError
    from china_site.exposure_deciders import _policy_public
    from china_site.policy_config import _decode_stack_value, read_stack_config

    with pytest.raises(InputError, match="cannot parse"):
        _decode_stack_value("psbGraceDays", "9" * 5000, secret=False)
    with pytest.raises(InputError, match="cannot parse"):
        _decode_stack_value("approvedTlds", "[" * 1000 + "]" * 1000, secret=False)
    with pytest.raises(InputError, match="PULUMI_CONFIG"):
        read_stack_config({"PULUMI_CONFIG": '{"a": ' + "9" * 5000 + "}"})
    assert read_stack_config({"PULUMI_CONFIG": '{"a": 5}'})[0] == {"a": "5"}
    # An unreadable bucket policy is read the stricter way (public), whatever makes it unreadable.
    assert _policy_public("[" * 1000 + "]" * 1000) is True
    assert _policy_public('{"Statement": [{"Effect": "Allow", "Principal": ' + "9" * 5000 + "}]}") is True
    assert _policy_public('{"Statement": [{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::1:root"]}}]}') is False
