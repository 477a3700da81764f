"""Our reports and recipes, read by the real consumers (not only by schemas):

* every kind of SARIF report (findings or none, secrets masked, advisory only, many findings, hostile names, audit
  and preflight through the CLI) through Microsoft's SARIF Multitool with GitHub's rules — once, over one directory;
* JUnit through junitparser (counts, failures, messages round-trip) and the JUnit schema of Jenkins' xUnit plugin
  (tests/data/junit-10.xsd), including control characters, CDATA terminators and non-BMP characters in names;
* the CI recipes of docs/recipes (embedded in the README): GitHub workflows through actionlint, the GitLab job
  against GitLab's CI schema, the Automation API example's logic, the Pulumi ESC environment's shape.

The tools are installed into a cache outside the checkout (tests/consumer_tools.py); a tool that cannot be
installed fails the test with the reason.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
import xmlschema
import yaml
from consumer_tools import ToolUnavailable, run_actionlint, validate_sarif
from junitparser import Failure, JUnitXml
from registry_data import TODAY, write_registry
from test_report import CDN_URN, DIAGS, POLICIES, RESOURCES
from typer.testing import CliRunner

from china_site.cli import app
from china_site.engine.driver import Diagnostic
from china_site.report import Report, ResourceId, SourceSpot, policy_message_lines, to_junit, to_sarif, xml_text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ALICLOUD = DATA / "alicloud"
RECIPES = ROOT / "docs" / "recipes"
runner = CliRunner()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Names a resource can have (a URN's name is free text) that break naive XML or markup.
HOSTILE_NAMES = [
    "esc\x1b[31mred\x1b[0m",
    "nul\x00bel\x07vt\x0bff\x0c",
    "cdata]]>end",
    "<script>alert(1)</script>&amp;",
    "emoji😀-ext-b𠀀-music𝄞",
    "lone\ud800surrogate",
    "tab\tnew\nline",
]


def _hostile_report() -> Report:
    diags, resources = [], []
    for i, name in enumerate(HOSTILE_NAMES):
        urn = f"urn:pulumi:prod::site::alicloud:cdn/domainNew:DomainNew::{name}"
        resources.append(ResourceId(urn, "alicloud:cdn/domainNew:DomainNew", name))
        level = "mandatory" if i % 2 == 0 else "advisory"
        message = f"Desc.\n{name} serves {name}.example.cn without a filing.\n{name} 没有备案。"
        diags.append(Diagnostic("icp-filing-required", level, urn, "alicloud:cdn/domainNew:DomainNew", name, message))
    return Report(diagnostics=diags, resources=len(resources), resource_ids=tuple(resources), stack="prod")


def _many_report(n: int = 300) -> Report:
    diags, resources = [], []
    for i in range(n):
        urn = f"urn:pulumi:prod::site::alicloud:cdn/domainNew:DomainNew::www{i}-cdn"
        resources.append(ResourceId(urn, "alicloud:cdn/domainNew:DomainNew", f"www{i}-cdn"))
        diags.append(Diagnostic("icp-filing-required", "mandatory", urn, "t", f"www{i}-cdn", f"D.\nwww{i} unfiled."))
        diags.append(Diagnostic("icp-number-displayed", "advisory", urn, "t", f"www{i}-cdn", f"D.\nwww{i} footer."))
    return Report(diagnostics=diags, resources=n, resource_ids=tuple(resources), policies=tuple(POLICIES))


def _hostile_artifact(directory: Path) -> Path:
    """The unfiled export with hostile resource names, written as Pulumi would (ASCII with \\u escapes), plus a
    lone surrogate escape that only a hand-edited file can hold."""
    doc = json.loads((ALICLOUD / "mainland-unfiled-export-v4.json").read_text(encoding="utf-8"))
    for res in doc["deployment"]["resources"]:
        if res["type"] == "alicloud:cdn/domainNew:DomainNew":
            res["urn"] = res["urn"].replace("::www-cdn", "::www\x1b[31m]]><b>&\ud800😀𠀀-cdn")
    path = directory / "hostile.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_hostile_artifact_gives_valid_reports(tmp_path: Path, junit_schema: xmlschema.XMLSchema) -> None:
    artifact = str(_hostile_artifact(tmp_path))
    registry = str(write_registry(tmp_path))
    for fmt in ("junit", "sarif", "json", "table"):
        out = tmp_path / f"report.{fmt}"
        args = ["audit", artifact, "--filings", registry, "--today", TODAY, "--format", fmt, "--output", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (fmt, result.output)
    junit_schema.validate(str(tmp_path / "report.junit"))
    cases = list(_cases((tmp_path / "report.junit").read_text(encoding="utf-8")))
    (failed,) = [c for c in cases if any(type(r).__name__ == "Failure" for r in c.result)]
    assert failed.classname.endswith("::www\\x1b[31m]]><b>&\ufffd😀𠀀-cdn")  # escape visible, surrogate replaced
    doc = json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8"))
    assert (
        doc["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0]["name"]
        == "www\x1b[31m]]><b>&\ufffd😀𠀀-cdn"
    )


def _report(diags: list[Diagnostic], **kwargs: Any) -> Report:
    return Report(diagnostics=diags, resources=3, resource_ids=RESOURCES, project="site", stack="prod", **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# SARIF through the Multitool


# pytest-xdist tears fixtures down between the batches it hands a worker, even module- and session-scoped ones:
# the corpus and the Multitool's verdict are kept per process instead, so each is made once.
_ONCE: dict[str, Any] = {}


@pytest.fixture
def sarif_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "corpus" not in _ONCE:
        _ONCE["corpus"] = _make_corpus(tmp_path_factory)
    return cast(Path, _ONCE["corpus"])


def _make_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind of SARIF report we write, in one directory."""
    out = tmp_path_factory.mktemp("sarif-corpus")
    advisory = [d for d in DIAGS if d.enforcement == "advisory"]
    unit = {
        "unit-findings": to_sarif(_report(DIAGS), policies_meta=POLICIES, artifact_uri="plan.json"),
        "unit-no-findings": to_sarif(_report([]), policies_meta=POLICIES, artifact_uri="plan.json"),
        "unit-advisory-only": to_sarif(_report(advisory), policies_meta=POLICIES, artifact_uri="plan.json"),
        "unit-no-metadata": to_sarif(_report(DIAGS), artifact_uri="plan.json"),
        "unit-many": to_sarif(_many_report(), artifact_uri=SourceSpot("plan.json", lines=9000)),
        "unit-hostile-names": to_sarif(_hostile_report(), artifact_uri="plan.json"),
        "unit-source-lines": to_sarif(
            _report(
                DIAGS,
                sources={CDN_URN: SourceSpot("infra/__main__.py", line=12, column=5)},
                artifact=SourceSpot("plan.json", lines=40),
            ),
            policies_meta=POLICIES,
        ),
    }
    for name, text in unit.items():
        (out / f"{name}.sarif").write_text(text, encoding="utf-8")
    registry = str(write_registry(tmp_path_factory.mktemp("consumers-registry")))
    hostile = _hostile_artifact(tmp_path_factory.mktemp("hostile"))
    cli = {
        "audit-hostile-names": ["audit", str(hostile), "--filings", registry],
        "audit-finding": ["audit", str(ALICLOUD / "mainland-unfiled-export-v4.json"), "--filings", registry],
        "audit-clean": ["audit", str(ALICLOUD / "mainland-filed-export-v3.json"), "--filings", registry],
        "audit-secrets-masked": ["audit", str(ALICLOUD / "secrets-export-show-secrets.json"), "--filings", registry],
        "audit-advisory-only": ["audit", str(ALICLOUD / "unknowns-preview.json"), "--filings", registry],
        "audit-registry-missing": ["audit", str(ALICLOUD / "mainland-unfiled-export-v4.json"), "--filings", "no.yaml"],
        "preflight-refused": ["preflight", str(ROOT), "--stack", "mainland", "--filings", registry],
    }
    for name, args in cli.items():
        path = out / f"{name}.sarif"
        result = runner.invoke(app, [*args, "--today", TODAY, "--format", "sarif", "--output", str(path)])
        assert result.exit_code in (0, 1), (name, result.output)
    stdin = runner.invoke(
        app,
        ["audit", "-", "--filings", registry, "--today", TODAY, "--format", "sarif"],
        input=(ALICLOUD / "region-in-config-preview.json").read_text(encoding="utf-8"),
    )
    assert stdin.exit_code == 1, stdin.output
    (out / "audit-stdin.sarif").write_text(stdin.stdout, encoding="utf-8")
    return out


