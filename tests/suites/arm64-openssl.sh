#!/usr/bin/env bash
# Prints a directory holding the arm64 OpenSSL libraries (libssl.so.3, libcrypto.so.3) for running the NativeAOT
# arm64 daemon under qemu-aarch64: .NET's cryptography (bundle signatures, SHA-256, TLS) loads OpenSSL at run time,
# a Pi has it, and the aarch64 cross toolchain's sysroot does not. Fetched once with apt-get into a private state
# directory (the machine's dpkg architectures are left alone: installing libssl3:arm64 through multiarch would put an
# arm64 libc in the loader's cache that does not match the cross sysroot's, and every qemu run would hang) and
# unpacked under artifacts/arm64-openssl/. Use: qemu-aarch64-static ... -E LD_LIBRARY_PATH="$(tests/suites/arm64-openssl.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/artifacts/arm64-openssl"
lib="$dest/usr/lib/aarch64-linux-gnu"
if [ -e "$lib/libssl.so.3" ] && [ -e "$lib/libcrypto.so.3" ]; then echo "$lib"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "arm64-openssl: needs apt-get and dpkg-deb (Debian)" >&2; exit 1; }
state=$(mktemp -d "${TMPDIR:-/tmp}/arm64-openssl.XXXXXX")
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures=arm64 -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
          -o APT::Sandbox::User=root -o Debug::NoLocking=1 -qq)
apt-get "${apt_opts[@]}" update >&2 || { echo "arm64-openssl: apt-get update for arm64 failed" >&2; exit 1; }
(cd "$state" && apt-get "${apt_opts[@]}" download libssl3 >&2) || { echo "arm64-openssl: could not download libssl3 for arm64" >&2; exit 1; }
mkdir -p "$dest"
dpkg-deb -x "$state"/libssl3_*_arm64.deb "$dest"
[ -e "$lib/libssl.so.3" ] || { echo "arm64-openssl: libssl3's package did not contain $lib/libssl.so.3" >&2; exit 1; }
echo "$lib"
