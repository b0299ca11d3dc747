# shellcheck shell=bash
# One Kubernetes version for every binary the tests use (kube-apiserver, kubectl, kubeadm), and their cache.
KUBE_VERSION=v1.34.4
STAGING_VERSION=v0.34.4 # the staging modules are published as v0.<minor>.<patch> of the same release
CACHE="${CLUSTERLESS_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/kube}"

# Sourced by build-kube.sh and build-kubeadm.sh: the cached-build preamble they share, and the build of
# commands of k8s.io/kubernetes at KUBE_VERSION.

# Returns at once (exit 0, printing the paths) when the binaries are built; with --print exits 3 when they are
# not; otherwise takes the cache folder's lock (both scripts share the Go module cache and the folder), looks
# again, and sets the Go build environment. Usage: begin_cached_build NAME WHAT "$@"
# (needs CACHE and the caller's `built` and `print_paths`).
begin_cached_build() {
  local name="$1" what="$2"
  shift 2
  if built; then
    print_paths
    exit 0
  fi
  if [[ "${1:-}" == "--print" ]]; then
    echo "$name: $what not built yet; run bash scripts/$name.sh" >&2
    print_paths
    exit 3
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "$name: Go is required (1.24 or newer) to build $what" >&2
    exit 1
  fi
  mkdir -p "$CACHE"
  # Two runs at once (vitest and a shell, or the two scripts) must not build into the same folder.
  exec 9>"$CACHE/.lock"
  flock 9
  if built; then
    print_paths
    exit 0
  fi
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
}
#
# The published k8s.io/kubernetes module names its staging modules (k8s.io/api, k8s.io/apiserver, ...) as
# `=> ./staging/...`, which a dependent module cannot follow, so a wrapper module GENERATED in SRC_DIR
# replaces each with its published v0.x version (STAGING_VERSION). No upstream source is copied into the clone:
# it lives in the Go module cache. The version is stamped the way upstream's build does, so that `version`
# subcommands and /version tell the truth.
#
# Usage: build_kubernetes_commands SRC_DIR BIN_DIR cmd/NAME...   (needs KUBE_VERSION, STAGING_VERSION, log)
build_kubernetes_commands() {
  local src="$1" bin="$2"
  shift 2
  rm -rf "$src"
  mkdir -p "$src" "$bin"
  (
    cd "$src" || exit 1
    go mod init clusterless.local/kubernetes-commands >/dev/null 2>&1
    local upstream_gomod staging module minor ldflags pkg cmd
    upstream_gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -f "$upstream_gomod" ]] || { log "could not download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
    staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$upstream_gomod")"
    [[ -n "$staging" ]] || { log "no staging replacements found in $upstream_gomod"; exit 1; }
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    for module in $staging; do
      go mod edit -replace="$module=$module@$STAGING_VERSION"
    done
    # A build-tagged file so that `go mod tidy` keeps what the commands import.
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/%s"\n' "$cmd"; done
      printf ')\n'
    } >tools.go
    go mod tidy >&2
    minor="${KUBE_VERSION#v1.}"
    minor="${minor%%.*}"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    for cmd in "$@"; do
      go build -trimpath -ldflags="$ldflags" -o "$bin/$(basename "$cmd")" "k8s.io/kubernetes/$cmd"
    done
  )
}
