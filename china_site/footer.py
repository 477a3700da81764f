"""The homepage filing footer (DOMAIN.md §2): render it, choose its numbers, and check a homepage shows them.

Pure functions, no Pulumi: the ``SiteContent`` component, the ``china-site footer`` command and the
``icp-number-displayed`` policy all call these.

- :func:`render_footer` — the footer HTML: the ICP number linked to beian.miit.gov.cn, the PSB number linked to its
  record on beian.mps.gov.cn.
- :func:`footer_numbers` — which numbers a site shows: Guangdong shows the **entity** number, other provinces the
  **website** number with ``-n`` (switch: ``RuleOptions.guangdong_entity_number_in_footer``).
- :func:`check_homepage` — whether a homepage shows those numbers as visible text (not in comments, scripts, styles,
  attributes or hidden elements), each linked to its filing system.
"""

from __future__ import annotations

import html as _html
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from china_site.model import MIIT_LINK, RuleOptions

if TYPE_CHECKING:
    from china_site.filings import Entity, Site

__all__ = [
    "MPS_QUERY_LINK",
    "HomepageCheck",
    "check_homepage",
    "footer_numbers",
    "psb_link",
    "render_footer",
]

MPS_QUERY_LINK = "https://beian.mps.gov.cn/#/query/webSearch?code="
GUANGDONG = "44"

# Hosts a footer link may point at to count as "linked". www.beian.gov.cn is the PSB system's former address; it
# still redirects to beian.mps.gov.cn and is on a great many live footers.
_MIIT_HOSTS = frozenset({"beian.miit.gov.cn"})
_MPS_HOSTS = frozenset({"beian.mps.gov.cn", "www.beian.gov.cn", "beian.gov.cn"})


# ---------------------------------------------------------------------------------------------------------------------
# Rendering


def psb_link(psb_number: str) -> str:
    """The record's page on the MPS filing system for a PSB number (the 14 digits are the key)."""
    from china_site.numbers import parse_psb

    return MPS_QUERY_LINK + parse_psb(psb_number).digits


def _psb_text(psb_number: str) -> str:
    """``沪公网安备31011502012345号``: the province character (from the digits when the number omits it)."""
    from china_site.numbers import parse_psb, province_by_code

    psb = parse_psb(psb_number)
    char = psb.province_char or province_by_code(psb.province_code).psb_prefix  # 川/甘/贵, never 蜀/陇/黔
    return f"{char}公网安备{psb.digits}号"


def render_footer(icp_number: str | None, psb_number: str | None, *, emblem_src: str | None = None) -> str:
    """The filing footer HTML; ``""`` when both numbers are None.

    The ICP number links to https://beian.miit.gov.cn/ and the PSB number to its record on beian.mps.gov.cn; both
    open in a new tab (``rel="noopener"``). ``emblem_src`` is the URL of the PSB emblem image (the regulations
    ask for it beside the PSB number; host a copy with the site). Raises :class:`china_site.errors.NumberError`
    when a number does not parse: a footer with a malformed number would be a violation of its own.
    """
    from china_site.numbers import parse_icp

    if icp_number is None and psb_number is None:
        return ""
    links: list[str] = []
    if icp_number is not None:
        text = parse_icp(icp_number).normalized
        links.append(
            f'<a href="{_html.escape(MIIT_LINK)}" target="_blank" rel="noopener">{_html.escape(text, quote=False)}</a>'
        )
    if psb_number is not None:
        href = psb_link(psb_number)
        text = _psb_text(psb_number)
        emblem = ""
        if emblem_src:
            emblem = (
                f'<img src="{_html.escape(emblem_src)}" alt="公安备案图标" width="16" height="16" '
                'style="vertical-align:middle;margin-right:4px">'
            )
        label = _html.escape(text, quote=False)
        links.append(f'<a href="{_html.escape(href)}" target="_blank" rel="noopener">{emblem}{label}</a>')
    body = "\n  ".join(f"<span>{link}</span>" for link in links)
    return f'<footer class="china-site-filing" style="text-align:center">\n  {body}\n</footer>'


# ---------------------------------------------------------------------------------------------------------------------
# Which numbers a site shows


