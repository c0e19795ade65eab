#!/usr/bin/env bash
# EdgeAgent's one entry point: ./build.sh <command> [options]; ./build.sh --help for the list.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
SLN="$ROOT/EdgeAgent.slnx"
ARTIFACTS="$ROOT/artifacts"
QEMU_CPUS=(cortex-a53 cortex-a72 cortex-a76)   # Pi 3, Pi 4 (no dotprod), Pi 5 (dotprod)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# What the tests, the ARM64 cross-build and the demo need beyond the .NET SDK (Debian package names).
APT_PACKAGES=(clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross qemu-user-static mosquitto
              mosquitto-clients libonnx-testdata dataset-fashion-mnist)

usage() {
  cat <<'EOF'
usage: ./build.sh <command> [options]

commands:
  demo                    build the demo model with our own tools and run the daemon in the
                          foreground on embedded defaults (simulated sensors, embedded broker)
  test                    install what is missing, build, run every test suite (x64 and
                          emulated ARM64); ends with "N passed, N failed, N skipped"
  publish [--rid RID] [--x64-isa SET]
                          NativeAOT, trimmed, single-file edgeagent and exporter into
                          artifacts/<rid>/ (RID: linux-arm64 | linux-x64; default linux-x64). An x64
                          binary requires x86-64-v3 (AVX2) and runs the avx2 kernels; --x64-isa native
                          (or e.g. x86-64-v4) builds one that uses AVX-512 / AVX-VNNI but only starts
                          on CPUs that have them
  bench <suite>           run a benchmark suite; results go to bench/results/<suite>.json
  conformance             run ONNX's backend test suite (Debian's libonnx-testdata)
  package                 edgeagent .deb for arm64 and amd64 from the published binaries (deploy/package.sh)
  deps                    only install the Debian packages the other commands need
  -h, --help              this text

environment:
  EDGEAGENT_ISA=scalar|neon|neon-dot|avx2|avx512|avx-vnni   force a kernel path (default: best)
EOF
}

if [ -t 2 ]; then log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }; else log() { printf '==> %s\n' "$*" >&2; }; fi
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages in "$@" that are missing; silent when everything is there.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      die "missing Debian packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "missing packages: ${missing[*]}, and this machine has no apt-get. Install them with your package manager."
  log "installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    die "apt-get update failed; run: apt-get update && apt-get install -y ${missing[*]}"
  for p in "${missing[@]}"; do
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null ||
      die "could not install Debian package '$p'; run: apt-get install -y $p"
  done
}

need_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK is not on PATH; install the .NET 10 SDK first"
}

build_all() {
  log "restore and build (Release)"
  dotnet build "$SLN" -c Release -nologo -clp:ErrorsOnly -v:q
}

# publish_aot PROJECT RID OUTDIR: NativeAOT publish of one executable project.
# Trim and AOT warnings (IL2xxx/IL3xxx) fail the publish: a warning there is a crash on the device.
publish_aot() {
  local project=$1 rid=$2 out=$3 log_file isa=()
  # PUBLISH_X64_ISA (publish --x64-isa): the x64 instruction sets the binary requires instead of Directory.Build.props'
  # x86-64-v3; MSBuild splits property values at commas, so they go escaped.
  if [ "$rid" = linux-x64 ] && [ -n "${PUBLISH_X64_ISA:-}" ]; then isa=("-p:IlcInstructionSet=${PUBLISH_X64_ISA//,/%2C}"); fi
  log_file=$(mktemp)
  if ! dotnet publish "$project" -c Release -r "$rid" -o "$out" -nologo -v:q -clp:NoSummary \
      -p:PublishAot=true -p:StripSymbols=true "${isa[@]}" >"$log_file" 2>&1; then
    cat "$log_file" >&2; rm -f "$log_file"; die "publish of $project for $rid failed"
  fi
  if grep -E 'warning (IL[0-9]+|[A-Z]+[0-9]+)' "$log_file" >&2; then
    rm -f "$log_file"; die "publish of $project for $rid produced warnings (above); they must be fixed"
  fi
  rm -f "$log_file"
}

# --- test ------------------------------------------------------------------------------------
TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
add_counts() { TOTAL_PASSED=$((TOTAL_PASSED + $1)); TOTAL_FAILED=$((TOTAL_FAILED + $2)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + $3)); }

