#!/usr/bin/env bash
# Lab state "ambient", after its manifests: replace the workload pods (the old ones carry a sidecar)
# and wait until the new ones and the waypoint are ready.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

log "restarting the workloads in ${LAB_NAMESPACE} without sidecars"
kc -n "${LAB_NAMESPACE}" rollout restart deployment/curl deployment/httpbin deployment/fortio
for d in curl httpbin fortio; do
  kc -n "${LAB_NAMESPACE}" rollout status "deployment/${d}" --timeout=300s
done
log "waiting for the waypoint"
kc -n "${LAB_NAMESPACE}" wait --for=condition=Programmed gateway/waypoint --timeout=300s
kc -n "${LAB_NAMESPACE}" rollout status deployment/waypoint --timeout=300s
