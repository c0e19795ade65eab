#!/usr/bin/env bash
# ONNX's backend test suite (Debian's libonnx-testdata) through our runtime, on this machine (x64, JIT).
# usage: tests/conformance.sh [DIR...]   (default: node, pytorch-converted, pytorch-operator, simple)
# Prints a FAIL or SKIP line (with the reason) per case that did not pass, and ends with
# "conformance: N passed, N failed, N skipped".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA=/usr/share/libonnx-testdata/data
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=("$DATA/node" "$DATA/pytorch-converted" "$DATA/pytorch-operator" "$DATA/simple")
[ -d "$DATA" ] || { echo "conformance: libonnx-testdata is not installed ($DATA missing)" >&2; exit 2; }
OUT="$ROOT/artifacts/conformance"
dotnet build "$ROOT/tests/Arm64Harness" -c Release -o "$OUT" -nologo -v:q -clp:ErrorsOnly >&2
conf=()
for d in "${dirs[@]}"; do conf+=(--conformance "$d"); done
exec dotnet "$OUT/edgeagent-checks.dll" --label conformance "${conf[@]}"