def _old_shape(directory: Path) -> Path:
    """A report in the shape the issue found (no fullDescription, no informationUri, no region): the Multitool
    must flag it, or its silence on our reports means nothing."""
    doc = json.loads(to_sarif(_report(DIAGS), policies_meta=POLICIES, artifact_uri="plan.json"))
    driver = doc["runs"][0]["tool"]["driver"]
    driver.pop("informationUri", None)
    del driver["rules"][0]["fullDescription"]
    del doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    path = directory / "old-shape.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def multitool_problems(sarif_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One Multitool run over the whole corpus and the old-shape control."""
    if "multitool" not in _ONCE:
        work = tmp_path_factory.mktemp("multitool")
        files = [*sorted(sarif_corpus.glob("*.sarif")), _old_shape(work)]
        try:
            _ONCE["multitool"] = validate_sarif(files, work)
        except ToolUnavailable as exc:
            _ONCE["multitool"] = exc
    found = _ONCE["multitool"]
    if isinstance(found, ToolUnavailable):
        pytest.fail(f"SARIF Multitool unavailable: {found}", pytrace=False)
    return cast(dict[str, list[str]], found)


def test_the_multitool_with_github_rules_reports_nothing_on_any_report(
    sarif_corpus: Path, multitool_problems: dict[str, list[str]]
) -> None:
    files = sorted(p.name for p in sarif_corpus.glob("*.sarif"))
    assert len(files) == 15
    assert set(files) <= set(multitool_problems)  # every file was read
    from china_site.report import information_uri

    # informationUri is the home page the project declares ([project.urls]); with none declared it is left out rather
    # than invented, and that is the one note SARIF2005 may give
    def real(problem: str) -> bool:
        return information_uri() is not None or not (problem.startswith("SARIF2005") and "informationUri" in problem)

    problems = {
        name: [p for p in found if real(p)]
        for name, found in multitool_problems.items()
        if name != "old-shape.sarif" and any(real(p) for p in found)
    }
    assert problems == {}, "\n".join(f"{n}: {p}" for n, found in problems.items() for p in found)
    # …and it is not silent by construction: the old shape is flagged by GitHub's and SARIF's rules
    rules = {p.split()[0] for p in multitool_problems["old-shape.sarif"]}
    assert {"GH2012", "SARIF2005", "SARIF2017"} <= rules, multitool_problems["old-shape.sarif"]
    # the same reports, read for what GitHub shows: relative locations only, and preflight on the program's lines
    _assert_no_absolute_path(sarif_corpus)
    _assert_preflight_points_at_the_program(sarif_corpus)


