"""The reading layer (issue 9): In short boxes, the glossary, at most five source links a paragraph,
no `latest` docs, the glossary's Chinese renderings. Book-wide checks first, then each rule on a
tiny synthetic tree, asserting the exact message a contributor sees."""
import textwrap
from pathlib import Path

from bookfiles import ROOT
from check_reading import (banned_renderings, crowded_paragraphs, glossary_terms, glossary_too_small,
                           latest_links, missing_in_short)


# -- the book -------------------------------------------------------------------------------------------
def test_every_content_page_opens_with_an_in_short_box():
    problems = missing_in_short(ROOT)
    assert not problems, "\n".join(problems)


def test_glossary_defines_at_least_40_terms():
    problems = glossary_too_small(ROOT)
    assert not problems, "\n".join(problems)


def test_no_paragraph_has_more_than_five_source_links():
    problems = crowded_paragraphs(ROOT)
    assert not problems, "\n".join(problems)


def test_no_link_to_latest_upstream_docs():
    problems = latest_links(ROOT)
    assert not problems, "\n".join(problems)


def test_chinese_catalogs_use_the_glossary_renderings():
    problems = banned_renderings(ROOT)
    assert not problems, "\n".join(problems)


# -- a tiny synthetic tree ----------------------------------------------------------------------------------
def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD_PAGE = textwrap.dedent("""\
    (ch9-good)=
    # A good page

    ```{admonition} In short
    :class: in-short

    Envoy does one thing here. The default that matters is 5. The symptom is a 503.
    ```

    The question this page answers.

    ## The picture

    Text.
    """)


def _po(entries: list[tuple[str, str]]) -> str:
    body = "".join(f'msgid "{i}"\nmsgstr "{s}"\n\n' for i, s in entries)
    return 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n' + body


def test_clean_tree_passes(tmp_path):
    _write(tmp_path, "book/index.md", "(foreword)=\n# Foreword\n\n## No box needed on an index page\n")
    _write(tmp_path, "book/ch9/index.md", "(ch9)=\n# Chapter\n")
    _write(tmp_path, "book/ch9/good.md", GOOD_PAGE)
    _write(tmp_path, "locales/zh_CN/LC_MESSAGES/ch9/good.po",
           _po([("At the pin, Envoy reads it.", "在固定版本（pin）中，Envoy 会读取它。")]))
    assert missing_in_short(tmp_path) == []
    assert crowded_paragraphs(tmp_path) == []
    assert latest_links(tmp_path) == []
    assert banned_renderings(tmp_path) == []


def test_page_without_in_short_box_names_page_and_title(tmp_path):
    _write(tmp_path, "book/ch9/bare.md", """\
        (ch9-bare)=
        # A page without a box

        Straight into prose.

        ## First section

        ```{admonition} In short
        :class: in-short

        Too late: after the first section.
        ```
        """)
    assert missing_in_short(tmp_path) == [
        "book/ch9/bare.md:2: no In short box between the title '# A page without a box' and the first section: "
        "add ```{admonition} In short``` with :class: in-short (3-5 sentences)"]


def test_in_short_box_without_its_class_is_named(tmp_path):
    _write(tmp_path, "book/ch9/noclass.md", """\
        (ch9-noclass)=
        # A page

        ```{admonition} In short
        Envoy does one thing here.
        ```

        ## First section
        """)
    assert missing_in_short(tmp_path) == [
        "book/ch9/noclass.md:4: the In short box under '# A page' needs the option :class: in-short"]


def test_index_pages_and_glossary_need_no_box(tmp_path):
    _write(tmp_path, "book/ch9/index.md", "(ch9)=\n# Chapter\n\n## Map\n")
    _write(tmp_path, "book/glossary.md", "(glossary)=\n# Glossary\n\n```{glossary}\nterm\n  Text.\n```\n")
    assert missing_in_short(tmp_path) == []


def _glossary(n: int) -> str:
    entries = "".join(f"term {i:02d}\n  Definition number {i}.\n\n" for i in range(n))
    return f"(glossary)=\n# Glossary\n\nIntro.\n\n```{{glossary}}\n:sorted:\n\n{entries}```\n"


def test_glossary_with_39_terms_fails(tmp_path):
    _write(tmp_path, "book/glossary.md", _glossary(39))
    assert len(glossary_terms(tmp_path)) == 39
    assert glossary_too_small(tmp_path) == ["book/glossary.md:6: the glossary defines 39 terms; at least 40 expected"]


def test_glossary_with_40_terms_passes(tmp_path):
    _write(tmp_path, "book/glossary.md", _glossary(40))
    assert glossary_terms(tmp_path)[0] == ("term 00", 9)
    assert glossary_too_small(tmp_path) == []


