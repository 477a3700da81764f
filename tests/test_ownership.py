"""CDN domain ownership verification against a local server that answers as the CDN API (loopback only).

The real SDK (``alibabacloud-cdn20180510``) talks to ``http://127.0.0.1:<port>`` (``CHINA_SITE_CDN_ENDPOINT``):
the server of ``tests/fake_cdn_api.py``, which answers as DescribeVerifyContent and VerifyDomainOwner do.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from fake_cdn_api import FORBIDDEN, FakeCdn, content_of, serve

from china_site import ownership
from china_site.components.ownership import DomainOwnershipProvider, VerifyContentProvider
from china_site.live import Credentials

AK_ID = "LTAI-ownership-key"
AK_SECRET = "ownership-secret-never-shown"


@pytest.fixture()
def api() -> Iterator[FakeCdn]:
    with serve() as state:
        yield state


def client(api: FakeCdn, creds: Credentials | None = Credentials(AK_ID, AK_SECRET)) -> ownership.OwnershipClient:
    return ownership.OwnershipClient(credentials=creds, endpoint=api.endpoint, timeout=2.0)


class FakeTime:
    """A clock and a sleep that runs ``on_sleep`` (e.g. DNS finally showing the record)."""

    def __init__(self, on_sleep: Any = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


# --- the record ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "fqdn", "root"),
    [
        ("www.example.cn", "verification.example.cn", "example.cn"),
        ("img.static.example.com.cn", "verification.example.com.cn", "example.com.cn"),
        ("example.cn", "verification.example.cn", "example.cn"),
        ("www.明月茶.cn", "verification.xn--2hvrvk09d.cn", "xn--2hvrvk09d.cn"),
    ],
)
def test_record_is_at_verification_of_the_root_domain(domain: str, fqdn: str, root: str) -> None:
    record = ownership.verification_record(domain)
    assert (record.fqdn, record.root, record.host, record.type) == (fqdn, root, "verification", "TXT")


def test_instructions_name_host_type_and_value_in_both_languages() -> None:
    text = ownership.instructions(ownership.verification_record("www.example.cn", "verify_abc"))
    english, chinese = text.split("\n")
    for line in (english, chinese):
        assert "verification.example.cn" in line and "TXT" in line and "verify_abc" in line
    assert "DomainOwnerVerifyFail" in english and "domainVerified" in english
    assert "归属权" in chinese
    placeholder = ownership.instructions(ownership.verification_record("www.example.cn"))
    assert "DescribeVerifyContent" in placeholder


# --- the SDK against the fake API ------------------------------------------------------------------------------------


def test_verify_content_is_the_apis(api: FakeCdn) -> None:
    assert client(api).verify_content("www.example.cn") == content_of("example.cn")
    request = api.requests[-1]
    assert (request["action"], request["version"], request["signed"]) == ("DescribeVerifyContent", "2018-05-10", True)
    assert AK_SECRET not in request["raw"]


def test_already_verified_costs_one_call_and_no_wait(api: FakeCdn) -> None:
    api.verified.add("example.cn")
    fake = FakeTime()
    record = ownership.verification_record("www.example.cn")
    attempts = client(api).verify("www.example.cn", record, sleep=fake.sleep, clock=fake.clock)
    assert attempts == 1 and fake.sleeps == []
    assert api.actions() == ["VerifyDomainOwner"]
    assert api.requests[0]["verify_type"] == "dnsCheck"


def test_waits_until_the_record_is_seen(api: FakeCdn) -> None:
    value = client(api).verify_content("www.example.cn")
    record = ownership.verification_record("www.example.cn", value)

    def publish(sleeps: int) -> None:
        if sleeps == 2:  # DNS shows the record after the second wait
            api.txt[record.fqdn] = value

    fake = FakeTime(publish)
    attempts = client(api).verify(
        "www.example.cn", record, interval=10, timeout=120, sleep=fake.sleep, clock=fake.clock
    )
    assert attempts == 3 and fake.sleeps == [10, 10]
    assert "example.cn" in api.verified


def test_wrong_value_never_passes_and_says_which_record(api: FakeCdn) -> None:
    record = ownership.verification_record("www.example.cn", content_of("example.cn"))
    api.txt[record.fqdn] = "verify_0000"
    fake = FakeTime()
    with pytest.raises(ownership.OwnershipError) as caught:
        client(api).verify("www.example.cn", record, interval=30, timeout=100, sleep=fake.sleep, clock=fake.clock)
    err = caught.value
    assert err.code == "DomainOwnerVerifyFail"
    assert len(fake.sleeps) == 3 and api.actions().count("VerifyDomainOwner") == 4
    line = err.line()
    assert "verification.example.cn" in line and content_of("example.cn") in line and "TXT" in line
    assert AK_SECRET not in line and AK_ID not in line


def test_other_api_errors_fail_at_once(api: FakeCdn) -> None:
    fake = FakeTime()
    with pytest.raises(ownership.OwnershipError) as caught:
        client(api).verify("www.forbidden.cn", ownership.verification_record("www.forbidden.cn"), sleep=fake.sleep)
    assert caught.value.code == "Forbidden.RAM" and fake.sleeps == []
    assert "Forbidden.RAM" in caught.value.line() and AK_SECRET not in caught.value.line()


def test_no_credentials_no_call(api: FakeCdn) -> None:
    with pytest.raises(ownership.OwnershipError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        client(api, creds=None).verify_content("www.example.cn")
    assert api.requests == []


def test_unreachable_endpoint_is_one_line() -> None:
    dead = ownership.OwnershipClient(
        credentials=Credentials(AK_ID, AK_SECRET), endpoint="http://127.0.0.1:9", timeout=0.5
    )
    with pytest.raises(ownership.OwnershipError) as caught:
        dead.verify_content("www.example.cn")
    assert "DescribeVerifyContent" in caught.value.line() and AK_SECRET not in caught.value.line()


def test_an_endpoint_password_never_reaches_the_message() -> None:
    dead = ownership.OwnershipClient(
        credentials=Credentials(AK_ID, AK_SECRET), endpoint="http://proxyuser:hunter2@127.0.0.1:9", timeout=0.5
    )
    with pytest.raises(ownership.OwnershipError) as caught:
        dead.verify_content("www.example.cn")
    line = caught.value.line()
    assert "hunter2" not in line and "proxyuser" not in line and "127.0.0.1:9" in line


# --- the dynamic providers (what `pulumi up` runs; mocks never do) --------------------------------------------------


def test_providers_read_credentials_and_endpoint_from_the_environment(
    api: FakeCdn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", api.endpoint)
    monkeypatch.setenv("ALICLOUD_ACCESS_KEY", AK_ID)
    monkeypatch.setenv("ALICLOUD_SECRET_KEY", AK_SECRET)
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    created = VerifyContentProvider().create({"domain": "www.example.cn", "root": "example.cn", "content": None})
    assert created.outs["content"] == content_of("example.cn")
    api.txt["verification.example.cn"] = created.outs["content"]  # the AlidnsRecord the engine creates next
    props = {
        "domain": "www.example.cn",
        "root": "example.cn",
        "recordValue": created.outs["content"],
        "timeoutSeconds": 5,
        "intervalSeconds": 1,
    }
    verified = DomainOwnershipProvider().create(props)
    assert verified.outs["verified"] is True and verified.outs["attempts"] == 1
    assert api.actions() == ["DescribeVerifyContent", "VerifyDomainOwner"]
    # Once verified, nothing to redo unless the root domain changes.
    assert DomainOwnershipProvider().diff("x", verified.outs, {**props}).changes is False
    assert DomainOwnershipProvider().diff("x", verified.outs, {**props, "root": "other.cn"}).replaces == ["root"]


def test_provider_failure_names_the_record(api: FakeCdn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", api.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    monkeypatch.setattr(sys, "tracebacklimit", 1000, raising=False)  # create() sets it: restored after the test
    props = {"domain": "www.example.cn", "root": "example.cn", "recordValue": None, "timeoutSeconds": 0.01}
    with pytest.raises(ownership.OwnershipError, match=r"verification\.example\.cn"):
        DomainOwnershipProvider().create(props)


def _as_the_dynamic_provider_host_reports(create: Any, props: dict[str, Any]) -> str:
    """What the CLI prints for a failed dynamic ``create``: Pulumi's host (``pulumi/dynamic/__main__.py``,
    ``_abort_with_traceback``) sends ``traceback.format_exc()`` as the gRPC error's details."""
    try:
        create(props)
    except Exception:
        return traceback.format_exc()
    raise AssertionError("create passed")


