"""The site in a real browser (Playwright driving Debian's Chromium), both editions.

Every page loads with no console error, no failed request and no request to another host; no page
loads Mermaid JavaScript and every diagram is an inline SVG, named by its caption, with a source
link for each ``pin:`` click (links that open normally); diagrams read on a 390 px phone and in
dark mode; the Chinese edition's diagrams speak Chinese; code blocks carry a copy button; the
language switch lands on the counterpart page; search finds an English and a Chinese term on the
expected page.
"""
import re

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
    ("zh_CN", "锁定版本", "ch0/index.html"),
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
    assert page.locator(f"link[rel=alternate][hreflang]").count() == 2


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
