#!/usr/bin/env bash
# ./build.sh bench daemon → bench/results/daemon.json: the daemon as shipped (NativeAOT, embedded defaults: simulated
# 3-axis vibration at 1 kHz, embedded MQTT broker), measured from outside the process and through its status command.
#   binary_bytes                 size of the published, stripped NativeAOT edgeagent per RID (target arm64 <= 15 MB)
#   first_inference_ms           x64: exec -> first inference printed, median of 3 restarts with the model installed
#                                (runtime start, config, store + signature check, model plan, 256 samples at 1 kHz)
#   first_inference_ms_qemu_a72  the same for the arm64 binary under qemu-aarch64 -cpu cortex-a72 (emulated: slower
#                                than a real Pi 4 by the emulation factor)
#   rss_bytes                    steady-state VmRSS (max over the measured interval) serving a ~1 MB int8 model (<= 40 MB),
#                                the worse of a first boot (empty state directory) and a restart on the state that the
#                                first boot and the 1 kHz run left (reservoir with samples, stored drift reference)
#   alloc_bytes_per_inference    managed bytes the whole process allocates per inference in steady state (target 0),
#                                the worse of the same two runs (GC.GetTotalAllocatedBytes deltas from the status
#                                command); details has the inference thread's own count
#   inferences_per_s             sustained rate with the sensor sampled at 1 kHz and a window started on every sample
#                                (hop 1: 1000 windows/s offered; what is not kept up with is dropped and counted)
#   BENCH_STEADY_SECONDS=N       length of each steady-state interval (default 20)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
steady="${BENCH_STEADY_SECONDS:-20}"
work=$(mktemp -d "${TMPDIR:-/tmp}/edgeagent-bench.XXXXXX")
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench daemon: %s\n' "$*" >&2; exit 1; }
for tool in mosquitto_sub mosquitto_pub qemu-aarch64-static; do command -v "$tool" >/dev/null || die "$tool is missing (./build.sh deps)"; done

