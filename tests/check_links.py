#!/usr/bin/env python3
"""Check the book's links, in the sources and in a built site.

Sources (``book/**/*.md`` and the Chinese catalogs): no hand-written URL into the pinned
repositories; links into Envoy, Istio, istio/proxy and ztunnel are made with the roles
(``{envoy}`text <path#Lx-Ly>```) or, in Mermaid, ``pin:TREE/path#Lx-Ly``, so they are built from
the pins in conf.py.

Built HTML (both editions):
* every internal ``href``/``src`` resolves to a file of the site, and every ``#anchor`` to an id
  on the target page;
* every link into those repositories (``<a href>`` and Mermaid click targets) uses the pinned
  ref, and, when ``../shared/source-pins/manifest.json.gz`` is present, names a file or folder
  that exists at the pin with line anchors inside the file.

Usage: check_links.py [SITE_DIR]   (default: sources only)
Prints ``FILE:LINE: message`` per problem; exit status 1 if there is any.
"""
from __future__ import annotations

import gzip
import html.parser
import json
import re
import runpy
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import ROOT, find_line, pages  # noqa: E402

UPSTREAM = re.compile(
    r"https?://github\.com/(envoyproxy/envoy|istio/istio|istio/proxy|istio/ztunnel)"
    r"/(blob|tree|raw|commits?)/([^/\s\"'<>)]+)/?([^#\s\"'<>)]*)(?:#L(\d+)(?:-L(\d+))?)?")
MANIFEST = ROOT.parent / "shared" / "source-pins" / "manifest.json.gz"


def pins(root: Path = ROOT) -> dict[str, str]:
    """GitHub repository -> pinned ref, read from conf.py (the one place the pins live)."""
    conf = runpy.run_path(str(root / "conf.py"))
    return {repo: ref for repo, ref in conf["PINS"].values()}


@lru_cache(maxsize=1)
def manifest() -> dict | None:
    if not MANIFEST.exists():
        return None
    data = json.load(gzip.open(MANIFEST, "rt"))
    return {v["github"]: v for v in data.values()}


# -- sources ------------------------------------------------------------------------------------------
def check_sources(root: Path = ROOT) -> list[str]:
    problems = []
    for page in pages(root):
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for m in UPSTREAM.finditer(line):
                problems.append(
                    f"{page.relative_to(root)}:{n}: hand-written link into {m.group(1)} ({m.group(0)[:90]}): "
                    f"write it with the {{{_role(m.group(1))}}} role (or pin:{_role(m.group(1))}/PATH in Mermaid) "
                    "so it is built from the pins in conf.py")
    for po_path in sorted((root / "locales").rglob("*.po")):
        for e in polib.pofile(str(po_path)):
            for m in UPSTREAM.finditer(e.msgstr):
                problems.append(f"{po_path.relative_to(root)}:{e.linenum}: hand-written link into {m.group(1)} "
                                f"in a translation ({m.group(0)[:90]}): keep the English role markup")
    return problems


def _role(repo: str) -> str:
    return {"envoyproxy/envoy": "envoy", "istio/istio": "istio", "istio/proxy": "proxy", "istio/ztunnel": "ztunnel"}[repo]


# -- built HTML ----------------------------------------------------------------------------------------
class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, int]] = []   # (attribute value, tag, line in the HTML)
        self.mermaid: list[tuple[str, int]] = []     # (diagram text, line in the HTML)
        self._in_mermaid = 0
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") == "alternate"):
                self.refs.append((a[key], tag, self.getpos()[0]))
        if tag == "pre" and "mermaid" in (a.get("class") or "").split():
            self._in_mermaid, self._text = self.getpos()[0], []

    def handle_data(self, data):
        if self._in_mermaid:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "pre" and self._in_mermaid:
            self.mermaid.append(("".join(self._text), self._in_mermaid))
            self._in_mermaid = 0


def _needles(m: re.Match | None) -> list[str]:
    """What to look for in the source to find an upstream link: path#Lx, then path."""
    if not m:
        return []
    path, l1 = m.group(4), m.group(5)
    return ([f"{path}#L{l1}"] if l1 else []) + [path]


