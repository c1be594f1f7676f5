#!/usr/bin/env bash
# scale.s3_api: regd and regctl on s3:// roots (docs/adr/0002-object-storage.md), in phases
# against one single-node Ceph with radosgw on loopback and one bucket (one bring-up for all):
#  api      the daemon's API tests (DAEMON_API_TESTS) of the spec-conformance suites, each test's
#           regd on a prefix of its own (REGD_TEST_S3_BUCKET, tests/daemon/regd_process.h), minus
#           the tests listed in API_EXCLUDED below (they look into or damage the root's files);
#  s3only   what those excluded tests check, checked the S3 way where it applies;
#  clients  tests/e2e/skopeo.sh and podman.sh against a regd on an s3:// root (E2E_S3_ROOT), then
#           regctl verify of what they stored;
#  regctl   push, ls, tags, tag, pull, verify and gc on s3:// (s3_regctl_checks.sh), missing buckets;
#  registry2 tests/gc/registry2_compat_test.sh on the bucket: what registry:2's S3 driver wrote,
#           regd serves and regctl collects, and registry:2 agrees afterwards.
# Every phase runs, whatever the others did; the script fails if one failed. Exit 77 (skipped)
# without root. Runs in its own network namespace (the Ceph monitor's port is fixed).
# Usage: s3_api_test.sh REGD REGCTL DAEMON_API_TESTS [PHASE...]   (default: every phase)
REGD=$(realpath "$1")
REGCTL=$(realpath "$2")
API_TESTS=$(realpath "$3")
PHASES=("${@:4}")
[[ ${#PHASES[@]} -gt 0 ]] || PHASES=(api s3only clients regctl registry2)
export SCALE_FS=s3
source "$(dirname "$0")/lib.sh"
source "$SCALE_SRC/s3_regctl_checks.sh"
need_cmds curl jq python3

# The suites that exercise the distribution API against storage (every test's regd on S3).
API_SUITES=(Uploads Blobs Manifests Listing Referrers Lifecycle ApiErrors SpecAdditions ImmutableTags Robustness
  Limits Metrics MetricsGc)
# Tests of those suites that cannot apply to a bucket, each with the reason; the s3only phase
# checks what they check the S3 way where there is one. Suites left out entirely: FullDisk (a
# tmpfs root filled up: no disk to fill), Hostile (asserts on the files under the root and next
# to it), Startup and Config* (file roots' permissions and option parsing, storage-independent),
# Auth*, Framing, ConnectionLimit, Logs (HTTP and auth layers, storage-independent).
API_EXCLUDED=(
  "ApiErrors.StorageFailuresNameNoServerPath: damages the tree (a file where the repositories directory belongs); s3only: a vanished bucket"
  "SpecAdditions.AnUploadHashesWithTheRequestedAlgorithm: asserts on the session's hashstates files; s3only: the same upload over HTTP"
  "Robustness.HealthReadinessAndMetrics: asserts _regd/readyz is an empty directory; s3only: no readyz key is left"
)

# phase_api: the API tests in two shards at once (each test starts its own regd).
phase_api() {
  local filter excluded="" line i rc=0 n_pass n_tests n_listed pids=()
  [[ -x $API_TESTS ]] || fail "no API test binary: '$API_TESTS'"
  for line in "${API_EXCLUDED[@]}"; do excluded+="${excluded:+:}${line%%:*}"; done
  filter="$(printf '%s.*:' "${API_SUITES[@]}")"
  filter="${filter%:}-$excluded"
  step "API tests on s3://$S3_BUCKET/api (2 shards): $filter"
  printf '   excluded: %s\n' "${API_EXCLUDED[@]}"
  n_listed=$("$API_TESTS" --gtest_filter="$filter" --gtest_list_tests | grep -c '^  ')
  for i in 0 1; do
    REGD_TEST_S3_BUCKET=$S3_BUCKET REGD_TEST_S3_PREFIX=api GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$i \
      timeout 1200 "$API_TESTS" --gtest_filter="$filter" --gtest_brief=1 >"$SCALE_TMP/api.$i.out" 2>&1 &
    pids+=("$!")
    SCALE_PIDS+=("$!")
  done
  for i in 0 1; do wait "${pids[$i]}" || rc=$?; done
  cat "$SCALE_TMP"/api.[01].out | grep -E '^\[  (FAILED|SKIPPED) |Failure$|error:' | head -n 80 || true
  n_tests=$(sed -n 's/^\[==========\] \([0-9]*\) tests\? from .* ran\..*/\1/p' "$SCALE_TMP"/api.[01].out |
    awk '{ s += $1 } END { print s + 0 }')
  n_pass=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$SCALE_TMP"/api.[01].out | awk '{ s += $1 } END { print s + 0 }')
  echo "   $n_pass of $n_tests API tests passed ($n_listed selected)"
  # Each test had its own prefix: without them the tests ran on local directories after all.
  local prefixes
  prefixes=$(s3_keys "s3://$S3_BUCKET/api" | cut -d/ -f1 | sort -u | wc -l)
  echo "   $prefixes test prefixes in the bucket"
  ((prefixes >= 20)) || fail "only $prefixes test prefixes under s3://$S3_BUCKET/api: did regd run on S3?"
  grep -q '^\[  SKIPPED \]' "$SCALE_TMP"/api.[01].out && fail "API tests skipped although radosgw is up"
  [[ $rc == 0 ]] || fail "API tests failed (exit $rc): see the FAILED lines above and $SCALE_TMP/api.*.out"
  [[ $n_tests == "$n_listed" ]] || fail "$n_tests API tests ran, $n_listed selected (a shard crashed?)"
}

# phase_clients: skopeo and podman (tests/e2e) against regd on the bucket, then regctl verify
# of every root they used.
phase_clients() {
  local script rc root roots
  for script in skopeo podman; do
    step "tests/e2e/$script.sh against regd on s3://$S3_BUCKET/e2e"
    rc=0
    E2E_S3_ROOT=$(s3_root e2e) timeout 600 bash "$SCALE_SRC/../e2e/$script.sh" "$REGD" >"$SCALE_TMP/$script.out" 2>&1 ||
      rc=$?
    sed 's/^/   /' "$SCALE_TMP/$script.out" | tail -n 15
    [[ $rc == 77 && $script == podman ]] && { echo "   (podman cannot run here: skipped, as e2e.podman is)"; continue; }
    [[ $rc == 0 ]] || fail "tests/e2e/$script.sh on S3 exited $rc"
  done
  roots=$(s3_keys "$(s3_root e2e)" | sed -n 's|^\(.*\)/docker/registry/v2/.*|\1|p' | sort -u)
  [[ -n $roots ]] || fail "skopeo and podman stored nothing under s3://$S3_BUCKET/e2e"
  for root in $roots; do
    timeout 300 "$REGCTL" --root "$(s3_root "e2e/$root")" verify --json >"$SCALE_TMP/e2e-verify.json" ||
      fail "regctl verify of e2e/$root: $(jq -c '.problems[:3]' "$SCALE_TMP/e2e-verify.json" 2>/dev/null)"
    echo "   regctl verify e2e/$root: clean"
  done
}

phase_regctl() {
  s3_regctl_checks
}

phase_registry2() {
  step "tests/gc/registry2_compat_test.sh on s3://$S3_BUCKET"
  S3_REUSE=1 GC_FS=s3 timeout 300 bash "$SCALE_SRC/../gc/registry2_compat_test.sh" "$REGCTL" "$REGD" 2>&1 |
    sed 's/^/   /'
}

# phase_s3only: what the excluded API tests check, on S3.
phase_s3only() {
  source "$SCALE_SRC/s3_api_checks.sh"
  s3_api_checks
}

# kill_phase_processes: SIGKILLs what the phase (a subshell) started: lib.sh's cleanup, in the
# parent, does not see the subshell's SCALE_PIDS.
kill_phase_processes() {
  local pid
  for pid in "${SCALE_PIDS[@]:PHASE_FIRST_PID}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# isolated FUNC...: runs the functions in a subshell (a failure ends only them), stopping what
# they started; isolated_outcome then fails if one of them failed. Not `( ... ) || rc=$?`: bash
# ignores set -e in a subshell tested so, and the checks rely on it.
ISOLATED_FAILED=()
isolated() {
  local rc
  set +e
  (
    set -e
    PHASE_FIRST_PID=${#SCALE_PIDS[@]}
    trap 'kill_phase_processes' EXIT
    for f in "$@"; do "$f"; done
  )
  rc=$?
  set -e
  [[ $rc == 0 ]] || ISOLATED_FAILED+=("$* (exit $rc)")
}
isolated_outcome() {
  ((${#ISOLATED_FAILED[@]} == 0)) || fail "failed: $(printf '[%s] ' "${ISOLATED_FAILED[@]}")"
}

# run_phase NAME: runs phase NAME in a subshell (a failure ends only that phase); stops what it
# started; records the outcome in RESULTS.
RESULTS=()
run_phase() {
  local t0 outcome=ok
  t0=$(date +%s)
  isolated "phase_$1"
  [[ ${#ISOLATED_FAILED[@]} == 0 ]] || outcome=FAILED
  ISOLATED_FAILED=()
  RESULTS+=("$1: $outcome, $(($(date +%s) - t0)) s")
}
for phase in "${PHASES[@]}"; do
  declare -F "phase_$phase" >/dev/null || fail "unknown phase $phase (api s3only clients regctl registry2)"
  run_phase "$phase"
done
echo "SUMMARY s3_api:"
printf '   %s\n' "${RESULTS[@]}"
if printf '%s\n' "${RESULTS[@]}" | grep -q FAILED; then
  exit 1
fi
echo PASS