@pytest.mark.parametrize("root", ["example.cn", FORBIDDEN])
def test_a_failed_check_shows_in_the_cli_as_our_bilingual_line_not_a_traceback(
    api: FakeCdn, monkeypatch: pytest.MonkeyPatch, root: str
) -> None:
    # Found by the real engine: the CLI printed a Python traceback, and the record's Chinese instructions were cut off
    # (the fix part of a message is clipped at 400 characters).
    monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", api.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    monkeypatch.setattr(sys, "tracebacklimit", 1000, raising=False)
    domain = f"www.{root}"
    value = content_of(root)
    props = {"domain": domain, "root": root, "recordValue": value, "timeoutSeconds": 0.01}
    shown = _as_the_dynamic_provider_host_reports(DomainOwnershipProvider().create, props)
    assert "Traceback" not in shown and 'File "' not in shown
    assert shown.startswith("china_site.ownership.OwnershipError: ")
    assert AK_SECRET not in shown
    if root == FORBIDDEN:  # not a record problem: the API's code, nothing about creating a record
        assert "Forbidden.RAM" in shown and "请在域名解析服务商处添加记录" not in shown
        return
    assert f"host verification.{root}" in shown and f"value {value}" in shown  # English
    assert f"主机 verification.{root}" in shown and f"记录值 {value}" in shown  # then Chinese, whole
    assert "more characters" not in shown
    content = _as_the_dynamic_provider_host_reports(
        VerifyContentProvider().create, {"domain": "www.forbidden.cn", "root": FORBIDDEN}
    )
    assert content.startswith("china_site.ownership.OwnershipError: ") and "Forbidden.RAM" in content


