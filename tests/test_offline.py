"""The offline editions: EPUB and PDF of both languages build without warnings, the EPUB passes
epubcheck, every diagram is in both with its caption, the PDF embeds every font and misses no glyph,
and no line of text runs off a PDF page (code blocks and tables wrap).

These builds are the slowest part of the suite (XeLaTeX over the whole book); they run once per
session, both languages side by side.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest

from bookfiles import ROOT, blocks, pages
from conftest import BUILD, LANGS, BuildResult, sphinx_build

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
OFFLINE = BUILD / "offline"
BASENAME = "istio-envoy-insider"


@dataclass
class Offline:
    lang: str
    epub: BuildResult
    latex: BuildResult
    pdf: Path | None
    latex_log: str


def _missing_tools() -> list[str]:
    need = [t for t in ("xelatex", "latexmk", "pdffonts", "pdftotext", "java") if not shutil.which(t)]
    if not EPUBCHECK_JAR.exists():
        need.append(str(EPUBCHECK_JAR))
    return need


def _build(lang: str) -> Offline:
    epub = sphinx_build(ROOT, lang, OFFLINE / "epub" / lang, builder="epub")
    latex = sphinx_build(ROOT, lang, OFFLINE / "latex" / lang, builder="latex")
    pdf, log = None, ""
    tex = OFFLINE / "latex" / lang / f"{BASENAME}.tex"
    if latex.returncode == 0 and tex.exists():
        p = subprocess.run(["latexmk", "-r", "latexmkrc", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error",
                            tex.name], cwd=tex.parent, capture_output=True, text=True, errors="replace")
        logfile = tex.with_suffix(".log")
        log = logfile.read_text(encoding="utf-8", errors="replace") if logfile.exists() else p.stdout + p.stderr
        if p.returncode == 0 and tex.with_suffix(".pdf").exists():
            pdf = tex.with_suffix(".pdf")
    return Offline(lang, epub, latex, pdf, log)


@pytest.fixture(scope="session")
def offline() -> dict[str, Offline]:
    missing = _missing_tools()
    if missing:
        pytest.fail("the offline editions need " + ", ".join(missing) +
                    ": run `bash tools/ensure-system-deps.sh offline` as root (README.md lists the packages)")
    shutil.rmtree(OFFLINE, ignore_errors=True)
    with ThreadPoolExecutor(max_workers=len(LANGS)) as pool:
        return dict(zip(LANGS, pool.map(_build, LANGS)))


def _epub(o: Offline) -> Path:
    files = sorted((OFFLINE / "epub" / o.lang).glob("*.epub"))
    assert files, f"the {o.lang} EPUB was not written:\n{o.epub.output[-3000:]}"
    return files[0]


def diagram_captions(lang: str) -> list[tuple[str, str]]:
    """(book/page.md:LINE, caption in that language) of every diagram in the book."""
    out = []
    for page in pages():
        catalog = {}
        po = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / page.relative_to(ROOT / "book").with_suffix(".po")
        if lang != "en" and po.exists():
            catalog = {e.msgid: e.msgstr for e in polib.pofile(str(po)) if e.msgstr and not e.obsolete}
        for b in blocks(page):
            if b.lang == "mermaid":
                m = re.search(r"^:caption:\s*(.+)$", b.body, re.M)
                cap = m.group(1).strip() if m else ""
                out.append((b.where(), catalog.get(cap, cap)))
    return out


def _plain(text: str) -> str:
    """Text as pdftotext and the EPUB give it back, for comparison: no markup, no spaces."""
    text = re.sub(r"\{[a-z-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)   # {role}`text <target>`
    text = re.sub(r"[`*]", "", text)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "", "\u2014": ""}))
    return re.sub(r"\s+|-", "", text)


# -- builds ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_epub_and_pdf_build_without_warnings(offline, lang):
    o = offline[lang]
    for r, what in ((o.epub, "EPUB"), (o.latex, "LaTeX")):
        assert r.returncode == 0 and not r.warnings, (
            f"the {lang} {what} build has warnings or errors:\n" + "\n".join(r.warnings or [r.output[-3000:]]))
    errors = [l for l in o.latex_log.splitlines() if l.startswith("!")]
    assert o.pdf, f"XeLaTeX did not produce the {lang} PDF:\n" + "\n".join(errors or o.latex_log.splitlines()[-40:])


@pytest.mark.parametrize("lang", LANGS)
def test_epub_passes_epubcheck(offline, lang):
    epub = _epub(offline[lang])
    p = subprocess.run(["java", "-jar", str(EPUBCHECK_JAR), "--quiet", str(epub)], capture_output=True, text=True)
    problems = [l for l in (p.stdout + p.stderr).splitlines() if re.match(r"^(FATAL|ERROR)", l)]
    assert p.returncode == 0 and not problems, f"epubcheck on the {lang} EPUB:\n" + "\n".join(problems or [p.stdout[-3000:]])


# A download a reader would think twice about: the Chinese PDF once weighed 92 MB because every
# diagram figure carried ~900 KB of Noto Sans CJK (offline._shrink_fonts subsets them again).
PDF_BUDGET_MB = 25


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_stays_a_reasonable_download(offline, lang):
    o = offline[lang]
    assert o.pdf
    size = o.pdf.stat().st_size / 2**20
    figures = sorted((OFFLINE / "latex" / lang).glob("diagram-*.pdf"), key=lambda f: -f.stat().st_size)
    biggest = ", ".join(f"{f.name} {f.stat().st_size // 1024} KiB" for f in figures[:3])
    assert size <= PDF_BUDGET_MB, f"the {lang} PDF weighs {size:.1f} MiB (budget {PDF_BUDGET_MB}); biggest figures: {biggest}"


def test_read_the_docs_copies_one_file_into_each_download_folder(offline):
    """Read the Docs offers a download only when its folder holds exactly one file: each `cp` of
    .readthedocs.yaml must match exactly one file of the folder our build writes."""
    import yaml

    jobs = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text(encoding="utf-8"))["build"]["jobs"]["build"]
    problems = []
    for fmt, folder in (("epub", "epub"), ("pdf", "latex")):
        copies = [m for cmd in jobs[fmt] for m in re.finditer(r"\bcp\s+(\S+)\s+\$READTHEDOCS_OUTPUT/" + fmt + r"/", cmd)]
        if len(copies) != 1:
            problems.append(f".readthedocs.yaml: the {fmt} job must copy one file into $READTHEDOCS_OUTPUT/{fmt}/")
            continue
        pattern = copies[0].group(1).removeprefix(f"_build/{folder}/")
        for lang in LANGS:
            found = sorted((OFFLINE / folder / lang).glob(pattern))
            if len(found) != 1:
                problems.append(f".readthedocs.yaml: `cp {copies[0].group(1)}` matches {len(found)} files "
                                f"of the {lang} {fmt} build: {[f.name for f in found[:5]]}")
    assert not problems, "\n".join(problems)


def test_pdf_diagrams_keep_the_spaces_between_words(offline):
    """librsvg once dropped the space before every word of a Mermaid label ("oneworkerthread")."""
    o = offline["en"]
    assert o.pdf
    sys.path.insert(0, str(ROOT / "_ext"))
    import diagrams
    text = re.sub(r"\s+", " ", subprocess.run(["pdftotext", "-enc", "UTF-8", str(o.pdf), "-"],
                                               capture_output=True, text=True).stdout)
    wanted, missing = 0, []
    for b in blocks(ROOT / "book" / "ch0" / "index.md"):
        if b.lang != "mermaid":
            continue
        code = "\n".join(l for l in b.body.splitlines() if not l.startswith(":"))
        for label, _ in diagrams.messages(code):
            if " " in label and "<" not in label and len(label) < 40:
                wanted += 1
                if label not in text:
                    missing.append(label)
    assert wanted >= 5, f"only {wanted} multi-word labels found in ch0's diagrams"
    assert not missing, f"diagram labels not found with their spaces in the en PDF: {missing[:8]}"


# -- diagrams --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_every_diagram_is_an_image_in_the_pdf_with_its_caption(offline, lang):
    o = offline[lang]
    assert o.pdf
    tex = (OFFLINE / "latex" / lang / f"{BASENAME}.tex").read_text(encoding="utf-8")
    captions = diagram_captions(lang)
    graphics = re.findall(r"\\(?:sphinx)?includegraphics(?:\[[^\]]*\])?\{\{?([^}]*diagram[^}]*)\}", tex)
    assert len(graphics) == len(captions), (
        f"the {lang} PDF includes {len(graphics)} diagram images for {len(captions)} diagrams in the book")
    text = _plain(subprocess.run(["pdftotext", "-enc", "UTF-8", str(o.pdf), "-"], capture_output=True, text=True).stdout)
    missing = [f"{where}: diagram caption not found in the {lang} PDF: {cap[:60]!r}"
               for where, cap in captions if _plain(cap)[:40] not in text]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("lang", LANGS)
def test_every_diagram_is_an_image_in_the_epub(offline, lang):
    epub = _epub(offline[lang])
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        pages_text = "".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith(".xhtml"))
    images = re.findall(r"<img [^>]*src=\"[^\"]*diagram[^\"]*\"", pages_text)
    assert len(images) == len(diagram_captions(lang)), (
        f"the {lang} EPUB shows {len(images)} diagram images for {len(diagram_captions(lang))} diagrams in the book")
    svgs = [n for n in names if "diagram" in n and n.endswith(".svg")]
    assert svgs, f"the {lang} EPUB carries no diagram SVG files"


# -- fonts, glyphs, page width --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_pdf_embeds_every_font_and_misses_no_glyph(offline, lang):
    o = offline[lang]
    assert o.pdf
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font (\S+)", o.latex_log)))
    assert not missing, f"the {lang} PDF misses glyphs: " + "; ".join(f"{c} ({f})" for c, f in missing[:30])
    rows = subprocess.run(["pdffonts", str(o.pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    not_embedded = [r for r in rows if len(r.split()) >= 5 and r.split()[-5] != "yes"]
    assert not not_embedded, f"fonts not embedded in the {lang} PDF:\n" + "\n".join(not_embedded)


@pytest.mark.parametrize("lang", LANGS)
def test_no_text_runs_off_a_pdf_page(offline, lang):
    """Words (code lines, table cells, URLs) stay inside the page: pdftotext's boxes against the page width."""
    o = offline[lang]
    assert o.pdf
    xml = subprocess.run(["pdftotext", "-bbox", str(o.pdf), "-"], capture_output=True, text=True).stdout
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", xml)
    root = ET.fromstring(xml.replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    off = []
    for n, page in enumerate(root.iter("page"), 1):
        width = float(page.get("width"))
        for w in page.iter("word"):
            if float(w.get("xMax")) > width - 14:  # 14 pt: about 5 mm of paper left at the edge
                off.append(f"page {n}: {w.text!r} ends at {float(w.get('xMax')):.0f} pt of {width:.0f}")
    assert not off, f"{len(off)} words run off the {lang} PDF's pages:\n" + "\n".join(off[:30])
