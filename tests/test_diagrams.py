"""Diagrams: rendered at build time from a cache in the repository, in step with the sources,
translated in the Chinese edition; a broken diagram fails the build at its file and line."""
import pickle
import sys
import textwrap
from pathlib import Path

import polib
import pytest

from bookfiles import ROOT
from check_catalogs import check as check_catalogs
from check_diagrams import check, wanted
from conftest import LANGS, sphinx_build

sys.path.insert(0, str(ROOT / "_ext"))
import diagrams  # noqa: E402

NEEDS_BROWSER = pytest.mark.skipif(diagrams.browser_problem(ROOT) is not None,
                                   reason=f"cannot render diagrams here: {diagrams.browser_problem(ROOT)}")


def _append(project: Path, text: str, page="ch0/index.md") -> int:
    p = project / "book" / page
    before = p.read_text(encoding="utf-8")
    p.write_text(before + "\n" + textwrap.dedent(text), encoding="utf-8")
    return before.count("\n") + 2  # the line of the first appended line


NEW_DIAGRAM = """\
    ```{mermaid}
    :caption: A new diagram.

    flowchart LR
      A["a brand new label"] --> B["Foo::bar()"]
    ```
    """


# -- labels ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["Class::method()", "ConnectionImpl", "pilot-agent", "15001",
                                   "/var/run/x.sock", "ISTIO_OUTPUT", "onAccept", "Envoy", "istiod",
                                   "ADS", "SO_ORIGINAL_DST", "envoy.filters.http.router"])
def test_code_names_are_not_messages(label):
    assert diagrams.is_code_name(label)


@pytest.mark.parametrize("label", ["one worker thread", "outbound port excluded?", "main thread",
                                   "post() to the main thread", "yes", "socket in the kernel",
                                   "API server", "Listener (LDS)"])
def test_words_are_messages(label):
    assert not diagrams.is_code_name(label)


def test_labels_of_each_kind_are_found():
    flow = textwrap.dedent("""\
        flowchart LR
          subgraph w["one worker thread"]
            A["Class::method()"] -->|"post to main"| B(object state)
          end
          subgraph poll
            C{"excluded?"} -- "no" --> D[("socket in the kernel")]
          end
          C -->|yes| A
          click A href "https://example.org/x" "a tooltip"
        """)
    assert [l.text for l in diagrams.labels(flow)] == [
        "one worker thread", "Class::method()", "post to main", "object state", "poll", "excluded?",
        "no", "socket in the kernel", "yes"]
    seq = textwrap.dedent("""\
        sequenceDiagram
          participant A as API server
          A->>B: first request; then more
          Note over A,B: a note
          loop every pod
            B-->>A: reply
          end
        """)
    assert [l.text for l in diagrams.labels(seq)] == [
        "API server", "first request; then more", "a note", "every pod", "reply"]


def test_translation_keeps_mermaid_syntax_safe():
    flow = 'flowchart LR\n  A["one worker"] -->|yes| B(object state)\n  subgraph poll\n  end\n'
    t = {"one worker": '一个 "工作" [线程]', "yes": "是", "object state": "对象状态", "poll": "轮询"}
    out = diagrams.translate(flow, lambda s: t.get(s, s))
    assert out == ('flowchart LR\n  A["一个 #quot;工作#quot; [线程]"] -->|"是"| B("对象状态")\n'
                   '  subgraph poll["轮询"]\n  end\n')
    seq = "sequenceDiagram\n  A->>B: first request\n"
    assert diagrams.translate(seq, lambda s: "第一个请求；然后" if s == "first request" else s) == \
        "sequenceDiagram\n  A->>B: 第一个请求；然后\n"
    assert "; " not in diagrams.translate(seq, lambda s: "甲; 乙")


# -- the cache -------------------------------------------------------------------------------------
def test_every_diagram_has_its_rendering_and_none_is_stale():
    problems = check(ROOT)
    assert not problems, "diagrams/ is out of step with the sources:\n" + "\n".join(problems)


def test_the_check_computes_the_keys_the_build_uses(builds):
    want = wanted(ROOT)
    for lang, r in builds.items():
        with open(r.outdir.parent / f".doctrees-html-{lang}" / "environment.pickle", "rb") as f:
            env = pickle.load(f)
        used = {(lang, doc, rec["key"]) for doc, recs in env.insider_diagrams.items() for rec in recs}
        assert used == {k for k in want if k[0] == lang}


def test_new_diagram_without_rendering_is_named_by_file_and_line(mini_project):
    line = _append(mini_project, NEW_DIAGRAM)
    problems = check(mini_project)
    assert len(problems) == 2, problems
    for lang, p in zip(LANGS, problems):
        assert p.startswith(f"book/ch0/index.md:{line}:") and f"the {lang} rendering" in p


def test_stale_rendering_is_named(mini_project):
    stale = mini_project / "diagrams" / "en" / "ch0" / "index" / ("0" * 24 + ".svg")
    stale.write_text("<svg/>", encoding="utf-8")
    assert check(mini_project) == [f"diagrams/en/ch0/index/{'0' * 24}.svg:1: stale rendering: no diagram of "
                                   "book/ch0/index.md (en) renders to it any more; delete it "
                                   "(a `make html-en` deletes it)"]


