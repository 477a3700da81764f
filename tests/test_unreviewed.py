"""Issue 18 item 4: a resource type the exposure data does not know never passes silently — through the pack's
policies and through ``china-site audit`` alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_exposure_types import (
    _export,
    _isolated_env,  # noqa: F401  (the autouse fixture, applied here too)
    _resource,
    audit,
    config,  # noqa: F401
    provider,
    rargs,
    registry,  # noqa: F401
    run,
)

from china_site.unreviewed import is_unreviewed, public_looking, reviewed_version, unreviewed_finding

NEW = "alicloud:futureproduct/edgeSite:EdgeSite"  # not a type of pulumi-alicloud 4.0.0
PUBLIC = {"siteDomain": "www.unfiled-example.cn", "internetAccess": True}
HARMLESS = {"description": "logs", "retentionDays": 30}


def both(props: dict[str, Any], region: str, config: dict[str, Any], token: str = NEW) -> dict[str, list[str]]:  # noqa: F811
    args = rargs(token, props, config, provider(region))
    return {name: run(name, args) for name in ("unreviewed-exposure", "unreviewed-type")}


def test_known_types_and_other_packages_are_not_unreviewed() -> None:
    assert is_unreviewed(NEW)
    assert not is_unreviewed("alicloud:ecs/instance:Instance")  # exposing
    assert not is_unreviewed("alicloud:ecs/securityGroup:SecurityGroup")  # reviewed
    assert not is_unreviewed("pulumi:providers:alicloud")
    assert not is_unreviewed("aws:s3/bucket:Bucket")
    assert not is_unreviewed("china-site:index:Site")


@pytest.mark.parametrize(
    ("props", "looks"),
    [
        (PUBLIC, ["siteDomain", "internetAccess"]),
        (HARMLESS, []),
        ({"addressType": "Intranet", "internetAccess": False, "publicKey": "ssh-ed25519 AAAA"}, []),
        ({"bandwidthOut": 0, "config": {"listeners": [{"port": 80}]}}, ["config.listeners"]),
        ({"endpointConfig": [{"publicEndpoint": "UNKNOWN"}]}, ["endpointConfig"]),
        # switches that only close a path: on, they make a new type less public (no mandatory false positive)
        ({"blockPublicAccess": True, "disableInternet": True, "restrictPublicBuckets": True}, []),
        ({"blockPublicAccess": True, "publicRead": True}, ["publicRead"]),
    ],
)
def test_public_looking_inputs(props: dict[str, Any], looks: list[str]) -> None:
    assert public_looking(props) == looks


def test_public_looking_on_the_mainland_is_mandatory(config: dict[str, Any]) -> None:  # noqa: F811
    found = both(PUBLIC, "cn-shanghai", config)
    [message] = found["unreviewed-exposure"]
    assert found["unreviewed-type"] == []
    assert NEW in message and f"pulumi-alicloud {reviewed_version()}" in message and "siteDomain" in message
    assert "this resource's provider is 4.0.0" in message  # the provider's own version, as the engine sends it
    assert "不在 china-site" in message and "Fix:" in message and "waive" in message


def test_unknown_region_is_read_as_mainland(config: dict[str, Any]) -> None:  # noqa: F811
    args = rargs(NEW, PUBLIC, config, provider(None, "web"))  # an explicit provider without region
    assert run("unreviewed-exposure", args)


def test_harmless_or_offshore_is_advisory_and_named(config: dict[str, Any]) -> None:  # noqa: F811
    for props, region in ((HARMLESS, "cn-shanghai"), (PUBLIC, "cn-hongkong"), (HARMLESS, "cn-hongkong")):
        found = both(props, region, config)
        assert found["unreviewed-exposure"] == []
        [message] = found["unreviewed-type"]
        assert NEW in message


def test_reviewed_types_get_neither(config: dict[str, Any]) -> None:  # noqa: F811
    for token in ("alicloud:ecs/securityGroup:SecurityGroup", "alicloud:ecs/instance:Instance"):
        assert both(PUBLIC, "cn-shanghai", config, token) == {"unreviewed-exposure": [], "unreviewed-type": []}


def test_a_waiver_names_the_policy(config: dict[str, Any]) -> None:  # noqa: F811
    waiver = {"policy": "unreviewed-exposure", "resource": "r", "reason": "reviewed by hand", "expires": "2099-01-01"}
    args = rargs(NEW, PUBLIC, {**config, "waivers": [waiver]}, provider("cn-shanghai"))
    [message] = run("unreviewed-exposure", args)  # a waived finding is stated, naming its waiver (issue 18)
    assert message.startswith("WAIVED until 2099-01-01") and "reviewed by hand" in message and NEW in message


def test_the_core_finding_levels() -> None:
    mandatory = unreviewed_finding(NEW, PUBLIC, area="mainland", region="cn-shanghai")
    advisory = unreviewed_finding(NEW, PUBLIC, area="hongkong", region="cn-hongkong")
    assert mandatory is not None and mandatory.finding.enforcement == "mandatory"
    assert advisory is not None and advisory.finding.enforcement == "advisory" and advisory.policy == "unreviewed-type"
    assert unreviewed_finding("alicloud:ecs/instance:Instance", PUBLIC, area="mainland", region=None) is None


def test_audit_behaves_as_the_pack(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    resources = [
        _resource(NEW, "public-sh", PUBLIC, "sh"),
        _resource(NEW, "harmless-sh", HARMLESS, "sh"),
        _resource(NEW, "public-hk", PUBLIC, "hk"),
    ]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai", "hk": "cn-hongkong"}), registry)
    found = {(f["policy"], f["enforcement"], f["name"]) for f in data["findings"]}
    assert found >= {
        ("unreviewed-exposure", "mandatory", "public-sh"),
        ("unreviewed-type", "advisory", "harmless-sh"),
        ("unreviewed-type", "advisory", "public-hk"),
    }
    assert not {f for f in found if f[2] == "public-hk" and f[0] == "unreviewed-exposure"}


def test_audit_enforcement_level_is_configurable(tmp_path: Path, registry: Path) -> None:  # noqa: F811
    config_path = tmp_path / "policy.json"
    config_path.write_text(json.dumps({"unreviewed-type": "mandatory"}), encoding="utf-8")
    resources = [_resource(NEW, "harmless-sh", HARMLESS, "sh")]
    data = audit(tmp_path, _export(resources, {"sh": "cn-shanghai"}), registry, "--policy-config", str(config_path))
    assert ("unreviewed-type", "mandatory") in {(f["policy"], f["enforcement"]) for f in data["findings"]}


def test_the_quick_reading_of_the_reviewed_list_equals_the_parsed_one() -> None:
    from china_site.exposure import RESOURCE_TYPES, reviewed_types
    from china_site.unreviewed import _known

    assert _known() == set(RESOURCE_TYPES) | set(reviewed_types())


def test_a_cdn_like_scope_is_mandatory_outside_the_mainland_too(config: dict[str, Any]) -> None:  # noqa: F811
    domestic = {"domainName": "www.unfiled-example.cn", "scope": "domestic"}
    assert both(domestic, "cn-hongkong", config)["unreviewed-exposure"]
    overseas = {"domainName": "www.unfiled-example.cn", "scope": "overseas"}
    found = both(overseas, "cn-hongkong", config)
    assert found["unreviewed-exposure"] == [] and found["unreviewed-type"]
