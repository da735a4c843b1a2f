"""The site in a real browser (Playwright driving Debian's Chromium), both editions.

Every page loads with no console error, no failed request, no request to another host and none
for an asset it does not need (no Mermaid JavaScript, the theme's icon script or fonts, the search
index off the search page); every diagram is an inline SVG, named by its caption, with a source link
for each ``pin:`` click (links that open normally); diagrams read on a 390 px phone and in dark
mode; the Chinese edition's diagrams speak Chinese; code blocks carry a copy button; the language
switch lands on the counterpart page and fits in the header; search finds an English and a Chinese
term on the expected page, with snippets of page text only. And what search engines read: a
favicon, a meta description, absolute canonical and hreflang links on every page, a sitemap per
edition.
"""
import re
import textwrap
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

import polib
import pytest

from bookfiles import ROOT
from browser import PageVisit, browser, check_page, new_context, serve, site_pages
from conftest import LANGS, build_site

pytestmark = pytest.mark.browser

# (edition, query, the page search must list). Chinese queries are single indexed words.
SEARCHES = [
    ("en", "diffable", "ch0/index.html"),
    ("en", "netfilter", "index.html"),
    ("zh_CN", "源码导航图", "ch0/index.html"),
    ("zh_CN", "固定版本", "ch0/index.html"),
    ("en", "ConnectionImpl", "ch2-envoy/connection-lifecycle.html"),
    ("zh_CN", "连接池", "ch2-envoy/connection-lifecycle.html"),
    ("zh_CN", "原始目标地址", "ch4-istio-data-plane/packet-walk.html"),
]


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def served(site, chromium):
    with serve(site) as base:
        outside = []
        ctx = new_context(chromium, outside)
        yield base, ctx, outside
        ctx.close()


def test_every_page_loads_clean_has_svg_diagrams_and_copy_buttons(site, served):
    base, ctx, outside = served
    visit = PageVisit(ctx, base)
    problems = []
    for rel in site_pages(site):
        problems += check_page(visit, rel, ROOT, outside)
    assert not problems, "\n".join(problems)


def test_diagram_nodes_link_to_the_pinned_source_and_open_normally(site, served):
    base, ctx, outside = served
    page = PageVisit(ctx, base).open("en/ch0/index.html")
    hrefs = page.eval_on_selector_all(".insider-diagram svg a", "as => as.map(a => a.getAttribute('href'))")
    pinned = [h for h in hrefs if re.match(r"https://github\.com/envoyproxy/envoy/blob/[0-9a-f]{40}/source/.*#L\d+", h or "")]
    assert pinned, hrefs
    # A click follows the link in the page itself (no <object> to trap it); the test context
    # blocks other hosts and records the attempt.
    outside.clear()
    link = page.locator(f'.insider-diagram svg a[href="{pinned[0]}"]').first
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_timeout(500)
    assert pinned[0].split("#")[0] in outside, outside  # a request carries no #fragment


def test_chinese_diagrams_carry_the_translated_labels(site, served):
    base, ctx, _ = served
    po = polib.pofile(str(ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "ch0" / "index.po"))
    entry = po.find("one worker thread")
    assert entry is not None and entry.msgstr, "the ch0 legend's labels are not translated"
    page = PageVisit(ctx, base).open("zh_CN/ch0/index.html")
    legend = page.locator("#fig-ch0-legend .insider-diagram svg").text_content()
    assert entry.msgstr in legend and "one worker thread" not in legend, legend
    assert "Class::method()" in legend  # code names stay as they are


