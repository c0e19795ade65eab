#!/usr/bin/env bash
# ./build.sh bench models [--threads N] [--runs N] [--model NAME] [--keep-models DIR]: end-to-end batch-1
# latency of models the bench builds itself (MLP, 1D-CNN, MobileNet-style 96/224), float and QDQ int8, ours
# against ONNX Runtime in one process; prints ratios and targets, writes bench/results/models.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
dotnet build bench/Bench -c Release -nologo -v:q -clp:ErrorsOnly >&2
exec dotnet bench/Bench/bin/Release/net10.0/edgeagent-bench.dll models --output bench/results/models.json "$@"
