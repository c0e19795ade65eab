#!/usr/bin/env bash
# Installs EdgeAgent from a build tree on this machine: binary, systemd unit, default configuration, the
# 'edgeagent' system user (in the gpio, i2c and spi groups when they exist). Run as root:
#   ./build.sh publish --rid linux-arm64 && sudo deploy/install.sh artifacts/linux-arm64/edgeagent
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary=${1:-"$here/../artifacts/linux-$( [ "$(uname -m)" = aarch64 ] && echo arm64 || echo x64)/edgeagent"}
prefix=${PREFIX:-}
[ -f "$binary" ] || { echo "install.sh: no binary at '$binary'; run ./build.sh publish first or pass its path" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || [ -n "$prefix" ] || { echo "install.sh: run as root (or set PREFIX to stage into a directory)" >&2; exit 1; }

install -D -m 0755 "$binary" "$prefix/usr/bin/edgeagent"
install -D -m 0644 "$here/systemd/edgeagent.service" "$prefix/lib/systemd/system/edgeagent.service"
install -d -m 0755 "$prefix/etc/edgeagent" "$prefix/etc/edgeagent/keys"
# Never overwrite an edited configuration.
[ -e "$prefix/etc/edgeagent/edgeagent.json" ] || install -m 0644 "$here/edgeagent.json" "$prefix/etc/edgeagent/edgeagent.json"
install -D -m 0644 "$here/edgeagent.example.json" "$prefix/usr/share/doc/edgeagent/edgeagent.example.json"
install -D -m 0644 "$here/CONFIG.md" "$prefix/usr/share/doc/edgeagent/CONFIG.md"
if [ -n "${DEMO_BUNDLE:-}" ] && [ -f "$DEMO_BUNDLE" ]; then
  install -D -m 0644 "$DEMO_BUNDLE" "$prefix/usr/share/edgeagent/demo/vibration.eab"
fi
[ -n "$prefix" ] && exit 0   # staging for a package: users and services are the package scripts' business

"$here/postinst-user.sh"
systemctl daemon-reload
systemctl enable edgeagent.service
echo "installed; check the configuration with 'edgeagent config check /etc/edgeagent/edgeagent.json', then 'systemctl start edgeagent'"