def _assert_no_absolute_path(sarif_corpus: Path) -> None:
    for path in sarif_corpus.glob("*.sarif"):
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text and "file://" not in text, path.name
        for result in json.loads(text)["runs"][0]["results"]:
            physical = result["locations"][0].get("physicalLocation")
            if physical is not None:
                assert not physical["artifactLocation"]["uri"].startswith("/"), path.name
                assert physical["region"]["startLine"] >= 1


def test_registry_is_named_as_the_user_gave_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    artifact = str(ALICLOUD / "mainland-unfiled-export-v4.json")
    out = runner.invoke(app, ["audit", artifact, "--filings", "no.yaml", "--today", TODAY, "--format", "sarif"])
    assert out.exit_code == 1, out.output
    assert str(tmp_path) not in out.stdout
    doc = json.loads(out.stdout)
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "filing-registry-available"
    assert "the filing registry no.yaml cannot be used" in result["message"]["text"]
    assert "validate no.yaml" in result["message"]["text"]


def test_preflight_error_names_the_registry_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["preflight", str(ROOT), "--stack", "mainland", "--filings", "missing/filings.yaml"])
    assert result.exit_code == 2
    assert "missing/filings.yaml: file not found" in result.output
    assert str(tmp_path) not in result.output


# ---------------------------------------------------------------------------------------------------------------
# SARIF locations from the artifact's source positions (issue 12, item 5)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a Pulumi project in infra/ (cwd), and an export whose Site carries a source position."""
    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "Pulumi.yaml").write_text("name: shop\nruntime: python\n", encoding="utf-8")
    (infra / "__main__.py").write_text("import pulumi\n\n\n\nsite = Site('www')\n", encoding="utf-8")
    doc = json.loads((ALICLOUD / "mainland-unfiled-export-v4.json").read_text(encoding="utf-8"))
    for res in doc["deployment"]["resources"]:
        if res["type"] == "china-site:index:Site":
            res["sourcePosition"] = "project:///__main__.py#5,8"
        if res["type"] == "alicloud:oss/bucket:Bucket":  # registered inside an installed library
            res["sourcePosition"] = "file:///usr/lib/python3/site-packages/china_site/components/site.py#80,9"
    (tmp_path / "state.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    monkeypatch.chdir(infra)
    return tmp_path


def _audit_sarif(artifact: str, registry: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["audit", artifact, "--filings", str(registry), "--today", TODAY, "--format", "sarif"])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_results_point_at_the_program_line_that_declared_the_resource(repo: Path) -> None:
    registry = write_registry(repo)
    doc = _audit_sarif("../state.json", registry)
    (result,) = doc["runs"][0]["results"]
    assert result["locations"][0]["logicalLocations"][0]["name"] == "www-cdn"
    # the CDN domain has no position of its own: its parent, the Site, was declared at infra/__main__.py:5
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/__main__.py"},
        "region": {"startLine": 5, "startColumn": 8},
    }


