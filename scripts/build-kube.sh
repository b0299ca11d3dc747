#!/usr/bin/env bash
# Builds the real kube-apiserver, kubectl and etcd that the Kubernetes tests run against, from the Go module
# proxy, once per version, into a per-user cache outside the clone (so a fresh clone, CI's included, reuses
# them). When the binaries are there this script returns at once.
#
# kube-apiserver and kubectl come from k8s.io/kubernetes through a generated wrapper module
# (scripts/lib/kubernetes-commands.sh). etcd comes from go.etcd.io/etcd/server/v3 (Debian's 3.4 is older than
# Kubernetes supports). No upstream source is copied into the clone: it lives in the Go module cache.
#
# Usage: scripts/build-kube.sh            build if needed, then print KUBE_APISERVER=, KUBECTL=, ETCD= lines
#        scripts/build-kube.sh --print    print the lines only; exit 3 when the binaries are not built yet
# Environment:
#   CLUSTERLESS_KUBE_CACHE  overrides the cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube)
set -euo pipefail

# shellcheck source=scripts/lib/kubernetes-commands.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubernetes-commands.sh"
ETCD_VERSION=v3.6.16

KUBE_DIR="$CACHE/kubernetes-$KUBE_VERSION"
ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"
KUBE_APISERVER="$KUBE_DIR/bin/kube-apiserver"
KUBECTL="$KUBE_DIR/bin/kubectl"
ETCD="$ETCD_DIR/bin/etcd"

print_paths() {
  echo "KUBE_APISERVER=$KUBE_APISERVER"
  echo "KUBECTL=$KUBECTL"
  echo "ETCD=$ETCD"
}

built() { [[ -x "$KUBE_APISERVER" && -x "$KUBECTL" && -x "$ETCD" && -f "$KUBE_DIR/.built" && -f "$ETCD_DIR/.built" ]]; }

begin_cached_build build-kube "kube-apiserver, kubectl and etcd" "$@"

# A build cache of its own, removed after a successful build: the binaries are what is kept.
export GOCACHE="$CACHE/.gocache"
log() { echo "build-kube: $*" >&2; }

if [[ ! -x "$ETCD" || ! -f "$ETCD_DIR/.built" ]]; then
  log "building etcd $ETCD_VERSION into $ETCD_DIR"
  rm -rf "$ETCD_DIR/src"
  mkdir -p "$ETCD_DIR/src" "$ETCD_DIR/bin"
  (
    cd "$ETCD_DIR/src"
    go mod init clusterless.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    go build -trimpath -ldflags='-s -w' -o "$ETCD" go.etcd.io/etcd/server/v3
  )
  "$ETCD" --version >&2
  touch "$ETCD_DIR/.built"
fi

if [[ ! -x "$KUBE_APISERVER" || ! -x "$KUBECTL" || ! -f "$KUBE_DIR/.built" ]]; then
  log "building kube-apiserver and kubectl $KUBE_VERSION into $KUBE_DIR"
  build_kubernetes_commands "$KUBE_DIR/src" "$KUBE_DIR/bin" cmd/kube-apiserver cmd/kubectl
  "$KUBE_APISERVER" --version >&2
  "$KUBECTL" version --client >&2
  touch "$KUBE_DIR/.built"
fi

rm -rf "$GOCACHE"
log "ready: $(du -sh "$CACHE" | cut -f1) in $CACHE"
print_paths
