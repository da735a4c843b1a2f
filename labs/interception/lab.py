#!/usr/bin/env python3
"""The programs of the interception lab (Python standard library only).

run.sh starts them inside the lab's network namespaces; nothing here touches the network
configuration.  Three roles:

  proxy   a stand-in for the sidecar's Envoy.  Listens on 15001 (outbound capture) and 15006
          (inbound capture), reads SO_ORIGINAL_DST from every accepted socket, forwards the
          request to that original destination and reports what it saw.  Inbound connections
          are forwarded from source 127.0.0.6, as Istio's inbound clusters do.  It also answers
          on 15021, a port that the rules leave alone (Istio's health port).  It forwards at
          most --max-accepts connections (a redirect loop cannot grow without bound).
  server  a plain TCP server (the "app" in the pod, or the "peer" in the other namespace).
  client  one connection, as a given UID/GID, printing every hop the request went through.

A request is one line.  Each hop answers with lines "HOP <name> <what it saw>" followed by
the lines of the next hop, so the client can print the whole path in order.
"""
from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import threading

SO_ORIGINAL_DST = 80  # <linux/netfilter_ipv4.h>, read at level SOL_IP
SOL_IP = getattr(socket, "SOL_IP", 0)
TIMEOUT = 3.0


def drop_privileges(uid: int | None, gid: int | None) -> None:
    """Become uid/gid (the owner match of iptables looks at the socket's creator)."""
    if gid is not None:
        os.setgroups([])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)


def addr(host_port: str) -> tuple[str, int]:
    host, _, port = host_port.rpartition(":")
    return host, int(port)


def fmt(a: tuple) -> str:
    return f"{a[0]}:{a[1]}"


def original_dst(sock: socket.socket) -> str | None:
    """The destination before NAT, from conntrack; None when the kernel has no entry."""
    try:
        raw = sock.getsockopt(SOL_IP, SO_ORIGINAL_DST, 16)
    except OSError:
        return None
    port, packed = struct.unpack_from("!2xH4s", raw)
    return f"{socket.inet_ntoa(packed)}:{port}"


def read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def read_all(sock: socket.socket) -> str:
    chunks = []
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def listen(bind: tuple[str, int]) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(bind)
    s.listen(16)
    return s


def serve(lsock: socket.socket, handler) -> None:
    def one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TIMEOUT)
            try:
                conn.sendall(handler(conn).encode())
            except OSError as e:
                conn.sendall(f"HOP error {e}\n".encode())

    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def uid_gid() -> str:
    return f"uid={os.getuid()} gid={os.getgid()}"


# -- proxy -------------------------------------------------------------------------------------

class AcceptBudget:
    """How many more connections the proxy may forward, shared by its listeners."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            self.left -= 1
            return self.left >= 0


def proxy_handler(port: int, name: str, budget: AcceptBudget):
    def handle(conn: socket.socket) -> str:
        request = read_line(conn)
        peer, local = conn.getpeername(), conn.getsockname()
        dst = original_dst(conn)
        seen = f"HOP {name} accepted {fmt(peer)} -> {fmt(local)}, SO_ORIGINAL_DST={dst}\n"
        print(seen.strip(), flush=True)
        if dst is None or addr(dst)[1] == port:
            return seen + "HOP error no original destination, not forwarding\n"
        if not budget.take():
            print(f"LIMIT {name} reached --max-accepts, not forwarding", flush=True)
            return seen + "HOP limit reached --max-accepts, not forwarding\n"
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        up.settimeout(TIMEOUT)
        if port == 15006:
            # Inbound: connect to the app from 127.0.0.6, the address that ISTIO_OUTPUT exempts.
            up.bind(("127.0.0.6", 0))
        with up:
            up.connect(addr(dst))
            seen += f"HOP {name} forwarded as {uid_gid()} from {fmt(up.getsockname())} to {dst}\n"
            up.sendall((request + "\n").encode())
            return seen + read_all(up)
    return handle


def health_handler(conn: socket.socket) -> str:
    read_line(conn)
    return (f"HOP proxy:15021 accepted {fmt(conn.getpeername())} -> {fmt(conn.getsockname())}, "
            f"SO_ORIGINAL_DST={original_dst(conn)}\n")


def run_proxy(args) -> None:
    budget = AcceptBudget(args.max_accepts)
    socks = [(listen(("0.0.0.0", 15001)), proxy_handler(15001, "proxy:15001", budget)),
             (listen(("0.0.0.0", 15006)), proxy_handler(15006, "proxy:15006", budget)),
             (listen(("0.0.0.0", 15021)), health_handler)]
    drop_privileges(args.uid, args.gid)
    for lsock, handler in socks:
        threading.Thread(target=serve, args=(lsock, handler), daemon=True).start()
    print(f"ready proxy {uid_gid()}", flush=True)
    threading.Event().wait()


# -- server ------------------------------------------------------------------------------------

def run_server(args) -> None:
    lsock = listen(addr(args.listen))
    drop_privileges(args.uid, args.gid)

    def handle(conn: socket.socket) -> str:
        read_line(conn)
        return (f"HOP {args.name} accepted {fmt(conn.getpeername())} -> "
                f"{fmt(conn.getsockname())}\n")
    print(f"ready {args.name}", flush=True)
    serve(lsock, handle)


# -- client ------------------------------------------------------------------------------------

def run_client(args) -> int:
    drop_privileges(args.uid, args.gid)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    print(f"{args.label}: {uid_gid()} connects to {args.connect}")
    try:
        with s:
            s.connect(addr(args.connect))
            print(f"  {'client':<12} sees {fmt(s.getsockname())} -> {fmt(s.getpeername())}")
            s.sendall(b"hello\n")
            reply = read_all(s)
    except OSError as e:
        print(f"  client error: {e}")
        reply = ""
    hops = []
    lines = reply.splitlines()
    for i, line in enumerate(lines):
        _, name, rest = line.split(" ", 2)
        hops.append(name)
        # A redirect loop answers with hundreds of hops: show its start and its end.
        if len(lines) <= 12 or i < 5 or i >= len(lines) - 2:
            print(f"  {name:<12} {rest}")
        elif i == 5:
            print(f"  {'...':<12} {len(lines) - 7} more hop lines")
    # The path is the sequence of distinct hop names, in order.
    path = [h for i, h in enumerate(hops) if i == 0 or hops[i - 1] != h]
    ok = path == args.expect.split(",")
    print(f"RESULT {args.label} {'PASS' if ok else 'FAIL'} path={'>'.join(path) or 'none'}"
          + ("" if ok else f" expected={args.expect.replace(',', '>')}"))
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="role", required=True)
    for role in ("proxy", "server", "client"):
        sp = sub.add_parser(role)
        sp.add_argument("--uid", type=int)
        sp.add_argument("--gid", type=int)
        if role == "proxy":
            sp.add_argument("--max-accepts", type=int, default=1000,
                            help="forward at most this many connections (default 1000)")
        if role == "server":
            sp.add_argument("--name", required=True)
            sp.add_argument("--listen", required=True, help="ADDR:PORT")
        if role == "client":
            sp.add_argument("--label", required=True)
            sp.add_argument("--connect", required=True, help="ADDR:PORT")
            sp.add_argument("--expect", required=True, help="hop names, comma-separated")
    args = p.parse_args(argv)
    if args.role == "proxy":
        run_proxy(args)
    elif args.role == "server":
        run_server(args)
    else:
        return run_client(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