# --- the program-time message (a real `pulumi preview`/`up`: not under mocks) -----------------------------------------


def test_program_time_message_carries_the_apis_value(api: FakeCdn, monkeypatch: pytest.MonkeyPatch) -> None:
    from china_site.components import site

    monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", api.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    record = ownership.verification_record("www.example.cn")
    monkeypatch.setattr(site, "_offline", lambda: False)
    assert site._with_program_time_value(record).value == content_of("example.cn")
    # Offline (mocks, or CHINA_SITE_OFFLINE=1): no call, the message says where the value comes from.
    monkeypatch.undo()
    monkeypatch.setenv("CHINA_SITE_OFFLINE", "1")
    before = len(api.requests)
    assert site._with_program_time_value(record).value is None
    assert len(api.requests) == before


def test_under_pulumi_mocks_the_program_never_calls_the_api(api: FakeCdn, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preflight and tests run the program under mocks: with credentials and an endpoint at hand, still no call."""
    from pathlib import Path

    from mocks import project_config, run_program

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("CHINA_SITE_CDN_ENDPOINT", api.endpoint)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", AK_SECRET)
    monkeypatch.delenv("CHINA_SITE_OFFLINE", raising=False)
    project, config, secret_keys = project_config(root, "mainland")
    config["china-site:today"] = "2026-11-28"
    config.pop("china-site:dnsZone")  # no zone: the program-time message would ask DescribeVerifyContent
    run = run_program(root, config, project=project, stack="mainland", secret_keys=secret_keys)
    assert any("verification.mingyue-tea.cn" in m for m in run.messages("warning"))
    assert api.requests == []
