"""The offline editions' diagrams: the rendered SVGs of ``_ext/diagrams.py`` as images.

The HTML edition inlines each diagram's SVG (``diagrams.py``). An EPUB cannot carry inline SVG
without manifest properties that Sphinx does not write, and LaTeX cannot include SVG at all, so:

* **EPUB**: the cached SVG is copied into the book's ``_images/`` as ``diagram-<key>.svg`` and
  shown with an ``<img>`` whose ``alt`` is the caption;
* **PDF**: the cached SVG is converted to PDF with ``rsvg-convert`` (librsvg, Debian's
  ``librsvg2-bin``; vector output, fonts embedded), rewritten by ``pdftocairo`` so that its fonts
  are subset (``_shrink_fonts``), into ``_build/diagram-pdf/`` once per key, and included with
  ``\\sphinxincludegraphics``, which shrinks it to the text block.

Both read the same cache as the HTML edition (``diagrams/<lang>/<page>/<key>.svg``), so the
offline editions need no browser; a diagram missing from the cache is the same warning, at its fence.
"""
from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _cached_svg(translator, node) -> Path | None:
    from diagrams import cache_path

    key, docname = node.get("insider_key"), node.get("insider_docname", "")
    root = Path(translator.builder.confdir)
    path = cache_path(root, translator.builder.config.language or "en", docname, key) if key else None
    if path is None or not path.is_file():
        logger.warning("Mermaid diagram not in the cache: build the HTML edition once where Chromium is "
                       "installed (`make html`), then commit diagrams/",
                       location=(node.get("insider_docname", ""), node.get("fence_line") or node.line or 0),
                       type="insider", subtype="diagram")
        return None
    return path


def _caption(node) -> str:
    if isinstance(node.parent, nodes.figure):
        cap = next(iter(node.parent.findall(nodes.caption)), None)
        if cap is not None:
            return cap.astext()
    return node.get("alt", "") or "Diagram"


_TAG = re.compile(r"<([A-Za-z][\w:-]*)(\s[^<>]*?)?(/?)>")
_ATTR = re.compile(r'\s([\w:-]+)="([^"]*)"')


def svg_for_epub(svg: str) -> str:
    """Mermaid writes SVG 2 and ARIA that EPUB's SVG 1.1 schema (epubcheck) rejects; keep the
    drawing, drop or rename what the schema does not know."""

    def tag(m: re.Match) -> str:
        name, attrs, close = m.group(1), m.group(2) or "", m.group(3)
        pairs = _ATTR.findall(attrs)
        out = []
        for k, v in pairs:
            if k in ("name", "label-offset-y") or (k in ("x1", "x2", "y1", "y2") and name not in ("line", "linearGradient")):
                continue
            if k == "role":
                v = "img" if name == "svg" else v
                if name != "svg":
                    continue
            if k == "title":  # a click tooltip; SVG 1.1 knows it only as xlink:title on <a>
                if name != "a":
                    continue
                k = "xlink:title"
            out.append((k, v))
        keys = {k for k, _ in out}
        if name == "rect":
            out += [(k, "0") for k in ("width", "height") if k not in keys]
        if name == "svg" and "xmlns:xlink" not in keys:
            out.append(("xmlns:xlink", "http://www.w3.org/1999/xlink"))
        return "<" + name + "".join(f' {k}="{v}"' for k, v in out) + close + ">"

    # A click's tooltip sits on the <g> inside its <a>; EPUB readers want it on the link itself.
    svg = re.sub(r'(<a\b[^<>]*?)>(\s*<g\b[^<>]*?)\stitle="([^"]*)"', r'\1 xlink:title="\3">\2', svg)
    return _TAG.sub(tag, svg)


# Mermaid writes a label as one <tspan> per word, each after the first starting with its space; a
# browser keeps those spaces, librsvg (SVG 1.1 xml:space="default") strips them and the PDF shows
# "workerthread". Preserving whitespace in every <text> keeps the words apart.
_TEXT_OPEN = re.compile(r"<text(?![^<>]*xml:space)(?=[\s>])")


# The figures are cached by diagram key; a change to how they are made (svg_for_rsvg, _shrink_fonts)
# must change this, or a local build keeps using the figures made the old way.
PDF_PIPELINE = "v2"


def svg_for_rsvg(svg: str) -> str:
    return _TEXT_OPEN.sub('<text xml:space="preserve"', svg)


