#!/usr/bin/env python3
"""Measure the book's build and its pages (a report, not a test).

Prints:
* the clean build time of both editions (the same sphinx-build command `make html` runs);
* the incremental rebuild time of both editions after touching one page;
* the bytes a browser transfers to load a page with an empty cache (HTML, CSS, JS, fonts,
  Mermaid's chunks), for the median page and the heaviest page of each edition;
* Lighthouse's scores (mobile preset: performance, accessibility, best practices, SEO) for the
  foreword and the heaviest page of each edition, served gzip-compressed as Read the Docs serves
  them, with the audits that cost points.

Usage: .venv/bin/python tools/benchmark.py [--page book/ch0/index.md] [--no-lighthouse]
Builds into _build/bench/ so that it never disturbs _build/html. Lighthouse is npm's
lighthouse@12.2.3 from node_modules (package.json), driving Debian's /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import gzip
import json
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

from browser import CHROMIUM, CHROMIUM_ARGS, browser, serve, site_pages  # noqa: E402

OUT = ROOT / "_build" / "bench"
LANGS = ("en", "zh_CN")
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def build(lang: str) -> float:
    cmd = [sys.executable, "-m", "sphinx", "-c", ".", "-j", "auto", "-b", "html", "-q",
           "-d", str(OUT / "doctrees" / lang), "-D", f"language={lang}", "-W", "--keep-going", "-n",
           "book", str(OUT / "html" / lang)]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - t


def page_weights(site: Path) -> dict[str, tuple[int, int, int, int]]:
    """Per page: (bytes as served by a plain static server, bytes if every response were gzipped),
    then the same two counting no request for Mermaid's library (_static/mermaid/)."""
    weights: dict[str, tuple[int, int, int, int]] = {}
    with serve(site) as base, browser() as b:
        for rel in site_pages(site):
            if rel.count("/") == 0 or rel.split("/", 1)[1] in ("genindex.html", "search.html"):
                continue
            ctx = b.new_context()  # a fresh context: nothing cached
            page = ctx.new_page()
            requests = []
            page.on("requestfinished", lambda r: requests.append(r))
            page.goto(f"{base}/{rel}", wait_until="networkidle")
            total = gz = mm = mm_gz = 0
            for r in requests:
                s = r.sizes()
                resp = r.response()
                body = resp.body() if resp else b""
                size = s["responseBodySize"] + s["responseHeadersSize"]
                size_gz = len(gzip.compress(body, 6)) + s["responseHeadersSize"]
                total += size
                gz += size_gz
                if "/_static/mermaid/" in r.url:
                    mm += size
                    mm_gz += size_gz
            weights[rel] = (total, gz, total - mm, gz - mm_gz)
            ctx.close()
    return weights


def lighthouse(url: str, report: Path) -> dict:
    """One Lighthouse run, mobile preset (Lighthouse's default form factor and simulated throttling)."""
    flags = " ".join(a for a in CHROMIUM_ARGS if a != "--headless") + " --headless=new"
    cmd = [str(LIGHTHOUSE), url, f"--chrome-path={CHROMIUM}", f"--chrome-flags={flags}",
           "--form-factor=mobile", f"--only-categories={','.join(CATEGORIES)}", "--output=json",
           f"--output-path={report}", "--quiet"]
    subprocess.run(cmd, check=True, timeout=300)
    return json.loads(report.read_text(encoding="utf-8"))


def lost_points(result: dict, category: str) -> list[str]:
    """The weighted audits of a category that did not pass (what to fix)."""
    audits = result["audits"]
    out = []
    for ref in result["categories"][category]["auditRefs"]:
        a = audits.get(ref["id"], {})
        if ref.get("weight", 0) > 0 and a.get("score") is not None and a["score"] < 1:
            value = f" ({a['displayValue']})" if a.get("displayValue") else ""
            out.append(f"{ref['id']}{value}")
    return out


def lighthouse_report(site: Path, pages: list[str]) -> None:
    if not LIGHTHOUSE.exists():
        print(f"lighthouse: {LIGHTHOUSE} is missing (run `npm ci`); skipped")
        return
    with serve(site, compress=True) as base:
        for rel in pages:
            result = lighthouse(f"{base}/{rel}", OUT / f"lighthouse-{rel.replace('/', '_')}.json")
            scores = {c: round((result["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}
            print(f"lighthouse (mobile) {rel}: " + ", ".join(f"{c} {v}" for c, v in scores.items()))
            for c in CATEGORIES:
                if scores[c] < 100:
                    print(f"    {c}: " + "; ".join(lost_points(result, c)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--page", default="book/ch0/index.md", help="the page to touch for the incremental rebuild")
    ap.add_argument("--no-lighthouse", action="store_true", help="skip the Lighthouse runs")
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
    audited = []
    for lang in LANGS:
        w = {k: v for k, v in weights.items() if k.startswith(lang + "/")}
        if not w:
            continue
        heaviest = max(w, key=lambda k: w[k][0])
        print(f"page weight ({lang}, {len(w)} pages, empty cache): median "
              f"{statistics.median(v[0] for v in w.values()) / 1024:7.1f} KiB "
              f"({statistics.median(v[1] for v in w.values()) / 1024:6.1f} KiB gzipped); heaviest "
              f"{w[heaviest][0] / 1024:7.1f} KiB ({w[heaviest][1] / 1024:6.1f} KiB gzipped), {heaviest}")
        print(f"    without Mermaid's library (_static/mermaid/): median "
              f"{statistics.median(v[2] for v in w.values()) / 1024:7.1f} KiB "
              f"({statistics.median(v[3] for v in w.values()) / 1024:6.1f} KiB gzipped); heaviest "
              f"{max(v[2] for v in w.values()) / 1024:7.1f} KiB ({max(v[3] for v in w.values()) / 1024:6.1f} KiB gzipped)")
        audited += [f"{lang}/index.html", heaviest]
    if not a.no_lighthouse:
        lighthouse_report(OUT / "html", audited)
    return 0


if __name__ == "__main__":
    sys.exit(main())
