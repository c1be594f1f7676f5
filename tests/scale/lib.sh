# Helpers for the scale-out scripts: sourced, never run. A private temp dir, regd instances on
# ephemeral 127.0.0.1 ports (each with its own log, which is its access log), nginx and HAProxy
# started in the foreground from the files in docs/examples, hand-built OCI layouts.
# The caller sets REGD (and REGCTL if it has one) before sourcing.
set -euo pipefail

SCALE_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXAMPLES=$(cd "$SCALE_SRC/../../docs/examples" && pwd)
# SCALE_FS=cephfs (CTest's *.cephfs variants): the roots under $SCALE_TMP live on one CephFS,
# each instance on its own ceph-fuse mount (root_of). The script then runs in its own network
# namespace (the Ceph monitor's port is fixed), which `source lib.sh` re-executes it into.
# SCALE_FS=s3 (CTest's *.s3 variants): the same Ceph with radosgw instead of mounts; every root
# under $SCALE_TMP is a prefix of one bucket (root_of), shared by every instance and regctl.
SCALE_FS=${SCALE_FS:-local}
case $SCALE_FS in
  local) ;;
  cephfs)
    source "$SCALE_SRC/cephfs_env.sh"
    cephfs_preflight
    scale_enter_netns "$0" "$@"
    ;;
  s3)
    source "$SCALE_SRC/s3_env.sh"
    s3_preflight
    scale_enter_netns "$0" "$@"
    ;;
  *)
    echo "SCALE_FS must be local, cephfs or s3, not '$SCALE_FS'" >&2
    exit 2
    ;;
esac
SCALE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/regd-scale.XXXXXX")
chmod 755 "$SCALE_TMP" # nginx workers run as an unprivileged user
SCALE_PIDS=()          # every background process we started
SCALE_CLEANUP=()       # extra commands run at exit, before the processes are killed
declare -A PORT PID    # per instance name

