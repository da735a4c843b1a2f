"""Mermaid diagrams rendered when the book is built, cached in the repository, translated per edition.

No Mermaid JavaScript reaches a reader: each ``{mermaid}`` directive becomes an inline SVG.

Pipeline for one diagram (``doctree-read``, after ``insider.resolve_pin_links`` has turned every
``pin:TREE/PATH#Lx-Ly`` into a link at the pin):

1. In a translated edition, each translatable label (node, edge, subgraph, participant, message,
   note, loop/alt text) is replaced by its ``msgstr`` from the page's own catalog
   (``locales/<lang>/LC_MESSAGES/<chapter>/<page>.po``), quoted so Mermaid's syntax stays intact.
   The gettext builder below extracts the same labels as messages, so ``make intl`` puts them in
   the catalog next to the page's text. Labels that are only code names are not messages (see
   :func:`is_code_name`).
2. The final Mermaid text, the language, the Mermaid version (``package.json``) and the render
   configuration give a key (:func:`cache_key`). The SVG lives in
   ``diagrams/<lang>/<docname>/<key>.svg`` in the repository.
3. After reading (``env-updated``, in the main process, all pages at once) every diagram whose
   SVG is missing is rendered by Mermaid itself (``node_modules/mermaid/dist/mermaid.min.js``) in
   one page of Debian's Chromium driven by Playwright, and written to the cache; SVGs that no
   diagram uses any more are deleted. A diagram Mermaid cannot parse is a build warning at the
   page's file and the line of its fence.
4. The HTML writer inlines the SVG in the figure, named by its caption for assistive technology.

``INSIDER_DIAGRAMS=cache-only`` (the default on Read the Docs and in the test suite) never starts
a browser and never deletes: a diagram missing from the cache is a warning naming its file:line.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
CACHE = "diagrams"  # relative to the project root (the folder that holds conf.py)
MERMAID_JS = Path("node_modules") / "mermaid" / "dist" / "mermaid.min.js"
# Bump when the post-processing of a rendered SVG changes (it is part of every cache key).
RENDERER = "insider-diagrams-3"
FONT = "arial, 'Liberation Sans', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
# What Mermaid is told; part of the cache key. SVG text labels (no HTML in <foreignObject>), so
# the page's CSS cannot change a label's layout once the SVG is inlined.
RENDER_CONFIG = {
    "startOnLoad": False,
    "securityLevel": "loose",  # keeps `click … href` links
    "theme": "default",
    "fontFamily": FONT,
    # Break a label only when it is wider than this (Mermaid's 200 px would cut identifiers).
    "flowchart": {"htmlLabels": False, "wrappingWidth": 480},
    "htmlLabels": False,
    "handDrawnSeed": 1,  # some shapes are drawn with rough.js: a fixed seed keeps renders identical
}
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions"]


# -- labels: which are messages, and how a translation goes back in -------------------------------
# A label is a message when it holds at least one plain English word: letters only, all lowercase
# or capitalised once ("thread", "Main"), two letters or more. Code tokens are not words: anything
# with "::", "()", "_", ".", "/", "#", "-", "=", ":" inside, a digit, camelCase or several capitals
# (onAccept, ConnectionImpl, ADS). A label that is one capitalised word is a name (Envoy, Push),
# and a few lowercase names are listed below. Everything else (identifiers, Foo::bar(), paths,
# numbers, flags) stays as written and is not asked of translators.
NAMES = {"istiod", "kubelet", "envoy", "ztunnel", "conntrack", "iptables", "nftables", "netfilter",
         "libevent", "kubectl", "curl", "httpbin", "nginx", "grpc", "tcp_proxy"}
_WORD = re.compile(r"^[A-Za-z][a-z]+(?:['’][a-z]+)?$")
_BR = re.compile(r"<br\s*/?>", re.I)


def _is_word(token: str) -> bool:
    t = token.strip("()[]{},;:!?\"'“”‘’…")
    return bool(_WORD.match(t)) and t.lower() not in NAMES and t == token.strip("()[]{},;:!?\"“”…")


def is_code_name(label: str) -> bool:
    """True when a label has no plain English word to translate (see the rule above)."""
    tokens = _BR.sub(" ", label).split()
    words = [t for t in tokens if _is_word(t)]
    if not words:
        return True
    if len(tokens) == 1 and tokens[0][0].isupper():
        return True  # a single capitalised word is a name
    return False


class Label:
    """One label inside a Mermaid body: where it is, its text, and how to write a replacement."""

    __slots__ = ("start", "end", "text", "kind", "line")

    def __init__(self, start: int, end: int, text: str, kind: str, line: int):
        self.start, self.end, self.text, self.kind, self.line = start, end, text, kind, line

    def write(self, text: str) -> str:
        if self.kind == "quoted":      # the span covers "…" (quotes included)
            return '"' + text.replace('"', "#quot;") + '"'
        if self.kind == "bare-edge":   # |text| → |"…"|
            return '"' + text.replace('"', "#quot;") + '"'
        if self.kind == "bare-node":   # A[text] → A["…"]
            return '"' + text.replace('"', "#quot;") + '"'
        if self.kind == "subgraph-id":  # subgraph poll → subgraph poll["…"]
            return f'{self.text}["' + text.replace('"', "#quot;") + '"]'
        # sequence diagrams: the text runs to the end of the line; ';' would end the statement
        return text.replace(";", "；").replace("\n", " ")

    def __repr__(self):
        return f"Label({self.kind}, {self.text!r}, line {self.line})"


_SKIP_FLOW = re.compile(r"^\s*(%%|click\b|classDef\b|class\b|style\b|linkStyle\b|direction\b|end\s*$|flowchart\b|graph\b|$)")
_QUOTED = re.compile(r'"([^"\n]*)"')
_BARE_EDGE = re.compile(r"\|([^|\"\x00]+)\|")
_BARE_NODE = re.compile(r"(?<![\w-])([A-Za-z_][\w-]*)(\[|\(|\{)([^\[\](){}\"\x00|]+)(\]|\)|\})")
_SUBGRAPH_ID = re.compile(r"^(\s*subgraph\s+)([\w-]+)\s*$")
_SEQ_MESSAGE = re.compile(r"^(\s*[\w-]+\s*(?:--?>>|--?>|--?x|--?\)|<<--?>>)\s*[+-]?[\w-]+\s*:\s*)(.*?)\s*$")
_SEQ_PARTICIPANT = re.compile(r"^(\s*(?:participant|actor)\s+[\w-]+\s+as\s+)(.*?)\s*$")
_SEQ_NOTE = re.compile(r"^(\s*note\s+(?:over|left of|right of)\s+[\w-]+(?:\s*,\s*[\w-]+)?\s*:\s*)(.*?)\s*$", re.I)
_SEQ_BLOCK = re.compile(r"^(\s*(?:loop|alt|else|opt|par|and|critical|option|break)\s+)(.*?)\s*$")


def diagram_type(code: str) -> str:
    for line in code.splitlines():
        s = line.strip()
        if s and not s.startswith("%%") and not s.startswith("---"):
            return s.split()[0]
    return ""


def labels(code: str) -> list[Label]:
    """The labels of a flowchart or sequence diagram, in order (offsets into ``code``)."""
    out: list[Label] = []
    kind = diagram_type(code)
    pos = 0
    in_front_matter = code.lstrip().startswith("---")
    fm_seen = 0
    for n, line in enumerate(code.split("\n"), 0):
        base, pos = pos, pos + len(line) + 1
        if in_front_matter:  # a --- YAML --- block before the diagram
            if line.strip() == "---":
                fm_seen += 1
                in_front_matter = fm_seen < 2
            continue
        if kind in ("flowchart", "graph"):
            if _SKIP_FLOW.match(line):
                continue
            m = _SUBGRAPH_ID.match(line)
            if m:
                out.append(Label(base + m.start(2), base + m.end(2), m.group(2), "subgraph-id", n))
                continue
            for q in _QUOTED.finditer(line):
                out.append(Label(base + q.start(), base + q.end(), q.group(1), "quoted", n))
            masked = _QUOTED.sub(lambda q: '"' + "\x00" * (len(q.group(0)) - 2) + '"', line)
            for e in _BARE_EDGE.finditer(masked):
                out.append(Label(base + e.start(1), base + e.end(1), e.group(1).strip(), "bare-edge", n))
            masked = _BARE_EDGE.sub(lambda e: "\x00" * len(e.group(0)), masked)
            for b in _BARE_NODE.finditer(masked):
                if masked[b.start(2) + 1:b.start(2) + 2] in "([{":
                    continue
                out.append(Label(base + b.start(3), base + b.end(3), b.group(3).strip(), "bare-node", n))
        elif kind == "sequenceDiagram":
            for rx in (_SEQ_PARTICIPANT, _SEQ_MESSAGE, _SEQ_NOTE, _SEQ_BLOCK):
                m = rx.match(line)
                if m and m.group(2):
                    out.append(Label(base + m.start(2), base + m.end(2), m.group(2), "text", n))
                    break
    out.sort(key=lambda l: l.start)
    return out


def messages(code: str) -> list[tuple[str, int]]:
    """The translatable labels of a diagram: (text, line offset inside the body)."""
    return [(l.text, l.line) for l in labels(code) if l.text.strip() and not is_code_name(l.text)]


def translate(code: str, gettext: Callable[[str], str]) -> str:
    """The diagram with every translated label put back, Mermaid syntax kept safe."""
    parts, last = [], 0
    for l in labels(code):
        if not l.text.strip() or is_code_name(l.text):
            continue
        t = gettext(l.text)
        if not t or t == l.text:
            continue
        parts += [code[last:l.start], l.write(t)]
        last = l.end
    return "".join(parts) + code[last:] if parts else code


# -- cache ---------------------------------------------------------------------------------------
def normalize(code: str) -> str:
    return "\n".join(l.rstrip() for l in code.strip("\n").split("\n"))


def mermaid_version(root: Path) -> str:
    """The Mermaid version the renders belong to: the exact pin in package.json."""
    pkg = json.loads((root / "package.json").read_text(encoding="utf-8"))
    return pkg.get("dependencies", {}).get("mermaid") or pkg.get("devDependencies", {}).get("mermaid", "")


def cache_key(code: str, lang: str, version: str) -> str:
    blob = json.dumps([RENDERER, version, RENDER_CONFIG, lang, normalize(code)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def cache_path(root: Path, lang: str, docname: str, key: str) -> Path:
    return root / CACHE / lang / docname / f"{key}.svg"


def svg_id(key: str) -> str:
    return f"mmd-{key[:12]}"


# -- rendering -----------------------------------------------------------------------------------
def browser_problem(root: Path) -> str | None:
    """Why this machine cannot render diagrams, or None."""
    if not (root / MERMAID_JS).is_file():
        return f"{MERMAID_JS} is missing (run `npm ci`)"
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        return "Chromium is not installed (bash tools/ensure-system-deps.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


_RENDER_ALL = """async (items) => {
  const out = [];
  for (const [id, code] of items) {
    try {
      await mermaid.parse(code);
      const { svg } = await mermaid.render(id, code);
      out.push([true, svg]);
    } catch (e) {
      out.push([false, String((e && e.message) || e)]);
    }
    const stray = document.getElementById('d' + id);  // the scratch element render() leaves on error
    if (stray) stray.remove();
  }
  return out;
}"""


def render_all(root: Path, items: list[tuple[str, str]]) -> list[tuple[bool, str]]:
    """Render (svg id, Mermaid text) pairs in one Chromium page; (ok, svg or error message) each."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_content(f"<!doctype html><html><head><meta charset='utf-8'></head>"
                             f"<body style=\"font-family: {FONT}\"></body></html>")
            page.add_script_tag(path=str(root / MERMAID_JS))
            page.evaluate("c => mermaid.initialize(c)", RENDER_CONFIG)
            results = page.evaluate(_RENDER_ALL, [list(i) for i in items])
        finally:
            browser.close()
    return [(ok, postprocess(svg, sid) if ok else svg) for (sid, _), (ok, svg) in zip(items, results)]


