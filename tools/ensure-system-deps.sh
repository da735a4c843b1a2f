#!/usr/bin/env bash
# Install the Debian packages the test suite needs when they are missing:
#   chromium        the browser tests (Playwright drives Debian's Chromium; it cannot download one)
#   fonts-noto-cjk  Chinese glyphs in the browser
#   iptables, iproute2  the interception lab (network namespaces, veth, netfilter rules)
#   shellcheck      the lab scripts' lint
# Runs apt-get only when something is missing and we are root; otherwise says what to install.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-system-deps: missing Debian packages: ${need[*]}" >&2
  echo "ensure-system-deps: install them with: sudo apt-get install ${need[*]}" >&2
  echo "ensure-system-deps: (tests that need them will be skipped or fail with the same message)" >&2
  exit 0
fi
echo "ensure-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
