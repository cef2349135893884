#!/usr/bin/env bash
# The README's test command: installs dependencies, then builds and runs every
# test twice — a plain Release build, and a Debug build under ASan + UBSan — and,
# after the plain run, valgrind memcheck of a subset of the unit tests
# (scripts/memcheck --ci) and `privagg_bench --quick` as a smoke test (every
# benchmark with small counts, a few seconds; it fails when any operation fails)
# — and last, libFuzzer on every fuzz target for 30 s, two at a time
# (scripts/fuzz, a clang build in build-fuzz/).  Tests that cannot run here
# (valgrind re-runs under ASan) are reported as skipped.
# The tests labelled pg run on a private PostgreSQL cluster that CTest starts and
# stops (scripts/pg-cluster.sh); here PostgreSQL is required (PA_REQUIRE_PG=1): a
# cluster that cannot start fails them instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PA_REQUIRE_PG=1
# a run cut short (a timeout, ^C) still stops the clusters it started
stop_clusters() {
  for d in build build-asan; do
    [ -f "$d/CTestTestfile.cmake" ] && ctest --test-dir "$d" -R '^pg_cluster_stop$' >/dev/null 2>&1 || true
  done
}
trap stop_clusters EXIT
jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for kind in plain asan; do
  echo "=== build and test: $kind"
  bash scripts/build.sh "$kind"
  dir=build; [ "$kind" = asan ] && dir=build-asan
  if ! ctest --test-dir "$dir" --output-on-failure -j "$jobs"; then
    status=1
  fi
  if [ "$kind" = plain ]; then
    # valgrind memcheck of a subset of the unit tests (the whole suite under
    # valgrind takes too long for CI: scripts/memcheck runs all of it)
    echo "=== valgrind memcheck: scripts/memcheck --ci"
    if ! bash scripts/memcheck --ci -j "$jobs"; then
      status=1
    fi
    echo "=== benchmark smoke test: privagg_bench --quick"
    if ! (cd build && ./privagg_bench --quick --json bench-quick.json >bench-quick.txt); then
      cat build/bench-quick.txt
      echo "privagg_bench --quick failed"
      status=1
    fi
  fi
done
# libFuzzer on every decoder (tests/fuzz, 19 targets), 30 s each (PA_FUZZ_SECONDS),
# two at a time (one per core: about 5 minutes), with clang's libFuzzer from
# Debian (scripts/install-deps.sh installs clang and libclang-rt-14-dev)
if command -v clang >/dev/null && [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ]; then
  echo "=== fuzz: every target for ${PA_FUZZ_SECONDS:-30} s, ${PA_FUZZ_JOBS:-2} at a time"
  bash scripts/fuzz --seconds "${PA_FUZZ_SECONDS:-30}" --jobs "${PA_FUZZ_JOBS:-2}" || status=1
else
  echo "=== fuzz: FAILED: no clang with libFuzzer (scripts/install-deps.sh installs it)"
  status=1
fi
[ $status -eq 0 ] && echo "all test runs passed (plain and ASan+UBSan, benchmark smoke test, fuzz)"
exit $status
