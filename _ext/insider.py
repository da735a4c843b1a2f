"""The book's own Sphinx glue: what no maintained package does for us.

* Mermaid ``pin:`` links: a diagram writes ``click N href "pin:envoy/source/x.cc#L10-L20"`` and the
  build turns it into a link at the pinned ref from ``conf.PINS`` (Mermaid bodies are not
  processed by Sphinx roles, so they need this).
  Rendering the diagrams (at build time, no Mermaid JavaScript on the pages) is _ext/diagrams.py.
* The language switch and ``hreflang`` alternates: each page links to its counterpart in the
  other edition, both in a local build (``_build/html/en`` ↔ ``_build/html/zh_CN``) and on
  Read the Docs (``/en/<version>/`` ↔ ``/zh-cn/<version>/``).
* Page weight: the theme's icon script (fontawesome.js, 1.5 MB on every page) is replaced by a
  stylesheet that draws only the icons the pages use (``ICONS`` below), cut from the theme's own
  Font Awesome data at build time; ``_templates/layout.html`` drops the script.
* Findability: a ``<meta name="description">`` per page (its In short box, else its first
  paragraph), absolute canonical / ``hreflang`` / ``x-default`` links from ``html_baseurl``, and a
  complete, sorted sitemap per edition (sphinx-sitemap).
* Chinese search: Sphinx 9.0's ``SearchChinese`` ends ``language_data.js`` with
  ``window.Stemmer = ChineseStemmer;`` while shipping the English stemmer
  (sphinx-doc/sphinx#14229). The subclass below names the stemmer it really ships.
"""
from __future__ import annotations

import fnmatch
import html
import os
import queue
import re
from pathlib import Path
from urllib.parse import quote

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


# -- Language switch, canonical and alternate links -----------------------------------------------------
def default_baseurl(app: Sphinx, config) -> None:
    """Without Read the Docs' READTHEDOCS_CANONICAL_URL, pages still get absolute canonical and
    hreflang links: the public site's URL of this edition (``insider_site_url`` + en/ or zh-cn/ + latest/)."""
    if not config.html_baseurl:
        lang = config.language or "en"
        config.html_baseurl = f"{config.insider_site_url.rstrip('/')}/{RTD_DIR.get(lang, lang)}/latest/"
    elif not config.html_baseurl.endswith("/"):
        config.html_baseurl += "/"


def edition_bases(app: Sphinx) -> dict[str, str]:
    """The absolute base URL of every edition, derived from this edition's ``html_baseurl``
    (Read the Docs serves translations side by side: ``<site>/en/<version>/``, ``<site>/zh-cn/<version>/``)."""
    lang = app.config.language or "en"
    base = app.config.html_baseurl
    m = re.match(r"^(.*/)" + re.escape(RTD_DIR.get(lang, lang)) + r"(/[^/]+/)$", base)
    out = {}
    for code in app.config.insider_languages:
        if code == lang:
            out[code] = base
        elif m:
            out[code] = f"{m.group(1)}{RTD_DIR[code]}{m.group(2)}"
    return out


def language_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    lang = app.config.language or "en"
    up = "../" * pagename.count("/")
    on_rtd = bool(os.environ.get("READTHEDOCS"))
    rtd_version = os.environ.get("READTHEDOCS_VERSION", "latest")
    bases = edition_bases(app)
    links = []
    for code, label in app.config.insider_languages.items():
        # The visible switch is relative, so that it works in a local build and on any domain.
        if on_rtd:
            href = f"{up}../../{RTD_DIR[code]}/{rtd_version}/{pagename}.html"
        else:
            href = f"{up}../{LOCAL_DIR[code]}/{pagename}.html"
        links.append({"code": code, "label": label, "href": href, "hreflang": HREFLANG[code],
                      "current": code == lang, "url": f"{bases[code]}{pagename}.html" if code in bases else None})
    context["insider_languages"] = links
    context["insider_other_languages"] = [l for l in links if not l["current"]]
    # Alternates for search engines are absolute; x-default is the English page.
    tags = "".join(
        f'<link rel="alternate" hreflang="{l["hreflang"]}" href="{html.escape(l["url"])}" />\n' for l in links if l["url"]
    )
    default = next((l for l in links if l["code"] == "en" and l["url"]), None)
    if default:
        tags += f'<link rel="alternate" hreflang="x-default" href="{html.escape(default["url"])}" />\n'
    description = page_description(app, doctree)
    if description:
        tags += f'<meta name="description" content="{html.escape(description)}" />\n'
    context["metatags"] = context.get("metatags", "") + tags
    if lang != "en":
        # In a translated edition, "edit this page" opens the page's catalog, where its text lives.
        context["doc_path"] = f"locales/{lang}/LC_MESSAGES"
        context["page_source_suffix"] = ".po"


