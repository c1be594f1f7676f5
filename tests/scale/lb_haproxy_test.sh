#!/usr/bin/env bash
# Three read-write and two --read-only regd instances over one storage root behind HAProxy, run
# from docs/examples/haproxy.cfg (only ports rewritten): /readyz health checks bring every
# instance UP, then skopeo push/pull through it, chunked uploads crossing instances, one blob
# pushed twice at once, the read/write split by method ACL.
# Usage: lb_haproxy_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
REGD=$1
REGCTL=${2:-}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lb_checks.sh"
need_cmds haproxy skopeo curl jq python3

ROOT=$SCALE_TMP/root
for n in rw1 rw2 rw3; do start_regd "$n" "$ROOT"; done
for n in ro1 ro2; do start_regd "$n" "$ROOT" --read-only; done

LB_PORT=$(free_port)
STATS_PORT=$(free_port)
render_example haproxy.cfg "$SCALE_TMP/haproxy.cfg" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${PORT[rw1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${PORT[rw2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${PORT[rw3]}/g" \
  "s/10\.0\.0\.21:5000/127.0.0.1:${PORT[ro1]}/g" \
  "s/10\.0\.0\.22:5000/127.0.0.1:${PORT[ro2]}/g" \
  "s/bind :80\$/bind 127.0.0.1:$LB_PORT/" \
  "s/bind 127\.0\.0\.1:8404/bind 127.0.0.1:$STATS_PORT/"
start_haproxy "$SCALE_TMP/haproxy.cfg"
ALL=127.0.0.1:$LB_PORT
SPLIT=$ALL

step "HAProxy's /readyz checks report every instance UP"
for i in $(seq 100); do
  up=0
  for s in regd1 regd2 regd3; do [[ $(haproxy_state "$STATS_PORT" regd_rw "$s") == UP ]] && up=$((up + 1)); done
  for s in replica1 replica2; do [[ $(haproxy_state "$STATS_PORT" regd_ro "$s") == UP ]] && up=$((up + 1)); done
  [[ $up == 5 ]] && break
  sleep 0.1
done
[[ $up == 5 ]] || fail "only $up of 5 instances UP"
[[ $(requests rw1 | jq -c 'select(.path == "/readyz" and .status == 200)' | wc -l) -ge 1 ]] ||
  fail "no /readyz check reached rw1"
wait_status "http://$ALL/v2/" 200

check_push_pull
check_chunked_across
check_same_blob_twice
check_read_write_split
check_final_state
echo PASS
