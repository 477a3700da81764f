"""CDN ownership verification with the real engine: from a root domain the account has never verified, ``pulumi up`` of
the mainland sample gets the content (DescribeVerifyContent), creates the TXT record ``verification.<root>`` in the
local cloud's Alibaba Cloud DNS, which the fake CDN API sees (``cdn_api.dns``), passes VerifyDomainOwner and only then
creates the CDN domain. When Alibaba Cloud cannot see the record, ``up`` fails with the record to create and no CDN
domain exists. (An already verified root: tests/e2e/test_e2e_mainland.py, one VerifyDomainOwner call in a whole life.)
"""

from __future__ import annotations

import re
from typing import Any

from e2e_helpers import Project
from fake_cdn_api import FakeCdn, content_of
from localcloud.fixtures import LocalCloud

ROOT_DOMAIN = "mingyue-tea.cn"
CDN_DOMAIN = "www.mingyue-tea.cn"
CDN_TYPE = "alicloud:cdn/domainNew:DomainNew"
DNS_TYPE = "alicloud:dns/alidnsRecord:AlidnsRecord"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _first(events: list[dict[str, Any]], kind: str, urn_suffix: str) -> int:
    """Index of the first ``kind`` event (resourcePreEvent / resOutputsEvent) of the resource whose URN ends so."""
    for i, e in enumerate(events):
        meta = (e.get(kind) or {}).get("metadata") or {}
        if str(meta.get("urn", "")).endswith(urn_suffix):
            return i
    raise AssertionError(f"no {kind} for *{urn_suffix} among {len(events)} events")


def _txt_records(local_cloud: LocalCloud) -> list[dict[str, Any]]:
    return [r for r in local_cloud.resources(DNS_TYPE) if r["inputs"].get("type") == "TXT"]


def test_up_from_an_unverified_root_creates_the_txt_record_then_verifies_then_the_cdn_domain(
    project: Project, local_cloud: LocalCloud, cdn_api: FakeCdn
) -> None:
    cdn_api.verified.clear()  # this account has never proved it owns mingyue-tea.cn
    project.stack("mainland")

    up = project.pulumi("up", "--yes", "--skip-preview")

    # The engine's own events: the TXT record's step finished before the ownership check's, which finished before the
    # CDN domain's step began.
    ev = up.events
    txt_done = _first(ev, "resOutputsEvent", f"{DNS_TYPE}::site-dns-ownership")
    owned = _first(ev, "resOutputsEvent", "DomainOwnership::site-domain-ownership")
    cdn_start = _first(ev, "resourcePreEvent", f"{CDN_TYPE}::site-cdn")
    assert txt_done < owned < cdn_start
    assert _first(ev, "resOutputsEvent", "DomainVerifyContent::site-verify-content") < txt_done

    # The CDN API: the content asked once, one VerifyDomainOwner, which saw the record with that content.
    assert cdn_api.actions() == ["DescribeVerifyContent", "VerifyDomainOwner"]
    assert cdn_api.requests[-1]["seen"] == [content_of(ROOT_DOMAIN)]
    assert ROOT_DOMAIN in cdn_api.verified

    # The local cloud: the TXT record at verification.<root> with the content, created before the CDN domain.
    txt = _txt_records(local_cloud)
    assert [(r["inputs"]["domainName"], r["inputs"]["rr"], r["inputs"]["value"]) for r in txt] == [
        (ROOT_DOMAIN, "verification", content_of(ROOT_DOMAIN))
    ]
    creates = local_cloud.calls("Create")
    order = [c["type"] for c in creates if c["type"] in (DNS_TYPE, CDN_TYPE) and not c.get("preview")]
    assert order.index(DNS_TYPE) < order.index(CDN_TYPE)
    assert [r["inputs"]["domainName"] for r in local_cloud.resources(CDN_TYPE)] == [CDN_DOMAIN]

    # What the state says: verified on the first attempt.
    state = project.pulumi("stack", "export").json()
    ownership = [r for r in state["deployment"]["resources"] if r["urn"].endswith("::site-domain-ownership")]
    assert ownership[0]["outputs"]["verified"] is True and ownership[0]["outputs"]["attempts"] == 1


def test_up_fails_with_the_record_to_create_when_alibaba_cloud_cannot_see_it(
    project: Project, local_cloud: LocalCloud, cdn_api: FakeCdn
) -> None:
    # The zone's name servers are elsewhere: the record created in Alibaba Cloud DNS is never seen by the CDN API.
    cdn_api.verified.clear()
    cdn_api.dns = None
    project.stack("mainland", **{"china-site:verificationTimeout": "1"})

    up = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert up.returncode != 0
    out = up.output
    assert "DomainOwnerVerifyFail" in out
    assert f"verification.{ROOT_DOMAIN}" in out and "TXT" in out
    assert content_of(ROOT_DOMAIN) in out  # the value to put in the record
    assert CJK.search(out) and f"主机 verification.{ROOT_DOMAIN}" in out  # English, then Chinese, whole
    assert "Traceback" not in out and "more characters" not in out  # one line of ours, not cut
    # The check failed, so the CDN domain was never attempted (nor anything that waits for it).
    assert local_cloud.calls("Create", type=CDN_TYPE) == []
    assert local_cloud.resources(CDN_TYPE) == []
    assert cdn_api.actions().count("VerifyDomainOwner") == 1  # timeout 1 s < the 15 s retry interval
    assert ROOT_DOMAIN not in cdn_api.verified
    # The record itself was created (what the user must make visible): the next up verifies once it is seen.
    assert [r["inputs"]["rr"] for r in _txt_records(local_cloud)] == ["verification"]
    cdn_api.dns = local_cloud.published_txt
    project.pulumi("up", "--yes", "--skip-preview")
    assert [r["inputs"]["domainName"] for r in local_cloud.resources(CDN_TYPE)] == [CDN_DOMAIN]
