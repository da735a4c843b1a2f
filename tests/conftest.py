"""Shared fixtures: one build of both editions per test session, and broken copies of the book.

Every check names the file and line of a contributor's mistake; the "broken copy" tests prove it
by mutating a throw-away copy of the book and asserting on the message.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh_CN")
BUILD = ROOT / "_build" / "test"
# What a copy of the project needs to build (node_modules is linked, not copied); diagrams/ is the
# cache of rendered diagrams.
PROJECT_FILES = ["conf.py", "_ext", "_templates", "_static", "book", "locales", "package.json", "diagrams"]


@dataclass
class BuildResult:
    lang: str
    outdir: Path
    returncode: int
    output: str

    @property
    def warnings(self) -> list[str]:
        return [l for l in self.output.splitlines() if "WARNING" in l or "ERROR" in l]


def sphinx_build(project: Path, lang: str, outdir: Path, builder: str = "html",
                 extra: tuple[str, ...] = (), env: dict | None = None) -> BuildResult:
    """One edition. Diagrams come from the committed cache only (INSIDER_DIAGRAMS=cache-only, as on
    Read the Docs): a diagram whose SVG is missing is a warning; ``env`` can ask for rendering."""
    cmd = [sys.executable, "-m", "sphinx", "-c", str(project), "-b", builder,
           "-d", str(outdir.parent / f".doctrees-{builder}-{lang}"), "-D", f"language={lang}",
           "-W", "--keep-going", "-n", "-q", "-j", "auto", *extra, str(project / "book"), str(outdir)]
    environ = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", INSIDER_DIAGRAMS="cache-only")
    environ.pop("READTHEDOCS", None)
    environ.update(env or {})
    environ = {k: v for k, v in environ.items() if v is not None}
    p = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=project)
    return BuildResult(lang, outdir, p.returncode, p.stdout + p.stderr)


@pytest.fixture(scope="session")
def builds() -> dict[str, BuildResult]:
    """Both editions, built once per session into _build/test/html/{en,zh_CN}."""
    out = {}
    shutil.rmtree(BUILD, ignore_errors=True)
    for lang in LANGS:
        out[lang] = sphinx_build(ROOT, lang, BUILD / "html" / lang)
    shutil.copyfile(ROOT / "_templates" / "site-root.html", BUILD / "html" / "index.html")
    return out


@pytest.fixture(scope="session")
def site(builds) -> Path:
    """The built site root (both editions), failing early if a build failed outright."""
    for r in builds.values():
        if not (r.outdir / "index.html").exists():
            pytest.fail(f"the {r.lang} edition did not build:\n{r.output[-4000:]}")
    return BUILD / "html"


def copy_project(dest: Path) -> Path:
    """A throw-away copy of the book that a test may break."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
        elif src.exists():
            shutil.copyfile(src, dest / name)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest


@pytest.fixture
def project_copy(tmp_path) -> Path:
    return copy_project(tmp_path / "book-copy")


@pytest.fixture
def mini_project(tmp_path) -> Path:
    """A copy of the book cut down to the foreword, ch0 and the lab appendix, for fast broken-copy tests."""
    dest = copy_project(tmp_path / "mini")
    keep = {"ch0", "appendix-lab-env"}
    for d in (dest / "book").iterdir():
        if d.is_dir() and d.name not in keep and not d.name.startswith("_"):
            shutil.rmtree(d)
            shutil.rmtree(dest / "locales" / "zh_CN" / "LC_MESSAGES" / d.name, ignore_errors=True)
            for lang in LANGS:
                shutil.rmtree(dest / "diagrams" / lang / d.name, ignore_errors=True)
    index = dest / "book" / "index.md"
    lines = index.read_text(encoding="utf-8").splitlines()
    kept = [l for l in lines if not (l.strip().endswith("/index") and l.strip().split("/")[0] not in keep)]
    index.write_text("\n".join(kept) + "\n", encoding="utf-8")
    _unlink_dropped_labels(dest)
    return dest


def _unlink_dropped_labels(project: Path) -> None:
    """Turn {ref} roles whose label went with a dropped chapter (the glossary points into every
    chapter) into plain text, in the pages and their catalogs alike, so the copy still builds
    without warnings and its catalogs stay in step with its pages."""
    files = list((project / "book").rglob("*.md"))
    labels = {m.group(1) for f in files for m in re.finditer(r"^\(([^()\s]+)\)=$", f.read_text(encoding="utf-8"), re.M)}

    def plain(m: re.Match) -> str:
        text, target = m.group(1), m.group(2) or m.group(1)
        return m.group(0) if target.strip() in labels else text.strip()

    for f in files + list((project / "locales").rglob("*.po")):
        old = f.read_text(encoding="utf-8")
        new = re.sub(r"\{ref\}`([^`<]*?)(?:\s*<([^<>`]+)>)?`", plain, old)
        if new != old:
            f.write_text(new, encoding="utf-8")


def build_site(project: Path, out: Path) -> dict[str, BuildResult]:
    """Both editions of a (copied) project, laid out like `make html` does."""
    res = {lang: sphinx_build(project, lang, out / lang) for lang in LANGS}
    shutil.copyfile(project / "_templates" / "site-root.html", out / "index.html")
    return res
