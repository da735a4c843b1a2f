"""The interception lab of Chapter 4 (labs/interception/) runs on the real kernel and shows the
four behaviours its page explains: outbound capture with the original destination recovered,
inbound capture, the proxy UID (and a UID 0 / GID 1337 proxy) passing uncaptured, and the
localhost exemptions. Its break mode shows a bounded redirect loop. Offline, the rules run.sh
installs are compared with labs/interception/expected-rules.txt, the pinned istio-iptables golden
output plus the rules the default flags add."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

LAB = ROOT / "labs" / "interception"
RUN = LAB / "run.sh"
EXPECTED = LAB / "expected-rules.txt"
ISTIO_PIN = "1.30.3"
GOLDEN = "tools/istio-iptables/pkg/capture/testdata/inbound-ports-wildcard.golden"
RUN_GO = "tools/istio-iptables/pkg/capture/run.go"


def _missing() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the lab creates network namespaces and iptables rules)")
    for cmd in ("ip", "iptables", "iptables-restore", "iptables-save", "python3"):
        if shutil.which(cmd) is None:
            missing.append(f"the `{cmd}` command")
    return missing


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def lab_run():
    missing = _missing()
    if missing:
        pytest.skip("interception lab needs " + ", ".join(missing))
    p, pid = _run()
    return p, pid, _namespaces()


def _run(*args: str):
    """Run the lab; return the finished process and the PID that named its namespaces."""
    proc = subprocess.Popen(["bash", str(RUN), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), proc.pid


def _ours(pid: int) -> set[str]:
    # run.sh names its namespaces after its own PID, so concurrent runs never collide
    return {f"ilab-pod-{pid}", f"ilab-peer-{pid}"}


def _block(output: str, label: str) -> str:
    """The lines a probe printed, from its header line to its RESULT line."""
    m = re.search(rf"^{re.escape(label)}: .*?^RESULT {re.escape(label)} .*?$", output, re.M | re.S)
    assert m, f"no probe {label!r} in the lab output:\n{output}"
    return m.group(0)


@pytest.mark.lab
def test_lab_passes_and_cleans_up(lab_run):
    p, pid, after = lab_run
    assert p.returncode == 0, f"run.sh failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert "SUMMARY PASS" in p.stdout
    assert not re.findall(r"^RESULT \S+ FAIL", p.stdout, re.M)
    assert not (_ours(pid) & after), f"namespaces left behind: {sorted(_ours(pid) & after)}"


@pytest.mark.lab
def test_a_outbound_capture_recovers_original_destination(lab_run):
    out = lab_run[0].stdout
    block = _block(out, "a-outbound")
    assert re.search(r"proxy:15001 +accepted 192\.0\.2\.10:\d+ -> 127\.0\.0\.1:15001, "
                     r"SO_ORIGINAL_DST=192\.0\.2\.20:8080", block), block
    assert "RESULT a-outbound PASS path=proxy:15001>peer:8080" in block


@pytest.mark.lab
def test_b_inbound_capture(lab_run):
    out = lab_run[0].stdout
    block = _block(out, "b-inbound")
    assert re.search(r"proxy:15006 +accepted 192\.0\.2\.20:\d+ -> 192\.0\.2\.10:15006, "
                     r"SO_ORIGINAL_DST=192\.0\.2\.10:9080", block), block
    assert re.search(r"app:9080 +accepted 127\.0\.0\.6:\d+ -> 192\.0\.2\.10:9080", block), block
    assert "RESULT b-inbound PASS path=proxy:15006>app:9080" in block
    # An excluded inbound port (-d 15090,15021,15020) reaches its listener directly.
    assert "RESULT b-inbound-excluded-port PASS path=proxy:15021" in out


@pytest.mark.lab
def test_c_proxy_uid_passes_uncaptured(lab_run):
    out = lab_run[0].stdout
    block = _block(out, "c-proxy-uid-outbound")
    assert "uid=1337 gid=1337 connects to 192.0.2.20:8080" in block
    assert "proxy:" not in block.split("\n", 1)[1], block
    assert "RESULT c-proxy-uid-outbound PASS path=peer:8080" in block
    # The proxy's own forwarded connection in (a) reached the peer directly, too.
    assert re.search(r"proxy:15001 +forwarded as uid=1337 gid=1337", _block(out, "a-outbound"))


@pytest.mark.lab
def test_c_gid_only_proxy(lab_run):
    """A proxy running as UID 0 with GID 1337 (NET_BIND_SERVICE or TPROXY in the injection
    template): the GID RETURN keeps its upstream connections uncaptured, but its connection to
    the pod's own IP is returned by the loopback UID rule and never reaches the inbound port."""
    out = lab_run[0].stdout
    assert "RESULT c-gid-only-outbound PASS path=peer:8080" in _block(out, "c-gid-only-outbound")
    assert "RESULT c-gid-only-to-pod-ip PASS path=app:9080" in _block(out, "c-gid-only-to-pod-ip")
    counters = dict((rule, int(n)) for n, rule in
                    re.findall(r"^\[(\d+):\d+\] (-A ISTIO_OUTPUT .*)$", out, re.M))
    gid = [rule for rule in counters if "--gid-owner 1337" in rule]
    assert len(gid) == 3, counters
    # The two GID twins of the UID rules never match; only the plain GID RETURN does.
    assert [counters[r] for r in gid] == [0, 0, 1], counters


@pytest.mark.lab
def test_d_localhost_exemptions(lab_run):
    out = lab_run[0].stdout
    for label in ("d-app-to-localhost", "d-app-to-own-pod-ip", "d-proxy-uid-to-localhost"):
        assert f"RESULT {label} PASS path=app:9080" in _block(out, label)
    # Only the proxy UID going to the pod's own IP over lo is sent to the inbound listener.
    assert "RESULT c-proxy-uid-to-pod-ip PASS path=proxy:15006>app:9080" in out