def test_without_a_usable_source_position_results_point_at_the_resource_in_the_artifact(repo: Path) -> None:
    registry = write_registry(repo)
    (repo / "infra" / "__main__.py").unlink()  # a position naming a file not in this checkout is not used
    doc = _audit_sarif("../state.json", registry)
    physical = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "state.json"  # relative to the repository root
    lines = (repo / "state.json").read_text(encoding="utf-8").splitlines()
    assert (
        '"urn": "urn:pulumi:prod::shop::china-site:index:Site$alicloud:cdn'
        in lines[physical["region"]["startLine"] - 1]
    )


PROGRAM_LINE = {"artifactLocation": {"uri": "infra/__main__.py"}, "region": {"startLine": 5, "startColumn": 8}}


def test_from_a_monorepo_root_results_still_point_at_the_program(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the repository root holds no Pulumi.yaml: the project is the one below whose Pulumi.yaml names the artifact's
    registry = write_registry(repo)
    (repo / "other").mkdir()
    (repo / "other" / "Pulumi.yaml").write_text("name: blog\nruntime: python\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    doc = _audit_sarif("state.json", registry)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"] == PROGRAM_LINE


def test_project_root_option_names_the_program_folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = write_registry(repo)
    (repo / "copy").mkdir()
    (repo / "copy" / "Pulumi.yaml").write_text("name: shop\nruntime: python\n", encoding="utf-8")  # ambiguous
    monkeypatch.chdir(repo)
    args = ["audit", "state.json", "--filings", str(registry), "--today", TODAY, "--format", "sarif"]
    guessed = json.loads(runner.invoke(app, args).stdout)
    # two projects named shop below: not guessed, the results point at the artifact
    assert guessed["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "state.json"
    )
    result = runner.invoke(app, [*args, "--project-root", "infra"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"] == PROGRAM_LINE
    missing = runner.invoke(app, [*args, "--project-root", "nowhere"])
    assert missing.exit_code == 2 and "--project-root nowhere" in missing.output


def _assert_preflight_points_at_the_program(sarif_corpus: Path) -> None:
    """The program run records where each resource was registered; a resource registered inside a library
    (the provider, in site-packages) takes its parent's line in the program."""
    doc = json.loads((sarif_corpus / "preflight-refused.sarif").read_text(encoding="utf-8"))
    results = doc["runs"][0]["results"]
    assert results
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        path = ROOT / physical["artifactLocation"]["uri"]
        assert path.is_file() and path.suffix == ".py", physical
        assert 1 <= physical["region"]["startLine"] <= len(path.read_text(encoding="utf-8").splitlines())
    site = [r for r in results if r["locations"][0]["logicalLocations"][0]["name"] == "site"]
    assert site and site[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "__main__.py"


# ---------------------------------------------------------------------------------------------------------------
# JUnit through junitparser and the Jenkins xUnit schema


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))


def _junit_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, str]]:
    registry = str(write_registry(tmp_path_factory.mktemp("junit-registry")))
    reports = {
        "findings": _report(DIAGS, policies=tuple(POLICIES)),
        "none": _report([], policies=tuple(POLICIES)),
        "hostile": _hostile_report(),
        "many": _many_report(),
    }
    out = {name: (r, to_junit(r)) for name, r in reports.items()}
    cli = runner.invoke(
        app,
        ["audit", str(ALICLOUD / "mainland-unfiled-export-v4.json"), "--filings", registry, "--today", TODAY,
         "--format", "junit"],
    )  # fmt: skip
    assert cli.exit_code == 1, cli.output
    out["audit"] = (Report(diagnostics=[], resources=0), cli.stdout)
    return out


