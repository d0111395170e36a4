#!/bin/sh
# Installs the kb binary for this Linux machine: curl -fsSL <release>/install.sh | sh [-s -- --version X]
# (or, to read it first: curl -fsSLO <release>/install.sh && sh install.sh)
# Picks kb-linux-<x64|arm64>[-musl], downloads its .gz when gzip is here (about half the bytes), checks the
# download and the unpacked binary against the release's SHA256SUMS, and installs it atomically.
# Environment:
#   KB_INSTALL_BASE_URL  release folder (default https://github.com/kb-build/kb/releases/latest/download);
#                        with --version X, ".../latest/download" becomes ".../download/vX" (else "/vX" is appended)
#   KB_INSTALL_DIR       where kb goes (default /usr/local/bin as root, else ~/.local/bin)
#   KB_INSTALL_LIBC      gnu or musl, to override the detected C library
# Needs: uname, curl or wget, sha256sum or shasum, mktemp; gzip if present. Never Node.
set -eu

default_base="https://github.com/kb-build/kb/releases/latest/download"
tmp=""
staged=""

say() { printf 'kb-install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
cleanup() {
  [ -z "$tmp" ] || rm -rf "$tmp"
  [ -z "$staged" ] || rm -f "$staged"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

usage() {
  cat <<'EOF'
Usage: install.sh [--version X]
Installs kb for this Linux machine. See the header of this script for KB_INSTALL_* variables.
EOF
}

version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value, e.g. --version 0.2.0"; version=$2; shift 2 ;;
    --version=*) version=${1#--version=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1; }
any_exists() {
  for f in "$@"; do [ -e "$f" ] && return 0; done
  return 1
}

os=$(uname -s)
[ "$os" = Linux ] || die "kb runs on Linux only, and this is \"$os\". Run kb in a Linux VM or container instead (image ghcr.io/kb-build/kb-executor)."

machine=$(uname -m)
case "$machine" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no kb binary for the CPU \"$machine\": kb is built for x86_64 and aarch64 only" ;;
esac

libc=${KB_INSTALL_LIBC:-}
if [ -z "$libc" ]; then
  libc=gnu
  if any_exists /lib/ld-musl-* && ! any_exists /lib64/ld-linux-* /lib/ld-linux-*; then
    libc=musl
  elif have ldd && ldd --version 2>&1 | grep -qi musl; then
    libc=musl
  fi
fi
case "$libc" in
  gnu) asset="kb-linux-$arch" ;;
  musl) asset="kb-linux-$arch-musl" ;;
  *) die "KB_INSTALL_LIBC is \"$libc\": use gnu or musl" ;;
esac

base=${KB_INSTALL_BASE_URL:-$default_base}
base=${base%/}
if [ -n "$version" ]; then
  version=${version#v}
  case "$base" in
    */latest/download) base="${base%/latest/download}/download/v$version" ;;
    *) base="$base/v$version" ;;
  esac
fi

if have curl; then
  fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif have wget; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "cannot download: neither curl nor wget is installed"
fi

if have sha256sum; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif have shasum; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "cannot verify the download: neither sha256sum nor shasum is installed"
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t kb-install.XXXXXX) || die "cannot create a temporary folder"

fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download \"$base/SHA256SUMS\" (wrong --version, or no network?)"
sum_of() { awk -v f="$1" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS"; }
check() { # check FILE NAME: FILE's sha256 must be SHA256SUMS's line for NAME
  want=$(sum_of "$2")
  [ -n "$want" ] || die "SHA256SUMS of this release has no line for \"$2\""
  got=$(sha256 "$1")
  [ "$got" = "$want" ] || die "checksum mismatch for \"$2\": expected $want, got $got. The download is damaged or tampered with; nothing was installed."
}

if have gzip && [ -n "$(sum_of "$asset.gz")" ]; then
  say "downloading $asset.gz from $base"
  fetch "$base/$asset.gz" "$tmp/$asset.gz" ||
    die "cannot download \"$base/$asset.gz\": this release may have no binary for linux/$arch ($libc)"
  check "$tmp/$asset.gz" "$asset.gz"
  gzip -dc "$tmp/$asset.gz" >"$tmp/$asset" || die "cannot unpack \"$asset.gz\" (disk full?)"
  rm -f "$tmp/$asset.gz"
else
  say "downloading $asset from $base"
  fetch "$base/$asset" "$tmp/$asset" ||
    die "cannot download \"$base/$asset\": this release may have no binary for linux/$arch ($libc)"
fi
check "$tmp/$asset" "$asset"

if [ -n "${KB_INSTALL_DIR:-}" ]; then
  dir=$KB_INSTALL_DIR
elif [ "$(id -u)" = 0 ]; then
  dir=/usr/local/bin
else
  [ -n "${HOME:-}" ] || die "HOME is not set: set KB_INSTALL_DIR to the folder kb should go to"
  dir=$HOME/.local/bin
fi
mkdir -p "$dir" 2>/dev/null || die "cannot create \"$dir\": set KB_INSTALL_DIR to a folder you can write to"
[ -w "$dir" ] || die "cannot write to \"$dir\" as $(id -un 2>/dev/null || id -u): run as root, or set KB_INSTALL_DIR to a folder you own (e.g. KB_INSTALL_DIR=\$HOME/.local/bin)"

# Copy next to the target, then rename: a running kb or a concurrent install never sees half a file.
staged="$dir/.kb.install.$$"
cp "$tmp/$asset" "$staged" || die "cannot write \"$staged\""
chmod 755 "$staged"
previous=""
[ -x "$dir/kb" ] && previous=$("$dir/kb" version 2>/dev/null || true)
mv -f "$staged" "$dir/kb" || die "cannot replace \"$dir/kb\""
staged=""

if ! now=$("$dir/kb" version 2>/dev/null); then
  now=""
  if [ "$libc" = musl ]; then
    say "warning: \"$dir/kb version\" failed: the musl build needs libstdc++ (Alpine: apk add libstdc++)"
  else
    say "warning: \"$dir/kb version\" failed: is this a $libc system? (set KB_INSTALL_LIBC=musl or gnu)"
  fi
fi
if [ -n "$previous" ]; then
  say "replaced $previous with ${now:-$asset} in $dir"
else
  say "installed ${now:-$asset} to $dir/kb"
fi
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on your PATH; add it with: export PATH=\"$dir:\$PATH\"" ;;
esac
