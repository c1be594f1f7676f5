#!/usr/bin/env bash
# Crash consistency under chaos (design.md, "Write discipline" 6; issue 9): three regd instances
# over one storage root behind HAProxy (docs/examples/haproxy.cfg, /readyz checks, only ports
# rewritten and the read/write split dropped), run with --link-refresh 1s, while
#  - CHAOS_CLIENTS (5) chaos_client.py clients push through HAProxy for CHAOS_SECONDS (60):
#    monolithic, single-POST and chunked uploads, HEAD + cross-repository mount of a shared base
#    layer, config, manifest PUT by tag, about a quarter deleted again; every request retried on
#    connection errors and 5xx; each acknowledged push and delete recorded;
#  - one instance at a time (preferably one with requests in flight) is killed with SIGKILL and
#    restarted at once, every 2-4 s (random);
#  - `regctl gc --grace 5s` runs in a loop.
# A third of the clients whose manifest PUT or chunk failed walk away from that push instead of
# retrying, so what a kill interrupted stays behind as it would after a cancelled CI job.
# Then: every GC run during the load exited 0 (or 5, the lease busy); every acknowledged push
# not deleted pulls byte-identical through HAProxy after a final GC (grace 2 s, after a sleep);
# that GC exits 0; `regctl verify --json` exits 0 with no problems; no config or layer unique to
# an acknowledged delete is left in the blob store; and no regd instance answered any request
# with a 5xx (their access logs, every incarnation: the clients' 5xx must all be HAProxy's own
# 502/503 for requests a killed instance took down). Prints a summary line.
# STORAGE local: one directory. gluster: a loopback GlusterFS volume, strict profile, one FUSE
# mount per instance and one for regctl. cephfs: a loopback CephFS, one ceph-fuse mount per
# instance and one for regctl. Both need root and /dev/fuse (else exit 77) and run in their own
# network namespace.
# s3: three instances over one prefix of one bucket of a loopback radosgw (s3:// roots, regctl on
# the same prefix); needs root (else exit 77) and runs in its own network namespace. What the
# local modes check by looking into the blob store's directories is checked in the bucket's
# listing instead (chaos_client.py gone --keys).
# cephfs-osd: redundancy with failover instead of instance kills. CephFS over three OSDs keeping
# three copies; a third into the load one OSD is SIGKILLed (its in-memory store is lost, as a
# failed disk), a third later replaced by an empty one that Ceph backfills; CHAOS_PULLERS (2)
# clients pull and check digests through HAProxy all along. The same checks after the load, once
# Ceph reports every placement group active+clean again, and the longest pull is reported.
# Usage: chaos_test.sh local|gluster|cephfs|cephfs-osd|s3 PATH_TO_REGD PATH_TO_REGCTL
set -euo pipefail
KIND=$1
REGD=$2
REGCTL=$3
here=$(cd "$(dirname "$0")" && pwd)
[[ $KIND == @(local|gluster|cephfs|cephfs-osd|s3) ]] ||
  { echo "usage: chaos_test.sh local|gluster|cephfs|cephfs-osd|s3 REGD REGCTL" >&2; exit 2; }
[[ $KIND == cephfs* ]] && export SCALE_FS=cephfs # lib.sh brings it up
[[ $KIND == s3 ]] && export SCALE_FS=s3          # lib.sh brings up radosgw and the bucket
[[ $KIND == cephfs-osd ]] && export CEPH_OSDS=3  # three copies of everything
if [[ $KIND == gluster ]]; then
  source "$here/gluster_env.sh"
  gluster_preflight
  scale_enter_netns "$0" "$@"
  gluster_pick_host
fi
source "$here/lib.sh"
need_cmds haproxy curl jq python3
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree
SECONDS_LOAD=${CHAOS_SECONDS:-60}
CLIENTS=${CHAOS_CLIENTS:-5}
NAMES=(i1 i2 i3)
declare -A IROOT IPORT
S=$SCALE_TMP

# ---- storage -------------------------------------------------------------------------------
if [[ $KIND == gluster ]]; then
  step "GlusterFS volume (strict profile): a FUSE mount per instance, one for regctl"
  gluster_mount strict "$S/m1" "$S/m2" "$S/m3" "$S/m4"
  for i in 1 2 3; do IROOT[i$i]=$S/m$i/registry; done
  CTL_ROOT=$S/m4/registry
