#!/usr/bin/env bash
# ./build.sh demo [DAEMON OPTION...]: builds the demo model with the project's own tools (simulated vibration
# windows -> training engine -> int8 QDQ quantizer -> signed bundle) and runs the daemon in the foreground on
# embedded defaults (simulated vibration sensor, embedded MQTT broker, this model), printing inferences (stable
# class, smoothed score, raw class, latency; on every class change and once a second) and every event. Ends after
# DEMO_SECONDS (default 60; 0 = until Ctrl-C) with the daemon's summary: inferences, classes seen, latency, and
# what reached the broker. Extra arguments go to 'edgeagent run' (e.g. --pipeline:smoothing=2); so do the
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

say "building edgeagent and exporter (Release; the first build restores NuGet packages and takes a minute or two)"
for project in src/EdgeAgent tools/Exporter; do
  # MSBuild's output is shown only when the build fails.
  if ! build_output=$(dotnet build "$project" -c Release -nologo -v:q -clp:ErrorsOnly 2>&1); then
    printf '%s\n' "$build_output" >&2
    echo "demo: building $project failed (errors above)" >&2
    exit 1
  fi
done
edgeagent=(dotnet "$root/src/EdgeAgent/bin/Release/net10.0/edgeagent.dll")
exporter=(dotnet "$root/tools/Exporter/bin/Release/net10.0/exporter.dll")

say "building the demo model (simulated vibration data, training engine, int8 quantization, signed bundle)"
"${exporter[@]}" demo-model --out "$work/vibration.eab" --key "$work/demo.key" --public-key "$work/demo.pub"

if [ "${DEMO_KEEP_STATE:-0}" != 1 ]; then rm -rf "$work/state"; fi
# An empty configuration file, so that the demo runs on the embedded defaults even on a machine with an
# /etc/edgeagent/edgeagent.json (or EDGEAGENT_CONFIG) of its own.
printf '{}\n' > "$work/edgeagent.json"
daemon_args=(
  run --print --config "$work/edgeagent.json"
  --device:stateDirectory="$work/state"
  --model:demoBundle="$work/vibration.eab"
  --model:trustedKeys:0="$work/demo.pub"
  --mqtt:embeddedPort="$port"
  --learning:labelRule=simulatedRegime
  # The device's accelerometer is noisier (0.4 g RMS) than the data the demo model was trained on (0.02 g), as a cheap
  # sensor on a real machine would be: the shipped model is unsure there, and the labelled windows let the on-device
  # learner improve it (learning.accepted once held-out accuracy rises; --sensors:0:noiseG=0.02 shows the factory case,
  # where the model is already right and every update is rejected as no better).
  --sensors:0:name=vibration --sensors:0:type=simulated --sensors:0:rateHz=1000 --sensors:0:noiseG=0.4
)
daemon_args+=("$@")

log="$work/demo.log"
say "starting the daemon: embedded MQTT broker on 127.0.0.1:$port, simulated 3-axis vibration sensor at 1 kHz (noisier than the training data; a new machine state every 10 s), the demo model"
if [ "$seconds" -gt 0 ]; then
  say "it runs for $seconds s (DEMO_SECONDS=0 runs until Ctrl-C); an inference is shown when the class changes and once a second"
  # --foreground keeps the daemon in the terminal's process group, so an early Ctrl-C still stops it cleanly.
  runner=(timeout --foreground --preserve-status -s TERM -k 15 "$seconds")
else
  say "it runs until Ctrl-C; an inference is shown when the class changes and once a second"
  runner=()
fi
# tee -i: Ctrl-C reaches the daemon (which stops cleanly and prints its summary) but not tee, which keeps copying.
set +e
"${runner[@]}" "${edgeagent[@]}" "${daemon_args[@]}" 2>&1 | tee -i "$log"
status=${PIPESTATUS[0]}
set -e

grep -q '^summary: ' "$log" || echo "demo: the daemon printed no summary (it did not stop cleanly)" >&2
say "full output: $log"
# 143 = SIGTERM from timeout (the planned end), 130 = Ctrl-C: both are how the demo is meant to stop.
if [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ]; then
  say "the daemon exited with status $status"
  exit "$status"
fi
exit 0
