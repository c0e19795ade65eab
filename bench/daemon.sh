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
#                                on the state of a device that has run for a day (see "Steady state" below): the bytes
#                                per inference without reservoir writes (GC.GetTotalAllocatedBytes(precise) deltas from
#                                the status command over whole minutes, the opening command's own reply taken out, the
#                                writer thread's bytes for the writes in the interval taken out) plus Algorithm R's exact
#                                admission rate (capacity/seen) times the measured bytes of one stored window. Both
#                                inputs are in details, with the first boot's figure (an empty reservoir: every window
#                                is written), the writes per 1000 inferences (expected and as they fell), the inference
#                                thread's own count, and the split of the rest into bytes per inference (marginal) and
#                                bytes per second of clock-driven work (periodic), from two inference rates
#
# Steady state. Algorithm R keeps the n-th window with probability capacity/n, so a new device writes every window
# until its reservoir is full (2000 windows, ~4 min at the default hop) and then ever fewer: after a day at the default
# hop (7.8 windows/s, n = 675,000) it keeps 3 windows in 1000. The bench makes that state for real rather than waiting
# a day: after the first boot and the 1 kHz run, it copies their state directory (installed model, drift reference,
# reservoir) and offers the reservoir windows until it has seen BENCH_RESERVOIR_SEEN (default 675000) through the
# daemon's own LiteDbReservoir and Algorithm R (tests/EdgeAgent.FaultChild reservoir-age: every window kept is
# written, ~14,000 writes, done on /dev/shm because each LiteDB commit fsyncs), then restarts the daemon on it twice:
# at the default hop and at hop 8 (16x the windows), each after a 40 s warm-up (a restart's transients: the drift
# monitor's first check, with its event, and LiteDB's first write) and measured over whole minutes (60 s unless
# BENCH_STEADY_SECONDS is longer) so that the interval holds the periodic work (the retained status is published
# once a minute) in proportion and enough inferences that no single write dominates. The two rates separate the bytes
# that scale with inferences from the bytes per second of work on a clock (status, drift check, timers, broker; the
# telemetry batch is not dispatched while no client subscribes to it, as in this bench).
#   inferences_per_s             sustained rate with the sensor sampled at 1 kHz and a window started on every sample
#                                (hop 1: 1000 windows/s offered; what is not kept up with is dropped and counted)
#   BENCH_STEADY_SECONDS=N       length of the first boot's steady-state interval and of the 1 kHz run (default 20);
#                                the restarts on a day's state last N rounded up to whole minutes (at least 60 s)
#   BENCH_RESERVOIR_SEEN=N       windows the aged reservoir has seen (default 675000: a day at the default hop)
#   BENCH_DAEMON_BINARIES=DIR    measure DIR/linux-x64/edgeagent and DIR/linux-arm64/edgeagent instead of this tree's
#                                (before/after comparisons on the same bench)
#   BENCH_RESULTS=FILE           write the results there instead of bench/results/daemon.json (two benches at once)
#   BENCH_AGING_TOOL=DIR         age the reservoir with DIR/EdgeAgent.FaultChild.dll instead of this tree's: the build
#                                that matches BENCH_DAEMON_BINARIES, when the reservoir's format differs between them
#                                (a database aged by one and opened by the other pays the difference at start-up)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
steady="${BENCH_STEADY_SECONDS:-20}"
# The restarts on a day's state are measured over whole minutes (at least BENCH_STEADY_SECONDS): see "Steady state".
aged_seconds=$(( steady > 60 ? (steady + 59) / 60 * 60 : 60 ))
# Their warm-up outlasts a restart's transients: the drift monitor's first full set of recent windows (200, 26 s at the
# default hop), whose first check against the stored reference raises drift.detected when the two differ (an event is
# ~50 KB of formatting, logging and publishing: 1 KB/s over a minute), and more often than not LiteDB's first write.
restart_warmup=40
fast_hop=8
results="${BENCH_RESULTS:-bench/results/daemon.json}"
aged_seen="${BENCH_RESERVOIR_SEEN:-675000}"
embedding_width=3584   # the bench model's (exporter demo-model --embedding-width below)
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
if [ -n "${BENCH_DAEMON_BINARIES:-}" ]; then
  x64="$BENCH_DAEMON_BINARIES/linux-x64/edgeagent" arm64="$BENCH_DAEMON_BINARIES/linux-arm64/edgeagent"
  [ -x "$x64" ] && [ -x "$arm64" ] || die "BENCH_DAEMON_BINARIES=$BENCH_DAEMON_BINARIES holds no linux-x64/edgeagent and linux-arm64/edgeagent"
