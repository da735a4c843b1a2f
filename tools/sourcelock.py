#!/usr/bin/env python3
"""The source lock: what every link into the pinned trees points at, and what a re-pin changes.

The book links upstream code in two ways, both built from the pins in conf.py:
  {envoy}`Text <path#Lx-Ly>` (and {istio}, {proxy}, {ztunnel}, their -tree forms) in prose, and
  click N href "pin:TREE/path#Lx-Ly" "Text" in Mermaid diagrams.
``sources.lock.json`` records, for every distinct target, a fingerprint of the linked lines' text
at the pin. The tests read it offline (tests/test_source_lock.py); this command needs a git clone
or mirror of each tree that holds the pinned refs, passed as --git TREE=DIR (the Makefile passes
ENVOY_GIT, ISTIO_GIT, PROXY_GIT and ZTUNNEL_GIT).

  sourcelock.py lock   --git envoy=DIR ...   write the lock; fail on a link whose lines do not
                                             name the symbol its text names
  sourcelock.py report --git ... --to istio=1.31.0-rc.0 [--out DIR]
                                             classify every locked link at a new ref: unchanged,
                                             moved (new range computed), changed, gone; write a
                                             Markdown report with the paragraphs to re-read
  sourcelock.py apply  --git ... --to istio=1.31.0-rc.0
                                             move the pins in conf.py, rewrite the ranges of moved
                                             links in book/ and locales/, refresh the lock, and
                                             leave the changed and gone links in the report
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import runpy
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_NAME = "sources.lock.json"
TREES = ("envoy", "istio", "proxy", "ztunnel")
ROLE = re.compile(r"\{(envoy|istio|proxy|ztunnel)(-tree)?\}`([^`]*)`")
PIN = re.compile(r"pin:(envoy|istio|proxy|ztunnel)/([^\s\"'#]+)(#L\d+(?:-L\d+)?)?")
CLICK_TEXT = re.compile(r"pin:[^\"]*\"\s+\"([^\"]*)\"")
TARGET = re.compile(r"^(?P<path>[^#]*?)/?(?:#L(?P<l1>\d+)(?:-L(?P<l2>\d+))?)?$")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOISE = {"cc", "h", "go", "rs", "proto", "py", "yaml", "md", "the", "and", "of", "in", "a", "to", "impl", "L"}
FIX = "make lock ENVOY_GIT=... ISTIO_GIT=... PROXY_GIT=... ZTUNNEL_GIT=... (see CONTRIBUTING.md, 'The source lock')"


# -- links in the book ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    tree: str
    path: str
    l1: int | None
    l2: int | None
    folder: bool
    text: str          # the link text (role) or the click tooltip (Mermaid)
    file: str          # book/<page>.md
    line: int

    @property
    def key(self) -> str:
        return key_of(self.tree, self.path, self.l1, self.l2, self.folder)

    @property
    def target(self) -> str:
        return target_of(self.path, self.l1, self.l2, self.folder)


def target_of(path: str, l1, l2, folder: bool) -> str:
    if folder:
        return path + "/"
    if l1 is None:
        return path
    return f"{path}#L{l1}" + (f"-L{l2}" if l2 is not None and l2 != l1 else "")


def key_of(tree: str, path: str, l1, l2, folder: bool) -> str:
    return f"{tree}:{target_of(path, l1, l2, folder)}"


def _parse_target(raw: str) -> tuple[str, int | None, int | None]:
    m = TARGET.match(raw.strip())
    if not m:
        return raw.strip(), None, None
    l1 = int(m.group("l1")) if m.group("l1") else None
    l2 = int(m.group("l2")) if m.group("l2") else l1
    return m.group("path"), l1, l2


def links_in(root: Path = ROOT) -> list[Link]:
    """Every source link of the English pages (the Chinese catalogs carry the same targets, which
    tests/check_catalogs.py enforces), in page and line order."""
    out: list[Link] = []
    for page in sorted((root / "book").rglob("*.md")):
        if any(part.startswith("_") for part in page.relative_to(root).parts):
            continue
        rel = page.relative_to(root).as_posix()
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for m in ROLE.finditer(line):
                tree, folder, body = m.group(1), bool(m.group(2)), m.group(3)
                mm = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", body, re.S)
                text, raw = (mm.group("text"), mm.group("target")) if mm else (body, body)
                path, l1, l2 = _parse_target(raw)
                out.append(Link(tree, path.rstrip("/"), l1, l2, folder, text.strip(), rel, n))
            for m in PIN.finditer(line):
                tip = CLICK_TEXT.search(line[m.start():])
                path, l1, l2 = _parse_target(m.group(2) + (m.group(3) or ""))
                folder = m.group(2).endswith("/")
                out.append(Link(m.group(1), path.rstrip("/"), l1, l2, folder, tip.group(1) if tip else "", rel, n))
    return out


def pins(root: Path = ROOT) -> dict[str, str]:
    conf = runpy.run_path(str(root / "conf.py"))
    return {tree: ref for tree, (_repo, ref) in conf["PINS"].items()}


def symbol_of(text: str, path: str) -> str | None:
    """The identifier a link's text names (Foo::bar() -> bar), or None for prose and file names.
    The same rule as the reviewers' check_source_refs.py and CONTRIBUTING.md."""
    t = text.strip().strip("`")
    if not t or "/" in t or t.endswith(os.path.basename(path)):
        return None
    names = [n for n in IDENT.findall(t.split("(")[0]) if n not in NOISE and len(n) > 2]
    if not names or (" " in t.split("(")[0].strip() and "::" not in t and "(" not in t):
        return None
    return names[-1]


def fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(l.rstrip() for l in lines).encode()).hexdigest()[:16]


# -- reading the trees ---------------------------------------------------------------------------------
class Tree:
    """Files of one upstream tree at given refs, read from a git clone or mirror."""

    def __init__(self, name: str, gitdir: str):
        self.name, self.gitdir = name, gitdir
        self._cache: dict[tuple[str, str], list[str] | None] = {}

    def git(self, *args: str) -> str:
        p = subprocess.run(["git", "-C", self.gitdir, *args], capture_output=True, text=True, errors="replace")
        if p.returncode != 0:
            raise SystemExit(f"sourcelock: git {' '.join(args)} in {self.gitdir} failed: {p.stderr.strip()}")
        return p.stdout

    def has_ref(self, ref: str) -> bool:
        return subprocess.run(["git", "-C", self.gitdir, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
                              capture_output=True).returncode == 0

    def lines(self, ref: str, path: str) -> list[str] | None:
        if (ref, path) not in self._cache:
            p = subprocess.run(["git", "-C", self.gitdir, "show", f"{ref}:{path}"], capture_output=True)
            ok = p.returncode == 0 and not p.stdout.startswith(b"tree ")
            self._cache[(ref, path)] = p.stdout.decode("utf-8", "replace").splitlines() if ok else None
        return self._cache[(ref, path)]

    def is_dir(self, ref: str, path: str) -> bool:
        return subprocess.run(["git", "-C", self.gitdir, "cat-file", "-e", f"{ref}:{path}/"],
                              capture_output=True).returncode == 0 and \
            subprocess.run(["git", "-C", self.gitdir, "cat-file", "-t", f"{ref}:{path}"],
                           capture_output=True, text=True).stdout.strip() == "tree"

    def renamed(self, old: str, new: str, path: str) -> str | None:
        """Where git's rename detection says ``path`` went between the refs (None: deleted)."""
        out = self.git("diff", "--name-status", "-M", old, new, "--", path, *self._dir_of(path))
        for row in out.splitlines():
            cols = row.split("\t")
            if cols[0].startswith("R") and len(cols) == 3 and cols[1] == path:
                return cols[2]
        # a wider look: renames out of the file's folder
        out = self.git("diff", "--name-status", "-M", "--diff-filter=R", old, new)
        for row in out.splitlines():
            cols = row.split("\t")
            if len(cols) == 3 and cols[1] == path:
                return cols[2]
        return None

    @staticmethod
    def _dir_of(path: str) -> list[str]:
        d = os.path.dirname(path)
        return [d] if d else []


def open_trees(specs: list[str]) -> dict[str, Tree]:
    trees = {}
    for spec in specs:
        if "=" not in spec:
            raise SystemExit(f"sourcelock: --git takes TREE=DIR, not {spec!r}")
        name, d = spec.split("=", 1)
        if name not in TREES:
            raise SystemExit(f"sourcelock: unknown tree {name!r} (one of {', '.join(TREES)})")
        if d:
            trees[name] = Tree(name, d)
    return trees


# -- lock ----------------------------------------------------------------------------------------------
def build_lock(root: Path, trees: dict[str, Tree], refs: dict[str, str],
               links: list[Link] | None = None) -> tuple[dict, list[str]]:
    """The lock for ``links`` at ``refs``, and the problems (file:line: message) found on the way."""
    links = links_in(root) if links is None else links
    problems, entries = [], {}
    missing = sorted({l.tree for l in links} - set(trees))
    if missing:
        raise SystemExit(f"sourcelock: the book links {', '.join(missing)} but no clone was given: pass "
                         + " ".join(f"--git {t}=DIR" for t in missing) + f" ({FIX})")
    for t in sorted({l.tree for l in links}):
        if not trees[t].has_ref(refs[t]):
            raise SystemExit(f"sourcelock: {trees[t].gitdir} has no commit {refs[t]!r} (the {t} pin): fetch it first")
    for l in links:
        tree, ref = trees[l.tree], refs[l.tree]
        where = f"{l.file}:{l.line}: {{{l.tree}}} link {l.target}"
        if l.folder:
            if not tree.is_dir(ref, l.path):
                problems.append(f"{where}: no folder {l.path!r} at {ref}")
                continue
            entries[l.key] = "folder"
            continue
        src = tree.lines(ref, l.path)
        if src is None:
            problems.append(f"{where}: no file {l.path!r} at {ref}")
            continue
        if l.l1 is None:
            entries[l.key] = "file"
            continue
        if not (1 <= l.l1 <= l.l2 <= len(src)):
            problems.append(f"{where}: lines {l.l1}-{l.l2} lie outside {l.path} ({len(src)} lines at {ref})")
            continue
        sym = symbol_of(l.text, l.path)
        if sym and not any(sym in s for s in src[max(l.l1 - 4, 0):l.l2 + 3]):
            problems.append(f"{where}: the text names {sym!r}, which does not occur at lines {l.l1}-{l.l2} "
                            f"(±3) of {l.path} at {ref}")
        entries[l.key] = fingerprint(src[l.l1 - 1:l.l2])
    return {"pins": {t: refs[t] for t in TREES if t in refs}, "links": dict(sorted(entries.items()))}, problems


def write_lock(root: Path, lock: dict) -> None:
    (root / LOCK_NAME).write_text(json.dumps(lock, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_lock(root: Path = ROOT) -> dict:
    return json.loads((root / LOCK_NAME).read_text(encoding="utf-8"))


def check_lock(root: Path = ROOT) -> list[str]:
    """Offline: every link has a lock entry, no entry is orphaned, the lock is for conf.py's pins."""
    lockfile = root / LOCK_NAME
    if not lockfile.exists():
        return [f"{LOCK_NAME}:1: missing: write it with {FIX}"]
    text = lockfile.read_text(encoding="utf-8")
    lock = json.loads(text)
    problems = []
    for tree, ref in pins(root).items():
        if lock.get("pins", {}).get(tree) != ref:
            problems.append(f"{LOCK_NAME}:1: the lock is for {tree} {lock.get('pins', {}).get(tree)!r} but conf.py pins "
                            f"{ref!r}: refresh it with {FIX}")
    entries = lock.get("links", {})
    used = set()
    for l in links_in(root):
        used.add(l.key)
        if l.key not in entries:
            problems.append(f"{l.file}:{l.line}: {{{l.tree}}} link {l.target} has no entry in {LOCK_NAME} (a new link, "
                            f"or its path or line range changed): refresh the lock with {FIX}")
    line_of = {k: n for n, row in enumerate(text.splitlines(), 1) for k in [_key_on(row)] if k}
    for k in sorted(set(entries) - used):
        problems.append(f"{LOCK_NAME}:{line_of.get(k, 1)}: entry {k} is used by no link in the book: refresh the lock with {FIX}")
    return problems


def _key_on(row: str) -> str | None:
    m = re.match(r'\s*"([a-z]+:[^"]+)":', row)
    return m.group(1) if m else None


# -- re-pin --------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    key: str
    tree: str
    kind: str                       # unchanged | moved | changed | gone
    old: tuple[str, int | None, int | None]
    new: tuple[str, int | None, int | None] | None = None
    note: str = ""
    diff: list[str] = field(default_factory=list)


def _hunks(tree: Tree, old: str, new: str, path: str) -> tuple[list[tuple[int, int, int, int]], set[int]]:
    """The file's diff hunks between the refs (old start, old count, new start, new count) and the
    set of old lines they touch."""
    out = tree.git("diff", "-U0", "--no-color", old, new, "--", path)
    touched: set[int] = set()
    hunks = []
    for row in out.splitlines():
        m = re.match(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", row)
        if m:
            a, an = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            b, bn = int(m.group(3)), int(m.group(4) if m.group(4) is not None else 1)
            hunks.append((a, an, b, bn))
            touched.update(range(a, a + an))
    return hunks, touched


def _map_line(hunks, n: int) -> int:
    """Where untouched old line n lands in the new file."""
    shift = 0
    for a, an, b, bn in hunks:
        end = a + an - 1 if an else a  # an == 0: pure insertion after line a
        if (an and end < n) or (not an and a < n):
            shift += bn - an
    return n + shift


def classify(tree: Tree, old_ref: str, new_ref: str, key: str) -> Verdict:
    path_part = key.split(":", 1)[1]
    folder = path_part.endswith("/")
    path, l1, l2 = _parse_target(path_part)
    path = path.rstrip("/")
    v = Verdict(key, tree.name, "unchanged", (path, l1, l2))
    if folder:
        if tree.is_dir(new_ref, path):
            return v
        v.kind, v.note = "gone", "the folder no longer exists"
        return v
    old_src = tree.lines(old_ref, path) or []
    new_src = tree.lines(new_ref, path)
    if new_src is None:
        v.kind = "gone"
        to = tree.renamed(old_ref, new_ref, path)
        v.note = f"renamed to {to}" if to else "deleted"
        if to and l1 is not None:
            found = _find_block(tree.lines(new_ref, to) or [], old_src[l1 - 1:l2], l1)
            if found:
                v.new = (to, found, found + (l2 - l1))
                v.note += f"; the same lines are at {to}#L{found}-L{found + l2 - l1}"
        return v
    if l1 is None:
        return v
    old_block = old_src[l1 - 1:l2]
    if new_src[l1 - 1:l2] == old_block:
        v.new = (path, l1, l2)
        return v
    hunks, touched = _hunks(tree, old_ref, new_ref, path)
    if not touched.intersection(range(l1, l2 + 1)):
        n1, n2 = _map_line(hunks, l1), _map_line(hunks, l2)
        if new_src[n1 - 1:n2] == old_block:
            v.kind, v.new = "moved", (path, n1, n2)
            return v
    found = _find_block(new_src, old_block, l1)
    if found:
        v.kind, v.new = "moved", (path, found, found + (l2 - l1))
        return v
    # changed: show the old lines against the lines they map to now
    n1 = _map_line(hunks, l1) if l1 not in touched else _nearest_map(hunks, touched, l1)
    n2 = max(n1, _map_line(hunks, l2) if l2 not in touched else _nearest_map(hunks, touched, l2, after=True))
    n2 = min(n2, len(new_src))
    v.kind, v.new = "changed", (path, n1, n2)
    v.diff = list(difflib.unified_diff(old_block, new_src[n1 - 1:n2], f"{path}@{old_ref[:12]}#L{l1}-L{l2}",
                                       f"{path}@{new_ref[:12]}#L{n1}-L{n2}", lineterm="", n=2))
    return v


def _nearest_map(hunks, touched: set[int], n: int, after: bool = False) -> int:
    """A touched line's best guess in the new file: the hunk's start (or end) on the new side."""
    for a, an, b, bn in hunks:
        if a <= n < a + max(an, 1):
            return max(1, b + (max(bn, 1) - 1 if after else 0))
    return n


def _find_block(src: list[str], block: list[str], near: int) -> int | None:
    """The 1-based start of ``block`` in ``src`` (whitespace at line ends ignored), nearest to ``near``."""
    if not block:
        return None
    want = [l.rstrip() for l in block]
    norm = [l.rstrip() for l in src]
    hits = [i + 1 for i in range(len(norm) - len(want) + 1) if norm[i:i + len(want)] == want]
    return min(hits, key=lambda h: abs(h - near)) if hits else None


def repin(root: Path, trees: dict[str, Tree], to: dict[str, str]) -> tuple[list[Verdict], list[Link]]:
    lock, refs = read_lock(root), pins(root)
    stale = check_lock(root)
    if stale:
        raise SystemExit("sourcelock: the lock is not in step with the book; fix that first:\n" + "\n".join(stale[:20]))
    for t, new in to.items():
        if t not in trees:
            raise SystemExit(f"sourcelock: --to {t}={new} needs --git {t}=DIR")
        if not trees[t].has_ref(new):
            raise SystemExit(f"sourcelock: {trees[t].gitdir} has no ref {new!r}: fetch it first")
    verdicts = []
    for key, fp in lock["links"].items():
        t = key.split(":", 1)[0]
        if t not in to:
            continue
        v = classify(trees[t], refs[t], to[t], key)
        path, l1, l2 = v.old
        if l1 is not None and fp not in ("file", "folder"):
            now = fingerprint((trees[t].lines(refs[t], path) or [])[l1 - 1:l2])
            if now != fp:
                raise SystemExit(f"sourcelock: {LOCK_NAME} entry {key} does not match {trees[t].gitdir} at {refs[t]}: "
                                 f"is that clone the right tree? ({FIX})")
        verdicts.append(v)
    return verdicts, links_in(root)


def chapter_of(page: str) -> str:
    parts = Path(page).parts
    return parts[1] if len(parts) > 2 else "(front)"


def paragraph_at(root: Path, page: str, line: int) -> str:
    lines = (root / page).read_text(encoding="utf-8").splitlines()
    a = b = line - 1
    while a > 0 and lines[a - 1].strip() and not lines[a - 1].lstrip().startswith(("```", "#")):
        a -= 1
    while b + 1 < len(lines) and lines[b + 1].strip() and not lines[b + 1].lstrip().startswith("```"):
        b += 1
    if b - a > 12:  # a diagram or a long list: the lines around the link are enough
        a, b = max(a, line - 4), min(b, line + 2)
    return "\n".join(lines[a:b + 1])


def render_report(root: Path, verdicts: list[Verdict], links: list[Link], refs: dict, to: dict) -> str:
    by_key = {v.key: v for v in verdicts}
    kinds = ("unchanged", "moved", "changed", "gone")
    per_page: dict[str, Counter] = defaultdict(Counter)
    per_chapter: dict[str, Counter] = defaultdict(Counter)
    for l in links:
        v = by_key.get(l.key)
        if v:
            per_page[l.file][v.kind] += 1
            per_chapter[chapter_of(l.file)][v.kind] += 1
    total = Counter()
    for c in per_chapter.values():
        total.update(c)
    keys = Counter(v.kind for v in verdicts)
    out = ["# Re-pin report", "",
           "From " + ", ".join(f"{t} `{refs[t]}`" for t in to) + " to " + ", ".join(f"{t} `{r}`" for t, r in to.items()) + ".", "",
           f"Distinct linked targets: {len(verdicts)} — " + ", ".join(f"{keys[k]} {k}" for k in kinds) + ".",
           f"Links in the book (a target may be linked more than once): {sum(total.values())} — "
           + ", ".join(f"{total[k]} {k}" for k in kinds) + ".", "",
           "## Per chapter", "", "| chapter | links | unchanged | moved | changed | gone |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for ch in sorted(per_chapter):
        c = per_chapter[ch]
        out.append(f"| {ch} | {sum(c.values())} | " + " | ".join(str(c[k]) for k in kinds) + " |")
    out += ["", "## Per page", "", "| page | links | unchanged | moved | changed | gone |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for p in sorted(per_page):
        c = per_page[p]
        out.append(f"| `{p}` | {sum(c.values())} | " + " | ".join(str(c[k]) for k in kinds) + " |")
    out += ["", "## Paragraphs to re-read", "",
            "Each changed or gone target, the places that link it, the paragraph around each place, and the code then and now.", ""]
    places: dict[str, list[Link]] = defaultdict(list)
    for l in links:
        places[l.key].append(l)
    for v in sorted((v for v in verdicts if v.kind in ("changed", "gone")), key=lambda v: (places[v.key][0].file, places[v.key][0].line) if places[v.key] else ("", 0)):
        out.append(f"### `{v.key}` — {v.kind}" + (f" ({v.note})" if v.note else ""))
        out.append("")
        for l in places[v.key]:
            para = paragraph_at(root, l.file, l.line)
            out.append(f"- `{l.file}:{l.line}` — link text `{l.text}`")
            out.append("")
            out.append("  " + "\n  ".join("> " + s for s in para.splitlines()))
            out.append("")
        if v.diff:
            out += ["```diff", *v.diff, "```", ""]
    moved = [v for v in verdicts if v.kind == "moved"]
    if moved:
        out += ["## Moved targets (rewritten by `make repin`)", ""]
        out += [f"- `{v.key}` → `{target_of(*v.new, False)}`" for v in moved]
        out.append("")
    return "\n".join(out) + "\n"


def summary_lines(verdicts: list[Verdict], links: list[Link]) -> list[str]:
    by_key = {v.key: v for v in verdicts}
    per_chapter: dict[str, Counter] = defaultdict(Counter)
    for l in links:
        if l.key in by_key:
            per_chapter[chapter_of(l.file)][by_key[l.key].kind] += 1
    rows = [f"{'chapter':<24}{'links':>7}{'unchanged':>11}{'moved':>7}{'changed':>9}{'gone':>6}"]
    tot = Counter()
    for ch in sorted(per_chapter):
        c = per_chapter[ch]
        tot.update(c)
        rows.append(f"{ch:<24}{sum(c.values()):>7}{c['unchanged']:>11}{c['moved']:>7}{c['changed']:>9}{c['gone']:>6}")
    rows.append(f"{'total':<24}{sum(tot.values()):>7}{tot['unchanged']:>11}{tot['moved']:>7}{tot['changed']:>9}{tot['gone']:>6}")
    return rows


def rewrite_moved(root: Path, verdicts: list[Verdict]) -> int:
    """Rewrite the targets of moved links in book/ and in the catalogs (which carry the same targets)."""
    moves = {v.key: target_of(*v.new, False) for v in verdicts if v.kind == "moved"}
    if not moves:
        return 0
    count = 0

    def role(m: re.Match) -> str:
        nonlocal count
        tree, body = m.group(1), m.group(3)
        mm = re.match(r"^(?P<text>.*?)(?P<sp>\s*)<(?P<target>[^<>]+)>$", body, re.S)
        raw = mm.group("target") if mm else body
        path, l1, l2 = _parse_target(raw)
        new = moves.get(key_of(tree, path.rstrip("/"), l1, l2, bool(m.group(2))))
        if not new:
            return m.group(0)
        count += 1
        body = f"{mm.group('text')}{mm.group('sp')}<{new}>" if mm else new
        return f"{{{tree}{m.group(2) or ''}}}`{body}`"

    def pin(m: re.Match) -> str:
        nonlocal count
        path, l1, l2 = _parse_target(m.group(2) + (m.group(3) or ""))
        new = moves.get(key_of(m.group(1), path.rstrip("/"), l1, l2, False))
        if not new:
            return m.group(0)
        count += 1
        return f"pin:{m.group(1)}/{new}"

    files = [p for p in (root / "book").rglob("*.md")] + [p for p in (root / "locales").rglob("*.po")]
    for f in files:
        text = f.read_text(encoding="utf-8")
        new = PIN.sub(pin, ROLE.sub(role, text))
        if new != text:
            f.write_text(new, encoding="utf-8")
    return count


def move_pins(root: Path, to: dict[str, str]) -> None:
    conf = root / "conf.py"
    text = conf.read_text(encoding="utf-8")
    current = pins(root)
    for tree, ref in to.items():
        pat = re.compile(rf'("{tree}":\s*\("[^"]+",\s*)"{re.escape(current[tree])}"')
        text, n = pat.subn(lambda m: f'{m.group(1)}"{ref}"', text)
        if n != 1:
            raise SystemExit(f"sourcelock: could not find the {tree} pin in conf.py's PINS")
    conf.write_text(text, encoding="utf-8")


# -- command line --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["lock", "check", "report", "apply"])
    ap.add_argument("--git", action="append", default=[], help="TREE=DIR: a clone or mirror of envoy, istio, proxy or ztunnel")
    ap.add_argument("--to", action="append", default=[], help="TREE=REF: the new ref (report, apply)")
    ap.add_argument("--root", default=str(ROOT), help="the book's repository (default: this one)")
    ap.add_argument("--out", default=None, help="the report's folder (default: ROOT/_build/repin)")
    a = ap.parse_args(argv)
    root = Path(a.root).resolve()
    if a.command == "check":
        problems = check_lock(root)
        for p in problems:
            print(p)
        print(f"source lock: {len(problems)} problems")
        return 1 if problems else 0
    trees = open_trees(a.git)
    if a.command == "lock":
        lock, problems = build_lock(root, trees, pins(root))
        for p in problems:
            print(p)
        if problems:
            print(f"source lock: {len(problems)} problems; {LOCK_NAME} was not written")
            return 1
        write_lock(root, lock)
        print(f"source lock: {len(lock['links'])} targets written to {LOCK_NAME}")
        return 0
    to = {}
    for spec in a.to:
        if "=" not in spec or spec.split("=", 1)[0] not in TREES:
            raise SystemExit(f"sourcelock: --to takes TREE=REF with TREE one of {', '.join(TREES)}, not {spec!r}")
        t, r = spec.split("=", 1)
        if r:
            to[t] = r
    if not to:
        raise SystemExit("sourcelock: say which pins move, e.g. --to istio=1.31.0-rc.0 (make: ISTIO=1.31.0-rc.0)")
    refs = pins(root)
    verdicts, links = repin(root, trees, to)
    out = Path(a.out) if a.out else root / "_build" / "repin"
    out.mkdir(parents=True, exist_ok=True)
    report = render_report(root, verdicts, links, refs, to)
    (out / "report.md").write_text(report, encoding="utf-8")
    for row in summary_lines(verdicts, links):
        print(row)
    print(f"report: {out / 'report.md'}")
    if a.command == "report":
        return 0
    n = rewrite_moved(root, verdicts)
    move_pins(root, to)
    lock, problems = build_lock(root, trees, pins(root), [l for l in links_in(root)])
    write_lock(root, lock)
    print(f"repin: moved the pins ({', '.join(f'{t} {r}' for t, r in to.items())}), rewrote {n} moved links, "
          f"wrote {len(lock['links'])} lock entries")
    todo = [v for v in verdicts if v.kind in ("changed", "gone")]
    if todo or problems:
        print(f"repin: {len(todo)} changed or gone targets are left for authors (see the report); "
              f"{len(problems)} links fail the lock's checks at the new pins:")
        for p in problems:
            print("  " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
