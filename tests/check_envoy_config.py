#!/usr/bin/env python3
"""Check every Envoy configuration example in the book against Envoy's v3 API.

Convention (CONTRIBUTING.md): an Envoy example is a ```yaml (or ```json) block whose first line is
a comment naming the v3 message it is, for example

    # envoy: envoy.config.listener.v3.Listener

The block is parsed with the PyPI package ``envoy-data-plane`` after importing all of its modules,
so unknown fields are rejected, also inside ``typed_config`` (``@type: type.googleapis.com/...``).
A YAML block that looks like Envoy configuration but carries no such line is an error too, so an
example cannot escape the check by forgetting its marker.

Usage: check_envoy_config.py [FILE.md ...]   (default: every page under book/)
Prints ``book/page.md:LINE: message`` for each problem; exit status 1 if there is any.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
from functools import lru_cache
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bookfiles import ROOT, blocks, pages  # noqa: E402

MARKER = re.compile(r"^\s*#\s*envoy:\s*(?P<type>[\w.]+)\s*$")
LOOKS_LIKE_ENVOY = re.compile(
    r"type\.googleapis\.com/envoy\.|^(static_resources|dynamic_resources|filter_chains|virtual_hosts|"
    r"listener_filters|load_assignment|lb_policy|admin):", re.M)
FIELD_IN_ERROR = re.compile(r"Unknown field '([^']+)'|field '?([A-Za-z_]+)'?")


@lru_cache(maxsize=1)
def _load_api() -> None:
    """envoy-data-plane resolves typed_config only for message types whose modules are imported."""
    import betterproto2
    import envoy_data_plane

    for mod in pkgutil.walk_packages(envoy_data_plane.__path__, "envoy_data_plane."):
        importlib.import_module(mod.name)

    # betterproto2 re-cases every key and splits digits from letters, so the proto field
    # consecutive_5xx becomes "consecutive_5_xx" and is rejected. Keys that are already
    # snake_case proto names are kept as they are; anything else is re-cased as before.
    recase = betterproto2.safe_snake_case

    def keep_proto_names(key: str) -> str:
        return key if re.fullmatch(r"[a-z][a-z0-9_]*", key) else recase(key)

    betterproto2.safe_snake_case = keep_proto_names


def message_class(type_name: str):
    _load_api()
    module, _, cls = type_name.rpartition(".")
    try:
        return getattr(importlib.import_module(f"envoy_data_plane.{module}"), cls)
    except (ImportError, AttributeError):
        return None


def _line_of(body: str, error: str) -> int:
    """The offset (0-based) of the body line that an error message points at, else 0."""
    for m in FIELD_IN_ERROR.finditer(error):
        name = m.group(1) or m.group(2)
        for n, line in enumerate(body.splitlines()):
            if re.search(rf"(^|[\s\"'{{,]){re.escape(name)}[\"']?\s*:", line):
                return n
    return 0


def check_block(block) -> list[str]:
    if block.lang not in ("yaml", "yml", "json"):
        return []
    first = block.body.splitlines()[0] if block.body.strip() else ""
    m = MARKER.match(first)
    if not m:
        if LOOKS_LIKE_ENVOY.search(block.body) and not re.search(r"^apiVersion:", block.body, re.M):
            return [f"{block.where()}: this looks like Envoy configuration but has no "
                    f"'# envoy: <v3 message>' first line (e.g. '# envoy: envoy.config.listener.v3.Listener')"]
        return []
    type_name = m.group("type")
    cls = message_class(type_name)
    if cls is None:
        return [f"{block.where()}: '{type_name}' is not an Envoy v3 message known to envoy-data-plane"]
    try:
        data = json.loads(block.body.split("\n", 1)[1]) if block.lang == "json" else yaml.safe_load(block.body)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        off = mark.line if mark else (getattr(e, "lineno", 1) if block.lang == "json" else 0)
        return [f"{block.where(off)}: not valid {block.lang.upper()}: {e}".replace("\n", " ")]
    if not isinstance(data, dict):
        return [f"{block.where()}: an {type_name} must be a mapping"]
    try:
        cls.from_dict(data)
    except Exception as e:  # envoy-data-plane raises KeyError/TypeError/ValueError for bad input
        msg = str(e).strip("\"'")
        return [f"{block.where(_line_of(block.body, msg))}: invalid {type_name}: {msg}"]
    return []


def check_files(files) -> list[str]:
    problems: list[str] = []
    for f in files:
        for b in blocks(Path(f)):
            problems += check_block(b)
    return problems


def main(argv: list[str]) -> int:
    files = [Path(a).resolve() for a in argv] or pages(ROOT)
    problems = check_files(files)
    for p in problems:
        print(p)
    n = sum(1 for f in files for b in blocks(f) if b.lang in ("yaml", "yml", "json") and MARKER.match((b.body.splitlines() or [""])[0]))
    print(f"{n} Envoy configuration examples checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
