"""Reading the book's sources: pages, fenced blocks and their line numbers.

Shared by the checks so that every message can name ``book/<page>.md:<line>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent>\s*)(?P<marker>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Block:
    path: Path          # the .md file
    line: int           # 1-based line of the opening fence
    info: str           # what follows the fence: "yaml", "{mermaid}", ...
    body: str           # the block's text (directive options included for {directives})
    body_line: int      # 1-based line of the body's first line

    @property
    def lang(self) -> str:
        return self.info.strip().split()[0].strip("{}").lower() if self.info.strip() else ""

    def where(self, offset: int = 0, root: Path = ROOT) -> str:
        try:
            rel = self.path.relative_to(root)
        except ValueError:
            rel = self.path
        return f"{rel}:{self.body_line + offset}"


def pages(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / "book").rglob("*.md") if not any(part.startswith("_") for part in p.parts))


# Directives whose body is MyST content again (an admonition with a code block inside, …).
LEAF_DIRECTIVES = {"mermaid", "code-block", "code", "sourcecode", "literalinclude", "toctree", "math", "raw"}


def blocks(path: Path) -> list[Block]:
    """Fenced code blocks of a MyST page, in document order, including the blocks nested in a
    directive such as ````{admonition}```` (backtick or tilde fences, nested fences respected)."""
    return _blocks(path, path.read_text(encoding="utf-8").splitlines(), 0)


def _blocks(path: Path, lines: list[str], offset: int) -> list[Block]:
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        marker, info = m.group("marker"), m.group("info")
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines):
            c = FENCE.match(lines[i])
            if c and c.group("marker")[0] == marker[0] and len(c.group("marker")) >= len(marker) and not c.group("info").strip():
                break
            body.append(lines[i])
            i += 1
        block = Block(path, offset + start + 1, info, "\n".join(body), offset + start + 2)
        out.append(block)
        if info.strip().startswith("{") and block.lang not in LEAF_DIRECTIVES:
            out += _blocks(path, body, offset + start + 1)
        i += 1
    return out


def find_line(path: Path, needle: str) -> int:
    """The first line of ``path`` that contains ``needle`` (1-based), or 0."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    return 0


def report(problems: list[str], what: str) -> int:
    """Print a checker's problems and a closing count; the exit status for its command line."""
    for p in problems:
        print(p)
    print(f"{what}: {len(problems)} problems")
    return 1 if problems else 0
