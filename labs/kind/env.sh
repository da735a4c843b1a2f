#!/usr/bin/env bash
# Source this file (". labs/kind/env.sh") to put the lab's istioctl first on PATH and make the
# lab cluster kubectl's current context. The "Try it" boxes assume both.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case ":${PATH}:" in
  *":${BIN_DIR}:"*) ;;
  *) export PATH="${BIN_DIR}:${PATH}" ;;
esac
kubectl config use-context "kind-${CLUSTER_NAME}" >/dev/null
