#!/usr/bin/env python3
"""Check that the Chinese catalogs are complete and in step with the English sources.

1. Re-extract the messages of the English pages into a temporary folder (Sphinx's gettext
   builder, one .pot per page) and compare each with its ``locales/zh_CN/LC_MESSAGES/*.po``:
   a page without a catalog, a message missing from the catalog (the English changed and
   ``make intl`` was not run) and a message the English no longer has (obsolete) all fail.
2. Every entry is translated: no empty ``msgstr``, no ``#, fuzzy``, no ``msgstr`` that copies the
   English, no Chinese ``msgstr`` with an English sentence left inside, and every role target
   (source link, cross-reference) kept exactly as in the English.

Usage: check_catalogs.py [PROJECT_ROOT]
Prints ``FILE:LINE: message`` per problem; exit status 1 if there is any.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import ROOT, find_line, report  # noqa: E402

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")
ROLE = re.compile(r"\{[\w-]+\}`([^`\s][^`]*)`")
EXPLICIT_TARGET = re.compile(r"<([^<>`]+)>\s*$")


def role_targets(text: str) -> list[str]:
    """The target of every role in a message: ``<target>`` when the role has one, otherwise its text
    (so ``{term}`downstream``` and ``{term}`下游 <downstream>``` both target ``downstream``)."""
    out = []
    for m in ROLE.finditer(text):
        explicit = EXPLICIT_TARGET.search(m.group(1))
        out.append(explicit.group(1) if explicit else m.group(1).strip())
    return sorted(out)
ENGLISH_RUN = re.compile(r"(?:\b[A-Za-z][a-z]+\b[ ,;]+){7,}[A-Za-z][a-z]+")


def _prose(text: str) -> str:
    """Text without inline code, roles' targets, link targets and URLs: English there is not prose."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>]*>", " ", text)
    return re.sub(r"https?://\S+", " ", text)


def extract(root: Path, outdir: Path) -> None:
    cmd = [sys.executable, "-m", "sphinx", "-b", "gettext", "-c", str(root), "-q",
           "-d", str(outdir / ".doctrees"), str(root / "book"), str(outdir)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if p.returncode:
        raise RuntimeError(f"message extraction failed:\n{p.stdout}{p.stderr}")


def _source_line(root: Path, page: Path, msgid: str) -> str:
    """book/<page>.md:LINE for a message, found by its first words."""
    rel = page.relative_to(root)
    if not page.exists():
        return str(rel)
    first = msgid.strip().splitlines()[0] if msgid.strip() else msgid
    for needle in (first[:60], first[:30], first[:15]):
        n = find_line(page, needle)
        if n:
            return f"{rel}:{n}"
    return f"{rel}:1"


def check(root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    locale = root / "locales" / "zh_CN" / "LC_MESSAGES"
    with tempfile.TemporaryDirectory(prefix="insider-gettext-") as tmp:
        extract(root, Path(tmp))
        pots = {p.relative_to(tmp).with_suffix(""): p for p in Path(tmp).rglob("*.pot")}
        for rel, pot_path in sorted(pots.items()):
            page = root / "book" / rel.with_suffix(".md")
            po_path = locale / rel.with_suffix(".po")
            po_rel = po_path.relative_to(root)
            pot = polib.pofile(str(pot_path))
            if not po_path.exists():
                problems.append(f"{page.relative_to(root)}:1: no Chinese catalog {po_rel}: run `make intl` and translate it")
                continue
            po = polib.pofile(str(po_path))
            have = {(e.msgctxt, e.msgid): e for e in po}
            want = {(e.msgctxt, e.msgid) for e in pot}
            for key in sorted(want - have.keys(), key=lambda k: k[1]):
                problems.append(f"{_source_line(root, page, key[1])}: message missing from {po_rel} "
                                f"(run `make intl`, then translate it): {key[1][:80]!r}")
            for key, e in have.items():
                if key not in want:
                    problems.append(f"{po_rel}:{e.linenum}: obsolete message, no longer in {page.relative_to(root)} "
                                    f"(run `make intl`): {e.msgid[:80]!r}")
            for e in po.obsolete_entries():
                problems.append(f"{po_rel}:{e.linenum}: obsolete (#~) entry left in the catalog (run `make intl`)")
            for e in po:
                if (e.msgctxt, e.msgid) not in want:
                    continue
                if "fuzzy" in e.flags:
                    problems.append(f"{po_rel}:{e.linenum}: fuzzy translation (review it, then remove the fuzzy flag): {e.msgid[:80]!r}")
                elif not e.msgstr.strip():
                    problems.append(f"{po_rel}:{e.linenum}: untranslated: {e.msgid[:80]!r}")
                elif e.msgstr.strip() == e.msgid.strip() and len(WORD.findall(_prose(e.msgid))) >= 5 and not CJK.search(e.msgstr):
                    problems.append(f"{po_rel}:{e.linenum}: msgstr copies the English instead of translating it: {e.msgid[:80]!r}")
                elif not CJK.search(e.msgstr) and len(WORD.findall(_prose(e.msgid))) >= 5:
                    problems.append(f"{po_rel}:{e.linenum}: msgstr has no Chinese: {e.msgstr[:80]!r}")
                elif role_targets(e.msgstr) != role_targets(e.msgid):
                    diff = sorted(set(role_targets(e.msgstr)) ^ set(role_targets(e.msgid)))
                    problems.append(f"{po_rel}:{e.linenum}: the translation's link targets differ from the English "
                                    f"(keep every role target exactly as in the msgid): {diff[:4]}")
                elif CJK.search(e.msgstr) and ENGLISH_RUN.search(_prose(e.msgstr)):
                    run = ENGLISH_RUN.search(_prose(e.msgstr)).group(0)
                    problems.append(f"{po_rel}:{e.linenum}: an English sentence is left inside the translation: {run[:80]!r}")
        for po_path in sorted(locale.rglob("*.po")):
            rel = po_path.relative_to(locale).with_suffix("")
            if rel not in pots:
                problems.append(f"{po_path.relative_to(root)}:1: catalog for a page that does not exist (book/{rel}.md)")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    return report(check(root), "catalogs")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
