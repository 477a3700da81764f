"""One installed name and the policy pack three ways (issue 9).

The built wheel, installed into a clean virtualenv, gives ``china_site`` and nothing else at the top of
site-packages, the ``china-site`` command, the components and the pack; a program using
``china_site.components`` runs under mocks from a project with its own ``components/`` folder, and the SiteContent
provider pickled into the state names ``china_site.components.content``. The pack starts and answers the analyzer
protocol from the checkout (``policies/``), from ``china-site pack-dir`` and from the layout ``pulumi policy
publish`` uploads (the folder alone, its ``requirements.txt`` installed into its own ``venv``).

The clean virtualenvs reuse this test environment's third-party packages through a ``.pth`` line (appended after
their own site-packages, where the wheel goes): what is proved is the wheel's own contents, not a new download.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml
from analyzer_harness import PackProcess, Resource, region_provider
from registry_data import TODAY, write_registry

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
CDN = "alicloud:cdn/domainNew:DomainNew"
UNFILED = "www.unfiled.cn"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | os.PathLike[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "PYTHON", "VIRTUAL_ENV"))}


def make_venv(path: Path) -> Path:
    """A virtualenv without pip whose site-packages also sees this environment's third-party packages (last)."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    run(base, "-m", "venv", "--without-pip", path)
    python = venv_python(path)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def pip_into(python: Path, *args: str | os.PathLike[str]) -> str:
    """``pip install`` into ``python``'s environment, dependencies excluded (this environment provides them) and
    this environment's editable china-site ignored (never uninstalled: ``--ignore-installed``)."""
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check")
    return run(*pip, "--no-deps", "--ignore-installed", *args)


def top_level(python: Path) -> set[str]:
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    return {p.name for p in site.iterdir()}


def answers(pack_dir: Path, python: Path, registry: Path) -> None:
    """The pack in ``pack_dir``, started as the CLI starts it, answers GetAnalyzerInfo and one Analyze request."""
    with PackProcess(
        pack_dir=pack_dir,
        python=python,
        stack_config={"china-site:filings": str(registry), "china-site:today": TODAY},
    ) as pack:
        info = pack.analyzer_info()
        assert info.name == "china-site" and len(info.policies) >= 10
        pack.configure({"filings": str(registry), "today": TODAY})
        resource = Resource(CDN, "site-cdn", {"domainName": UNFILED, "scope": "domestic", "cdnType": "web"},
                            region_provider("cn-shanghai"))  # fmt: skip
        response = pack.analyze(resource)
        policies = {d.policyName for d in response.diagnostics}
        assert "icp-filing-required" in policies, pack.stderr()
        assert "Traceback" not in pack.stderr()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_registry(tmp_path_factory.mktemp("pack-registry"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build-src")
    # Build from a copy of the tracked sources, so nothing of the checkout (venv links, caches) can leak in.
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT).split("\n")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, build / name)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, build)
    (found,) = out.glob("china_site-*.whl")
    return found


# --- the pack folder's files ----------------------------------------------------------------------------------------


def test_one_pulumi_policy_yaml_for_the_three_ways() -> None:
    spec = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    requirements = [
        line.strip()
        for line in (POLICIES / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == ["china-site>=0.1,<0.2"]
    assert (POLICIES / "__main__.py").read_text().strip().endswith("main()")
    assert "venv" in (POLICIES / ".gitignore").read_text().split()  # `pulumi policy publish` leaves the link out


# --- way 1: the checkout --------------------------------------------------------------------------------------------


def test_checkout_pack_runs_from_its_venv_link(registry: Path) -> None:
    link = POLICIES / "venv"
    if not link.exists():
        pytest.skip("policies/venv is made by `make install`")
    assert (link / "pyvenv.cfg").is_file()
    answers(POLICIES, venv_python(link), registry)


# --- way 2: china-site pack-dir -------------------------------------------------------------------------------------


def test_pack_dir_is_a_working_pack_for_this_environment(tmp_path: Path, registry: Path) -> None:
    env = {**clean_env(), "CHINA_SITE_CACHE_DIR": str(tmp_path / "cache")}
    printed = run(Path(sys.executable).parent / "china-site", "pack-dir", env=env).strip()
    folder = Path(printed)
    assert folder.is_relative_to(tmp_path / "cache")
    for name in ("PulumiPolicy.yaml", "__main__.py", "requirements.txt"):
        assert (folder / name).read_bytes() == (POLICIES / name).read_bytes()
    assert (folder / "venv").resolve() == Path(sys.prefix).resolve()
    assert run(Path(sys.executable).parent / "china-site", "pack-dir", env=env).strip() == printed  # idempotent
    answers(folder, venv_python(folder / "venv"), registry)


def test_pack_dir_unwritable_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "china-site"), "pack-dir", "--dir", str(blocker / "pack")],
        capture_output=True, text=True, env=clean_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "cannot write the policy pack folder" in done.stderr


# --- the wheel in a clean virtualenv --------------------------------------------------------------------------------


