"""Both editions build with -W --keep-going -n and print no warning."""
import pytest

from conftest import LANGS


@pytest.mark.parametrize("lang", LANGS)
def test_edition_builds_without_warnings(builds, lang):
    r = builds[lang]
    assert r.returncode == 0 and not r.warnings, (
        f"the {lang} edition has build warnings or errors:\n" + "\n".join(r.warnings or [r.output[-3000:]]))


def test_root_page_leads_to_both_editions(site):
    root = (site / "index.html").read_text(encoding="utf-8")
    for lang in LANGS:
        assert f'href="{lang}/index.html"' in root
        assert (site / lang / "index.html").is_file()


def test_chinese_edition_buttons_speak_chinese(site):
    """The theme's zh_CN catalog lacks the capitalised ids its buttons ask for; _ext/insider.py adds them."""
    import re
    page = (site / "zh_CN" / "ch0" / "index.html").read_text(encoding="utf-8")
    english = [w for w in ("Repository", "Suggest edit", "Open issue", "Download this page", "Print to PDF")
               if re.search(rf">\s*{w}\s*<|\"{w}\"", page)]
    assert not english, f"English theme labels on a Chinese page: {english}"
    assert "建议修改" in page and "提交问题" in page