else
  x64=$(aot_edgeagent linux-x64)
  arm64=$(aot_edgeagent linux-arm64)
fi
declare -A bytes=([linux-x64]=$(stat -c %s "$x64") [linux-arm64]=$(stat -c %s "$arm64"))
exporter=(dotnet "$root/tools/Exporter/bin/Release/net10.0/exporter.dll")
[ -f "${exporter[1]}" ] || dotnet build tools/Exporter -c Release -nologo -v:q -clp:ErrorsOnly >&2 || die "building the exporter failed"
if [ -n "${BENCH_AGING_TOOL:-}" ]; then
  [ -f "$BENCH_AGING_TOOL/EdgeAgent.FaultChild.dll" ] || die "BENCH_AGING_TOOL=$BENCH_AGING_TOOL holds no EdgeAgent.FaultChild.dll"
  aging=(dotnet "$BENCH_AGING_TOOL/EdgeAgent.FaultChild.dll")
else
  aging=(dotnet "$root/tests/EdgeAgent.FaultChild/bin/Release/net10.0/EdgeAgent.FaultChild.dll")
  dotnet build tests/EdgeAgent.FaultChild -c Release -nologo -v:q -clp:ErrorsOnly >&2 || die "building tests/EdgeAgent.FaultChild (the reservoir ageing) failed"
fi

# --- the ~1 MB model: the demo recipe, widened (Conv1d 3->32->256, dense 256->3584, head 3584->5) ------------------
say "building a ~1 MB int8 model with exporter demo-model (short training: its accuracy is not what is measured)"
"${exporter[@]}" demo-model --out "$work/model.eab" --key "$work/bench.key" --public-key "$work/bench.pub" \
  --conv-channels 32,256 --embedding-width "$embedding_width" --epochs 2 --windows-per-class 48 >"$work/exporter.out" 2>"$work/exporter.err" ||
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
# field0 JSON FIELD: the same, 0 when the reply has no such field (a daemon from before it was reported).
field0() { local v; v=$(field "$1" "$2"); echo "${v:-0}"; }
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

