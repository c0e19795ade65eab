#!/usr/bin/env bash
# ./build.sh bench daemon → bench/results/daemon.json. Measures what this tree can measure and records null,
# with the reason in "missing", for what it cannot (numbers that need a real model runtime are never faked).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p bench/results
declare -A bytes
for rid in linux-arm64 linux-x64; do
  [ -f "artifacts/$rid/edgeagent" ] || ./build.sh publish --rid "$rid" >&2
  bytes[$rid]=$(stat -c %s "artifacts/$rid/edgeagent")
done
missing='"first_inference_ms, first_inference_ms_qemu_a72, rss_bytes, alloc_bytes_per_inference and inferences_per_s need the runtime InferenceSession behind the daemon (not merged)"'
if grep -rqs "class InferenceSession" src/Runtime; then missing='"the daemon benchmark driver is not written yet"'; fi
cat > bench/results/daemon.json <<JSON
{
  "binary_bytes": {"linux-arm64": ${bytes[linux-arm64]}, "linux-x64": ${bytes[linux-x64]}},
  "first_inference_ms": null,
  "first_inference_ms_qemu_a72": null,
  "rss_bytes": null,
  "alloc_bytes_per_inference": null,
  "inferences_per_s": null,
  "missing": $missing
}
JSON
cat bench/results/daemon.json
