"""The interception lab of Chapter 4 (labs/interception/) runs on the real kernel and shows the
four behaviours its page explains: outbound capture with the original destination recovered,
inbound capture, the proxy UID passing uncaptured, and the localhost exemptions."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

LAB = ROOT / "labs" / "interception"
RUN = LAB / "run.sh"


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
    m = re.search(r"the proxy accepted (\d+) connections from 127\.0\.0\.6 on 15006", p.stdout)
    assert m and int(m.group(1)) > 1, p.stdout
    assert not (_ours(pid) & _namespaces())