elif [[ $KIND == cephfs* || $KIND == s3 ]]; then
  for n in "${NAMES[@]}"; do IROOT[$n]=$(root_of "$n" "$S/registry"); done
  CTL_ROOT=$(root_of regctl "$S/registry")
else
  for n in "${NAMES[@]}"; do IROOT[$n]=$S/root; done
  CTL_ROOT=$S/root
fi

# ---- instances: fixed ports (HAProxy's config names them), one log per incarnation -----------
# launch NAME: starts instance NAME (again); its log is $S/NAME.<generation>.rlog.
launch() {
  local name=$1 gen pid i attempt
  # A few attempts: the fixed port can be held for a moment by an ephemeral client socket after a
  # kill -9 (the bind then fails), and a start under a loaded CI machine can be slow.
  for attempt in 1 2 3; do
    gen=$(($(cat "$S/$name.gen" 2>/dev/null || echo 0) + 1))
    echo "$gen" >"$S/$name.gen"
    "$REGD" --root "${IROOT[$name]}" --listen "127.0.0.1:${IPORT[$name]}" --threads 2 --link-refresh 1s \
      2>"$S/$name.$gen.rlog" &
    pid=$!
    disown "$pid" # not a job: no "Killed" notice per kill; stop_everything and the killer track it
    echo "$pid" >"$S/$name.pid"
    echo "$pid" >>"$S/regd.pids"
    for i in $(seq 300); do
      command curl -fsS --max-time 1 "http://127.0.0.1:${IPORT[$name]}/healthz" >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && break # alive but not answering: do not start a second one
    sleep 0.5
  done
  echo "instance $name (generation $gen) did not start: $(tail -n 3 "$S/$name.$gen.rlog" 2>/dev/null | tr '\n' ' ')" \
    >>"$S/launch-failures"
  return 1
}
stop_everything() {
  touch "$S/stop-kills" "$S/stop-gc"
  [[ -n ${KILLER:-} ]] && { kill -TERM "$KILLER" 2>/dev/null || true; wait "$KILLER" 2>/dev/null || true; }
  local pid
  for pid in $(cat "$S/regd.pids" 2>/dev/null); do
    grep -qsx regd "/proc/$pid/comm" && kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in $(cat "$S/regd.pids" 2>/dev/null); do wait "$pid" 2>/dev/null || true; done
  [[ $KIND == gluster ]] && gluster_unmount
  return 0
}
SCALE_CLEANUP+=(stop_everything)

for n in "${NAMES[@]}"; do
  IPORT[$n]=$(free_port)
  launch "$n" || fail "regd $n did not start"
done
LB_PORT=$(free_port)
STATS=$(free_port)
render_example haproxy.cfg "$S/haproxy.cfg" \
  "s/10\.0\.0\.11:5000/127.0.0.1:${IPORT[i1]}/g" \
  "s/10\.0\.0\.12:5000/127.0.0.1:${IPORT[i2]}/g" \
  "s/10\.0\.0\.13:5000/127.0.0.1:${IPORT[i3]}/g" \
  "/use_backend regd_ro/d" "/server replica[0-9]/d" \
  "s/bind :80\$/bind 127.0.0.1:$LB_PORT/" \
  "s/bind 127\.0\.0\.1:8404/bind 127.0.0.1:$STATS/"
start_haproxy "$S/haproxy.cfg"
LB=127.0.0.1:$LB_PORT
all_up() {
  local s
  for s in regd1 regd2 regd3; do [[ $(haproxy_state "$STATS" regd_rw "$s") == UP ]] || return 1; done
}
for i in $(seq 100); do all_up && break; sleep 0.1; done
all_up || fail "HAProxy does not see all three instances UP"
wait_status "http://$LB/v2/" 200

GC_FLAGS=()
if "$REGCTL" gc --help 2>&1 | grep -q -- '--link-refresh'; then GC_FLAGS+=(--link-refresh 1s); fi
# The GC loop may start before the first push: regctl refuses a root without a registry tree
# (exit 7; an unmounted share looks just like it), so the tree is created first, as an operator would.
if "$REGCTL" --help 2>&1 | grep -q -- '--init'; then
  "$REGCTL" --root "$CTL_ROOT" --init ls >/dev/null || fail "regctl --init on $CTL_ROOT"
fi

