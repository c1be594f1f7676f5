#!/usr/bin/env bash
# bench/s3.sh — regd on an S3 root against registry:2 (Debian's docker-registry) with its S3
# driver on the same object store, and against regd on local disk, in the same run: skopeo push
# and pull of a small image one at a time, a monolithic upload of a large blob, manifest GETs by
# tag and 1 MiB blob GETs (wrk), and a large blob's GET through regd and by --s3-redirect.
# The object store is Ceph's radosgw over one memstore OSD on loopback (tests/scale/ceph_up.sh),
# brought up and torn down here, in a private network namespace.
#
# Usage: bench/s3.sh [REGD]     (about 3 minutes; needs root and Ceph's packages)
# Env:   RUNS=3  DURATION=5 (seconds per wrk run)  CONNS=32  SMALL_MIB=1 (per layer, 3 layers)
#        BIG_MIB=256 (the monolithic upload and the large GET)  KEEP=1
# Everything listens on 127.0.0.1 only; every loop is bounded by count or time.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
REGD=${1:-${REGD:-build-release/daemon/regd}}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
SMALL_MIB=${SMALL_MIB:-1}
BIG_MIB=${BIG_MIB:-256}
[[ -x $REGD ]] || { echo "s3: no regd at $REGD (bench/run builds one in build-release/)" >&2; exit 1; }
for tool in skopeo wrk curl docker-registry python3 openssl; do
  command -v "$tool" >/dev/null || { echo "s3: $tool missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
source tests/scale/s3_env.sh
s3_preflight
scale_enter_netns "$self" "$@"
label="S3 on Ceph's radosgw (loopback, one memstore OSD) against local disk"

. bench/lib.sh
bench_init s3
trap 's3_stop; bench_cleanup' EXIT
echo "s3: bringing up Ceph with radosgw" >&2
s3_start "$work/ceph" bench >/dev/null || exit 1

mkdir -p "$work/store"
start_instance() {  # NAME ROOT [FLAGS...]: regd on a free port; sets url[NAME]
  local name=$1 root=$2 port
  shift 2
  port=$(free_port)
  "$REGD" --root "$root" --listen "127.0.0.1:$port" --log-format json --access-log false --threads 2 "$@" \
    >>"$work/$name.log" 2>&1 &
  pids+=($!)
  url[$name]=http://127.0.0.1:$port
  wait_up "${url[$name]}"
}
declare -A url
start_instance s3 "s3://bench/regd"
start_instance local "$work/store"
start_instance redirect "s3://bench/regd" --s3-redirect
dport=$(free_port)
cat >"$work/dist.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  s3:
    region: $AWS_REGION
    regionendpoint: $AWS_ENDPOINT_URL
    bucket: bench
    rootdirectory: /dist
    accesskey: $AWS_ACCESS_KEY_ID
    secretkey: $AWS_SECRET_ACCESS_KEY
    secure: false
    v4auth: true
  redirect:
    disable: true
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$dport
health:
  storagedriver:
    enabled: false
YML
docker-registry serve "$work/dist.yml" >>"$work/distribution.log" 2>&1 &
pids+=($!)
url[registry2]=http://127.0.0.1:$dport
wait_up "${url[registry2]}"

echo "s3: test images" >&2
for run in $(seq 1 "$RUNS"); do make_image "$work/img-$run" 3 "$SMALL_MIB"; done
head -c $((BIG_MIB << 20)) /dev/urandom >"$work/big"
big_digest=sha256:$(sha256sum "$work/big" | cut -d' ' -f1)

secs() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }
declare -A res
for s in registry2 s3 local; do
  host=${url[$s]#http://}
  echo "s3: $s: skopeo push and pull, one at a time" >&2
  for run in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    skopeo copy -q --dest-tls-verify=false "oci:$work/img-$run:latest" "docker://$host/push/img$run:latest"
    echo "$(secs "$t0")" >>"$work/$s.push"
    t0=$(date +%s%N)
    skopeo copy -q --src-tls-verify=false "docker://$host/push/img$run:latest" "oci:$work/$s-pull$run:latest"
    echo "$(secs "$t0")" >>"$work/$s.pull"
  done
  res[$s.push]=$(median <"$work/$s.push")
  res[$s.pull]=$(median <"$work/$s.pull")

  echo "s3: $s: monolithic upload of $BIG_MIB MiB" >&2
  for run in $(seq 1 "$RUNS"); do
    location=$(curl -sSf -X POST -D - -o /dev/null "${url[$s]}/v2/big/r$run/blobs/uploads/" |
      tr -d '\r' | awk -F': ' 'tolower($1) == "location" {print $2}')
    [[ $location == http* ]] || location=${url[$s]}$location
    sep='?'
    [[ $location == *\?* ]] && sep='&'
    t0=$(date +%s%N)
    code=$(curl -sS -o /dev/null -w '%{http_code}' -T "$work/big" -H 'Content-Type: application/octet-stream' \
      "$location${sep}digest=$big_digest")
    [[ $code == 201 ]] || { echo "s3: $s: upload answered $code" >&2; exit 1; }
    awk -v t="$(secs "$t0")" -v m="$BIG_MIB" 'BEGIN{printf "%.1f\n", m / t}' >>"$work/$s.upload"
  done
  res[$s.upload]=$(median <"$work/$s.upload")

  echo "s3: $s: manifest and 1 MiB blob GETs" >&2
  layer=$(jq -r '.layers[0].digest' "$work/img-1/blobs/sha256/$(jq -r '.manifests[0].digest' "$work/img-1/index.json" | cut -d: -f2)")
  for _ in $(seq 1 "$RUNS"); do
    wrk -t2 -c"$CONNS" -d"${DURATION}s" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "${url[$s]}/v2/push/img1/manifests/latest" | awk '/^Requests\/sec/ {print $2}' >>"$work/$s.get"
    wrk -t2 -c"$CONNS" -d"${DURATION}s" "${url[$s]}/v2/push/img1/blobs/$layer" |
      awk '/^Requests\/sec/ {print $2}' >>"$work/$s.blob"
  done
  res[$s.get]=$(median <"$work/$s.get")
  res[$s.blob]=$(median <"$work/$s.blob")

  echo "s3: $s: GET of the $BIG_MIB MiB blob" >&2
  for _ in $(seq 1 "$RUNS"); do
    curl -sSf -o /dev/null -w '%{speed_download}\n' "${url[$s]}/v2/big/r1/blobs/$big_digest" |
      awk '{printf "%.1f\n", $1 / 1048576}' >>"$work/$s.bigget"
  done
  res[$s.bigget]=$(median <"$work/$s.bigget")
done
# The same bytes by redirect: regd answers 307, curl follows it to the object store.
for _ in $(seq 1 "$RUNS"); do
  curl -sSfL -o "$work/redirected" -w '%{speed_download}\n' "${url[redirect]}/v2/big/r1/blobs/$big_digest" |
    awk '{printf "%.1f\n", $1 / 1048576}' >>"$work/redirect.bigget"
done
[[ sha256:$(sha256sum "$work/redirected" | cut -d' ' -f1) == "$big_digest" ]] ||
  { echo "s3: the redirected GET's bytes do not match" >&2; exit 1; }
res[redirect.bigget]=$(median <"$work/redirect.bigget")

ratio() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN{ if (a == 0 || b == 0) print "n/a"; else printf "%.2f", (d == "hi" ? a / b : b / a) }'; }
row() {  # TITLE KEY hi|lo
  echo "| $1 | ${res[s3.$2]} | ${res[registry2.$2]} | ${res[local.$2]} | $(ratio "${res[s3.$2]}" "${res[registry2.$2]}" "$3") | $(ratio "${res[s3.$2]}" "${res[local.$2]}" "$3") |"
}
echo
echo "$label, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "regd: $("$REGD" --version 2>/dev/null | head -1); registry:2: $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
echo
echo "| row | regd, S3 | registry:2, S3 | regd, local disk | regd S3 vs registry:2 S3 | regd S3 vs regd local |"
echo "|---|---:|---:|---:|---:|---:|"
row "skopeo push 3×$SMALL_MIB MiB, one at a time (s, median of $RUNS)" push lo
row "skopeo pull 3×$SMALL_MIB MiB (s)" pull lo
row "monolithic upload of $BIG_MIB MiB (MiB/s)" upload hi
row "GET manifest by tag, wrk -c$CONNS (req/s)" get hi
row "GET 1 MiB blob, wrk -c$CONNS (req/s)" blob hi
row "GET $BIG_MIB MiB blob, one curl (MiB/s)" bigget hi
echo "| GET $BIG_MIB MiB blob with --s3-redirect (307, then from radosgw; MiB/s) | ${res[redirect.bigget]} | | | | $(ratio "${res[redirect.bigget]}" "${res[local.bigget]}" hi) |"
