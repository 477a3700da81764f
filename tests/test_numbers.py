"""Filing, permit and PSB numbers (DOMAIN.md §2): every real shape, noise, and garbage that must fail cleanly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from china_site.errors import ChinaSiteError, NumberError
from china_site.numbers import (
    FilingNumber,
    PermitNumber,
    PsbNumber,
    parse_any,
    parse_icp,
    parse_permit,
    parse_psb,
    province_by_char,
    province_by_code,
    provinces,
)

# --- provinces ------------------------------------------------------------------------------------------------------

DOMAIN_TABLE = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "蜀", "52": "黔",
    "53": "滇", "54": "藏", "61": "陕", "62": "陇", "63": "青", "64": "宁", "65": "新",
}  # fmt: skip


def test_province_table_matches_domain_md() -> None:
    assert {p.code: p.char for p in provinces()} == DOMAIN_TABLE
    for code, char in DOMAIN_TABLE.items():
        assert province_by_code(code).char == char
        assert province_by_char(char) == (province_by_code(code), ())


@pytest.mark.parametrize(
    ("alias", "code", "official"), [("川", "51", "蜀"), ("贵", "52", "黔"), ("云", "53", "滇"), ("甘", "62", "陇")]
)
def test_province_aliases_warn_and_name_the_official_character(alias: str, code: str, official: str) -> None:
    province, warnings = province_by_char(alias)
    assert province.code == code
    assert len(warnings) == 1 and f"'{official}'" in warnings[0] and f"'{alias}'" in warnings[0]


def test_sichuan_licence_character() -> None:
    assert province_by_code("51").licence_char == "川"
    assert province_by_code(31).name_en == "Shanghai"
    assert province_by_code(" 44 ").name_zh == "广东"


@pytest.mark.parametrize("code", ["99", "00", "3", "310115", "", 99, True])
def test_province_by_code_unknown(code: object) -> None:
    with pytest.raises(NumberError, match="not a mainland province code"):
        province_by_code(code)  # type: ignore[arg-type]


@pytest.mark.parametrize("char", ["X", "中", "", "沪沪"])
def test_province_by_char_unknown(char: str) -> None:
    with pytest.raises(NumberError, match="not a province character"):
        province_by_char(char)


# --- ICP filing numbers ---------------------------------------------------------------------------------------------

ICP_VALID: list[tuple[str, dict[str, object]]] = [
    (
        "沪ICP备2021012345号-1",
        dict(normalized="沪ICP备2021012345号-1", kind="icp-site", province_code="31", province_char="沪",
             base="沪ICP备2021012345号", site_index=1, suffix=None, university=None, on_licence=False, warnings=()),
    ),
    (
        "沪ICP备2021012345号",
        dict(normalized="沪ICP备2021012345号", kind="icp-entity", base="沪ICP备2021012345号", site_index=None),
    ),
    ("京ICP备05012345号-3", dict(normalized="京ICP备05012345号-3", province_code="11", site_index=3)),  # 8 digits
    ("粤ICP备123456号", dict(kind="icp-entity", province_code="44")),  # 6 digits
    ("浙ICP备2021012345号-12", dict(site_index=12)),  # 10 digits
    ("沪ICP备2021012345号-1A", dict(suffix="A", site_index=1, kind="icp-site", normalized="沪ICP备2021012345号-1A")),
    ("沪ICP备2021012345号-2X", dict(suffix="X", site_index=2)),
    ("沪ICP备2021012345号-3K", dict(suffix="K", site_index=3)),
    ("沪交ICP备2021012345号-1", dict(university="交", province_code="31", base="沪交ICP备2021012345号")),
    ("京教育ICP备05012345号", dict(university="教育", province_code="11", kind="icp-entity")),
    # university network filings keep 5-digit numbers (real: 上海交通大学)
    ("沪交ICP备05045号", dict(normalized="沪交ICP备05045号", university="交", kind="icp-entity", warnings=())),
    ("沪交ICP备05045号-2", dict(normalized="沪交ICP备05045号-2", base="沪交ICP备05045号", site_index=2)),
    # the site index written before 号 on real footers (滇 = Yunnan): normalised to the official form
    (
        "滇ICP备09010050-5号",
        dict(normalized="滇ICP备09010050号-5", kind="icp-site", province_code="53", base="滇ICP备09010050号",
             site_index=5),
    ),
    ("滇ICP备09010050-5X号", dict(normalized="滇ICP备09010050号-5X", suffix="X", site_index=5)),
    # noise: spaces, full-width digits and dashes, lower case, dash variants
    (" 沪 ICP 备 2021012345 号 - 1 ", dict(normalized="沪ICP备2021012345号-1", warnings=())),
    ("沪ICP备２０２１０１２３４５号－１", dict(normalized="沪ICP备2021012345号-1")),
    ("沪icp备2021012345号—1", dict(normalized="沪ICP备2021012345号-1")),
    ("沪ＩＣＰ备2021012345号–1ａ", dict(normalized="沪ICP备2021012345号-1A", suffix="A")),
    ("沪ICP备2021012345号\u200b-1", dict(normalized="沪ICP备2021012345号-1")),
    # built on a licence
    (
        "粤B2-20090059-5",
        dict(normalized="粤B2-20090059-5", kind="icp-site", province_code="44", province_char="粤",
             base="粤B2-20090059", site_index=5, on_licence=True),
    ),
    ("粤B2-20090059", dict(kind="icp-entity", base="粤B2-20090059", site_index=None, on_licence=True)),
    (
        "京ICP证030173号-1",
        dict(normalized="京ICP证030173号-1", kind="icp-site", province_code="11", base="京ICP证030173号",
             site_index=1, on_licence=True),
    ),
    ("京ICP证030173号", dict(kind="icp-entity", base="京ICP证030173号", on_licence=True)),
    ("B2-20090059-2", dict(province_code=None, province_char=None, base="B2-20090059", on_licence=True)),
    ("川B2-20090089-1", dict(province_code="51", warnings=())),  # 川 is Sichuan's licence character
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), ICP_VALID, ids=[t for t, _ in ICP_VALID])
def test_parse_icp_valid(text: str, expected: dict[str, object]) -> None:
    number = parse_icp(text)
    assert isinstance(number, FilingNumber)
    assert number.raw == text
    for name, value in expected.items():
        assert getattr(number, name) == value, name
    assert number.link == "https://beian.miit.gov.cn/"


@pytest.mark.parametrize(("alias", "official"), [("川", "蜀"), ("贵", "黔"), ("云", "滇"), ("甘", "陇")])
def test_icp_alias_is_accepted_with_warning(alias: str, official: str) -> None:
    number = parse_icp(f"{alias}ICP备12345678号-2")
    assert number.province_char == alias
    assert number.normalized == f"{alias}ICP备12345678号-2"  # kept as written: it is the issued number
    assert len(number.warnings) == 1 and f"official character is '{official}'" in number.warnings[0]
    assert "accepted" in number.warnings[0]  # a known variant, not a mistake (DOMAIN.md §2)
    assert parse_icp(f"{official}ICP备12345678号-2").warnings == ()


def test_site_index_before_hao_is_normalised_with_a_warning() -> None:
    number = parse_icp("滇ICP备09010050-5号")
    assert number.normalized == "滇ICP备09010050号-5"
    assert len(number.warnings) == 1 and "before '号'" in number.warnings[0]
    assert "滇ICP备09010050号-5" in number.warnings[0]
    assert parse_icp(number.normalized).warnings == ()  # the official form has no warning
    assert parse_any("滇ICP备09010050-5号").normalized == "滇ICP备09010050号-5"


def test_five_digits_only_on_university_filings() -> None:
    assert parse_icp("沪交ICP备05045号").university == "交"
    with pytest.raises(NumberError, match="5 only on university network filings"):
        parse_icp("沪ICP备05045号")


def test_icp_missing_hao_is_accepted_with_warning() -> None:
    number = parse_icp("沪ICP备2021012345-1")
    assert number.normalized == "沪ICP备2021012345号-1"
    assert any("号" in w for w in number.warnings)


def test_licence_with_entity_character_warns() -> None:
    number = parse_icp("蜀B2-20090089-1")
    assert number.province_code == "51"
    assert any("'川'" in w for w in number.warnings)


ICP_INVALID: list[tuple[str, str]] = [
    ("沪ICP备12345号-1", "found 5"),  # 5 digits: only university network filings have them
    ("沪交ICP备0504号", "5 to 10 digits after 'ICP备', found 4"),
    ("沪交ICP备05045678901号", "found 11"),
    ("滇ICP备09010050-05号", "website index"),
    ("滇ICP备09010050-5号-1", "unexpected text"),
    ("滇ICP备09010050-号", "unexpected text"),
    ("滇ICP备09010050-5B号", "unknown suffix 'B'"),
    ("滇ICP备09010050号-5号", "unexpected text"),
    ("沪ICP备12345678901号-1", "found 11"),  # 11 digits
    ("XICP备2021012345号-1", "'X' is not a province character"),
    ("港ICP备2021012345号", "not a province character"),
    ("ICP备2021012345号-1", "province character before 'ICP备' is missing"),
    ("沪ICP备号-1", "found 0"),
    ("沪ICP备2021012345号-0", "website index"),
    ("沪ICP备2021012345号-01", "website index"),
    ("沪ICP备2021012345号-1B", "unknown suffix 'B'"),
    ("沪ICP备2021012345号-", "unexpected text"),
    ("沪ICP备2021012345号-1-2", "unexpected text"),
    ("沪ICP备2021012345号1", "unexpected text"),
    ("上海市ICP备2021012345号", "'上' is not a province character"),
    ("沪上海市ICP备2021012345号", "unexpected text"),
    ("沪aICP备2021012345号", "unexpected text"),
    ("沪ICP备2021012345号沪ICP备2021012345号", "more than one"),
    ("沪公网安备31011502012345号", "public security"),
    ("粤B2-2009005-5", "8 digits"),
    ("粤B9-20090059-5", "licence categories"),
    ("京ICP证03017号-1", "6 digits"),
    ("hello", "not an ICP filing number"),
    ("", "empty"),
    ("   ", "empty"),
    ("沪ICP备2021012345号\x00", "unexpected text"),
    ("沪" * 500, "too long"),
]


@pytest.mark.parametrize(("text", "message"), ICP_INVALID, ids=[t[:30] for t, _ in ICP_INVALID])
def test_parse_icp_invalid(text: str, message: str) -> None:
    with pytest.raises(NumberError, match=message) as info:
        parse_icp(text)
    line = str(info.value)
    assert "\n" not in line and "Fix:" in line and line.startswith("number ")


# --- commercial permits ---------------------------------------------------------------------------------------------

PERMIT_VALID: list[tuple[str, dict[str, object]]] = [
    (
        "沪ICP证123456号",
        dict(normalized="沪ICP证123456号", form="icp-cert", province_code="31", province_char="沪",
             categories=("ICP",), foreign_invested=False, miit_issued=False, serial="123456", warnings=()),
    ),
    ("京ICP证030173号", dict(form="icp-cert", province_code="11", serial="030173")),
    (
        "沪B2-20220001",
        dict(normalized="沪B2-20220001", form="licence", province_code="31", categories=("B2",),
             foreign_invested=False, miit_issued=False, serial="20220001"),
    ),
    (
        "B2-20090059",
        dict(form="licence", province_code=None, province_char=None, miit_issued=True, foreign_invested=False),
    ),
    (
        "合字B2-20190001",
        dict(normalized="合字B2-20190001", foreign_invested=True, miit_issued=True, province_code=None,
             categories=("B2",)),
    ),
    (
        "合字A1.B1.B2-20150001",
        dict(categories=("A1", "B1", "B2"), foreign_invested=True, serial="20150001"),
    ),
    ("京A1.B1.B2-20150001", dict(categories=("A1", "B1", "B2"), province_code="11", foreign_invested=False)),
    ("川B2-20090089", dict(province_code="51", warnings=())),
    # noise
    ("沪 b2 － 20220001", dict(normalized="沪B2-20220001")),
    ("合字Ａ１．Ｂ１．Ｂ２－２０１５０００１", dict(normalized="合字A1.B1.B2-20150001")),
    ("沪ICP证 123456", dict(normalized="沪ICP证123456号")),  # missing 号: warning, checked below
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), PERMIT_VALID, ids=[t for t, _ in PERMIT_VALID])
def test_parse_permit_valid(text: str, expected: dict[str, object]) -> None:
    permit = parse_permit(text)
    assert isinstance(permit, PermitNumber)
    for name, value in expected.items():
        assert getattr(permit, name) == value, name


def test_permit_warnings() -> None:
    assert any("号" in w for w in parse_permit("沪ICP证123456").warnings)
    assert any("'川'" in w for w in parse_permit("蜀B2-20090089").warnings)
    assert any("'滇'" in w for w in parse_permit("云B2-20090089").warnings)


PERMIT_INVALID: list[tuple[str, str]] = [
    ("沪B2-2022001", "8 digits"),
    ("沪B2-202200011", "8 digits"),
    ("沪B3-20220001", "licence categories"),
    ("沪B2.B2-20220001", "licence categories"),
    ("沪A1..B2-20220001", "licence categories"),
    ("XB2-20220001", "licence categories"),
    ("港B2-20220001", "not a province character"),
    ("外资B2-20220001", "unexpected text"),
    ("沪ICP证12345号", "6 digits"),
    ("沪ICP证1234567号", "6 digits"),  # one too many, not only one too few
    ("ICP证123456号", "missing"),
    ("上海ICP证123456号", "unexpected text"),
    ("粤B2-20090059-5", "website filing number built on a licence"),
    ("京ICP证030173号-1", "website filing number built on a licence"),
    ("沪ICP备2021012345号", "ICP filing number"),
    ("沪公网安备31011502012345号", "public security"),
    ("B2", "not a commercial permit"),
    ("", "empty"),
]


@pytest.mark.parametrize(("text", "message"), PERMIT_INVALID, ids=[t for t, _ in PERMIT_INVALID])
def test_parse_permit_invalid(text: str, message: str) -> None:
    with pytest.raises(NumberError, match=message):
        parse_permit(text)


# --- PSB numbers ----------------------------------------------------------------------------------------------------

PSB_VALID: list[tuple[str, dict[str, object]]] = [
    (
        "沪公网安备 31011502012345号",
        dict(normalized="沪公网安备31011502012345号", digits="31011502012345", province_code="31",
             province_char="沪", warnings=()),
    ),
    ("沪公网安备31011502012345号", dict(digits="31011502012345")),
    ("公网安备11010802020134号", dict(normalized="公网安备11010802020134号", province_char=None, province_code="11")),
    ("京公网安备 １１０１０８０２０２０１３４ 号", dict(digits="11010802020134")),
    ("川公网安备51019002000001号", dict(province_code="51", warnings=())),  # 川 is what MPS prints
    ("滇公网安备53010202000123号", dict(province_code="53", warnings=(), legacy=False)),  # Yunnan: 滇
    # legacy 12-digit numbers of the former system (real: 京公网安备110108008322号)
    (
        "京公网安备110108008322号",
        dict(normalized="京公网安备110108008322号", digits="110108008322", province_code="11", legacy=True,
             warnings=()),
    ),
    ("京公网安备 １１０１０８００８３２２", dict(normalized="京公网安备110108008322号", legacy=True)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), PSB_VALID, ids=[t for t, _ in PSB_VALID])
def test_parse_psb_valid(text: str, expected: dict[str, object]) -> None:
    number = parse_psb(text)
    assert isinstance(number, PsbNumber)
    for name, value in expected.items():
        assert getattr(number, name) == value, name
    assert number.link == f"https://beian.mps.gov.cn/#/query/webSearch?code={number.digits}"


def test_psb_missing_hao_warns() -> None:
    number = parse_psb("沪公网安备31011502012345")
    assert number.normalized == "沪公网安备31011502012345号"
    assert len(number.warnings) == 1 and "号" in number.warnings[0]


def test_psb_prefix_other_province_warns_not_fails() -> None:
    number = parse_psb("京公网安备31011502012345号")
    assert number.province_code == "31"
    assert len(number.warnings) == 1 and "Beijing" in number.warnings[0] and "Shanghai" in number.warnings[0]


PSB_INVALID: list[tuple[str, str]] = [
    ("沪公网安备3101150201234号", "found 13"),
    ("京公网安备11010800832号", "found 11"),
    ("京公网安备990108008322号", r"\(99\)"),
    ("京公网安备110108008322号-1", "unexpected text"),
    ("沪公网安备310115020123456号", "found 15"),
    ("沪公网安备99011502012345号", r"\(99\)"),
    ("沪公网安备00011502012345号", "province code"),
    ("X公网安备31011502012345号", "not a province character"),
    ("上海公网安备31011502012345号", "unexpected text"),
    ("沪公网安备31011502012345号-1", "unexpected text"),
    ("沪ICP备2021012345号", "not a public security"),
    ("31011502012345", "not a public security"),
    ("", "empty"),
]


@pytest.mark.parametrize(("text", "message"), PSB_INVALID, ids=[t for t, _ in PSB_INVALID])
def test_parse_psb_invalid(text: str, message: str) -> None:
    with pytest.raises(NumberError, match=message):
        parse_psb(text)


# --- dispatch -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("沪ICP备2021012345号-1", FilingNumber),
        ("沪ICP备2021012345号", FilingNumber),
        ("粤B2-20090059-5", FilingNumber),
        ("京ICP证030173号-1", FilingNumber),
        ("京ICP证030173号", PermitNumber),
        ("沪B2-20220001", PermitNumber),
        ("合字A1.B1.B2-20150001", PermitNumber),
        ("沪公网安备 31011502012345号", PsbNumber),
    ],
)
def test_parse_any_dispatches(text: str, kind: type) -> None:
    assert isinstance(parse_any(text), kind)


@pytest.mark.parametrize("text", ["", "hello", "31011502012345", "沪ICP备12345号", "沪B2-2022", "沪公网安备123号"])
def test_parse_any_invalid(text: str) -> None:
    with pytest.raises(NumberError):
        parse_any(text)


def test_number_error_is_a_user_error() -> None:
    with pytest.raises(ChinaSiteError):
        parse_any("garbage")
    with pytest.raises(ValueError):
        parse_any("garbage")


@pytest.mark.parametrize("value", [None, 31011502012345, b"\xe6\xb2\xaa"])
def test_non_text_input_is_a_number_error(value: object) -> None:
    for parse in (parse_icp, parse_permit, parse_psb, parse_any):
        with pytest.raises(NumberError, match="as text"):
            parse(value)  # type: ignore[arg-type]


# --- property tests: nothing but NumberError, whatever the text -----------------------------------------------------

PARSERS = (parse_icp, parse_permit, parse_psb, parse_any)

_chars = st.sampled_from([*DOMAIN_TABLE.values(), "川", "贵", "云", "甘", "交", "合字", "X", "港", "", " "])
_markers = st.sampled_from(["ICP备", "icp备", "ICP证", "公网安备", "B2-", "b2－", "A1.B1.B2-", "B9-", "", "ICP", "备"])
_digit = st.sampled_from("0123456789０１２３４５６７８９")
_INDEX_FIRST = ("-5号", "-0号", "-2K号-1")  # the site index before 号
_tail = st.sampled_from(
    ["", "号", "号-1", "号-12A", "号－3X", "号—0K", "-5", "-1Z", "号-", "号号", "\x00", "\u200b", *_INDEX_FIRST]
)


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    digits = draw(st.lists(_digit, min_size=0, max_size=16))
    parts = [draw(_chars), draw(st.sampled_from(["", "交", "教育", "abc"])), draw(_markers), "".join(digits)]
    parts.append(draw(_tail))
    noise = draw(st.text(max_size=3))
    position = draw(st.integers(min_value=0, max_value=len(parts)))
    parts.insert(position, noise)
    return "".join(parts)


def _only_number_errors(text: str) -> None:
    for parse in PARSERS:
        try:
            result = parse(text)
        except NumberError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(result, FilingNumber | PermitNumber | PsbNumber)
            assert result.raw == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_number_error(text: str) -> None:
    _only_number_errors(text)


@settings(max_examples=600, deadline=None)
@given(near_valid())
def test_near_valid_numbers_raise_only_number_error(text: str) -> None:
    _only_number_errors(text)


@settings(max_examples=200, deadline=None)
@given(near_valid())
def test_normalized_form_parses_to_itself(text: str) -> None:
    try:
        number = parse_any(text)
    except NumberError:
        return
    again = parse_any(number.normalized)
    assert again.normalized == number.normalized
    assert type(again) is type(number)
