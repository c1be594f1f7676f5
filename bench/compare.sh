#!/usr/bin/env bash
# bench/compare.sh — the name earlier versions of the benchmark had: runs bench/run.
exec "$(dirname "$0")/run" "$@"
