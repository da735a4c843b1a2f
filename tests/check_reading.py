#!/usr/bin/env python3
"""Check the book's reading layer (issue 9): what makes a page easy to read, from the sources.

1. Every content page (``book/**/*.md`` except the ``index.md`` pages and the glossary) opens with
   an In short box, ````{admonition} In short```` with ``:class: in-short``, between its title
   and its first section (``##``).
2. The glossary (``book/glossary.md``) defines at least ``MIN_TERMS`` terms.
3. No paragraph has more than ``MAX_SOURCE_LINKS`` source-role links (``{envoy}``, ``{istio}``,
   ``{proxy}``, ``{ztunnel}`` and their ``-tree`` forms); tables are exempt, a list item counts as
   a paragraph of its own, and prose inside boxes (admonitions) counts like any other.
4. No page and no catalog links the ``latest`` upstream docs; ``{envoy-docs}`` and
   ``{istio-docs}`` point at the pinned versions.
5. The Chinese catalogs use the glossary's renderings: no ``msgstr`` carries a rendering that
   ``/work/shared/GLOSSARY.md`` (the project's term list) rules out, as far as a pattern can tell
   without false alarms (see ``BANNED``).

Usage: check_reading.py [PROJECT_ROOT]
Prints ``FILE:LINE: message`` per problem; exit status 1 if there is any.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import FENCE, LEAF_DIRECTIVES, ROOT, pages, report  # noqa: E402

MIN_TERMS = 40
MAX_SOURCE_LINKS = 5
SOURCE_ROLE = re.compile(r"\{(?:envoy|istio|proxy|ztunnel)(?:-tree)?\}`")
LATEST = re.compile(r"(?:https?://)?(?:www\.)?(?:envoyproxy\.io/docs/envoy/latest|istio\.io/latest|istio\.io/docs/)"
                    r"[^\s)\]>\"'`，。、）]*")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Renderings GLOSSARY.md rules out, each with the rendering to use instead. Only patterns that
# cannot match a correct sentence are listed (抓取 is not: it is the right word for scraping
# metrics; bare 全量/增量 are not: they are right for istiod's full and incremental pushes).
BANNED: list[tuple[re.Pattern, str]] = [
    (re.compile(r"锁定版本|钉住"), "pin is 固定版本"),
    (re.compile(r"代理程序"), "pilot-agent stays pilot-agent (代理 is the proxy)"),
    (re.compile(r"鉴权"), "authorization is 授权"),
    (re.compile(r"(?:全量|增量)(?:流(?!量)|模式|协议|（(?:SotW|Delta|delta)）)"),
     "the xDS protocol variants are SotW / Delta (SotW 流、Delta 流); 全量/增量 only for istiod's pushes"),
    (re.compile(r"(?<!居)住在"), "no calque of \"lives on\" (say 运行在 / 属于 / 位于)"),
    (re.compile(r"赛跑"), "no calque of \"race\" (say 竞争 / 竞态)"),
    # "pin" left in Chinese prose; the gloss 固定版本（pin） is fine.
    (re.compile(r"(?<![\w（(-])pin(?:s|ned)?(?![\w）)-])", re.I), "pin is 固定版本 (never bare \"pin\" in Chinese prose)"),
]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def content_pages(root: Path = ROOT) -> list[Path]:
    """The pages that carry the reading layer: not the index pages, not the glossary."""
    book = root / "book"
    return [p for p in pages(root) if p.name != "index.md" and p.relative_to(book).as_posix() != "glossary.md"]


# -- the lines of a page, by what they are -------------------------------------------------------------
def prose_lines(lines: list[str]) -> list[tuple[int, str | None]]:
    """(line number, text) for every line of a MyST page; text is None where the line is not prose:
    a fence line, a directive option, or anything inside a code block, a diagram or another leaf
    directive. Prose inside an admonition (or any directive whose body is MyST) stays prose."""
    out: list[tuple[int, str | None]] = []
    stack: list[tuple[str, bool]] = []      # (closing marker, body is prose)
    options = False                         # directive option lines right after an opening fence
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if m or re.match(r"^\s*:{3,}", line):
            marker, info = (m.group("marker"), m.group("info")) if m else _colon_fence(line)
            if stack and marker[0] == stack[-1][0][0] and len(marker) >= len(stack[-1][0]) and not info.strip():
                stack.pop()
                out.append((n, None))
                continue
            if not stack or stack[-1][1]:
                lang = info.strip().split()[0].strip("{}").lower() if info.strip() else ""
                directive = info.strip().startswith("{")
                stack.append((marker, directive and lang not in LEAF_DIRECTIVES))
                options = directive
                out.append((n, None))
                continue
        if stack and not stack[-1][1]:
            out.append((n, None))
            continue
        if options and re.match(r"^\s*:[\w-]+:", line):
            out.append((n, None))
            continue
        options = False
        out.append((n, line))
    return out


def _colon_fence(line: str) -> tuple[str, str]:
    m = re.match(r"^\s*(:{3,})(.*)$", line)
    return m.group(1), m.group(2)


def first_heading(lines: list[str], level: int) -> int:
    """Line number (1-based) of the first heading of exactly this level outside code, or 0."""
    prefix = "#" * level + " "
    for n, text in prose_lines(lines):
        if text is not None and text.startswith(prefix):
            return n
    return 0


# -- 1. the In short box --------------------------------------------------------------------------------
IN_SHORT = re.compile(r"^(`{3,}|~{3,}|:{3,})\{admonition\}\s+In short\s*$")


def missing_in_short(root: Path = ROOT) -> list[str]:
    problems = []
    for page in content_pages(root):
        lines = page.read_text(encoding="utf-8").splitlines()
        title = first_heading(lines, 1)
        if not title:
            problems.append(f"{_rel(page, root)}:1: the page has no title (`# ...`), so no In short box under it")
            continue
        section = first_heading(lines, 2) or len(lines) + 1
        box = next((n for n in range(title + 1, section) if IN_SHORT.match(lines[n - 1].strip())), 0)
        where = f"{_rel(page, root)}:{title}"
        if not box:
            problems.append(f"{where}: no In short box between the title {lines[title - 1].strip()!r} and the first "
                            "section: add ```{admonition} In short``` with :class: in-short (3-5 sentences)")
            continue
        opts = []
        for line in lines[box:section - 1]:
            if not re.match(r"^\s*:[\w-]+:", line):
                break
            opts.append(line)
        if not any(re.match(r"^\s*:class:.*\bin-short\b", o) for o in opts):
            problems.append(f"{_rel(page, root)}:{box}: the In short box under {lines[title - 1].strip()!r} "
                            "needs the option :class: in-short")
    return problems


# -- 2. the glossary ----------------------------------------------------------------------------------------
def glossary_terms(root: Path = ROOT) -> list[tuple[str, int]]:
    """(term, line) for every entry of the {glossary} directive(s) in book/glossary.md."""
    page = root / "book" / "glossary.md"
    if not page.exists():
        return []
    lines = page.read_text(encoding="utf-8").splitlines()
    terms, inside, marker = [], False, ""
    for n, line in enumerate(lines, 1):
        if not inside:
            g = re.match(r"^(`{3,}|~{3,}|:{3,})\{glossary\}", line)
            if g:
                inside, marker = True, g.group(1)
            continue
        if line.strip() == marker:
            inside = False
            continue
        if line.strip() and not line[0].isspace() and not line.startswith(":"):
            terms.append((line.strip(), n))
    return terms


def glossary_too_small(root: Path = ROOT, minimum: int = MIN_TERMS) -> list[str]:
    page = root / "book" / "glossary.md"
    if not page.exists():
        return [f"book/glossary.md:1: no glossary page (label `glossary`, a {{glossary}} directive of at least {minimum} terms)"]
    terms = glossary_terms(root)
    if len(terms) < minimum:
        start = next((n for n, l in enumerate(page.read_text(encoding="utf-8").splitlines(), 1) if "{glossary}" in l), 1)
        return [f"book/glossary.md:{start}: the glossary defines {len(terms)} terms; at least {minimum} expected"]
    return []


# -- 3. source links per paragraph ----------------------------------------------------------------------------
LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s")


def paragraphs(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(first line, lines) of every prose paragraph; a list item starts a paragraph of its own."""
    out: list[tuple[int, list[str]]] = []
    cur: list[str] = []
    start = 0
    for n, text in prose_lines(lines) + [(len(lines) + 1, None)]:
        if text is None or not text.strip() or text.lstrip().startswith("#") or (cur and LIST_ITEM.match(text)):
            if cur:
                out.append((start, cur))
            cur = []
            if text is None or not text.strip() or text.lstrip().startswith("#"):
                continue
        if not cur:
            start = n
        cur.append(text)
    return out