def footer_numbers(site: Site, entity: Entity, options: RuleOptions | None = None) -> tuple[str | None, str | None]:
    """``(icp_number, psb_number)`` the site's homepage must show.

    Guangdong (entity province 44) shows the entity number (主体备案号), other provinces the website number with its
    ``-n`` (DOMAIN.md §2, [A]; a Hainan provider disagrees — ``options.guangdong_entity_number_in_footer=False``
    makes Guangdong show the website number too). A cancelled site or entity shows nothing: its numbers are void.
    A pending filing has no number yet.
    """
    from china_site.errors import NumberError
    from china_site.numbers import parse_icp

    options = options or RuleOptions()
    if site.status != "approved" or entity.status == "cancelled":
        return None, None
    icp = site.icp_number
    province = str(entity.province).zfill(2)
    if province == GUANGDONG and options.guangdong_entity_number_in_footer:
        if entity.icp_number:
            icp = entity.icp_number
        elif site.icp_number:
            try:
                icp = parse_icp(site.icp_number).base
            except NumberError:
                icp = site.icp_number
    return icp, site.psb_number


# ---------------------------------------------------------------------------------------------------------------------
# Checking a homepage


@dataclass(frozen=True)
class HomepageCheck:
    icp_displayed: bool
    psb_displayed: bool
    icp_linked: bool
    psb_linked: bool
    problems: tuple[str, ...] = ()  # each "English\n中文"

    @property
    def ok(self) -> bool:
        return not self.problems


