#!/usr/bin/env bash
# Put the lab into a named state: reset to base, then apply labs/kind/states/NAME/*.yaml.
#   labs/kind/state.sh base          the same as reset.sh
#   labs/kind/state.sh access-log    base + Envoy access logs for namespace lab
#   labs/kind/state.sh strict-mtls   base + only mutual TLS accepted by the lab's workloads
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name="${1:-}"
if [ -z "${name}" ]; then
  printf 'usage: %s STATE\nstates: base' "$0" >&2
  for d in "${LAB_DIR}"/states/*/; do printf ' %s' "$(basename "${d}")" >&2; done
  printf '\n' >&2
  exit 2
fi

"${LAB_DIR}/reset.sh"
[ "${name}" = base ] && exit 0
[ -d "${LAB_DIR}/states/${name}" ] || die "no lab state '${name}' (no folder labs/kind/states/${name})"
log "applying lab state ${name}"
kc apply -f "${LAB_DIR}/states/${name}/"
