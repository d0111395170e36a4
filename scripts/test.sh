#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need when it can, then runs every suite.
#   npm test                 default suite
#   KB_SLOW_TESTS=1 npm test also the slow suites (Debian base, buildah and BuildKit oracles)
#   npm test -- src/layer    only some paths
set -uo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=(docker-registry skopeo umoci buildah docker.io busybox-static uidmap musl-tools apache2-utils openssl zstd xz-utils bzip2 git attr debootstrap util-linux iproute2 file shellcheck gcc-aarch64-linux-gnu libc6-dev-arm64-cross zsh fish time qemu-user-static binfmt-support chromium python3-nacl python3-license-expression passt podman runc)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >/tmp/kb-apt.log 2>&1 \
      || { echo "test.sh: apt-get failed, see /tmp/kb-apt.log"; tail -20 /tmp/kb-apt.log; }
  else
    echo "test.sh: missing packages: ${missing[*]}"
    echo "test.sh: install them with: sudo apt-get install ${missing[*]}"
    echo "test.sh: tests that need them will print why they skip"
  fi
fi

# Rootless RUN networks (pasta) need /dev/net/tun open to every user, as Debian ships it (some hosts make it 0600).
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then chmod 0666 /dev/net/tun; fi

# Cross-architecture RUN tests: arm64 packages (busybox-static:arm64 for the base) and binfmt_misc registrations.
if [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64 && apt-get update -qq >/tmp/kb-apt.log 2>&1 || echo "test.sh: could not add arm64 packages"
  fi
  if [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || echo "test.sh: could not mount binfmt_misc (cross-arch RUN tests will skip)"
  fi
  if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && command -v update-binfmts >/dev/null; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || echo "test.sh: could not register qemu-aarch64"
  fi
fi

if [ ! -x node_modules/.bin/bun ]; then
  echo "test.sh: installing npm dependencies"
  npm ci --no-audit --no-fund >/tmp/kb-npm.log 2>&1 || { tail -20 /tmp/kb-npm.log; exit 1; }
fi

# The sandbox helper is compiled once per run; tests find it through KB_SANDBOX_HELPER.
if [ -f scripts/build-helper.sh ] && command -v musl-gcc >/dev/null; then
  mkdir -p dist && bash scripts/build-helper.sh dist >/dev/null && export KB_SANDBOX_HELPER="$PWD/dist/kb-sandbox-$(uname -m)"
fi

# The tests' temporary folders go under one folder per run, removed at the end (thousands were left in /tmp).
# Sticky and world-writable as /tmp is: tests also run kb as nobody and as a subuid user.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/kb-tests-XXXXXX") && chmod 1777 "$run_tmp" && export TMPDIR="$run_tmp"
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  [ -n "${run_tmp:-}" ] && [ -d "$run_tmp" ] || return 0
  [ "$(id -u)" = 0 ] || chmod -R u+rwX "$run_tmp" 2>/dev/null
  rm -rf --one-file-system "$run_tmp" 2>/dev/null || echo "test.sh: could not remove all of $run_tmp"
}
trap cleanup EXIT

log=$(mktemp)
node_modules/.bin/bun test "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
skip=$(grep -Eo '^ *[0-9]+ skip$' "$log" | tail -1 | grep -Eo '[0-9]+')
rm -f "$log"
echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit "$rc"