# --- steady state: RSS and allocation, on a first boot and on a restart on a day's state -----------------------
# steady_state NAME STATE SECONDS WARMUP [DAEMON OPTION...]: WARMUP s, then SECONDS measured between two status commands;
# sets st_rss (max VmRSS; st_anon, st_file its parts), st_thread_alloc (the inference thread's bytes per inference),
# st_rate, st_latency, st_first, st_reservoir, st_n (inferences), st_seconds (the interval's exact length), and:
#   st_bytes        managed bytes the whole process allocated in the interval, less the one status command's reply that
#                   opens it (st_probe: that command's cost, measured by two commands in a row less any reservoir
#                   writes between them; it also holds the ~0.4 s of the daemon's own work between the two)
#   st_writes, st_write_alloc   reservoir windows written in the interval, and the bytes the writer thread allocated
#                   for them (LiteDB's transaction, pages, index nodes)
#   st_alloc        st_bytes per inference (writes included, as they fell); st_alloc_nowrite without the writes
steady_state() {
  local name=$1 state=$2 seconds=$3 warmup=$4 s0 s1 s2 t1 t2 n
  shift 4
  start_daemon "$name" "$state" "$x64" -- "$@"
  wait_first_inference "$name" 60 >/dev/null
  sleep "$warmup"
  s0=$(status)
  s1=$(status); t1=$EPOCHREALTIME
  st_probe=$(( $(field "$s1" process_alloc_bytes) - $(field "$s0" process_alloc_bytes) - $(field0 "$s1" write_alloc_bytes) + $(field0 "$s0" write_alloc_bytes) ))
  read -r st_rss st_anon st_file < <(max_rss_over "$seconds")
  s2=$(status); t2=$EPOCHREALTIME
  stop_daemon "$name"
  sleep 0.5   # the output reader drains the daemon's last lines (its summary)
  n=$(( $(field "$s2" inferences) - $(field "$s1" inferences) ))
  [ "$n" -gt 0 ] || die "$name: no inferences in the steady-state interval"
  st_thread_alloc=$(awk -v a="$(field "$s1" inference_alloc_bytes)" -v b="$(field "$s2" inference_alloc_bytes)" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
  st_alloc_raw=$(awk -v a="$(field "$s1" process_alloc_bytes)" -v b="$(field "$s2" process_alloc_bytes)" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / n }')
  st_bytes=$(( $(field "$s2" process_alloc_bytes) - $(field "$s1" process_alloc_bytes) - st_probe ))
  [ "$st_bytes" -ge 0 ] || st_bytes=0
  st_writes=$(( $(field0 "$s2" writes) - $(field0 "$s1" writes) ))
  st_write_alloc=$(( $(field0 "$s2" write_alloc_bytes) - $(field0 "$s1" write_alloc_bytes) ))
  st_alloc=$(awk -v b="$st_bytes" -v n="$n" 'BEGIN { printf "%.0f", b / n }')
  st_alloc_nowrite=$(awk -v b="$st_bytes" -v w="$st_write_alloc" -v n="$n" 'BEGIN { v = (b - w) / n; printf "%.0f", (v > 0 ? v : 0) }')
  st_n=$n
  st_seconds=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
  st_seen=$(field0 "$s2" seen)
  st_version=$(grep -oE '"model":\{"name":"[^"]*","version":"[^"]*"' <<<"$s2" | head -1 | sed -E 's/.*"version":"([^"]*)"/\1/')
  st_rate=$(awk -v n="$n" -v s="$st_seconds" 'BEGIN { printf "%.2f", n / s }')
  st_first=$(field "$s2" first_inference_ms)
  st_latency=$(sed -nE 's/^summary: latency +mean ([0-9.]+) ms.*/\1/p' "$work/$name.log")
  st_reservoir=$(grep -oE '"reservoir":\{"samples":[0-9]+' <<<"$s2" | head -1 | sed -E 's/.*://')
  st_heap=$(field "$s2" managed_heap_bytes)
  say "$name: max RSS $st_rss B; $st_bytes B allocated over $n inferences in $st_seconds s ($st_alloc per inference, inference thread $st_thread_alloc; $st_alloc_nowrite without the $st_writes reservoir writes' $st_write_alloc B), $st_rate inferences/s, reservoir $st_reservoir samples of $st_seen seen; a status command costs $st_probe B"
}
# First boot: an empty state directory (the model is installed from the demo bundle, the reservoir and the drift
# reference start empty: every window is stored).
say "x64: steady state at the default hop on a first boot (10 s warm-up, $steady s measured)"
steady_state boot "$work/state-steady" "$steady" 10
rss_boot=$st_rss anon_boot=$st_anon file_boot=$st_file alloc_boot=$st_alloc thread_alloc_boot=$st_thread_alloc steady_rate=$st_rate mean_latency=$st_latency daemon_first=$st_first heap_boot=$st_heap
alloc_nowrite_boot=$st_alloc_nowrite writes_boot=$st_writes n_boot=$st_n write_alloc_boot=$st_write_alloc
bytes_per_write=$(awk -v w="$st_write_alloc" -v n="$st_writes" 'BEGIN { if (n > 0) printf "%.0f", w / n; else print "null" }')
model_version=$st_version

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

# The state of a device that has run for a day (see "Steady state" at the top): the first boot's and the 1 kHz run's
# state directory, its reservoir offered windows until it has seen $aged_seen, then a restart on it.
read -r window_size channels < <(sed -nE 's/.*Serving model .*window ([0-9]+)x([0-9]+).*/\1 \2/p' "$work/rate.log" | head -1)
[ -n "${window_size:-}" ] || die "the daemon's log names no model window (Serving model ... window NxC)"
aged="$work/state-aged"
cp -a "$work/state-steady" "$aged"
scratch=$(mktemp -d "$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/edgeagent-age.XXXXXX")
for f in reservoir.db reservoir-log.db; do if [ -f "$aged/$f" ]; then mv "$aged/$f" "$scratch/$f"; fi; done
say "ageing the reservoir to $aged_seen windows seen (capacity 2000, window ${window_size}x$channels, embedding $embedding_width)"
aging_start=$SECONDS
"${aging[@]}" reservoir-age "$scratch/reservoir.db" 2000 "$aged_seen" $((window_size * channels)) "$channels" "$embedding_width" "${model_version:-bench}" >"$work/aging.out" 2>&1 ||
  { cat "$work/aging.out" >&2; rm -rf "$scratch"; die "ageing the reservoir failed"; }
say "$(cat "$work/aging.out") in $((SECONDS - aging_start)) s"
for f in reservoir.db reservoir-log.db; do if [ -f "$scratch/$f" ]; then mv "$scratch/$f" "$aged/$f"; fi; done
rm -rf "$scratch"

# Two restarts on copies of that state, at the default hop and at hop $fast_hop (16x the windows), each measured over
# $aged_seconds s: whole minutes, so the interval holds as many retained statuses (one a minute) as it lasts, and
# enough inferences that the headline is not one stray write. Bytes per second without reservoir writes, y = a*r + b
# over the two inference rates r, splits what scales with inferences (a, bytes per inference) from what runs on a
# clock (b, bytes per second: retained status each minute, drift check, timers, the broker's keep-alive check).
for run in restart fast; do rm -rf "$work/state-$run"; cp -a "$aged" "$work/state-$run"; done
say "x64: steady state at the default hop after a restart on a day's state ($restart_warmup s warm-up, $aged_seconds s measured)"
steady_state restart "$work/state-restart" "$aged_seconds" "$restart_warmup"
rss_restart=$st_rss anon_restart=$st_anon file_restart=$st_file alloc_restart=$st_alloc thread_alloc_restart=$st_thread_alloc heap_restart=$st_heap reservoir_restart=$st_reservoir
alloc_nowrite=$st_alloc_nowrite alloc_raw=$st_alloc_raw writes_restart=$st_writes write_alloc_restart=$st_write_alloc n_restart=$st_n seen_restart=$st_seen probe=$st_probe
seconds_restart=$st_seconds rate_restart=$st_rate bytes_restart=$st_bytes
say "x64: steady state at hop $fast_hop after a restart on a day's state ($restart_warmup s warm-up, $aged_seconds s measured)"
steady_state fast "$work/state-fast" "$aged_seconds" "$restart_warmup" --pipeline:hop="$fast_hop"
n_fast=$st_n seconds_fast=$st_seconds rate_fast=$st_rate bytes_fast=$st_bytes writes_fast=$st_writes write_alloc_fast=$st_write_alloc
alloc_nowrite_fast=$st_alloc_nowrite thread_alloc_fast=$st_thread_alloc rss_fast=$st_rss
# y = bytes per second without reservoir writes at each rate; a = per inference, b = per second of periodic work.
read -r per_inference_marginal periodic_per_s < <(awk -v b1="$bytes_restart" -v w1="$write_alloc_restart" -v s1="$seconds_restart" -v r1="$rate_restart" \
  -v b2="$bytes_fast" -v w2="$write_alloc_fast" -v s2="$seconds_fast" -v r2="$rate_fast" \
  'BEGIN { y1 = (b1 - w1) / s1; y2 = (b2 - w2) / s2; a = (y2 - y1) / (r2 - r1); printf "%.1f %.0f\n", a, y1 - a * r1 }')
# Bytes per stored window on a full reservoir (each write replaces a sample), from the faster restart's writes: its
# first write after the restart, which loads LiteDB's collection and index pages (~0.2-0.4 MB once per process), falls
# in its warm-up (125 windows/s at 3 in 1000 kept), where at the default hop it falls in the measured interval about
# half the time; the first boot's writes fill an empty reservoir (inserts) and are reported beside them.
bytes_per_replacement=$(awk -v w="$write_alloc_fast" -v n="$writes_fast" 'BEGIN { if (n > 0) printf "%.0f", w / n; else print "null" }')
bytes_per_stored=$bytes_per_replacement
[ "$bytes_per_stored" != null ] || bytes_per_stored=$bytes_per_write
writes_per_1000=$(awk -v w="$writes_restart" -v n="$n_restart" 'BEGIN { printf "%.2f", 1000 * w / n }')
writes_per_1000_fast=$(awk -v w="$writes_fast" -v n="$n_fast" 'BEGIN { printf "%.2f", 1000 * w / n }')
expected_writes_per_1000=$(awk -v s="$seen_restart" 'BEGIN { printf "%.2f", (s > 2000 ? 1000 * 2000 / s : 1000) }')
# The headline: the steady state's bytes per inference without reservoir writes, plus Algorithm R's admission rate
# (capacity/seen, exact: the interval's own count of writes is a handful) times the bytes of one stored window.
alloc_expected=$(awk -v a="$alloc_nowrite" -v e="$expected_writes_per_1000" -v b="$bytes_per_stored" 'BEGIN { if (b == "null") print "null"; else printf "%.0f", a + e * b / 1000 }')
rss=$(( rss_boot > rss_restart ? rss_boot : rss_restart ))
alloc=$alloc_expected
[ "$alloc" != null ] || alloc=$alloc_restart
thread_alloc=$(awk -v a="$thread_alloc_boot" -v b="$thread_alloc_restart" -v c="$thread_alloc_fast" 'BEGIN { m = (a > b ? a : b); print (c > m ? c : m) }')

mkdir -p "$(dirname "$results")"
cat > "$results" <<JSON
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
    "steady_state": "restart on a day's state: reservoir full (capacity 2000) having seen $seen_restart windows, so Algorithm R keeps capacity/seen of new windows; made by offering windows through the daemon's LiteDbReservoir (tests/EdgeAgent.FaultChild reservoir-age) after the first boot and the 1 kHz run",
    "alloc_bytes_per_inference_is": "process_alloc_bytes_per_inference_excluding_reservoir_writes + reservoir_writes_per_1000_inferences_expected / 1000 * reservoir_alloc_bytes_per_stored_window: managed bytes the whole process allocates (GC.GetTotalAllocatedBytes(precise) from the status command, the command's own reply taken out) per inference over $aged_seconds s of the restart at the default hop, reservoir writes taken out and put back at Algorithm R's exact admission rate with their measured cost",
    "reservoir_samples_at_restart": ${reservoir_restart:-null},
    "reservoir_seen_at_restart": ${seen_restart:-null},
    "steady_seconds_restart": $seconds_restart,
    "steady_inferences_measured": $n_restart,
    "steady_inferences_per_s_restart": $rate_restart,
    "process_alloc_bytes_per_inference_excluding_reservoir_writes": $alloc_nowrite,
    "process_alloc_bytes_per_inference_restart": $alloc_restart,
    "process_alloc_bytes_per_inference_expected_with_writes": $alloc_expected,
    "process_alloc_bytes_per_inference_marginal": $per_inference_marginal,
    "process_alloc_bytes_per_second_periodic": $periodic_per_s,
    "periodic_split_is": "bytes per second without reservoir writes y = a * r + b over two restarts on the same state, at the default hop (r = $rate_restart/s) and at hop $fast_hop (r = $rate_fast/s): a = process_alloc_bytes_per_inference_marginal (what scales with inferences), b = process_alloc_bytes_per_second_periodic (what runs on a clock: the retained status each minute, the drift check every 10 s, timers, the broker's keep-alive check; the telemetry batch each second is not dispatched while no client subscribes to it)",
    "fast_hop": $fast_hop,
    "fast_hop_inferences_measured": $n_fast,
    "fast_hop_inferences_per_s": $rate_fast,
    "fast_hop_process_alloc_bytes_per_inference_excluding_reservoir_writes": $alloc_nowrite_fast,
    "fast_hop_inference_thread_alloc_bytes_per_inference": $thread_alloc_fast,
    "fast_hop_rss_bytes": $rss_fast,
    "reservoir_writes_in_interval": $writes_restart,
    "reservoir_write_alloc_bytes_in_interval": $write_alloc_restart,
    "reservoir_writes_fast_hop": $writes_fast,
    "reservoir_write_alloc_bytes_fast_hop": $write_alloc_fast,
    "reservoir_writes_per_1000_inferences": $writes_per_1000,
    "reservoir_writes_per_1000_inferences_fast_hop": $writes_per_1000_fast,
    "reservoir_writes_per_1000_inferences_expected": $expected_writes_per_1000,
    "reservoir_alloc_bytes_per_stored_window": $bytes_per_stored,
    "reservoir_alloc_bytes_per_replacement": $bytes_per_replacement,
    "reservoir_alloc_bytes_per_insert_first_boot": $bytes_per_write,
    "status_command_alloc_bytes": $probe,
    "process_alloc_bytes_per_inference_including_the_status_command": $alloc_raw,
    "process_alloc_bytes_per_inference_first_boot": $alloc_boot,
    "process_alloc_bytes_per_inference_first_boot_excluding_reservoir_writes": $alloc_nowrite_boot,
    "reservoir_writes_first_boot": $writes_boot,
    "inferences_first_boot": $n_boot,
    "inference_thread_alloc_bytes_per_inference": $thread_alloc,
    "inference_thread_alloc_bytes_per_inference_first_boot": $thread_alloc_boot,
    "inference_thread_alloc_bytes_per_inference_restart": $thread_alloc_restart,
    "hop1_samples_per_s": ${samples_rate:-null},
    "hop1_dropped_windows": $dropped_windows,
    "hop1_rss_bytes": $rss_loaded,
    "hop1_alloc_bytes_per_inference": $alloc_loaded,
    "hop1_inference_thread_alloc_bytes_per_inference": $thread_alloc_loaded,
    "steady_seconds": $steady,
    "restart_warmup_seconds": $restart_warmup,
    "cpu": "$(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1)",
    "cores": $(nproc)
  }
}
JSON
cat "$results"
verdict() { if awk -v v="$2" -v t="$3" "BEGIN { exit !(v $4 t) }"; then echo "met"; else echo "MISSED"; fi; }
{
  printf '\n%-30s %16s  %-14s %s\n' measure value target verdict
  printf '%-30s %16s  %-14s %s\n' "binary_bytes linux-arm64" "${bytes[linux-arm64]}" "<= 15728640" "$(verdict x "${bytes[linux-arm64]}" 15728640 '<=')"
  printf '%-30s %16s  %-14s %s\n' "binary_bytes linux-x64" "${bytes[linux-x64]}" "-" "-"
  printf '%-30s %16s  %-14s %s\n' "first_inference_ms" "$first_x64" "-" "(256 ms of it is the first window at 1 kHz)"
  printf '%-30s %16s  %-14s %s\n' "first_inference_ms_qemu_a72" "$first_a72" "-" "(emulated)"
  printf '%-30s %16s  %-14s %s\n' "rss_bytes" "$rss" "<= 41943040" "$(verdict x "$rss" 41943040 '<=') (first boot $rss_boot = anon $anon_boot + file $file_boot; restart $rss_restart = anon $anon_restart + file $file_restart)"
  printf '%-30s %16s  %-14s %s\n' "alloc_bytes_per_inference" "$alloc" "0" "$(verdict x "$alloc" 0 '<=') (whole process, a day's state: $alloc_nowrite without reservoir writes + $expected_writes_per_1000 writes/1000 x $bytes_per_stored B; $per_inference_marginal B per inference + $periodic_per_s B/s periodic; first boot $alloc_boot; inference thread $thread_alloc)"
  printf '%-30s %16s  %-14s %s\n' "inferences_per_s" "$rate" "1000 offered" "($dropped_windows windows dropped in $steady s)"
} >&2