_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−﹘﹣－"), "-")
# Elements whose text a visitor never sees.
_INVISIBLE = frozenset({"script", "style", "template", "noscript", "head", "title", "textarea", "select", "iframe"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param"}
)


def _norm_char(ch: str) -> str:
    """One character in comparison form: NFKC (full-width → ASCII), dashes unified, no spaces, upper case."""
    out = unicodedata.normalize("NFKC", ch).translate(_DASHES)
    return "".join(c.upper() for c in out if not c.isspace() and unicodedata.category(c) != "Cf")


def _norm(text: str) -> str:
    return "".join(_norm_char(c) for c in text)


def _hidden(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = (attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


class _TextCollector(HTMLParser):
    """Visible text of a page, character by character, with the href of the link each character sits in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars: list[str] = []  # normalised characters
        self.hrefs: list[str | None] = []  # the enclosing link's href per character
        self._stack: list[tuple[str, bool, str | None]] = []  # (tag, invisible, href)

    def _state(self) -> tuple[bool, str | None]:
        if not self._stack:
            return False, None
        _, invisible, href = self._stack[-1]
        return invisible, href

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if tag == "body":  # an unclosed <head> ends where <body> begins, as in browsers
            for i, (open_tag, _, _) in enumerate(self._stack):
                if open_tag == "head":
                    del self._stack[i:]
                    break
        invisible, href = self._state()
        amap = dict(attrs)
        invisible = invisible or tag in _INVISIBLE or _hidden(amap)
        if tag == "a":
            href = amap.get("href") or None
        self._stack.append((tag, invisible, href))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return  # <x/> has no content

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return
        # a stray end tag is ignored, as browsers do

    def handle_data(self, data: str) -> None:
        invisible, href = self._state()
        if invisible:
            return
        for ch in data:
            for n in _norm_char(ch):
                self.chars.append(n)
                self.hrefs.append(href)


def _host(href: str | None) -> str | None:
    if not href:
        return None
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    return (parts.hostname or "").lower() or None


@dataclass(frozen=True)
class _Found:
    displayed: bool
    linked: bool


def _find(
    text: str,
    hrefs: list[str | None],
    needle: str,
    hosts: frozenset[str],
    *,
    open_end: bool,
    digits_only: bool = False,
) -> _Found:
    """Whether ``needle`` occurs in ``text`` on its own (not inside a longer number), and whether any occurrence
    lies wholly inside a link to one of ``hosts``."""
    if not needle:
        return _Found(False, False)
    displayed = False
    start = text.find(needle)
    while start != -1:
        end = start + len(needle)
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if digits_only:
            ok = not before.isdigit() and not after.isdigit()
        else:
            ok = open_end or not (after.isascii() and after.isalnum())
        if ok:
            displayed = True
            if all(_host(h) in hosts for h in hrefs[start:end]):
                return _Found(True, True)
        start = text.find(needle, start + 1)
    return _Found(displayed, False)


def _expected_icp(icp_number: str) -> tuple[str, str | None, str | None]:
    """(needle, entity base needle or None, problem or None) for an ICP number."""
    from china_site.errors import NumberError
    from china_site.numbers import parse_icp

    try:
        parsed = parse_icp(icp_number)
    except NumberError:
        problem = (
            f"The ICP number to look for, {icp_number!r}, is not a valid ICP filing number; compared as written.\n"
            f"要检查的ICP备案号 {icp_number!r} 格式无效，按原文比较。"
        )
        return _norm(icp_number), None, problem
    base = _norm(parsed.base) if parsed.site_index is not None else None
    return _norm(parsed.normalized), base, None


def _expected_psb(psb_number: str) -> tuple[str, str | None]:
    from china_site.errors import NumberError
    from china_site.numbers import parse_psb

    try:
        return parse_psb(psb_number).digits, None
    except NumberError:
        digits = "".join(c for c in _norm(psb_number) if c.isdigit())
        return digits, (
            f"The PSB number to look for, {psb_number!r}, is not a valid public-security filing number.\n"
            f"要检查的公安备案号 {psb_number!r} 格式无效。"
        )


def check_homepage(html: str | None, icp_number: str | None, psb_number: str | None) -> HomepageCheck:
    """Whether the homepage shows the ICP number (and the PSB number, when there is one) and links them.

    A number counts as displayed only as visible text: not in a comment, ``<script>``, ``<style>``, ``<head>``,
    an attribute or an element hidden with ``hidden``/``aria-hidden``/``display:none``. Spaces, full-width
    characters and dash variants are tolerated. Linked = the number's text lies inside ``<a href>`` pointing at
    beian.miit.gov.cn (ICP) or beian.mps.gov.cn (PSB). ``icp_number=None`` cannot be checked: not displayed, with a
    problem. ``psb_number=None`` (not filed yet) is not a problem.
    """
    problems: list[str] = []
    collector = _TextCollector()
    if html:
        collector.feed(html)
        collector.close()
    else:
        problems.append("The homepage is empty or missing.\n首页为空或不存在。")
    text = "".join(collector.chars)
    hrefs = collector.hrefs

    icp = _Found(False, False)
    if icp_number is None:
        problems.append(
            "No ICP filing number is known for this site, so the homepage footer cannot show it; "
            "a mainland site must show its ICP number linked to https://beian.miit.gov.cn/.\n"
            "未知该网站的ICP备案号，首页底部无法展示；中国内地网站须在首页底部展示ICP备案号并链接至 https://beian.miit.gov.cn/。"
        )
    else:
        needle, base, problem = _expected_icp(icp_number)
        if problem:
            problems.append(problem)
        icp = _find(text, hrefs, needle, _MIIT_HOSTS, open_end=needle.endswith("号"))
        if not icp.displayed:
            if base and _find(text, hrefs, base, _MIIT_HOSTS, open_end=False).displayed:
                problems.append(
                    f"The homepage shows the entity number but not the website number {icp_number} "
                    "(outside Guangdong the footer shows the website number with its -n).\n"
                    f"首页展示的是主体备案号，而非网站备案号 {icp_number}（广东以外须展示带 -n 的网站备案号）。"
                )
            else:
                problems.append(
                    f"The homepage does not show the ICP filing number {icp_number} as visible text; "
                    "put it in the footer, linked to https://beian.miit.gov.cn/ (fine ¥5,000–10,000).\n"
                    f"首页未以可见文字展示ICP备案号 {icp_number}；请在页脚展示并链接至 https://beian.miit.gov.cn/"
                    "（可处5000至1万元罚款）。"
                )
        elif not icp.linked:
            problems.append(
                f"The ICP filing number {icp_number} is shown but not linked to https://beian.miit.gov.cn/.\n"
                f"ICP备案号 {icp_number} 已展示，但未链接至 https://beian.miit.gov.cn/。"
            )

    psb = _Found(False, False)
    if psb_number is not None:
        digits, problem = _expected_psb(psb_number)
        if problem:
            problems.append(problem)
        psb = _find(text, hrefs, digits, _MPS_HOSTS, open_end=True, digits_only=True)
        link = MPS_QUERY_LINK + digits
        if not psb.displayed:
            problems.append(
                f"The homepage does not show the public-security filing number {psb_number} as visible text; "
                f"show it with the PSB emblem, linked to {link}.\n"
                f"首页未以可见文字展示公安备案号 {psb_number}；请连同公安备案图标展示并链接至 {link}。"
            )
        elif not psb.linked:
            problems.append(
                f"The public-security filing number {psb_number} is shown but not linked to {link}.\n"
                f"公安备案号 {psb_number} 已展示，但未链接至 {link}。"
            )

    return HomepageCheck(
        icp_displayed=icp.displayed,
        psb_displayed=psb.displayed,
        icp_linked=icp.linked,
        psb_linked=psb.linked,
        problems=tuple(problems),
    )
