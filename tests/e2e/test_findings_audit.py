"""Fast regression tests for what the real engine revealed about ``china-site audit`` (no Pulumi CLI needed).

Found by test_e2e_audit.py (by-hand scenario): an ordinary ``pulumi preview --json`` of an update lists only the root
stack among unchanged resources (``changeSummary.same`` counts the rest), while the engine still runs the pack over
all of them; the audit judged the listed ones only and passed where the engine reported a violation.
"""

from __future__ import annotations

import json
from typing import Any

from china_site.engine.artifacts import parse_artifact
from china_site.engine.runner import RESOURCES_NOT_IN_ARTIFACT, omission_diagnostics

STACK = "urn:pulumi:byhand::china-site::pulumi:pulumi:Stack::china-site-byhand"
PROVIDER = "urn:pulumi:byhand::china-site::pulumi:providers:alicloud::mainland"
CDN = "urn:pulumi:byhand::china-site::alicloud:cdn/domainNew:DomainNew::cdn"


def _step(urn: str, type_: str, inputs: dict[str, Any], provider: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"urn": urn, "custom": type_ != "pulumi:pulumi:Stack", "type": type_, "inputs": inputs}
    if provider:
        state["provider"] = provider
    return {"op": "same", "urn": urn, "oldState": state, "newState": state}


def _preview(show_sames: bool) -> str:
    """The shape `pulumi preview --json` (v3.274.1) writes for an update that changes nothing."""
    steps = [_step(STACK, "pulumi:pulumi:Stack", {})]
    if show_sames:
        steps += [
            _step(PROVIDER, "pulumi:providers:alicloud", {"region": "cn-shanghai"}),
            _step(
                CDN,
                "alicloud:cdn/domainNew:DomainNew",
                {"domainName": "shop.unfiled-example.com", "scope": "domestic"},
                provider=f"{PROVIDER}::id-1",
            ),
        ]
    return json.dumps({"config": {}, "steps": steps, "changeSummary": {"same": 3}})


def test_a_preview_that_omits_unchanged_resources_is_a_mandatory_finding_naming_the_fix() -> None:
    artifact = parse_artifact(_preview(show_sames=False), "plan.json")
    assert artifact.omitted_unchanged == 2
    (finding,) = omission_diagnostics(artifact)
    assert (finding.policy, finding.enforcement, finding.urn) == (RESOURCES_NOT_IN_ARTIFACT, "mandatory", "")
    assert "2 unchanged resource(s)" in finding.message and "--show-sames" in finding.message
    assert "未检查" in finding.message


def test_a_preview_with_show_sames_lists_everything() -> None:
    artifact = parse_artifact(_preview(show_sames=True), "plan.json")
    assert artifact.omitted_unchanged == 0
    assert omission_diagnostics(artifact) == []
    assert {r.urn for r in artifact.records} >= {PROVIDER, CDN}


def test_with_the_state_the_omitted_resources_are_judged_as_the_state_has_them() -> None:
    state = parse_artifact(_preview(show_sames=True), "state")  # stands in for `pulumi stack export`'s records
    artifact = parse_artifact(_preview(show_sames=False), "plan.json", state=state)
    assert artifact.omitted_unchanged == 0 and omission_diagnostics(artifact) == []
    cdn = next(r for r in artifact.records if r.urn == CDN)
    assert cdn.inputs["scope"] == "domestic"
    assert cdn.provider is not None and cdn.provider.inputs["region"] == "cn-shanghai"
