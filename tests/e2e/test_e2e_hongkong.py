"""Hong Kong sample stack with the real engine: ``hosting: auto`` for an unfiled domain lands in cn-hongkong with
CDN scope overseas, and the pack finds nothing."""

from __future__ import annotations

from e2e_helpers import Project, policies_passed, policy_events
from fake_cdn_api import FakeCdn
from localcloud.fixtures import LocalCloud
from sample_stacks import HONGKONG_RESOURCES


def test_hongkong_auto_lands_in_hong_kong(project: Project, local_cloud: LocalCloud, cdn_api: FakeCdn) -> None:
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
    # CDN ownership: no DNS zone, so no TXT record of ours; the CDN API is asked whether the account owns the root.
    assert "VerifyDomainOwner" in cdn_api.actions("www.harbour-lantern.com")
    assert not [r for r in local_cloud.resources() if r["inputs"].get("type") == "TXT"]
