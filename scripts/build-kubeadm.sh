#!/usr/bin/env bash
# Builds kubeadm from the Go module proxy, once per version, next to the kube-apiserver and kubectl that
# scripts/build-kube.sh builds (same cache folder, same Kubernetes version, same wrapper module:
# scripts/lib/kubernetes-commands.sh). The bootstrap tests run
# `kubeadm config validate` on the configurations clusterless renders. When the binary is there this script
# returns at once.
#
# Usage: scripts/build-kubeadm.sh            build if needed, then print a KUBEADM= line
#        scripts/build-kubeadm.sh --print    print the line only; exit 3 when kubeadm is not built yet
# Environment:
#   CLUSTERLESS_KUBE_CACHE  overrides the cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube)
set -euo pipefail

# One Kubernetes version for every binary the tests use: read it from build-kube.sh.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBE_VERSION="$(sed -n 's/^KUBE_VERSION=\([^[:space:]]*\).*/\1/p' "$HERE/build-kube.sh")"
STAGING_VERSION="$(sed -n 's/^STAGING_VERSION=\([^[:space:]]*\).*/\1/p' "$HERE/build-kube.sh")"
[[ -n "$KUBE_VERSION" && -n "$STAGING_VERSION" ]] || { echo "build-kubeadm: no KUBE_VERSION/STAGING_VERSION in build-kube.sh" >&2; exit 1; }

CACHE="${CLUSTERLESS_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube}"
KUBEADM_DIR="$CACHE/kubeadm-$KUBE_VERSION"
KUBEADM="$KUBEADM_DIR/bin/kubeadm"

print_paths() { echo "KUBEADM=$KUBEADM"; }
built() { [[ -x "$KUBEADM" && -f "$KUBEADM_DIR/.built" ]]; }

if built; then
  print_paths
  exit 0
fi
if [[ "${1:-}" == "--print" ]]; then
  echo "build-kubeadm: kubeadm not built yet; run bash scripts/build-kubeadm.sh" >&2
  print_paths
  exit 3
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-kubeadm: Go is required (1.24 or newer) to build kubeadm" >&2
  exit 1
fi

mkdir -p "$CACHE"
# The same lock as build-kube.sh: both share the Go module cache and the cache folder.
exec 9>"$CACHE/.lock"
flock 9
if built; then
  print_paths
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
export GOCACHE="$CACHE/.gocache-kubeadm"
log() { echo "build-kubeadm: $*" >&2; }
# shellcheck source=scripts/lib/kubernetes-commands.sh
source "$HERE/lib/kubernetes-commands.sh"

log "building kubeadm $KUBE_VERSION into $KUBEADM_DIR"
build_kubernetes_commands "$KUBEADM_DIR/src" "$KUBEADM_DIR/bin" cmd/kubeadm
"$KUBEADM" version -o short >&2
touch "$KUBEADM_DIR/.built"
rm -rf "$GOCACHE"
log "ready: $KUBEADM"
print_paths
