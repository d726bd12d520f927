#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration),
# then:
#   postgres  the same store and integration tests on the PostgreSQL engine:
#         the store suite's PostgreSQL instances (ctest label postgres) and
#         every integration test but the LMDB-only ones (-LE lmdb), each
#         broker on a database of its own, all on one PostgreSQL 15 server
#         (tests/proc/courier_pg_server) started for the stage and stopped
#         by its pid;
#   web   the TypeScript client's tests (unit, conformance traces, against a
#         broker over TCP and WebSockets) and the browser chat's test in
#         headless Chromium, against the plugin in build/;
# and (docs/security.md):
#   asan  the whole suite again, built with ASan + UBSan in build-asan/;
#   tsan  the unit tests and the store suite on LMDB built with
#         ThreadSanitizer in build-tsan/ (the threads beside the broker
#         thread: store worker, periodic sync, outbox); any data race fails
#         the stage;
#   fuzz  the libFuzzer target courier_fuzz_inbound (clang, ASan + UBSan) in
#         build-fuzz/ for COURIER_FUZZ_SECONDS (default 120) seconds.
# COURIER_TEST_STAGES picks stages (default "plain postgres web asan tsan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGES=" ${COURIER_TEST_STAGES:-plain postgres web asan tsan fuzz} "
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
  # The PostgreSQL instances of the store suite run in the postgres stage.
  (cd build && ctest --output-on-failure --timeout 600 -j1 -LE postgres)
  took "plain build and tests" $t
fi

# Starts build/tests/proc/courier_pg_server in the background: PG_PID is its
# pid, PG_CONNINFO the server's conninfo (without dbname) once it is ready.
pg_server_start() {
  PG_OUT=$(mktemp)
  build/tests/proc/courier_pg_server >"$PG_OUT" &
  PG_PID=$!
  PG_CONNINFO=
  for _ in $(seq 1 600); do
    PG_CONNINFO=$(head -n1 "$PG_OUT")
    [ -n "$PG_CONNINFO" ] && break
    kill -0 "$PG_PID" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$PG_OUT"
  if [ -z "$PG_CONNINFO" ]; then
    echo "courier_pg_server did not start" >&2
    pg_server_stop
    return 1
  fi
}

# Stops the server started by pg_server_start (SIGTERM to its pid: a fast
# shutdown of PostgreSQL), and waits for it.
pg_server_stop() {
  if [ -n "${PG_PID:-}" ]; then
    kill -TERM "$PG_PID" 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
    PG_PID=
  fi
}

if stage postgres; then
  t=$SECONDS
  stage plain || bash scripts/build.sh --test
  trap pg_server_stop EXIT
  t_server=$SECONDS
  pg_server_start
  took "PostgreSQL server start" $t_server
  export COURIER_IT_STORE=postgres COURIER_IT_PG="$PG_CONNINFO"
  failed=0
  (cd build && ctest --output-on-failure --timeout 600 -L postgres) || failed=1
  # Every other integration test again, on PostgreSQL (the postgres-labelled
  # ones, the scale-out failure tests among them, ran above).
  (cd build && ctest --output-on-failure --timeout 600 -j2 -L integration -LE 'lmdb|postgres') || failed=1
  unset COURIER_IT_STORE COURIER_IT_PG
  pg_server_stop
  trap - EXIT
  took "PostgreSQL store and integration tests" $t
  [ "$failed" = 0 ] || exit 1
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
  # The shim keeps ASan's start-up from breaking glibc's gettext lock, which
  # libpq needs (tests/proc/asan_host_shim.c).
  CXX_BIN=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' build-asan/CMakeCache.txt)
  export COURIER_IT_BROKER_PRELOAD="$("$CXX_BIN" -print-file-name=libasan.so) $ROOT/build-asan/tests/proc/libcourier_asan_host_shim.so $("$CXX_BIN" -print-file-name=libstdc++.so)"
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
  cmake --build build-tsan --target courier_unit_tests courier_store_tests -j2
  # TSan exits with 66 on a report; halt at the first one.
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/unit/courier_unit_tests
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/store/courier_store_tests --gtest_filter='Lmdb/*'
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
