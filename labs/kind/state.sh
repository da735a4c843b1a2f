#!/usr/bin/env bash
# Put the lab into a named state: reset to base, then apply labs/kind/states/NAME/*.yaml.
#   labs/kind/state.sh base          the same as reset.sh
#   labs/kind/state.sh access-log    base + Envoy access logs for namespace lab
#   labs/kind/state.sh strict-mtls   base + only mutual TLS accepted by the lab's workloads
#   labs/kind/state.sh ambient       Istio's ambient profile, namespace lab in ambient mode, a waypoint
# A state folder may also hold:
#   istio-profile   one word, the Istio profile the state runs on (reset.sh switches to it)
#   before.sh       run after the reset, before the manifests are applied
#   after.sh        run after the manifests are applied (e.g. to wait for what they start)
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

dir="${LAB_DIR}/states/${name}"
if [ "${name}" != base ]; then
  [ -d "${dir}" ] || die "no lab state '${name}' (no folder labs/kind/states/${name})"
fi
profile="${ISTIO_PROFILE}"
if [ -f "${dir}/istio-profile" ]; then
  profile="$(tr -d '[:space:]' < "${dir}/istio-profile")"
fi

LAB_ISTIO_PROFILE="${profile}" "${LAB_DIR}/reset.sh"
[ "${name}" = base ] && exit 0
log "applying lab state ${name}"
if [ -f "${dir}/before.sh" ]; then bash "${dir}/before.sh"; fi
kc apply -f "${dir}/"
if [ -f "${dir}/after.sh" ]; then bash "${dir}/after.sh"; fi
log "the lab is in state ${name}"
