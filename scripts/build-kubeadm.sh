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

# One Kubernetes version and cache folder for every binary the tests use (scripts/lib/kubernetes-commands.sh).
# shellcheck source=scripts/lib/kubernetes-commands.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubernetes-commands.sh"

KUBEADM_DIR="$CACHE/kubeadm-$KUBE_VERSION"
KUBEADM="$KUBEADM_DIR/bin/kubeadm"

print_paths() { echo "KUBEADM=$KUBEADM"; }
built() { [[ -x "$KUBEADM" && -f "$KUBEADM_DIR/.built" ]]; }

begin_cached_build build-kubeadm kubeadm "$@"

export GOCACHE="$CACHE/.gocache-kubeadm"
log() { echo "build-kubeadm: $*" >&2; }

log "building kubeadm $KUBE_VERSION into $KUBEADM_DIR"
build_kubernetes_commands "$KUBEADM_DIR/src" "$KUBEADM_DIR/bin" cmd/kubeadm
"$KUBEADM" version -o short >&2
touch "$KUBEADM_DIR/.built"
rm -rf "$GOCACHE"
log "ready: $KUBEADM"
print_paths