# ---- chaos: the killer, the GC loop, the clients ------------------------------------------------
# busy_instance: a random instance among those HAProxy shows with requests in flight (polled for
# up to 0.5 s: a kill should interrupt writes), else any.
busy_instance() {
  local i n busy
  for i in $(seq 10); do
    busy=()
    for n in 1 2 3; do
      [[ $(haproxy_stat "$STATS" regd_rw "regd$n" 5) -ge 1 ]] 2>/dev/null && busy+=("i$n")
    done
    ((${#busy[@]} > 0)) && { echo "${busy[$((RANDOM % ${#busy[@]}))]}"; return; }
    sleep 0.05
  done
  echo "${NAMES[$((RANDOM % 3))]}"
}
# killer: every 2-4 s, SIGKILL an instance (one busy with requests if there is one) and start it again at once; logs "<time> <name>".
killer() {
  local victim pid i
  for i in $(seq 1000); do
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 2 + 2 * r / 32767 }')"
    [[ -e $S/stop-kills ]] && return 0
    victim=$(busy_instance)
    pid=$(cat "$S/$victim.pid")
    kill -KILL "$pid" 2>/dev/null || true
    echo "$(date +%s.%N) $victim $(cat "$S/$victim.gen")" >>"$S/kills"
    while kill -0 "$pid" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
      sleep 0.01
    done
    launch "$victim" || return 1
  done
}
# gc_loop: regctl gc with a 5 s grace window over and over; one exit status a line in gc.rcs.
# Every revision link is a root here (no --delete-untagged), so GC reads every manifest a killed
# or abandoned PUT left behind.
gc_loop() {
  local i rc
  for i in $(seq 2000); do
    [[ -e $S/stop-gc ]] && return 0
    rc=0
    timeout 120 "$REGCTL" --root "$CTL_ROOT" gc --grace 5s "${GC_FLAGS[@]}" --json >"$S/gc.json" 2>"$S/gc.err" || rc=$?
    echo "$rc" >>"$S/gc.rcs"
    if [[ $rc != 0 && $rc != 5 ]]; then
      { echo "gc run $i exited $rc:"; head -c 600 "$S/gc.err"; } >>"$S/gc.failures"
    elif [[ $rc == 0 ]]; then
      jq -r '.blobs_removed + .manifests_removed' "$S/gc.json" >>"$S/gc.removed" 2>/dev/null || true
    fi
    sleep 0.3
  done
}

# osd_killer: a third into the load, SIGKILL a random OSD; a third later, replace it. Logs
# "<time> killed|replaced osd.<id>".
osd_killer() {
  local victim=$((RANDOM % 3))
  sleep $((SECONDS_LOAD / 3))
  cephfs_kill_osd "$victim"
  echo "$(date +%s.%N) killed osd.$victim" >>"$S/osd-events"
  sleep $((SECONDS_LOAD / 3))
  cephfs_replace_osd "$victim" || return 1
  echo "$(date +%s.%N) replaced osd.$victim" >>"$S/osd-events"
}

if [[ $KIND == cephfs-osd ]]; then
  step "failover for ${SECONDS_LOAD}s: $CLIENTS pushers and ${CHAOS_PULLERS:-2} pullers through HAProxy, an OSD SIGKILLed and replaced, GC in a loop"
  osd_killer &
else
  step "chaos for ${SECONDS_LOAD}s: $CLIENTS clients through HAProxy, an instance SIGKILLed every 2-4 s, GC in a loop (${GC_FLAGS[*]:-no --link-refresh})"
  killer &
fi
t_start=$(date +%s.%N)
KILLER=$!
SCALE_PIDS+=("$KILLER")
pullers=()
if [[ $KIND == cephfs-osd ]]; then
  for c in $(seq 1 "${CHAOS_PULLERS:-2}"); do
    timeout $((SECONDS_LOAD + 120)) python3 "$here/chaos_client.py" pull --lb "$LB" --client "$c" \
      --seconds "$SECONDS_LOAD" --out "$S/puller$c.json" 2>>"$S/pullers.err" &
    pullers+=("$!")
    SCALE_PIDS+=("$!")
  done
fi
gc_loop &
GC_PID=$!
SCALE_PIDS+=("$GC_PID")
clients=()
for c in $(seq 0 $((CLIENTS - 1))); do
  timeout $((SECONDS_LOAD + 120)) python3 "$here/chaos_client.py" push --lb "$LB" --client "$c" \
    --seconds "$SECONDS_LOAD" --max-pushes 1500 --out "$S/client$c.json" 2>>"$S/clients.err" &
  clients+=("$!")
  SCALE_PIDS+=("$!")
done
client_rc=0
for pid in "${clients[@]}"; do wait "$pid" || client_rc=$?; done
touch "$S/stop-kills" "$S/stop-gc"
wait "$KILLER" || fail "the killer could not restart an instance: $(cat "$S/launch-failures" 2>/dev/null)"
puller_rc=0
for pid in "${pullers[@]}"; do wait "$pid" || puller_rc=$?; done
KILLER=""
wait "$GC_PID" || true
load_s=$(awk "BEGIN { printf \"%.0f\", $(date +%s.%N) - $t_start }")
[[ $client_rc == 0 ]] || { tail -n 20 "$S/clients.err" >&2; fail "a client failed (exit $client_rc)"; }
records=("$S"/client*.json)

# ---- after the load -----------------------------------------------------------------------------
kills=$(wc -l <"$S/kills" 2>/dev/null || echo 0)
gc_ok=$(grep -cx 0 "$S/gc.rcs" || true)
gc_busy=$(grep -cx 5 "$S/gc.rcs" || true)
gc_failed=$(grep -cvx '[05]' "$S/gc.rcs" || true)
gc_removed=$(awk '{ s += $1 } END { print s + 0 }' "$S/gc.removed" 2>/dev/null || echo 0)
acked=$(jq -s '[.[].pushes[]] | length' "${records[@]}")
deleted=$(jq -s '[.[].deletes[] | select(.state == "acked")] | length' "${records[@]}")
uncertain=$(jq -s '[.[].deletes[] | select(.state != "acked")] | length' "${records[@]}")
stat_sum() { jq -s "[.[].stats.$1] | add" "${records[@]}"; }
echo "   load: ${load_s}s, $acked pushes and $deleted deletes acknowledged ($uncertain deletes uncertain)," \
  "$(stat_sum pushes_failed) pushes given up, $(stat_sum pushes_abandoned) abandoned after a failure, $kills kills, GC: $gc_ok runs ok, $gc_busy busy, $gc_failed failed," \
  "$gc_removed items collected"
echo "   clients: $(stat_sum requests) requests, $(stat_sum retries) retries, $(stat_sum connection_errors)" \
  "connection errors, $(stat_sum proxy_5xx) HAProxy 5xx, $(stat_sum regd_5xx) regd 5xx," \
  "$(stat_sum upload_restarts) upload restarts, $(stat_sum mounts) mounts, $(stat_sum chunked) chunked uploads," \
  "$(stat_sum manifest_blob_unknown) manifest PUTs re-pushed after MANIFEST_BLOB_UNKNOWN"

failures=()
# 5xx answered by a regd instance, in any incarnation's access log.
regd_5xx=$(cat "$S"/*.rlog | jq -Rc 'fromjson? | select(.msg == "request" and .status >= 500)
  | {time, method, path, status}' | tee "$S/regd-5xx" | wc -l)
if ((regd_5xx > 0)); then
  failures+=("$regd_5xx requests answered 5xx by a regd instance, e.g. $(head -n 3 "$S/regd-5xx" | tr '\n' ' ')")
fi
if ((gc_failed > 0)); then
  failures+=("$gc_failed of $(wc -l <"$S/gc.rcs") GC runs failed during the load; first: $(head -n 4 "$S/gc.failures" | tr '\n' ' ')")
fi
((gc_ok >= 3)) || failures+=("only $gc_ok GC runs succeeded during the load")
if [[ $KIND == cephfs-osd ]]; then
  grep -q replaced "$S/osd-events" 2>/dev/null || failures+=("the OSD was not killed and replaced: $(cat "$S/osd-events" 2>/dev/null)")
  pulls=$(jq -s '[.[].pulls] | add' "$S"/puller*.json)
  longest=$(jq -s '[.[].longest_s] | max' "$S"/puller*.json)
  echo "   OSD: $(cut -d' ' -f2- "$S/osd-events" | paste -sd, -); pullers: $pulls pulls checked, longest pull ${longest}s," \
    "$(jq -s '[.[].stats.retries] | add' "$S"/puller*.json) retries"
  [[ $puller_rc == 0 ]] || failures+=("pulls failed or mismatched their digests: $(head -n 3 "$S/pullers.err" | tr '\n' ' ')")
  ((pulls >= 10)) || failures+=("only $pulls pulls during the load")
  t_heal=$(date +%s.%N)
  cephfs_wait_clean 180 || failures+=("Ceph did not heal (active+clean) within 180 s")
  echo "   healed (every placement group active+clean) $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t_heal }") s after the load"
else
  ((kills >= 5)) || failures+=("only $kills kills during the load")
fi
(($(stat_sum pushes_failed) == 0)) || failures+=("$(stat_sum pushes_failed) pushes never acknowledged: $(grep -m3 'given up\|PUT manifest' "$S/clients.err" | tr '\n' ' ')")
((acked >= 20)) || failures+=("only $acked pushes acknowledged")
((deleted >= 3)) || failures+=("only $deleted deletes acknowledged")

step "final GC (grace 2 s, after the grace window has passed), with the instances idle"
for i in $(seq 50); do all_up && break; sleep 0.1; done
sleep 3
final_rc=0
timeout 180 "$REGCTL" --root "$CTL_ROOT" gc --grace 2s "${GC_FLAGS[@]}" --delete-untagged --json \
  >"$S/final-gc.json" 2>"$S/final-gc.err" || final_rc=$?
gc_runs=$(($(wc -l <"$S/gc.rcs") + 1))
if [[ $final_rc == 0 ]]; then
  echo "   final GC: $(jq -c '{blobs_removed, manifests_removed, uploads_removed, blobs_marked}' "$S/final-gc.json")"
else
  failures+=("final regctl gc exited $final_rc: $(head -c 600 "$S/final-gc.err")")
  gc_failed=$((gc_failed + 1))
fi

step "regctl verify"
verify_rc=0
timeout 300 "$REGCTL" --root "$CTL_ROOT" verify --json >"$S/verify.json" 2>"$S/verify.err" || verify_rc=$?
problems=$(jq '.problems | length' "$S/verify.json" 2>/dev/null || echo "?")
echo "   verify exit $verify_rc, $problems problems"
if [[ $verify_rc != 0 || $problems != 0 ]]; then
  failures+=("regctl verify exited $verify_rc with $problems problems: $(jq -c '.problems[:3]' "$S/verify.json" 2>/dev/null) $(head -c 300 "$S/verify.err")")
fi

step "every acknowledged push not deleted pulls byte-identical through HAProxy"
python3 "$here/chaos_client.py" check --lb "$LB" "${records[@]}" >"$S/check.out" 2>&1 ||
  failures+=("acknowledged pushes lost or corrupt: $(grep -m5 LOST "$S/check.out" | tr '\n' ' ')")
tail -n1 "$S/check.out"

step "nothing unique to an acknowledged delete is left in the blob store"
if [[ $KIND == s3 ]]; then
  s3_keys "$CTL_ROOT" >"$S/keys" || failures+=("could not list the bucket under $CTL_ROOT")
  gone_where=(--keys "$S/keys")
else
  gone_where=(--root "$CTL_ROOT")
fi
python3 "$here/chaos_client.py" gone "${gone_where[@]}" "${records[@]}" >"$S/gone.out" 2>&1 ||
  failures+=("blobs of deleted pushes left after the final GC: $(grep -m3 LEFT "$S/gone.out" | tr '\n' ' ')")
tail -n1 "$S/gone.out"

# On S3, the keys of every upload session an error names (with sizes and times): what a crash
# left there is what the failure is about.
if [[ $KIND == s3 ]] && ((${#failures[@]} > 0)); then
  for session in $(cat "$S/gc.failures" "$S/final-gc.err" "$S/verify.err" 2>/dev/null |
    grep -o 'repositories/[^ :]*/_uploads/[0-9a-f-]*' | sort -u | head -n 5); do
    echo "   keys of ${session#repositories/}:"
    s3ctl lsl "$S3_BUCKET" "${CTL_ROOT#s3://"$S3_BUCKET"/}/docker/registry/v2/$session/" | sed 's/^/     /'
  done
fi

echo "SUMMARY chaos[$KIND]: $acked acknowledged pushes, $deleted acknowledged deletes, $kills kills," \
  "$gc_runs GC runs, $gc_failed GC failures, $regd_5xx regd 5xx, $(stat_sum proxy_5xx) HAProxy 5xx (killed requests)," \
  "load ${load_s}s"
if ((${#failures[@]} > 0)); then
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo PASS
