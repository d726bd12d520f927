#!/usr/bin/env bash
# Saturation of this tree's plugin against another commit's, in one run.
#
#   bash scripts/bench_compare.sh REF [--reps N]
#
# Builds the plugin of REF (a commit, tag or branch) from `git archive` in a
# temporary directory, and this tree's plugin and bench in build-bench/. Then
# it runs the standard saturation load (64 users 1:1, window 16, 100-byte
# payloads; `courier_bench run`'s defaults) N times (default 3) in rounds of
# three: the plain relay, this tree (sync full), REF (sync full). Each run
# starts a fresh broker. It prints each run's delivered msg/s, the medians,
# and the ratios, so noise on this shared machine hits all three alike.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

ref="${1:?usage: bench_compare.sh REF [--reps N]}"
shift
reps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="${2:?--reps needs a number}"; shift ;;
    *) echo "bench_compare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/deps.sh
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOURIER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target courier_plugin courier_bench >/dev/null

tmp="$(mktemp -d /tmp/courier-compare-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
git archive "$ref" | tar -x -C "$tmp"
cmake -S "$tmp" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DCOURIER_BUILD_TESTS=OFF >/dev/null
cmake --build "$tmp/build" -j2 --target courier_plugin >/dev/null

bench="$build/bench/courier_bench"
head_plugin="$build/plugin/mosquitto_courier.so"
ref_plugin="$tmp/build/plugin/mosquitto_courier.so"
here="$(git rev-parse --short HEAD)"
there="$(git rev-parse --short "$ref")"

# One run; prints "msg/s broker-cpu%" from the bench's summary line.
run() {
  "$bench" run "$@" 2>&1 | sed -n 's/.*delivered \([0-9]*\)\/s.*broker cpu \([0-9]*\)%.*/\1 \2/p' | tail -1
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

: >"$tmp/plain" && : >"$tmp/head" && : >"$tmp/ref"
echo "round | plain msg/s (cpu) | $here msg/s (cpu) | $there msg/s (cpu)"
for i in $(seq 1 "$reps"); do
  p="$(run --broker plain)"
  h="$(run --broker courier-full --plugin "$head_plugin")"
  r="$(run --broker courier-full --plugin "$ref_plugin")"
  echo "${p%% *}" >>"$tmp/plain"
  echo "${h%% *}" >>"$tmp/head"
  echo "${r%% *}" >>"$tmp/ref"
  echo "$i | ${p% *} (${p#* }%) | ${h% *} (${h#* }%) | ${r% *} (${r#* }%)"
done
mp="$(median <"$tmp/plain")"
mh="$(median <"$tmp/head")"
mr="$(median <"$tmp/ref")"
echo "median | $mp | $mh | $mr"
awk -v p="$mp" -v h="$mh" -v r="$mr" -v a="$here" -v b="$there" 'BEGIN {
  printf "ratio to plain: %s %.2fx, %s %.2fx; %s / %s = %.2fx\n", a, h / p, b, r / p, a, b, h / r }'
