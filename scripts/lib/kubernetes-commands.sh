# shellcheck shell=bash
# Sourced by build-kube.sh and build-kubeadm.sh: builds commands of k8s.io/kubernetes at KUBE_VERSION.
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
