#!/usr/bin/env bash
# The interception lab of Chapter 4: a sidecar pod's iptables capture, without Kubernetes.
#
# Creates two network namespaces joined by a veth pair ("pod" 192.0.2.10, "peer" 192.0.2.20,
# documentation addresses from RFC 5737), installs in the pod the nat rules that
# istio-iptables writes at Istio 1.30.3 for the default sidecar configuration, starts a
# stand-in proxy as UID/GID 1337 on 15001/15006 (lab.py), and makes a few connections that
# show (a) outbound capture with the original destination recovered, (b) inbound capture,
# (c) the proxy's own connections passing uncaptured and (d) the localhost exemptions.
# Every address it uses lives inside its own two namespaces; everything is removed on exit.
#
# Usage: sudo labs/interception/run.sh
#        sudo labs/interception/run.sh --without-127.0.0.6-rule
#   The second form leaves out the rule that exempts the proxy's inbound connections (source
#   127.0.0.6) and shows the redirect loop that rule prevents. The loop is bounded: the stand-in
#   proxy stops forwarding after LOOP_LIMIT accepted connections, so the run ends in seconds.
# Needs: root, ip (iproute2), iptables-restore/iptables-save (either backend), python3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PY="$HERE/lab.py"
POD="ilab-pod-$$"
PEER="ilab-peer-$$"
POD_IP=192.0.2.10
PEER_IP=192.0.2.20
APP_UID=1000   # any UID other than the proxy's
PROXY_UID=1337 # -u 1337 in the injection template; the GID defaults to the UID
LOOP_LIMIT=200 # connections the proxy accepts in the break mode before it stops forwarding
PIDS=()
TMP=""
FAILED=0
BREAK_RULE=""
case "${1:-}" in
  "") ;;
  --without-127.0.0.6-rule) BREAK_RULE="-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN" ;;
  *)
    echo "usage: $0 [--without-127.0.0.6-rule]" >&2
    exit 2
    ;;
esac

