#!/usr/bin/env bash
# Shared settings and helpers for the lab scripts. Sourced, not run.
# Every version the lab depends on is pinned here, and only here.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

# Istio: the release the book reads.
ISTIO_VERSION="1.30.3"
# The Istio profile the lab installs (manifests/profiles/default.yaml at the pin). The "ambient"
# lab state switches to manifests/profiles/ambient.yaml (istiod, istio-cni, ztunnel; no ingress gateway).
ISTIO_PROFILE="default"
# The Gateway API CRDs a waypoint needs (Istio does not install them): the version that
# istio/istio 1.30.3 requires in its go.mod (sigs.k8s.io/gateway-api v1.5.1).
GATEWAY_API_VERSION="1.5.1"

# The kind node image: Kubernetes 1.35.8, as published in the kind v0.33.0 release notes.
# kind only guarantees an image with the release that built it, hence the digest and KIND_MIN.
# Istio 1.30 requires Kubernetes >= 1.32 (MinK8SVersion in istioctl/pkg/install/k8sversion)
# and its own CI runs on 1.35 (prow/integ-suite-kind.sh).
KIND_NODE_IMAGE="kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"
KUBERNETES_VERSION="1.35.8"
KIND_MIN="0.33.0"
# kubectl supports one minor version of skew either way against the API server (1.35).
KUBECTL_MIN="1.34.0"

CLUSTER_NAME="${LAB_CLUSTER_NAME:-istio-insider}"
LAB_NAMESPACE="lab"

# env.sh sets _LAB_ENV_DIR when it is sourced from zsh, which has no BASH_SOURCE.
LAB_DIR="${_LAB_ENV_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
STATE_DIR="${LAB_DIR}/.state"
BIN_DIR="${STATE_DIR}/bin"
ISTIOCTL="${BIN_DIR}/istioctl"

log() { printf '[lab] %s\n' "$*"; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# version_ge A B: true when version A >= version B (both "X.Y.Z", an optional leading "v").
version_ge() {
  local a="${1#v}" b="${2#v}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -V | head -n 1)" = "$b" ]
}

# The container engine kind drives: docker, or podman through kind's podman provider.
detect_engine() {
  if [ -n "${KIND_EXPERIMENTAL_PROVIDER:-}" ]; then
    printf '%s\n' "${KIND_EXPERIMENTAL_PROVIDER}"
  elif command -v docker >/dev/null 2>&1; then
    printf 'docker\n'
  elif command -v podman >/dev/null 2>&1; then
    printf 'podman\n'
  else
    printf '\n'
  fi
}

# kubectl pointed at the lab cluster, whatever the current context is.
kc() { kubectl --context "kind-${CLUSTER_NAME}" "$@"; }

# The pinned istioctl, installed by setup.sh.
ictl() {
  [ -x "${ISTIOCTL}" ] || die "istioctl ${ISTIO_VERSION} is not installed in ${BIN_DIR}; run labs/kind/setup.sh first"
  "${ISTIOCTL}" --context "kind-${CLUSTER_NAME}" "$@"
}

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"
}

# Apply the base workloads and wait until every pod has its sidecar and is ready.
apply_workloads() {
  log "applying the workloads in namespace ${LAB_NAMESPACE}"
  kc apply -f "${LAB_DIR}/workloads/namespace.yaml"
  kc apply -f "${LAB_DIR}/workloads/"
  local d
  for d in curl httpbin fortio; do
    kc -n "${LAB_NAMESPACE}" rollout status "deployment/${d}" --timeout=300s
  done
}

# The Istio profile running in the cluster: "ambient" when the ztunnel DaemonSet exists, else "default".
installed_profile() {
  if kc -n istio-system get daemonset ztunnel >/dev/null 2>&1; then
    printf 'ambient\n'
  else
    printf 'default\n'
  fi
}

# install_istio PROFILE: install (or switch to) an Istio profile. istioctl install prunes the
# components the new profile does not have (operator/pkg/install/install.go, prune).
install_istio() {
  local profile="${1:-${ISTIO_PROFILE}}"
  log "installing Istio ${ISTIO_VERSION} with profile ${profile}"
  ictl install --set "profile=${profile}" -y
  kc -n istio-system rollout status deployment/istiod --timeout=300s
  if [ "${profile}" = ambient ]; then
    kc -n istio-system rollout status daemonset/istio-cni-node --timeout=300s
    kc -n istio-system rollout status daemonset/ztunnel --timeout=300s
  fi
}

# The standard-channel Gateway API CRDs at GATEWAY_API_VERSION, unless the cluster has them.
install_gateway_api_crds() {
  if kc get crd gateways.gateway.networking.k8s.io >/dev/null 2>&1; then
    log "the Gateway API CRDs are installed"
    return
  fi
  local url="https://github.com/kubernetes-sigs/gateway-api/releases/download/v${GATEWAY_API_VERSION}/standard-install.yaml"
  log "installing the Gateway API CRDs from ${url}"
  kc apply --server-side -f "${url}"
  kc wait --for=condition=Established crd/gateways.gateway.networking.k8s.io --timeout=60s
}