def test_changed_translation_of_a_label_needs_a_new_chinese_rendering(mini_project):
    po_path = mini_project / "locales" / "zh_CN" / "LC_MESSAGES" / "ch0" / "index.po"
    po = polib.pofile(str(po_path))
    entry = po.find("one worker thread")
    if entry is None:
        pytest.skip("the ch0 legend's labels are not in the catalog yet")
    entry.msgstr = "另一个工作线程"
    po.save()
    missing, stale = check(mini_project)  # the new rendering is missing, the old one is stale
    assert missing.startswith("book/ch0/index.md:") and "the zh_CN rendering" in missing
    assert stale.startswith("diagrams/zh_CN/ch0/index/") and "stale rendering" in stale


def test_missing_rendering_is_a_build_warning_at_the_fence(mini_project, tmp_path):
    line = _append(mini_project, NEW_DIAGRAM)
    r = sphinx_build(mini_project, "en", tmp_path / "out")
    assert r.returncode != 0
    assert any(f"ch0/index.md:{line}:" in w and "not in the cache" in w for w in r.warnings), r.output


def test_build_without_browser_or_node_uses_only_the_cache(mini_project, tmp_path):
    """What Read the Docs does: no Chromium, no node_modules; every diagram from diagrams/."""
    (mini_project / "node_modules").unlink()
    r = sphinx_build(mini_project, "zh_CN", tmp_path / "out", env={"INSIDER_DIAGRAMS": None, "READTHEDOCS": "True"})
    assert r.returncode == 0 and not r.warnings, r.output
    html = (tmp_path / "out" / "ch0" / "index.html").read_text(encoding="utf-8")
    assert html.count('<div class="insider-diagram"') == 3
    assert "mermaid.esm" not in html and "mermaid.min.js" not in html
    assert not list((tmp_path / "out" / "_static").glob("**/mermaid*"))


# -- rendering (needs Chromium and node_modules) --------------------------------------------------
@NEEDS_BROWSER
def test_broken_diagram_fails_the_build_at_its_file_and_line(mini_project, tmp_path):
    line = _append(mini_project, """\
        ```{mermaid}
        :caption: broken

        flowchart LR
          A[ --> B((
        ```
        """)
    r = sphinx_build(mini_project, "en", tmp_path / "out", env={"INSIDER_DIAGRAMS": "render"})
    assert r.returncode != 0
    assert any(f"ch0/index.md:{line}:" in w and "Mermaid cannot render" in w for w in r.warnings), r.output


@NEEDS_BROWSER
def test_render_build_adds_the_new_rendering_and_deletes_the_stale_one(mini_project, tmp_path):
    stale = mini_project / "diagrams" / "en" / "ch0" / "index" / ("0" * 24 + ".svg")
    stale.write_text("<svg/>", encoding="utf-8")
    _append(mini_project, NEW_DIAGRAM)
    r = sphinx_build(mini_project, "en", tmp_path / "out", env={"INSIDER_DIAGRAMS": "render"})
    assert r.returncode == 0, r.output
    assert not stale.exists()
    assert [p for p in check(mini_project) if "/en/" in p or "the en rendering" in p] == []
    html = (tmp_path / "out" / "ch0" / "index.html").read_text(encoding="utf-8")
    assert html.count("<div class=\"insider-diagram\"") == 4 and "brand" in html


# -- translation ---------------------------------------------------------------------------------------
def test_diagram_labels_are_messages_of_the_page(mini_project):
    """A changed label shows up as a message missing from the page's catalog."""
    page = mini_project / "book" / "ch0" / "index.md"
    text = page.read_text(encoding="utf-8")
    assert '"object state"' in text
    page.write_text(text.replace('"object state"', '"state of the object"'), encoding="utf-8")
    problems = check_catalogs(mini_project)
    assert any("missing from" in p and "state of the object" in p and p.startswith("book/ch0/index.md:")
               for p in problems), problems
    assert not any("Class::method()" in p for p in problems)


def test_link_tooltip_becomes_an_svg_title():
    svg = ('<svg><a href="https://x/y#L1-L2"><g class="node default clickable " id="s-flowchart-A-0" '
           'title="Dispatcher::run">'"<rect/></g></a></svg>")
    out = diagrams.link_tooltips(svg)
    assert out == ('<svg><g><title>Dispatcher::run</title><a href="https://x/y#L1-L2"><g class="node default '
                   'clickable " id="s-flowchart-A-0"><rect/></g></a></g></svg>')


def test_every_linked_diagram_node_shows_its_tooltip(site):
    """Hovering a node that opens the source names the symbol (the tooltip of its ``click`` line)."""
    import re
    bare, linked = [], 0
    for page in sorted((site / "en").rglob("*.html")):
        for node in re.findall(r'(<g><title>[^<]+</title>)?<a href="[^"]+"[^>]*><g\b[^>]*\bclickable\b', page.read_text()):
            linked += 1
            if not node:
                bare.append(str(page.relative_to(site)))
    assert linked > 500, f"only {linked} linked diagram nodes found"
    assert not bare, f"linked diagram nodes without a tooltip in: {sorted(set(bare))[:10]}"
