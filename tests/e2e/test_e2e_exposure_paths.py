"""Issue 18 through the real engine: second paths to the internet, template types and unknown types are blocked on
the mainland by the pack the CLI runs — an ACK cluster whose nginx ingress addon asks for an internet load balancer,
a ``ros.Stack`` whose template creates a public ECS, and a type of a newer pulumi-alicloud that the exposure data
does not know. Their private twins pass (a false positive is a defect too)."""

from __future__ import annotations

import json
import textwrap

from e2e_helpers import Project, policy_events
from localcloud.fixtures import LocalCloud
from test_e2e_audit import audit, engine_set, findings

DOMAIN = "shop.unfiled-example.com"
STACK_NAME = "byhand"
TEMPLATE = {
    "ROSTemplateFormatVersion": "2015-09-01",
    "Parameters": {"Bandwidth": {"Type": "Number", "Default": 0}},
    "Resources": {
        "Web": {
            "Type": "ALIYUN::ECS::Instance",
            "Properties": {
                "ImageId": "centos_7",
                "InstanceType": "ecs.g6.large",
                "InternetMaxBandwidthOut": {"Ref": "Bandwidth"},
                "Tags": [{"Key": "china-site:domain", "Value": DOMAIN}],
            },
        }
    },
}
PATHS_PROGRAM = f"""
import json
import pulumi
import pulumi_alicloud as alicloud

mainland = alicloud.Provider("mainland", region="cn-shanghai")
opts = pulumi.ResourceOptions(provider=mainland)
tags = {{"china-site:domain": "{DOMAIN}"}}

def ingress(network):
    return [alicloud.cs.ManagedKubernetesAddonArgs(
        name="nginx-ingress-controller",
        config=json.dumps({{"IngressSlbNetworkType": network, "IngressSlbSpec": "slb.s2.small"}}),
    )]

alicloud.cs.ManagedKubernetes("ack-internet", slb_internet_enabled=False, addons=ingress("internet"), tags=tags,
                              opts=opts)
alicloud.cs.ManagedKubernetes("ack-intranet", slb_internet_enabled=False, addons=ingress("intranet"), tags=tags,
                              opts=opts)
template = json.dumps({json.dumps(TEMPLATE)})
alicloud.ros.Stack("ros-public", stack_name="web", template_body=template,
                   parameters=[alicloud.ros.StackParameterArgs(parameter_key="Bandwidth", parameter_value="5")],
                   opts=opts)
alicloud.ros.Stack("ros-private", stack_name="web-private", template_body=template, opts=opts)
"""
NEWER = "alicloud:edgesite/site:Site"  # not a type of the installed pulumi-alicloud, nor of the exposure data
UNKNOWN_PROGRAM = f"""
import pulumi
import pulumi_alicloud as alicloud

mainland = alicloud.Provider("mainland", region="cn-shanghai")
pulumi.CustomResource("{NEWER}", "future-site", {{"siteName": "web", "internetAccess": True, "siteDomain": "{DOMAIN}"}},
                      opts=pulumi.ResourceOptions(provider=mainland))
pulumi.CustomResource("{NEWER}", "future-log", {{"siteName": "logs"}}, opts=pulumi.ResourceOptions(provider=mainland))
"""


def hand_made(project: Project, program: str) -> Project:
    (project.dir / "__main__.py").write_text(textwrap.dedent(program))
    for stack_file in project.dir.glob("Pulumi.*.yaml"):
        stack_file.unlink()
    project.stack(STACK_NAME, **{"china-site:filings": "filings.yaml"})
    return project


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:{STACK_NAME}::china-site::{token}::{name}"


def test_ack_ingress_addon_and_ros_template_are_blocked(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project, PATHS_PROGRAM)
    pre = project.pulumi("preview", "--policy-pack", "policies", check=False)
    assert pre.returncode != 0, pre.output[-3000:]
    mandatory = {(p, u) for p, u, level in policy_events(pre) if level == "mandatory"}
    ack, ros = "alicloud:cs/managedKubernetes:ManagedKubernetes", "alicloud:ros/stack:Stack"
    assert mandatory == {
        ("icp-filing-required", urn(ack, "ack-internet")),
        ("icp-filing-required", urn(ros, "ros-public")),
    }, policy_events(pre)
    assert DOMAIN in pre.stdout and "没有 ICP 备案" in pre.stdout


