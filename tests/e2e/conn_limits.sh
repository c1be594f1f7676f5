#!/usr/bin/env bash
# Connection-level limits (docs/security.md, "Connection limits") against one regd with its
# defaults: 500 slowloris connections do not stop a normal client being answered; 2,000
# keep-alive connections that each sent a 1-byte body keep regd's RSS under a bound (before
# the fix each held a 1 MiB buffer: 2 GB); a PATCH trickling one byte every 10 s is cut off by
# --min-body-rate (the 60 s --body-timeout alone allows it). Afterwards `regctl verify` is clean.
# Usage: conn_limits.sh PATH_TO_REGD PATH_TO_REGCTL
REGD=$1
REGCTL=$2
source "$(dirname "$0")/../scale/lib.sh"
need_cmds curl jq python3
PYTOOL=$SCALE_SRC/../e2e/conn_limits.py
ulimit -n 8192 2>/dev/null || skip "cannot raise the open-files limit to 8192"

ROOT=$SCALE_TMP/root
# In a sanitizer build, freed memory waits in ASan's quarantine (up to 256 MB) and counts in the
# RSS: keep it small so that the RSS is what regd holds.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
start_regd limits "$ROOT"
P=${PORT[limits]}
# RSS ceiling with 2,000 idle connections that sent bodies, in KiB: the sanitizer build starts
# at ~115 MB and measured ~150 MB with them (~18 KiB each); 2,000 x 1 MiB buffers would be 2 GB.
RSS_BOUND_KIB=${RSS_BOUND_KIB:-262144}

step "500 slowloris connections and one slow PATCH; a normal client is still answered"
python3 "$PYTOOL" slowloris "$P" 500 12 >"$SCALE_TMP/slowloris.out" &
loris=$!
python3 "$PYTOOL" slow-patch "$P" >"$SCALE_TMP/slowpatch.out" &
slow=$!
sleep 2
for i in 1 2 3; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$P/v2/")
  [[ $code == 200 ]] || fail "a normal GET /v2/ during the slowloris got $code"
done
wait "$loris" || fail "the slowloris client failed"
echo "slowloris: $(cat "$SCALE_TMP/slowloris.out") of 500 closed by regd within 12 s"
wait "$slow" || fail "the slow PATCH client failed"
read -r verdict after <"$SCALE_TMP/slowpatch.out"
[[ $verdict == cut ]] || fail "a PATCH at 1 byte per 10 s was served to the end"
echo "slow PATCH cut off after ${after}s"
grep -q 'slower than --min-body-rate' "$SCALE_TMP/limits.log" || fail "the cut-off is not logged"

step "2,000 keep-alive connections that each sent a 1-byte body (every 10th an upload PATCH)"
rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/${PID[limits]}/status")
read -r n rss < <(python3 "$PYTOOL" idle-bodies "$P" 2000 "${PID[limits]}") || fail "the idle-bodies client failed"
echo "RSS: ${rss0} KiB before, ${rss} KiB with $n idle connections (bound ${RSS_BOUND_KIB} KiB)"
[[ $n == 2000 ]] || fail "only $n connections"
((rss < RSS_BOUND_KIB)) || fail "RSS ${rss} KiB over the bound of ${RSS_BOUND_KIB} KiB"
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$P/v2/") == 200 ]] || fail "served after"

step "regctl verify is clean"
kill -TERM "${PID[limits]}"
wait "${PID[limits]}" || true
"$REGCTL" --root "$ROOT" verify >"$SCALE_TMP/verify.out" 2>&1 || { cat "$SCALE_TMP/verify.out" >&2; fail "regctl verify"; }
echo PASS
