"""The engine itself: the CLI and Pulumi's own Python language host (built from its upstream source) run programs and
the policy pack.

These need no cloud: the programs create no alicloud resource. They prove the plumbing the scenario tests rely on:
config and secret config reach the program, a program error fails the command, ``--policy-pack`` runs the pack
through ``RunPlugin`` as ``python -u -m pulumi.policy`` in the pack's folder with the stack's config and names in its
environment, and the bin folder's host is the upstream build.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from e2e_helpers import ROOT, VENV, Project

TINY_PROJECT = """\
name: tiny
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: {venv}
"""


def tiny(tmp_path: Path, env: dict[str, str], program: str) -> Project:
    d = tmp_path / "tiny"
    d.mkdir()
    (d / "Pulumi.yaml").write_text(TINY_PROJECT.format(venv=VENV))
    (d / "__main__.py").write_text(textwrap.dedent(program))
    return Project(d, env)


def test_up_passes_config_and_secrets_to_the_program(tmp_path: Path, bare_env: dict[str, str]) -> None:
    p = tiny(
        tmp_path,
        bare_env,
        """
        import pulumi
        c = pulumi.Config()
        pulumi.export("greeting", c.require("greeting"))
        pulumi.export("secret_is_secret", pulumi.Output.is_secret(c.require_secret("token")))
        pulumi.export("stack", pulumi.get_stack())
        """,
    )
    p.pulumi("stack", "init", "dev")
    p.pulumi("config", "set", "greeting", "你好")
    p.pulumi("config", "set", "--secret", "token", "s3cr3t-value")
    up = p.pulumi("up", "--yes", "--skip-preview")
    assert "s3cr3t-value" not in up.output
    out = p.pulumi("stack", "output", "--json", "--show-secrets").json()
    assert out == {"greeting": "你好", "secret_is_secret": True, "stack": "dev"}


def test_a_program_error_fails_the_command_and_shows_the_message(tmp_path: Path, bare_env: dict[str, str]) -> None:
    p = tiny(tmp_path, bare_env, 'raise RuntimeError("deliberately broken program")\n')
    p.pulumi("stack", "init", "dev")
    up = p.pulumi("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0
    assert "deliberately broken program" in up.output


def test_policy_pack_runs_through_the_language_host(tmp_path: Path, bare_env: dict[str, str]) -> None:
    """``--policy-pack`` on a Python pack: the engine asks the language host to RunPlugin the pack folder."""
    p = tiny(tmp_path, bare_env, 'import pulumi\npulumi.export("ok", 1)\n')
    shutil.copytree(ROOT / "policies", p.dir / "policies", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    (p.dir / ".venv").symlink_to(VENV)  # the pack's virtualenv (../.venv, or its venv link to ../.venv)
    p.pulumi("stack", "init", "dev")
    pre = p.pulumi("preview", "--policy-pack", "policies")
    assert "china-site" in pre.output, pre.output
    up = p.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies")
    policy_loads = [e for e in up.events if "policyLoadEvent" in e]
    assert policy_loads, json.dumps(up.events[:5])


def test_pack_dir_of_the_installed_package_runs_in_the_engine(tmp_path: Path, bare_env: dict[str, str]) -> None:
    """``pulumi preview --policy-pack "$(china-site pack-dir)"``: the shipped pack folder, whose ``venv`` is the
    environment china-site is installed in, runs through the language host like the checkout's ``policies/``."""
    import subprocess

    p = tiny(tmp_path, bare_env, 'import pulumi\npulumi.export("ok", 1)\n')
    env = {**bare_env, "CHINA_SITE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [str(VENV / "bin" / "china-site"), "pack-dir"], env=env, capture_output=True, text=True, check=True
    )
    pack = Path(done.stdout.strip())
    assert pack.is_relative_to(tmp_path / "cache") and (pack / "venv").resolve() == VENV.resolve()
    p.pulumi("stack", "init", "dev")
    pre = p.pulumi("preview", "--policy-pack", str(pack))
    assert "china-site" in pre.output, pre.output
    policy_loads = [e for e in pre.events if "policyLoadEvent" in e]
    assert policy_loads, json.dumps(pre.events[:5])


PROBE_PACK = """\
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: {venv}
"""
PROBE_MAIN = """\
import json, os, sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

keys = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")
Path(os.environ["PROBE_OUT"]).write_text(json.dumps({
    "argv": sys.argv, "orig_argv": sys.orig_argv, "cwd": os.getcwd(),
    "parent_cwd": os.readlink(f"/proc/{os.getppid()}/cwd"), "pwd": os.environ.get("PWD"),
    "env": {k: os.environ.get(k) for k in keys},
}))
PolicyPack(name="probe", enforcement_level=EnforcementLevel.ADVISORY, policies=[
    ResourceValidationPolicy(name="nothing", description="checks nothing", validate=lambda args, report: None),
])
"""


def test_the_language_host_is_pulumis_upstream_build_and_starts_packs_as_it_does(
    tmp_path: Path, bare_env: dict[str, str], engine_bin: Path
) -> None:
    """The bin folder's host is the upstream build (stamped with the CLI's version), and it starts a Python pack as
    ``python -u -m pulumi.policy <engine> <pack dir>`` in the pack's folder, with the stack's config and names in
    the environment — what china-site's pack relies on (china_site/project_dir.py, china_site/policies/_config.py)."""
    import subprocess

    host = subprocess.run(
        [str(engine_bin / "pulumi-language-python"), "-version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    cli = subprocess.run(
        [str(engine_bin / "pulumi"), "version"], env=bare_env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert host == cli and host.startswith("v3."), (host, cli)

    p = tiny(tmp_path, bare_env, 'import pulumi\npulumi.export("ok", 1)\n')
    pack = tmp_path / "probe-pack"  # outside the project
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(PROBE_PACK.format(venv=VENV))
    (pack / "__main__.py").write_text(PROBE_MAIN)
    p.pulumi("stack", "init", "dev")
    p.pulumi("config", "set", "china-site:filings", "filings.yaml")
    out = tmp_path / "probe.json"
    p.pulumi("preview", "--policy-pack", str(pack), env={"PROBE_OUT": str(out)})
    seen = json.loads(out.read_text())
    assert seen["orig_argv"][1:4] == ["-u", "-m", "pulumi.policy"], seen["orig_argv"]
    assert seen["orig_argv"][-1] == str(pack)
    assert Path(seen["cwd"]).resolve() == pack.resolve()
    # The pack's parent (the language host) runs in the project's folder: where china_site.project_dir looks first.
    assert Path(seen["parent_cwd"]).resolve() == p.dir.resolve(), seen
    env = seen["env"]
    assert (env["PULUMI_PROJECT"], env["PULUMI_STACK"], env["PULUMI_DRY_RUN"]) == ("tiny", "dev", "true")
    assert json.loads(env["PULUMI_CONFIG"])["china-site:filings"] == "filings.yaml"
