""".readthedocs.yaml and the pull-request workflow validate against their services' schemas."""
import shutil

from check_config_files import ROOT, check


def test_readthedocs_and_workflow_validate():
    problems = check(ROOT)
    assert not problems, "\n".join(problems)


def _copy(tmp_path):
    shutil.copyfile(ROOT / ".readthedocs.yaml", tmp_path / ".readthedocs.yaml")
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    return tmp_path


def test_unknown_readthedocs_key_is_named_with_its_line(tmp_path):
    p = _copy(tmp_path) / ".readthedocs.yaml"
    lines = p.read_text().splitlines()
    n = next(i for i, l in enumerate(lines) if l.startswith("  jobs:"))
    lines[n] = "  jobz:"
    p.write_text("\n".join(lines) + "\n")
    problems = check(tmp_path)
    assert any(x.startswith(f".readthedocs.yaml:{n + 1}:") and "jobz" in x for x in problems), problems


def test_unquoted_python_version_is_named_with_its_line(tmp_path):
    p = _copy(tmp_path) / ".readthedocs.yaml"
    text = p.read_text()
    n = text[: text.index('python: "3.12"')].count("\n") + 1
    p.write_text(text.replace('python: "3.12"', "python: 3.12"))
    problems = check(tmp_path)
    assert any(x.startswith(f".readthedocs.yaml:{n}:") and "3.12" in x for x in problems), problems


def test_broken_workflow_is_named_with_its_line(tmp_path):
    p = _copy(tmp_path) / ".github" / "workflows" / "pr.yml"
    text = p.read_text()
    n = text[: text.index("runs-on:")].count("\n") + 1
    p.write_text(text.replace("runs-on:", "runs_on:"))
    problems = check(tmp_path)
    assert any(x.startswith(".github/workflows/pr.yml:") for x in problems), problems
    assert any(f"pr.yml:{n}:" in x and "runs_on" in x for x in problems), problems
