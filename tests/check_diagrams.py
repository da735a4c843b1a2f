#!/usr/bin/env python3
"""Check that the rendered diagrams in ``diagrams/`` are in step with the book's sources.

Every ``{mermaid}`` diagram of every page, in each edition, must have its SVG at
``diagrams/<lang>/<page>/<key>.svg``, where the key hashes the diagram as the build renders it:
its body with ``pin:`` links resolved, in the Chinese edition with its labels translated from the
page's catalog, plus the Mermaid version and render configuration (``_ext/diagrams.py``). A
diagram without its SVG is named by the page's file and the line of its fence; an SVG that no
diagram renders to any more (the diagram or its translation changed, the page moved) is named by
its path. Read the Docs builds from these files alone: it has no browser to render them.

Fix: build the edition where Chromium is installed (``make html``): it renders what is missing
and deletes what is stale; then commit ``diagrams/``.

Usage: check_diagrams.py [PROJECT_ROOT]
Prints ``FILE:LINE: message`` per problem; exit status 1 if there is any.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import ROOT, blocks, pages, report  # noqa: E402

LANGS = ("en", "zh_CN")


def _ext(root: Path):
    sys.path.insert(0, str(root / "_ext"))
    import diagrams  # noqa: E402
    import insider  # noqa: E402
    return diagrams, insider


def directive_body(body: str) -> str:
    """A MyST directive's content: the body without its leading ``:option:`` lines."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(":"):
        i += 1
    return "\n".join(lines[i:])


def catalog(root: Path, lang: str, docname: str):
    """gettext for one page's catalog, as the build reads it (no fuzzy or empty entries)."""
    po = root / "locales" / lang / "LC_MESSAGES" / f"{docname}.po"
    if not po.exists():
        return lambda s: s
    table = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.msgstr and "fuzzy" not in e.flags}
    return lambda s: table.get(s, s)


def wanted(root: Path = ROOT) -> dict[tuple[str, str, str], str]:
    """(lang, docname, key) → book/<page>.md:<fence line>, for every diagram of every edition."""
    diagrams, insider = _ext(root)
    pins = runpy.run_path(str(root / "conf.py"))["PINS"]
    version = diagrams.mermaid_version(root)
    out: dict[tuple[str, str, str], str] = {}
    for page in pages(root):
        docname = page.relative_to(root / "book").with_suffix("").as_posix()
        fences = [b for b in blocks(page) if b.lang == "mermaid" and b.info.strip() == "{mermaid}"]
        for lang in LANGS:
            gettext = catalog(root, lang, docname) if lang != "en" else None
            for b in fences:
                code = insider.resolve_pins(directive_body(b.body), pins)
                if gettext:
                    code = diagrams.translate(code, gettext)
                key = diagrams.cache_key(code, lang, version)
                out.setdefault((lang, docname, key), f"{page.relative_to(root).as_posix()}:{b.line}")
    return out


def check(root: Path = ROOT) -> list[str]:
    diagrams, _ = _ext(root)
    want = wanted(root)
    problems = []
    for (lang, docname, key), where in sorted(want.items(), key=lambda kv: kv[1]):
        path = diagrams.cache_path(root, lang, docname, key)
        if not path.is_file():
            problems.append(f"{where}: the {lang} rendering of this diagram is not in the cache "
                            f"({path.relative_to(root)}): build it where Chromium is installed "
                            f"(make html-{lang}) and commit {diagrams.CACHE}/")
    cache = root / diagrams.CACHE
    for f in sorted(cache.rglob("*")) if cache.is_dir() else []:
        if f.is_dir():
            continue
        rel = f.relative_to(cache)
        lang, docname, key = rel.parts[0], Path(*rel.parts[1:]).parent.as_posix(), f.stem
        if f.suffix != ".svg" or (lang, docname, key) not in want:
            problems.append(f"{f.relative_to(root)}:1: stale rendering: no diagram of book/{docname}.md "
                            f"({lang}) renders to it any more; delete it (a `make html-{lang}` deletes it)")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    return report(check(root), "diagrams")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
