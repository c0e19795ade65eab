#!/usr/bin/env bash
# The shipped unit: systemd's own security analysis must rate its exposure at most 2.5, and the settings the
# issue requires must be present.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
unit=deploy/systemd/edgeagent.service
passed=0 failed=0
check() { if "$@"; then passed=$((passed + 1)); else echo "FAIL: $*"; failed=$((failed + 1)); fi; }
exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
echo "exposure: ${exposure:-unknown} (limit 2.5)"
check test -n "$exposure"
check awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.5) }'
for setting in Type=notify WatchdogSec= Restart=on-failure 'SupplementaryGroups=gpio i2c spi' StateDirectory= ConfigurationDirectory= \
               ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes RestrictAddressFamilies= \
               SystemCallFilter=@system-service MemoryMax= DevicePolicy=closed; do
  check grep -q "^$setting" "$unit"
done
echo "systemd-unit: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
