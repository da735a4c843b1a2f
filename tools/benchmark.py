#!/usr/bin/env python3
"""Measure the book's build and its pages (a report, not a test).

Prints:
* the clean build time of both editions (the same sphinx-build command `make html` runs);
* the incremental rebuild time of both editions after touching one page;
* the bytes a browser transfers to load a page with an empty cache (HTML, CSS, JS, fonts,
  Mermaid's chunks), for the median page and the heaviest page of each edition.

Usage: .venv/bin/python tools/benchmark.py [--page book/ch0/index.md]
Builds into _build/bench/ so that it never disturbs _build/html.
"""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import browser, serve, site_pages  # noqa: E402

OUT = ROOT / "_build" / "bench"
LANGS = ("en", "zh_CN")


def build(lang: str) -> float:
    cmd = [sys.executable, "-m", "sphinx", "-c", ".", "-j", "auto", "-b", "html", "-q",
           "-d", str(OUT / "doctrees" / lang), "-D", f"language={lang}", "-W", "--keep-going", "-n",
           "book", str(OUT / "html" / lang)]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - t


def page_weights(site: Path) -> dict[str, tuple[int, int]]:
    """Per page: (bytes as served by a plain static server, bytes if every response were gzipped)."""
    weights: dict[str, tuple[int, int]] = {}
    with serve(site) as base, browser() as b:
        for rel in site_pages(site):
            if rel.count("/") == 0 or rel.split("/", 1)[1] in ("genindex.html", "search.html"):
                continue
            ctx = b.new_context()  # a fresh context: nothing cached
            page = ctx.new_page()
            requests = []
            page.on("requestfinished", lambda r: requests.append(r))
            page.goto(f"{base}/{rel}", wait_until="networkidle")
            total = gz = 0
            for r in requests:
                s = r.sizes()
                total += s["responseBodySize"] + s["responseHeadersSize"]
                resp = r.response()
                body = resp.body() if resp else b""
                gz += len(gzip.compress(body, 6)) + s["responseHeadersSize"]
            weights[rel] = (total, gz)
            ctx.close()
    return weights


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--page", default="book/ch0/index.md", help="the page to touch for the incremental rebuild")
    a = ap.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    pages = sum(1 for _ in (ROOT / "book").rglob("*.md"))
    print(f"book: {pages} pages per edition")

    clean = {lang: build(lang) for lang in LANGS}
    print(f"clean build:       " + ", ".join(f"{l} {t:6.1f} s" for l, t in clean.items())
          + f", both {sum(clean.values()):6.1f} s")

    (ROOT / a.page).touch()
    incr = {lang: build(lang) for lang in LANGS}
    print(f"incremental build: " + ", ".join(f"{l} {t:6.1f} s" for l, t in incr.items())
          + f", both {sum(incr.values()):6.1f} s (after touching {a.page})")

    shutil.copyfile(ROOT / "_templates" / "site-root.html", OUT / "html" / "index.html")
    weights = page_weights(OUT / "html")
    for lang in LANGS:
        w = {k: v for k, v in weights.items() if k.startswith(lang + "/")}
        if not w:
            continue
        heaviest = max(w, key=lambda k: w[k][0])
        print(f"page weight ({lang}, {len(w)} pages, empty cache): median "
              f"{statistics.median(v[0] for v in w.values()) / 1024:7.1f} KiB "
              f"({statistics.median(v[1] for v in w.values()) / 1024:6.1f} KiB gzipped); heaviest "
              f"{w[heaviest][0] / 1024:7.1f} KiB ({w[heaviest][1] / 1024:6.1f} KiB gzipped), {heaviest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
