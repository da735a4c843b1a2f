"""The Chinese catalogs: in step with the English, and fully translated."""
from pathlib import Path

import polib

from bookfiles import ROOT
from check_catalogs import check


def test_catalogs_complete_and_in_sync():
    problems = check(ROOT)
    assert not problems, "Chinese catalogs need work:\n" + "\n".join(problems)


def _po(project: Path, page="ch0/index") -> Path:
    return project / "locales" / "zh_CN" / "LC_MESSAGES" / f"{page}.po"


def _first_entry(po_path: Path):
    po = polib.pofile(str(po_path))
    return po, next(e for e in po if len(e.msgid.split()) >= 5)


def test_clean_copy_passes(mini_project):
    assert check(mini_project) == []


def test_untranslated_entry_names_catalog_and_line(mini_project):
    po, e = _first_entry(_po(mini_project))
    e.msgstr = ""
    po.save()
    linenum = polib.pofile(str(_po(mini_project))).find(e.msgid).linenum
    [problem] = check(mini_project)
    assert problem.startswith(f"locales/zh_CN/LC_MESSAGES/ch0/index.po:{linenum}:") and "untranslated" in problem


def test_fuzzy_entry_fails(mini_project):
    po, e = _first_entry(_po(mini_project))
    e.flags.append("fuzzy")
    po.save()
    [problem] = check(mini_project)
    assert "ch0/index.po:" in problem and "fuzzy" in problem


def test_msgstr_copying_the_english_fails(mini_project):
    po, e = _first_entry(_po(mini_project))
    e.msgstr = e.msgid
    po.save()
    [problem] = check(mini_project)
    assert "ch0/index.po:" in problem and "copies the English" in problem


def test_english_sentence_left_in_translation_fails(mini_project):
    po, e = _first_entry(_po(mini_project))
    e.msgstr = "这一段是中文。" + " This sentence was never translated into the other language at all."
    po.save()
    [problem] = check(mini_project)
    assert "ch0/index.po:" in problem and "English sentence" in problem


def test_changed_english_is_reported_with_page_and_line(mini_project):
    page = mini_project / "book" / "ch0" / "index.md"
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    n = next(i for i, l in enumerate(lines) if l and l[0].isalpha() and len(l.split()) > 5)
    lines[n] = "A brand new sentence that the catalog has never seen before now stands here."
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check(mini_project)
    assert any(p.startswith(f"book/ch0/index.md:{n + 1}:") and "missing from" in p for p in problems), problems
    assert any("obsolete message" in p for p in problems), problems


def test_page_without_catalog_fails(mini_project):
    _po(mini_project).unlink()
    problems = check(mini_project)
    assert any(p.startswith("book/ch0/index.md:1:") and "no Chinese catalog" in p for p in problems), problems


def test_translation_with_a_different_link_target_fails(mini_project):
    po = polib.pofile(str(_po(mini_project)))
    e = next(e for e in po if "connection_impl.cc#L719-L801" in e.msgid)
    e.msgstr = e.msgstr.replace("connection_impl.cc#L719-L801", "connection_impl.cc#L700-L801")
    po.save()
    linenum = polib.pofile(str(_po(mini_project))).find(e.msgid).linenum
    [problem] = check(mini_project)
    assert problem.startswith(f"locales/zh_CN/LC_MESSAGES/ch0/index.po:{linenum}:") and "link targets" in problem
