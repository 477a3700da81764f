"""Report locations: Pulumi's source positions, relative URIs, registries named as the user gave them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from china_site.engine.artifacts import Record
from china_site.locations import (
    SourcePosition,
    artifact_spots,
    base_dir,
    display_source,
    file_uri,
    parse_source_position,
    source_spots,
)
from china_site.report import SourceSpot


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("project:///__main__.py#12,5", SourcePosition("project", "/__main__.py", 12, 5)),
        ("project:///infra/site%20a.py#7", SourcePosition("project", "/infra/site a.py", 7, None)),
        ("file:///usr/lib/x.py#3,1", SourcePosition("file", "/usr/lib/x.py", 3, 1)),
        ("project:///main.py", SourcePosition("project", "/main.py", None, None)),
        ("project:///main.py#0,0", SourcePosition("project", "/main.py", None, None)),
    ],
)
def test_parse_source_position(value: str, expected: SourcePosition) -> None:
    assert parse_source_position(value) == expected


@pytest.mark.parametrize("value", [None, "", 12, "https://example.com/a.py#1", "project://", "main.py#3"])
def test_parse_source_position_rejects_other_shapes(value: object) -> None:
    assert parse_source_position(value) is None


def _record(urn: str, parent: str | None, position: str | None) -> Record:
    return Record(
        urn=urn, type="t", name=urn.rsplit("::", 1)[-1], custom=True, inputs={}, outputs=None, provider=None,
        parent=parent, dependencies=(), property_dependencies={}, op=None, source_position=position,
    )  # fmt: skip


def test_source_spots_use_the_nearest_ancestor_inside_the_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    project = tmp_path / "infra"
    project.mkdir()
    (project / "__main__.py").write_text("a\nb\nc\n", encoding="utf-8")
    lib = tmp_path / ".venv" / "lib" / "site-packages" / "china_site"
    lib.mkdir(parents=True)
    (lib / "site.py").write_text("x\n", encoding="utf-8")
    stack = _record("urn:s::Stack", None, None)
    site = _record("urn:s::site", stack.urn, "project:///__main__.py#3,9")
    child = _record("urn:s::cdn", site.urn, f"{(lib / 'site.py').as_uri()}#1")  # inside a library: not shown
    orphan = _record("urn:s::gone", stack.urn, "project:///missing.py#2")  # not in this checkout
    spots = source_spots([stack, site, child, orphan], project_dir=project, base=base_dir(project))
    assert spots == {
        site.urn: SourceSpot("infra/__main__.py", line=3, column=9),
        child.urn: SourceSpot("infra/__main__.py", line=3, column=9),
    }
    assert source_spots([site], project_dir=None, base=tmp_path) == {}  # project-relative needs the project
    looped = replace(site, parent=child.urn, source_position=None)
    assert source_spots([looped, replace(child, parent=looped.urn)], project_dir=project, base=tmp_path) == {}


def test_artifact_spots_find_each_resource_line() -> None:
    text = '{\n  "resources": [\n    {\n      "urn": "urn:a::x"\n    },\n    {"urn":"urn:a::y$z"}\n  ]\n}\n'
    spots = artifact_spots(text, ["urn:a::x", "urn:a::y$z", "urn:a::missing"], "plan.json")
    assert spots == {
        "urn:a::x": SourceSpot("plan.json", line=4, column=7),
        "urn:a::y$z": SourceSpot("plan.json", line=6, column=6),
    }


def test_file_uri_is_never_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert file_uri("plan.json") == "sub/plan.json"  # relative to the repository root
    assert file_uri(str(tmp_path / "plan.json")) == "plan.json"
    assert file_uri("/elsewhere/plan.json") == "plan.json"
    assert file_uri("../../outside/plan.json") == "../../outside/plan.json"


def test_display_source_names_registries_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "site"
    (project / "data").mkdir(parents=True)
    monkeypatch.chdir(project)
    assert display_source("oss://bucket/filings.yaml") == "oss://bucket/filings.yaml"
    assert display_source("s3://bucket/key.yaml") == "s3://bucket/key.yaml"
    assert display_source("data/filings.yaml") == "data/filings.yaml"
    assert display_source(str(project / "data" / "filings.yaml")) == "data/filings.yaml"
    # the pack's own process runs elsewhere: inside the project, the name is project-relative
    assert display_source(str(project / "filings.yaml"), project_dir=project, cwd=tmp_path / "x") == "filings.yaml"
    outside = display_source("/srv/registry/filings.yaml", project_dir=project)
    assert not outside.startswith("/") and outside.endswith("srv/registry/filings.yaml")
    # the same text whatever the working directory (CLI and pack process agree)
    assert display_source("/srv/f.yaml", project_dir=project, cwd=tmp_path) == display_source(
        "/srv/f.yaml", project_dir=project, cwd=project / "data"
    )