# --- binaries: build.sh publish's artifacts when newer than every source, else the same NativeAOT publish of edgeagent
stale() { [ ! -x "$1" ] || [ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$1" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]; }
# aot_edgeagent RID: prints the path of an up-to-date NativeAOT edgeagent for RID (the flags are build.sh publish's).
aot_edgeagent() {
  local rid=$1 out="$root/artifacts/daemon-aot/$1"
  if ! stale "$root/artifacts/$rid/edgeagent"; then echo "$root/artifacts/$rid/edgeagent"; return; fi
  if stale "$out/edgeagent"; then
    say "publishing edgeagent for $rid (NativeAOT, stripped)"
    dotnet publish src/EdgeAgent -c Release -r "$rid" -o "$out" -nologo -v:q -clp:ErrorsOnly -p:PublishAot=true -p:StripSymbols=true >&2 ||
      die "NativeAOT publish of edgeagent for $rid failed"
  fi
  echo "$out/edgeagent"
}
x64=$(aot_edgeagent linux-x64)
arm64=$(aot_edgeagent linux-arm64)
declare -A bytes=([linux-x64]=$(stat -c %s "$x64") [linux-arm64]=$(stat -c %s "$arm64"))
exporter=(dotnet "$root/tools/Exporter/bin/Release/net10.0/exporter.dll")
[ -f "${exporter[1]}" ] || dotnet build tools/Exporter -c Release -nologo -v:q -clp:ErrorsOnly >&2 || die "building the exporter failed"

# --- the ~1 MB model: the demo recipe, widened (Conv1d 3->32->256, dense 256->3584, head 3584->5) ------------------
say "building a ~1 MB int8 model with exporter demo-model (short training: its accuracy is not what is measured)"
"${exporter[@]}" demo-model --out "$work/model.eab" --key "$work/bench.key" --public-key "$work/bench.pub" \
  --conv-channels 32,256 --embedding-width 3584 --epochs 2 --windows-per-class 48 >"$work/exporter.out" 2>"$work/exporter.err" ||
  { cat "$work/exporter.err" >&2; die "exporter demo-model failed"; }
model_bytes=$(stat -c %s "$work/model.eab")
model_parameters=$(sed -nE 's/.* ([0-9]+) parameters,.*/\1/p' "$work/exporter.out")
say "model: $model_bytes bytes, $model_parameters parameters"

# --- running the daemon -------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p; for _ in $(seq 1 50); do p=$((20000 + RANDOM % 30000)); port_free "$p" && { echo "$p"; return; }; done; die "no free port"; }

# start_daemon NAME STATE_DIR COMMAND... [-- DAEMON OPTION...]: runs `edgeagent run --print` on embedded defaults;
# $work/NAME.first gets the wall-clock time (EPOCHREALTIME) of the first inference line, $work/NAME.spawn the exec's.
start_daemon() {
  local name=$1 state=$2; shift 2
  local cmd=() opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  opts=("$@")
  port=$(free_port)
  printf '{}\n' >"$work/empty.json"
  rm -f "$work/$name.first"
  echo "$EPOCHREALTIME" >"$work/$name.spawn"
  EDGEAGENT_CONFIG= "${cmd[@]}" run --print --config "$work/empty.json" --device:id=bench --device:stateDirectory="$state" \
    --model:demoBundle="$work/model.eab" --model:trustedKeys:0="$work/bench.pub" --mqtt:embeddedPort="$port" \
    "${opts[@]}" \
    > >(first="$work/$name.first"; while IFS= read -r line; do
          if [ ! -e "$first" ] && [[ $line == "infer #"* ]]; then echo "$EPOCHREALTIME" >"$first"; fi
          printf '%s\n' "$line"
        done >"$work/$name.log") 2>&1 &
  daemon_pid=$!
}
wait_first_inference() {
  local name=$1 deadline=$((SECONDS + $2))
  until [ -e "$work/$name.first" ]; do
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/$name.log" >&2; die "$name: the daemon exited before its first inference"; }
    [ "$SECONDS" -lt "$deadline" ] || { cat "$work/$name.log" >&2; die "$name: no inference within $2 s"; }
    sleep 0.05
  done
  awk -v a="$(cat "$work/$name.spawn")" -v b="$(cat "$work/$name.first")" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  local status=0
  wait "$daemon_pid" || status=$?
  daemon_pid=""
  [ "$status" -eq 0 ] || die "$1: the daemon exited with status $status on SIGTERM"
}
# field JSON FIELD: a number from the status reply.
field() { grep -oE "\"$2\":[0-9.eE+-]+" <<<"$1" | head -1 | cut -d: -f2; }
status() {
  local out="$work/status.$RANDOM"
  mosquitto_sub -i "bench-sub-$RANDOM" -h 127.0.0.1 -p "$port" -C 1 -W 20 -t edgeagent/bench/reply/status >"$out" &
  local sub=$!
  sleep 0.3   # subscribed before asking (the embedded broker needs client ids: MQTTnet refuses empty ones)
  mosquitto_pub -i "bench-pub-$RANDOM" -h 127.0.0.1 -p "$port" -q 1 -t edgeagent/bench/cmd/status -m "{\"id\":\"bench-$RANDOM\"}"
  wait "$sub" || die "no reply to the status command"
  cat "$out"
}
# The daemon's largest VmRSS over N one-second samples, with its anonymous (heap, stacks, arena) and file-backed
# (code, mapped libraries) parts at that moment: "max anon file" in bytes. The file-backed part is what the daemon's
# start-up trim pages out (StartupMemoryTrim); reporting both shows how much of the total each is.
max_rss_over() {
  local max=0 anon=0 file=0 r a f
  for _ in $(seq 1 "$1"); do
    sleep 1
    read -r r a f < <(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { print r * 1024, a * 1024, f * 1024 }' "/proc/$daemon_pid/status")
    if [ "$r" -gt "$max" ]; then max=$r anon=$a file=$f; fi
  done
  echo "$max $anon $file"
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# --- first inference: one first boot (installs the bundle), then three restarts ------------------------------------
first_inference() {
  local label=$1; shift
  local state="$work/state-$label" runs=() ms
  start_daemon "$label-boot" "$state" "$@"
  first_boot=$(wait_first_inference "$label-boot" 300)
  stop_daemon "$label-boot"
  for i in 1 2 3; do
    start_daemon "$label-$i" "$state" "$@"
    ms=$(wait_first_inference "$label-$i" 300)
    stop_daemon "$label-$i"
    runs+=("$ms")
  done
  say "$label: first boot $first_boot ms; restarts ${runs[*]} ms"
  first_median=$(median3 "${runs[@]}")
}
say "x64: cold start to first inference"
first_inference x64 "$x64"
first_x64=$first_median first_boot_x64=$first_boot
say "arm64 under qemu -cpu cortex-a72: cold start to first inference"
openssl_lib=$(tests/suites/arm64-openssl.sh)   # .NET's cryptography (the bundle signature) loads OpenSSL
first_inference a72 qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu cortex-a72 -E "LD_LIBRARY_PATH=$openssl_lib" "$arm64"
first_a72=$first_median first_boot_a72=$first_boot

# --- steady state at the default hop: RSS and allocation per inference, on a first boot and on a restart ---------
# steady NAME STATE: 10 s warm-up, then $steady s measured; sets st_rss (max VmRSS; st_anon, st_file its parts), st_alloc (managed bytes per
# inference, whole process), st_thread_alloc (the inference thread's own), st_rate, st_latency, st_first, st_reservoir.
steady_state() {
  local name=$1 state=$2 s1 s2 t1 t2 n
  start_daemon "$name" "$state" "$x64"
  wait_first_inference "$name" 60 >/dev/null
  sleep 10
  s1=$(status); t1=$EPOCHREALTIME
  read -r st_rss st_anon st_file < <(max_rss_over "$steady")
  s2=$(status); t2=$EPOCHREALTIME
  stop_daemon "$name"
  sleep 0.5   # the output reader drains the daemon's last lines (its summary)
  n=$(( $(field "$s2" inferences) - $(field "$s1" inferences) ))
  [ "$n" -gt 0 ] || die "$name: no inferences in the steady-state interval"
  st_thread_alloc=$(awk -v a="$(field "$s1" inference_alloc_bytes)" -v b="$(field "$s2" inference_alloc_bytes)" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
  st_alloc=$(awk -v a="$(field "$s1" process_alloc_bytes)" -v b="$(field "$s2" process_alloc_bytes)" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / n }')
  st_rate=$(awk -v n="$n" -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", n / (b - a) }')
  st_first=$(field "$s2" first_inference_ms)
  st_latency=$(sed -nE 's/^summary: latency +mean ([0-9.]+) ms.*/\1/p' "$work/$name.log")
  st_reservoir=$(grep -oE '"reservoir":\{"samples":[0-9]+' <<<"$s2" | head -1 | sed -E 's/.*://')
  st_heap=$(field "$s2" managed_heap_bytes)
  say "$name: max RSS $st_rss B, $st_alloc B allocated per inference (inference thread $st_thread_alloc), $st_rate inferences/s, reservoir $st_reservoir samples"
}
# First boot: an empty state directory (the model is installed from the demo bundle, the reservoir and the drift
# reference start empty: every window is stored).
say "x64: steady state at the default hop on a first boot (10 s warm-up, $steady s measured)"
steady_state boot "$work/state-steady"
rss_boot=$st_rss anon_boot=$st_anon file_boot=$st_file alloc_boot=$st_alloc thread_alloc_boot=$st_thread_alloc steady_rate=$st_rate mean_latency=$st_latency daemon_first=$st_first heap_boot=$st_heap

# --- sustained rate: 1 kHz sampling, a window on every sample -------------------------------------------------------
# On the same state directory: 1000 windows/s fill the reservoir and complete the drift reference (saved to disk),
# which the restart below then loads.
say "x64: sustained rate at 1 kHz sampling with hop 1 (5 s warm-up, $steady s measured)"
start_daemon rate "$work/state-steady" "$x64" -- --pipeline:hop=1
wait_first_inference rate 60 >/dev/null
sleep 5
r1=$(status); u1=$EPOCHREALTIME
read -r rss_loaded _ _ < <(max_rss_over "$steady")
r2=$(status); u2=$EPOCHREALTIME
stop_daemon rate
rate=$(awk -v a="$(field "$r1" inferences)" -v b="$(field "$r2" inferences)" -v s="$u1" -v e="$u2" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
samples_rate=$(field "$r2" samples_per_s)
dropped_of() { grep -oE '"dropped":\{"samples":[0-9]+,"windows":[0-9]+' <<<"$1" | head -1 | sed -E 's/.*"windows"://'; }
dropped_windows=$(( $(dropped_of "$r2") - $(dropped_of "$r1") ))
rate_n=$(( $(field "$r2" inferences) - $(field "$r1" inferences) ))
alloc_loaded=$(awk -v a="$(field "$r1" process_alloc_bytes)" -v b="$(field "$r2" process_alloc_bytes)" -v n="$rate_n" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : -1) }')
thread_alloc_loaded=$(awk -v a="$(field "$r1" inference_alloc_bytes)" -v b="$(field "$r2" inference_alloc_bytes)" -v n="$rate_n" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : -1) }')

# Restart on the existing state: reservoir database with samples, the stored drift reference, the installed model.
say "x64: steady state at the default hop after a restart on the existing state (10 s warm-up, $steady s measured)"
steady_state restart "$work/state-steady"
rss_restart=$st_rss anon_restart=$st_anon file_restart=$st_file alloc_restart=$st_alloc thread_alloc_restart=$st_thread_alloc heap_restart=$st_heap reservoir_restart=$st_reservoir
rss=$(( rss_boot > rss_restart ? rss_boot : rss_restart ))
alloc=$(awk -v a="$alloc_boot" -v b="$alloc_restart" 'BEGIN { print (a > b ? a : b) }')
thread_alloc=$(awk -v a="$thread_alloc_boot" -v b="$thread_alloc_restart" 'BEGIN { print (a > b ? a : b) }')

mkdir -p bench/results
cat > bench/results/daemon.json <<JSON
{
  "binary_bytes": {"linux-arm64": ${bytes[linux-arm64]}, "linux-x64": ${bytes[linux-x64]}},
  "first_inference_ms": $first_x64,
  "first_inference_ms_qemu_a72": $first_a72,
  "rss_bytes": $rss,
  "alloc_bytes_per_inference": $alloc,
  "inferences_per_s": $rate,
  "targets": {"binary_bytes_linux-arm64_max": 15728640, "rss_bytes_max": 41943040, "alloc_bytes_per_inference": 0},
  "details": {
    "model_bundle_bytes": $model_bytes,
    "model_parameters": ${model_parameters:-0},
    "first_window_fill_ms": 256,
    "first_boot_inference_ms": {"linux-x64": $first_boot_x64, "qemu_a72": $first_boot_a72},
    "first_inference_ms_by_the_daemon": ${daemon_first:-null},
    "steady_inferences_per_s_default_hop": $steady_rate,
    "steady_mean_latency_ms": ${mean_latency:-null},
    "rss_bytes_first_boot": $rss_boot,
    "rss_bytes_restart": $rss_restart,
    "rss_anon_bytes_first_boot": $anon_boot,
    "rss_file_bytes_first_boot": $file_boot,
    "rss_anon_bytes_restart": $anon_restart,
    "rss_file_bytes_restart": $file_restart,
    "managed_heap_bytes_first_boot": ${heap_boot:-null},
    "managed_heap_bytes_restart": ${heap_restart:-null},
    "reservoir_samples_at_restart": ${reservoir_restart:-null},
    "process_alloc_bytes_per_inference_first_boot": $alloc_boot,
    "process_alloc_bytes_per_inference_restart": $alloc_restart,
    "inference_thread_alloc_bytes_per_inference": $thread_alloc,
    "inference_thread_alloc_bytes_per_inference_first_boot": $thread_alloc_boot,
    "inference_thread_alloc_bytes_per_inference_restart": $thread_alloc_restart,
    "hop1_samples_per_s": ${samples_rate:-null},
    "hop1_dropped_windows": $dropped_windows,
    "hop1_rss_bytes": $rss_loaded,
    "hop1_alloc_bytes_per_inference": $alloc_loaded,
    "hop1_inference_thread_alloc_bytes_per_inference": $thread_alloc_loaded,
    "steady_seconds": $steady,
    "cpu": "$(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1)",
    "cores": $(nproc)
  }
}
JSON
cat bench/results/daemon.json
verdict() { if awk -v v="$2" -v t="$3" "BEGIN { exit !(v $4 t) }"; then echo "met"; else echo "MISSED"; fi; }
{
  printf '\n%-30s %16s  %-14s %s\n' measure value target verdict
  printf '%-30s %16s  %-14s %s\n' "binary_bytes linux-arm64" "${bytes[linux-arm64]}" "<= 15728640" "$(verdict x "${bytes[linux-arm64]}" 15728640 '<=')"
  printf '%-30s %16s  %-14s %s\n' "binary_bytes linux-x64" "${bytes[linux-x64]}" "-" "-"
  printf '%-30s %16s  %-14s %s\n' "first_inference_ms" "$first_x64" "-" "(256 ms of it is the first window at 1 kHz)"
  printf '%-30s %16s  %-14s %s\n' "first_inference_ms_qemu_a72" "$first_a72" "-" "(emulated)"
  printf '%-30s %16s  %-14s %s\n' "rss_bytes" "$rss" "<= 41943040" "$(verdict x "$rss" 41943040 '<=') (first boot $rss_boot = anon $anon_boot + file $file_boot; restart $rss_restart = anon $anon_restart + file $file_restart)"
  printf '%-30s %16s  %-14s %s\n' "alloc_bytes_per_inference" "$alloc" "0" "$(verdict x "$alloc" 0 '<=') (whole process; first boot $alloc_boot, restart $alloc_restart; inference thread $thread_alloc)"
  printf '%-30s %16s  %-14s %s\n' "inferences_per_s" "$rate" "1000 offered" "($dropped_windows windows dropped in $steady s)"
} >&2
