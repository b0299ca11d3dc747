#!/usr/bin/env bash
# Builds the real kube-apiserver, kubectl and etcd that the Kubernetes tests run against, from the Go module
# proxy, once per version, into a per-user cache outside the clone (so a fresh clone, CI's included, reuses
# them). When the binaries are there this script returns at once.
#
# kube-apiserver and kubectl come from k8s.io/kubernetes through a wrapper module GENERATED here: the
# published k8s.io/kubernetes module refers to its staging modules (k8s.io/api, k8s.io/apiserver, ...) as
# `=> ./staging/...`, which a dependent module cannot follow, so the wrapper replaces each with its published
# v0.x version. etcd comes from go.etcd.io/etcd/server/v3 (Debian's 3.4 is older than Kubernetes supports).
# No upstream source is copied into the clone: it lives in the Go module cache.
#
# Usage: scripts/build-kube.sh            build if needed, then print KUBE_APISERVER=, KUBECTL=, ETCD= lines
#        scripts/build-kube.sh --print    print the lines only; exit 3 when the binaries are not built yet
# Environment:
#   CLUSTERLESS_KUBE_CACHE  overrides the cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube)
set -euo pipefail

KUBE_VERSION=v1.34.4
STAGING_VERSION=v0.34.4 # the staging modules are published as v0.<minor>.<patch> of the same release
ETCD_VERSION=v3.6.16

CACHE="${CLUSTERLESS_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube}"
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

if built; then
  print_paths
  exit 0
fi
if [[ "${1:-}" == "--print" ]]; then
  echo "build-kube: binaries not built yet; run bash scripts/build-kube.sh" >&2
  print_paths
  exit 3
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-kube: Go is required (1.24 or newer) to build kube-apiserver and etcd" >&2
  exit 1
fi

mkdir -p "$CACHE"
# Two runs at once (vitest and a shell) must not build into the same folder.
exec 9>"$CACHE/.lock"
flock 9
if built; then
  print_paths
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
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
  rm -rf "$KUBE_DIR/src"
  mkdir -p "$KUBE_DIR/src" "$KUBE_DIR/bin"
  (
    cd "$KUBE_DIR/src"
    go mod init clusterless.local/kube-build >/dev/null 2>&1
    # The upstream go.mod lists every staging module as `k8s.io/x => ./staging/src/k8s.io/x`.
    upstream_gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -f "$upstream_gomod" ]] || { log "could not download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
    staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$upstream_gomod")"
    [[ -n "$staging" ]] || { log "no staging replacements found in $upstream_gomod"; exit 1; }
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    for module in $staging; do
      go mod edit -replace="$module=$module@$STAGING_VERSION"
    done
    # A build-tagged file so that `go mod tidy` keeps what the two commands import.
    cat >tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
    go mod tidy >&2
    # Stamp the version the way upstream's build does, so `kubectl version` and /version tell the truth.
    minor="${KUBE_VERSION#v1.}"
    minor="${minor%%.*}"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    go build -trimpath -ldflags="$ldflags" -o "$KUBE_APISERVER" k8s.io/kubernetes/cmd/kube-apiserver
    go build -trimpath -ldflags="$ldflags" -o "$KUBECTL" k8s.io/kubernetes/cmd/kubectl
  )
  "$KUBE_APISERVER" --version >&2
  "$KUBECTL" version --client >&2
  touch "$KUBE_DIR/.built"
fi

rm -rf "$GOCACHE"
log "ready: $(du -sh "$CACHE" | cut -f1) in $CACHE"
print_paths