def test_lab_script_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    p = subprocess.run(["shellcheck", "--severity=style", str(RUN)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_lab_programs_compile():
    path = LAB / "lab.py"
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


@pytest.mark.lab
def test_without_the_127_0_0_6_rule_the_inbound_path_loops():
    missing = _missing()
    if missing:
        pytest.skip("interception lab needs " + ", ".join(missing))
    p, pid = _run("--without-127.0.0.6-rule")
    assert p.returncode == 0 and "SUMMARY LOOP" in p.stdout, p.stdout + p.stderr
    m = re.search(r"the proxy accepted (\d+) connections from 127\.0\.0\.6 on 15006 "
                  r"before it hit its limit of (\d+)", p.stdout)
    assert m and int(m.group(1)) > 1, p.stdout
    # The loop is bounded: the proxy stops forwarding at its limit, and the client is told.
    assert int(m.group(1)) == int(m.group(2)), p.stdout
    assert "RESULT b-inbound FAIL path=proxy:15006>limit" in p.stdout
    assert len(p.stdout.splitlines()) < 80, "the break mode printed the whole loop"
    assert not (_ours(pid) & _namespaces())


# -- The lab's rules are the pinned istio-iptables output -----------------------------------------

def _expected_rules() -> list[tuple[int, str, str]]:
    """(line in expected-rules.txt, origin, rule) for every rule the lab must install."""
    out = []
    for n, line in enumerate(EXPECTED.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            origin, _, rule = line.partition("\t")
            assert rule, f"{_rel(EXPECTED)}:{n}: expected ORIGIN<TAB>RULE, got {line!r}"
            out.append((n, origin, rule))
    return out


def _lab_rules() -> list[tuple[int, str]]:
    """(line in run.sh, rule) for the -N and -A lines of the RULES here-document of run.sh."""
    lines = RUN.read_text(encoding="utf-8").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("RULES=$(cat <<'EOF'"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == "EOF")
    return [(i + 1, lines[i]) for i in range(start + 1, end) if lines[i].startswith(("-N ", "-A "))]


def _rel(path) -> str:
    return str(path.relative_to(ROOT))


def _origin(origin: str) -> str:
    kind, _, n = origin.partition(":")
    path = GOLDEN if kind == "golden" else RUN_GO
    return f"{path} line {n} at Istio {ISTIO_PIN}"


def test_lab_rules_match_the_pinned_istio_iptables_golden():
    """run.sh installs exactly the rules of expected-rules.txt, in order: the pinned golden file of
    istio-iptables plus the rules the default flags add. Runs offline."""
    expected, lab = _expected_rules(), _lab_rules()
    problems = []
    for (en, origin, want), (ln, got) in zip(expected, lab):
        if got != want:
            problems.append(f"{_rel(RUN)}:{ln}: rule {got!r} drifted from {_rel(EXPECTED)}:{en} "
                            f"{want!r} ({_origin(origin)})")
    for en, origin, want in expected[len(lab):]:
        problems.append(f"{_rel(EXPECTED)}:{en}: rule {want!r} ({_origin(origin)}) is missing "
                        f"from {_rel(RUN)}")
    for ln, got in lab[len(expected):]:
        problems.append(f"{_rel(RUN)}:{ln}: rule {got!r} is not in {_rel(EXPECTED)}")
    assert not problems, "the lab's rules drifted from the pinned istio-iptables output:\n" + \
        "\n".join(problems)


def _istio_mirror():
    for candidate in (os.environ.get("ISTIO_MIRROR"), "/work/.mirror/istio+istio/repo"):
        if candidate and os.path.isdir(candidate) and shutil.which("git"):
            return candidate
    return None


def test_expected_rules_match_the_upstream_files():
    """When a git mirror of istio/istio is at hand (ISTIO_MIRROR), expected-rules.txt still quotes
    the golden file and names the lines of run.go that append the other rules."""
    mirror = _istio_mirror()
    if mirror is None:
        pytest.skip("no istio/istio git mirror (set ISTIO_MIRROR to check against upstream)")

    def show(path: str) -> list[str]:
        p = subprocess.run(["git", "-C", mirror, "show", f"{ISTIO_PIN}:{path}"],
                           capture_output=True, text=True)
        if p.returncode:
            pytest.skip(f"the mirror has no {ISTIO_PIN}:{path}: {p.stderr.strip()}")
        return p.stdout.splitlines()

    golden, run_go = show(GOLDEN), show(RUN_GO)
    problems = []
    for en, origin, rule in _expected_rules():
        kind, _, n = origin.partition(":")
        n = int(n)
        if kind == "golden":
            if n > len(golden) or golden[n - 1] != rule:
                problems.append(f"{_rel(EXPECTED)}:{en}: {GOLDEN}:{n} at {ISTIO_PIN} is "
                                f"{golden[n - 1] if n <= len(golden) else None!r}, not {rule!r}")
        elif kind == "run.go":
            line = " ".join(run_go[n - 1:n + 1])  # the call, which may wrap onto the next line
            target = rule.split(" -j ")[-1].split()[0]
            want = {"RETURN": '"RETURN"', "ISTIO_REDIRECT": "constants.ISTIOREDIRECT"}.get(target, target)
            if "ppendRule" not in line or want not in line:
                problems.append(f"{_rel(EXPECTED)}:{en}: {RUN_GO}:{n} at {ISTIO_PIN} does not append "
                                f"a rule jumping to {target}: {line.strip()!r}")
        else:
            problems.append(f"{_rel(EXPECTED)}:{en}: unknown origin {origin!r}")
    assert not problems, "\n".join(problems)
