#!/usr/bin/env bash
# Delete the lab's kind cluster, whatever state it is in (ambient included: istio-cni, ztunnel, the
# Gateway API CRDs and the waypoint go with the cluster). With --all, also remove the downloaded
# istioctl (labs/kind/.state).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=false
case "${1:-}" in
  "") ;;
  --all) purge=true ;;
  *) die "usage: $0 [--all]" ;;
esac

command -v kind >/dev/null 2>&1 || die "kind is not installed, so there is no lab cluster to delete"
[ "$(detect_engine)" = podman ] && export KIND_EXPERIMENTAL_PROVIDER=podman

if cluster_exists; then
  log "deleting kind cluster ${CLUSTER_NAME}"
  kind delete cluster --name "${CLUSTER_NAME}"
else
  log "no kind cluster named ${CLUSTER_NAME}"
fi

if "${purge}"; then
  log "removing ${STATE_DIR}"
  rm -rf "${STATE_DIR}"
fi
