"""Hong Kong sample stack with the real engine: ``hosting: auto`` for an unfiled domain lands in cn-hongkong with
CDN scope overseas, and the pack finds nothing."""

from __future__ import annotations

from e2e_helpers import Project, policies_passed, policy_events
from localcloud.fixtures import LocalCloud
from sample_stacks import HONGKONG_RESOURCES


def test_hongkong_auto_lands_in_hong_kong(project: Project, local_cloud: LocalCloud) -> None:
    project.stack("hongkong")
    up = project.pulumi("up", "--yes", "--policy-pack", "policies")
    assert policy_events(up) == set()
    assert any(p == "icp-filing-required" for p, _ in policies_passed(up))
    outputs = project.pulumi("stack", "output", "--json").json()
    assert (outputs["hosting"], outputs["region"], outputs["cdn_scope"]) == ("hongkong", "cn-hongkong", "overseas")
    assert {r["type"] for r in local_cloud.resources()} == {
        t for t, _ in HONGKONG_RESOURCES if t.startswith("alicloud:")
    }
    (cdn,) = local_cloud.resources("alicloud:cdn/domainNew:DomainNew")
    assert cdn["inputs"]["scope"] == "overseas"
    configure = local_cloud.calls("Configure")
    assert configure and {c.get("region") for c in configure} == {"cn-hongkong"}
