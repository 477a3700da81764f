"""The pack's three layouts under Pulumi's own Python language host, on both sample stacks.

Pulumi's host starts a Python pack in the pack's own folder (``python -u -m pulumi.policy <engine> <pack dir>``), so
a relative ``china-site:filings: filings.yaml`` must be resolved against the project the engine runs, not against
the pack. Each layout is run from outside the project folder:

* ``checkout``: the checkout's own ``policies/`` — a folder inside *another* project (the checkout's sample project,
  with a registry that approves the sample domain);
* ``pack-dir``: ``china-site pack-dir``, a folder in the user's cache, in no project;
* ``published``: the pack folder alone, installed as ``pulumi policy publish`` installs it (see
  test_e2e_published_pack.py).

The project copy is renamed (``user-shop``) so that only the project the engine runs can lend its registry. With the
project's own registry the samples pass; with an empty one the mainland stack is blocked in every layout (before,
the checkout's pack judged it against the checkout's registry and passed it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_helpers import ROOT, Project, policies_passed, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_pack_blocks import DOMAIN as UNFILED
from test_e2e_pack_blocks import PROGRAM
from test_e2e_published_pack import _published_pack, wheels  # noqa: F401  (the session fixture, used by name)

EMPTY_REGISTRY = "version: 1\nentities: {}\nsites: []\n"
# The sample domain, which the checkout's own registry approves: served by hand from the mainland.
BY_HAND = PROGRAM.replace(UNFILED, "www.mingyue-tea.cn")


def _rename(project: Project, name: str) -> None:
    path = project.dir / "Pulumi.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("name: china-site\n"), text[:80]
    path.write_text(text.replace("name: china-site\n", f"name: {name}\n", 1), encoding="utf-8")


def _layouts(project: Project, tmp_path: Path, built: tuple[Path, Path]) -> dict[str, str]:
    pack_dir = project.china_site("pack-dir", check=True).stdout.strip()
    assert not Path(pack_dir).is_relative_to(project.dir)
    published = _published_pack(tmp_path, project.env, built)
    return {"checkout": str(ROOT / "policies"), "pack-dir": pack_dir, "published": str(published)}


@pytest.mark.parametrize("stack", ["mainland", "hongkong"])
def test_every_layout_reads_the_projects_registry(
    stack: str, tmp_path: Path, project: Project, local_cloud: LocalCloud, request: pytest.FixtureRequest
) -> None:
    _rename(project, "user-shop")
    layouts = _layouts(project, tmp_path, request.getfixturevalue("wheels"))
    project.stack(stack)
    config = project.pulumi("config", "--json").json()
    assert config["china-site:filings"]["value"] == "filings.yaml"  # relative: to the project's folder
    for layout, pack in layouts.items():
        pre = project.pulumi("preview", "--policy-pack", pack)
        assert policy_events(pre) == set(), f"{layout}: {pre.output[-3000:]}"
        passed = policies_passed(pre)
        assert ("filing-registry-available", "") in passed, f"{layout}: {json.dumps(sorted(passed))[:2000]}"
        if stack == "mainland":
            assert any(p == "icp-filing-required" and "DomainNew" in urn for p, urn in passed), layout

    if stack != "mainland":
        return
    # The user's registry lacks the domain (which the checkout's registry approves): blocked in every layout, never
    # judged against another project's registry.
    (project.dir / "filings.yaml").write_text(EMPTY_REGISTRY, encoding="utf-8")
    (project.dir / "__main__.py").write_text(BY_HAND, encoding="utf-8")
    for layout, pack in layouts.items():
        blocked = project.pulumi("preview", "--policy-pack", pack, check=False)
        assert blocked.returncode != 0, f"{layout} passed a domain the project's registry lacks"
        assert "icp-filing-required" in {p for p, _urn, level in policy_events(blocked) if level == "mandatory"}, layout
