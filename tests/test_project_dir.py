"""Which Pulumi project a pack judges, and where its relative registry path starts (china_site.project_dir).

Pulumi's Python language host starts a pack in the pack's own folder; the project's folder is found from the pack's
parent (the host, started in the project's folder), ``PWD`` or the pack's folder, and only when that folder's
``Pulumi.yaml`` names the project the engine runs. The gRPC tests start the pack the way the host does, from a parent
process in the project's folder (``host_cwd``); ``make e2e`` proves it under the real host
(tests/e2e/test_e2e_published_pack.py, test_e2e_engine.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from analyzer_harness import ROOT, PackProcess, Resource, region_provider
from registry_data import TODAY, write_registry

from china_site.project_dir import PROJECT_DIR_ENV, locate_project_dir, project_name

CDN = "alicloud:cdn/domainNew:DomainNew"
SHANGHAI = region_provider("cn-shanghai")


def _project(folder: Path, name: str, *, quoted: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    line = f'name: "{name}"' if quoted else f"name: {name}  # the project"
    (folder / "Pulumi.yaml").write_text(f"{line}\nruntime: python\n", encoding="utf-8")
    return folder


def _no_parent() -> Path | None:
    return None


# --- the core: pure lookups ---------------------------------------------------------------------------------------


def test_project_name_reads_plain_quoted_and_missing(tmp_path: Path) -> None:
    assert project_name(_project(tmp_path / "a", "shop")) == "shop"
    assert project_name(_project(tmp_path / "b", "shop: two", quoted=True)) == "shop: two"
    assert project_name(tmp_path) is None
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "Pulumi.yaml").write_text("runtime: python\n", encoding="utf-8")
    assert project_name(tmp_path / "c") is None


def test_the_language_hosts_folder_wins_when_it_is_the_engines_project(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "shop")
    (project / "src").mkdir()  # main: src/ — the host runs in the program's folder below the project's
    found = locate_project_dir(
        {"PULUMI_PROJECT": "shop", "PWD": "/"}, cwd=tmp_path / "pack", parent_cwd=lambda: project / "src"
    )
    assert found.path == project.resolve() and "language host" in found.how


def test_a_folder_of_another_project_is_never_taken(tmp_path: Path) -> None:
    """The pack folder inside another project (the checkout's policies/ beside its sample project) must not lend
    that project's registry to the stack being judged."""
    other = _project(tmp_path / "checkout", "china-site")
    (other / "policies").mkdir()
    found = locate_project_dir({"PULUMI_PROJECT": "user-shop"}, cwd=other / "policies", parent_cwd=_no_parent)
    assert found.path is None
    assert "project 'user-shop'" in found.how and "project 'china-site'" in found.how


def test_pwd_then_the_packs_folder(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "shop")
    env = {"PULUMI_PROJECT": "shop", "PWD": str(project)}
    assert locate_project_dir(env, cwd=tmp_path, parent_cwd=lambda: tmp_path).path == project.resolve()
    inside = project / "policies"
    inside.mkdir()
    found = locate_project_dir({"PULUMI_PROJECT": "shop"}, cwd=inside, parent_cwd=_no_parent)
    assert found.path == project.resolve() and found.how == "the policy pack's folder"


def test_the_explicit_setting_wins_and_is_checked(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "shop")
    env = {PROJECT_DIR_ENV: str(project), "PULUMI_PROJECT": "other"}
    assert locate_project_dir(env, cwd=tmp_path, parent_cwd=_no_parent).path == project.resolve()
    bad = locate_project_dir({PROJECT_DIR_ENV: str(tmp_path)}, cwd=tmp_path, parent_cwd=_no_parent)
    assert bad.path is None and "holds no Pulumi.yaml" in bad.how


# --- through the analyzer protocol, started as Pulumi's language host starts a pack --------------------------------


def _pack_outside(tmp_path: Path) -> Path:
    """The pack folder alone (as `china-site pack-dir` or a published pack lays it out), in no project."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("PulumiPolicy.yaml", "__main__.py"):
        shutil.copy(ROOT / "policies" / name, pack / name)
    return pack


def _run(pack_dir: Path, host_cwd: Path, project: str, domain: str, **env: str) -> list[tuple[str, str]]:
    extra = {"PWD": str(host_cwd), **env}
    config = {"china-site:filings": "filings.yaml", "china-site:today": TODAY}
    with PackProcess(stack_config=config, pack_dir=pack_dir, host_cwd=host_cwd, project=project, extra_env=extra) as p:
        p.configure_stack()
        p.analyzer_info()
        p.configure({})
        run = p.run([Resource(CDN, "site-cdn", {"domainName": domain, "scope": "domestic"}, SHANGHAI)])
        assert "Traceback" not in p.stderr(), p.stderr()
    return [(d.policy, d.message) for d in run.mandatory()]


def test_a_pack_outside_the_project_reads_the_projects_registry(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "shop")
    write_registry(project)
    pack = _pack_outside(tmp_path)
    assert _run(pack, project, "shop", "www.example.cn") == []
    assert [policy for policy, _m in _run(pack, project, "shop", "www.unfiled.cn")] == ["icp-filing-required"]


def test_a_pack_inside_another_project_judges_against_the_users_registry(tmp_path: Path) -> None:
    """The checkout's policies/ sits next to the sample registry, which approves www.mingyue-tea.cn; the user's own
    registry is empty, so the user's stack must be blocked (it passed before, judged against the wrong registry)."""
    project = _project(tmp_path / "user", "user-shop")
    write_registry(project, text="version: 1\nentities: {}\nsites: []\n")
    found = _run(ROOT / "policies", project, "user-shop", "www.mingyue-tea.cn")
    assert "icp-filing-required" in [policy for policy, _m in found]


def test_an_unknown_project_folder_is_a_finding_that_says_how_to_fix_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    [(policy, message)] = _run(_pack_outside(tmp_path), elsewhere, "shop", "www.example.cn")
    assert policy == "filing-registry-available"
    assert "cannot tell which folder the project is in" in message and "无法确定项目所在目录" in message
    assert PROJECT_DIR_ENV in message and "oss://" in message and "absolute path" in message


def test_the_explicit_project_folder_reaches_the_pack(tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", "shop")
    write_registry(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _run(_pack_outside(tmp_path), elsewhere, "shop", "www.example.cn", **{PROJECT_DIR_ENV: str(project)}) == []
