"""The site in a real browser (Playwright driving Debian's Chromium), both editions.

Every page loads with no console error, no failed request and no request to another host; every
Mermaid diagram renders; code blocks carry a copy button; the language switch lands on the
counterpart page; search finds an English and a Chinese term on the expected page.
"""
import re
import textwrap

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


def test_every_page_loads_clean_renders_diagrams_and_has_copy_buttons(site, served):
    base, ctx, outside = served
    visit = PageVisit(ctx, base)
    problems = []
    for rel in site_pages(site):
        problems += check_page(visit, rel, ROOT, outside)
    assert not problems, "\n".join(problems)


def test_diagram_nodes_link_to_the_pinned_source(site, served):
    base, ctx, _ = served
    page = PageVisit(ctx, base).open("en/ch0/index.html")
    page.wait_for_selector("pre.mermaid svg a", timeout=20000)
    hrefs = page.eval_on_selector_all("pre.mermaid svg a", "as => as.map(a => a.getAttribute('xlink:href') || a.getAttribute('href'))")
    assert any(re.match(r"https://github\.com/envoyproxy/envoy/blob/[0-9a-f]{40}/source/.*#L\d+", h or "") for h in hrefs), hrefs


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


def test_mermaid_syntax_error_is_named_with_file_and_line(mini_project, tmp_path, chromium):
    page = mini_project / "book" / "ch0" / "index.md"
    text = page.read_text(encoding="utf-8")
    line = text.count("\n") + 2
    page.write_text(text + "\n" + textwrap.dedent("""\
        ```{mermaid}
        :caption: broken

        flowchart LR
          A[ --> B((
        ```
        """), encoding="utf-8")
    out = tmp_path / "site"
    assert build_site(mini_project, out)["en"].returncode == 0
    with serve(out) as base:
        outside = []
        ctx = new_context(chromium, outside)
        problems = check_page(PageVisit(ctx, base), "en/ch0/index.html", mini_project, outside)
    assert any(p.startswith(f"book/ch0/index.md:{line}:") and "syntax error" in p for p in problems), problems


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
