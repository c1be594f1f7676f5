#!/usr/bin/env bash
# The fuzz_findings test: reports the outcome of the last tests/fuzz/run.sh (which
# scripts/test.sh runs before the suite). Skipped (77) when the fuzz step has not run here.
#   check_last_run.sh REPORT
set -euo pipefail
report=$1
if [ ! -f "$report" ]; then
  echo "no fuzz run in this tree (tests/fuzz/run.sh writes $report)"
  exit 77
fi
cat "$report"
head -n 1 "$report" | grep -qx 'status: ok'
