#!/usr/bin/env bash
# Issue 6, "Must show" #1: the linux-arm64 NativeAOT edgeagent under qemu (cortex-a72 by default, E2E_CPU=...) with a
# real mosquitto on a free loopback port loads a signed bundle, infers on the simulated source, publishes status and
# inferences, answers commands, and exits 0 on SIGTERM with its offline status published. Every assertion is counted;
# the last line is "daemon-e2e-a72: N passed, N failed, N skipped".
#   E2E_CPU=cortex-a72    the qemu CPU model
#   E2E_KEEP=1            keep the work directory (daemon log, MQTT capture) for a look afterwards
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
cpu="${E2E_CPU:-cortex-a72}"
suite="daemon-e2e-${cpu#cortex-}"
work=$(mktemp -d "${TMPDIR:-/tmp}/edgeagent-e2e.XXXXXX")
passed=0 failed=0 skipped=0
broker_pid="" sub_pid="" daemon_pid=""

cleanup() {
  local pid
  for pid in "$daemon_pid" "$sub_pid" "$broker_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "${E2E_KEEP:-0}" = 1 ]; then echo "$suite: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

report() { echo "$suite: $passed passed, $failed failed, $skipped skipped"; }
# check DESCRIPTION COMMAND...: one counted assertion.
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $what"; else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
# A step the remaining assertions depend on failed: count it, show why, stop.
abort() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  for f in "$work"/daemon.log "$work"/mosquitto.log; do [ -s "$f" ] && { echo "--- tail of $f"; tail -n 20 "$f"; }; done
  report
  exit 1
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$deadline" ] && return 1; sleep 0.2; done
}
log_has() { grep -qE -- "$2" "$work/$1" 2>/dev/null; }
# The payloads captured on one topic (mosquitto_sub -v prints "topic payload" per line).
payloads() { sed -n "s|^edgeagent/e2e/$1 ||p" "$work/mqtt.log" 2>/dev/null; }
topic_has() { payloads "$1" | grep -qE -- "$2"; }
export work
export -f payloads topic_has

for tool in qemu-aarch64-static mosquitto mosquitto_sub mosquitto_pub dotnet; do
  command -v "$tool" >/dev/null 2>&1 || abort "$tool is not installed (./build.sh deps installs it)"
done

# --- the arm64 daemon: build.sh publish's artifact when newer than every source, else the same publish of edgeagent --
stale() { [ ! -x "$1" ] || [ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$1" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; }
edgeagent="$ROOT/artifacts/linux-arm64/edgeagent"
if stale "$edgeagent"; then
  edgeagent="$ROOT/artifacts/daemon-aot/linux-arm64/edgeagent"
  if stale "$edgeagent"; then
    echo "$suite: publishing edgeagent for linux-arm64 (NativeAOT)"
    dotnet publish src/EdgeAgent -c Release -r linux-arm64 -o "$ROOT/artifacts/daemon-aot/linux-arm64" -nologo -v:q -clp:ErrorsOnly \
      -p:PublishAot=true -p:StripSymbols=true >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; abort "NativeAOT publish of edgeagent for linux-arm64"; }
  fi
fi
check "the daemon is a NativeAOT linux-arm64 executable" bash -c "file -b '$edgeagent' 2>/dev/null | grep -q 'ARM aarch64' || od -An -tx1 -j18 -N2 '$edgeagent' | grep -q 'b7 00'"
openssl_lib=$("$ROOT/tests/suites/arm64-openssl.sh") || abort "the arm64 OpenSSL libraries the daemon loads for signatures"
qemu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu "$cpu" -E "LD_LIBRARY_PATH=$openssl_lib")

# --- a signed demo bundle from the x64 exporter ------------------------------------------------------------------
exporter="$ROOT/tools/Exporter/bin/Release/net10.0/exporter.dll"
if [ ! -f "$exporter" ]; then dotnet build tools/Exporter -c Release -nologo -v:q -clp:ErrorsOnly >"$work/build.log" 2>&1 || { cat "$work/build.log"; abort "building the exporter"; }; fi
dotnet "$exporter" demo-model --out "$work/vibration.eab" --key "$work/demo.key" --public-key "$work/demo.pub" >"$work/exporter.log" 2>&1 ||
  { cat "$work/exporter.log"; abort "exporter demo-model"; }

# --- mosquitto on a free loopback port (retried if another process takes the port first) --------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" || continue
  { echo "listener $port 127.0.0.1"; echo "allow_anonymous true"; echo "persistence false"
    [ "$(id -u)" -eq 0 ] && echo "user root"; } >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  broker_pid=$!
  if wait_for 5 bash -c "! kill -0 $broker_pid 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null" && kill -0 "$broker_pid" 2>/dev/null; then break; fi
  kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; broker_pid=""
done
[ -n "$broker_pid" ] || abort "mosquitto did not start on a free loopback port"
mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'edgeagent/e2e/#' >"$work/mqtt.log" 2>"$work/mqtt.err" &
sub_pid=$!

cat >"$work/edgeagent.json" <<JSON
{
  "device": { "id": "e2e", "stateDirectory": "$work/state" },
  "model": { "demoBundle": "$work/vibration.eab", "trustedKeys": ["$work/demo.pub"] },
  "mqtt": { "broker": "mqtt://127.0.0.1:$port", "telemetryIntervalMs": 500 }
}
JSON
"${qemu[@]}" "$edgeagent" config check "$work/edgeagent.json" >"$work/config-check.log" 2>&1
check "edgeagent config check accepts the test configuration" test $? -eq 0