def test_missing_glossary_fails(tmp_path):
    (tmp_path / "book").mkdir()
    assert glossary_too_small(tmp_path) == [
        "book/glossary.md:1: no glossary page (label `glossary`, a {glossary} directive of at least 40 terms)"]


def _links(n: int) -> str:
    return " ".join(f"{{envoy}}`F{i}() <source/f.cc#L{i}>`" for i in range(n))


def test_paragraph_with_six_source_links_is_named(tmp_path):
    _write(tmp_path, "book/ch9/walk.md", GOOD_PAGE + textwrap.dedent(f"""\

        Five are fine: {_links(5)}.

        This one is a wall:
        {_links(3)}
        {_links(2)} {{istio-tree}}`pilot <pilot>`.

        ```{{admonition}} Try it: a box counts too
        :class: try-it

        {_links(6)}
        ```

        ```text
        {_links(9)} in a code block do not count
        ```

        | a | b |
        | --- | --- |
        | {_links(4)} | {_links(4)} |

        1. Step one: {_links(4)}
        2. Step two: {_links(4)}
           still step two, {{ztunnel}}`x <src/x.rs>` {{proxy}}`y <y.cc>`
        """))
    text = (tmp_path / "book/ch9/walk.md").read_text(encoding="utf-8").splitlines()
    wall = text.index("This one is a wall:") + 1
    box = next(i for i, l in enumerate(text, 1) if l.startswith("{envoy}`F0()") and l.count("{envoy}") == 6)
    step2 = next(i for i, l in enumerate(text, 1) if l.startswith("2. Step two"))
    msg = ("a paragraph with {} source links (at most 5: link each symbol once, let the diagram carry the path, "
           "or split the walk into numbered steps)")
    assert crowded_paragraphs(tmp_path) == [
        f"book/ch9/walk.md:{wall}: " + msg.format(6),
        f"book/ch9/walk.md:{box}: " + msg.format(6),
        f"book/ch9/walk.md:{step2}: " + msg.format(6),
    ]


def test_link_to_latest_docs_is_named_in_page_and_catalog(tmp_path):
    _write(tmp_path, "book/ch9/page.md", GOOD_PAGE + "\nSee [the docs](https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview).\n")
    _write(tmp_path, "locales/zh_CN/LC_MESSAGES/ch9/page.po",
           _po([("See [the docs](https://istio.io/latest/docs/ops/).", "参见[文档](https://istio.io/latest/docs/ops/)。")]))
    line = len((tmp_path / "book/ch9/page.md").read_text(encoding="utf-8").splitlines())
    tail = ": use {envoy-docs} or {istio-docs}, which point at the pinned versions"
    assert latest_links(tmp_path) == [
        f"book/ch9/page.md:{line}: link to the latest upstream docs "
        f"(https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview){tail}",
        f"locales/zh_CN/LC_MESSAGES/ch9/page.po:5: link to the latest upstream docs (https://istio.io/latest/docs/ops/){tail}",
        f"locales/zh_CN/LC_MESSAGES/ch9/page.po:6: link to the latest upstream docs (https://istio.io/latest/docs/ops/){tail}",
    ]


def test_banned_renderings_are_named_with_catalog_and_line(tmp_path):
    _write(tmp_path, "locales/zh_CN/LC_MESSAGES/ch9/page.po", _po([
        ("Read it at the pin.", "在锁定版本中阅读它。"),                       # line 5
        ("pilot-agent starts Envoy.", "代理程序启动 Envoy。"),                  # line 8
        ("Authorization policy.", "鉴权策略。"),                               # line 11
        ("A SotW stream.", "一条全量流，不是全量流量。"),                        # line 14
        ("At the pin, `pin:envoy/x` and {{ envoy_pin }}.", "在 pin 上，`pin:envoy/x` 与 {{ envoy_pin }}。"),  # 17
        ("Scraping metrics, full push.", "抓取指标，全量推送，增量推送。"),       # line 20: fine
    ]))
    assert banned_renderings(tmp_path) == [
        "locales/zh_CN/LC_MESSAGES/ch9/page.po:5: '锁定版本' is not the glossary's rendering: pin is 固定版本",
        "locales/zh_CN/LC_MESSAGES/ch9/page.po:8: '代理程序' is not the glossary's rendering: "
        "pilot-agent stays pilot-agent (代理 is the proxy)",
        "locales/zh_CN/LC_MESSAGES/ch9/page.po:11: '鉴权' is not the glossary's rendering: authorization is 授权",
        "locales/zh_CN/LC_MESSAGES/ch9/page.po:14: '全量流' is not the glossary's rendering: the xDS protocol "
        "variants are SotW / Delta (SotW 流、Delta 流); 全量/增量 only for istiod's pushes",
        "locales/zh_CN/LC_MESSAGES/ch9/page.po:17: 'pin' is not the glossary's rendering: "
        "pin is 固定版本 (never bare \"pin\" in Chinese prose)",
    ]
