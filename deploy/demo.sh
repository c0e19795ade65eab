#!/usr/bin/env bash
# ./build.sh demo [DAEMON OPTION...]: builds the demo model with the project's own tools (simulated vibration
# windows -> training engine -> int8 QDQ quantizer -> signed bundle) and runs the daemon in the foreground on
# embedded defaults (simulated vibration sensor, embedded MQTT broker, this model), printing every inference
# (stable class, smoothed score, latency) and every event. Ends after DEMO_SECONDS (default 60; 0 = until
# Ctrl-C) with a summary. Extra arguments go to 'edgeagent run' (e.g. --pipeline:smoothing=2); so do the
# entries of the daemon_args array below, which is where other demo features add their options.
#   DEMO_SECONDS=N        run time in seconds (0: until Ctrl-C)
#   DEMO_KEEP_STATE=1     keep artifacts/demo/state (model store, reservoir) from the previous run
#   DEMO_PORT=N           the embedded broker's loopback port (default 18830)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/artifacts/demo"
seconds="${DEMO_SECONDS:-60}"
port="${DEMO_PORT:-18830}"
case "$seconds" in ''|*[!0-9]*) echo "demo: DEMO_SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2 ;; esac
mkdir -p "$work"
cd "$root"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

say "building edgeagent and exporter"
dotnet build src/EdgeAgent -c Release -nologo -v:q -clp:ErrorsOnly
dotnet build tools/Exporter -c Release -nologo -v:q -clp:ErrorsOnly
edgeagent=(dotnet "$root/src/EdgeAgent/bin/Release/net10.0/edgeagent.dll")
exporter=(dotnet "$root/tools/Exporter/bin/Release/net10.0/exporter.dll")

say "building the demo model (simulated vibration data, training engine, int8 quantization, signed bundle)"
"${exporter[@]}" demo-model --out "$work/vibration.eab" --key "$work/demo.key" --public-key "$work/demo.pub"

if [ "${DEMO_KEEP_STATE:-0}" != 1 ]; then rm -rf "$work/state"; fi
daemon_args=(
  run --print
  --device:stateDirectory="$work/state"
  --model:demoBundle="$work/vibration.eab"
  --model:trustedKeys:0="$work/demo.pub"
  --mqtt:embeddedPort="$port"
  --learning:labelRule=simulatedRegime
)
daemon_args+=("$@")

log="$work/demo.log"
if [ "$seconds" -gt 0 ]; then
  say "running the daemon for $seconds s (DEMO_SECONDS=0 runs until Ctrl-C); inferences and events follow"
  runner=(timeout --preserve-status -s TERM -k 15 "$seconds")
else
  say "running the daemon until Ctrl-C; inferences and events follow"
  runner=()
fi
# tee -i: Ctrl-C reaches the daemon (which stops cleanly) but not tee, so the summary still sees every line.
set +e
"${runner[@]}" "${edgeagent[@]}" "${daemon_args[@]}" 2>&1 | tee -i "$log"
status=${PIPESTATUS[0]}
set -e

say "summary"
awk '
  /^infer #/ {
    n++
    for (i = 1; i <= NF; i++) if ($(i + 1) == "ms,") { lat += $i; if ($i > max) max = $i }
    seen[$4]++
  }
  /^event / { events++ }
  END {
    printf "  inferences: %d", n
    if (n > 0) printf ", mean latency %.3f ms, max %.3f ms", lat / n, max
    printf "\n  stable classes:"
    for (c in seen) printf " %s=%d", c, seen[c]
    printf "\n  events: %d\n", events
  }' "$log" >&2
echo "  full output: $log" >&2
if [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
  say "the daemon exited with status $status"
  exit "$status"
fi
exit 0