scale_cleanup() {
  local rc=$? cmd pid alive
  for cmd in "${SCALE_CLEANUP[@]}"; do
    eval "$cmd" || true
  done
  # SIGTERM first: an nginx master killed with SIGKILL would leave its workers running.
  for pid in "${SCALE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  local i
  for i in $(seq 50); do
    alive=0
    for pid in "${SCALE_PIDS[@]}"; do
      # exited children stay zombies (state Z) until waited for
      [[ -r /proc/$pid/stat && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] && alive=1
    done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${SCALE_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # The mounts and the cluster last: every process holding files on them is gone.
  [[ $SCALE_FS == cephfs ]] && cephfs_stop
  [[ $SCALE_FS == s3 ]] && s3_stop
  if [[ $rc != 0 && $rc != 77 ]]; then
    echo "--- logs of the failed run (tails) ---" >&2
    local f
    for f in "$SCALE_TMP"/*.log; do
      [[ -f $f ]] && { echo "== $f" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  if [[ -n ${SCALE_KEEP:-} ]]; then
    echo "kept $SCALE_TMP"
  elif grep -q " $SCALE_TMP/" /proc/mounts; then
    echo "WARNING: mounts left under $SCALE_TMP, not removing it" >&2
  else
    rm -rf "$SCALE_TMP"
  fi
  exit "$rc"
}
trap scale_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIP: $*"
  exit 77
}
SCALE_T0=$(date +%s.%N)
step() { echo "== [$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $SCALE_T0 }")s] $*"; }

# root_of NAME ROOT: the storage root instance (or tool) NAME uses for ROOT, a directory under
# $SCALE_TMP: ROOT itself, with SCALE_FS=cephfs the same path on NAME's own ceph-fuse mount
# (mounted on first use), with SCALE_FS=s3 s3://<bucket>/<ROOT relative to $SCALE_TMP> (the
# same for every NAME).
root_of() {
  local name=$1 root=$2 m
  if [[ $SCALE_FS == local ]]; then
    echo "$root"
    return
  fi
  [[ $root == "$SCALE_TMP"/* ]] || fail "root_of: $root is not under $SCALE_TMP"
  if [[ $SCALE_FS == s3 ]]; then
    s3_root "${root#"$SCALE_TMP"/}"
    return
  fi
  m=$SCALE_TMP/fs/$name
  mountpoint -q "$m" || cephfs_mount "$m" || fail "ceph-fuse mount for $name"
  mkdir -p "$m/${root#"$SCALE_TMP"/}"
  echo "$m/${root#"$SCALE_TMP"/}"
}
if [[ $SCALE_FS == cephfs ]]; then
  step "CephFS: one monitor, manager, OSD and MDS on loopback; a ceph-fuse mount per instance"
  cephfs_start "$SCALE_TMP/ceph" || fail "CephFS did not come up"
fi
if [[ $SCALE_FS == s3 ]]; then
  step "S3: one monitor, manager, OSD and radosgw on loopback; one bucket for every root"
  s3_start "$SCALE_TMP/ceph" regd || fail "Ceph with radosgw did not come up"
fi

need_cmds() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || skip "$c is not installed"
  done
}

# Every curl is bounded in time (a later --max-time overrides this one).
curl() { command curl --max-time 60 "$@"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_status URL WANT [TRIES]: polls (every 0.1 s) until URL answers with status WANT.
wait_status() {
  local i code
  for i in $(seq "${3:-100}"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true)
    [[ $code == "$2" ]] && return 0
    sleep 0.1
  done
  fail "$1 did not answer $2 (last: $code)"
}

# start_regd NAME ROOT [FLAGS...]: regd on 127.0.0.1:<ephemeral>; sets PORT[NAME], PID[NAME].
# Its stderr (JSON lines, one per request) goes to $SCALE_TMP/NAME.log.
start_regd() {
  local name=$1 root
  root=$(root_of "$1" "$2") || exit 1
  shift 2
  start_regd_args "$name" --root "$root" --listen 127.0.0.1:0 --threads 2 "$@"
}

# start_regd_args NAME ARGS...: as start_regd, with exactly ARGS (which must listen on
# 127.0.0.1:0).
start_regd_args() {
  local name=$1 log i port=""
  shift
  log=$SCALE_TMP/$name.log
  "$REGD" "$@" 2>>"$log" &
  PID[$name]=$!
  SCALE_PIDS+=("$!")
  for i in $(seq 100); do
    port=$(jq -Rr 'fromjson? | select(.msg == "listening") | .port' "$log" 2>/dev/null | tail -n1)
    if [[ -n $port ]] && curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      PORT[$name]=$port
      return 0
    fi
    sleep 0.05
  done
  fail "regd $name did not start"
}

# requests NAME [FROM_LINE]: the access-log records of instance NAME as compact JSON lines,
# optionally only those logged at or after line FROM_LINE of its log. regd buffers access lines
# and writes them every 200 ms (docs/regd.md, "Logs"): it waits that long first.
requests() {
  sleep 0.3
  tail -n +"${2:-1}" "$SCALE_TMP/$1.log" | jq -Rc 'fromjson? | select(.msg == "request")'
}
# Waits out the access log buffer (200 ms, docs/regd.md "Logs") first, as requests() does.
log_lines() {
  sleep 0.3
  wc -l <"$SCALE_TMP/$1.log"
}

# start_nginx CONF: runs nginx in the foreground from CONF (already templated).
start_nginx() {
  mkdir -p "$SCALE_TMP/nginx"
  nginx -e "$SCALE_TMP/nginx/error.log" -p "$SCALE_TMP/nginx" -c "$1" -g 'daemon off;' \
    >>"$SCALE_TMP/nginx.log" 2>&1 &
  SCALE_PIDS+=("$!")
}

# start_haproxy CONF: runs HAProxy in the foreground (-db) from CONF, logging to haproxy.log.
start_haproxy() {
  haproxy -db -f "$1" -p "$SCALE_TMP/haproxy.pid" >>"$SCALE_TMP/haproxy.log" 2>&1 &
  PID[haproxy]=$!
  SCALE_PIDS+=("$!")
}

# haproxy_stat STATS_PORT BACKEND SERVER FIELD: one column of HAProxy's stats CSV (5: current
# sessions, 18: status).
haproxy_stat() {
  curl -fsS --max-time 2 "http://127.0.0.1:$1/stats;csv" 2>/dev/null |
    awk -F, -v b="$2" -v s="$3" -v f="$4" '$1 == b && $2 == s { print $f }'
}
# haproxy_state STATS_PORT BACKEND SERVER: UP, DOWN, MAINT, ...
haproxy_state() {
  haproxy_stat "$@" 18 | cut -d' ' -f1
}

# make_images LAYOUT N KIB SHARED SHARED_KIB TAG...: random images (tests/scale/mkimage.py), each
# of SHARED layers common to all of them plus N layers of its own; prints "<tag> <digest>" lines.
make_images() {
  local out=$1 n=$2 kib=$3 shared=$4 shared_kib=$5
  shift 5
  python3 "$SCALE_SRC/mkimage.py" "$out" --layers "$n" --kib "$kib" --shared "$shared" \
    --shared-kib "$shared_kib" --tags "$@"
}

# make_image LAYOUT TAG N KIB: one image of N random layers tagged TAG; prints its digest.
make_image() {
  make_images "$1" "$3" "$4" 0 0 "$2" | cut -d' ' -f2
}

SKOPEO=(skopeo --insecure-policy)
SKOPEO_TLS=(--src-tls-verify=false --dest-tls-verify=false)

# push LAYOUT TAG HOSTPORT REPO: skopeo copy of one tagged image to the registry.
push() {
  timeout 120 "${SKOPEO[@]}" copy -q "${SKOPEO_TLS[@]}" "oci:$1:$2" "docker://$3/$4:$2"
}

# check_pull HOSTPORT REPO TAG SRC_LAYOUT DIGEST: pulls REPO:TAG into a fresh layout and checks
# that the manifest digest is DIGEST and that every pulled blob is byte-identical to SRC's.
check_pull() {
  local dir f n=0
  dir=$(mktemp -d "$SCALE_TMP/pull.XXXXXX")
  timeout 120 "${SKOPEO[@]}" copy -q "${SKOPEO_TLS[@]}" "docker://$1/$2:$3" "oci:$dir:$3" ||
    fail "pull of $2:$3 via $1"
  [[ $(jq -r '.manifests[0].digest' "$dir/index.json") == "$5" ]] || fail "pulled $2:$3 has another digest"
  for f in "$dir"/blobs/sha256/*; do
    cmp -s "$f" "$4/blobs/sha256/$(basename "$f")" || fail "blob $(basename "$f") of $2:$3 differs"
    n=$((n + 1))
  done
  [[ $n -ge 3 ]] || fail "pull of $2:$3 has only $n blobs"
  rm -rf "$dir"
}

# blob_sha HOSTPORT REPO DIGEST: GETs the blob and prints "<http status> sha256:<hex of body>".
blob_sha() {
  local body code
  body=$(mktemp "$SCALE_TMP/blob.XXXXXX")
  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 30 "http://$1/v2/$2/blobs/$3" || true)
  echo "$code sha256:$(sha256sum "$body" | cut -d' ' -f1)"
  rm -f "$body"
}

# upload_chunked REPO FILE CHUNKS HOSTPORT... : POST to the first address, one PATCH per chunk
# round robin over the addresses, PUT to the one after; fails unless the blob is created.
# Prints the upload UUID.
upload_chunked() {
  local repo=$1 file=$2 chunks=$3 size chunk off=0 i=0 loc code digest uuid hdr
  shift 3
  local addrs=("$@")
  size=$(stat -c %s "$file")
  chunk=$(((size + chunks - 1) / chunks))
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  hdr=$(mktemp "$SCALE_TMP/hdr.XXXXXX")
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' --max-time 30 -X POST \
    "http://${addrs[0]}/v2/$repo/blobs/uploads/")
  [[ $code == 202 ]] || fail "POST upload via ${addrs[0]}: $code"
  loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
  uuid=${loc##*/}
  uuid=${uuid%%\?*}
  while ((off < size)); do
    i=$((i + 1))
    local end=$((off + chunk < size ? off + chunk : size))
    code=$(tail -c +"$((off + 1))" "$file" | head -c "$((end - off))" |
      curl -s -o /dev/null -D "$hdr" -w '%{http_code}' --max-time 30 -X PATCH \
        -H 'Content-Type: application/octet-stream' -H "Content-Range: $off-$((end - 1))" \
        --data-binary @- "http://${addrs[$((i % ${#addrs[@]}))]}$loc")
    [[ $code == 202 ]] || fail "PATCH $off-$((end - 1)) via ${addrs[$((i % ${#addrs[@]}))]}: $code"
    loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
    off=$end
  done
  i=$((i + 1))
  if [[ $loc == *\?* ]]; then loc="$loc&digest=$digest"; else loc="$loc?digest=$digest"; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X PUT \
    "http://${addrs[$((i % ${#addrs[@]}))]}$loc")
  [[ $code == 201 ]] || fail "PUT (commit) via ${addrs[$((i % ${#addrs[@]}))]}: $code"
  rm -f "$hdr"
  echo "$uuid"
}

