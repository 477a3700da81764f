"""Refusal with the real engine: ``hosting: mainland`` for a domain without an ICP filing stops ``pulumi up`` before
anything is created, with china-site's bilingual message (a program error, not a policy violation)."""

from __future__ import annotations

import json
import re

from e2e_helpers import Project, policy_events
from localcloud.fixtures import LocalCloud

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_mainland_for_an_unfiled_domain_is_refused(project: Project, local_cloud: LocalCloud) -> None:
    project.stack(
        "refused",
        **{
            "china-site:domain": "www.harbour-lantern.com",
            "china-site:hosting": "mainland",
            "china-site:filings": "filings.yaml",
            "china-site:contentDir": "site-hk",
        },
    )
    for command in (["preview"], ["up", "--yes", "--skip-preview"]):
        run = project.pulumi(*command, "--policy-pack", "policies", check=False)
        assert run.returncode != 0
        out = run.output
        assert "harbour-lantern.com" in out
        assert "ICP" in out and CJK.search(out), out[-3000:]  # English, then Chinese
        assert "Traceback" not in out  # our message alone, as a RunError
        # The CLI shows it as the program's error, not as a policy violation.
        assert policy_events(run) == set()
        assert any(
            "diagnosticEvent" in e and "harbour-lantern.com" in e["diagnosticEvent"]["message"] for e in run.events
        )
    assert local_cloud.calls("Create") == []
    assert local_cloud.resources() == []


def test_a_refused_preview_piped_into_audit_fails(project: Project, local_cloud: LocalCloud) -> None:
    """`pulumi preview --json --show-sames | china-site audit -` of a program that refuses the mainland: the JSON
    holds only the root stack and the refusal as an error diagnostic. Before: exit 0, "No findings"."""
    project.stack(
        "refused",
        **{
            "china-site:domain": "www.harbour-lantern.com",
            "china-site:hosting": "mainland",
            "china-site:filings": "filings.yaml",
            "china-site:contentDir": "site-hk",
        },
    )
    preview = project.pulumi("preview", "--json", "--show-sames", check=False)
    assert preview.returncode != 0
    doc = preview.json()
    assert any(d.get("severity") == "error" for d in doc.get("diagnostics", [])), doc  # where the refusal is
    done = project.china_site("audit", "-", "--format", "json", stdin=preview.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    [failed] = [f for f in report["findings"] if f["policy"] == "run-failed"]
    assert failed["enforcement"] == "mandatory"
    assert "harbour-lantern.com" in failed["message"] and "ICP" in failed["message"]
    table = project.china_site("audit", "-", stdin=preview.stdout)
    assert table.returncode == 1 and "No findings" not in table.stdout
