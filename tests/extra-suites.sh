#!/usr/bin/env bash
# Suites that are not xunit projects or the ARM64 harness. build.sh test runs this file and adds up every line
# "name: N passed, N failed, N skipped". Each suite is an executable tests/suites/<name>.sh printing that line;
# a suite that exits non-zero without printing it counts as one failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
for suite in tests/suites/*.sh; do
  [ -x "$suite" ] || continue
  name=$(basename "$suite" .sh)
  out=$("$suite" 2>&1); rc=$?
  printf '%s\n' "$out" | sed "s/^/  [$name] /" >&2
  line=$(printf '%s\n' "$out" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" | tail -1)
  if [ -z "$line" ]; then echo "$name: 0 passed, 1 failed, 0 skipped"; status=1; continue; fi
  echo "$line"
  [ $rc -eq 0 ] || status=1
done
exit $status