def test_an_unknown_type_is_blocked_on_the_mainland(project: Project, local_cloud: LocalCloud) -> None:
    hand_made(project, UNKNOWN_PROGRAM)
    newer = project.dir.parent / "newer-types.json"
    newer.write_text(json.dumps({NEWER: {"inputs": ["siteName", "internetAccess", "siteDomain"]}}))
    env = {"LOCALCLOUD_NEWER_TYPES": str(newer)}
    pre = project.pulumi("preview", "--policy-pack", "policies", check=False, env=env)
    assert pre.returncode != 0, pre.output[-3000:]
    found = policy_events(pre)
    assert ("unreviewed-exposure", urn(NEWER, "future-site"), "mandatory") in found
    assert ("unreviewed-type", urn(NEWER, "future-log"), "advisory") in found  # named, not blocking
    assert not {f for f in found if f[1] == urn(NEWER, "future-log") and f[2] == "mandatory"}
    assert NEWER in pre.stdout and "pulumi-alicloud 4.0.0" in pre.stdout
    # The local cloud does serve the type (its Check passed): the pack is what blocks it.
    checks = local_cloud.calls("Check", type=NEWER)
    assert checks and not any(c.get("failures") for c in checks)
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", "policies", check=False, env=env)
    assert up.returncode != 0
    # The blocked resource is never created. Its harmless twin (advisory only) may be: the engine runs independent
    # steps in parallel, and a mandatory violation stops the update, not steps already under way.
    created = {r["urn"] for r in local_cloud.resources(NEWER)}
    assert urn(NEWER, "future-site") not in created, created


BUCKET = "alicloud:oss/bucket:Bucket"
BUCKETS_PROGRAM = f"""
import pulumi
import pulumi_alicloud as alicloud

mainland = alicloud.Provider("mainland", region="cn-shanghai")
opts = pulumi.ResourceOptions(provider=mainland)
tags = {{"china-site:domain": "{DOMAIN}"}}

alicloud.oss.Bucket("open", bucket="site-open", acl="public-read", tags=tags, opts=opts)
alicloud.oss.Bucket("untied", bucket="site-untied", acl="public-read", opts=opts)
blocked = alicloud.oss.Bucket("blocked", bucket="site-blocked", acl="public-read", tags=tags, opts=opts)
alicloud.oss.BucketPublicAccessBlock("blocked-bpa", bucket="site-blocked", block_public_access=True,
                                     opts=pulumi.ResourceOptions(provider=mainland, depends_on=[blocked]))
"""


def test_block_public_access_cancels_a_buckets_own_public_acl(project: Project, local_cloud: LocalCloud) -> None:
    """Issue 18 item 6: the bucket whose public ACL OSS Block Public Access blocks gets nothing; its open twin is
    blocked (icp-filing-required), and an untied public bucket keeps the untied-mainland-exposure advisory."""
    hand_made(project, BUCKETS_PROGRAM)
    streaming = {"PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"}
    pre = project.pulumi("preview", "--policy-pack", "policies", "--json", check=False, env=streaming)
    assert pre.returncode != 0, pre.output[-3000:]
    found = policy_events(pre)
    assert {(p, u) for p, u, level in found if level == "mandatory"} == {("icp-filing-required", urn(BUCKET, "open"))}
    assert ("untied-mainland-exposure", urn(BUCKET, "untied"), "advisory") in found
    assert not [f for f in found if f[1] == urn(BUCKET, "blocked")], found
    # `china-site audit` of the engine's own events: the same verdicts, the blocked bucket passes there too.
    code, report = audit(project, pre.stdout)
    assert code == 1 and report["engine_compared"] is True and report["disagreements"] == []
    assert {f for f in findings(report) if f[0] != "run-failed"} == engine_set(found)
