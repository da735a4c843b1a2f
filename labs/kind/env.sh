#!/usr/bin/env bash
# Source this file (". labs/kind/env.sh") to put the lab's istioctl first on PATH and make the
# lab cluster kubectl's current context. The "Try it" boxes assume both.
# Works when sourced from bash or zsh (the default shell on macOS); other shells get a message.
# shellcheck disable=SC2317  # "return || exit": return when sourced, exit when run by mistake
if [ -n "${BASH_VERSION:-}" ]; then
  _lab_env_file="${BASH_SOURCE[0]}"
  if [ "${_lab_env_file}" = "$0" ]; then
    echo "labs/kind/env.sh: source it (source labs/kind/env.sh); running it changes nothing" >&2
    exit 1
  fi
elif [ -n "${ZSH_VERSION:-}" ]; then
  # zsh: %x is the file being sourced (zsh syntax, so bash must not parse it: hence eval).
  eval '_lab_env_file="${(%):-%x}"'
else
  echo "labs/kind/env.sh: source this file from bash or zsh (or start bash, then source it)" >&2
  return 1 2>/dev/null || exit 1
fi
# lib.sh finds its folder through BASH_SOURCE, which zsh does not set: tell it.
_LAB_ENV_DIR="$(cd "$(dirname "${_lab_env_file}")" && pwd)"
unset _lab_env_file
# shellcheck source=SCRIPTDIR/lib.sh
source "${_LAB_ENV_DIR}/lib.sh"
unset _LAB_ENV_DIR
case ":${PATH}:" in
  *":${BIN_DIR}:"*) ;;
  *) export PATH="${BIN_DIR}:${PATH}" ;;
esac
kubectl config use-context "kind-${CLUSTER_NAME}" >/dev/null
