#!/usr/bin/env bash
# ./build.sh demo: build the demo model with the project's own tools and run the daemon in the foreground on
# embedded defaults (simulated vibration sensor, embedded MQTT broker), printing every inference and event.
# Each step checks that the tool it needs exists in this tree and says plainly what is missing if not.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/artifacts/demo"
mkdir -p "$work"
cd "$root"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

say "building edgeagent and exporter"
dotnet build src/EdgeAgent -c Release -nologo -v:q -clp:ErrorsOnly
dotnet build tools/Exporter -c Release -nologo -v:q -clp:ErrorsOnly
edgeagent=(dotnet "$root/src/EdgeAgent/bin/Release/net10.0/edgeagent.dll")
exporter=(dotnet "$root/tools/Exporter/bin/Release/net10.0/exporter.dll")

missing=()
# The demo model: trained on simulated vibration windows (learning engine), quantized and signed (exporter).
if ! "${exporter[@]}" --help 2>&1 | grep -q "demo-model"; then
  missing+=("exporter demo-model (train on simulated vibration data with the training engine, quantize, pack and sign)")
fi
if ! grep -rqs "class InferenceSession" src/Runtime; then
  missing+=("src/Runtime InferenceSession (the daemon's inference engine wraps it)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "the demo cannot run yet; missing from this tree:"
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  say "what exists: the daemon's sensors, pipeline, reservoir, model store and MQTT control plane; 'edgeagent doctor' follows"
  "${edgeagent[@]}" doctor --config /dev/null 2>/dev/null || "${edgeagent[@]}" doctor || true
  exit 69
fi

say "building the demo model"
"${exporter[@]}" demo-model --out "$work/vibration.eab" --key "$work/demo.key" --public-key "$work/demo.pub"
say "running the daemon in the foreground (Ctrl-C stops it)"
exec "${edgeagent[@]}" run --print \
  --device:stateDirectory="$work/state" \
  --model:demoBundle="$work/vibration.eab" \
  --model:trustedKeys:0="$work/demo.pub" \
  --mqtt:embeddedPort=18830