# put_monolithic HOSTPORT REPO FILE RATE: POST, then PUT with the whole body sent at RATE
# (curl --limit-rate) so that uploads overlap; prints the PUT's status (or "POST:<status>").
put_monolithic() {
  local hdr loc digest code
  hdr=$(mktemp "$SCALE_TMP/hdr.XXXXXX")
  digest="sha256:$(sha256sum "$3" | cut -d' ' -f1)"
  code=$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' --max-time 30 -X POST "http://$1/v2/$2/blobs/uploads/" ||
    true)
  if [[ $code != 202 ]]; then
    echo "POST:$code"
    return
  fi
  loc=$(awk 'tolower($1) == "location:" { print $2 }' "$hdr" | tr -d '\r')
  if [[ $loc == *\?* ]]; then loc="$loc&digest=$digest"; else loc="$loc?digest=$digest"; fi
  curl -s -o /dev/null -w '%{http_code}' --max-time 60 --limit-rate "$4" -X PUT \
    -H 'Content-Type: application/octet-stream' --data-binary @"$3" "http://$1$loc" || true
  rm -f "$hdr"
}

# instances_with UUID NAME...: prints the instances whose access log mentions UUID.
instances_with() {
  local uuid=$1 name
  shift
  for name in "$@"; do
    if requests "$name" | jq -c --arg u "$uuid" 'select(.path | contains($u))' | grep . >/dev/null; then
      echo "$name"
    fi
  done
}

# render_example FILE OUT SED_EXPR...: copies docs/examples/FILE to OUT applying the sed
# expressions (ports and paths only), and fails if an example address was left unreplaced.
render_example() {
  local name=$1 out=$2 args=() e
  shift 2
  for e in "$@"; do args+=(-e "$e"); done
  sed "${args[@]}" "$EXAMPLES/$name" >"$out"
  if grep -vE '^[[:space:]]*#' "$out" | grep -E '10\.0\.0\.[0-9]+'; then
    fail "an example address in $name was not rewritten"
  fi
}
