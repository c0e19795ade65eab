#!/usr/bin/env bash
# ./build.sh bench compression [--train-samples N] [--epochs N] [--finetune-epochs N] [--baseline]:
# the issue's quantization (agreement, SQNR, file size with its byte breakdown, ours vs ONNX Runtime; MobileNet-style on
# Debian's Fashion-MNIST, the demo sensor model and the ~1 MB sensor model of the daemon bench), pruning and distillation
# claims (issue 5). --no-device-model skips the ~1 MB row. Writes
# bench/results/compression.json and prints a table. One run, fixed seeds; about 10-15 minutes on a loaded 2-core machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p "$ROOT/bench/results"
echo "==> compression: building the bench (MobileNet-style model, structured pruning + finetune, distillation)" >&2
dotnet build bench/Compression -c Release -nologo -v:q -clp:ErrorsOnly
DOTNET_TieredPGO=1 dotnet bench/Compression/bin/Release/net10.0/edgeagent-bench-compression.dll --out "$ROOT/bench/results" "$@"