def crowded_paragraphs(root: Path = ROOT, limit: int = MAX_SOURCE_LINKS) -> list[str]:
    problems = []
    for page in pages(root):
        for start, para in paragraphs(page.read_text(encoding="utf-8").splitlines()):
            if para[0].lstrip().startswith("|"):
                continue  # a table
            k = len(SOURCE_ROLE.findall("\n".join(para)))
            if k > limit:
                problems.append(f"{_rel(page, root)}:{start}: a paragraph with {k} source links (at most {limit}: link "
                                "each symbol once, let the diagram carry the path, or split the walk into numbered steps)")
    return problems


# -- 4. links to `latest` -----------------------------------------------------------------------------------
def latest_links(root: Path = ROOT) -> list[str]:
    problems = []
    files = pages(root) + sorted((root / "locales").rglob("*.po"))
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for m in LATEST.finditer(line):
                problems.append(f"{_rel(f, root)}:{n}: link to the latest upstream docs ({m.group(0)[:80]}): use "
                                "{envoy-docs} or {istio-docs}, which point at the pinned versions")
    return problems


# -- 5. the glossary's renderings in the Chinese catalogs --------------------------------------------------------
def _prose(text: str) -> str:
    """A msgstr without roles, inline code, link targets, URLs and substitutions."""
    text = re.sub(r"\{[\w-]+\}`[^`]*`", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^<>]*>", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    return re.sub(r"\{\{[^}]*\}\}", " ", text)


def banned_renderings(root: Path = ROOT) -> list[str]:
    problems = []
    for po_path in sorted((root / "locales").rglob("*.po")):
        for e in polib.pofile(str(po_path)):
            if not e.msgstr or not CJK.search(e.msgstr):
                continue
            text = _prose(e.msgstr)
            for pattern, rule in BANNED:
                for found in dict.fromkeys(m.group(0) for m in pattern.finditer(text)):
                    problems.append(f"{_rel(po_path, root)}:{e.linenum}: {found!r} is not the glossary's "
                                    f"rendering: {rule}")
    return problems


def check(root: Path = ROOT) -> list[str]:
    return (missing_in_short(root) + glossary_too_small(root) + crowded_paragraphs(root)
            + latest_links(root) + banned_renderings(root))


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    return report(check(root), "reading layer")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