def test_diagrams_read_on_a_phone(site, chromium):
    """390 px wide: the page itself does not scroll sideways; a wide diagram keeps a readable size
    (three quarters of its own) and scrolls inside its panel."""
    with serve(site) as base:
        ctx = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        try:
            page = ctx.new_page()
            page.goto(f"{base}/zh_CN/ch0/index.html", wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            panel = page.locator("#fig-ch0-clickable .insider-diagram")
            sizes = panel.evaluate("""d => { const s = d.querySelector('svg');
                return {scroll: d.scrollWidth, client: d.clientWidth, shown: s.getBoundingClientRect().width,
                        natural: s.viewBox.baseVal.width}; }""")
            assert sizes["scroll"] > sizes["client"], sizes
            assert sizes["shown"] >= 0.74 * sizes["natural"], sizes
        finally:
            ctx.close()


def test_diagrams_sit_on_a_light_panel_in_dark_mode(served):
    base, ctx, _ = served
    page = PageVisit(ctx, base).open("en/ch0/index.html")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    bg = page.locator(".insider-diagram").first.evaluate("d => getComputedStyle(d).backgroundColor")
    assert bg == "rgb(255, 255, 255)", bg


@pytest.mark.parametrize("rel", ["index.html", "ch0/index.html", "appendix-lab-env/index.html"])
@pytest.mark.parametrize("lang", LANGS)
def test_language_switch_lands_on_the_counterpart(served, lang, rel):
    base, ctx, _ = served
    other = [l for l in LANGS if l != lang][0]
    page = PageVisit(ctx, base).open(f"{lang}/{rel}")
    page.locator("a.insider-lang-switch").first.click()
    page.wait_for_load_state("load")
    assert page.url == f"{base}/{other}/{rel}"
    assert page.locator(f"link[rel=alternate][hreflang]").count() == 3  # en, zh-Hans, x-default


@pytest.mark.parametrize("lang,query,expected", SEARCHES)
def test_search_finds_the_term(served, lang, query, expected):
    base, ctx, _ = served
    visit = PageVisit(ctx, base)
    page = visit.open(f"{lang}/search.html?q={query}")
    page.wait_for_selector("#search-results ul.search li a, #search-results p.search-summary", timeout=20000)
    page.wait_for_function("() => !document.querySelector('#search-results h2') || "
                           "document.querySelector('#search-results p.search-summary')", timeout=20000)
    links = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    assert any(l.split("#")[0].split("?")[0].endswith(f"/{lang}/{expected}") for l in links), (
        f"search for {query!r} in {lang} did not list {expected}: {links}; errors: {visit.errors}")
    assert not visit.errors, visit.errors


def test_request_to_another_host_is_reported(mini_project, tmp_path, chromium):
    page = mini_project / "book" / "ch0" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + '\n<img src="https://cdn.example.com/x.png" alt="x">\n', encoding="utf-8")
    out = tmp_path / "site"
    build_site(mini_project, out)
    with serve(out) as base:
        outside = []
        ctx = new_context(chromium, outside)
        problems = check_page(PageVisit(ctx, base), "en/ch0/index.html", mini_project, outside)
    assert any(p.startswith("book/ch0/index.md:") and "cdn.example.com" in p for p in problems), problems


# -- Findable: what search engines and browsers read from each page -----------------------------------
HREFLANG = {"en": "en", "zh_CN": "zh-Hans"}
CHROME_WORDS = ["System Settings", "Color mode", "Toggle primary sidebar", "Suggest edit", "Open issue",
                "Skip to main content", "亮色", "暗色", "系统设置"]
MERMAID_SYNTAX = re.compile(r"\b(flowchart|sequenceDiagram|graph (?:LR|TD|TB)|subgraph|classDef|click \w+ href)\b|-->|==>|:::")


def _pages(site, lang):
    return [p for p in site_pages(site) if p.startswith(f"{lang}/")]


