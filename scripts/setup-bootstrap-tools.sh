#!/usr/bin/env bash
# The tools the bootstrap tests run on what clusterless renders (test/unit/bootstrap): cloud-init (`cloud-init
# schema`) and shellcheck from the Debian/Ubuntu archive, and kubeadm (`kubeadm config validate`) built from the
# Go module proxy by scripts/build-kubeadm.sh. Returns at once when all three are there.
set -euo pipefail

missing=()
command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if ((${#missing[@]} > 0)); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-bootstrap-tools: install ${missing[*]} with your package manager (Debian/Ubuntu: apt-get install -y cloud-init shellcheck)" >&2
    exit 1
  fi
  sudo=()
  if [[ "$(id -u)" != "0" ]]; then sudo=(sudo); fi
  echo "setup-bootstrap-tools: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

bash "$(dirname "${BASH_SOURCE[0]}")/build-kubeadm.sh" >/dev/null
