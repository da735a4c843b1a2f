"""The lab (labs/) is linted and validated, and so is every Istio resource the book shows.

Three checks, each proven by a test that feeds it a broken copy and expects the file and line:

* every shell script under labs/ passes ``shellcheck`` (Debian package ``shellcheck``);
* every Kubernetes manifest under labs/ validates with ``kubernetes-validate`` (PyPI, pinned in
  requirements.txt) in strict mode, for the Kubernetes version of the lab's kind node image
  (``KUBERNETES_VERSION`` in labs/kind/lib.sh);
* every Istio resource (a YAML document whose apiVersion ends in ``.istio.io/<version>``) under
  labs/ and in the fenced ``yaml`` blocks of book/**/*.md validates against Istio's CRD schemas,
  with unknown fields rejected;
* every Gateway API object under labs/ (the ``ambient`` state's waypoint) validates against the
  Gateway CRD schema of Gateway API v1.5.1 (the version istio/istio 1.30.3 requires), copied into
  tests/schemas/ from the CRDs Istio's own tests install at the pin, with unknown fields rejected;
  a waypoint (class ``istio-waypoint``) must also carry the listener and label values that
  ``istioctl waypoint apply`` generates at 1.30.3 (istioctl/pkg/waypoint/waypoint.go).

It also runs labs/kind/setup.sh against stub commands to show that it stops, before any download,
with a message naming the missing tool, the too-old version or the silent container engine.

The Istio schemas come from the npm package ``@kubernetes-models/istio`` (pinned in
package.json), the only registry package found that carries them for a recent Istio line. Its
3.0.1 release is generated from Istio 1.29.2's ``crd-all.gen.yaml``. Between 1.29.2 and the
book's pin 1.30.3 that file changed only by: a new kind ``TrafficExtension``
(extensions.istio.io/v1alpha1, reported as not checkable); ``trustDomains`` and
``notTrustDomains`` in AuthorizationPolicy ``rules[].from[].source``; ``disableContextPropagation``
in Telemetry ``tracing[]``; and a CEL rule fix. tests/istio_schema_check.mjs accepts those fields
by name. Upgrade the package when it follows Istio 1.30, and drop that list.

The CRD schemas do not forbid unknown fields (Kubernetes prunes them silently), so the checker
finds them itself: it replaces each field's value with a value no JSON type accepts and sees
whether the schema's validator complains at that path (a known field) or not (an unknown one).
Fields the schema leaves free-form (EnvoyFilter ``patch.value``, WasmPlugin ``pluginConfig``) are
not looked into.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_labs import (BOOK, LABS, ROOT, gateway_api_problems, is_istio, istio_docs_in,  # noqa: E402
                        istio_problems, kubernetes_problems, kubernetes_version, lab_yaml_files, rel,
                        shell_scripts, shellcheck_problems, yaml_docs)


# -- The checks on the repository -----------------------------------------------------------------

def test_lab_shell_scripts_pass_shellcheck():
    scripts = shell_scripts()
    assert scripts, "no shell scripts found under labs/"
    problems = shellcheck_problems(scripts)
    assert not problems, "shellcheck found problems:\n" + "\n".join(problems)


def test_lab_manifests_are_valid_kubernetes():
    files = lab_yaml_files()
    assert files, "no manifests found under labs/"
    problems = kubernetes_problems(files, kubernetes_version())
    assert not problems, "invalid Kubernetes manifests:\n" + "\n".join(problems)


def test_istio_resources_in_labs_and_book_are_valid_for_istio_1_30():
    docs, problems = istio_docs_in(lab_yaml_files(), sorted(BOOK.rglob("*.md")))
    assert any(d.path.is_relative_to(LABS) for d in docs if is_istio(d)), "expected Istio resources under labs/"
    problems += istio_problems(docs) + gateway_api_problems(docs)
    assert not problems, "invalid Istio resources:\n" + "\n".join(problems)


def test_lab_gateway_api_objects_are_valid_for_gateway_api_1_5_1():
    docs = [d for f in lab_yaml_files() for d in yaml_docs(f, f.read_text(encoding="utf-8"))]
    gateways = [d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == "Gateway"
                and str(d.data.get("apiVersion", "")).startswith("gateway.networking.k8s.io/")]
    assert gateways, "expected the ambient state's waypoint (a Gateway) under labs/"
    problems = gateway_api_problems(docs)
    assert not problems, "invalid Gateway API objects:\n" + "\n".join(problems)


# The profiles manifests/profiles/ holds at Istio 1.30.3 that the lab can run on.
LAB_PROFILES = ("default", "ambient")


def test_every_lab_state_is_complete():
    states = sorted(p for p in (LABS / "kind" / "states").iterdir() if p.is_dir())
    assert {"access-log", "strict-mtls", "ambient"} <= {p.name for p in states}
    for state in states:
        assert any(p.suffix == ".yaml" for p in state.iterdir()), f"{rel(state)}: no manifest"
        profile = state / "istio-profile"
        if profile.exists():
            assert profile.read_text().strip() in LAB_PROFILES, f"{rel(profile)}: not one of {LAB_PROFILES}"
        for hook in ("before.sh", "after.sh"):
            if (state / hook).exists():
                assert (state / hook) in shell_scripts(), f"{rel(state / hook)} is not shellchecked"
    ambient = LABS / "kind" / "states" / "ambient"
    assert (ambient / "istio-profile").read_text().strip() == "ambient"
    ns = yaml.safe_load((ambient / "namespace.yaml").read_text())
    assert ns["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"
    assert "istio-injection" not in ns["metadata"]["labels"]
    # The state is documented in the lab appendix, with a label the Try it boxes name.
    appendix = "\n".join(p.read_text() for p in (BOOK / "appendix-lab-env").glob("*.md"))
    for state in states:
        assert f"(lab-state-{state.name})=" in appendix, f"no label lab-state-{state.name} in book/appendix-lab-env"


def test_lab_images_are_pinned_by_tag():
    bad = []
    for f in lab_yaml_files():
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"^\s*(?:-\s*)?image:\s*(\S+)", line)
            if m:
                ref = m.group(1).strip("\"'")
                tag = ref.rsplit("/", 1)[-1].partition(":")[2].partition("@")[0]
                if not tag or tag.startswith("latest"):
                    bad.append(f"{rel(f)}:{n}: image {ref} is not pinned by a release tag")
    assert not bad, "\n".join(bad)


def test_lab_pins_match_the_book():
    lib = (LABS / "kind" / "lib.sh").read_text()
    conf = (ROOT / "conf.py").read_text()
    istio_pin = re.search(r'"istio":\s*\("istio/istio",\s*"([^"]+)"\)', conf).group(1)
    assert f'ISTIO_VERSION="{istio_pin}"' in lib, f"labs/kind/lib.sh must install Istio {istio_pin}, the book's pin"
    image = re.search(r'^KIND_NODE_IMAGE="kindest/node:v([0-9.]+)@sha256:[0-9a-f]{64}"', lib, re.M)
    assert image, "KIND_NODE_IMAGE must be a kindest/node image pinned by tag and digest"
    assert image.group(1) == kubernetes_version(), "KIND_NODE_IMAGE and KUBERNETES_VERSION disagree"
    # Istio 1.30 supports Kubernetes >= 1.32 (MinK8SVersion in istioctl/pkg/install/k8sversion).
    assert tuple(int(x) for x in kubernetes_version().split(".")[:2]) >= (1, 32)


# -- Each check, fed a broken copy, names the file and line -----------------------------------------

def test_shellcheck_reports_file_and_line(tmp_path):
    bad = tmp_path / "broken.sh"
    bad.write_text("#!/usr/bin/env bash\nset -euo pipefail\n\nfor f in $(ls *.txt); do\n  echo $f\ndone\n")
    problems = shellcheck_problems([bad])
    assert any(re.search(r"broken\.sh:4:\d+: .*SC2045", p) for p in problems), problems
    assert any(re.search(r"broken\.sh:5:\d+: .*SC2086", p) for p in problems), problems


def test_kubernetes_check_reports_file_and_line(tmp_path):
    src = (LABS / "kind" / "workloads" / "httpbin.yaml").read_text()
    assert "          imagePullPolicy: IfNotPresent\n" in src
    bad = tmp_path / "httpbin.yaml"
    bad.write_text(src.replace("          imagePullPolicy: IfNotPresent\n", "          imagePullPolcy: IfNotPresent\n"))
    line = bad.read_text().splitlines().index("          imagePullPolcy: IfNotPresent") + 1
    problems = kubernetes_problems([bad], kubernetes_version())
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{bad}:{line}: Deployment lab/httpbin:"), problems
    assert "imagePullPolcy" in problems[0]


def test_istio_check_reports_file_and_line_in_a_manifest(tmp_path):
    src = (LABS / "kind" / "states" / "strict-mtls" / "peer-authentication.yaml").read_text()
    bad = tmp_path / "pa.yaml"
    bad.write_text(src.replace("    mode: STRICT", "    mdoe: STRICT"))
    line = bad.read_text().splitlines().index("    mdoe: STRICT") + 1
    docs, problems = istio_docs_in([bad], [])
    problems += istio_problems(docs)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{bad}:{line}: PeerAuthentication lab/default: /spec/mtls/mdoe: unknown field"), problems


def test_gateway_api_check_reports_file_and_line(tmp_path):
    src = (LABS / "kind" / "states" / "ambient" / "waypoint.yaml").read_text()
    assert "      port: 15008\n" in src and "  gatewayClassName: istio-waypoint\n" in src
    bad = tmp_path / "waypoint.yaml"
    bad.write_text(src.replace("      port: 15008\n", "      port: 15009\n")
                   .replace("  gatewayClassName: istio-waypoint\n", "  gatewayClassName: istio-waypoint\n  adresses: []\n")
                   .replace("istio.io/waypoint-for: service", "istio.io/waypoint-for: services"))
    lines = bad.read_text().splitlines()
    problems = gateway_api_problems(yaml_docs(bad, bad.read_text()))
    assert sorted(problems) == sorted([
        f"{bad}:{lines.index('  adresses: []') + 1}: Gateway lab/waypoint: /spec/adresses: unknown field \"adresses\" "
        "(not in the Gateway schema of Gateway API v1.5.1)",
        f"{bad}:{lines.index('  listeners:') + 1}: Gateway lab/waypoint: a waypoint needs the listener "
        "{'name': 'mesh', 'port': 15008, 'protocol': 'HBONE'} that istioctl 1.30.3 generates",
        f"{bad}:{lines.index('    istio.io/waypoint-for: services') + 1}: Gateway lab/waypoint: istio.io/waypoint-for "
        "must be one of service, workload, all, none",
    ]), problems
    # A schema violation (a port out of range) is reported at its line too.
    bad.write_text(src.replace("      port: 15008\n", "      port: 150080\n"))
    problems = gateway_api_problems(yaml_docs(bad, bad.read_text()))
    line = bad.read_text().splitlines().index("      port: 150080") + 1
    assert any(p.startswith(f"{bad}:{line}: Gateway lab/waypoint: /spec/listeners/0/port: ") for p in problems), problems


def test_istio_check_reports_file_and_line_in_a_book_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "(x)=\n# A page\n\n"
        "````{admonition} Try it: a timeout\n:class: try-it\n\n"
        "```yaml\n"
        "apiVersion: networking.istio.io/v1\n"
        "kind: VirtualService\n"
        "metadata:\n  name: httpbin\n  namespace: lab\n"
        "spec:\n  hosts: [httpbin]\n  http:\n  - route:\n    - destination:\n        host: httpbin\n"
        "    timout: 2s\n"
        "```\n````\n\n"
        "```yaml\n# envoy: envoy.config.cluster.v3.Cluster\nname: not-istio\n```\n")
    line = page.read_text().splitlines().index("    timout: 2s") + 1
    docs, problems = istio_docs_in([], [page])
    problems += istio_problems(docs)
    assert problems == [f"{page}:{line}: VirtualService lab/httpbin: /spec/http/0/timout: "
                        "unknown field \"timout\" (not in the VirtualService schema) (Istio 1.30)"], problems


def test_istio_check_accepts_fields_added_in_1_30_and_rejects_wrong_values(tmp_path):
    f = tmp_path / "ap.yaml"
    f.write_text("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: a\n"
                 "spec:\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        trustDomains: [cluster.local]\n"
                 "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: b\n"
                 "spec:\n  action: ALOW\n")
    line = f.read_text().splitlines().index("  action: ALOW") + 1
    docs, _ = istio_docs_in([f], [])
    assert istio_problems(docs) == [f"{f}:{line}: AuthorizationPolicy b: /spec/action: "
                                    "must be one of ALLOW, DENY, AUDIT, CUSTOM (Istio 1.30)"]


# -- setup.sh stops early with a message that names what is missing or too old ----------------------

BASIC_TOOLS = ("bash", "env", "dirname", "awk", "sort", "head", "grep", "tar", "curl", "sha256sum", "mktemp", "rm", "uname")


def run_setup_with(tmp_path: Path, stubs: dict[str, str]) -> subprocess.CompletedProcess:
    """Run labs/kind/setup.sh with a PATH of basic tools plus the given stub commands (name -> script body).
    Every case here fails in check_prerequisites, before anything is downloaded or created."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in BASIC_TOOLS:
        real = shutil.which(tool)
        if real:
            (bindir / tool).symlink_to(real)
    for name, body in stubs.items():
        (bindir / name).write_text("#!/usr/bin/env bash\n" + body + "\n")
        (bindir / name).chmod(0o755)
    env = {"PATH": str(bindir), "HOME": str(tmp_path), "LANG": "C"}
    return subprocess.run([str(bindir / "bash"), str(LABS / "kind" / "setup.sh")], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


KIND_OK = 'echo "kind v0.33.0 go1.25.1 linux/amd64"'
KUBECTL_OK = 'echo "Client Version: v1.35.0"; echo "Kustomize Version: v5.7.1"'
DOCKER_OK = "exit 0"


def test_setup_names_every_missing_prerequisite(tmp_path):
    p = run_setup_with(tmp_path, {})
    assert p.returncode != 0
    for name in ("kind (>= 0.33.0)", "kubectl (>= 1.34.0)", "docker or podman"):
        assert name in p.stderr, p.stderr


@pytest.mark.parametrize("stubs, expected", [
    ({"kind": 'echo "kind v0.29.0 go1.24.2 linux/amd64"', "kubectl": KUBECTL_OK, "docker": DOCKER_OK},
     "kind v0.29.0 is too old: the lab needs kind >= 0.33.0"),
    ({"kind": KIND_OK, "kubectl": 'echo "Client Version: v1.31.4"', "docker": DOCKER_OK},
     "kubectl v1.31.4 is too old: the lab needs kubectl >= 1.34.0"),
    ({"kind": KIND_OK, "kubectl": KUBECTL_OK, "docker": "exit 1"},
     "docker is installed but its daemon does not answer"),
])
def test_setup_stops_on_a_wrong_version_or_a_silent_engine(tmp_path, stubs, expected):
    p = run_setup_with(tmp_path, stubs)
    assert p.returncode != 0 and expected in p.stderr, p.stdout + p.stderr
    assert "downloading" not in p.stdout


# -- labs/kind/env.sh is sourced from the reader's shell: bash, or zsh on macOS ------------------

@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_env_sh_works_when_sourced_from_bash_and_zsh(tmp_path, shell):
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "kubectl.log"
    (bindir / "kubectl").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (bindir / "kubectl").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C"}
    # From another directory, so that the script must find its own folder.
    script = f'source {LABS / "kind" / "env.sh"} && printf "%s\\n" "$LAB_DIR" "${{PATH%%:*}}"'
    p = subprocess.run([exe, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    lab_dir, first_path = p.stdout.split()
    assert lab_dir == str(LABS / "kind")
    assert first_path == str(LABS / "kind" / ".state" / "bin")
    assert log.read_text().strip() == "config use-context kind-istio-insider"


def test_env_sh_refuses_other_shells_and_being_run(tmp_path):
    env_sh = str(LABS / "kind" / "env.sh")
    p = subprocess.run(["bash", env_sh], capture_output=True, text=True)
    assert p.returncode == 1 and "source it" in p.stderr, p.stderr
    if shutil.which("dash"):
        p = subprocess.run(["dash", "-c", f". {env_sh}; echo rc=$?"], capture_output=True, text=True)
        assert "source this file from bash or zsh" in p.stderr, p.stdout + p.stderr
