"""Drive Debian's Chromium through Playwright over a locally served copy of the site.

Used by test_browser.py and by the benchmark. Every check returns ``FILE:LINE: message`` strings
that point at the book's source where it can be found.
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import os
import re
import shutil
import socketserver
import threading
from pathlib import Path
from urllib.parse import urlsplit

from bookfiles import blocks

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# What Read the Docs (its CDN) sends gzip-compressed to a browser that accepts it.
GZIP_SUFFIXES = (".html", ".css", ".js", ".mjs", ".svg", ".json", ".xml", ".txt", ".map")


class _GzipHandler(_QuietHandler):
    """Like Read the Docs: text responses gzip-compressed when the client accepts gzip."""

    def do_GET(self):
        path = self.translate_path(self.path)
        if (os.path.isdir(path) or not os.path.isfile(path) or not path.endswith(GZIP_SUFFIXES)
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve(directory: Path, compress: bool = False):
    """Serve a folder on 127.0.0.1 (a free port) for the duration of the block; ``compress``
    gzips text responses as Read the Docs does."""
    handler = functools.partial(_GzipHandler if compress else _QuietHandler, directory=str(directory))
    socketserver.TCPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        t = threading.Thread(target=httpd.serve_forever, daemon=True)
        t.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is not installed: run `bash tools/ensure-system-deps.sh` as root "
                           "(apt-get install chromium); Playwright cannot download a browser here")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def site_pages(site: Path) -> list[str]:
    """Every page of both editions, as paths relative to the site root."""
    return sorted(f.relative_to(site).as_posix() for f in site.rglob("*.html")
                  if "_static" not in f.relative_to(site).parts)


def source_of(root: Path, rel: str) -> Path | None:
    parts = rel.split("/")
    if len(parts) < 2:
        return None
    md = root / "book" / Path(*parts[1:]).with_suffix(".md")
    return md if md.exists() else None


class PageVisit:
    """One page load at a time: what went wrong in the console and on the network.

    Each visit gets a fresh browser page, and events are recorded only for the current one, so a
    request that the previous page still had in flight (and that navigation aborts) is not blamed
    on the next page."""

    def __init__(self, context, base: str):
        self.base = base
        self.context = context
        self.page = None
        self.errors: list[str] = []
        self.requests: list[str] = []

    def _record(self, page, message: str | None) -> None:
        if message and page is self.page:
            self.errors.append(message)

    def open(self, rel: str):
        if self.page is not None:
            self.page.close()
        self.errors = []
        self.requests = []
        page = self.page = self.context.new_page()
        page.on("request", lambda r: self.requests.append(r.url) if page is self.page else None)
        page.on("console", lambda m: self._record(page, f"console error: {m.text}" if m.type == "error" else None))
        page.on("pageerror", lambda e: self._record(page, f"uncaught exception: {e}"))
        page.on("requestfailed", lambda r: self._record(page, f"failed request: {r.url} ({r.failure})"
                                                        if urlsplit(r.url).hostname in LOCAL_HOSTS else None))
        page.on("response", lambda r: self._record(page, f"HTTP {r.status} for {r.url}" if r.status >= 400 else None))
        page.goto(f"{self.base}/{rel}", wait_until="load")
        return page


def new_context(b, outside: list[str]):
    """A browser context that blocks, and records, any request to a host other than the site."""
    ctx = b.new_context()

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    return ctx


DIAGRAMS = """() => Array.from(document.querySelectorAll('figure .insider-diagram, .insider-diagram')).map(d => {
  const svg = d.querySelector(':scope > svg');
  if (!svg) return {svg: false};
  const label = svg.getAttribute('aria-labelledby');
  const title = label ? document.getElementById(label) : null;
  const cap = d.closest('figure') ? d.closest('figure').querySelector('figcaption .caption-text') : null;
  return {svg: true, error: svg.getAttribute('aria-roledescription') === 'error' || /Syntax error/.test(svg.textContent),
          links: Array.from(svg.querySelectorAll('a')).map(a => a.getAttribute('href') || a.getAttribute('xlink:href')),
          name: title ? title.textContent.trim() : '', caption: cap ? cap.textContent.trim() : '',
          role: svg.getAttribute('role')};
})"""
PIN_CLICK = re.compile(r'^\s*click\s+\S+\s+href\s+"pin:', re.M)


# The theme's icon script and fonts (replaced by insider-icons.css), and the search index off the search page.
UNNEEDED_ASSET = re.compile(r"/fontawesome\.js$|/webfonts/|\.woff2?$")
SEARCH_ONLY_ASSET = re.compile(r"/searchindex\.js$|/searchtools\.js$|/language_data\.js$")


def check_page(visit: PageVisit, rel: str, root: Path, outside: list[str]) -> list[str]:
    """Load one page and report console errors, failed or outside requests, Mermaid JavaScript,
    diagrams that are not an SVG named by their caption with one link per ``pin:`` click, copy buttons."""
    problems: list[str] = []
    md = source_of(root, rel)
    where = md.relative_to(root).as_posix() if md else rel
    outside.clear()
    page = visit.open(rel)
    # let lazily loaded chunks finish, so that leaving the page aborts nothing in flight
    try:
        page.wait_for_load_state("networkidle", timeout=10000)
    except Exception:
        pass
    for e in visit.errors:
        problems.append(f"{where}:1: ({rel}) {e}")
    for url in outside:
        problems.append(f"{where}:1: ({rel}) request to a host other than the site: {url}")
    for url in visit.requests:
        path = urlsplit(url).path
        if UNNEEDED_ASSET.search(path) or (SEARCH_ONLY_ASSET.search(path) and not rel.endswith("/search.html")):
            problems.append(f"{where}:1: ({rel}) loads {path}, which this page does not need (icons come from "
                            "_static/insider-icons.css; the search scripts belong to search.html)")
    for url in visit.requests:
        if "mermaid" in urlsplit(url).path.lower():
            problems.append(f"{where}:1: ({rel}) the page loads Mermaid JavaScript ({url}): diagrams are rendered when the book is built")
    if page.locator("pre.mermaid, script[src*=mermaid]").count():
        problems.append(f"{where}:1: ({rel}) the page has a Mermaid block for the browser to render")
    states = page.evaluate(DIAGRAMS)
    fences = [b for b in blocks(md) if b.lang == "mermaid"] if md else []
    if md and len(states) != len(fences):
        problems.append(f"{where}:1: ({rel}) {len(fences)} Mermaid diagrams in the source but {len(states)} on the page")
    for i, s in enumerate(states):
        line = fences[i].line if i < len(fences) else 1
        name = f"{where}:{line}: ({rel}) Mermaid diagram {i + 1}"
        if not s["svg"]:
            problems.append(f"{name} is not an inline SVG")
            continue
        if s["error"]:
            problems.append(f"{name} is a syntax error (Mermaid drew its error image)")
        if not s["name"] or (s["caption"] and s["name"] != s["caption"]):
            problems.append(f"{name} is not named by its caption (<title> + aria-labelledby): {s['name'][:60]!r}")
        if i < len(fences):
            clicks = len(PIN_CLICK.findall(fences[i].body))
            pinned = [h for h in s["links"] if h and h.startswith("https://github.com/")]
            if clicks != len(pinned):
                problems.append(f"{name} has {clicks} pin: clicks in the source but {len(pinned)} source links in its SVG")
    code = page.locator("div.highlight pre").count()
    buttons = page.locator("div.highlight button.copybtn").count()
    if code != buttons:
        problems.append(f"{where}:1: ({rel}) {code} code blocks but {buttons} copy buttons")
    return problems