# Reads the counters of every .trx file in $1 and adds them to the totals.
add_trx_counts() {
  local dir=$1 f total passed failed
  for f in "$dir"/*.trx; do
    [ -e "$f" ] || continue
    total=$(grep -o '<Counters [^>]*' "$f" | grep -o ' total="[0-9]*"' | grep -o '[0-9]*')
    passed=$(grep -o '<Counters [^>]*' "$f" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
    failed=$(grep -o '<Counters [^>]*' "$f" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
    add_counts "$passed" "$failed" $((total - passed - failed))
  done
}

run_x64_tests() {
  local results="$ARTIFACTS/test-results/x64" status=0
  rm -rf "$results"; mkdir -p "$results"
  log "x64 test suites"
  dotnet test "$SLN" -c Release --no-build -nologo -v:q \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?
  add_trx_counts "$results"
  return $status
}

# The same checks as the x64 suites, compiled NativeAOT for linux-arm64 and run under qemu on
# each CPU model we ship for.
run_arm64_tests() {
  local out="$ARTIFACTS/test-harness/linux-arm64" status=0 cpu line
  log "ARM64 harness: NativeAOT cross-build"
  publish_aot tests/Arm64Harness linux-arm64 "$out"
  for cpu in "${QEMU_CPUS[@]}"; do
    log "ARM64 harness under qemu -cpu $cpu"
    local log_file="$ARTIFACTS/test-results/arm64-$cpu.log"
    qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu "$cpu" "$out/edgeagent-checks" --label "arm64-$cpu" \
      | tee "$log_file" || status=1
    line=$(grep -E "^arm64-$cpu: [0-9]+ passed, [0-9]+ failed$" "$log_file" | tail -1 || true)
    if [ -z "$line" ]; then echo "arm64-$cpu: the harness did not report (crashed?)"; add_counts 0 1 0; status=1; continue; fi
    add_counts "$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")" "$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")" 0
  done
  return $status
}

cmd_test() {
  need_dotnet
  ensure_packages "${APT_PACKAGES[@]}"
  local start=$SECONDS status=0
  build_all
  mkdir -p "$ARTIFACTS/test-results"
  run_x64_tests || status=1
  run_arm64_tests || status=1
  if [ -x "$ROOT/tests/extra-suites.sh" ]; then
    # Later suites (conformance, end-to-end under qemu) report "N passed, N failed, N skipped" lines.
    local extra="$ARTIFACTS/test-results/extra.log"
    "$ROOT/tests/extra-suites.sh" | tee "$extra" || status=1
    while read -r p f s; do add_counts "$p" "$f" "$s"; done < <(
      sed -nE 's/^[a-z0-9-]+: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p' "$extra")
  fi
  log "test wall time: $((SECONDS - start)) s"
  [ "$TOTAL_FAILED" -eq 0 ] || status=1
  echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
  return $status
}

# --- publish ---------------------------------------------------------------------------------
cmd_publish() {
  local rid=linux-x64
  while [ $# -gt 0 ]; do
    case "$1" in
      --rid) [ $# -ge 2 ] || { usage >&2; exit 2; }; rid=$2; shift 2 ;;
      --rid=*) rid=${1#--rid=}; shift ;;
      --x64-isa) [ $# -ge 2 ] || { usage >&2; exit 2; }; PUBLISH_X64_ISA=$2; shift 2 ;;
      --x64-isa=*) PUBLISH_X64_ISA=${1#--x64-isa=}; shift ;;
      *) echo "build.sh publish: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
  done
  case "$rid" in linux-arm64|linux-x64) ;; *) echo "build.sh publish: unsupported RID '$rid' (linux-arm64 or linux-x64)" >&2; exit 2 ;; esac
  need_dotnet
  ensure_packages clang lld
  if [ "$rid" = linux-arm64 ]; then ensure_packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross; fi
  local out="$ARTIFACTS/$rid"
  rm -rf "$out"; mkdir -p "$out"
  local project name
  for project in src/EdgeAgent:edgeagent tools/Exporter:exporter; do
    name=${project#*:}; project=${project%%:*}
    log "publish $project for $rid (NativeAOT)"
    publish_aot "$project" "$rid" "$out/.stage-$name"
    mv "$out/.stage-$name/$name" "$out/$name"
    # The binaries carry no stack-trace data (size); their symbols resolve a trace's addresses (llvm-symbolizer).
    if [ -f "$out/.stage-$name/$name.dbg" ]; then mkdir -p "$out/symbols"; mv "$out/.stage-$name/$name.dbg" "$out/symbols/"; fi
  done
  # ONNX Runtime is the optional fallback: shipped beside the binaries, never inside them.
  mkdir -p "$out/onnxruntime-fallback"
  find "$out"/.stage-edgeagent -name 'libonnxruntime*.so*' -exec mv -f {} "$out/onnxruntime-fallback/" \;
  rm -rf "$out"/.stage-*
  for name in edgeagent exporter; do
    printf '%-10s %10d bytes  %s\n' "$name" "$(stat -c %s "$out/$name")" "$out/$name"
  done
}

# --- bench / conformance / demo: each later issue adds its script under bench/ or tests/ -------
cmd_bench() {
  [ $# -ge 1 ] || { echo "build.sh bench: which suite?" >&2; ls "$ROOT/bench"/*.sh 2>/dev/null | sed 's|.*/||; s|\.sh$||; s|^|  |' >&2; exit 2; }
  local suite=$1; shift
  local script="$ROOT/bench/$suite.sh"
  [ -x "$script" ] || { echo "build.sh bench: no suite '$suite' (have: $(ls "$ROOT/bench"/*.sh 2>/dev/null | sed 's|.*/||; s|\.sh$||' | tr '\n' ' '))" >&2; exit 2; }
  need_dotnet
  ensure_packages "${APT_PACKAGES[@]}"
  "$script" "$@"
}

cmd_conformance() {
  local script="$ROOT/tests/conformance.sh"
  [ -x "$script" ] || die "conformance suite is not built yet (tests/conformance.sh)"
  need_dotnet
  ensure_packages libonnx-testdata
  "$script" "$@"
}

cmd_demo() {
  local script="$ROOT/deploy/demo.sh"
  [ -x "$script" ] || die "the demo is not built yet (deploy/demo.sh)"
  need_dotnet
  "$script" "$@"
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
command=$1; shift
case "$command" in
  -h|--help|help) usage ;;
  test) cmd_test "$@" ;;
  publish) cmd_publish "$@" ;;
  bench) cmd_bench "$@" ;;
  conformance) cmd_conformance "$@" ;;
  demo) cmd_demo "$@" ;;
  package) "$ROOT/deploy/package.sh" "$@" ;;
  deps) ensure_packages "${APT_PACKAGES[@]}" ;;
  *) echo "build.sh: unknown command '$command'" >&2; usage >&2; exit 2 ;;
esac
