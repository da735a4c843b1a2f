#!/usr/bin/env bash
# Create the book's lab: a kind cluster, Istio at the book's pin, and the workloads in namespace
# "lab". Safe to run again: an existing lab cluster is reused and the steps are idempotent.
#
# Requires (checked below, with the reason for each minimum):
#   docker (or podman)   kind runs the Kubernetes node as a container of this engine
#   kind    >= 0.33.0    the pinned node image (Kubernetes 1.35.8) was built for kind v0.33.0
#   kubectl >= 1.34.0    kubectl supports one minor version of skew against the 1.35 API server
#   curl or wget, tar, sha256sum or shasum   to fetch and verify istioctl
#
# Environment: LAB_CLUSTER_NAME (default istio-insider); KIND_EXPERIMENTAL_PROVIDER=podman to use podman.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check_prerequisites() {
  local missing=() engine v
  engine="$(detect_engine)"
  command -v kind >/dev/null 2>&1 || missing+=("kind (>= ${KIND_MIN}): https://kind.sigs.k8s.io/docs/user/quick-start/#installation")
  command -v kubectl >/dev/null 2>&1 || missing+=("kubectl (>= ${KUBECTL_MIN}): https://kubernetes.io/docs/tasks/tools/")
  [ -n "${engine}" ] || missing+=("docker or podman: kind needs a container engine to run the node")
  command -v tar >/dev/null 2>&1 || missing+=("tar")
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || missing+=("curl or wget")
  command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 || missing+=("sha256sum or shasum")
  if [ ${#missing[@]} -gt 0 ]; then
    printf '[lab] ERROR: missing prerequisites:\n' >&2
    printf '[lab]   - %s\n' "${missing[@]}" >&2
    exit 1
  fi

  # kind prints "kind v0.33.0 go1.25.x linux/amd64".
  v="$(kind version 2>/dev/null | awk '{print $2}')"
  version_ge "${v:-0}" "${KIND_MIN}" ||
    die "kind ${v:-(unknown)} is too old: the lab needs kind >= ${KIND_MIN}, the release its node image (${KIND_NODE_IMAGE%@*}) was built for"

  # kubectl prints "Client Version: v1.35.0" (and a Kustomize line).
  v="$(kubectl version --client 2>/dev/null | awk '/Client Version/ {print $3}')"
  version_ge "${v:-0}" "${KUBECTL_MIN}" ||
    die "kubectl ${v:-(unknown)} is too old: the lab needs kubectl >= ${KUBECTL_MIN} (one minor version of skew against Kubernetes ${KUBERNETES_VERSION})"

  case "${engine}" in
    docker)
      docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer ('docker info' failed): start Docker and retry" ;;
    podman)
      podman info >/dev/null 2>&1 || die "podman is installed but does not answer ('podman info' failed): start it (e.g. 'podman machine start') and retry"
      export KIND_EXPERIMENTAL_PROVIDER=podman ;;
    *)
      die "unknown container engine '${engine}' in KIND_EXPERIMENTAL_PROVIDER (expected docker or podman)" ;;
  esac
  log "prerequisites: kind $(kind version | awk '{print $2}'), kubectl ${v}, engine ${engine}"
}

# The release asset name, as Istio's own release/downloadIstioCtl.sh builds it.
istioctl_asset() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=osx ;;
    *) die "unsupported OS $(uname -s): istioctl is published for Linux and macOS" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported CPU $(uname -m): the lab supports amd64 and arm64" ;;
  esac
  if [ "${os}" = osx ] && [ "${arch}" = amd64 ]; then
    printf 'istioctl-%s-osx.tar.gz\n' "${ISTIO_VERSION}"
  else
    printf 'istioctl-%s-%s-%s.tar.gz\n' "${ISTIO_VERSION}" "${os}" "${arch}"
  fi
}

download() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  else
    shasum -a 256 "$1" | awk '{print $1}'
  fi
}

install_istioctl() {
  if [ -x "${ISTIOCTL}" ] && "${ISTIOCTL}" version --remote=false 2>/dev/null | grep -qx "client version: ${ISTIO_VERSION}"; then
    log "istioctl ${ISTIO_VERSION} already in ${BIN_DIR}"
    return
  fi
  local asset url tmp want got
  asset="$(istioctl_asset)"
  url="https://github.com/istio/istio/releases/download/${ISTIO_VERSION}/${asset}"
  tmp="$(mktemp -d)"
  DOWNLOAD_DIR="${tmp}"
  log "downloading ${url}"
  download "${url}" "${tmp}/${asset}" || die "could not download ${url}"
  download "${url}.sha256" "${tmp}/${asset}.sha256" || die "could not download ${url}.sha256"
  want="$(awk '{print $1; exit}' "${tmp}/${asset}.sha256")"
  got="$(sha256_of "${tmp}/${asset}")"
  if [ -z "${want}" ] || [ "${want}" != "${got}" ]; then
    die "checksum mismatch for ${asset}: published ${want:-(empty)}, downloaded ${got}"
  fi
  log "sha256 verified: ${got}"
  mkdir -p "${BIN_DIR}"
  tar -xzf "${tmp}/${asset}" -C "${tmp}"
  install -m 0755 "${tmp}/istioctl" "${ISTIOCTL}"
  log "installed ${ISTIOCTL}"
}

# The download folder is removed however the script ends.
DOWNLOAD_DIR=""
cleanup() { if [ -n "${DOWNLOAD_DIR}" ]; then rm -rf "${DOWNLOAD_DIR}"; fi; }
trap cleanup EXIT

create_cluster() {
  if cluster_exists; then
    log "kind cluster ${CLUSTER_NAME} exists; reusing it"
  else
    log "creating kind cluster ${CLUSTER_NAME} (${KIND_NODE_IMAGE%@*})"
    kind create cluster --name "${CLUSTER_NAME}" --image "${KIND_NODE_IMAGE}" \
      --config "${LAB_DIR}/kind-config.yaml" --wait 120s
  fi
  local server
  server="$(kc get nodes -o jsonpath='{.items[0].status.nodeInfo.kubeletVersion}' 2>/dev/null || true)"
  [ "${server#v}" = "${KUBERNETES_VERSION}" ] ||
    die "cluster ${CLUSTER_NAME} runs Kubernetes ${server:-(unknown)}, not ${KUBERNETES_VERSION}: run labs/kind/teardown.sh, then setup.sh again"
}

main() {
  check_prerequisites
  install_istioctl
  create_cluster
  install_istio "${ISTIO_PROFILE}"
  apply_workloads
  log "the lab is in its base state. For istioctl on your PATH:"
  log "  source labs/kind/env.sh"
}

main "$@"
