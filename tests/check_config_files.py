#!/usr/bin/env python3
"""Validate the project's service configuration against the services' own schemas.

`.readthedocs.yaml` against Read the Docs' schema and `.github/workflows/*.yml` against the
GitHub workflow schema, both as shipped by check-jsonschema. Errors name the file and line
(check-jsonschema reports a JSON path; this maps it back to the YAML line).

Usage: check_config_files.py [PROJECT_ROOT]
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {".readthedocs.yaml": "vendor.readthedocs", ".github/workflows/*.yml": "vendor.github-workflows"}


def _line(doc, path: str, message: str) -> int:
    """1-based line of the node a JSON path points at (or of the unexpected key it names)."""
    node, line = doc, 1
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path):
        key = part[0] if part[0] else int(part[1])
        try:
            if isinstance(key, int):
                line = node.lc.item(key)[0] + 1
            else:
                line = node.lc.key(key)[0] + 1
            node = node[key]
        except (KeyError, IndexError, AttributeError, TypeError):
            break
    m = re.search(r"\('([^']+)' was unexpected\)", message)
    if m and hasattr(node, "lc"):
        try:
            return node.lc.key(m.group(1))[0] + 1
        except (KeyError, TypeError):
            pass
    return line


def check(root: Path = ROOT) -> list[str]:
    problems = []
    for pattern, schema in SCHEMAS.items():
        for f in sorted(root.glob(pattern)):
            p = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                                "-o", "json", "-v", str(f)], capture_output=True, text=True)
            if p.returncode == 0:
                continue
            rel = f.relative_to(root)
            try:
                report = json.loads(p.stdout)
            except json.JSONDecodeError:
                problems.append(f"{rel}:1: {schema} check failed: {p.stdout}{p.stderr}".strip())
                continue
            doc = None
            try:
                doc = YAML().load(f.read_text(encoding="utf-8"))
            except Exception as e:  # a YAML syntax error: report it with its own line
                mark = getattr(e, "problem_mark", None)
                problems.append(f"{rel}:{mark.line + 1 if mark else 1}: not valid YAML: {e}".replace("\n", " "))
                continue
            for err in report.get("errors", []):
                # for "not valid under any of the given schemas", name the sub-errors that say why
                details = [e for e in err.get("sub_errors", []) if "was unexpected" in e["message"]
                           and e["message"].count("'") <= 2] or [err.get("best_match") or err]
                for d in details:
                    problems.append(f"{rel}:{_line(doc, d['path'], d['message'])}: {d['path']}: {d['message']}")
            for err in report.get("parse_errors", []):
                problems.append(f"{rel}:1: {err}")
    return problems


def main(argv):
    root = Path(argv[0]).resolve() if argv else ROOT
    return report(check(root), "service configuration")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
