"""Bad input found by trying to break the CLI: each case is one line on stderr and exit 2, never a traceback and
never a silent pass; the same command on good input still works."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from china_site.cli import app
from china_site.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
FILINGS = str(ROOT / "filings.yaml")
EXPORT = ROOT / "tests" / "data" / "alicloud" / "mainland-filed-export-v3.json"
runner = CliRunner()


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("china-site: error: "), result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit, type(None)))
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled project (program, stack files, registry, content)."""
    for name in ("Pulumi.yaml", "__main__.py", "filings.yaml", "Pulumi.mainland.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "site", tmp_path / "site")
    return tmp_path


def preflight(directory: Path, *args: str) -> Any:
    return runner.invoke(app, ["preflight", str(directory), "--stack", "mainland", "--today", "2026-11-28", *args])


# --- Pulumi.yaml / Pulumi.<stack>.yaml ---------------------------------------------------------------------------


def test_typo_in_a_stack_config_key_is_named(project: Path) -> None:
    stack = project / "Pulumi.mainland.yaml"
    stack.write_text(stack.read_text(encoding="utf-8").replace("china-site:hosting", "china-site:hostng"), "utf-8")
    line = one_line_error(preflight(project))
    assert "field 'china-site:hostng'" in line and "stack 'mainland'" in line
    assert "unknown key" in line and "did you mean 'china-site:hosting'" in line


def test_known_stack_config_keys_pass() -> None:
    from china_site.policy_config import check_stack_keys

    check_stack_keys({"china-site:psbGraceDays": "30", "china-site:backend.imageId": "x", "alicloud:region": "x"},
                     where="stack")  # fmt: skip
    with pytest.raises(InputError, match="field 'china-site:psbGraceDay'"):
        check_stack_keys({"china-site:psbGraceDay": "30"}, where="stack")


@pytest.mark.parametrize("name", ["Pulumi.mainland.yaml", "Pulumi.yaml"])
def test_binary_project_files(project: Path, name: str) -> None:
    (project / name).write_bytes(b"\x95\x81\xff\x00garbage" * 50)
    line = one_line_error(preflight(project))
    assert name in line and "not UTF-8" in line


def test_impossible_date_in_stack_config(project: Path) -> None:
    stack = project / "Pulumi.mainland.yaml"
    stack.write_text(stack.read_text(encoding="utf-8") + "  china-site:today: 2026-02-30\n", encoding="utf-8")
    line = one_line_error(preflight(project))
    assert "Pulumi.mainland.yaml" in line and "out of range" in line


# --- --policy-config ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"icp-filing-required": {"typoKey": 1}}, "field 'typoKey': unknown key"),
        ({"icp-filing-required": {"today": "2026-02-30"}}, "field 'today'"),
        ({"icp-filling-required": {}}, "policy 'icp-filling-required': names no policy"),
    ],
)
def test_bad_policy_config_is_one_line(tmp_path: Path, config: dict[str, Any], expected: str) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    args = ["audit", str(EXPORT), "--filings", FILINGS, "--policy-config", str(path)]  # --today would override today
    line = one_line_error(runner.invoke(app, args))
    assert expected in line and str(path) in line