def _soup(site, rel):
    return BeautifulSoup((site / rel).read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_has_a_description_canonical_and_absolute_hreflang_links(site, lang):
    problems = []
    for rel in _pages(site, lang):
        soup = _soup(site, rel)
        desc = soup.find("meta", attrs={"name": "description"})
        text = desc.get("content", "").strip() if desc else ""
        if not text:
            problems.append(f"{rel}: no meta description")
        elif len(text) > 161 or re.search(r"</?(a|span|code|em|strong|div|p)\b|\{[a-z:-]+\}`|```", text):
            problems.append(f"{rel}: meta description is not short plain text: {text!r}")
        canonical = soup.find("link", rel="canonical")
        href = canonical.get("href", "") if canonical else ""
        page = rel.split("/", 1)[1]
        if not re.match(r"https://[^/]+/.+/" + re.escape(page) + "$", href):
            problems.append(f"{rel}: canonical link {href!r} is not an absolute URL of this page")
        alternates = {l["hreflang"]: l["href"] for l in soup.find_all("link", rel="alternate") if l.get("hreflang")}
        if set(alternates) != {"en", "zh-Hans", "x-default"}:
            problems.append(f"{rel}: hreflang alternates {sorted(alternates)}")
        for code, url in alternates.items():
            if not url.startswith("https://") or not url.endswith("/" + page):
                problems.append(f"{rel}: hreflang {code} {url!r} is not absolute")
        if alternates.get(HREFLANG[lang]) != href:
            problems.append(f"{rel}: its own hreflang link differs from its canonical {href!r}")
        if alternates.get("x-default") != alternates.get("en"):
            problems.append(f"{rel}: x-default is not the English page")
        icon = soup.find("link", rel="icon")
        if not icon or not (site / lang / urlsplit(icon["href"]).path.replace("../", "")).is_file():
            problems.append(f"{rel}: no favicon link, or it names no file")
    assert not problems, "\n".join(problems)


IN_SHORT_EN = ("Envoy reads every byte of the page twice. The second sentence says what to do about it, "
               "and it is long enough that the whole box does not fit in a description of one hundred and sixty "
               "characters. A third sentence follows.")
IN_SHORT_ZH = "Envoy 会把页面的每个字节读两遍。第二句说明该怎么办。第三句在后面。"


def test_description_is_the_in_short_box_in_each_language(mini_project, tmp_path):
    """A page that opens with an In short box is described by the box's text, cut at a sentence,
    in its edition's language; a page without one by its first paragraph."""
    md = mini_project / "book" / "ch0" / "index.md"
    text = md.read_text(encoding="utf-8")
    title_end = text.index("\n", text.index("\n# ") + 1) + 1
    box = f"\n```{{admonition}} In short\n:class: in-short\n\n{IN_SHORT_EN}\n```\n"
    md.write_text(text[:title_end] + box + text[title_end:], encoding="utf-8")
    po = mini_project / "locales" / "zh_CN" / "LC_MESSAGES" / "ch0" / "index.po"
    po.write_text(po.read_text(encoding="utf-8") + f'\nmsgid "In short"\nmsgstr "要点"\n\nmsgid "{IN_SHORT_EN}"\nmsgstr "{IN_SHORT_ZH}"\n',
                  encoding="utf-8")
    out = tmp_path / "site"
    res = build_site(mini_project, out)
    assert all(r.returncode == 0 for r in res.values()), [r.output[-2000:] for r in res.values()]

    def description(rel):
        return _soup(out, rel).find("meta", attrs={"name": "description"})["content"]

    en = description("en/ch0/index.html")
    assert en.startswith("Envoy reads every byte of the page twice.") and "In short" not in en and len(en) <= 160, en
    assert description("zh_CN/ch0/index.html") == IN_SHORT_ZH
    lab = description("en/appendix-lab-env/index.html")  # no box: its first paragraph
    first = _soup(out, "en/appendix-lab-env/index.html").select_one("article section > p").get_text(" ")
    assert " ".join(first.split()).startswith(lab.rstrip("…")[:60]), (lab, first)


@pytest.mark.parametrize("lang", LANGS)
def test_sitemap_lists_every_page_of_the_edition(site, lang):
    sitemap = site / lang / "sitemap.xml"
    assert sitemap.is_file(), f"{sitemap} is missing"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [l.text for l in ET.parse(sitemap).getroot().findall("s:url/s:loc", ns)]
    assert all(l.startswith("https://") for l in locs), locs[:3]
    pages = {p.split("/", 1)[1] for p in _pages(site, lang)} - {"search.html", "genindex.html"}
    paths = {urlsplit(l).path for l in locs}
    missing = [p for p in pages if not any(path.endswith("/" + p) for path in paths)]
    assert not missing, f"{sitemap} does not list {missing}"
    assert len(locs) == len(set(locs)) == len(pages), (len(locs), len(pages))
    canonical = _soup(site, f"{lang}/index.html").find("link", rel="canonical")["href"]
    assert canonical in locs


@pytest.mark.parametrize("lang,query", [("en", "listener"), ("en", "connection"), ("zh_CN", "连接池"), ("zh_CN", "监听器")])
def test_search_snippets_are_page_text_only(served, lang, query):
    base, ctx, _ = served
    visit = PageVisit(ctx, base)
    page = visit.open(f"{lang}/search.html?q={query}")
    page.wait_for_selector("#search-results p.search-summary", timeout=30000)
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li p.context').length >= "
                           "Math.min(5, document.querySelectorAll('#search-results ul.search li').length)", timeout=30000)
    snippets = page.eval_on_selector_all("#search-results ul.search li p.context", "ps => ps.map(p => p.textContent)")
    assert snippets, f"no snippets for {query!r}"
    for text in snippets:
        chrome = [w for w in CHROME_WORDS if w in text]
        assert not chrome, f"snippet holds theme chrome {chrome}: {text!r}"
        assert not MERMAID_SYNTAX.search(text), f"snippet holds diagram source: {text!r}"
    assert not visit.errors, visit.errors


