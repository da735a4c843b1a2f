#!/usr/bin/env bash
# Bring the lab back to its base state without recreating the cluster: remove every Istio
# configuration object that a "Try it" box may have added (in namespace lab and in istio-system),
# recreate namespace lab from scratch, and start fresh workload pods.
# Istio itself (istiod, the ingress gateway, the CRDs) is left as setup.sh installed it, unless the
# "ambient" lab state switched it to the ambient profile: then the default profile is installed again
# (istioctl prunes istio-cni and ztunnel). LAB_ISTIO_PROFILE=ambient (set by state.sh) keeps ambient.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The Istio configuration kinds a box may apply. The default profile installs none of them.
ISTIO_CONFIG_KINDS="virtualservices.networking.istio.io,destinationrules.networking.istio.io,gateways.networking.istio.io,serviceentries.networking.istio.io,sidecars.networking.istio.io,envoyfilters.networking.istio.io,workloadentries.networking.istio.io,workloadgroups.networking.istio.io,proxyconfigs.networking.istio.io,peerauthentications.security.istio.io,requestauthentications.security.istio.io,authorizationpolicies.security.istio.io,telemetries.telemetry.istio.io,wasmplugins.extensions.istio.io"

[ "$(detect_engine)" = podman ] && export KIND_EXPERIMENTAL_PROVIDER=podman
cluster_exists || die "no kind cluster named ${CLUSTER_NAME}: run labs/kind/setup.sh"

want="${LAB_ISTIO_PROFILE:-${ISTIO_PROFILE}}"
if [ "$(installed_profile)" != "${want}" ]; then
  install_istio "${want}"
fi

log "removing Istio configuration from istio-system"
kc -n istio-system delete "${ISTIO_CONFIG_KINDS}" --all --ignore-not-found

log "deleting namespace ${LAB_NAMESPACE} (and everything in it)"
kc delete namespace "${LAB_NAMESPACE}" --ignore-not-found --wait=true --timeout=300s

apply_workloads
log "the lab is back in its base state"