def test_good_policy_config_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"icp-filing-required": {"today": "2026-11-28", "psbGraceDays": 30}}), "utf-8")
    args = ["audit", str(EXPORT), "--filings", FILINGS, "--policy-config", str(path), "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert "configuration of policy" not in result.stdout


# --- registry endpoint, advise, expiring -------------------------------------------------------------------------


def test_invalid_registry_endpoint_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", "http://user:TOPSECRET@[::1")
    line = one_line_error(runner.invoke(app, ["filings", "validate", "oss://bucket/filings.yaml"]))
    assert "not a valid URL" in line and "TOPSECRET" not in line


def test_advise_rejects_a_malformed_domain() -> None:
    line = one_line_error(runner.invoke(app, ["advise", "--domain", "not a domain", "--filings", FILINGS]))
    assert "not a domain" in line
    good = runner.invoke(app, ["advise", "--domain", "www.mingyue-tea.cn", "--filings", FILINGS, "--format", "json",
                               "--today", "2026-11-28"])  # fmt: skip
    assert good.exit_code == 0 and json.loads(good.stdout)["hosting"] == "mainland"


@pytest.mark.parametrize(("within", "today"), [("99999999999", "2026-11-28"), ("30", "9999-12-31")])
def test_expiring_far_horizon(within: str, today: str) -> None:
    args = ["filings", "expiring", "--within", within, "--filings", FILINGS, "--today", today, "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.output
    assert json.loads(result.stdout)["items"]


def test_expiring_horizon_is_clamped() -> None:
    from china_site.filings import load_registry

    registry = load_registry(FILINGS)
    assert registry.expiring(10**9, dt.date(2026, 11, 28)) == registry.expiring(3_000_000, dt.date(2026, 11, 28))


# --- issue 13: hostile registries, artifacts and servers ----------------------------------------------------------

REGISTRY_TEXT = (ROOT / "filings.yaml").read_text(encoding="utf-8")


def registry_with(tmp_path: Path, old: str, new: str, name: str = "filings.yaml") -> Path:
    assert old in REGISTRY_TEXT
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REGISTRY_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (alias_bomb(), "aliases (*name) expand to more than"),
        ("version: 1\nsites: &s [*s]\n", "refers to the value that contains it"),
        ("version: 1\nsites: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 200 levels"),
        ("version: 1\nsites:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), "nested more than 200 levels"),
    ],
    ids=["alias-bomb", "recursive-alias", "deep-flow", "deep-block"],
)
def test_hostile_yaml_registry_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "filings.yaml"
    path.write_text(text, encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["filings", "validate", str(path)]))
    assert expected in line and str(path) in line and len(line) < 600


def test_yaml_aliases_within_bounds_still_load(tmp_path: Path) -> None:
    path = registry_with(tmp_path, "    name: 上海明月茶业有限公司", "    name: &n 上海明月茶业有限公司")
    path.write_text(path.read_text(encoding="utf-8") + "x-unused: *n\n", encoding="utf-8")
    result = runner.invoke(app, ["filings", "validate", str(path)])
    assert "expand to" not in result.output and "unknown key" in result.output  # parsed; the extra key is named


def test_deep_json_registry_and_artifact(tmp_path: Path) -> None:
    registry = tmp_path / "filings.json"
    registry.write_text('{"version": 1, "sites": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    assert "nested more than 200 levels" in one_line_error(runner.invoke(app, ["filings", "validate", str(registry)]))
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    doc["deployment"]["resources"][-1]["inputs"]["deep"] = "@DEEP@"
    artifact = tmp_path / "export.json"
    artifact.write_text(json.dumps(doc).replace('"@DEEP@"', "[" * 900 + "]" * 900), encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["audit", str(artifact), "--filings", FILINGS]))
    assert "nested more than 200 levels" in line and str(artifact) in line


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("domain: mingyue-tea.cn", "domain: " + "a" * 100_000 + ".cn"),
        ("entity: mingyue", "entity: " + "m" * 100_000),
        ("approved: 2021-06-01", 'approved: "' + "2" * 100_000 + '"'),
        ("version: 1", "version: 1\n" + "k" * 100_000 + ": 1"),
    ],
    ids=["domain", "entity", "date", "key"],
)
def test_huge_values_are_never_printed_whole(tmp_path: Path, old: str, new: str) -> None:
    path = registry_with(tmp_path, old, new)
    line = one_line_error(runner.invoke(app, ["filings", "validate", str(path)]))
    assert len(line) < 1000


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01"])
@pytest.mark.parametrize(
    "command",
    [
        ["filings", "validate", "@"],
        ["filings", "show", "www.mingyue-tea.cn", "--filings", "@"],
        ["filings", "expiring", "--within", "30", "--filings", "@"],
        ["footer", "www.mingyue-tea.cn", "--filings", "@"],
        ["advise", "--domain", "www.mingyue-tea.cn", "--filings", "@"],
    ],
    ids=["validate", "show", "expiring", "footer", "advise"],
)
def test_impossible_unquoted_date_names_file_entry_and_field(tmp_path: Path, command: list[str], date: str) -> None:
    path = registry_with(tmp_path, "approved: 2021-06-01", f"approved: {date}")
    line = one_line_error(runner.invoke(app, [str(path) if a == "@" else a for a in command]))
    assert f"{path}, sites[0] (mingyue-tea.cn), field 'approved'" in line and date in line


