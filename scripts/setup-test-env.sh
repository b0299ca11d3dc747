#!/usr/bin/env bash
# Prepares what the tests need outside npm: kube-apiserver, etcd, kubectl and kubeadm built from the Go module
# proxy (scripts/build-kube.sh, build-kubeadm.sh), cloud-init and shellcheck (scripts/setup-bootstrap-tools.sh), and a Python venv with moto_server (DynamoDB, EC2, Secrets Manager emulator). It lives in a per-user cache outside the clone, so a fresh clone (CI) reuses it; when it is
# there with the pinned version this script returns at once.
#   CLUSTERLESS_MOTO_VENV  overrides the venv folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/moto-venv)
set -euo pipefail

# The Kubernetes binaries first: the moto part below exits early once its venv is there.
#   CLUSTERLESS_SKIP_KUBE_BUILD=1 skips them (the harness's own test of the moto part).
if [[ "${CLUSTERLESS_SKIP_KUBE_BUILD:-}" != "1" ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/build-kube.sh" >/dev/null
  # cloud-init and shellcheck (into the same cache, never onto the system) and kubeadm: the bootstrap tests
  # validate what we render.
  bash "$(dirname "${BASH_SOURCE[0]}")/setup-bootstrap-tools.sh"
fi
# Debian's chromium unpacked into the same cache, for the dashboard's browser tests.
bash "$(dirname "${BASH_SOURCE[0]}")/setup-browser.sh"

MOTO_VERSION=5.2.5
VENV="${CLUSTERLESS_MOTO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/moto-venv}"
STAMP="$VENV/.clusterless-moto-$MOTO_VERSION"

if [[ -x "$VENV/bin/moto_server" && -f "$STAMP" ]]; then
  exit 0
fi

# A venv made before the stamp existed: trust it if it has the pinned version.
if [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/python" ]] &&
  [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" == "$MOTO_VERSION" ]]; then
  touch "$STAMP"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-test-env: python3 is required for moto_server; this set-up installs nothing on the system: ask for the system packages python3 and python3-venv (Debian/Ubuntu names), then run it again" >&2
  exit 1
fi

echo "setup-test-env: installing moto[server]==$MOTO_VERSION into $VENV" >&2
mkdir -p "$(dirname "$VENV")"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || {
    echo "setup-test-env: python3 -m venv failed; this set-up installs nothing on the system: ask for the system package python3-venv (its Debian/Ubuntu name), then run it again" >&2
    exit 1
  }
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
"$VENV/bin/moto_server" --help >/dev/null
touch "$STAMP"
echo "setup-test-env: moto_server ready at $VENV/bin/moto_server" >&2