SAMPLE = textwrap.dedent(
    """
    import json, sys
    import components  # the user's own package, not ours
    assert components.MINE is True
    from china_site.components import Site, SiteArgs
    from china_site.engine.mocks import run_mocked
    import china_site

    def program():
        site = Site("site", SiteArgs(domain="www.mingyue-tea.cn", hosting="mainland", filings=sys.argv[1],
                                     content_dir=sys.argv[2], today="2026-11-28"))
        import pulumi
        pulumi.export("url", site.url)

    run = run_mocked(program, project="user-project", stack="dev")
    types = sorted({r.type for r in run.recorder.resources()})
    pickled = [r.name for r in run.recorder.resources() if "__provider" in r.inputs]
    print(json.dumps({"china_site": china_site.__file__, "url": run.outputs["url"], "types": types, "pickled": pickled,
                      "policies": __import__("importlib.util").util.find_spec("policies").origin}))
    """
)


@pytest.mark.slow
def test_wheel_installs_one_name_with_command_components_and_pack(wheel: Path, tmp_path: Path, registry: Path) -> None:
    names = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert names == {"china_site", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    members = set(zipfile.ZipFile(wheel).namelist())
    assert {"china_site/pack/PulumiPolicy.yaml", "china_site/pack/__main__.py", "china_site/pack/requirements.txt",
            "china_site/components/content.py", "china_site/policies/pack.py"} <= members  # fmt: skip
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "china_site").rglob("*.py")}
    assert sources <= members  # every module of the source tree is shipped

    python = make_venv(tmp_path / "venv")
    pip_into(python, wheel)
    site_names = top_level(python)
    assert "china_site" in site_names
    assert not site_names & {"components", "policies", "pack", "tests", "bench", "site"}
    env = clean_env()
    china_site_cmd = python.parent / "china-site"
    assert "pack-dir" in run(china_site_cmd, "--help", env=env)

    # the pack: `china-site pack-dir` of the installed package
    env["CHINA_SITE_CACHE_DIR"] = str(tmp_path / "cache")
    folder = Path(run(china_site_cmd, "pack-dir", env=env).strip())
    assert (folder / "venv").resolve() == (tmp_path / "venv").resolve()
    answers(folder, venv_python(folder / "venv"), registry)

    # a user project with its own components/ and policies/ folders runs a program using ours under mocks
    project = tmp_path / "project"
    (project / "components").mkdir(parents=True)
    (project / "components" / "__init__.py").write_text("MINE = True\n")
    (project / "policies").mkdir()
    (project / "policies" / "__init__.py").write_text("MINE = True\n")
    (project / "prog.py").write_text(SAMPLE)
    out = run(python, "prog.py", ROOT / "filings.yaml", ROOT / "site", cwd=project, env=env)
    result = json.loads(out.strip().splitlines()[-1])
    assert Path(result["china_site"]).is_relative_to(tmp_path / "venv")
    assert result["url"] == "http://www.mingyue-tea.cn/"
    assert result["policies"] == str(project / "policies" / "__init__.py")
    # no dynamic provider in new state: the content and the ownership check are the provider plugin's resources
    assert result["pickled"] == [] and not [t for t in result["types"] if t.startswith("pulumi-python:dynamic")]
    assert {"china-site:index:SiteContent", "china-site:index:DomainOwnership"} <= set(result["types"])
    # the plugin: no console script (on an activated virtualenv's PATH the engine would prefer it, with its "from
    # $PATH" warning); a launcher for this environment in Pulumi's plugin cache, by `china-site provider-dir`
    assert not (python.parent / "pulumi-resource-china-site").exists()
    env["PULUMI_HOME"] = str(tmp_path / "pulumi-home")
    plugin = Path(run(china_site_cmd, "provider-dir", env=env).strip())
    assert plugin == tmp_path / "pulumi-home" / "plugins" / f"resource-china-site-v{wheel.name.split('-')[1]}"
    assert str(python) in (plugin / "pulumi-resource-china-site").read_text()


@pytest.mark.slow
def test_publish_layout_installs_its_requirements_and_runs(wheel: Path, tmp_path: Path, registry: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("PulumiPolicy.yaml", "__main__.py", "requirements.txt", "README.md"):
        shutil.copy2(POLICIES / name, pack / name)
    # as the CLI does for a downloaded pack: the virtualenv PulumiPolicy.yaml names, requirements.txt into it
    virtualenv = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
    python = make_venv(pack / virtualenv)
    pip_into(python, "--no-index", "--find-links", wheel.parent, "-r", pack / "requirements.txt")
    assert "china_site" in top_level(python)
    answers(pack, python, registry)


# --- layout: no import cycles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("china_site.report", "china_site.engine.driver"),
        ("china_site.components.backend", "china_site.components.site"),
        ("china_site.components.placement", "china_site.components.site"),
    ],
)
def test_modules_of_a_former_cycle_load_alone(module: str, must_not_load: str) -> None:
    code = f"import sys, {module}; print({must_not_load!r} in sys.modules)"
    assert run(sys.executable, "-c", code, env=clean_env()).strip() == "False"
