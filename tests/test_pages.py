"""Page conventions that a contributor can get wrong: "Try it" boxes name the lab state they start from."""
import re
import textwrap

from bookfiles import ROOT, blocks, pages


def try_it_boxes_without_lab_state(root=ROOT):
    problems = []
    for page in pages(root):
        for b in blocks(page):
            if b.lang == "admonition" and re.search(r"^:class:.*\btry-it\b", b.body, re.M):
                if not re.search(r"\*\*Lab state:?\*\*", b.body):
                    problems.append(f"{b.path.relative_to(root)}:{b.line}: a \"Try it\" box must say "
                                    "**Lab state:** and name the state it starts from (see the lab appendix)")
    return problems


def test_every_try_it_box_names_its_lab_state():
    problems = try_it_boxes_without_lab_state()
    assert not problems, "\n".join(problems)


def test_box_without_lab_state_is_named(tmp_path):
    page = tmp_path / "book" / "page.md"
    page.parent.mkdir(parents=True)
    page.write_text(textwrap.dedent("""\
        # A page

        ````{admonition} Try it: something
        :class: try-it

        ```bash
        kubectl get pods
        ```
        ````
        """), encoding="utf-8")
    assert try_it_boxes_without_lab_state(tmp_path) == [
        'book/page.md:3: a "Try it" box must say **Lab state:** and name the state it starts from (see the lab appendix)']
