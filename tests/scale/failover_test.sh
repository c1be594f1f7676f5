#!/usr/bin/env bash
# Failure handling behind HAProxy (docs/examples/haproxy.cfg, only ports rewritten):
#  1. kill -9 one read-write instance in the middle of a stream of 20 pushes: HAProxy takes it
#     out via /readyz, every push (retried through the LB) completes, and every acknowledged
#     image is complete afterwards (pulled back byte-identical, regctl verify clean);
#  2. SIGTERM another instance during a large upload sent to it: its /readyz answers 503 first,
#     HAProxy takes it out, the upload in flight still completes, regd exits 0.
# Usage: failover_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
REGD=$1
REGCTL=${2:-}
source "$(dirname "$0")/lib.sh"
need_cmds haproxy skopeo curl jq python3

ROOT=$SCALE_TMP/root
start_regd rw1 "$ROOT"
start_regd rw2 "$ROOT"
# rw3 is the one drained: /readyz 503 for 1.5 s after SIGTERM, then the listener closes.
start_regd rw3 "$ROOT" --drain-delay 1.5 --drain-timeout 30
start_regd ro1 "$ROOT" --read-only
start_regd ro2 "$ROOT" --read-only

LB_PORT=$(free_port)
STATS=$(free_port)
render_example haproxy.cfg "$SCALE_TMP/haproxy.cfg" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${PORT[rw1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${PORT[rw2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${PORT[rw3]}/g" \
  "s/10\.0\.0\.21:5000/127.0.0.1:${PORT[ro1]}/g" \
  "s/10\.0\.0\.22:5000/127.0.0.1:${PORT[ro2]}/g" \
  "s/bind :80\$/bind 127.0.0.1:$LB_PORT/" \
  "s/bind 127\.0\.0\.1:8404/bind 127.0.0.1:$STATS/"
start_haproxy "$SCALE_TMP/haproxy.cfg"
LB=127.0.0.1:$LB_PORT

now() { date +%s.%N; }
since() { awk "BEGIN { printf \"%.2f\", $(now) - $1 }"; }

# wait_state SERVER STATE SECONDS: polls HAProxy's stats until regd_rw/SERVER is in STATE.
wait_state() {
  local i
  for i in $(seq "$(($3 * 20))"); do
    [[ $(haproxy_state "$STATS" regd_rw "$1") == "$2" ]] && return 0
    sleep 0.05
  done
  return 1
}
for s in regd1 regd2 regd3; do wait_state "$s" UP 10 || fail "$s not UP"; done
wait_status "http://$LB/v2/" 200

step "build 20 small images sharing a base layer"
IMG=$SCALE_TMP/img
declare -A DIGEST
while read -r tag dig; do DIGEST[${tag#t}]=$dig; done < <(make_images "$IMG" 1 512 1 1024 $(seq -f 't%g' 20))
[[ ${#DIGEST[@]} == 20 ]] || fail "built ${#DIGEST[@]} images"

# A second client meanwhile: 1.5 MiB blobs sent at 1 MiB/s through the LB, each retried up to 5
# times; it guarantees uploads in flight on rw2 when it is killed. Records "<digest> <status>".
slow_stream() {
  local j attempt status
  for j in $(seq 40); do
    [[ -e $SCALE_TMP/stop-slow ]] && return 0
    head -c 1500000 /dev/urandom >"$SCALE_TMP/slow$j.bin"
    for attempt in 1 2 3 4 5; do
      status=$(put_monolithic "$LB" fo/slow "$SCALE_TMP/slow$j.bin" 1M)
      echo "sha256:$(sha256sum "$SCALE_TMP/slow$j.bin" | cut -d' ' -f1) $status" >>"$SCALE_TMP/slow.results"
      [[ $status == 201 ]] && break
      sleep 0.3
    done
  done
}
slow_stream &
slow_pid=$!
SCALE_PIDS+=("$slow_pid")

# kill_when_busy: kill -9 rw2 as soon as HAProxy shows it with a request in flight.
kill_when_busy() {
  local i
  for i in $(seq 200); do
    if [[ $(haproxy_stat "$STATS" regd_rw regd2 5) -ge 1 ]]; then
      kill -KILL "${PID[rw2]}"
      date +%s.%N >"$SCALE_TMP/killed"
      return 0
    fi
    sleep 0.05
  done
}

step "20 skopeo pushes through the LB; kill -9 rw2 around push 8 while it has requests in flight"
retries=0
for k in $(seq 20); do
  [[ $k == 8 ]] && { kill_when_busy & killer=$!; }
  ok=0
  for attempt in 1 2 3 4 5; do
    if push "$IMG" "t$k" "$LB" fo/app 2>>"$SCALE_TMP/push-errors.log"; then
      ok=1
      break
    fi
    retries=$((retries + 1))
    echo "   push t$k attempt $attempt failed, retrying"
    sleep 0.5
  done
  [[ $ok == 1 ]] || fail "push t$k failed 5 times"
  if [[ $k == 8 ]]; then
    wait "$killer"
    [[ -s $SCALE_TMP/killed ]] || fail "rw2 never had a request in flight; cannot test the kill"
    wait_state regd2 DOWN 10 || fail "HAProxy did not take the killed rw2 out"
    echo "   rw2 killed with requests in flight; HAProxy marked it DOWN $(since "$(cat "$SCALE_TMP/killed")") s later"
  fi
done
touch "$SCALE_TMP/stop-slow"
wait "$slow_pid" || fail "slow upload stream"
echo "   20 skopeo pushes acknowledged after $retries retried attempts"
acked=$(awk '$2 == 201' "$SCALE_TMP/slow.results" | wc -l)
failed=$(awk '$2 != 201' "$SCALE_TMP/slow.results" | wc -l)
[[ $(awk '{print $1}' "$SCALE_TMP/slow.results" | sort -u | wc -l) == "$acked" ]] ||
  fail "a slow upload never succeeded: $(cat "$SCALE_TMP/slow.results")"
echo "   slow stream: $acked uploads acknowledged, $failed failed attempts (retried): $(awk '$2 != 201 {print $2}' "$SCALE_TMP/slow.results" | tr '\n' ' ')"
while read -r dig status; do
  [[ $status == 201 ]] || continue
  [[ $(blob_sha "$LB" fo/slow "$dig") == "200 $dig" ]] || fail "acknowledged slow upload $dig lost or corrupt"
done <"$SCALE_TMP/slow.results"

step "every acknowledged image is complete: pull all 20 back through the LB"
for k in $(seq 20); do check_pull "$LB" fo/app "t$k" "$IMG" "${DIGEST[$k]}"; done
[[ $(curl -fsS "http://$LB/v2/fo/app/tags/list" | jq '.tags | length') == 20 ]] || fail "tag count"
if [[ -n $REGCTL ]]; then
  timeout 120 "$REGCTL" --root "$(root_of regctl "$ROOT")" -q verify fo/app >"$SCALE_TMP/verify.out" 2>&1 || {
    cat "$SCALE_TMP/verify.out" >&2
    fail "regctl verify after the kill"
  }
fi

step "SIGTERM rw3 during a 24 MiB upload sent to it"
BIG=$SCALE_TMP/big.bin
head -c $((24 * 1024 * 1024)) /dev/urandom >"$BIG"
big_digest="sha256:$(sha256sum "$BIG" | cut -d' ' -f1)"
hdr=$SCALE_TMP/big.hdr
code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' -X POST "http://127.0.0.1:${PORT[rw3]}/v2/fo/big/blobs/uploads/")
[[ $code == 202 ]] || fail "POST to rw3: $code"
loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
# ~4 s at 6 MiB/s: longer than the drain delay, so the upload outlives the listener.
curl -s -o /dev/null -w '%{http_code}' --max-time 60 --limit-rate 6M -X PUT \
  -H 'Content-Type: application/octet-stream' --data-binary @"$BIG" \
  "http://127.0.0.1:${PORT[rw3]}$loc?digest=$big_digest" >"$SCALE_TMP/big.status" &
uploader=$!
sleep 0.8
kill -0 "$uploader" 2>/dev/null || fail "the upload finished before SIGTERM; cannot test draining"
t_term=$(now)
kill -TERM "${PID[rw3]}"
ready=""
for i in $(seq 40); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${PORT[rw3]}/readyz" || true)
  [[ $ready == 503 ]] && break
  sleep 0.05
done
[[ $ready == 503 ]] || fail "/readyz on draining rw3 answered $ready, want 503"
echo "   /readyz 503 on rw3 $(since "$t_term") s after SIGTERM"
wait_state regd3 DOWN 10 || fail "HAProxy did not take the draining rw3 out"
echo "   HAProxy marked rw3 DOWN $(since "$t_term") s after SIGTERM"
wait "$uploader" || true
[[ $(cat "$SCALE_TMP/big.status") == 201 ]] || fail "in-flight upload during drain: $(cat "$SCALE_TMP/big.status")"
echo "   the in-flight upload completed (201) $(since "$t_term") s after SIGTERM"
rc=""
for i in $(seq 400); do
  if ! kill -0 "${PID[rw3]}" 2>/dev/null; then
    wait "${PID[rw3]}" && rc=0 || rc=$?
    break
  fi
  sleep 0.1
done
[[ $rc == 0 ]] || fail "drained rw3 exit status: '$rc'"
[[ $(blob_sha "$LB" fo/big "$big_digest") == "200 $big_digest" ]] || fail "drained upload's blob"

step "the last instance standing still takes pushes"
d=$(make_image "$IMG" last 2 256)
push "$IMG" last "$LB" fo/app || fail "push after failover"
check_pull "$LB" fo/app last "$IMG" "$d"
echo PASS
