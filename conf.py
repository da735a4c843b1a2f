"""Sphinx configuration for *Istio & Envoy Insider*.

The sources live in ``book/`` and this file sits at the repository root, so every build runs
``sphinx-build -c . book OUTDIR`` (the Makefile and .readthedocs.yaml do).  The four pins are
declared once, in ``PINS`` below; every link into upstream code is built from them by the roles
and the Mermaid ``pin:`` links of ``_ext/insider.py``.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

# -- The pins: the upstream trees the book reads. Change a pin here and nowhere else. ----------
PINS = {
    # role name: (GitHub repository, ref that links use)
    "istio": ("istio/istio", "1.30.3"),
    "proxy": ("istio/proxy", "1.30.3"),
    "ztunnel": ("istio/ztunnel", "1.30.3"),
    "envoy": ("envoyproxy/envoy", "28cb0f71a90d38bfee14ea626165729428e6fb31"),
}
# The Envoy version string at the Envoy pin (its VERSION.txt), shown in the book's text.
ENVOY_VERSION = "1.38.0-dev"
insider_pins = PINS  # read by _ext/insider.py (Mermaid pin: links)
# The upstream documentation that matches the pins (never `latest`): {envoy-docs} and {istio-docs}.
DOCS = {
    "envoy-docs": "https://www.envoyproxy.io/docs/envoy/v1.38.0/",
    "istio-docs": "https://istio.io/v1.30/",
}

# -- Project -------------------------------------------------------------------------------------
project = "Istio & Envoy Insider"
author = "the Istio & Envoy Insider contributors"
copyright = "2026, the Istio & Envoy Insider contributors"
version = release = "1.30"  # the Istio line the book reads
repository_url = "https://github.com/istio-envoy-insider/istio-envoy-insider"

extensions = [
    "myst_parser",
    "sphinx.ext.extlinks",
    "sphinxcontrib.mermaid",
    "sphinx_copybutton",
    "sphinx_sitemap",
    "insider",  # _ext/insider.py: pins, language switch, search fix
    "diagrams",  # _ext/diagrams.py: Mermaid rendered at build time (cached in diagrams/), labels translated
    "offline",  # _ext/offline.py: those diagrams as images in the EPUB and the PDF
]

root_doc = "index"
exclude_patterns = ["**/_*", "**/*.zh_CN.mmd"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# -- Languages -------------------------------------------------------------------------------------
# Read the Docs names the Chinese project's language "zh-cn"; Sphinx calls it "zh_CN".
# A command-line -D language=... (Read the Docs passes one too) wins over this default.
_RTD_LANG = {"en": "en", "zh-cn": "zh_CN", "zh_cn": "zh_CN"}
language = _RTD_LANG.get(os.environ.get("READTHEDOCS_LANGUAGE", "en").lower(), "en")
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
insider_languages = LANGUAGES  # the language switch
locale_dirs = ["../locales/"]
gettext_compact = False
gettext_location = False
gettext_uuid = False
gettext_auto_build = True

# -- MyST ------------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline", "attrs_block", "substitution"]
# The pins as words, for prose: {{ istio_pin }}, {{ envoy_pin_short }} ... (one source of truth).
myst_substitutions = {
    "istio_pin": PINS["istio"][1],
    "proxy_pin": PINS["proxy"][1],
    "ztunnel_pin": PINS["ztunnel"][1],
    "envoy_pin": PINS["envoy"][1],
    "envoy_pin_short": f"`{PINS['envoy'][1][:7]}`",  # Markdown: renders as code
    "envoy_version": ENVOY_VERSION,
}
myst_heading_anchors = 3
myst_fence_as_directive = []  # ```mermaid and ```{mermaid} are both handled by sphinxcontrib-mermaid

# -- Source links built from the pins -----------------------------------------------------------------
# {envoy}`ConnectionImpl::onReadReady() <source/common/network/connection_impl.cc#L650-L690>`
# {envoy-tree}`source/common/network <source/common/network>` for a folder.
extlinks = {}
for _name, (_repo, _ref) in PINS.items():
    extlinks[_name] = (f"https://github.com/{_repo}/blob/{_ref}/%s", "%s")
    extlinks[f"{_name}-tree"] = (f"https://github.com/{_repo}/tree/{_ref}/%s", "%s")
for _name, _base in DOCS.items():
    # {envoy-docs}`the HCM overview <intro/arch_overview/http/http_connection_management>`
    # {istio-docs}`Traffic Management <docs/concepts/traffic-management/>`
    extlinks[_name] = (_base + "%s", "%s")
extlinks_detect_hardcoded_links = True

# -- Mermaid: rendered when the book is built, inlined as SVG (_ext/diagrams.py; cache in diagrams/) --
# sphinxcontrib-mermaid parses the directive (caption, name); any output format but "raw" keeps its
# JavaScript off the pages, and _ext/diagrams.py writes the HTML.
mermaid_output_format = "svg"

# -- HTML ------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
# Pages carry absolute canonical and hreflang links, and each edition a sitemap.xml, built on
# html_baseurl: on Read the Docs its canonical URL of the edition (READTHEDOCS_CANONICAL_URL, e.g.
# https://<domain>/zh-cn/latest/); elsewhere _ext/insider.py sets insider_site_url + en/ or zh-cn/ + latest/.
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL", "")
insider_site_url = "https://istio-envoy-insider.readthedocs.io/"
sitemap_url_scheme = "{link}"  # html_baseurl already names the language and the version
sitemap_locales = [None]  # the pages' own hreflang links name the other edition
sitemap_excludes = ["search.html", "genindex.html"]
html_favicon = "_static/favicon.svg"
html_title = "Istio & Envoy Insider"
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "repository_url": repository_url,
    "repository_branch": "main",
    "path_to_docs": "book",
    "use_repository_button": True,
    "use_edit_page_button": True,
    "use_issues_button": True,
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}
html_css_files = ["insider.css"]

# Chinese search: jieba segments the text; the project dictionary keeps the book's terms whole.
html_search_options = {"dict": os.path.join(os.path.dirname(os.path.abspath(__file__)), "locales", "zh_CN", "search-dict.txt")}

# -- Checks ------------------------------------------------------------------------------------------------
nitpicky = True
suppress_warnings = []
copybutton_exclude = ".linenos, .gp, .go"
copybutton_prompt_text = r"\$ "
copybutton_prompt_is_regexp = True

# -- EPUB and PDF (make epub, make pdf) ----------------------------------------------------------------
# Both editions are built from the same sources; the PDF goes through XeLaTeX so that Chinese text
# (xeCJK with Noto CJK, Debian's fonts-noto-cjk) and the book's Unicode arrows and symbols typeset.
_BASENAME = "istio-envoy-insider"
epub_basename = _BASENAME
epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = copyright
# The OPF identifier and the NCX uid must be the same XML name (epubcheck checks it).
epub_uid = "IstioEnvoyInsider"
epub_identifier = epub_uid
epub_scheme = "uid"
epub_show_urls = "no"  # source links stay clickable; printing every URL after its link would double the text
epub_exclude_files = ["search.html", "genindex.html", "_static/insider-icons.css"]
latex_engine = "xelatex"
# The foreword (index.md) is the site's landing page; in the PDF the chapters start at once
# (toctree_only), since the foreword's catalog would otherwise pull every chapter inside itself.
latex_documents = [(root_doc, f"{_BASENAME}.tex", project.replace("&", r"\&"), author.replace("&", r"\&"), "manual", True)]
latex_show_urls = "no"
latex_use_xindy = False  # the book has no index; makeindex (always present) is enough for Sphinx's stubs
latex_show_pagerefs = False
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    # Long source lines and URLs wrap instead of running off the page.
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true, verbatimmaxunderfull=2, "
                   "verbatimhintsturnover=true, TitleColor={rgb}{0.1,0.2,0.4}",
    "preamble": r"""
\usepackage{xeCJK}
\setCJKmainfont{Noto Serif CJK SC}
\setCJKsansfont{Noto Sans CJK SC}
\setCJKmonofont{Noto Sans Mono CJK SC}
\usepackage{xurl}
% Identifiers such as METRICS_LOCALHOST_ACCESS_ONLY may break after an underscore, in text and
% in inline code (table cells are narrow), rather than run into the margin.
\AtBeginDocument{\renewcommand{\_}{\texorpdfstring{\textunderscore\allowbreak}{\textunderscore}}}
% Inline code may also break after "::" and before "(" (Foo::bar(), long method names).
\renewcommand*\sphinxbreaksafteractivelist{\do\.\do\,\do\;\do\?\do\!\do\/\do\:}
\renewcommand*\sphinxbreaksbeforeactivelist{\do\(}
""",
    "fncychap": "",
    "printindex": "",
}
latex_table_style = ["booktabs", "colorrows"]
