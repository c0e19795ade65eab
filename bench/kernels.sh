#!/usr/bin/env bash
# ./build.sh bench kernels [--threads N] [--quick]: our int8 GEMM/conv kernels against ONNX Runtime on
# this machine; prints a table and writes bench/results/kernels.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
dotnet build bench/Bench -c Release -nologo -v:q -clp:ErrorsOnly >&2
exec dotnet bench/Bench/bin/Release/net10.0/edgeagent-bench.dll kernels --output bench/results/kernels.json "$@"
