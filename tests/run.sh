#!/bin/bash
# The test runner of `make check`: unit tests (ASan+UBSan build), fuzz-corpus replay and
# integration tests (real daemons, qemu nodes, private network namespaces), the first two
# as one lane beside the integration tests.
# Each test is a program; exit 0 = pass. Output of failing tests is shown; the run ends
# with "N passed, N failed" alone on a line. TESTS=<glob> runs only the integration tests
# it names (no unit or fuzz ones), for working on one of them.
#
# Integration tests run INTEG_JOBS (default 2) at a time: most of their wall time is
# waiting (power-save timers, phase timeouts, a BMC's answer), and each makes its own
# namespaces, bridge subnet and work dir, so two never share anything but the cores. The
# long ones start first so the two lanes end together.
set -u
cd "$(dirname "$0")/.."
ASAN=build/asan
TSAN=build/tsan
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# a data race fails the test (its exit code), not only a report
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

RESULTS=$LOGDIR/results
: >"$RESULTS"

# run NAME CMD...: one test; its verdict goes to $RESULTS, its report is printed whole in
# one write so two tests finishing together do not interleave their lines. The report
# gives the test's wall time and its CPU time with that of the children it waited for
# (qemu nodes, daemons): on two cores the run is bound by CPU more than by waiting, so
# the CPU column says which tests to make cheaper.
run() {
  local name=$1; shift
  local log=$LOGDIR/${name//\//_}.log t0=$SECONDS report ok= took TIMEFORMAT=%U+%S
  # a failed integration test leaves its work dir's logs here whole (lib.sh dl_cleanup)
  rm -rf "$log.files"
  { time DL_FAIL_LOGS=$(realpath -m "$log.files") "$@" >"$log" 2>&1; } 2>"$log.time" && ok=1
  took="$((SECONDS - t0)) s, $(awk -F+ '{ printf "%.0f", $1 + $2 }' "$log.time") s CPU"
  if [[ -n $ok ]]; then
    echo "P $name" >>"$RESULTS"
    report="PASS $name ($took)"
  else
    echo "F $name" >>"$RESULTS"
    # The assertion first: the tail below is mostly the logs the test dumps on failure.
    report="FAIL $name ($took)
$(grep -m 3 '^FAIL' "$log" | sed 's/^/    > /')
$(tail -n 40 "$log" | sed 's/^/    | /')"
  fi
  printf '%s\n' "$report"
}

# The unit lane: unit tests, again on PostgreSQL, the fuzz corpora and the fuzz targets,
# one after another. It takes one of the INTEG_JOBS lanes, beside the longest integration
# test, instead of running before any: its ~7 min of CPU-bound work then overlaps the
# waiting of the integration tests.
unit_lane() {
  for t in "$ASAN"/tests/test_*; do
    # PostgreSQL only: runs below as @pg
    [[ -x $t && $(basename "$t") != test_store_pg ]] && run "unit/$(basename "$t")" "$t"
  done
  # The store's second backend (issue 15): every unit test on a store (those including
  # store_dir.h) again, on one PostgreSQL started here (socket only, no TCP), as
  # unit/<name>@pg. The subshell's trap stops the server whatever happens.
  (
    source tests/integ/lib_pg.sh
    pgw=$(mktemp -d /tmp/dl-unit-pg.XXXXXX)
    chmod 755 "$pgw"
    trap 'pg_stop; rm -rf "$pgw"' EXIT
    if ! pg_start "$pgw/pg" >"$LOGDIR/unit-pg-server.log" 2>&1; then
      echo "F unit/postgresql-server" >>"$RESULTS"
      echo "FAIL unit/postgresql-server (see $LOGDIR/unit-pg-server.log)"
      exit 0
    fi
    export DL_TEST_PG="postgresql://postgres@/postgres?host=$PG_SOCK&port=$PG_PORT"
    export DL_TEST_PG_DIR=$PG_DIR DL_TEST_PG_BIN=$PG_BIN
    for src in $(grep -l '#include "store_dir.h"' tests/unit/test_*.c); do
      t=$ASAN/tests/$(basename "$src" .c)
      [[ -x $t ]] && run "unit/$(basename "$t")@pg" "$t"
    done
  )
  # The unit tests with threads beside the loop (worker pools, store readers) again under
  # ThreadSanitizer, as unit/<name>@tsan: state shared without a lock is a race there.
  for t in "$TSAN"/tests/test_*; do
    [[ -x $t ]] && run "unit/$(basename "$t")@tsan" "$t"
  done
  for r in "$ASAN"/fuzz/replay_fuzz_*; do
    [[ -x $r ]] || continue
    name=${r##*/replay_fuzz_}
    run "fuzz-replay/$name" "$r" "tests/fuzz/corpus/$name"
  done
  # Each libFuzzer target briefly (clang build), so new inputs are tried on every run.
  if [[ ${FUZZ_SECONDS:-5} != 0 ]]; then
    for f in tests/fuzz/fuzz_*.c; do
      name=${f#tests/fuzz/fuzz_}; name=${name%.c}
      run "fuzz-run/$name" ./tests/fuzz/run-libfuzzer.sh "$name" "${FUZZ_SECONDS:-5}"
    done
  fi
}
[[ -z ${TESTS:-} ]] && unit_lane &
# Longest first (their wall time in a full run, most of it spent waiting; deb_install:
# debootstrap and apt-get from the mirror on a fresh machine, 3-5 min, 1.5 min once its
# base is in build/), so the two lanes end together.
LONG_FIRST="hv_xen hv_kvm vm_layer iscsi_boot slurm controller vm_migrate deb_install health_alloc web_view iscsi_faults green cluster_failover restart_boot imagebuild_disk"
integ=() ordered=()
for t in tests/integ/${TESTS:-*}.sh; do
  [[ -x $t ]] && integ+=("$t")
done
for n in $LONG_FIRST; do
  for t in "${integ[@]}"; do [[ $(basename "$t" .sh) == "$n" ]] && ordered+=("$t"); done
done
for t in "${integ[@]}"; do
  [[ " $LONG_FIRST " == *" $(basename "$t" .sh) "* ]] || ordered+=("$t")
done
# The BMC tests run again against Redfish BMCs (issue 17), as integ/NAME@redfish.
REDFISH_TOO="bmc_power health_bmc controller green"
for t in "${ordered[@]}"; do
  while (($(jobs -rp | wc -l) >= ${INTEG_JOBS:-2})); do wait -n; done
  run "integ/$(basename "$t" .sh)" "$t" &
  [[ " $REDFISH_TOO " == *" $(basename "$t" .sh) "* ]] || continue
  while (($(jobs -rp | wc -l) >= ${INTEG_JOBS:-2})); do wait -n; done
  run "integ/$(basename "$t" .sh)@redfish" env BMC_PROTO=redfish "$t" &
done
wait

pass=$(grep -c '^P ' "$RESULTS") fail=$(grep -c '^F ' "$RESULTS")
((fail)) && echo "failed: $(sed -n 's/^F //p' "$RESULTS" | tr '\n' ' ')"
echo "$pass passed, $fail failed"
((fail == 0))