@pytest.mark.parametrize("lang", LANGS)
def test_search_index_holds_no_diagram_source(site, lang):
    index = (site / lang / "searchindex.js").read_text(encoding="utf-8")
    # Mermaid keywords that prose never uses ("lr" is the LR response flag, so it is no sign of a diagram).
    for token in ('"classdef"', '"subgraph"', '"href"', "system settings", "亮色"):
        assert token not in index.lower(), f"{lang}/searchindex.js holds {token}"


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
@pytest.mark.parametrize("rel", ["en/index.html", "zh_CN/index.html", "en/ch2-envoy/connection-lifecycle.html",
                                 "zh_CN/ch2-envoy/connection-lifecycle.html"])
def test_language_switch_fits_in_the_header(served, chromium, rel, width, height):
    base, _, _ = served
    ctx = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = ctx.new_page()
        page.goto(f"{base}/{rel}", wait_until="load")
        switch = page.locator("a.insider-lang-switch").first
        assert switch.is_visible(), f"{rel} at {width}px: the language switch is not visible"
        box = switch.bounding_box()
        header = page.locator(".bd-header-article").first.bounding_box()
        assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width, (rel, width, box)
        assert (header["y"] <= box["y"] and box["y"] + box["height"] <= header["y"] + header["height"]
                and header["x"] <= box["x"] and box["x"] + box["width"] <= header["x"] + header["width"]), (rel, width, box, header)
        # nothing covers it: the element at its centre is the switch (or inside it)
        hit = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); return !!e && !!e.closest('a.insider-lang-switch'); }",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit, f"{rel} at {width}px: something covers the language switch"
    finally:
        ctx.close()


def test_favicon_is_served(served):
    base, ctx, _ = served
    visit = PageVisit(ctx, base)
    page = visit.open("en/ch0/index.html")
    href = page.eval_on_selector("link[rel=icon]", "l => l.href")
    resp = ctx.request.get(href)
    assert resp.status == 200 and "svg" in resp.headers.get("content-type", ""), (href, resp.status)