missing=()
[[ $(id -u) -eq 0 ]] || missing+=("root (run with sudo)")
for cmd in ip iptables-restore iptables-save python3; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if ((${#missing[@]})); then
  echo "interception lab: missing: ${missing[*]}" >&2
  exit 2
fi
PYTHON=$(command -v python3)

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$POD" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
  [[ -n $TMP ]] && rm -rf "$TMP"
  echo "cleanup: removed namespaces $POD and $PEER"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_pod() { ip netns exec "$POD" "$@"; }
in_peer() { ip netns exec "$PEER" "$@"; }

# Start a lab.py role in the background inside a namespace; its output goes to $TMP/NAME.log.
start() {
  local name=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$PYTHON" -u "$LAB_PY" "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=("$!")
}

wait_ready() {
  local name
  for name in "$@"; do
    for _ in $(seq 50); do
      grep -q '^ready' "$TMP/$name.log" 2>/dev/null && continue 2
      sleep 0.1
    done
    echo "interception lab: $name did not start:" >&2
    cat "$TMP/$name.log" >&2
    exit 1
  done
}

# One connection from the app's point of view; prints the path and a RESULT line.
# probe NS LABEL UID[:GID] TARGET EXPECTED-HOPS (the GID defaults to the UID)
probe() {
  local ns=$1 label=$2 ids=$3 target=$4 expect=$5
  local uid=${ids%%:*} gid=${ids#*:}
  if ! ip netns exec "$ns" "$PYTHON" "$LAB_PY" client --label "$label" \
      --uid "$uid" --gid "$gid" --connect "$target" --expect "$expect"; then
    FAILED=1
  fi
  echo
}

TMP=$(mktemp -d)

echo "== topology"
ip netns add "$POD"
ip netns add "$PEER"
ip -n "$POD" link add eth0 type veth peer name eth0 netns "$PEER"
ip -n "$POD" addr add "$POD_IP/24" dev eth0
ip -n "$PEER" addr add "$PEER_IP/24" dev eth0
for ns in "$POD" "$PEER"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
done
echo "pod  ($POD): eth0 $POD_IP/24, lo 127.0.0.1/8"
echo "peer ($PEER): eth0 $PEER_IP/24"
echo

echo "== rules (the nat table of istio-iptables, default sidecar: -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020)"
# Written for this lab from tools/istio-iptables/pkg/capture/run.go at Istio 1.30.3, in the
# order its rule builder emits them (iptables-restore --noflush, as istio-iptables applies them).
RULES=$(cat <<'EOF'
*nat
# chains, created before any rule refers to them
-N ISTIO_INBOUND
-N ISTIO_REDIRECT
-N ISTIO_IN_REDIRECT
-N ISTIO_OUTPUT
# HBONE tunnel port 15008 is never captured inbound
-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN
# the two REDIRECT targets: outbound listener 15001, inbound listener 15006
-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001
-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006
# inbound: every TCP packet arriving at the pod, except the excluded ports
-A PREROUTING -p tcp -j ISTIO_INBOUND
-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN
-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN
-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN
-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT
# outbound: everything the pod's processes send
-A OUTPUT -j ISTIO_OUTPUT
-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN
-A ISTIO_OUTPUT -j ISTIO_REDIRECT
COMMIT
EOF
)
if [[ -n $BREAK_RULE ]]; then
  echo "(left out on purpose: $BREAK_RULE)"
  RULES=$(grep -vxF -e "$BREAK_RULE" <<<"$RULES")
fi
in_pod iptables-restore --noflush <<<"$RULES"
echo "$(iptables-save --version 2>/dev/null || true), rules in the pod namespace:"
in_pod iptables-save -t nat | grep -E '^(-A|:ISTIO)'
echo

echo "== processes"
if [[ -n $BREAK_RULE ]]; then
  start proxy "$POD" proxy --uid "$PROXY_UID" --gid "$PROXY_UID" --max-accepts "$LOOP_LIMIT"
else
  start proxy "$POD" proxy --uid "$PROXY_UID" --gid "$PROXY_UID"
fi
start app "$POD" server --name app:9080 --listen 0.0.0.0:9080 --uid "$APP_UID" --gid "$APP_UID"
start peer "$PEER" server --name peer:8080 --listen "$PEER_IP:8080"
wait_ready proxy app peer
echo "pod:  proxy on 15001, 15006, 15021 as uid $PROXY_UID; app on 9080 as uid $APP_UID"
echo "peer: server on $PEER_IP:8080"
echo

if [[ -n $BREAK_RULE ]]; then
  echo "== (b) inbound capture, without the 127.0.0.6 exemption"
  probe "$PEER" b-inbound 0 "$POD_IP:9080" proxy:15006,app:9080
  loops=$(grep -c '^HOP proxy:15006 accepted 127\.0\.0\.6:' "$TMP/proxy.log" || true)
  echo "the proxy accepted $loops connections from 127.0.0.6 on 15006 before it hit its limit of $LOOP_LIMIT:"
  grep -m 4 '^HOP proxy:15006' "$TMP/proxy.log"
  echo "..."
  ((loops > 1)) && echo "SUMMARY LOOP" && exit 0
  echo "SUMMARY NO-LOOP"
  exit 1
fi

echo "== (a) outbound capture"
probe "$POD" a-outbound "$APP_UID" "$PEER_IP:8080" proxy:15001,peer:8080

echo "== (b) inbound capture"
probe "$PEER" b-inbound 0 "$POD_IP:9080" proxy:15006,app:9080
probe "$PEER" b-inbound-excluded-port 0 "$POD_IP:15021" proxy:15021

echo "== (c) the proxy's own connections"
probe "$POD" c-proxy-uid-outbound "$PROXY_UID" "$PEER_IP:8080" peer:8080
probe "$POD" c-proxy-uid-to-pod-ip "$PROXY_UID" "$POD_IP:9080" proxy:15006,app:9080
# A proxy that runs as UID 0 with GID 1337 (the template's choice for NET_BIND_SERVICE or TPROXY)
probe "$POD" c-gid-only-outbound "0:$PROXY_UID" "$PEER_IP:8080" peer:8080
probe "$POD" c-gid-only-to-pod-ip "0:$PROXY_UID" "$POD_IP:9080" app:9080

echo "== (d) localhost exemptions"
probe "$POD" d-app-to-localhost "$APP_UID" 127.0.0.1:9080 app:9080
probe "$POD" d-app-to-own-pod-ip "$APP_UID" "$POD_IP:9080" app:9080
probe "$POD" d-proxy-uid-to-localhost "$PROXY_UID" 127.0.0.1:9080 app:9080

echo "== rule counters (packets:bytes; the nat table sees the first packet of each connection)"
in_pod iptables-save -c -t nat | grep -E '^\[[0-9]+:[0-9]+\] -A (PREROUTING|OUTPUT|ISTIO_)'
echo

if ((FAILED)); then
  echo "SUMMARY FAIL"
  for name in proxy app peer; do
    echo "-- $name log"
    cat "$TMP/$name.log"
  done
  exit 1
fi
echo "SUMMARY PASS"
