#!/usr/bin/env bash
# ./build.sh bench kernels [--threads N] [--quick] [--only TEXT]... [--wall]: our int8 GEMM/conv kernels against
# ONNX Runtime on this machine; prints a table and writes bench/results/kernels.json. --only keeps the rows whose
# "op shape" contains TEXT (e.g. --only qdwconv --only M=16,); one thread is timed on thread CPU time unless --wall.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
dotnet build bench/Bench -c Release -nologo -v:q -clp:ErrorsOnly >&2
exec dotnet bench/Bench/bin/Release/net10.0/edgeagent-bench.dll kernels --output bench/results/kernels.json "$@"
