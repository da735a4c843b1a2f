"""The book's own Sphinx glue: what no maintained package does for us.

* Mermaid ``pin:`` links: a diagram writes ``click N href "pin:envoy/source/x.cc#L10-L20"`` and the
  build turns it into a link at the pinned ref from ``conf.PINS`` (Mermaid bodies are not
  processed by Sphinx roles, so they need this).
  Rendering the diagrams (at build time, no Mermaid JavaScript on the pages) is _ext/diagrams.py.
* The language switch and ``hreflang`` alternates: each page links to its counterpart in the
  other edition, both in a local build (``_build/html/en`` ↔ ``_build/html/zh_CN``) and on
  Read the Docs (``/en/<version>/`` ↔ ``/zh-cn/<version>/``).
* Chinese search: Sphinx 9.0's ``SearchChinese`` ends ``language_data.js`` with
  ``window.Stemmer = ChineseStemmer;`` while shipping the English stemmer
  (sphinx-doc/sphinx#14229). The subclass below names the stemmer it really ships.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PIN_LINK = re.compile(r"pin:([a-z]+)/([^\s\"'#]+)(#L\d+(?:-L\d+)?)?")
UPSTREAM = re.compile(r"https://github\.com/(envoyproxy/envoy|istio/istio|istio/proxy|istio/ztunnel)/(?:blob|tree)/([^/\s\"']+)/")

# Where each edition lives, relative to the site root, locally and on Read the Docs.
LOCAL_DIR = {"en": "en", "zh_CN": "zh_CN"}
RTD_DIR = {"en": "en", "zh_CN": "zh-cn"}
HREFLANG = {"en": "en", "zh_CN": "zh-Hans"}


# -- Mermaid ---------------------------------------------------------------------------------------
def resolve_pins(code: str, pins: dict, unknown=None) -> str:
    """``pin:TREE/PATH#Lx-Ly`` → a link at the pinned ref (also used by tests/check_diagrams.py).
    ``unknown(match)`` is called for a TREE that has no pin; the text is then left as it is."""

    def replace(m: re.Match) -> str:
        tree, path, anchor = m.group(1), m.group(2), m.group(3) or ""
        if tree not in pins:
            if unknown:
                unknown(m)
            return m.group(0)
        repo, ref = pins[tree]
        kind = "tree" if path.endswith("/") else "blob"
        return f"https://github.com/{repo}/{kind}/{ref}/{path.rstrip('/')}{anchor}"

    return PIN_LINK.sub(replace, code)


def resolve_pin_links(app: Sphinx, doctree: nodes.document) -> None:
    """Turn ``pin:TREE/PATH#Lx-Ly`` in Mermaid bodies into links at the pinned ref.

    Runs at doctree-read before _ext/diagrams.py renders the diagram and computes its cache key."""
    from sphinxcontrib.mermaid import mermaid

    pins = app.config.insider_pins
    for node in doctree.findall(mermaid):
        code = node["code"]
        source = app.env.doc2path(app.env.docname)

        def unknown(m: re.Match) -> None:
            logger.warning("Mermaid link %r names no pinned tree (one of %s)", m.group(0),
                           ", ".join(sorted(pins)), location=(app.env.docname, _line_in(source, m.group(0), node.line)),
                           type="insider", subtype="pin")

        node["code"] = resolve_pins(code, pins, unknown)
        for m in UPSTREAM.finditer(code):
            logger.warning(
                "Mermaid diagram links upstream code directly (%s...): write pin:TREE/PATH#Lx-Ly so "
                "the link is built from the pins in conf.py", m.group(0),
                location=(app.env.docname, _line_in(source, m.group(0), node.line)), type="insider", subtype="pin")


def _line_in(path, needle: str, default) -> int:
    """The line of a source file that holds ``needle`` (Mermaid nodes carry no useful line)."""
    try:
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if needle in line:
                return n
    except OSError:
        pass
    return default or 0


# -- Language switch -------------------------------------------------------------------------------
def language_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    lang = app.config.language or "en"
    up = "../" * pagename.count("/")
    on_rtd = bool(os.environ.get("READTHEDOCS"))
    rtd_version = os.environ.get("READTHEDOCS_VERSION", "latest")
    links = []
    for code, label in app.config.insider_languages.items():
        if on_rtd:
            href = f"{up}../../{RTD_DIR[code]}/{rtd_version}/{pagename}.html"
        else:
            href = f"{up}../{LOCAL_DIR[code]}/{pagename}.html"
        links.append({"code": code, "label": label, "href": href, "hreflang": HREFLANG[code],
                      "current": code == lang})
    context["insider_languages"] = links
    context["insider_other_languages"] = [l for l in links if not l["current"]]
    tags = "".join(
        f'<link rel="alternate" hreflang="{l["hreflang"]}" href="{l["href"]}" />\n' for l in links
    )
    context["metatags"] = context.get("metatags", "") + tags
    if lang != "en":
        # In a translated edition, "edit this page" opens the page's catalog, where its text lives.
        context["doc_path"] = f"locales/{lang}/LC_MESSAGES"
        context["page_source_suffix"] = ".po"


# -- Chinese search --------------------------------------------------------------------------------
# The browser does not segment Chinese: a query such as 锁定版本 is one "word" to searchtools.js,
# while jieba indexed it as 锁定 + 版本. This splitter cuts each run of Han characters into the
# longest terms that the index really holds (greedy longest match), so any phrase that the page
# contains is found; characters that are no indexed term on their own are dropped.
CHINESE_QUERY_SPLITTER = r"""
var splitQuery = (query) => {
  const words = query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).filter((t) => t);
  const index = typeof Search !== "undefined" && Search._index ? Search._index : null;
  if (!index) return words;
  const known = (t) => t in index.terms || t in index.titleterms;
  const out = [];
  for (const word of words) {
    for (const run of word.match(/[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+/g)) {
      if (!/[\u3400-\u9fff\uf900-\ufaff]/.test(run) || known(run)) { out.push(run); continue; }
      let i = 0;
      while (i < run.length) {
        let j = run.length;
        while (j > i + 1 && !known(run.slice(i, j))) j--;
        if (j > i + 1 || known(run.slice(i, j))) out.push(run.slice(i, j));
        i = j;
      }
    }
  }
  return out.length ? out : words;
};
"""


def register_chinese_search(app: Sphinx) -> None:
    from sphinx.search.zh import SearchChinese

    class SearchChineseWithItsStemmer(SearchChinese):
        # language_data.js assigns window.Stemmer = <language_name>Stemmer; the JS it ships
        # is english-stemmer.js, which defines EnglishStemmer (Latin words are stemmed in English).
        language_name = "English"
        js_splitter_code = CHINESE_QUERY_SPLITTER

    app.add_search_language(SearchChineseWithItsStemmer)


def setup(app: Sphinx) -> dict:
    app.add_config_value("insider_pins", {}, "env")
    app.add_config_value("insider_languages", {}, "html")
    app.connect("doctree-read", resolve_pin_links)
    app.connect("html-page-context", language_links, priority=450)  # before the theme builds its edit link (501)
    register_chinese_search(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

