#!/usr/bin/env bash
# regd --sync-file (docs/mirror.md, "Periodic sync inside regd"): an upstream regd on plain HTTP
# holds team/app; two regd instances over one shared root mirror it every second. The image
# arrives whole (manifest digest, blobs byte-identical), a tag moved upstream follows on a later
# run, runs after that copy nothing, a lease held elsewhere makes both log "sync skipped" with
# its holder, and the runs of the two instances never overlap. A malformed sync file, a file with
# an unknown key and --sync-interval without a file stop regd at start with exit 2 and a message.
# Usage: sync.sh PATH_TO_REGD PATH_TO_REGCTL
REGD=$1
REGCTL=$2
source "$(dirname "$0")/../scale/lib.sh"
need_cmds curl jq python3

T=$SCALE_TMP
RC=(timeout 120 "$REGCTL" -q)
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'

# digest_of HOSTPORT REPO TAG: the digest the registry serves for the tag (empty if none).
digest_of() {
  curl -s -o /dev/null -D - -H "$ACCEPT" "http://$1/v2/$2/manifests/$3" | tr -d '\r' |
    awk 'tolower($1) == "docker-content-digest:" {print $2}'
}

# wait_digest HOSTPORT REPO TAG DIGEST: polls (bounded, 30 s) until the tag serves DIGEST.
wait_digest() {
  local i
  for i in $(seq 300); do
    [[ $(digest_of "$1" "$2" "$3") == "$4" ]] && return 0
    sleep 0.1
  done
  fail "$2:$3 on $1 is $(digest_of "$1" "$2" "$3"), not $4, after 30 s"
}

