"""Live verification (``verify: live``) against a local server that answers as the CDN API's CheckCdnDomainICP.

The real SDK (``alibabacloud-cdn20180510``) talks to ``http://127.0.0.1:<port>`` (``CHINA_SITE_CDN_ENDPOINT``), served
by ``tests/fake_cdn_api.py``. It answers ``{"RequestId": …, "Status": "DomainIsRegistration" |
"DomainNotRegistration"}`` (the SDK's ``CheckCdnDomainICPResponseBody``), an API error (HTTP 400 with
``Code``/``Message``), or too late (timeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_cdn_api import FakeCdn, serve
from registry_data import TODAY, write_registry

from china_site import live
from china_site.model import Exposure, Finding

AK_ID = "LTAI-test-key-id"
AK_SECRET = "test-secret-value-never-shown"

FILED = {"filed.cn", "www.example.cn", "example.cn"}
SLOW = "slow.cn"
BROKEN = "broken.cn"


@pytest.fixture(scope="module")
def api() -> Iterator[FakeCdn]:
    with serve(FakeCdn(filed=set(FILED), slow={SLOW}, malformed={BROKEN})) as state:
        yield state


CREDS = live.Credentials(AK_ID, AK_SECRET)


def verifier(api: FakeCdn, timeout: float = 1.0) -> live.LiveVerifier:
    return live.LiveVerifier(credentials=CREDS, endpoint=api.endpoint, timeout=timeout)


# --- the SDK against the fake API ------------------------------------------------------------------------------------


def test_filed_domain(api: FakeCdn) -> None:
    result = verifier(api).check("filed.cn")
    assert (result.status, result.detail) == ("filed", "DomainIsRegistration")
    request = next(r for r in api.requests if r["domain"] == "filed.cn")
    assert (request["action"], request["version"], request["signed"]) == ("CheckCdnDomainICP", "2018-05-10", True)
    assert AK_SECRET not in request["raw"]


def test_not_filed_domain(api: FakeCdn) -> None:
    result = verifier(api).check("unfiled.cn")
    assert (result.status, result.detail) == ("not-filed", "DomainNotRegistration")


def test_timeout_is_unavailable(api: FakeCdn) -> None:
    result = verifier(api, timeout=0.2).check(SLOW)
    assert result.status == "unavailable" and result.detail.startswith("timeout"), result.detail


def test_api_error_is_unavailable(api: FakeCdn) -> None:
    result = verifier(api).check(BROKEN)
    assert result.status == "unavailable"
    assert result.detail == "API error InvalidDomain.Malformed"


def test_unreachable_endpoint_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = live.LiveVerifier(credentials=CREDS, endpoint=f"http://127.0.0.1:{port}", timeout=0.5).check("x.cn")
    assert result.status == "unavailable"
    assert AK_SECRET not in result.detail


def test_no_credentials_asks_nothing(api: FakeCdn) -> None:
    result = live.LiveVerifier(credentials=None, endpoint=api.endpoint).check("nocreds.cn")
    assert result.status == "unavailable" and "credentials" in result.detail
    assert api.count("nocreds.cn") == 0


def test_answers_are_cached_per_domain(api: FakeCdn) -> None:
    v = verifier(api)
    assert v.check("cached.cn").status == "not-filed"
    assert v.check("CACHED.cn.").status == "not-filed"
    assert api.count("cached.cn") == 1


def test_credentials_from_env_and_stack_config() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"}
    assert live.credentials_from(env) == live.Credentials("a", "b")
    assert live.credentials_from({"ALICLOUD_ACCESS_KEY": "c", "ALICLOUD_SECRET_KEY": "d"}) == live.Credentials("c", "d")
    stack = {"alicloud:accessKey": "e", "alicloud:secretKey": "f"}
    assert live.credentials_from({}, stack) == live.Credentials("e", "f")
    assert live.credentials_from({}) is None
    assert "b" not in repr(live.credentials_from(env))


# --- reconciling with the registry's verdict (pure) ---------------------------------------------------------------

MAINLAND = Exposure(resource="alicloud:cdn/domainNew:DomainNew", name="cdn", domains=("www.example.cn",), product="cdn")


def _icp(domain: str) -> Finding:
    return Finding(
        policy="icp-filing-required",
        enforcement="mandatory",
        message_en="no filing",
        message_zh="未备案",
        fix="file it",
        domain=domain,
    )


def _answer(status: live.LiveStatus) -> Any:
    return lambda host: live.LiveResult(host, status, "x")


def test_registry_approves_but_api_says_not_filed_adds_a_mandatory_finding() -> None:
    findings, unavailable = live.reconcile(MAINLAND, [], _answer("not-filed"))
    [finding] = findings
    assert (finding.policy, finding.enforcement, finding.domain) == (
        "icp-filing-required",
        "mandatory",
        "www.example.cn",
    )
    assert "DomainNotRegistration" in finding.message and "CheckCdnDomainICP" in finding.message
    assert unavailable == []


def test_api_filed_never_approves_what_the_registry_does_not() -> None:
    findings, _ = live.reconcile(MAINLAND, [_icp("www.example.cn")], _answer("filed"))
    [finding] = findings
    assert finding.enforcement == "mandatory"
    assert "DomainIsRegistration" in finding.fix and "record it in the registry" in finding.fix


def test_unavailable_api_changes_nothing() -> None:
    kept, unavailable = live.reconcile(MAINLAND, [_icp("www.example.cn")], _answer("unavailable"))
    assert kept == [_icp("www.example.cn")] and len(unavailable) == 1
    approved, _ = live.reconcile(MAINLAND, [], _answer("unavailable"))
    assert approved == []


def test_off_mainland_is_not_asked() -> None:
    asked: list[str] = []
    hk = Exposure(resource="x", area="hongkong", domains=("a.cn",))
    live.reconcile(hk, [], lambda h: asked.append(h) or live.LiveResult(h, "filed", ""))  # type: ignore[func-returns-value]
    assert asked == []


# --- the policy with verify: live ---------------------------------------------------------------------------------


@pytest.fixture
def live_env(api: FakeCdn, monkeypatch: pytest.MonkeyPatch) -> FakeCdn:
    for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(live.ENDPOINT_ENV, api.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    return api


def _validate(domain: str, config: dict[str, Any]) -> list[str]:
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyProviderResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
    )
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy

    from china_site.policies import pack

    policy = next(p for p in pack.POLICIES if p.name == "icp-filing-required")
    provider = PolicyProviderResource(
        "pulumi:providers:alicloud", unknown_checking_proxy({"region": "cn-shanghai"}), "urn:p", "default"
    )
    args = ResourceValidationArgs(
        "alicloud:cdn/domainNew:DomainNew",
        unknown_checking_proxy(deserialize_properties({"domainName": domain, "scope": "domestic"})),
        "urn:pulumi:dev::china-site::alicloud:cdn/domainNew:DomainNew::cdn",
        "cdn",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None),
        provider,
        config,
        {},
    )
    messages: list[str] = []
    policy.validate(args, lambda m, u=None: messages.append(m))  # type: ignore[arg-type]
    return messages


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return write_registry(tmp_path)


def test_policy_live_contradiction_blocks(live_env: FakeCdn, registry: Path) -> None:
    config = {"filings": str(registry), "today": TODAY, "verify": "live"}
    # late.cn is approved in the registry; the API says it is not filed.
    [message] = _validate("late.cn", config)
    assert "DomainNotRegistration" in message
    assert AK_SECRET not in message and AK_ID not in message
    # www.example.cn: both agree.
    assert _validate("www.example.cn", config) == []


def test_policy_live_unreachable_falls_back_to_the_registry(
    live_env: FakeCdn, registry: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(live.ENDPOINT_ENV, "http://127.0.0.1:9")  # discard port: nothing listens
    config = {"filings": str(registry), "today": TODAY, "verify": "live", "liveTimeoutSeconds": 0.5}
    assert _validate("fresh.cn", config) == []  # registry approves; no answer changes nothing
    [message] = _validate("unfiled-live.cn", config)  # registry does not approve; never approved by silence
    assert "no ICP filing" in message
    err = capsys.readouterr().err
    assert "unavailable" in err and AK_SECRET not in err


def test_policy_registry_mode_never_calls_the_api(live_env: FakeCdn, registry: Path) -> None:
    config = {"filings": str(registry), "today": TODAY}
    assert _validate("www.late.cn", config) == []
    assert live_env.count("www.late.cn") == 0
