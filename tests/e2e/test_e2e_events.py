"""Engine events beyond ``pulumi up --json``, written by the real engine and read by ``china-site audit``: a streaming
JSON preview (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json``: pkg/v3 backend/display/display.go
streams the events instead of the digest) and the Python Automation API's ``on_event`` events saved with
``china_site.engine.events.event_to_json``. The engine's own policy events appear in the report beside ours, with no
disagreement.

``CHINA_SITE_E2E_SAVE_EVENTS=<folder>`` keeps the files the engine wrote there (how tests/data/engine/real-* were made).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from e2e_helpers import VENV, PolicyFinding, Project, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_audit import audit, engine_set, findings
from test_e2e_pack_blocks import cdn_urn, hand_made

# The Automation API program: the project copy's own program and stack, preview with the pack, every event saved.
AUTOMATION = """\
import sys

import pulumi.automation as auto

from china_site.engine.events import event_to_json

work_dir, out = sys.argv[1], sys.argv[2]
stack = auto.select_stack(stack_name=sys.argv[3], work_dir=work_dir)
with open(out, "w", encoding="utf-8") as log:
    try:
        stack.preview(policy_packs=["policies"], on_event=lambda e: log.write(event_to_json(e)))
    except auto.errors.CommandError as err:  # a mandatory violation fails the preview, as on the CLI
        print("preview failed:", str(err).splitlines()[0][:200])
"""


def _keep(path: Path, name: str) -> None:
    folder = os.environ.get("CHINA_SITE_E2E_SAVE_EVENTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(folder) / name)


def _check_report(report: dict[str, Any], engine: set[PolicyFinding], project: Project) -> None:
    assert report["engine_compared"] is True
    assert report["disagreements"] == [], report["disagreements"]
    shown = {(e["policy"], e["urn"] or "", e["enforcement"]) for e in report["engine_policy_events"]}
    assert engine_set(shown) == engine
    # The engine blocked the run ("preview failed"): audit says so too, beside the same policy findings.
    blocked = {f for f in findings(report) if f[0] == "run-failed"}
    assert blocked == {("run-failed", "", "mandatory")}
    assert findings(report) - blocked == engine
    assert ("icp-filing-required", cdn_urn(project), "mandatory") in engine  # the verdict being compared


def test_a_streaming_json_preview_is_audited_beside_the_engines_verdicts(
    project: Project, local_cloud: LocalCloud
) -> None:
    hand_made(project)
    preview = project.pulumi(
        "preview",
        "--policy-pack",
        "policies",
        "--json",
        check=False,
        env={"PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"},
    )
    assert preview.returncode != 0  # the mandatory violation fails the preview
    streamed = preview.json_lines()
    assert streamed and all("sequence" in e and "timestamp" in e for e in streamed)  # events, not a digest
    engine = engine_set(policy_events(preview))  # from --event-log: the same run's events
    assert engine_set(policy_events(streamed)) == engine
    saved = project.dir.parent / "streaming-preview.jsonl"
    saved.write_text(preview.stdout)
    _keep(saved, "real-streaming-preview-events.jsonl")

    code, report = audit(project, preview.stdout)
    assert code == 1
    _check_report(report, engine, project)


def _automation_preview(project: Project, stack: str, out: Path) -> str:
    script = project.dir.parent / "automation.py"
    script.write_text(textwrap.dedent(AUTOMATION))
    # The Automation API runs the `pulumi` CLI it finds on PATH: the engine's bin folder is first there.
    done = subprocess.run(
        [str(VENV / "bin" / "python"), str(script), str(project.dir), str(out), stack],
        env=project.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


def test_automation_api_events_saved_with_event_to_json_are_audited(project: Project, local_cloud: LocalCloud) -> None:
    # A clean run first: the mainland sample. Its events carry no policyEvent and the Python EngineEvent drops the
    # policy summary events, so only summaryEvent.policyPacks ("china-site|local|policies") says the pack ran.
    project.stack("mainland")
    clean = project.dir.parent / "automation-mainland.jsonl"
    assert "preview failed" not in _automation_preview(project, "mainland", clean)
    code, report = audit(project, clean.read_text(encoding="utf-8"))
    assert code == 0, report
    assert report["engine_compared"] is True  # not "nothing to compare"
    assert report["engine_policy_events"] == [] and report["disagreements"] == [] and report["findings"] == []

    hand_made(project)
    out = project.dir.parent / "automation-events.jsonl"
    assert "preview failed" in _automation_preview(project, "byhand", out)
    _keep(out, "real-automation-events.jsonl")

    text = out.read_text(encoding="utf-8")
    engine = engine_set(policy_events([json.loads(line) for line in text.splitlines() if line]))
    code, report = audit(project, text)
    assert code == 1
    _check_report(report, engine, project)
