#!/bin/bash
# Run one libFuzzer target: tests/fuzz/run-libfuzzer.sh <name> <seconds>
# Builds tests/fuzz/fuzz_<name>.c with clang -fsanitize=fuzzer,address,undefined against
# every non-main source of lib/, bootsvc/, imagebuild/ and initramfs/ (make SANITIZE=fuzz),
# fuzzes a temp copy of tests/fuzz/corpus/<name> (so the committed corpus only grows by
# crashers) with tests/fuzz/<name>.dict if present, and copies crash-*/leak-*/timeout-*
# files into the corpus. Exit 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."

name=${1:?usage: $0 <name> <seconds>}
secs=${2:-60}
src=tests/fuzz/fuzz_$name.c
corpus=tests/fuzz/corpus/$name
dict=tests/fuzz/$name.dict
out=build/fuzz-clang
bin=$out/fuzz_$name

[[ -f $src ]] || { echo "run-libfuzzer: no $src" >&2; exit 2; }
command -v clang >/dev/null || { echo "run-libfuzzer: clang not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$out" "$corpus"

# Instrumented objects are built once by make (SANITIZE=fuzz), on every CPU, and shared by
# all targets.
make -s -j"$(nproc)" SANITIZE=fuzz "$out/fuzz/libfuzzer_fuzz_$name" >&2
bin=$out/fuzz/libfuzzer_fuzz_$name

work=$(mktemp -d /tmp/fuzz-"$name".XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp -a "$corpus"/. "$work/corpus"/ 2>/dev/null || true

args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
[[ -f $dict ]] && args+=(-dict="$dict")

rc=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$bin" "${args[@]}" "$work/corpus" || rc=$?

found=0
for f in "$work"/artifacts/*; do
  [[ -e $f ]] || continue
  cp "$f" "$corpus/"
  echo "run-libfuzzer: new finding $corpus/$(basename "$f")"
  found=1
done
if ((found || rc)); then
  echo "run-libfuzzer: $name: FAILED (exit $rc); reproduce with $bin <file>" >&2
  exit 1
fi
echo "run-libfuzzer: $name: no crash in $secs s ($(ls "$work/corpus" | wc -l) inputs in the working corpus)"