def _source_of(site: Path, html_file: Path, root: Path, *needles: str) -> str:
    """Where a problem in a built page comes from: book/<page>.md:LINE when a needle is found."""
    rel = html_file.relative_to(site)
    page = root / "book" / Path(*rel.parts[1:]).with_suffix(".md")
    if page.exists():
        n = next((find_line(page, x) for x in needles if x and find_line(page, x)), 0)
        return f"{page.relative_to(root)}:{n or 1}"
    return str(rel)


def check_upstream_url(url: str, pinned: dict[str, str]) -> str | None:
    m = UPSTREAM.match(url)
    if not m:
        return None
    repo, kind, ref, path, l1, l2 = m.groups()
    want = pinned.get(repo)
    if ref != want:
        return f"link into {repo} at {ref!r}, not at the pin {want!r}: write it with the {{{_role(repo)}}} role"
    man = manifest()
    if man and repo in man:
        info = man[repo]
        path = unquote(path).rstrip("/")
        if kind == "blob" and path not in info["files"]:
            return f"{repo} has no file {path!r} at the pin" + (" (it is a folder: use the -tree role)" if path in info["dirs"] else "")
        if kind == "tree" and path and path not in info["dirs"]:
            return f"{repo} has no folder {path!r} at the pin"
        if l1:
            lines = info["files"].get(path, 0)
            hi = int(l2 or l1)
            if not (1 <= int(l1) <= hi <= lines):
                return f"lines {l1}-{hi} lie outside {path} ({lines} lines at the pin)"
    return None


def check_site(site: Path, root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    pinned = pins(root)
    parsed: dict[Path, _Page] = {}

    def parse(f: Path) -> _Page:
        if f not in parsed:
            p = _Page()
            p.feed(f.read_text(encoding="utf-8", errors="replace"))
            parsed[f] = p
        return parsed[f]

    # _static/ holds the theme's own template fragments, not pages of the book
    html_files = sorted(f for f in site.rglob("*.html") if "_static" not in f.relative_to(site).parts)
    for f in html_files:
        page = parse(f)
        where = f.relative_to(site)
        for ref, tag, line in page.refs:
            if ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            if re.match(r"^(https?:)?//", ref):
                why = check_upstream_url(ref, pinned)
                if why:
                    m = UPSTREAM.match(ref)
                    problems.append(f"{_source_of(site, f, root, *_needles(m))}: "
                                    f"({where}:{line}) {why}")
                continue
            parts = urlsplit(ref)
            target = (f.parent / unquote(parts.path)).resolve() if parts.path else f
            if parts.path and target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{_source_of(site, f, root, parts.path)}: ({where}:{line}) dead link {ref!r}: "
                                f"no file {target.relative_to(site.resolve()) if target.is_relative_to(site.resolve()) else target}")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in parse(target).ids:
                    problems.append(f"{_source_of(site, f, root, '#' + parts.fragment)}: ({where}:{line}) dead anchor "
                                    f"{ref!r}: {target.name} has no id {parts.fragment!r}")
        for text, line in page.mermaid:
            for m in UPSTREAM.finditer(text):
                why = check_upstream_url(m.group(0), pinned)
                if why:
                    problems.append(f"{_source_of(site, f, root, *_needles(m))}: ({where}:{line}) Mermaid link: {why}")
            for m in re.finditer(r"pin:[a-z]+/\S+", text):
                problems.append(f"{_source_of(site, f, root, m.group(0)[:40])}: ({where}:{line}) Mermaid link "
                                f"{m.group(0)!r} was not resolved (unknown tree?)")
    return problems


def main(argv: list[str]) -> int:
    problems = check_sources(ROOT)
    if argv:
        problems += check_site(Path(argv[0]).resolve(), ROOT)
    for p in problems:
        print(p)
    if manifest() is None:
        print(f"note: {MANIFEST} not found: link paths and line ranges were not checked against the pins' manifest")
    print(f"links: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
