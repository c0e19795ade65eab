#!/usr/bin/env bash
# ./build.sh bench continual: continual-learning suite (issue 8). Writes bench/results/continual.json,
# continual.svg (accuracy along the stream) and continual.log. One run, fixed seeds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RESULTS="$ROOT/bench/results"
ARM_OUT="$ROOT/artifacts/bench-continual/linux-arm64"
mkdir -p "$RESULTS"
qemu_json="$RESULTS/.continual-qemu.tmp"
rm -f "$qemu_json"

echo "==> continual: NativeAOT linux-arm64 timing program, run under qemu as cortex-a72" >&2
if dotnet publish bench/Continual -c Release -r linux-arm64 -o "$ARM_OUT" -nologo -v:q -clp:ErrorsOnly \
     -p:PublishAot=true -p:StripSymbols=true; then
  # qemu is an indication only: user-mode emulation, not a Pi's real speed.
  qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu cortex-a72 "$ARM_OUT/edgeagent-bench-continual" --time-update \
    | tail -1 > "$qemu_json" || { echo "continual: the qemu timing run failed; continuing without it" >&2; rm -f "$qemu_json"; }
else
  echo "continual: the linux-arm64 publish failed; continuing without the qemu timing" >&2
fi

echo "==> continual: x64 suite (Fashion-MNIST class-incremental, vibration drift, update cost)" >&2
dotnet build bench/Continual -c Release -nologo -v:q -clp:ErrorsOnly
DOTNET_TieredPGO=1 dotnet bench/Continual/bin/Release/net10.0/edgeagent-bench-continual.dll \
  --out "$RESULTS" --qemu "$qemu_json"
rm -f "$qemu_json"
