#!/usr/bin/env bash
# Lab state "ambient", before its manifests: the Gateway API CRDs (a waypoint is a Gateway), and
# namespace lab without the istio-injection label, so that its new pods get no sidecar.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

install_gateway_api_crds
kc label namespace "${LAB_NAMESPACE}" istio-injection-
