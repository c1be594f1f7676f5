#!/usr/bin/env bash
# Three read-write and two --read-only regd instances over one storage root behind nginx, run
# from docs/examples/nginx.conf (only ports and paths rewritten): skopeo push/pull through it,
# chunked uploads crossing instances, one blob pushed twice at once, the read/write split.
# Usage: lb_nginx_test.sh PATH_TO_REGD [PATH_TO_REGCTL]
REGD=$1
REGCTL=${2:-}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lb_checks.sh"
need_cmds nginx skopeo curl jq python3

ROOT=$SCALE_TMP/root
for n in rw1 rw2 rw3; do start_regd "$n" "$ROOT"; done
for n in ro1 ro2; do start_regd "$n" "$ROOT" --read-only; done

LB_PORT=$(free_port)
SPLIT_PORT=$(free_port)
mkdir -p "$SCALE_TMP/nginx"
render_example nginx.conf "$SCALE_TMP/nginx/nginx.conf" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${PORT[rw1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${PORT[rw2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${PORT[rw3]}/g" \
  "s/10\.0\.0\.21:5000/127.0.0.1:${PORT[ro1]}/g" \
  "s/10\.0\.0\.22:5000/127.0.0.1:${PORT[ro2]}/g" \
  "s/listen 80;/listen 127.0.0.1:$LB_PORT;/" \
  "s/listen 8080;/listen 127.0.0.1:$SPLIT_PORT;/" \
  "s|/run/nginx-regd.pid|$SCALE_TMP/nginx/nginx.pid|" \
  "s|/var/log/nginx/|$SCALE_TMP/nginx/|g" \
  "s|/var/lib/nginx/|$SCALE_TMP/nginx/|g"
start_nginx "$SCALE_TMP/nginx/nginx.conf"
ALL=127.0.0.1:$LB_PORT
SPLIT=127.0.0.1:$SPLIT_PORT
wait_status "http://$ALL/v2/" 200
wait_status "http://$SPLIT/v2/" 200

check_push_pull
check_chunked_across
check_same_blob_twice
check_read_write_split
check_final_state
echo PASS
