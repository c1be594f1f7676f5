#!/usr/bin/env bash
# Builds the libFuzzer targets (a clang build of their own in build-fuzz/, docs/fuzzing.md) and
# runs each for a bounded time on a copy of its committed corpus. Exits non-zero on any finding
# (crash, sanitizer report, failed invariant, timeout, out of memory, leak) and prints how to
# reproduce it; the finding is kept in build-fuzz/findings/.
#   tests/fuzz/run.sh [TARGET...]      every target when none is named
# FUZZ_SECONDS (default 15) is the time per target; FUZZ_CXX the compiler (default clang++-16).
# The outcome is also written to build-fuzz/last-run.txt, which the fuzz_findings CTest test
# reads: scripts/test.sh runs this step before the suite, so a finding fails in ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-15}
cxx=${FUZZ_CXX:-clang++-16}
cc=${cxx/clang++/clang}
all=(reference digest manifest range http_request htpasswd rules token config)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Hits across checkouts in other directories (CI clones afresh): paths relative to the tree.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi
start=$(date +%s)
mkdir -p build-fuzz
report=build-fuzz/last-run.txt
echo "status: did not finish (the fuzz build or a run failed; see tests/fuzz/run.sh's output)" >"$report"
# A unity build, as in scripts/test.sh.
CC=$cc CXX=$cxx cmake -S . -B build-fuzz -G Ninja -DREGD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
  "${launcher[@]}" >/dev/null
ninja -C build-fuzz -j"$(nproc)" --quiet "${targets[@]/#/fuzz_}"
echo "fuzz: built in $(($(date +%s) - start)) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build-fuzz/findings
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# run_target T: one target's run; its report lines go to $work/T.out, and $work/T.failed marks
# a finding.
run_target() {
  local t=$1 log execs rate cov artifact kept
  mkdir -p "$work/$t" "$work/artifacts-$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  local dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  log=$work/$t.log
  if build-fuzz/tests/fuzz/fuzz_"$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts-$t/" "$work/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ${execs:-?} executions (${rate:-?}/s), $cov, no findings" >"$work/$t.out"
    return
  fi
  touch "$work/$t.failed"
  {
    echo "fuzz $t: FINDING"
    tail -n 60 "$log"
    for artifact in "$work/artifacts-$t"/*; do
      [ -f "$artifact" ] || continue
      kept=build-fuzz/findings/$t-$(basename "$artifact")
      cp "$artifact" "$kept"
      echo "reproduce: build-fuzz/tests/fuzz/fuzz_$t $kept"
      echo "input ($(wc -c <"$artifact") bytes, base64):"
      head -c 4096 "$artifact" | base64
    done
  } >"$work/$t.out"
}
# As many targets at a time as there are cores, each a single-threaded libFuzzer process.
running=0
for t in "${targets[@]}"; do
  if ((running >= $(nproc))); then
    wait -n
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait
failed=()
for t in "${targets[@]}"; do
  if [ ! -e "$work/$t.out" ]; then
    echo "fuzz $t: the run did not finish (its corpus could not be copied, or it was killed)" >"$work/$t.out"
    touch "$work/$t.failed"
  fi
  if [ -e "$work/$t.failed" ]; then
    failed+=("$t")
    cat "$work/$t.out" >&2
  else
    cat "$work/$t.out"
  fi
done
summary="fuzz: ${#targets[@]} targets, ${seconds} s each, $(nproc) at a time, $(($(date +%s) - start)) s in all"
echo "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (see docs/fuzzing.md to reproduce and minimize)" >&2
  {
    echo "status: findings in: ${failed[*]}"
    echo "$summary"
    ls build-fuzz/findings | sed 's|^|kept: build-fuzz/findings/|'
  } >"$report"
  exit 1
fi
printf 'status: ok\n%s\n' "$summary" >"$report"