def postprocess(svg: str, sid: str) -> str:
    """Make a rendered SVG fit for inlining: plain href links, ids unique to this diagram."""
    svg = svg.replace("xlink:href=", "href=")
    # Mermaid's sequence renderer names some markers after the diagram rendered before it in the
    # same page: give every generated id this diagram's prefix, so the output depends on it alone.
    svg = re.sub(r"mmd-[0-9a-f]{12}", sid, svg)
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    bare = {i for i in ids if not i.startswith(sid)}
    if bare:
        def fix_id(m):
            return f' id="{sid}-{m.group(1)}"' if m.group(1) in bare else m.group(0)
        svg = re.sub(r'\sid="([^"]+)"', fix_id, svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{sid}-{m.group(1)})" if m.group(1) in bare else m.group(0), svg)
        svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{sid}-{m.group(1)}"' if m.group(1) in bare else m.group(0), svg)
    # Mermaid also numbers some ids with counters that run across renders (actor12, root-12): renumber
    # them in order of appearance.
    seen: dict[str, str] = {}

    def renumber(m):
        k = m.group(0)
        if k not in seen:
            seen[k] = f"{sid}-{m.group(1)}{len([x for x in seen if x.startswith(f'{sid}-{m.group(1)}')])}"
        return seen[k]
    svg = re.sub(re.escape(sid) + r"-(actor|root-)(\d+)\b", renumber, svg)
    return svg.strip() + "\n"


