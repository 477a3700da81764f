"""The homepage filing footer: rendering, which numbers to show, and the homepage check."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import pytest

from china_site.errors import NumberError
from china_site.filings import Entity, Site, load_registry
from china_site.footer import check_homepage, footer_numbers, psb_link, render_footer
from china_site.model import MIIT_LINK, RuleOptions

ROOT = Path(__file__).resolve().parent.parent
ICP = "沪ICP备2021012345号-1"
PSB = "沪公网安备31011502012345号"
PSB_URL = "https://beian.mps.gov.cn/#/query/webSearch?code=31011502012345"


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body><main>Hello</main>{body}</body></html>"


LINKED = (
    f'<footer><a href="{MIIT_LINK}" target="_blank">{ICP}</a> <a href="{PSB_URL}" target="_blank">{PSB}</a></footer>'
)


# ---------------------------------------------------------------------------------------------------------------------
# render_footer


def test_render_footer_links_both_numbers() -> None:
    out = render_footer(ICP, PSB)
    assert f'<a href="https://beian.miit.gov.cn/" target="_blank" rel="noopener">{ICP}</a>' in out
    assert f'<a href="{html.escape(PSB_URL)}" target="_blank" rel="noopener">沪公网安备31011502012345号</a>' in out
    assert psb_link(PSB) == PSB_URL
    # what we render passes our own check
    check = check_homepage(page(out), ICP, PSB)
    assert check.icp_displayed and check.icp_linked and check.psb_displayed and check.psb_linked
    assert check.problems == ()


def test_render_footer_normalises_the_numbers() -> None:
    out = render_footer("沪ICP备 2021012345号－1", "沪公网安备 31011502012345号")
    assert ">沪ICP备2021012345号-1</a>" in out
    assert ">沪公网安备31011502012345号</a>" in out


def test_render_footer_only_icp_and_empty() -> None:
    out = render_footer(ICP, None)
    assert ICP in out and "beian.mps.gov.cn" not in out
    assert render_footer(None, None) == ""


def test_render_footer_psb_only_and_emblem_escaped() -> None:
    out = render_footer(None, PSB, emblem_src='/img/"emblem".png')
    assert "beian.miit.gov.cn" not in out
    assert 'src="/img/&quot;emblem&quot;.png"' in out


@pytest.mark.parametrize(
    ("digits", "prefix", "never"),
    [
        ("51010402000123", "川公网安备", "蜀"),
        ("62010202000123", "甘公网安备", "陇"),
        ("52010202000123", "贵公网安备", "黔"),
        ("53010202000123", "滇公网安备", "云"),
        ("31011502012345", "沪公网安备", "申"),
    ],
)
def test_psb_prefix_synthesised_from_the_digits_is_the_one_real_numbers_use(
    digits: str, prefix: str, never: str
) -> None:
    # A PSB number given without its character gets the prefix real MPS numbers carry (provinces.yaml psb_char).
    out = render_footer(None, f"公网安备{digits}号")
    assert f"{prefix}{digits}号" in out and f"{never}公网安备" not in out


def test_render_footer_rejects_a_malformed_number() -> None:
    with pytest.raises(NumberError):
        render_footer("<script>alert(1)</script>", None)


# ---------------------------------------------------------------------------------------------------------------------
# footer_numbers: Guangdong shows the entity number, other provinces the website number


def _entity(province: str, icp: str | None, status: str = "active") -> Entity:
    return Entity(
        name="示例有限公司", type="enterprise", ownership="domestic", province=province, icp_number=icp, status=status
    )


def _site(icp: str | None, psb: str | None = None, status: str = "approved") -> Site:
    return Site(
        domain="example.cn",
        entity="e",
        icp_number=icp,
        status=status,
        approved=dt.date(2021, 6, 1) if status != "pending" else None,
        cancelled=dt.date(2024, 1, 1) if status == "cancelled" else None,
        access_providers=("alibaba-cloud",),
        psb_number=psb,
    )


def test_footer_numbers_shanghai_shows_the_website_number() -> None:
    assert footer_numbers(_site(ICP, PSB), _entity("31", "沪ICP备2021012345号")) == (ICP, PSB)


def test_footer_numbers_guangdong_shows_the_entity_number() -> None:
    site = _site("粤ICP备12345678号-2", "粤公网安备44030502001234号")
    entity = _entity("44", "粤ICP备12345678号")
    assert footer_numbers(site, entity) == ("粤ICP备12345678号", "粤公网安备44030502001234号")
    # no entity number recorded: derived from the website number
    assert footer_numbers(site, _entity("44", None))[0] == "粤ICP备12345678号"
    # the switch for the providers that disagree
    relaxed = RuleOptions(guangdong_entity_number_in_footer=False)
    assert footer_numbers(site, entity, relaxed)[0] == "粤ICP备12345678号-2"


def test_footer_numbers_nothing_for_pending_or_cancelled() -> None:
    entity = _entity("31", "沪ICP备2021012345号")
    assert footer_numbers(_site(None, status="pending"), entity) == (None, None)
    assert footer_numbers(_site(ICP, PSB, status="cancelled"), entity) == (None, None)
    assert footer_numbers(_site(ICP, PSB), _entity("31", "沪ICP备2021012345号", status="cancelled")) == (None, None)


def test_footer_numbers_from_the_sample_registry() -> None:
    registry = load_registry(str(ROOT / "filings.yaml"))
    site = registry.covering("www.mingyue-tea.cn")
    assert site is not None
    assert footer_numbers(site, registry.entity_of(site)) == (ICP, PSB)
    gd = registry.covering("yunfan-mall.com.cn")
    assert gd is not None
    assert footer_numbers(gd, registry.entity_of(gd))[0] == "粤B2-20180427"  # entity number (on the licence)


# ---------------------------------------------------------------------------------------------------------------------
# check_homepage


def test_check_with_both_numbers_linked() -> None:
    check = check_homepage(page(LINKED), ICP, PSB)
    assert (check.icp_displayed, check.icp_linked, check.psb_displayed, check.psb_linked) == (True, True, True, True)
    assert check.ok


def test_check_without_the_numbers() -> None:
    check = check_homepage(page("<footer>© 2024 明月茶业</footer>"), ICP, PSB)
    assert not check.icp_displayed and not check.psb_displayed
    assert not check.icp_linked and not check.psb_linked
    assert len(check.problems) == 2
    assert all("\n" in p for p in check.problems)  # English line, then Chinese line
    assert "beian.miit.gov.cn" in check.problems[0] and "首页" in check.problems[0]


def test_number_only_in_a_comment_script_style_or_attribute_is_not_displayed() -> None:
    hidden = (
        f"<!-- {ICP} {PSB} -->"
        f"<script>var icp = '{ICP}'; var psb = '{PSB}';</script>"
        f"<style>/* {ICP} */</style>"
        f'<a href="{MIIT_LINK}" title="{ICP}"></a>'
        f'<img alt="{PSB}" src="x.png">'
    )
    check = check_homepage(page(hidden), ICP, PSB)
    assert not check.icp_displayed and not check.psb_displayed
    head_only = f"<html><head><title>{ICP}</title><meta name='icp' content='{ICP}'></head><body>hi</body></html>"
    assert not check_homepage(head_only, ICP, None).icp_displayed


def test_hidden_elements_do_not_count() -> None:
    wrappers = (
        "<div hidden>{}</div>",
        '<div style="display: none">{}</div>',
        '<span style="visibility: hidden">{}</span>',
        '<p aria-hidden="true">{}</p>',
    )
    for wrapper in wrappers:
        body = wrapper.format(f'<a href="{MIIT_LINK}">{ICP}</a>')
        assert not check_homepage(page(body), ICP, None).icp_displayed, wrapper


def test_unlinked_number_is_displayed_but_not_linked() -> None:
    check = check_homepage(page(f"<footer>{ICP} {PSB}</footer>"), ICP, PSB)
    assert check.icp_displayed and not check.icp_linked
    assert check.psb_displayed and not check.psb_linked
    assert any("not linked" in p for p in check.problems)


def test_link_to_the_wrong_site_is_not_linked() -> None:
    body = f'<a href="https://example.com/beian.miit.gov.cn">{ICP}</a><a href="{MIIT_LINK}">备案查询</a>'
    check = check_homepage(page(body), ICP, None)
    assert check.icp_displayed and not check.icp_linked


def test_spaces_full_width_and_split_markup_are_tolerated() -> None:
    body = (
        f'<a href="{MIIT_LINK}"><span>沪ＩＣＰ备</span> <b>２０２１０１２３４５号</b>－１</a>'
        '<a href="https://beian.mps.gov.cn/#/query/webSearch?code=31011502012345">'
        "沪公网安备&nbsp;31011502012345号</a>"
    )
    check = check_homepage(page(body), ICP, PSB)
    assert check.icp_displayed and check.icp_linked
    assert check.psb_displayed and check.psb_linked


def test_a_longer_number_does_not_count() -> None:
    body = f'<a href="{MIIT_LINK}">沪ICP备2021012345号-12</a>'
    assert not check_homepage(page(body), ICP, None).icp_displayed


@pytest.mark.parametrize("shown", ["131011502012345", "310115020123456"])
def test_psb_digits_inside_a_longer_number_do_not_count(shown: str) -> None:
    body = f'<a href="{PSB_URL}">沪公网安备{shown}号</a>'
    assert not check_homepage(page(f'<a href="{MIIT_LINK}">{ICP}</a>{body}'), ICP, PSB).psb_displayed
    assert check_homepage(page(LINKED), ICP, PSB).psb_displayed  # the same markup with the right digits


def test_a_number_only_partly_inside_the_link_is_not_linked() -> None:
    body = f'沪ICP备2021012345<a href="{MIIT_LINK}">号-1</a>'
    check = check_homepage(page(body), ICP, None)
    assert check.icp_displayed and not check.icp_linked


@pytest.mark.parametrize("href", ["javascript://beian.miit.gov.cn/", "ftp://beian.miit.gov.cn/"])
def test_a_link_that_is_not_http_is_not_linked(href: str) -> None:
    check = check_homepage(page(f'<a href="{href}">{ICP}</a>'), ICP, None)
    assert check.icp_displayed and not check.icp_linked


def test_entity_number_instead_of_website_number_is_named() -> None:
    check = check_homepage(page(f'<a href="{MIIT_LINK}">沪ICP备2021012345号</a>'), ICP, None)
    assert not check.icp_displayed
    assert "entity number" in check.problems[0]


def test_guangdong_entity_number_found_even_with_a_suffix() -> None:
    body = f'<a href="{MIIT_LINK}">粤ICP备12345678号-2</a>'
    assert check_homepage(page(body), "粤ICP备12345678号", None).icp_linked


def test_no_psb_number_yet_is_not_a_problem_but_no_icp_number_is() -> None:
    check = check_homepage(page(LINKED), ICP, None)
    assert check.ok and not check.psb_displayed
    check = check_homepage(page(LINKED), None, None)
    assert not check.icp_displayed and check.problems


def test_empty_homepage() -> None:
    check = check_homepage("", ICP, PSB)
    assert not check.icp_displayed and check.problems


def test_the_sample_site_footer_is_correct() -> None:
    text = (ROOT / "site" / "index.html").read_text(encoding="utf-8")
    assert render_footer(ICP, PSB) in text  # produced by render_footer, unedited
    check = check_homepage(text, ICP, PSB)
    assert check.ok and check.icp_linked and check.psb_linked


@pytest.mark.parametrize(("written", "real"), [("蜀", "川"), ("陇", "甘"), ("黔", "贵")])
def test_a_psb_number_written_with_the_icp_character_is_warned_about(written: str, real: str) -> None:
    from china_site.numbers import parse_psb

    code = {"川": "51", "甘": "62", "贵": "52"}[real]
    number = parse_psb(f"{written}公网安备{code}010402000123号")
    assert any(f"start with '{real}'" in w for w in number.warnings)
    assert parse_psb(f"{real}公网安备{code}010402000123号").warnings == ()
