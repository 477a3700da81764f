"""Reports: the JSON contract, SARIF valid against the official schema, JUnit, the rich table, progress, exit code."""

from __future__ import annotations

import io
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from china_site.engine.driver import Diagnostic
from china_site.report import (
    PolicyMeta,
    Report,
    ResourceId,
    SourceSpot,
    exit_code,
    first_sentence,
    policy_message_lines,
    progress,
    render_table,
    to_json,
    to_junit,
    to_sarif,
)

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

STACK_URN = "urn:pulumi:prod::site::pulumi:pulumi:Stack::site-prod"
CDN_URN = "urn:pulumi:prod::site::china-site:index:Site$alicloud:cdn/domainNew:DomainNew::www-cdn"
BUCKET_URN = "urn:pulumi:prod::site::china-site:index:Site$alicloud:oss/bucket:Bucket::www-bucket"
CDN_TYPE = "alicloud:cdn/domainNew:DomainNew"
BUCKET_TYPE = "alicloud:oss/bucket:Bucket"

ICP_MESSAGE = (
    "Mainland exposure needs an approved ICP filing.\n"
    "www.example.cn has no approved ICP filing with Alibaba Cloud as access provider.\n"
    "www.example.cn 没有以阿里云为接入商的已通过 ICP 备案。\n"
    "Alibaba Cloud error the deploy would hit: DomainNotRegistration\n"
    "Fix: file the domain through Alibaba Cloud, or host in Hong Kong [cn-hongkong]."
)
FOOTER_MESSAGE = (
    "Mainland sites show their ICP number.\n"
    "The homepage footer does not show the ICP number.\n"
    "首页页脚未显示 ICP 备案号。"
)
REGISTRY_MESSAGE = "The filing registry must be readable.\nfilings.yaml could not be read.\n无法读取备案登记文件。"

DIAGS = [
    Diagnostic("icp-filing-required", "mandatory", CDN_URN, CDN_TYPE, "www-cdn", ICP_MESSAGE),
    Diagnostic("icp-number-displayed", "advisory", BUCKET_URN, BUCKET_TYPE, "www-bucket", FOOTER_MESSAGE),
    Diagnostic(
        "filing-registry-available", "mandatory", STACK_URN, "pulumi:pulumi:Stack", "site-prod", REGISTRY_MESSAGE
    ),
    Diagnostic("icp-number-displayed", "advisory", CDN_URN, CDN_TYPE, "www-cdn", FOOTER_MESSAGE),
]
RESOURCES = (
    ResourceId(STACK_URN, "pulumi:pulumi:Stack", "site-prod"),
    ResourceId(CDN_URN, CDN_TYPE, "www-cdn"),
    ResourceId(BUCKET_URN, BUCKET_TYPE, "www-bucket"),
)
POLICIES = [
    PolicyMeta(
        "icp-filing-required",
        "Mainland exposure needs an approved ICP filing.",
        "mandatory",
        display_name="ICP filing required",
        help_text="File the domain through Alibaba Cloud (ICP备案), or host in Hong Kong.",
        help_uri="https://beian.miit.gov.cn/",
    ),
    PolicyMeta("icp-number-displayed", "Mainland sites show their ICP number.", "advisory"),
    PolicyMeta("filing-registry-available", "The filing registry must be readable.", "mandatory"),
    PolicyMeta("psb-filing-required", "PSB filing within 30 days of launch.", "disabled"),
]


def report(diags: list[Diagnostic] | None = None) -> Report:
    return Report(
        diagnostics=DIAGS if diags is None else diags,
        resources=3,
        stack="prod",
        project="site",
        resource_ids=RESOURCES,
    )


