#!/usr/bin/env bash
# Suites beyond the x64 xunit projects and the ARM64 check harness, run by `./build.sh test`.
# Each suite prints one line "name: N passed, N failed, N skipped" that build.sh adds to the total.
# To add a suite: append a function and its name to SUITES.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA=/usr/share/libonnx-testdata/data
HARNESS="$ROOT/artifacts/test-harness/linux-arm64/edgeagent-checks"   # published by build.sh's ARM64 step

# ONNX backend tests on x64 (tests/conformance.sh prints "conformance: ...").
suite_conformance() { "$ROOT/tests/conformance.sh"; }

# The same cases in the NativeAOT ARM64 harness under qemu, on the CPUs without and with dot product.
conformance_arm64() {
  local cpu=$1
  if [ ! -x "$HARNESS" ]; then echo "conformance-$cpu: 0 passed, 1 failed, 0 skipped (harness not built at $HARNESS)"; return 1; fi
  qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu "$cpu" "$HARNESS" --label "conformance-$cpu" \
    --conformance "$DATA/node" --conformance "$DATA/pytorch-converted" \
    --conformance "$DATA/pytorch-operator" --conformance "$DATA/simple" | grep -E '^(FAIL|conformance-)'
}
suite_conformance_a72() { conformance_arm64 cortex-a72; }
suite_conformance_a76() { conformance_arm64 cortex-a76; }

# The daemon's systemd unit: systemd-analyze security exposure <= 2.5 and the required settings.
suite_systemd_unit() { "$ROOT/tests/suites/systemd-unit.sh" | grep -E '^(FAIL|exposure|systemd-unit:)'; }

# Issue 6's end-to-end: the NativeAOT arm64 daemon under qemu (cortex-a72), real mosquitto, signed demo bundle.
suite_daemon_e2e_a72() { E2E_CPU=cortex-a72 "$ROOT/tests/suites/daemon-e2e.sh" | grep -v '^ok: '; }

SUITES=(suite_conformance suite_conformance_a72 suite_conformance_a76 suite_systemd_unit suite_daemon_e2e_a72)

status=0
for s in "${SUITES[@]}"; do
  "$s" || status=1
done
exit $status
