#!/usr/bin/env bash
# Builds the static sandbox helper (src/exec/helper/kb-sandbox.c) for x86_64 and, when the
# cross compiler exists, arm64. Usage: scripts/build-helper.sh OUTDIR
set -euo pipefail
out="${1:?usage: scripts/build-helper.sh OUTDIR}"
src="$(cd "$(dirname "$0")/.." && pwd)/src/exec/helper/kb-sandbox.c"
mkdir -p "$out"
flags=(-static -O2 -Wall -Wextra -o)
built=0
case "$(uname -m)" in
  x86_64)
    if command -v musl-gcc >/dev/null; then
      musl-gcc "${flags[@]}" "$out/kb-sandbox-x86_64.tmp" "$src" && mv "$out/kb-sandbox-x86_64.tmp" "$out/kb-sandbox-x86_64" && built=1
    elif command -v gcc >/dev/null; then
      echo "build-helper: musl-gcc not found (apt-get install musl-tools), using gcc -static" >&2
      gcc "${flags[@]}" "$out/kb-sandbox-x86_64.tmp" "$src" && mv "$out/kb-sandbox-x86_64.tmp" "$out/kb-sandbox-x86_64" && built=1
    fi ;;
  aarch64)
    if command -v musl-gcc >/dev/null; then
      musl-gcc "${flags[@]}" "$out/kb-sandbox-arm64.tmp" "$src" && mv "$out/kb-sandbox-arm64.tmp" "$out/kb-sandbox-arm64" && built=1
    fi ;;
esac
if [ "$(uname -m)" = x86_64 ]; then
  if command -v aarch64-linux-gnu-gcc >/dev/null; then
    # The cross compiler needs the arm64 libc headers (libc6-dev-arm64-cross); without them say so in one line.
    if aarch64-linux-gnu-gcc "${flags[@]}" "$out/kb-sandbox-arm64.tmp" "$src" 2>"$out/.arm64-helper.log"; then
      mv "$out/kb-sandbox-arm64.tmp" "$out/kb-sandbox-arm64" && rm -f "$out/.arm64-helper.log"
    else
      echo "build-helper: arm64 helper not built (apt-get install libc6-dev-arm64-cross; see $out/.arm64-helper.log)" >&2
    fi
    rm -f "$out/kb-sandbox-arm64.tmp"
  else
    echo "build-helper: aarch64-linux-gnu-gcc not found (apt-get install gcc-aarch64-linux-gnu): skipping arm64" >&2
  fi
fi
[ "$built" = 1 ] || { echo "build-helper: no C compiler for $(uname -m) (apt-get install musl-tools)" >&2; exit 1; }