def sarif_validate(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    return doc


# ----------------------------------------------------------------------------------------------------------------
# JSON


def test_json_matches_the_design_contract_exactly() -> None:
    doc = json.loads(to_json(report()))
    assert doc == {
        "findings": [
            {
                "policy": d.policy,
                "enforcement": d.enforcement,
                "urn": d.urn,
                "type": d.type,
                "name": d.name,
                "message": d.message,
            }
            for d in DIAGS
        ],
        "summary": {"resources": 3, "mandatory": 2, "advisory": 2},
    }
    assert list(doc) == ["findings", "summary"]
    assert list(doc["findings"][0]) == ["policy", "enforcement", "urn", "type", "name", "message"]
    assert "没有以阿里云为接入商" in to_json(report())  # readable Chinese, not \\u escapes


def test_json_without_findings() -> None:
    assert json.loads(to_json(report([]))) == {
        "findings": [],
        "summary": {"resources": 3, "mandatory": 0, "advisory": 0},
    }


# ----------------------------------------------------------------------------------------------------------------
# SARIF


def test_sarif_is_valid_and_carries_rules_results_and_locations() -> None:
    doc = sarif_validate(to_sarif(report(), policies_meta=POLICIES, artifact_uri="preview.json"))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "china-site"
    assert "informationUri" not in driver  # the project declares no home page: none invented
    assert [r["id"] for r in driver["rules"]] == [m.name for m in POLICIES]
    icp = driver["rules"][0]
    assert icp["shortDescription"]["text"] == "Mainland exposure needs an approved ICP filing."
    assert icp["fullDescription"]["text"] == "Mainland exposure needs an approved ICP filing."
    assert "File the domain through Alibaba Cloud" in icp["help"]["text"]
    assert "File the domain through Alibaba Cloud" in icp["help"]["markdown"]
    assert icp["helpUri"] == "https://beian.miit.gov.cn/"
    assert icp["name"] == "ICP filing required"
    # no severity declared: from the level (mandatory → high, advisory → medium)
    assert icp["properties"]["security-severity"] == "8.0" and "security" in icp["properties"]["tags"]
    assert driver["rules"][1]["properties"]["security-severity"] == "5.5"
    assert driver["rules"][1]["help"]["text"]  # every rule has help (GitHub requires it), even without steps
    assert driver["rules"][3]["defaultConfiguration"] == {"level": "none", "enabled": False}
    assert "security-severity" not in driver["rules"][3]["properties"]

    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("icp-filing-required", "error"),
        ("icp-number-displayed", "warning"),
        ("filing-registry-available", "error"),
        ("icp-number-displayed", "warning"),
    ]
    for result, diag in zip(results, DIAGS, strict=True):
        assert driver["rules"][result["ruleIndex"]]["id"] == diag.policy
        # the finding itself; the rule's description is the rule's fullDescription, not repeated per result
        description = next(m.description for m in POLICIES if m.name == diag.policy)
        assert result["message"]["text"] == diag.message.removeprefix(description + "\n")
        (location,) = result["locations"]
        assert location["logicalLocations"] == [{"fullyQualifiedName": diag.urn, "name": diag.name, "kind": "resource"}]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "preview.json"
        assert location["physicalLocation"]["region"]["startLine"] == 1
    assert results[1]["partialFingerprints"] != results[3]["partialFingerprints"]  # same policy, other resource


def test_sarif_first_sentence_and_full_description() -> None:
    long = PolicyMeta("p", "First sentence (see beian.miit.gov.cn). Second sentence, e.g. more.", "mandatory")
    (rule,) = json.loads(to_sarif(report([]), policies_meta=[long]))["runs"][0]["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == "First sentence (see beian.miit.gov.cn)."
    assert rule["fullDescription"]["text"] == long.description
    assert first_sentence("网站须备案。然后公安备案。") == "网站须备案。"
    assert first_sentence("No sentence end") == "No sentence end"


def test_sarif_locations_prefer_the_program_source_then_the_artifact() -> None:
    program = SourceSpot("infra/__main__.py", line=12, column=5)
    artifact = SourceSpot("plan.json", lines=40)
    full = Report(diagnostics=DIAGS, resources=3, resource_ids=RESOURCES, sources={CDN_URN: program}, artifact=artifact)
    results = sarif_validate(to_sarif(full, policies_meta=POLICIES))["runs"][0]["results"]
    physical = [r["locations"][0]["physicalLocation"] for r in results]
    assert physical[0] == {
        "artifactLocation": {"uri": "infra/__main__.py"},
        "region": {"startLine": 12, "startColumn": 5},
    }
    assert physical[1] == {"artifactLocation": {"uri": "plan.json"}, "region": {"startLine": 1, "endLine": 40}}


def test_sarif_fingerprints_are_stable_across_runs_and_messages() -> None:
    first = json.loads(to_sarif(report(), policies_meta=POLICIES, artifact_uri="a.json"))["runs"][0]["results"]
    changed = [Diagnostic(d.policy, d.enforcement, d.urn, d.type, d.name, d.message + "\n12 days left") for d in DIAGS]
    again = json.loads(to_sarif(report(changed), artifact_uri="b.json"))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in again]