# -- Meta description --------------------------------------------------------------------------------
DESCRIPTION_LIMIT = {"en": 160, "zh_CN": 100}  # characters; a Chinese character is about two Latin ones wide
SENTENCE_END = re.compile(r"(?<=[.!?])\s|(?<=[。！？])")


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.astext()).strip()


def describe(doctree, limit: int) -> str:
    """The page's In short box (its body, not its title), else its first body paragraph, as plain
    text of at most ``limit`` characters: whole sentences if they fit, else cut at a word."""
    text = ""
    for adm in doctree.findall(nodes.admonition):
        if "in-short" in adm.get("classes", []):
            text = " ".join(_text(c) for c in adm.children if not isinstance(c, nodes.title))
            break
    if not text:
        for para in doctree.findall(nodes.paragraph):
            if isinstance(para.parent, (nodes.section, nodes.document)):
                text = _text(para)
                if text:
                    break
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.start() for m in SENTENCE_END.finditer(cut)]
    if ends and ends[-1] >= limit // 2:
        return cut[:ends[-1]].strip()
    space = cut.rfind(" ", 0, limit - 1)
    if space >= limit // 2:
        return cut[:space].rstrip(" ,;:") + "…"
    return cut[:limit - 1] + "…"


def page_description(app: Sphinx, doctree) -> str:
    limit = DESCRIPTION_LIMIT.get(app.config.language or "en", 160)
    if doctree is None:  # search, genindex: the book's own description (its root page's)
        cache = app.builder.__dict__.setdefault("_insider_root_description", {})  # per build, not pickled
        if "text" not in cache:
            cache["text"] = describe(app.env.get_doctree(app.config.root_doc), limit)
        return cache["text"]
    return describe(doctree, limit)


# -- Sitemap ----------------------------------------------------------------------------------------------
def complete_sitemap(app: Sphinx, exception) -> None:
    """sphinx-sitemap lists the pages written by this build, in the order the (parallel) writers
    finished. Before it writes sitemap.xml: every page of the edition, sorted."""
    q = getattr(app, "sitemap_links", None)  # sphinx-sitemap's queue of (link, lastmod)
    if exception or q is None or app.builder.format != "html":
        return
    found = {}
    while True:
        try:
            link, lastmod = q.get_nowait()
        except queue.Empty:
            break
        found[link] = lastmod
    for doc in app.env.found_docs:
        link = doc + app.builder.out_suffix
        if link not in found and not any(fnmatch.fnmatch(link, p) for p in app.config.sitemap_excludes):
            found[link] = None
    for link in sorted(found, key=lambda l: (l != "index.html", l)):
        q.put((link, found[link]))


