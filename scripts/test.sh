#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration),
# then:
#   web   the TypeScript client's tests (unit, conformance traces, against a
#         broker over TCP and WebSockets) and the browser chat's test in
#         headless Chromium, against the plugin in build/;
# and (docs/security.md):
#   asan  the whole suite again, built with ASan + UBSan in build-asan/;
#   tsan  the unit tests built with ThreadSanitizer in build-tsan/ (the
#         threads beside the broker thread: store worker, periodic sync,
#         outbox); any data race fails the stage;
#   fuzz  the libFuzzer target courier_fuzz_inbound (clang, ASan + UBSan) in
#         build-fuzz/ for COURIER_FUZZ_SECONDS (default 120) seconds.
# COURIER_TEST_STAGES picks stages (default "plain web asan tsan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGES=" ${COURIER_TEST_STAGES:-plain web asan tsan fuzz} "
FUZZ_SECONDS=${COURIER_FUZZ_SECONDS:-120}

stage() { [[ "$STAGES" == *" $1 "* ]]; }
took() { echo "== $1: $(( SECONDS - $2 )) s"; }

bash scripts/deps.sh --test

if stage plain; then
  t=$SECONDS
  # The C++ format (.clang-format) and the size limits (files ~500 lines,
  # functions ~80, exceptions listed in scripts/size_exceptions.txt).
  bash scripts/check_format.sh
  bash scripts/check_sizes.sh
  bash scripts/build.sh --test
  (cd build && ctest --output-on-failure --timeout 600 -j1)
  took "plain build and tests" $t
fi

if stage web; then
  t=$SECONDS
  stage plain || bash scripts/build.sh --test
  export COURIER_PLUGIN=$ROOT/build/plugin/mosquitto_courier.so
  (cd clients/ts && npm test)
  (cd clients/web && npm test)
  unset COURIER_PLUGIN
  took "TypeScript client and browser chat tests" $t
fi

if stage asan; then
  t=$SECONDS
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOURIER_SANITIZE=ON >/dev/null
  cmake --build build-asan -j2
  # The plugin runs inside /usr/sbin/mosquitto, which is not instrumented:
  # the integration harness preloads the ASan runtime into every broker it
  # starts (and libstdc++, so that ASan can intercept C++ throws; mosquitto
  # itself is C), stops it gracefully so LeakSanitizer checks the plugin at
  # exit, and fails the test on any sanitizer report in the broker's output.
  CXX_BIN=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' build-asan/CMakeCache.txt)
  export COURIER_IT_BROKER_PRELOAD="$("$CXX_BIN" -print-file-name=libasan.so) $("$CXX_BIN" -print-file-name=libstdc++.so)"
  export ASAN_OPTIONS=detect_leaks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$ROOT/tests/integration/security_lsan.supp:print_suppressions=0
  (cd build-asan && ctest --output-on-failure --timeout 900 -j1)
  unset COURIER_IT_BROKER_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
  took "ASan+UBSan build and tests" $t
fi

if stage tsan; then
  t=$SECONDS
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOURIER_TSAN=ON >/dev/null
  cmake --build build-tsan --target courier_unit_tests -j2
  # TSan exits with 66 on a report; halt at the first one.
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/unit/courier_unit_tests
  took "TSan build and unit tests" $t
fi

if stage fuzz; then
  t=$SECONDS
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCOURIER_FUZZ=ON -DCOURIER_SANITIZE=ON -DCOURIER_BUILD_TESTS=OFF >/dev/null
  cmake --build build-fuzz --target courier_fuzz_inbound courier_fuzz_seeds -j2
  RUN=build-fuzz/fuzz-run
  rm -rf "$RUN"
  mkdir -p "$RUN/seeds" "$RUN/corpus" "$RUN/artifacts"
  build-fuzz/fuzz/courier_fuzz_seeds "$RUN/seeds"
  if [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
    export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
  fi
  # Any crash, sanitizer report, broken invariant (abort), leak, 10 s hang or
  # 2 GB of memory is a finding: libFuzzer exits non-zero and leaves the input
  # in $RUN/artifacts/ (reproduce: build-fuzz/fuzz/courier_fuzz_inbound <file>).
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 build-fuzz/fuzz/courier_fuzz_inbound \
    -max_total_time="$FUZZ_SECONDS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -dict=fuzz/courier.dict -artifact_prefix="$RUN/artifacts/" -print_final_stats=1 \
    "$RUN/corpus" "$RUN/seeds"
  if [ -n "$(ls -A "$RUN/artifacts")" ]; then
    echo "fuzzing left findings in $RUN/artifacts" >&2
    exit 1
  fi
  took "fuzz build and ${FUZZ_SECONDS} s run" $t
fi
