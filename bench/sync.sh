#!/usr/bin/env bash
# ./build.sh bench sync: a 5 MB signed bundle over a loopback mosquitto, from the moment `exporter publish` starts to
# the device reporting it installed (chunked, hashed, reassembled on disk, signature verified, stored with fsync),
# against the time mosquitto_pub needs to deliver the same bytes to a subscriber as one message. Both are wall-clock
# times of the whole client process (start-up included); the median of 3 runs each. Writes bench/results/sync.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK=$(mktemp -d /tmp/edgeagent-bench-sync.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

log "build the bench device and publish the NativeAOT exporter"
dotnet build bench/Sync -c Release -nologo -v:q -clp:ErrorsOnly >&2
dotnet publish tools/Exporter -c Release -r linux-x64 -o "$WORK/exporter" -nologo -v:q -clp:ErrorsOnly -p:PublishAot=true -p:StripSymbols=true >&2
EXPORTER="$WORK/exporter/exporter"
BENCH=(dotnet bench/Sync/bin/Release/net10.0/edgeagent-bench-sync.dll)

"${BENCH[@]}" prepare "$WORK/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\n%s\n' "$PORT" "$([ "$(id -u)" = 0 ] && echo 'user root')" > "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" & PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
BROKER="mqtt://127.0.0.1:$PORT"

log "start the device"
"${BENCH[@]}" device --broker "$BROKER" --device bench --dir "$WORK/device" --trust "$WORK/data/trusted" > "$WORK/device.log" 2>&1 & PIDS+=($!)
for _ in $(seq 200); do grep -q '^ready' "$WORK/device.log" && break; sleep 0.05; done
grep -q '^ready' "$WORK/device.log" || { cat "$WORK/device.log" >&2; echo "bench sync: the device did not connect" >&2; exit 1; }

log "warm-up: install 1.0.0"
"$EXPORTER" publish "$WORK/data/bench-1.0.0.eab" --broker "$BROKER" --device bench --wait 60 >&2

ours=()
for version in 2.0.0 3.0.0 4.0.0; do
  start=$(now)
  "$EXPORTER" publish "$WORK/data/bench-$version.eab" --broker "$BROKER" --device bench --wait 60 >&2
  ours+=("$(echo "$(now) - $start" | bc -l)")
done

raw=()
for run in 1 2 3; do
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -C 1 -t "bench/raw/$run" > "$WORK/received" & sub=$!
  sleep 0.3   # let the subscription settle; not timed
  start=$(now)
  mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "bench/raw/$run" -f "$WORK/data/bench-2.0.0.eab"
  wait "$sub"
  raw+=("$(echo "$(now) - $start" | bc -l)")
done

bundle_bytes=$(stat -c %s "$WORK/data/bench-2.0.0.eab")
delta_bytes=$(stat -c %s "$WORK/data/head.ead")
ours_s=$(median "${ours[@]}")
raw_s=$(median "${raw[@]}")
mkdir -p bench/results
python3 - "$bundle_bytes" "$ours_s" "$raw_s" "$delta_bytes" "${ours[*]}" "${raw[*]}" > bench/results/sync.json <<'PY'
import json, sys
b, ours, raw, delta, ours_runs, raw_runs = sys.argv[1:]
print(json.dumps({
    "bundle_bytes": int(b), "ours_s": round(float(ours), 4), "mosquitto_pub_s": round(float(raw), 4),
    "ratio": round(float(ours) / float(raw), 3), "delta_bytes": int(delta),
    "delta_fraction_of_bundle": round(int(delta) / int(b), 6),
    "ours_runs_s": [round(float(x), 4) for x in ours_runs.split()], "mosquitto_pub_runs_s": [round(float(x), 4) for x in raw_runs.split()],
    "note": "wall clock of the whole client process: exporter publish --wait (NativeAOT) until the device reports model/installed, "
            "vs mosquitto_pub -q 1 -f until mosquitto_sub has the message; loopback mosquitto; median of 3; delta_bytes is a "
            "signed head-only delta (256x8 int8 dense + bias) built by the bench, not by a device's learning run",
}, indent=2))
PY
cat bench/results/sync.json
