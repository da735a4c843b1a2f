"""Links: internal links and anchors resolve, upstream links use the pins, every page is in the toctree."""
import pickle
import textwrap
from pathlib import Path

import pytest

from bookfiles import ROOT
from check_links import check_site, check_sources, manifest
from conftest import build_site, sphinx_build


def test_sources_have_no_hand_written_upstream_links():
    problems = check_sources(ROOT)
    assert not problems, "\n".join(problems)


def test_built_site_links_resolve_and_use_the_pins(site):
    problems = check_site(site, ROOT)
    assert not problems, "broken links in the built site:\n" + "\n".join(problems)


def unreachable_pages(doctree_dir: Path, root_doc: str = "index") -> list[str]:
    with open(doctree_dir / "environment.pickle", "rb") as f:
        env = pickle.load(f)
    seen, todo = set(), [root_doc]
    while todo:
        doc = todo.pop()
        if doc not in seen:
            seen.add(doc)
            todo.extend(env.toctree_includes.get(doc, []))
    return sorted(env.doc2path(d, False).as_posix() for d in env.found_docs - seen)


def test_every_page_is_reachable_from_the_catalog(builds):
    for lang, r in builds.items():
        missing = unreachable_pages(r.outdir.parent / f".doctrees-html-{lang}")
        assert not missing, f"pages not reachable from the catalog toctree ({lang}): " + ", ".join(
            f"book/{m}" for m in missing)


# -- broken copies: each mistake fails naming the file and line ------------------------------------
def _append(project: Path, text: str, page="ch0/index.md") -> tuple[Path, int]:
    p = project / "book" / page
    before = p.read_text(encoding="utf-8")
    p.write_text(before + "\n" + textwrap.dedent(text), encoding="utf-8")
    return p, before.count("\n") + 2  # the first appended line


def test_unpinned_upstream_link_is_named(mini_project):
    _, line = _append(mini_project, "See [the code](https://github.com/envoyproxy/envoy/blob/main/source/common/network/connection_impl.cc#L1).\n")
    [problem] = check_sources(mini_project)
    assert problem.startswith(f"book/ch0/index.md:{line}:") and "{envoy} role" in problem


def test_hand_written_link_in_mermaid_fails_the_build(mini_project, tmp_path):
    _, line = _append(mini_project, """\
        ```{mermaid}
        :caption: x

        flowchart LR
          A --> B
          click A href "https://github.com/istio/istio/blob/master/pilot/pkg/xds/ads.go#L1" "x"
        ```
        """)
    r = sphinx_build(mini_project, "en", tmp_path / "out")
    assert r.returncode != 0
    assert any(f"ch0/index.md:{line + 5}:" in w and "pin:TREE/PATH" in w for w in r.warnings), r.output


def test_dead_cross_reference_fails_the_build_naming_file_and_line(mini_project, tmp_path):
    _, line = _append(mini_project, "A link to [nowhere](#no-such-label-anywhere).\n")
    r = sphinx_build(mini_project, "en", tmp_path / "out")
    assert r.returncode != 0
    assert any(f"ch0/index.md:{line}" in w for w in r.warnings), r.output


def test_dead_html_link_is_named(mini_project, tmp_path):
    _append(mini_project, '<a href="missing-page.html">a raw link</a>\n')
    out = tmp_path / "site"
    r = build_site(mini_project, out)["en"]
    assert r.returncode == 0, r.output
    problems = check_site(out, mini_project)
    assert any(p.startswith("book/ch0/index.md:") and "missing-page.html" in p for p in problems), problems


def test_orphan_page_is_reported(mini_project, tmp_path):
    (mini_project / "book" / "ch0" / "orphan.md").write_text("# Orphan\n\nNot in any toctree.\n", encoding="utf-8")
    r = sphinx_build(mini_project, "en", tmp_path / "out", extra=("-D", "suppress_warnings=toc.not_included"))
    assert unreachable_pages(tmp_path / ".doctrees-html-en") == ["ch0/orphan.md"]


@pytest.mark.skipif(manifest() is None, reason="../shared/source-pins/manifest.json.gz is not beside the project")
def test_link_to_a_file_missing_at_the_pin_is_named(mini_project, tmp_path):
    _, line = _append(mini_project, "See {envoy}`nothing <source/common/network/no_such_file.cc#L1-L2>`.\n")
    out = tmp_path / "site"
    r = build_site(mini_project, out)["en"]
    assert r.returncode == 0, r.output
    problems = check_site(out, mini_project)
    assert any(p.startswith(f"book/ch0/index.md:{line}:") and "no file" in p for p in problems), problems


@pytest.mark.skipif(manifest() is None, reason="../shared/source-pins/manifest.json.gz is not beside the project")
def test_line_range_past_the_end_of_the_file_is_named(mini_project, tmp_path):
    _, line = _append(mini_project, "See {envoy}`ConnectionImpl <source/common/network/connection_impl.cc#L99990-L99999>`.\n")
    out = tmp_path / "site"
    build_site(mini_project, out)
    problems = check_site(out, mini_project)
    assert any(p.startswith(f"book/ch0/index.md:{line}:") and "outside" in p for p in problems), problems