@pytest.fixture(scope="module")
def junit_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, str]]:
    return _junit_reports(tmp_path_factory)


@pytest.mark.parametrize("name", ["findings", "none", "hostile", "many", "audit"])
def test_junit_validates_against_the_jenkins_schema(
    name: str, junit_reports: dict[str, tuple[Report, str]], junit_schema: xmlschema.XMLSchema
) -> None:
    _, text = junit_reports[name]
    junit_schema.validate(text.encode("utf-8"))


def test_the_junit_schema_is_not_vacuous(junit_schema: xmlschema.XMLSchema) -> None:
    assert not junit_schema.is_valid(b"<testsuites><testsuite><testcase/></testsuite></testsuites>")


def _cases(text: str) -> Iterator[Any]:
    xml = JUnitXml.fromstring(text.encode("utf-8"))
    for suite in xml:
        yield from suite


@pytest.mark.parametrize("name", ["findings", "none", "hostile", "many"])
def test_junit_round_trips_through_junitparser(name: str, junit_reports: dict[str, tuple[Report, str]]) -> None:
    report, text = junit_reports[name]
    xml = JUnitXml.fromstring(text.encode("utf-8"))
    (suite,) = list(xml)
    resources = {r.urn for r in report.resource_ids} | {d.urn for d in report.diagnostics}
    policies = {m.name for m in report.policies} | {d.policy for d in report.diagnostics}
    assert suite.tests == len(resources) * len(policies)
    failing = {(d.urn, d.policy) for d in report.diagnostics if d.enforcement == "mandatory"}
    assert suite.failures == len(failing) and suite.errors == 0
    by_key = {(case.classname, case.name): case for case in suite}
    descriptions = {m.name: m.description for m in report.policies}
    assert len(by_key) == suite.tests
    for d in report.diagnostics:
        case = by_key[(xml_text(d.urn), xml_text(d.policy))]
        failures = [r for r in case.result if isinstance(r, Failure)]
        if d.enforcement == "mandatory":
            (failure,) = failures
            first = policy_message_lines(d, descriptions.get(d.policy))[0]
            assert failure.message == xml_text(first)
            assert xml_text(d.message) in (failure.text or "")
        else:
            assert not failures
            assert xml_text(d.message) in (case.system_out or "")