def test_sarif_without_metadata_or_findings_is_still_valid() -> None:
    doc = sarif_validate(to_sarif(report()))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["icp-filing-required", "icp-number-displayed", "filing-registry-available"]
    assert all(r["fullDescription"]["text"] and r["help"]["markdown"] for r in rules)
    assert all("physicalLocation" not in r["locations"][0] for r in doc["runs"][0]["results"])
    empty = sarif_validate(to_sarif(report([]), policies_meta=POLICIES))
    assert empty["runs"][0]["results"] == []


def test_sarif_schema_rejects_a_broken_document() -> None:  # the validation above is not vacuous
    doc = json.loads(to_sarif(report()))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(doc)


# ----------------------------------------------------------------------------------------------------------------
# JUnit


def test_junit_has_a_testcase_per_resource_and_policy() -> None:
    names = [m.name for m in POLICIES]
    root = ET.fromstring(to_junit(report(), policies=names))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 3 * 4
    assert suite.get("tests") == "12" and suite.get("failures") == "2" and suite.get("errors") == "0"
    assert root.get("tests") == "12" and root.get("failures") == "2"

    by_key = {(c.get("classname"), c.get("name")): c for c in cases}
    failing = by_key[(CDN_URN, "icp-filing-required")]
    failure = failing.find("failure")
    assert failure is not None and failure.get("type") == "mandatory"
    assert failure.get("message") == "www.example.cn has no approved ICP filing with Alibaba Cloud as access provider."
    assert failure.text == ICP_MESSAGE
    assert by_key[(STACK_URN, "filing-registry-available")].find("failure") is not None

    advisory = by_key[(BUCKET_URN, "icp-number-displayed")]
    assert advisory.find("failure") is None
    out = advisory.find("system-out")
    assert out is not None and out.text is not None and "首页页脚未显示 ICP 备案号" in out.text

    passing = by_key[(BUCKET_URN, "psb-filing-required")]
    assert list(passing) == []  # a plain pass
    assert sum(1 for c in cases if c.find("failure") is not None) == 2


def test_junit_keeps_findings_outside_the_given_lists() -> None:
    root = ET.fromstring(to_junit(Report(diagnostics=DIAGS, resources=0), policies=[]))
    cases = root.findall("testsuite/testcase")
    # resources and policies are taken from the diagnostics: 3 URNs × 3 policies
    assert len(cases) == 9
    assert sum(1 for c in cases if c.find("failure") is not None) == 2


def test_junit_all_pass() -> None:
    root = ET.fromstring(to_junit(report([]), policies=["icp-filing-required"]))
    assert len(root.findall("testsuite/testcase")) == 3 and root.get("failures") == "0"


# ----------------------------------------------------------------------------------------------------------------
# Table, progress, exit code


def console() -> Console:
    return Console(record=True, width=220, color_system=None, force_terminal=False)


def test_table_groups_by_resource_and_shows_english_then_chinese() -> None:
    out = console()
    render_table(report(), out)
    text = out.export_text()
    assert text.count("alicloud:cdn/domainNew:DomainNew") == 1  # one group per resource
    assert "www-cdn" in text and "www-bucket" in text and "site-prod" in text
    assert "icp-filing-required" in text and "mandatory" in text and "advisory" in text
    assert "www.example.cn has no approved ICP filing" in text
    assert "www.example.cn 没有以阿里云为接入商的已通过 ICP 备案。" in text
    assert "DomainNotRegistration" not in text  # only the first two lines of the policy's message…
    assert "Mainland exposure needs an approved ICP filing." not in text  # …after the policy description
    assert "3 resources checked: 2 mandatory, 2 advisory" in text
    assert "已检查 3 个资源" in text