_LINKED_NODE = re.compile(r'(<a\b[^>]*>)(<g\b[^>]*\bclass="node[^"]*\bclickable\b[^"]*"[^>]*?)\stitle="([^"]*)"([^>]*>)(.*?</a>)', re.S)


def link_tooltips(svg: str) -> str:
    """A clickable node's tooltip (the third argument of ``click … href``) as an SVG <title>.

    Mermaid writes the tooltip as a ``title`` attribute of the node's <g> and shows it with its own
    script; no page loads that script, and browsers show hover text only for a <title> element. The
    <title> goes into a group around the link, not inside it, so the link's text stays the node's
    label (which is what screen readers announce and what the source-link checks read).
    """
    return _LINKED_NODE.sub(lambda m: f"<g><title>{m.group(3)}</title>{m.group(1)}{m.group(2)}{m.group(4)}{m.group(5)}</g>", svg)


def inline_svg(svg: str, caption: str, sid: str) -> str:
    """The cached SVG, named by the caption: <title> + aria-labelledby; role img unless it has links.

    Clickable nodes get their tooltip as a <title> (``link_tooltips``)."""
    svg = link_tooltips(svg)
    has_links = "<a " in svg
    role = "group" if has_links else "img"
    title = f'<title id="{sid}-title">{html.escape(caption, quote=False)}</title>'
    m = re.match(r"<svg\b([^>]*)>", svg)
    if not m:
        return svg
    attrs = re.sub(r'\srole="[^"]*"', "", m.group(1))
    width = re.search(r'max-width:\s*([\d.]+)px', attrs)
    if width:
        attrs = attrs.replace('style="', f'style="--insider-width: {float(width.group(1)):.0f}px; ', 1)
    return f'<svg{attrs} role="{role}" aria-labelledby="{sid}-title">{title}' + svg[m.end():]