def epub_visit_mermaid(translator, node) -> None:
    from html import escape

    svg = _cached_svg(translator, node)
    if svg is None:
        raise nodes.SkipNode
    name = f"diagram-{node['insider_key']}.svg"
    dest = Path(translator.builder.outdir) / translator.builder.imagedir / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        dest.write_text(svg_for_epub(svg.read_text(encoding="utf-8")), encoding="utf-8")
    src = posixpath.join(translator.builder.imgpath, name)
    translator.body.append(f'<div class="insider-diagram"><img src="{src}" alt="{escape(_caption(node))}" '
                           f'class="insider-diagram-img" /></div>\n')
    raise nodes.SkipNode


def latex_visit_mermaid(translator, node) -> None:
    svg = _cached_svg(translator, node)
    if svg is None:
        raise nodes.SkipNode
    key = node["insider_key"]
    lang = translator.builder.config.language or "en"
    cache = Path(translator.builder.outdir).parent.parent / "diagram-pdf" / PDF_PIPELINE / lang
    pdf = cache / f"diagram-{key}.pdf"
    if not pdf.exists():
        tool = shutil.which("rsvg-convert")
        if not tool:
            logger.warning("rsvg-convert is not installed (Debian: librsvg2-bin; `bash tools/ensure-system-deps.sh "
                           "offline` installs it): the PDF cannot include this diagram",
                           location=(node.get("insider_docname", ""), node.get("fence_line") or 0),
                           type="insider", subtype="diagram")
            raise nodes.SkipNode
        cache.mkdir(parents=True, exist_ok=True)
        p = subprocess.run([tool, "-f", "pdf", "-o", str(pdf)], input=svg_for_rsvg(svg.read_text(encoding="utf-8")),
                           capture_output=True, text=True)
        if p.returncode == 0:
            _shrink_fonts(pdf)
        if p.returncode != 0:
            pdf.unlink(missing_ok=True)
            logger.warning("rsvg-convert could not convert %s: %s", svg.name, p.stderr.strip()[:300],
                           location=(node.get("insider_docname", ""), node.get("fence_line") or 0),
                           type="insider", subtype="diagram")
            raise nodes.SkipNode
    shutil.copyfile(pdf, Path(translator.builder.outdir) / pdf.name)
    translator.body.append("\n\\begin{center}\\sphinxincludegraphics{{diagram-%s}.pdf}\\end{center}\n" % key)
    raise nodes.SkipNode


def _shrink_fonts(pdf: Path) -> None:
    """Rewrite a figure with ``pdftocairo`` (poppler-utils), which subsets its fonts again.

    cairo (inside rsvg-convert) embeds about 900 KB of Noto Sans CJK in every Chinese diagram,
    which made the Chinese PDF weigh 92 MB; rewritten, a figure keeps only the glyphs it uses
    (about 15 KB), with its text still extractable. Without pdftocairo the figure stays as it is.
    """
    tool = shutil.which("pdftocairo")
    if not tool:
        return
    small = pdf.with_name(pdf.stem + ".small.pdf")
    p = subprocess.run([tool, "-pdf", str(pdf), str(small)], capture_output=True, text=True)
    if p.returncode == 0 and small.exists() and small.stat().st_size < pdf.stat().st_size:
        small.replace(pdf)
    else:
        small.unlink(missing_ok=True)


def _remember_page(app, doctree) -> None:
    """The LaTeX builder writes one document made of every page: keep each diagram's page."""
    from sphinxcontrib.mermaid import mermaid

    for node in doctree.findall(mermaid):
        node["insider_docname"] = app.env.docname


def _epub_language(app, config) -> None:
    """EPUB wants an RFC 3066 language tag: zh-CN, not Sphinx's zh_CN."""
    config.epub_language = (config.language or "en").replace("_", "-")


def _epub_handlers(app) -> None:
    """Sphinx looks a translator's node handlers up by builder name ("epub") and only without any
    falls back to the format ("html"); so the EPUB gets every HTML handler, with its own for diagrams."""
    if app.builder.name == "epub":
        handlers = app.registry.translation_handlers
        handlers["epub"] = {**handlers.get("html", {}), "mermaid": (epub_visit_mermaid, None)}


def _basic_layout(app, pagename, templatename, context, doctree) -> None:
    """_templates/layout.html trims the book theme's layout; the EPUB's theme is Sphinx's own, and
    the web edition's icon stylesheet (icons of the theme's header) is not part of it."""
    context["insider_basic_layout"] = app.builder.name == "epub"
    if app.builder.name == "epub" and "css_files" in context:
        context["css_files"] = [c for c in context["css_files"] if "insider-icons" not in getattr(c, "filename", str(c))]


def setup(app) -> dict:
    from sphinxcontrib.mermaid import mermaid

    app.add_node(mermaid, override=True, latex=(latex_visit_mermaid, None))
    app.connect("config-inited", _epub_language)
    app.connect("doctree-read", _remember_page)
    app.connect("builder-inited", _epub_handlers)
    app.connect("html-page-context", _basic_layout)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