def test_policy_message_lines() -> None:
    icp = DIAGS[0]
    assert policy_message_lines(icp, "Mainland exposure needs an approved ICP filing.")[:2] == [
        "www.example.cn has no approved ICP filing with Alibaba Cloud as access provider.",
        "www.example.cn 没有以阿里云为接入商的已通过 ICP 备案。",
    ]
    assert (
        policy_message_lines(icp)[:2]
        == policy_message_lines(icp, "Mainland exposure needs an approved ICP filing.")[:2]
    )
    unknown = Diagnostic("p", "advisory", CDN_URN, CDN_TYPE, "www-cdn", "can't run policy 'p' … during preview")
    assert policy_message_lines(unknown) == ["can't run policy 'p' … during preview"]
    bare = Diagnostic("p", "advisory", CDN_URN, CDN_TYPE, "www-cdn", "Description only.\nOne line.")
    assert policy_message_lines(bare, "Description only.") == ["One line."]
    assert policy_message_lines(bare, "Another description.") == ["Description only.", "One line."]


def test_report_policies_feed_sarif_junit_and_table() -> None:
    full = Report(diagnostics=DIAGS, resources=3, resource_ids=RESOURCES, policies=tuple(POLICIES))
    rules = json.loads(to_sarif(full))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [m.name for m in POLICIES]
    assert len(ET.fromstring(to_junit(full)).findall("testsuite/testcase")) == 12
    out = console()
    render_table(full, out)
    assert "www.example.cn 没有以阿里云为接入商的已通过 ICP 备案。" in out.export_text()


def test_table_colours_levels() -> None:
    out = Console(record=True, width=220, force_terminal=True, color_system="truecolor")
    render_table(report(), out)
    html = out.export_html(inline_styles=True)
    assert "color: #800000" in html or "color: #ff0000" in html  # red for mandatory
    assert "color: #808000" in html or "color: #ffff00" in html  # yellow for advisory


def test_table_with_markup_like_text_and_no_findings() -> None:
    diag = Diagnostic("p", "advisory", BUCKET_URN, BUCKET_TYPE, "www-bucket", "Desc.\nvalue is [secret] [bold]x[/bold]")
    out = console()
    render_table(report([diag]), out)
    assert "value is [secret] [bold]x[/bold]" in out.export_text()
    out = console()
    render_table(report([]), out)
    text = out.export_text()
    assert "No findings" in text and "3 resources checked: 0 mandatory, 0 advisory" in text


def test_exit_code() -> None:
    assert exit_code(report()) == 1
    assert exit_code(report([d for d in DIAGS if d.enforcement == "advisory"])) == 0
    assert exit_code(report([])) == 0


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(range(5), 5, enabled=True)) == [0, 1, 2, 3, 4]
    assert err.getvalue() == ""


def test_progress_draws_on_a_terminal_stderr_only(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    err = _TTY()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress(iter("abc"), 3, enabled=True)) == ["a", "b", "c"]
    assert list(progress(iter("abc"), 3, enabled=False)) == ["a", "b", "c"]
    assert capsys.readouterr().out == ""  # never on stdout