# -- Sphinx --------------------------------------------------------------------------------------
def _setup_sphinx(app):  # noqa: C901  (one place for the Sphinx glue)
    from docutils import nodes
    from sphinx.builders.gettext import MessageCatalogBuilder, MsgOrigin
    from sphinx.locale import init as init_locale
    from sphinx.util import logging
    from sphinx.util.i18n import docname_to_domain
    from sphinxcontrib.mermaid import Mermaid, mermaid

    logger = logging.getLogger(__name__)

    class MermaidWithLine(Mermaid):
        """sphinxcontrib-mermaid's directive, remembering the line of the fence."""

        def run(self, **kwargs):
            result = super().run(**kwargs)
            for node in result:
                for m in node.findall(mermaid) if isinstance(node, nodes.Element) else []:
                    m["fence_line"] = self.lineno
                    m["body_offset"] = self.content_offset + 1  # 1-based line of the body's first line
            return result

    def project_root() -> Path:
        return Path(app.confdir)

    def mode() -> str:
        m = os.environ.get("INSIDER_DIAGRAMS", "")
        if m:
            return m
        return "cache-only" if os.environ.get("READTHEDOCS") else "render"

    def doc_gettext(docname: str):
        lang = app.config.language or "en"
        if lang == "en":
            return None
        dirs = [Path(app.srcdir) / d for d in app.config.locale_dirs]
        catalog, has = init_locale(dirs, lang, docname_to_domain(docname, app.config.gettext_compact))
        return catalog.gettext if has else None

    def on_doctree_read(app, doctree):
        env = app.env
        docname = env.docname
        lang = app.config.language or "en"
        version = mermaid_version(project_root())
        gettext = doc_gettext(docname)
        records = []
        for node in doctree.findall(mermaid):
            code = node["code"]
            if gettext is not None:
                code = translate(code, gettext)
            node["code"] = code
            key = cache_key(code, lang, version)
            node["insider_key"] = key
            records.append({"key": key, "line": node.get("fence_line") or node.line or 0, "code": normalize(code)})
        store = _store(env)
        store[docname] = records

    def _store(env) -> dict:
        if not hasattr(env, "insider_diagrams"):
            env.insider_diagrams = {}
        return env.insider_diagrams

    def on_purge(app, env, docname):
        _store(env).pop(docname, None)

    def on_merge(app, env, docnames, other):
        _store(env).update({d: r for d, r in _store(other).items() if d in docnames})

    def on_env_updated(app, env):
        if app.builder.format != "html":
            return
        root = project_root()
        lang = app.config.language or "en"
        store = _store(env)
        missing = []  # (docname, record)
        for docname in sorted(store):
            for rec in store[docname]:
                if not cache_path(root, lang, docname, rec["key"]).is_file():
                    missing.append((docname, rec))
        if missing:
            why = "INSIDER_DIAGRAMS=cache-only" if mode() == "cache-only" else browser_problem(root)
            if why:
                for docname, rec in missing:
                    logger.warning("Mermaid diagram not in the cache (%s): build once where Chromium is installed "
                                   "(`make html`), then commit %s/", why, CACHE,
                                   location=(docname, rec["line"]), type="insider", subtype="diagram")
            else:
                unique = {}
                for docname, rec in missing:
                    unique.setdefault(rec["key"], rec["code"])
                logger.info("rendering %d Mermaid diagram(s) with Chromium", len(unique))
                results = dict(zip(unique, render_all(root, [(svg_id(k), c) for k, c in unique.items()])))
                for docname, rec in missing:
                    ok, out = results[rec["key"]]
                    if ok:
                        path = cache_path(root, lang, docname, rec["key"])
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(out, encoding="utf-8")
                    else:
                        first = out.strip().splitlines()
                        logger.warning("Mermaid cannot render this diagram: %s", " ".join(first)[:400],
                                       location=(docname, rec["line"]), type="insider", subtype="diagram")
        if mode() != "cache-only" and set(env.found_docs) <= set(store):  # every page's diagrams are known
            for f in prune(root, lang, {(d, r["key"]) for d, recs in store.items() for r in recs}):
                logger.info("removed the unused diagram %s", f.relative_to(root))

    def html_visit_mermaid(self, node):
        root = project_root()
        lang = app.config.language or "en"
        key = node.get("insider_key")
        path = cache_path(root, lang, self.builder.current_docname, key) if key else None
        if not path or not path.is_file():
            self.body.append('<p class="insider-diagram-missing">(diagram not rendered)</p>')
            raise nodes.SkipNode
        caption = ""
        if isinstance(node.parent, nodes.figure):
            cap = next(iter(node.parent.findall(nodes.caption)), None)
            caption = cap.astext() if cap is not None else ""
        caption = caption or node.get("alt", "") or "Diagram"
        svg = inline_svg(path.read_text(encoding="utf-8"), caption, svg_id(key))
        ids = f' id="{node["ids"][0]}"' if node.get("ids") else ""
        self.body.append(f'<div class="insider-diagram"{ids} tabindex="0">{svg}</div>\n')
        raise nodes.SkipNode

    class DiagramMessageCatalogBuilder(MessageCatalogBuilder):
        """The gettext builder, extracting a diagram's translatable labels as the page's messages."""

        def write_doc(self, docname, doctree):
            super().write_doc(docname, doctree)
            catalog = self.catalogs[docname_to_domain(docname, self.config.gettext_compact)]
            source = str(self.env.doc2path(docname))
            for node in doctree.findall(mermaid):
                first = (node.get("body_offset") or node.get("fence_line") or 0)
                for text, offset in messages(node["code"]):
                    catalog.add(text, MsgOrigin(source, first + offset))

    # What goes into every key besides the diagram: when it changes, Sphinx re-reads every page.
    app.add_config_value("insider_diagram_renderer",
                         json.dumps([RENDERER, RENDER_CONFIG, mermaid_version(Path(app.confdir))], sort_keys=True), "env")
    app.add_directive("mermaid", MermaidWithLine, override=True)
    app.add_node(mermaid, override=True, html=(html_visit_mermaid, None))
    app.add_builder(DiagramMessageCatalogBuilder, override=True)
    app.connect("doctree-read", on_doctree_read, priority=600)  # after insider.resolve_pin_links (500)
    app.connect("env-purge-doc", on_purge)
    app.connect("env-merge-info", on_merge)
    app.connect("env-updated", on_env_updated)


def prune(root: Path, lang: str, wanted: set[tuple[str, str]]) -> list[Path]:
    """Delete cached SVGs of ``lang`` that no diagram uses; returns what was deleted."""
    base = root / CACHE / lang
    gone = []
    for f in sorted(base.rglob("*.svg")) if base.is_dir() else []:
        docname = f.parent.relative_to(base).as_posix()
        if (docname, f.stem) not in wanted:
            f.unlink()
            gone.append(f)
    for d in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True) if base.is_dir() else []:
        if not any(d.iterdir()):
            d.rmdir()
    return gone


def setup(app) -> dict:
    _setup_sphinx(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
