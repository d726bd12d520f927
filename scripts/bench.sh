#!/usr/bin/env bash
# Benchmark suite: Courier against plain Mosquitto, in one run on this machine
# (docs/benchmark.md). Builds mosquitto_courier.so and courier_bench into
# build-bench/, starts every broker itself on free loopback ports with
# temporary directories, stops each by its pid, and writes
# results/<timestamp>/: results.md (tables, targets), throughput.png,
# latency.png, heap.png, runs.tsv.
#
#   bash scripts/bench.sh              standard suite (about 8 minutes)
#   bash scripts/bench.sh --quick      short version (1-2 minutes)
#   bash scripts/bench.sh --publish    also copy the table and plots to docs/bench/
#   bash scripts/bench.sh --phases saturation,rate,hold,store,postgres,push,websockets   only these parts
#
# Installs what it needs (build packages via scripts/deps.sh, gnuplot-nox for
# the plots, postgresql-15 for the postgres phase) with apt-get when
# missing. Not part of the test path.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

quick=""
publish=""
phases=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --publish) publish=1 ;;
    --phases) phases="${2:?--phases needs a list}"; shift ;;
    --phases=*) phases="${1#--phases=}" ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
bash scripts/deps.sh
missing=()
# postgresql-15: the server of the postgres phase (started by the bench on a
# free port, as the postgres user the package creates).
for p in gnuplot-nox lmdb-utils postgresql-15; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench.sh: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOURIER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target courier_plugin courier_bench

# 10,000 client connections: the broker needs a descriptor per client, the
# generator three (it spreads them over several processes).
hard="$(ulimit -Hn)"
if [ "$hard" = "unlimited" ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard"
if [ "$hard" -lt 10100 ]; then
  echo "bench.sh: warning: open-file limit $hard is below what 10,000 connections need" >&2
fi

stamp="$(date +%Y%m%d-%H%M%S)"
out="$root/results/$stamp"
mkdir -p "$out"
source_note="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git status --porcelain -- core storage plugin proto 2>/dev/null | wc -l)"
if [ "$dirty" -gt 0 ]; then source_note="$source_note + uncommitted changes in $dirty files of core/ storage/ plugin/ proto/"; fi

args=(suite --out "$out" --plugin "$build/plugin/mosquitto_courier.so" --note "commit $source_note")
[ -n "$quick" ] && args+=("$quick")
[ -n "$phases" ] && args+=(--phases "$phases")
rc=0
"$build/bench/courier_bench" "${args[@]}" || rc=$?
# Push: delivery with a push gateway that answers after 2 s against none.
if [ -z "$phases" ] || [[ ",$phases," == *",push,"* ]]; then
  "$build/bench/courier_bench" push --out "$out" --plugin "$build/plugin/mosquitto_courier.so" $quick || rc=$?
  [ -f "$out/push.md" ] && { echo; cat "$out/push.md"; } >> "$out/results.md"
fi

# WebSockets against TCP at light load, through the TypeScript client
# (clients/ts/bench/latency.ts).
if [ -z "$phases" ] || [[ ",$phases," == *",websockets,"* ]]; then
  bash scripts/web.sh >/dev/null
  ws_args=(--plugin "$build/plugin/mosquitto_courier.so" --out "$out")
  [ -n "$quick" ] && ws_args+=(--rounds 2 --per-round 25)
  node clients/ts/dist/bench/latency.js "${ws_args[@]}" >/dev/null || rc=$?
  [ -f "$out/websockets.md" ] && { echo; cat "$out/websockets.md"; } >> "$out/results.md"
fi

(cd "$out" && gnuplot plots.gp) || echo "bench.sh: gnuplot failed; the tables are still in $out/results.md" >&2
ln -sfn "$stamp" "$root/results/latest"

if [ -n "$publish" ]; then
  mkdir -p docs/bench
  cp "$out/results.md" "$out/runs.tsv" "$out"/*.dat "$out/plots.gp" docs/bench/
  cp "$out"/*.png docs/bench/ 2>/dev/null || true
  echo "bench.sh: copied results.md, runs.tsv, the plot data and the plots to docs/bench/"
fi
echo "bench.sh: results in $out/results.md"
exit "$rc"
