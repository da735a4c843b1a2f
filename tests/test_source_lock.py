"""The source lock (sources.lock.json) and the re-pin commands of tools/sourcelock.py.

The first test runs offline against the book: every source link has a lock entry for the pins in
conf.py. The others build small upstream repositories with git (a moved function, an edited
function, a renamed file, a deleted file) and a tiny book that links them, so they need no network.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bookfiles import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import sourcelock  # noqa: E402


def test_every_source_link_is_locked_at_the_pins():
    problems = sourcelock.check_lock(ROOT)
    assert not problems, "\n".join(problems)


# -- a tiny upstream and a tiny book ---------------------------------------------------------------------
V1 = {
    "src/a.cc": """\
        // a.cc
        #include "a.h"
        void moved() {
          run();
        }
        void edited() {
          return 1;
        }
        void stays() {}
        """,
    "src/b.cc": """\
        void renamed() {
          keep();
        }
        """,
    "src/d.cc": """\
        void deleted() {
        }
        """,
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                               "PATH": "/usr/bin:/bin", "HOME": str(repo)}).stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def upstream(tmp_path) -> Path:
    repo = tmp_path / "envoy"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, V1)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    # v2: two lines inserted above moved(), edited() changed, b.cc renamed, d.cc deleted
    a = textwrap.dedent(V1["src/a.cc"]).splitlines()
    a[2:2] = ["// a new comment", "int counter = 0;"]
    a = [l.replace("return 1;", "return 2;") for l in a]
    (repo / "src/a.cc").write_text("\n".join(a) + "\n", encoding="utf-8")
    git(repo, "mv", "src/b.cc", "src/c.cc")
    git(repo, "rm", "-q", "src/d.cc")
    git(repo, "commit", "-q", "-am", "v2")
    git(repo, "tag", "v2")
    return repo


PAGE = """\
    (page)=
    # A page

    Run {envoy}`moved() <src/a.cc#L3-L5>` and {envoy}`edited() <src/a.cc#L6-L8>`, then
    {envoy}`renamed() <src/b.cc#L1-L3>` and {envoy}`deleted() <src/d.cc#L1-L2>`; the file
    {envoy}`src/a.cc <src/a.cc>` and the folder {envoy-tree}`src <src>`.

    ```{mermaid}
    flowchart LR
      A["moved"]
      click A href "pin:envoy/src/a.cc#L3-L5" "moved"
    ```
    """

PO = """\
    msgid "Run {envoy}`moved() <src/a.cc#L3-L5>` and {envoy}`edited() <src/a.cc#L6-L8>`"
    msgstr "运行 {envoy}`moved() <src/a.cc#L3-L5>` 和 {envoy}`edited() <src/a.cc#L6-L8>`"
    """


@pytest.fixture
def book(tmp_path) -> Path:
    root = tmp_path / "book-repo"
    (root / "book").mkdir(parents=True)
    (root / "book" / "page.md").write_text(textwrap.dedent(PAGE), encoding="utf-8")
    po = root / "locales" / "zh_CN" / "LC_MESSAGES" / "page.po"
    po.parent.mkdir(parents=True)
    po.write_text(textwrap.dedent(PO), encoding="utf-8")
    (root / "conf.py").write_text('PINS = {\n    "envoy": ("envoyproxy/envoy", "v1"),\n}\n', encoding="utf-8")
    return root


def run(book: Path, upstream: Path, *args: str) -> tuple[int, str]:
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "sourcelock.py"), *args, "--root", str(book),
                        "--git", f"envoy={upstream}"], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


# -- lock ------------------------------------------------------------------------------------------------
def test_lock_records_every_target_and_the_check_passes(book, upstream):
    code, out = run(book, upstream, "lock")
    assert code == 0, out
    lock = json.loads((book / "sources.lock.json").read_text())
    assert lock["pins"] == {"envoy": "v1"}
    assert set(lock["links"]) == {"envoy:src/a.cc#L3-L5", "envoy:src/a.cc#L6-L8", "envoy:src/b.cc#L1-L3",
                                  "envoy:src/d.cc#L1-L2", "envoy:src/a.cc", "envoy:src/"}
    assert lock["links"]["envoy:src/a.cc"] == "file" and lock["links"]["envoy:src/"] == "folder"
    assert sourcelock.check_lock(book) == []
    # one link per line, so a pull request's diff shows each changed link
    assert len((book / "sources.lock.json").read_text().splitlines()) >= 8


def test_lock_refuses_a_link_whose_lines_do_not_name_its_symbol(book, upstream):
    page = book / "book" / "page.md"
    page.write_text(page.read_text().replace("edited() <src/a.cc#L6-L8>", "edited() <src/a.cc#L1-L2>"))
    code, out = run(book, upstream, "lock")
    assert code == 1
    assert ("book/page.md:4: {envoy} link src/a.cc#L1-L2: the text names 'edited', which does not occur at "
            "lines 1-2 (±3) of src/a.cc at v1") in out
    assert not (book / "sources.lock.json").exists()


def test_lock_names_a_missing_file_and_a_range_outside(book, upstream):
    page = book / "book" / "page.md"
    page.write_text(page.read_text().replace("src/d.cc#L1-L2", "src/nope.cc#L1-L2").replace("src/b.cc#L1-L3", "src/b.cc#L1-L30"))
    code, out = run(book, upstream, "lock")
    assert code == 1
    assert "book/page.md:5: {envoy} link src/nope.cc#L1-L2: no file 'src/nope.cc' at v1" in out
    assert "book/page.md:5: {envoy} link src/b.cc#L1-L30: lines 1-30 lie outside src/b.cc (3 lines at v1)" in out


def test_check_names_new_links_orphans_and_a_moved_pin(book, upstream):
    assert run(book, upstream, "lock")[0] == 0
    page = book / "book" / "page.md"
    page.write_text(page.read_text().replace("src/a.cc#L6-L8", "src/a.cc#L6-L9"))
    problems = sourcelock.check_lock(book)
    assert any(p.startswith("book/page.md:4: {envoy} link src/a.cc#L6-L9 has no entry in sources.lock.json") for p in problems), problems
    assert any(p.startswith("sources.lock.json:") and "entry envoy:src/a.cc#L6-L8 is used by no link" in p for p in problems), problems
    (book / "conf.py").write_text((book / "conf.py").read_text().replace('"v1"', '"v2"'))
    problems = sourcelock.check_lock(book)
    assert any("the lock is for envoy 'v1' but conf.py pins 'v2'" in p for p in problems), problems


def test_check_without_a_lock_says_how_to_write_it(book):
    assert sourcelock.check_lock(book)[0].startswith("sources.lock.json:1: missing: write it with make lock")


# -- re-pin report and apply --------------------------------------------------------------------------------
def test_report_classifies_moved_changed_renamed_and_deleted(book, upstream):
    assert run(book, upstream, "lock")[0] == 0
    code, out = run(book, upstream, "report", "--to", "envoy=v2")
    assert code == 0, out
    report = (book / "_build" / "repin" / "report.md").read_text()
    assert "`envoy:src/a.cc#L3-L5` → `src/a.cc#L5-L7`" in report                      # moved: new range
    assert "### `envoy:src/a.cc#L6-L8` — changed" in report                            # edited
    assert "-  return 1;" in report and "+  return 2;" in report                         # with its diff
    assert "### `envoy:src/b.cc#L1-L3` — gone (renamed to src/c.cc; the same lines are at src/c.cc#L1-L3)" in report
    assert "### `envoy:src/d.cc#L1-L2` — gone (deleted)" in report
    assert "- `book/page.md:4` — link text `edited()`" in report                        # the place to re-read
    assert "| `book/page.md` | 7 | 2 | 2 | 1 | 2 |" in report                           # per page
    assert "total" in out


def test_apply_moves_pins_rewrites_moved_links_and_leaves_the_rest(book, upstream):
    assert run(book, upstream, "lock")[0] == 0
    code, out = run(book, upstream, "apply", "--to", "envoy=v2")
    assert code == 0, out
    assert '"envoy": ("envoyproxy/envoy", "v2")' in (book / "conf.py").read_text()
    page = (book / "book" / "page.md").read_text()
    assert "{envoy}`moved() <src/a.cc#L5-L7>`" in page and 'pin:envoy/src/a.cc#L5-L7" "moved"' in page
    assert "{envoy}`edited() <src/a.cc#L6-L8>`" in page           # changed: left for an author
    po = (book / "locales" / "zh_CN" / "LC_MESSAGES" / "page.po").read_text()
    assert po.count("src/a.cc#L5-L7") == 2                       # msgid and msgstr alike
    lock = json.loads((book / "sources.lock.json").read_text())
    assert lock["pins"] == {"envoy": "v2"} and "envoy:src/a.cc#L5-L7" in lock["links"]
    # the gone links have no entry at the new pin, so the offline check names them
    problems = sourcelock.check_lock(book)
    assert any(p.startswith("book/page.md:5: {envoy} link src/d.cc#L1-L2 has no entry") for p in problems), problems
    assert "changed or gone targets are left for authors" in out