def test_hostile_names_survive_as_text_and_markup_stays_text(junit_reports: dict[str, tuple[Report, str]]) -> None:
    _, text = junit_reports["hostile"]
    names = {case.classname.rsplit("::", 1)[-1] for case in _cases(text)}
    assert "cdata]]>end" in names and "<script>alert(1)</script>&amp;" in names
    assert "emoji😀-ext-b𠀀-music𝄞" in names  # non-BMP characters kept as they are
    assert "esc\\x1b[31mred\\x1b[0m" in names and "nul\\x00bel\\x07vt\\x0bff\\x0c" in names  # visible escapes
    assert "lone\\ud800surrogate" in names
    assert "tab\tnew\nline" in names  # tab and newline are XML characters (attribute character references)
    assert "<script>" not in text and "]]>" not in text.replace("]]&gt;", "")


def test_xml_text_only_touches_what_xml_cannot_carry() -> None:
    assert xml_text("备案 😀 ]]> <a> & \t\n") == "备案 😀 ]]> <a> & \t\n"
    assert xml_text("\x1b\x00\ufffe") == "\\x1b\\x00\\ufffe"


# ---------------------------------------------------------------------------------------------------------------
# Recipes: docs/recipes, embedded in the README


def _yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```ya?ml\n(.*?)```", markdown, flags=re.S)


def test_the_readme_embeds_the_ci_recipes_as_they_are() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = _yaml_blocks(readme)
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        assert (RECIPES / name).read_text(encoding="utf-8") in blocks, name
    for name in ("automation_api.py", "esc-environment.yaml"):
        assert f"docs/recipes/{name}" in readme, name


def _workflows() -> list[str]:
    """Every GitHub Actions workflow of the docs: the recipe files and the README's YAML blocks with `jobs:`."""
    texts = [(RECIPES / "github-actions.yml").read_text(encoding="utf-8")]
    for markdown in (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))):
        for block in _yaml_blocks(markdown.read_text(encoding="utf-8")):
            data = yaml.safe_load(block)
            if isinstance(data, dict) and "jobs" in data and block not in texts:
                texts.append(block)
    return texts


def test_github_workflows_pass_actionlint(tmp_path: Path) -> None:
    files = []
    for i, text in enumerate(_workflows()):
        path = tmp_path / f"workflow-{i}.yml"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    try:
        code, output = run_actionlint(files)
    except ToolUnavailable as exc:
        pytest.fail(f"actionlint unavailable: {exc}", pytrace=False)
    assert code == 0, output


def test_actionlint_is_not_vacuous(tmp_path: Path) -> None:
    broken = (RECIPES / "github-actions.yml").read_text(encoding="utf-8")
    broken = broken.replace("security-events: write", "security-events: writ").replace("runs-on:", "run-on:")
    path = tmp_path / "broken.yml"
    path.write_text(broken, encoding="utf-8")
    try:
        code, output = run_actionlint([path])
    except ToolUnavailable as exc:
        pytest.fail(f"actionlint unavailable: {exc}", pytrace=False)
    assert code == 1 and "writ" in output and "runs-on" in output, output


