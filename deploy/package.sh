#!/usr/bin/env bash
# Builds edgeagent_<version>_<arch>.deb for arm64 and amd64 with dpkg-deb from published binaries:
#   ./build.sh publish --rid linux-arm64 && ./build.sh publish --rid linux-x64 && deploy/package.sh
# Output: artifacts/deb/. A binary that was not published is skipped with a message.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=$(sed -nE 's|.*<Version>([^<]+)</Version>.*|\1|p' "$root/Directory.Build.props" | head -1)
out="$root/artifacts/deb"
mkdir -p "$out"
built=0
for pair in arm64:linux-arm64 amd64:linux-x64; do
  arch=${pair%%:*} rid=${pair#*:}
  binary="$root/artifacts/$rid/edgeagent"
  if [ ! -f "$binary" ]; then echo "package.sh: skipping $arch: $binary not published" >&2; continue; fi
  stage=$(mktemp -d); chmod 0755 "$stage"
  PREFIX="$stage" "$root/deploy/install.sh" "$binary"
  install -d "$stage/DEBIAN"
  cat > "$stage/DEBIAN/control" <<CONTROL
Package: edgeagent
Version: $version
Architecture: $arch
Maintainer: EdgeAgent <edgeagent@localhost>
Section: misc
Priority: optional
Depends: libc6, libssl3 | libssl3t64, adduser, libgpiod2 | libgpiod3
Description: on-device ML runtime and daemon for embedded Linux
 Reads sensors, runs int8 models on NEON kernels, learns on the device and is managed over MQTT.
CONTROL
  echo "/etc/edgeagent/edgeagent.json" > "$stage/DEBIAN/conffiles"
  cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd edgeagent >/dev/null; then
    useradd --system --home-dir /var/lib/edgeagent --no-create-home --shell /usr/sbin/nologin --user-group edgeagent
  fi
  for group in gpio i2c spi; do getent group "$group" >/dev/null && usermod -a -G "$group" edgeagent || true; done
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable edgeagent.service >/dev/null; fi
fi
POSTINST
  cat > "$stage/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then systemctl disable --now edgeagent.service >/dev/null || true; fi
PRERM
  chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm"
  deb="$out/edgeagent_${version}_${arch}.deb"
  dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
  rm -rf "$stage"
  printf '%-40s %10d bytes\n' "$(basename "$deb")" "$(stat -c %s "$deb")"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || { echo "package.sh: nothing to package; publish first" >&2; exit 1; }