def write_robots(app: Sphinx, exception) -> None:
    """robots.txt naming every edition's sitemap. Read the Docs serves the one in the default
    version of the main (English) project at the domain's root; a local build has one per edition."""
    if exception or app.builder.format != "html":
        return
    bases = edition_bases(app)
    lines = ["User-agent: *", "Allow: /", ""] + [f"Sitemap: {bases[c]}{app.config.sitemap_filename}"
                                                 for c in app.config.insider_languages if c in bases]
    (Path(app.outdir) / "robots.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- Icons ----------------------------------------------------------------------------------------------
# The icons the theme's templates and ours use, by Font Awesome style. The build draws each one with
# a CSS mask (an SVG in a data: URL, in currentColor), so no icon script or icon font is loaded; a
# page that uses an icon missing here fails the build (check_icons) -- add it to this list.
ICONS = {
    "solid": ["angle-left", "angle-right", "arrow-up", "bars", "chevron-down", "circle-half-stroke",
              "expand", "language", "lightbulb", "list", "magnifying-glass", "moon", "outdent",
              "pencil-alt", "sun", "xmark"],
    "brands": ["github"],
    "regular": [],
}
FA_STYLE_CLASSES = {"solid": (".fas", ".fa-solid"), "regular": (".far", ".fa-regular"), "brands": (".fab", ".fa-brands")}
FA_PACK = {"solid": "fas", "regular": "far", "brands": "fab"}
FA_ENTRY = re.compile(r'[{,]("?)([a-z0-9-]+)\1:\[(\d+),(\d+),\[([^\]]*)\],"([0-9a-f]+)",("[^"]*"|\[[^\]]*\])\]')
FA_NOT_ICONS = {"fa", "fas", "far", "fab", "fa-solid", "fa-regular", "fa-brands", "fa-classic", "fa-lg", "fa-fw",
                "fa-xs", "fa-sm", "fa-xl", "fa-2xs", "fa-2xl", "fa-1x", "fa-2x", "fa-3x", "fa-spin", "fa-width-fixed"}


def _theme_static() -> Path:
    import pydata_sphinx_theme

    return Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"


def fontawesome_icons(js: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """{style: {name, alias or "uXXXX" codepoint: (width, height, svg path)}} from the theme's
    fontawesome.js, whose packs read ``var b={name:[w,h,[aliases],"unicode","path"],...}`` then ``p("fas",b)``."""
    packs: dict[str, dict[str, tuple[int, int, str]]] = {}
    for style, prefix in FA_PACK.items():
        end = js.find(f'p("{prefix}",b)')
        start = js.rfind("var b={", 0, end)
        if end < 0 or start < 0:
            continue
        icons = packs.setdefault(style, {})
        for m in FA_ENTRY.finditer(js, start + 6, end):
            name, w, h, aliases, code, path = (m.group(2), int(m.group(3)), int(m.group(4)), m.group(5),
                                               m.group(6), m.group(7))
            if path.startswith("["):
                path = path.strip("[]").split('","')[-1]
            icon = (w, h, path.strip('"'))
            icons[name] = icon
            icons.setdefault("u" + code, icon)
            for alias in re.findall(r'"([a-z0-9-]+)"', aliases):
                icons.setdefault(alias, icon)
    return packs


def _svg_url(icon: tuple[int, int, str]) -> str:
    w, h, path = icon
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h}'><path d='{path}'/></svg>"
    return f'url("data:image/svg+xml,{quote(svg, safe=" /=:,.-")}")'


MASK = ("background-color:currentColor;-webkit-mask:var(--insider-icon) center/contain no-repeat;"
        "mask:var(--insider-icon) center/contain no-repeat")


def pseudo_icon_css(theme_css: str, packs) -> list[str]:
    """The theme's stylesheet also draws icons as text in the icon font: ``content:var(--pst-icon-…)``
    with ``font:var(--fa-font-solid)`` on admonition titles, external and download links, breadcrumbs.
    Each such rule gets the same icon as a mask instead, so the pages load no icon font either."""
    theme_css = re.sub(r"/\*.*?\*/", "", theme_css, flags=re.S)
    variables = dict(re.findall(r'(--pst-(?:icon|breadcrumb)[a-z-]*):("[^"]*"|var\(--[a-z-]+\))', theme_css))

    def codepoint(var: str) -> str | None:
        seen = set()
        while var in variables and var not in seen:
            seen.add(var)
            value = variables[var]
            if value.startswith('"'):
                text = value.strip('"')
                if text.startswith("\\"):
                    return text[1:].lower()
                return f"{ord(text):x}" if len(text) == 1 else None
            var = value[4:-1]
        return None

    out = []
    for sel, decl in re.findall(r"([^{}]+)\{([^{}]*)\}", theme_css):
        sel = sel.strip()
        font = re.search(r"font:var\(--fa-font-(solid|brands|regular)\)", decl)
        content = re.search(r"content:var\((--pst-[a-z-]+)\)", decl)
        if font:
            out.append(f"{sel}{{font:inherit;display:inline-block;width:1em;height:1em;vertical-align:-.125em;{MASK}}}")
        if content:
            code = codepoint(content.group(1))
            style = "brands" if "github" in content.group(1) or "gitlab" in content.group(1) else "solid"
            icon = packs.get(style, {}).get(f"u{code}") if code else None
            if icon:
                out.append(f'{sel}{{content:"";--insider-icon:{_svg_url(icon)}}}')
    return out


def icon_css(packs, theme_css: str = "") -> str:
    styles = ",".join(c for cs in FA_STYLE_CLASSES.values() for c in cs)
    out = [
        "/* The icons the book's pages use, drawn from the theme's Font Awesome Free icons (CC BY 4.0,",
        "   https://fontawesome.com/license/free) as CSS masks. Written by _ext/insider.py; do not edit. */",
        # no icon font: neither for the icon elements (their line box) nor for their ::before
        f":is({styles},.fa,.fa-classic){{font-family:inherit}}",
        f":is({styles},.fa,.fa-classic)::before{{content:\"\";display:inline-block;width:100%;height:1em;"
        f"vertical-align:-.125em;{MASK}}}",
    ]
    for style, names in ICONS.items():
        for name in names:
            if name not in packs.get(style, {}):
                raise RuntimeError(f"Font Awesome has no {style} icon {name!r} (ICONS in _ext/insider.py)")
            sel = ",".join(f"{c}.fa-{name}" for c in FA_STYLE_CLASSES[style])
            out.append(f"{sel}{{--insider-icon:{_svg_url(packs[style][name])}}}")
    out += pseudo_icon_css(theme_css, packs)
    return "\n".join(out) + "\n"


def write_icon_css(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    js = _theme_static() / "scripts" / "fontawesome.js"
    packs = fontawesome_icons(js.read_text(encoding="utf-8")) if js.is_file() else {}
    if not packs.get("solid"):
        raise RuntimeError(f"cannot read the theme's icons from {js}: the icon stylesheet needs them")
    dest = Path(app.outdir) / "_static" / "insider-icons.css"
    dest.parent.mkdir(parents=True, exist_ok=True)
    css = icon_css(packs, (_theme_static() / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8"))
    if not dest.is_file() or dest.read_text(encoding="utf-8") != css:
        dest.write_text(css, encoding="utf-8")


FA_CODEPOINT_RULE = re.compile(r'\.fa-[a-z0-9-]+(?:,\.fa-[a-z0-9-]+)*\{--fa:"[^"]*"\}')


def trim_theme_css(app: Sphinx, exception) -> None:
    """The theme's stylesheet maps some 2,000 icon classes to icon-font code points (66 KB of the
    376 KB on every page); with the icons drawn by insider-icons.css none of them applies. Drop them
    from the build's copy of the stylesheet."""
    if exception or app.builder.format != "html":
        return
    css = Path(app.outdir) / "_static" / "styles" / "pydata-sphinx-theme.css"
    if css.is_file():
        text = css.read_text(encoding="utf-8")
        trimmed = FA_CODEPOINT_RULE.sub("", text)
        if trimmed != text:
            css.write_text(trimmed, encoding="utf-8")


ICON_CLASS_ATTR = re.compile(r'class="([^"]*\bfa-[^"]*)"')


def check_icons(app: Sphinx, exception) -> None:
    """Every Font Awesome icon a written page names must be one that insider-icons.css draws."""
    if exception or app.builder.format != "html":
        return
    served = {n for names in ICONS.values() for n in names}
    missing: dict[str, str] = {}
    for f in Path(app.outdir).rglob("*.html"):
        if "_static" in f.parts:
            continue
        for attr in ICON_CLASS_ATTR.findall(f.read_text(encoding="utf-8")):
            for cls in attr.split():
                if cls.startswith("fa-") and cls not in FA_NOT_ICONS and cls[3:] not in served:
                    missing.setdefault(cls, f.relative_to(app.outdir).as_posix())
    for cls, page in sorted(missing.items()):
        logger.warning("%s uses the icon %s, which _static/insider-icons.css does not draw: add it to ICONS "
                       "in _ext/insider.py", page, cls, type="insider", subtype="icon")


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


# sphinx-book-theme asks for "Repository", "Suggest edit", "Open issue"… but its zh_CN catalog has
# only lowercase ids for them, so the Chinese edition showed those buttons in English. These are
# added as a catalog of the theme's domain ahead of the theme's own (registered at config-inited,
# before the builder loads the theme); anything not here still comes from the theme.
THEME_MESSAGES = {
    "zh_CN": {
        "Repository": "仓库",
        "Source repository": "源码仓库",
        "Source repositories": "源码仓库",
        "Open issue": "提交问题",
        "Open an issue": "提交问题",
        "Suggest edit": "建议修改",
        "Edit this page": "编辑此页",
        "Download this page": "下载此页",
        "Download source file": "下载源文件",
        "Print to PDF": "打印为 PDF",
        "Fullscreen mode": "全屏模式",
        "Show source": "查看源文件",
        "Search": "搜索",
    },
}


def add_theme_messages(app: Sphinx, config) -> None:
    """Compile THEME_MESSAGES for this edition's language and register them for the theme's domain."""
    messages = THEME_MESSAGES.get(config.language or "")
    if not messages:
        return
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale=config.language, domain="booktheme")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    base = Path(app.doctreedir) / "insider-locale"
    mo = base / config.language / "LC_MESSAGES" / "booktheme.mo"
    mo.parent.mkdir(parents=True, exist_ok=True)
    with open(mo, "wb") as f:
        write_mo(f, catalog)
    app.add_message_catalog("booktheme", str(base))


def setup(app: Sphinx) -> dict:
    app.add_config_value("insider_pins", {}, "env")
    app.add_config_value("insider_languages", {}, "html")
    app.add_config_value("insider_site_url", "", "html")
    app.add_css_file("insider-icons.css")
    app.connect("config-inited", default_baseurl)
    app.connect("config-inited", add_theme_messages)
    app.connect("builder-inited", write_icon_css)
    app.connect("doctree-read", resolve_pin_links)
    app.connect("html-page-context", language_links, priority=450)  # before the theme builds its edit link (501)
    app.connect("build-finished", complete_sitemap, priority=400)  # before sphinx-sitemap writes (500)
    app.connect("build-finished", check_icons)
    app.connect("build-finished", write_robots)
    app.connect("build-finished", trim_theme_css)
    register_chinese_search(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