def test_impossible_date_in_the_registry_is_blamed_on_the_registry(project: Path) -> None:
    registry = project / "filings.yaml"
    registry.write_text(REGISTRY_TEXT.replace("approved: 2021-06-01", "approved: 2026-02-30", 1), encoding="utf-8")
    line = one_line_error(preflight(project))
    assert "filings.yaml, sites[0] (mingyue-tea.cn), field 'approved'" in line
    assert "crashed" not in line and "fix the program" not in line
    audit = runner.invoke(app, ["audit", str(EXPORT), "--filings", str(registry), "--format", "json"])
    assert audit.exit_code == 1 and "field 'approved'" in audit.stdout  # fail closed, naming the field


@pytest.mark.parametrize("command", ["registry", "artifact"])
def test_dev_zero_is_read_up_to_the_cap(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site import filings

    monkeypatch.setattr(filings, "MAX_REGISTRY_BYTES", 1024**2)
    monkeypatch.setenv("CHINA_SITE_MAX_ARTIFACT_MB", "1")
    args = ["filings", "validate", "/dev/zero"] if command == "registry" else ["audit", "/dev/zero"]
    line = one_line_error(runner.invoke(app, args))
    assert "/dev/zero" in line and "limit of 1048576 bytes" in line


def test_a_pipe_is_read_up_to_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from china_site import filings

    monkeypatch.setattr(filings, "MAX_REGISTRY_BYTES", 1024**2)
    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)

    def writer() -> None:
        try:
            with open(fifo, "wb") as fh:
                for _ in range(64):
                    fh.write(b"# " + b"x" * 65_533 + b"\n")
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    line = one_line_error(runner.invoke(app, ["filings", "validate", str(fifo)]))
    thread.join(10)
    assert "limit of 1048576 bytes" in line


def test_a_pipe_nobody_writes_to_does_not_hang(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)
    line = one_line_error(runner.invoke(app, ["filings", "validate", str(fifo)]))
    assert "empty" in line and str(fifo) in line
    artifact = tmp_path / "export.json"
    os.mkfifo(artifact)
    assert "is empty" in one_line_error(runner.invoke(app, ["audit", str(artifact), "--filings", FILINGS]))


def test_stdin_artifact_cap_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHINA_SITE_MAX_ARTIFACT_MB", "1")
    line = one_line_error(runner.invoke(app, ["audit", "-"], input=b" " * (1024**2 + 10)))
    assert "<stdin>" in line and "CHINA_SITE_MAX_ARTIFACT_MB" in line
    good = EXPORT.read_bytes()
    result = runner.invoke(app, ["audit", "-", "--filings", FILINGS, "--format", "json"], input=good)
    assert result.exit_code in (0, 1) and json.loads(result.stdout)
    monkeypatch.setenv("CHINA_SITE_MAX_ARTIFACT_MB", "lots")
    assert "CHINA_SITE_MAX_ARTIFACT_MB" in one_line_error(runner.invoke(app, ["audit", "-"], input=good))


# --- remote registry: deadline, attempts, redirects, cache ---------------------------------------------------------


