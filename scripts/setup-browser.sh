#!/usr/bin/env bash
# Unpacks Debian's chromium (and the shared libraries it needs that the system lacks) into the per-user cache, for the
# dashboard's browser tests (playwright-core drives it; it downloads no browser of its own). Nothing is installed on
# the system: `apt-get download` fetches the .deb files as the calling user and `dpkg -x` unpacks them. Idempotent:
# once the stamp is there with the pinned version the script returns at once.
#   CLUSTERLESS_CHROMIUM_DIR  overrides the folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/chromium)
# Prints nothing on success; test/support/browser.ts finds the binary and the library path in the same folder.
set -euo pipefail

DIR="${CLUSTERLESS_CHROMIUM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterless/chromium}"
STAMP="$DIR/.clusterless-chromium"
BIN="$DIR/root/usr/lib/chromium/chromium"

if [[ -x "$BIN" && -f "$STAMP" ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  echo "setup-browser: apt-get and dpkg are needed to fetch Debian's chromium; without them the browser tests cannot run" >&2
  exit 1
fi

mkdir -p "$DIR/debs" "$DIR/root"
cd "$DIR/debs"

unpack() {
  local pkg
  for pkg in "$@"; do
    if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
      apt-get download "$pkg" >/dev/null 2>&1 || {
        echo "setup-browser: apt-get download $pkg failed (run apt-get update, or check the network)" >&2
        exit 1
      }
    fi
    dpkg -x "$(ls "${pkg}"_*.deb | head -n 1)" "$DIR/root"
  done
}

libpath() {
  local p="" d
  for d in "$DIR/root/usr/lib/x86_64-linux-gnu" "$DIR/root/usr/lib/aarch64-linux-gnu" "$DIR/root/lib/x86_64-linux-gnu" "$DIR/root/usr/lib/chromium"; do
    [[ -d "$d" ]] && p="$p${p:+:}$d"
  done
  # pulseaudio's library sits in a subfolder of its own.
  for d in "$DIR"/root/usr/lib/*/pulseaudio; do [[ -d "$d" ]] && p="$p:$d"; done
  echo "$p"
}

unpack chromium chromium-common
# The libraries chromium links that a minimal Debian lacks; each round unpacks what ldd still misses (their own
# dependencies included), mapping a missing soname to its package with apt-file's convention (libfoo.so.N -> libfooN).
for _ in 1 2 3 4 5; do
  missing=$(LD_LIBRARY_PATH="$(libpath)" ldd "$BIN" 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
  [[ -z "$missing" ]] && break
  pkgs=()
  for so in $missing; do
    case "$so" in
      libopenh264.so.*) pkgs+=(libopenh264-7) ;;
      libdouble-conversion.so.*) pkgs+=(libdouble-conversion3) ;;
      libharfbuzz-subset.so.*) pkgs+=(libharfbuzz-subset0) ;;
      libpulse.so.*) pkgs+=(libpulse0) ;;
      libpulsecommon-*.so) pkgs+=(libpulse0) ;;
      libFLAC.so.*) pkgs+=(libflac12) ;;
      libopus.so.*) pkgs+=(libopus0) ;;
      libXNVCtrl.so.*) pkgs+=(libxnvctrl0) ;;
      libminizip.so.*) pkgs+=(libminizip1) ;;
      libopenjp2.so.*) pkgs+=(libopenjp2-7) ;;
      libsndfile.so.*) pkgs+=(libsndfile1) ;;
      libasyncns.so.*) pkgs+=(libasyncns0) ;;
      libvorbisenc.so.*) pkgs+=(libvorbisenc2) ;;
      libvorbis.so.*) pkgs+=(libvorbis0a) ;;
      libogg.so.*) pkgs+=(libogg0) ;;
      libmpg123.so.*) pkgs+=(libmpg123-0) ;;
      libmp3lame.so.*) pkgs+=(libmp3lame0) ;;
      libX11-xcb.so.*) pkgs+=(libx11-xcb1) ;;
      *)
        echo "setup-browser: chromium needs $so, which this script does not know how to fetch; install its package or add it here" >&2
        exit 1
        ;;
    esac
  done
  unpack $(printf '%s\n' "${pkgs[@]}" | sort -u)
done

missing=$(LD_LIBRARY_PATH="$(libpath)" ldd "$BIN" 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
if [[ -n "$missing" ]]; then
  echo "setup-browser: still missing after unpacking: $missing" >&2
  exit 1
fi
libpath >"$DIR/library-path"
rm -rf "$DIR/debs"
touch "$STAMP"
