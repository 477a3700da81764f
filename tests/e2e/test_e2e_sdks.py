"""The china-site package from other languages: the schema the CLI reads from the plugin, SDKs generated from it, a
TypeScript sample type-checked with ``tsc`` and a Go sample compiled with ``go build``.

``pulumi package gen-sdk`` generates Python here; for TypeScript and Go it needs the language hosts
``pulumi-language-nodejs`` / ``pulumi-language-go``, which cannot be built here (their Go modules are not served by
the Go module proxy), so ``tools/sdkgen`` runs Pulumi's own generators (``pkg/v3/codegen/nodejs`` and ``/go``, what
those hosts run) on the schema ``pulumi package get-schema`` prints. Nothing generated is committed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_helpers import ROOT, Project

from china_site.provider.schema import schema

SAMPLES = Path(__file__).resolve().parent / "sdk_samples"
# npm packages for the TypeScript check, kept between runs (the cache folder of tests/consumer_tools.py).
CACHE = (
    Path(
        os.environ.get("CHINA_SITE_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "china-site"
    )
    / "sdk-check"
)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def plugin(project: Project) -> Path:
    done = project.china_site("provider-dir", check=True)
    return Path(done.stdout.strip()) / "pulumi-resource-china-site"


@pytest.fixture
def go_env(project: Project) -> dict[str, str]:
    env = {**os.environ, **{k: v for k, v in project.env.items() if k.startswith("PULUMI")}}
    env["GOFLAGS"] = "-mod=mod"
    return env


def _schema_file(project: Project, plugin: Path, dest: Path) -> Path:
    got = project.pulumi("package", "get-schema", str(plugin))
    read, ours = json.loads(got.stdout), schema()
    # What the CLI reads from the plugin is our schema (it leaves out empty lists).
    assert (read["name"], read["version"]) == (ours["name"], ours["version"])
    for token, resource in ours["resources"].items():
        assert read["resources"][token]["inputProperties"] == resource["inputProperties"], token
    dest.write_text(got.stdout, encoding="utf-8")
    return dest


def _sdkgen(go_env: dict[str, str], tmp_path: Path) -> Path:
    src = tmp_path / "sdkgen"
    shutil.copytree(ROOT / "tools" / "sdkgen", src)
    built = _run(["go", "build", "-o", "sdkgen", "."], src, go_env)
    assert built.returncode == 0, built.stderr[-3000:]
    return src / "sdkgen"


def test_cli_generates_python_and_names_the_missing_hosts(project: Project, plugin: Path, tmp_path: Path) -> None:
    python = project.pulumi("package", "gen-sdk", str(plugin), "--language", "python", "--out", str(tmp_path / "py"))
    assert "SDK has been written" in python.output
    assert (tmp_path / "py" / "python" / "pulumi_china_site" / "site.py").exists()
    for language in ("nodejs", "go"):
        refused = project.pulumi(
            "package", "gen-sdk", str(plugin), "--language", language, "--out", str(tmp_path / language), check=False
        )
        assert refused.returncode != 0 and f"no language plugin 'pulumi-language-{language}'" in refused.output


def test_typescript_sample_type_checks(project: Project, plugin: Path, go_env: dict[str, str], tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    schema_file = _schema_file(project, plugin, tmp_path / "schema.json")
    sample = tmp_path / "ts"
    shutil.copytree(SAMPLES / "typescript", sample)
    done = _run([str(_sdkgen(go_env, tmp_path)), "nodejs", str(schema_file), str(sample / "sdk")], tmp_path, go_env)
    assert done.returncode == 0, done.stderr
    # npm packages from the registry, kept between runs.
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(sample / "package.json", CACHE / "package.json")
    installed = _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], CACHE, dict(os.environ))
    assert installed.returncode == 0, installed.stderr[-3000:]
    (sample / "node_modules").symlink_to(CACHE / "node_modules")
    tsc = [str(CACHE / "node_modules" / ".bin" / "tsc"), "-p", "."]
    checked = _run(tsc, sample, dict(os.environ))
    assert checked.returncode == 0, checked.stdout[-3000:]
    # The check can fail: a number where the schema says string.
    index = sample / "index.ts"
    index.write_text(index.read_text().replace('domain: "www.mingyue-tea.cn"', "domain: 42"))
    broken = _run(tsc, sample, dict(os.environ))
    assert broken.returncode != 0 and "not assignable to type 'Input<string" in broken.stdout


def test_go_sample_compiles(project: Project, plugin: Path, go_env: dict[str, str], tmp_path: Path) -> None:
    schema_file = _schema_file(project, plugin, tmp_path / "schema.json")
    done = _run([str(_sdkgen(go_env, tmp_path)), "go", str(schema_file), str(tmp_path / "sdk")], tmp_path, go_env)
    assert done.returncode == 0, done.stderr
    package = tmp_path / "chinasite"
    shutil.copytree(tmp_path / "sdk" / "chinasite", package)
    # The module file of the generated package (the generator writes the package, not a go.mod).
    (package / "go.mod").write_text(
        "module github.com/china-site/china-site/sdk/go/chinasite\n\ngo 1.24\n\n"
        "require github.com/pulumi/pulumi/sdk/v3 v3.274.1\n"
    )
    app = tmp_path / "app"
    shutil.copytree(SAMPLES / "go", app)
    built = _run(["go", "build", "-o", "sample", "."], app, go_env)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (app / "sample").exists()
    # The compile can fail: a field the schema does not have.
    main = app / "main.go"
    main.write_text(main.read_text().replace("DnsZone:", "DNSZoneName:"))
    broken = _run(["go", "build", "-o", "sample", "."], app, go_env)
    assert broken.returncode != 0 and "DNSZoneName" in broken.stderr