def test_github_workflow_does_what_the_issue_asks() -> None:
    workflow = yaml.safe_load((RECIPES / "github-actions.yml").read_text(encoding="utf-8"))
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["audit"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("pulumi/actions@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "always()" and upload["with"]["sarif_file"] == "china-site.sarif"
    runs = " ".join(s.get("run", "") for s in steps)
    assert "pulumi preview" in runs and "--json" in runs and "--show-sames" in runs
    assert "--format sarif --output china-site.sarif" in runs
    # a user's repository: china-site from the team's main index, never the checkout's editable install
    assert "pip install -e" not in runs and '"china-site[cli]>=0.1,<0.2"' in runs
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["env"] == {"PIP_INDEX_URL": "${{ secrets.PIP_INDEX_URL }}"} and "extra-index" not in runs
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert workflow["permissions"]["actions"] == "read"  # private repositories
    assert workflow["defaults"]["run"]["shell"] == "bash"  # GitHub runs `bash -eo pipefail` then
    # pull requests from forks get no secrets: the job is for this repository's branches
    assert "github.event.pull_request.head.repo.full_name == github.repository" in workflow["jobs"]["audit"]["if"]


GITLAB_SCHEMA = json.loads((DATA / "gitlab-ci-schema.json").read_text(encoding="utf-8"))


def test_gitlab_job_validates_against_gitlab_ci_schema() -> None:
    config = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(GITLAB_SCHEMA).validate(config)
    job = config["china-site"]
    assert job["artifacts"]["reports"]["junit"] == "china-site.xml" and job["artifacts"]["when"] == "always"
    assert any("--show-sames" in line for line in job["script"])
    assert any("--format junit --output china-site.xml" in line for line in job["script"])
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality.json"
    assert any("--format codequality --output gl-code-quality.json" in line for line in job["script"])
    # credentials are masked project variables: none is re-declared as itself
    for name, value in job.get("variables", {}).items():
        assert value.strip("${}") != name, name
    assert "PULUMI_ACCESS_TOKEN" not in job.get("variables", {})
    assert job["variables"]["ALICLOUD_ACCESS_KEY"] == "$ALIBABA_CLOUD_ACCESS_KEY_ID"
    assert not any("pip install -e" in line for line in job["before_script"])
    assert "set -o pipefail" in job["before_script"]
    broken = json.loads(json.dumps(config))
    broken["china-site"]["artifacts"]["reports"]["junit-xml"] = "x"  # not a GitLab report type
    assert list(jsonschema.Draft7Validator(GITLAB_SCHEMA).iter_errors(broken))


def test_esc_environment_shape() -> None:
    from china_site.policy_config import check_stack_keys

    env = yaml.safe_load((RECIPES / "esc-environment.yaml").read_text(encoding="utf-8"))
    values = env["values"]
    variables = values["environmentVariables"]
    # what china-site reads and what the alicloud provider reads
    assert set(variables) == {
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALICLOUD_ACCESS_KEY",
        "ALICLOUD_SECRET_KEY",
    }
    for value in variables.values():  # interpolations of the environment's own values
        match = re.fullmatch(r"\$\{([\w.]+)\}", value)
        assert match, value
        node: Any = values
        for part in match.group(1).split("."):
            node = node[part]
    assert "fn::secret" in values["alicloud"]["accessKeySecret"]
    config = values["pulumiConfig"]
    assert config and all(key.startswith("china-site:") for key in config)
    check_stack_keys(config, where="esc-environment.yaml")  # every key is one the program or the pack reads


def _automation_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("automation_api_recipe", RECIPES / "automation_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_automation_api_example_compiles_and_fails_only_on_mandatory() -> None:
    from pulumi.automation.events import EngineEvent, PolicyEvent

    ast.parse((RECIPES / "automation_api.py").read_text(encoding="utf-8"))
    module = _automation_module()

    def policy(level: str, name: str) -> EngineEvent:
        event = PolicyEvent(
            message=f"{name} message\nsecond line",
            color="never",
            policy_name=name,
            policy_pack_name="china-site",
            policy_pack_version="0.1.0",
            policy_pack_version_tag="v0.1.0",
            enforcement_level=level,
            resource_urn=CDN_URN,
        )
        return EngineEvent(sequence=1, timestamp=0, policy_event=event)

    other = EngineEvent(sequence=2, timestamp=0)
    advisory = [policy("ADVISORY", "icp-number-displayed"), other]
    mandatory = [*advisory, policy("MANDATORY", "icp-filing-required")]
    found = module.violations(mandatory)
    assert [(v.policy, v.level, v.urn) for v in found] == [
        ("icp-number-displayed", "advisory", CDN_URN),
        ("icp-filing-required", "mandatory", CDN_URN),
    ]
    assert module.exit_code(module.violations(mandatory), preview_failed=True) == 1
    assert module.exit_code(module.violations(advisory), preview_failed=False) == 0
    assert module.exit_code(module.violations(advisory), preview_failed=True) == 2  # a failure that is not policy


def test_automation_api_example_runs_preview_with_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() against a stand-in for the Automation API stack: preview gets the pack and an event callback; a
    mandatory policy event (with the CommandError a failing preview raises) exits 1."""
    from pulumi import automation as auto
    from pulumi.automation.events import EngineEvent, PolicyEvent

    module = _automation_module()
    calls: dict[str, Any] = {}

    class Stack:
        def preview(self, **kwargs: Any) -> None:
            calls.update(kwargs)
            event = PolicyEvent("m", "never", "icp-filing-required", "china-site", "0.1.0", "v0.1.0", "MANDATORY")
            kwargs["on_event"](EngineEvent(sequence=1, timestamp=0, policy_event=event))
            raise auto.CommandError(auto._cmd.CommandResult(stdout="", stderr="policy violation", code=255))

    monkeypatch.setattr(module.auto, "select_stack", lambda **kw: calls.setdefault("select", kw) and Stack())
    assert module.main(["--stack", "prod", "--work-dir", "infra"]) == 1
    assert calls["select"] == {"stack_name": "prod", "work_dir": "infra"}
    assert calls["policy_packs"] == ["policies"]


def test_automation_api_example_prints_each_finding_and_its_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the events a real `pulumi up`/preview sends, the recipe reads the findings back through china_site.api
    and prints the finding itself and its reason — not the policy's description, not an empty reason."""
    from pulumi.automation.events import EngineEvent

    module = _automation_module()
    lines = (DATA / "engine" / "mainland-unfiled-up-events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [EngineEvent.from_json(json.loads(line)) for line in lines if line.strip()]

    class Stack:
        def preview(self, **kwargs: Any) -> None:
            for event in events:
                kwargs["on_event"](event)

    monkeypatch.setattr(module.auto, "select_stack", lambda **kw: Stack())
    registry = write_registry(tmp_path)
    code = module.main(["--stack", "prod", "--work-dir", str(tmp_path), "--filings", str(registry)])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    # each finding: a headline, then its reason lines indented (the engine blocked that run: run-failed is one)
    starts = [i for i, line in enumerate(lines) if line.startswith("[")]
    heads = {lines[i].split(":", 1)[0] for i in starts}
    assert heads == {"[mandatory] icp-filing-required www-cdn", "[mandatory] run-failed shop-prod"}
    icp = next(i for i in starts if lines[i].startswith("[mandatory] icp-filing-required www-cdn: "))
    assert "unfiled-shop.cn" in lines[icp]
    reason = []
    for line in lines[icp + 1 :]:
        if not line.startswith("    "):
            break
        reason.append(line)
    assert any("备案" in line for line in reason) and any("Fix" in line for line in reason)


def test_recipes_hold_no_local_path() -> None:
    for path in RECIPES.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "/home/" not in text and "/work/" not in text and "/root/" not in text, path.name