# same_stored LAYOUT DIGEST: the manifest DIGEST of LAYOUT and every blob it names are stored
# byte-identical in the mirror's root.
same_stored() {
  local d f n=0
  for d in "$2" $(jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${2#sha256:}"); do
    f=$T/mirror/docker/registry/v2/blobs/sha256/${d:7:2}/${d#sha256:}/data
    cmp -s "$1/blobs/sha256/${d#sha256:}" "$f" || fail "blob $d differs or is missing in the mirror"
    n=$((n + 1))
  done
  ((n >= 4)) || fail "only $n blobs compared"
}

# sync_lines: every "sync ..." log line of both mirror instances, as compact JSON with the
# instance's name, in time order.
sync_lines() {
  local name
  for name in a b; do
    jq -Rc --arg n "$name" 'fromjson? | select(.msg | startswith("sync ")) | . + {instance: $n}' "$T/$name.log"
  done | jq -sc 'sort_by(.time) | .[]'
}

step "upstream regd (plain HTTP) with team/app:v1 and team/app:stable"
d_v1=$(make_image "$T/img1" v1 3 256)
"${RC[@]}" --root "$T/up" push "oci:$T/img1:v1" team/app:v1 >/dev/null || fail "push v1"
"${RC[@]}" --root "$T/up" push "oci:$T/img1:v1" team/app:stable >/dev/null || fail "push stable"
"${RC[@]}" --root "$T/up" push "oci:$T/img1:v1" team/app:other >/dev/null || fail "push other"
start_regd up "$T/up"
UP=127.0.0.1:${PORT[up]}
[[ $(digest_of "$UP" team/app stable) == "$d_v1" ]] || fail "upstream does not serve stable"

step "a malformed sync file, an unknown key, an interval without a file: exit 2 with the reason"
echo '{"mirrors": [' >"$T/bad.json"
jq -n --arg s "docker://$UP/team/app" '{mirrors: [{source: $s, target: "m/app", tags: ["v*"], colour: "red"}]}' \
  >"$T/unknown.json"
for args in "--sync-file $T/bad.json" "--sync-file $T/unknown.json" "--sync-file $T/missing.json" \
  "--sync-interval 1s"; do
  rc=0
  # shellcheck disable=SC2086 # the arguments are split on purpose
  timeout 20 "$REGD" --root "$T/never" --listen 127.0.0.1:0 $args >"$T/start.out" 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "regd $args exited $rc, not 2: $(cat "$T/start.out")"
  grep -q 'regd: error: --sync-' "$T/start.out" || fail "regd $args did not say why: $(cat "$T/start.out")"
done
out=$(timeout 20 "$REGD" --root "$T/never" --listen 127.0.0.1:0 --sync-file "$T/unknown.json" 2>&1) || true
[[ $out == *"--sync-file $T/unknown.json: mirrors[0]: unknown key \"colour\""* ]] || fail "the unknown key is not named: $out"
[[ ! -e $T/never ]] || fail "a refused start created the root"

step "a lease held elsewhere: both mirror instances skip, naming its holder"
jq -n --arg s "docker://$UP/team/app" '{mirrors: [{source: $s, target: "mirror/app", tags: ["v*", "stable"]}]}' \
  >"$T/mirrors.json"
mkdir -p "$T/mirror/docker/registry/v2/_gc"
lease=$T/mirror/docker/registry/v2/_gc/lease
echo '{"holder": "other-host:42", "token": "not-yours", "expires": "2099-01-01T00:00:00Z"}' >"$lease"
for name in a b; do
  start_regd "$name" "$T/mirror" --sync-file "$T/mirrors.json" --sync-interval 1s --upstream-tls-verify=false
done
A=127.0.0.1:${PORT[a]}
B=127.0.0.1:${PORT[b]}
for i in $(seq 101); do
  ((i <= 100)) || fail "no instance logged \"sync skipped\" in 10 s"
  skips=$(sync_lines | jq -s '[.[] | select(.msg == "sync skipped" and (.error | contains("other-host:42")))] |
    group_by(.instance) | length')
  ((skips == 2)) && break
  sleep 0.1
done
[[ -z $(sync_lines | jq -c 'select(.msg == "sync started")') ]] || fail "a sync ran while the lease was held"
[[ $(digest_of "$A" mirror/app v1) == "" ]] || fail "mirror/app:v1 arrived while the lease was held"

step "lease released: the image arrives, digest equal, blobs byte-identical"
rm -f "$lease"
wait_digest "$A" mirror/app v1 "$d_v1"
wait_digest "$B" mirror/app stable "$d_v1"
same_stored "$T/img1" "$d_v1"
[[ $(digest_of "$A" mirror/app other) == "" ]] || fail "a tag no rule selects was mirrored"

step "stable moved upstream: the next run moves it in the mirror"
d_v2=$(make_image "$T/img2" v2 2 256)
"${RC[@]}" --root "$T/up" push "oci:$T/img2:v2" team/app:v2 >/dev/null || fail "push v2"
"${RC[@]}" --root "$T/up" push "oci:$T/img2:v2" team/app:stable >/dev/null || fail "move stable"
wait_digest "$A" mirror/app stable "$d_v2"
wait_digest "$B" mirror/app v2 "$d_v2"
[[ $(digest_of "$B" mirror/app v1) == "$d_v1" ]] || fail "v1 changed"
same_stored "$T/img2" "$d_v2"

step "later runs copy nothing (their log stats)"
for i in $(seq 101); do
  ((i <= 100)) || fail "fewer than 3 runs after the last copy in 10 s: $(sync_lines | tail -n 5)"
  after=$(sync_lines | jq -s 'map(select(.msg == "sync done")) |
    (map(.manifests_copied + .blobs_copied > 0) | rindex(true)) as $last | .[($last + 1):]')
  (($(jq length <<<"$after") >= 3)) && break
  sleep 0.1
done
jq -e 'all(.manifests_copied == 0 and .blobs_copied == 0 and .bytes_copied == 0 and .manifests_present > 0)' \
  <<<"$after" >/dev/null || fail "a re-run copied: $after"
sync_lines | jq -se 'map(select(.msg == "sync done")) | map(.blobs_copied) | add == 7' >/dev/null ||
  fail "the mirror did not copy each of the 7 blobs (4 of v1, 3 of v2) exactly once: $(sync_lines | jq -c 'select(.msg == "sync done")')"
sync_lines | jq -se 'any(.msg == "sync failed") | not' >/dev/null || fail "a run failed: $(sync_lines | grep failed)"

step "the runs of the two instances never overlap (the lease), and both ran"
# A run is a "sync started" line and the "sync done" lines after it of the same instance, all
# logged under the lease: in time order, every run must end before the next one starts.
sync_lines | jq -se '
  map(select(.msg == "sync started" or .msg == "sync done")) |
  reduce .[] as $l ({ok: true, cur: null};
    if $l.msg == "sync started" then .cur = $l.instance
    elif $l.instance != .cur then .ok = false
    else . end) | .ok' >/dev/null || fail "runs overlap: $(sync_lines | jq -c '[.time, .instance, .msg]')"
ran=$(sync_lines | jq -s '[.[] | select(.msg == "sync started") | .instance] | unique | length')
((ran == 2)) || echo "note: only one instance ran a sync (the other always found the lease taken or came later)"
metrics=$(curl -s "http://$A/metrics" "http://$B/metrics")
grep -q '^regd_sync_runs_total{outcome="success"} [1-9]' <<<"$metrics" || fail "regd_sync_runs_total not counted"
grep -q '^regd_sync_copied_blobs_total [1-9]' <<<"$metrics" || fail "regd_sync_copied_blobs_total not counted"

step "SIGHUP reads the sync file again; a broken one keeps the running rules"
jq -n --arg s "docker://$UP/team/app" '{mirrors: [{source: $s, target: "mirror/app", tags: ["v*", "stable"]},
  {source: $s, target: "mirror/copy", tags: ["v1"]}]}' >"$T/mirrors.json"
kill -HUP "${PID[a]}" "${PID[b]}"
wait_digest "$B" mirror/copy v1 "$d_v1"
for name in a b; do
  grep -q '"msg":"reloaded","reloaded":"[^"]*sync-file' "$T/$name.log" || fail "$name did not reload sync-file"
done
echo '{"mirrors": "none"}' >"$T/mirrors.json"
lines=$(wc -l <"$T/a.log")
kill -HUP "${PID[a]}"
for i in $(seq 101); do
  ((i <= 100)) || fail "a broken sync file on SIGHUP: no failed reload and run after it in 10 s"
  since=$(tail -n +"$lines" "$T/a.log")
  [[ $since == *'"failed":"config,sync-file"'* ]] &&
    [[ $(jq -Rc 'fromjson? | select(.msg == "sync done" or .msg == "sync skipped")' <<<"$since" | wc -l) -ge 1 ]] &&
    break
  sleep 0.1
done
kill -0 "${PID[a]}" || fail "regd exited on a broken sync file at SIGHUP"
"${RC[@]}" --root "$T/mirror" verify >/dev/null || fail "verify of the mirror not clean"
step "PASS"