def test_sarif_severity_and_level_come_from_the_packs_severity() -> None:
    metas = [
        PolicyMeta("icp-filing-required", "ICP.", "mandatory", severity="critical"),
        PolicyMeta("icp-number-displayed", "Footer.", "advisory", severity="low"),
        PolicyMeta("filing-registry-available", "Registry.", "mandatory", severity="high"),
    ]
    run = sarif_validate(to_sarif(report(), policies_meta=metas))["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["icp-filing-required"]["properties"]["security-severity"] == "9.5"  # GitHub: critical
    assert rules["filing-registry-available"]["properties"]["security-severity"] == "8.0"  # high
    assert rules["icp-number-displayed"]["properties"]["security-severity"] == "3.0"  # low
    assert rules["icp-number-displayed"]["defaultConfiguration"]["level"] == "note"
    assert rules["icp-number-displayed"]["properties"]["problem.severity"] == "recommendation"
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert levels == {
        ("icp-filing-required", "error"),
        ("icp-number-displayed", "note"),
        ("filing-registry-available", "error"),
    }
    # a low-severity policy raised to mandatory still blocks: an error
    raised = [PolicyMeta("icp-number-displayed", "Footer.", "mandatory", severity="low")]
    diag = Diagnostic("icp-number-displayed", "mandatory", CDN_URN, CDN_TYPE, "www-cdn", FOOTER_MESSAGE)
    (result,) = json.loads(to_sarif(report([diag]), policies_meta=raised))["runs"][0]["results"]
    assert result["level"] == "error"


def test_sarif_information_uri_is_the_declared_project_home(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    class Meta:
        def get_all(self, key: str) -> list[str]:
            assert key == "Project-URL"
            return ["Issues, https://example.org/issues", "Repository, https://example.org/china-site"]

    monkeypatch.setattr(metadata, "metadata", lambda name: Meta())
    driver = json.loads(to_sarif(report()))["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/china-site"


def test_junit_not_applicable_checks_are_skipped_and_stack_policies_judge_the_stack_once() -> None:
    metas = [
        PolicyMeta("icp-filing-required", "ICP.", "mandatory"),
        PolicyMeta("filing-registry-available", "Registry.", "mandatory", stack=True),
    ]
    full = Report(
        diagnostics=[DIAGS[0]],
        resources=3,
        resource_ids=RESOURCES,
        policies=tuple(metas),
        not_applicable=frozenset({(BUCKET_URN, "icp-filing-required"), (STACK_URN, "icp-filing-required")}),
    )
    root = ET.fromstring(to_junit(full))
    cases = {(c.get("classname"), c.get("name")): c for c in root.findall("testsuite/testcase")}
    # 3 resources × the resource policy + the stack policy once, on the stack
    assert sorted(cases) == sorted(
        [
            (STACK_URN, "icp-filing-required"),
            (CDN_URN, "icp-filing-required"),
            (BUCKET_URN, "icp-filing-required"),
            (STACK_URN, "filing-registry-available"),
        ]
    )
    assert cases[(BUCKET_URN, "icp-filing-required")].find("skipped") is not None
    assert cases[(CDN_URN, "icp-filing-required")].find("failure") is not None  # a finding is never skipped
    assert cases[(STACK_URN, "filing-registry-available")].find("skipped") is None  # applied and passed
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "2" and suite.get("tests") == "4"


def test_json_lists_each_policys_full_description() -> None:
    meta = PolicyMeta("icp-filing-required", "One sentence.", "mandatory", severity="critical", details="Long. Text.")
    doc = json.loads(to_json(Report(diagnostics=[], resources=0, policies=(meta,))))
    assert doc["policies"] == [
        {
            "name": "icp-filing-required",
            "enforcement": "mandatory",
            "severity": "critical",
            "kind": "resource",
            "description": "Long. Text.",
            "remediation": None,
            "url": None,
        }
    ]


def test_codequality_is_gitlabs_issue_list() -> None:
    from china_site.report import to_codequality

    metas = (
        PolicyMeta("icp-filing-required", "Mainland exposure needs an approved ICP filing.", "mandatory"),
        PolicyMeta("icp-number-displayed", "Mainland sites show their ICP number.", "advisory", severity="low"),
    )
    full = Report(
        diagnostics=DIAGS,
        resources=3,
        resource_ids=RESOURCES,
        policies=metas,
        sources={CDN_URN: SourceSpot("infra/__main__.py", line=12)},
        artifact=SourceSpot("plan.json", lines=40),
    )
    issues = json.loads(to_codequality(full))
    assert len(issues) == len(DIAGS) and len({i["fingerprint"] for i in issues}) == len(DIAGS)
    icp = issues[0]
    assert icp["check_name"] == "icp-filing-required" and icp["severity"] == "blocker"
    assert icp["description"] == (
        "[mandatory] www-cdn: www.example.cn has no approved ICP filing with Alibaba Cloud as access provider."
    )
    assert "Fix:" in icp["content"]["body"] and "没有以阿里云为接入商" in icp["content"]["body"]
    assert icp["location"] == {"path": "infra/__main__.py", "lines": {"begin": 12}}
    footer = issues[1]
    assert footer["severity"] == "info" and footer["location"] == {"path": "plan.json", "lines": {"begin": 1}}
    assert json.loads(to_codequality(report([]))) == []