@pytest.fixture
def fake_oss(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testing-secret")
    cache = tmp_path / "cache"
    monkeypatch.setenv("CHINA_SITE_CACHE_DIR", str(cache))
    return cache


@pytest.mark.parametrize("mode", ["trickle", "hang"])
def test_one_deadline_for_a_remote_registry(fake_oss: Path, monkeypatch: pytest.MonkeyPatch, mode: Any) -> None:
    import time

    from hostile import endpoint, serve

    from china_site.errors import RegistryError
    from china_site.filings import load_registry

    with serve(mode, interval=0.2) as srv:
        monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", endpoint(srv))
        started = time.monotonic()
        with pytest.raises(RegistryError) as err:
            load_registry("oss://b/filings.yaml", read_timeout=1.0, deadline=2.0)
        elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # trickling bytes never reset the overall deadline
    assert "deadline of 2 s" in str(err.value) and "attempt" in str(err.value) and "fails closed" in str(err.value)


@pytest.mark.parametrize("attempts", [1, 3])
def test_attempts_are_counted_as_documented(fake_oss: Path, monkeypatch: pytest.MonkeyPatch, attempts: int) -> None:
    from hostile import endpoint, serve

    from china_site.errors import RegistryError
    from china_site.filings import load_registry

    with serve("error") as srv:
        monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", endpoint(srv))
        with pytest.raises(RegistryError) as err:
            load_registry("oss://b/filings.yaml", max_attempts=attempts, deadline=20)
        assert srv.requests == attempts  # "1 = no retry" is one request
    plural = "s" if attempts > 1 else ""
    assert f"{attempts} attempt{plural} of at most {attempts}" in str(err.value)


@pytest.mark.parametrize("mode", ["redirect", "redirect307"])
def test_redirect_loops_are_one_line(fake_oss: Path, monkeypatch: pytest.MonkeyPatch, mode: Any) -> None:
    from hostile import endpoint, serve

    with serve(mode) as srv:
        monkeypatch.setenv("CHINA_SITE_OSS_ENDPOINT", endpoint(srv))
        line = one_line_error(runner.invoke(app, ["filings", "validate", "oss://b/filings.yaml"]))
        assert srv.requests <= 3
    assert "oss://b/filings.yaml" in line and "Recursion" not in line


def test_cache_is_per_endpoint_verified_private_and_tidy(aws_test_env: Any, tmp_path: Path) -> None:
    import os
    import time

    from hostile import Proxy

    from china_site.filings import load_registry

    admin = aws_test_env.client()
    admin.create_bucket(Bucket="reg13")
    admin.put_object(Bucket="reg13", Key="filings.yaml", Body=REGISTRY_TEXT.encode("utf-8"))
    cache = tmp_path / "cache"
    source = "s3://reg13/filings.yaml"
    first = load_registry(source, cache_dir=cache)
    assert first.fetch is not None and first.fetch.status == 200

    # keyed by endpoint as well as source: the same bucket/key through another endpoint is another entry
    proxy = Proxy(("127.0.0.1", aws_test_env.port))
    try:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        other = load_registry(source, cache_dir=cache)
    finally:
        os.environ["AWS_ENDPOINT_URL"] = aws_test_env.endpoint
        proxy.close()
    assert other.fetch is not None and other.fetch.cache_file != first.fetch.cache_file
    assert len(list(cache.glob("registry-*.body"))) == 2

    # a cached body that no longer matches its ETag (tampered, checksum rewritten too) is never served
    body_file = Path(first.fetch.cache_file or "")
    meta_file = body_file.with_suffix(".json")
    evil = REGISTRY_TEXT.replace("上海明月茶业有限公司", "上海明月茶叶有限公司").encode("utf-8")
    meta = json.loads(meta_file.read_text("utf-8"))
    body_file.write_bytes(evil)
    import hashlib

    meta["sha256"] = hashlib.sha256(evil).hexdigest()
    meta_file.write_text(json.dumps(meta), "utf-8")
    again = load_registry(source, cache_dir=cache)
    assert again.fetch is not None and again.fetch.status == 200  # downloaded again, not a 304 on the bad copy
    assert "上海明月茶业有限公司" in {e.name for e in again.entities.values()}

    # stale temporary files of ours are removed; fresh ones and other files are left
    stale = cache / ".registry-abc.body.x1.tmp"
    fresh = cache / ".registry-def.body.x2.tmp"
    mine = cache / "notes.txt"
    for f in (stale, fresh, mine):
        f.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    admin.put_object(Bucket="reg13", Key="filings.yaml", Body=REGISTRY_TEXT.encode("utf-8") + b"\n# v2\n")
    load_registry(source, cache_dir=cache)
    assert not stale.exists() and fresh.exists() and mine.exists()

    # a cache folder others can write to is not used, and the registry says so
    cache.chmod(0o777)
    try:
        shared = load_registry(source, cache_dir=cache)
    finally:
        cache.chmod(0o700)
    assert shared.fetch is not None and not shared.fetch.from_cache
    assert any("is not used" in w and "writable by others" in w for w in shared.warnings)


# --- output: literal, escaped, well-formed -----------------------------------------------------------------------


def test_registry_text_is_printed_literally(tmp_path: Path) -> None:
    path = registry_with(tmp_path, "    name: 上海明月茶业有限公司", '    name: "[blink]明月[/blink] [/x] \\e[2J"',
                         name="reg[/x].yaml")  # fmt: skip
    validate = runner.invoke(app, ["filings", "validate", str(path)])
    assert validate.exit_code == 0 and "Traceback" not in validate.output, validate.output
    assert validate.stdout.startswith(f"valid: {path} — 6 entities")
    show = runner.invoke(app, ["filings", "show", "www.mingyue-tea.cn", "--filings", str(path)])
    assert show.exit_code == 0, show.output
    assert "[blink]明月[/blink] [/x]" in show.stdout and "\x1b" not in show.stdout and "\\x1b[2J" in show.stdout
    expiring = runner.invoke(app, ["filings", "expiring", "--within", "9999", "--filings", str(path),
                                   "--today", "2026-11-28"])  # fmt: skip
    assert expiring.exit_code == 1 and "Traceback" not in expiring.output and "\x1b" not in expiring.output


def hostile_export(tmp_path: Path, suffix: str) -> Path:
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    text = json.dumps(doc).replace("::www-bucket", "::www-bucket" + suffix)
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    return path


CONTROL = '\\u001b[2J\\u0008\\u0000<&\\"]]>\\u0007[blink]x[/blink]'  # JSON text: ESC, BS, NUL, <, &, ", BEL


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    path = hostile_export(tmp_path, CONTROL)
    result = runner.invoke(app, ["audit", str(path), "--filings", FILINGS])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not any(ch in result.stdout for ch in "\x1b\x00\x07\x08")
    assert "www-bucket\\x1b[2J\\x08\\x00<&" in result.stdout and "[blink]x[/blink]" in result.stdout


def test_every_format_is_well_formed_with_control_characters(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    path = hostile_export(tmp_path, CONTROL)
    out = {}
    for fmt in ("json", "sarif", "junit"):
        result = runner.invoke(app, ["audit", str(path), "--filings", FILINGS, "--format", fmt])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        out[fmt] = result.stdout
    for fmt in ("json", "sarif"):
        json.loads(out[fmt])
        assert "\x1b" not in out[fmt] and "\x00" not in out[fmt]  # JSON escapes them (\u001b)
    root = ET.fromstring(out["junit"].encode("utf-8"))  # raises on a control character
    names = [case.get("classname", "") for case in root.iter("testcase")]
    assert any('www-bucket\\x1b[2J\\x08\\x00<&"]]>\\x07' in n for n in names)


def test_a_lone_surrogate_in_an_artifact_gives_a_report(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    path = hostile_export(tmp_path, "\\ud800")
    for fmt in ("table", "json", "sarif", "junit"):
        result = runner.invoke(app, ["audit", str(path), "--filings", FILINGS, "--format", fmt])
        assert result.exit_code == 1 and "Traceback" not in result.output, (fmt, result.output)
        if fmt == "junit":
            ET.fromstring(result.stdout.encode("utf-8"))
        elif fmt != "table":
            json.loads(result.stdout)
