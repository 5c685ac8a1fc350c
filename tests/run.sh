#!/bin/bash
# The test runner of `make check`: unit tests (ASan+UBSan build), fuzz-corpus replay,
# then integration tests (real daemons, qemu nodes, private network namespaces).
# Each test is a program; exit 0 = pass. Output of failing tests is shown; the run ends
# with "N passed, N failed" alone on a line. TESTS=<glob> runs only the integration tests
# it names (no unit or fuzz ones), for working on one of them.
set -u
cd "$(dirname "$0")/.."
ASAN=build/asan
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 failed=()
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run() { # name cmd...
  local name=$1; shift
  local log=$LOGDIR/${name//\//_}.log t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    pass=$((pass + 1)); echo "PASS $name ($((SECONDS - t0)) s)"
  else
    fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name ($((SECONDS - t0)) s)"
    # The assertion first: the tail below is mostly the logs the test dumps on failure.
    grep -m 3 '^FAIL' "$log" | sed 's/^/    > /'
    tail -n 40 "$log" | sed 's/^/    | /'
  fi
}

if [[ -z ${TESTS:-} ]]; then
  for t in "$ASAN"/tests/test_*; do
    [[ -x $t ]] && run "unit/$(basename "$t")" "$t"
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
fi
for t in tests/integ/${TESTS:-*}.sh; do
  [[ -x $t ]] && run "integ/$(basename "$t" .sh)" "$t"
done
((fail)) && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
((fail == 0))