# --- the daemon ---------------------------------------------------------------------------------------------------
started=$SECONDS
EDGEAGENT_CONFIG= "${qemu[@]}" "$edgeagent" run --config "$work/edgeagent.json" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 60 bash -c "grep -q '\"items\"' '$work/mqtt.log' 2>/dev/null || ! kill -0 $daemon_pid 2>/dev/null"
kill -0 "$daemon_pid" 2>/dev/null || { wait "$daemon_pid"; abort "the daemon exited early with status $? (log below)"; }
echo "$suite: first telemetry after $((SECONDS - started)) s under qemu -cpu $cpu"

check "loads the signed demo bundle (log)" log_has daemon.log 'Serving model vibration 1\.0\.0 \(5 classes, window 256x3\)'
check "installs it in the model store as current" bash -c \
  "[ -s '$work/state/models/vibration/1.0.0/model.eab' ] && [ \"\$(tr -d '[:space:]' <'$work/state/models/vibration/current')\" = 1.0.0 ]"
check "reads the simulated source at 1 kHz" log_has daemon.log 'Sensor vibration \(simulated\) sampling at 1000 Hz'
check "connects to mosquitto" log_has daemon.log "connected to mqtt://127.0.0.1:$port"
check "publishes a retained status, online, serving vibration 1.0.0" \
  bash -c "topic_has status '\"online\":true' && topic_has status '\"model\":\{\"name\":\"vibration\",\"version\":\"1\.0\.0\"\}'"
check "status names the NEON kernel path of the emulated $cpu" bash -c "topic_has status '\"kernel_path\":\"neon'"
check "publishes the model.activated event" bash -c "topic_has events 'model\.activated'"
wait_for 20 bash -c "[ \$(grep -o '\"seq\":' '$work/mqtt.log' | wc -l) -ge 8 ]"
inferences=$(payloads telemetry | grep -o '"seq":' | wc -l)
echo "$suite: $inferences inferences in the captured telemetry"
check "publishes inferences as telemetry (at least 8)" test "$inferences" -ge 8
check "every inference names a class of the model and version 1.0.0" bash -c \
  "payloads telemetry | grep -o '\"model_version\":\"[^\"]*\",\"class\":\"[^\"]*\"' | grep -vqE '\"model_version\":\"1\.0\.0\",\"class\":\"(unknown|idle|normal|imbalance|misalignment|bearing_fault)\"' && exit 1
     [ \$(payloads telemetry | grep -o '\"model_version\":\"1\.0\.0\",\"class\":' | wc -l) -ge 8 ]"
check "the simulated machine is recognised (a stable class other than unknown)" bash -c \
  "payloads telemetry | grep -qE '\"class\":\"(idle|normal|imbalance|misalignment|bearing_fault)\"'"

# --- commands -----------------------------------------------------------------------------------------------------
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t edgeagent/e2e/cmd/ping -m '{"id":"e2e-ping-1"}'
wait_for 20 bash -c "grep -q '^edgeagent/e2e/reply/ping .*e2e-ping-1' '$work/mqtt.log'"
check "answers ping with pong and the request's id" bash -c \
  "grep '^edgeagent/e2e/reply/ping ' '$work/mqtt.log' | grep 'e2e-ping-1' | grep -q '\"pong\":true'"
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t edgeagent/e2e/cmd/status -m '{"id":"e2e-status-1"}'
wait_for 20 bash -c "grep -q '^edgeagent/e2e/reply/status .*e2e-status-1' '$work/mqtt.log'"
check "answers status with a non-zero inference count" bash -c \
  "grep '^edgeagent/e2e/reply/status ' '$work/mqtt.log' | grep 'e2e-status-1' | grep -qE '\"inferences\":[1-9]'"
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t edgeagent/e2e/cmd/ping -m '{"id":"e2e-ping-2","bogus":1}'
wait_for 20 bash -c "grep -q '^edgeagent/e2e/reply/ping .*e2e-ping-2' '$work/mqtt.log'"
check "refuses a malformed command, naming the unknown field" bash -c \
  "grep '^edgeagent/e2e/reply/ping ' '$work/mqtt.log' | grep 'e2e-ping-2' | grep -q 'bogus'"

# --- SIGTERM ------------------------------------------------------------------------------------------------------
kill -TERM "$daemon_pid"
stop_started=$SECONDS
wait_for 40 bash -c "! kill -0 $daemon_pid 2>/dev/null"
if kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid"; fi
wait "$daemon_pid"; status=$?
daemon_pid=""
echo "$suite: stopped $((SECONDS - stop_started)) s after SIGTERM, exit status $status"
check "exits 0 on SIGTERM" test "$status" -eq 0
sleep 0.5
check "publishes its offline status on the way out" bash -c "payloads status | tail -n 1 | grep -q '\"online\":false'"
check "flushes the reservoir on stop" log_has daemon.log 'reservoir flushed \([1-9][0-9]* samples stored\)'
check "logs no error or crash" bash -c "! grep -qE ' (fail|crit): |Unhandled exception' '$work/daemon.log'"

report
[ "$failed" -eq 0 ]
