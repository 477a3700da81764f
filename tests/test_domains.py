"""Host names, registrable domains (Public Suffix List, ICANN section) and approved TLDs (DOMAIN.md §3)."""

from __future__ import annotations

import pytest

from china_site.domains import (
    is_ip,
    normalize_suffix,
    registrable_domain,
    tld_approved,
    tld_holders,
    tld_note,
    tld_of,
    tld_status,
    to_ascii,
    to_unicode,
    top_label,
)
from china_site.errors import ChinaSiteError, InputError


@pytest.mark.parametrize(
    ("host", "ascii_form"),
    [
        ("example.cn", "example.cn"),
        ("  WWW.Example.COM.cn.  ", "www.example.com.cn"),
        ("*.example.com", "example.com"),
        ("*.例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("ＷＷＷ．例子。中国", "www.xn--fsqu00a.xn--fiqs8s"),
        ("xn--fsqu00a.XN--FIQS8S", "xn--fsqu00a.xn--fiqs8s"),
        ("a-b.c-d.net", "a-b.c-d.net"),
        ("localhost", "localhost"),
    ],
)
def test_to_ascii(host: str, ascii_form: str) -> None:
    assert to_ascii(host) == ascii_form


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("*.", "not a valid host name"),
        ("1.2.3.4", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("2001:db8::1", "IP address"),
        ("１.２.３.４", "IP address"),
        ("https://example.cn", "not a bare host name"),
        ("example.cn:8080", "not a bare host name"),
        ("example.cn/path", "not a bare host name"),
        ("exa mple.cn", "not a bare host name"),
        ("a_b.example.cn", "not a valid host name"),
        ("-a.example.cn", "not a valid host name"),
        ("a..example.cn", "not a valid host name"),
        ("xn--zz.cn", "not a valid host name"),
        ("a.*.example.cn", "not a valid host name"),
        ("a" * 64 + ".cn", "not a valid host name"),
        (("a" * 60 + ".") * 5 + "cn", "not a valid host name"),
        ("example.123", "all digits"),
        ("x" * 5000, "too long"),
    ],
)
def test_to_ascii_rejects_invalid_hosts(host: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        to_ascii(host)
    assert "\n" not in str(info.value) and "Fix:" in str(info.value)


def test_non_text_host_is_an_input_error() -> None:
    with pytest.raises(InputError, match="as text"):
        to_ascii(None)  # type: ignore[arg-type]


def test_idn_round_trip() -> None:
    assert to_unicode("www.xn--fsqu00a.xn--fiqs8s") == "www.例子.中国"
    assert to_unicode("WWW.例子.中国") == "www.例子.中国"
    assert to_ascii(to_unicode("xn--fsqu00a.xn--fiqs8s")) == "xn--fsqu00a.xn--fiqs8s"
    assert to_unicode("example.cn") == "example.cn"
    with pytest.raises(InputError):
        to_unicode("1.2.3.4")


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("a.b.shop.com.cn", "shop.com.cn"),
        ("shop.com.cn", "shop.com.cn"),
        ("www.example.cn", "example.cn"),
        ("x.y.example.com", "example.com"),
        ("www.例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("a.b.gov.cn", "b.gov.cn"),
        ("*.static.example.net.cn", "example.net.cn"),
        ("x.github.io", "github.io"),  # private PSL suffixes are ignored (ICANN section only)
        ("bucket.oss-cn-hangzhou.aliyuncs.com", "aliyuncs.com"),
        ("www.example.zzz", "example.zzz"),  # unknown TLD: one-label suffix
        ("www.茶.政务.cn", "xn--cl1a.xn--zfr164b.cn"),  # 政务.cn: a suffix of the TLD data file, not of the PSL
    ],
)
def test_registrable_domain(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


@pytest.mark.parametrize("host", ["com.cn", "cn", "中国", "com", "localhost", "github.io.", "1.2.3.4"])
def test_registrable_domain_rejects_public_suffixes_and_non_hosts(host: str) -> None:
    if host.rstrip(".") == "github.io":
        assert registrable_domain(host) == "github.io"
        return
    with pytest.raises(InputError):
        registrable_domain(host)


@pytest.mark.parametrize(
    ("host", "suffix", "top"),
    [
        ("www.example.com.cn", "com.cn", "cn"),
        ("example.cn", "cn", "cn"),
        ("www.例子.中国", "xn--fiqs8s", "xn--fiqs8s"),
        ("x.github.io", "io", "io"),
        ("a.example.org", "org", "org"),
    ],
)
def test_tld_of_and_top_label(host: str, suffix: str, top: str) -> None:
    assert tld_of(host) == suffix
    assert top_label(host) == top


@pytest.mark.parametrize(
    "host",
    [
        "example.cn", "a.example.com.cn", "example.net.cn", "example.org.cn", "example.ac.cn", "例子.中国",
        "例子.公司", "例子.网络", "example.com", "example.net", "example.top", "example.xyz", "example.vip",
        "example.shop", "example.online", "example.info", "example.cc", "example.ltd",
        "example.cloud", "example.design", "example.gov.cn",
    ],
)  # fmt: skip
def test_approved_tlds(host: str) -> None:
    assert tld_approved(host)


# Issue 14: suffixes on MIIT's approved list that the first version of the data file lacked (58 ASCII, 20 Chinese).
MISSING_ASCII = (
    "archi",
    "auto",
    "baby",
    "baidu",
    "band",
    "bio",
    "black",
    "blue",
    "bond",
    "cab",
    "cafe",
    "cash",
    "chase",
    "chat",
    "citic",
    "city",
    "college",
    "cool",
    "fan",
    "fashion",
    "fund",
    "fyi",
    "games",
    "global",
    "green",
    "guru",
    "jpmorgan",
    "law",
    "lotto",
    "market",
    "mba",
    "media",
    "monster",
    "organic",
    "pet",
    "pink",
    "poker",
    "promo",
    "protection",
    "rent",
    "sale",
    "school",
    "security",
    "shopping",
    "ski",
    "sohu",
    "storage",
    "studio",
    "tax",
    "technology",
    "theatre",
    "today",
    "unicom",
    "uno",
    "vin",
    "vote",
    "voto",
    "wiki",
)
MISSING_CHINESE = (
    "中信",
    "商标",
    "广东",
    "佛山",
    "手机",
    "商店",
    "企业",
    "娱乐",
    "游戏",
    "购物",
    "餐厅",
    "招聘",
    "时尚",
    "移动",
    "网站",
    "联通",
    "世界",
    "健康",
    "政务",
    "公益",
)


def test_the_78_missing_suffixes_are_listed() -> None:
    assert (len(MISSING_ASCII), len(MISSING_CHINESE)) == (58, 20)
    for suffix in (*MISSING_ASCII, *MISSING_CHINESE):
        assert tld_approved(f"xn--fsqu00a.{suffix}"), suffix  # 例子.<suffix>
        assert tld_status(f"例子.{suffix}") in ("approved", "restricted"), suffix
    assert tld_status("例子.游戏") == "approved" and tld_status("example.studio") == "approved"


@pytest.mark.parametrize(
    "host", ["example.org", "example.dev", "example.tech", "example.io", "x.github.io", "example.zzz", "a.uk"]
)
def test_not_approved_tlds(host: str) -> None:
    assert not tld_approved(host)


def test_tech_is_disputed_like_org() -> None:
    assert tld_status("example.tech") == "disputed" == tld_status("example.org")
    note = tld_note("www.example.tech") or ""
    assert "on the filing-suffix list (2022-08-30)" in note and "no longer fileable" in note and "disputed" in note
    assert tld_approved("example.tech", extra=["tech"])  # approvable in configuration, like .org


@pytest.mark.parametrize(
    ("host", "holders"),
    [
        ("www.example.gov.cn", ("government",)),
        ("example.mil.cn", ("government",)),
        ("www.例子.政务.cn", ("government",)),  # not a public suffix in the PSL: matched from the data file
        ("例子.政务", ("government",)),
        ("example.edu.cn", ("institution",)),
        ("lab.example.ac.cn", ("institution",)),
        ("例子.公益.cn", ("institution", "other")),
        ("例子.公益", ("institution", "other")),
    ],
)
def test_restricted_suffixes_name_their_holder_kinds(host: str, holders: tuple[str, ...]) -> None:
    assert tld_status(host) == "restricted"
    assert tld_approved(host)
    assert tld_holders(host) == holders
    assert tld_note(host)


@pytest.mark.parametrize("host", ["example.cn", "example.sh.cn", "example.com.cn", "例子.公司.cn", "example.com"])
def test_open_suffixes_have_no_holder_restriction(host: str) -> None:
    assert tld_holders(host) is None
    assert tld_status(host) == "approved"


def test_holder_kinds_are_the_registry_entity_types() -> None:
    from typing import get_args

    from china_site.domains import HolderKind
    from china_site.filings import EntityType

    assert set(get_args(HolderKind)) == set(get_args(EntityType))


def test_data_file_names_its_sources_and_date() -> None:
    from importlib import resources

    text = resources.files("china_site").joinpath("data", "tlds.yaml").read_text(encoding="utf-8")
    assert "read 2026-11-30" in text and "domain.miit.gov.cn" in text and "cloud.tencent.com" in text


def test_tld_status_and_notes() -> None:
    assert tld_status("example.com.cn") == "approved"
    assert tld_status("example.gov.cn") == "restricted"
    assert "government" in (tld_note("example.gov.cn") or "")
    assert tld_status("example.org") == "disputed"
    assert tld_status("example.dev") == "disputed"
    assert ".org" in (tld_note("www.example.org") or "")
    assert tld_status("example.io") == "unlisted"
    assert tld_note("example.com") is None
    assert tld_note("example.org.cn") is None  # org.cn is approved; the .org dispute does not apply


def test_overrides_extra_and_denied() -> None:
    assert tld_approved("example.org", extra=["org"])
    assert tld_approved("example.dev", extra=[".DEV "])
    assert tld_approved("example.io", extra=("io",))
    assert not tld_approved("example.com", denied=["com"])
    assert not tld_approved("example.com.cn", denied=["cn"])  # denied wins at any level
    assert tld_approved("example.cn", denied=["com.cn"])
    assert not tld_approved("example.org", extra=["org"], denied=["org"])
    assert tld_status("example.com", denied=["com"]) == "denied"
    assert tld_approved("例子.中国", extra=(), denied=["com"])
    assert not tld_approved("例子.中国", denied=[".中国"])
    assert not tld_approved("例子.中国", denied=["xn--fiqs8s"])


@pytest.mark.parametrize("suffix", ["", "*.org", "o rg", "1.2.3.4"])
def test_invalid_override_is_an_input_error(suffix: str) -> None:
    with pytest.raises(InputError, match="TLD list"):
        tld_approved("example.com", extra=[suffix])
    with pytest.raises(InputError):
        normalize_suffix(suffix)


def test_normalize_suffix() -> None:
    assert normalize_suffix(".中国") == "xn--fiqs8s"
    assert normalize_suffix(" COM.cn ") == "com.cn"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("1.2.3.4", True),
        (" 10.0.0.1 ", True),
        ("::1", True),
        ("[2001:db8::1]", True),
        ("example.cn", False),
        ("1.2.3", False),
        ("", False),
        ("x" * 5000, False),
        (None, False),
    ],
)
def test_is_ip(host: str, expected: bool) -> None:
    assert is_ip(host) is expected


def test_tld_functions_raise_input_errors_for_bad_hosts() -> None:
    for fn in (tld_of, top_label, tld_approved, tld_status, registrable_domain, to_unicode):
        with pytest.raises(ChinaSiteError):
            fn("http://example.cn")
