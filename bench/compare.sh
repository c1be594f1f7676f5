#!/usr/bin/env bash
# bench/compare.sh — regd and registry:2 (Debian's docker-registry) side by side, same machine,
# same run, same client tools; prints one table with the ratio regd / registry:2.
#
# Usage: bench/compare.sh            (about 3 minutes)
# Env:   DURATION=5 (seconds per wrk/ab run)  CONNS=32  PUSH_RUNS=3  KEEP=1 (keep temp dir)
#        REGD=path/to/regd (default: a Release build in build-release/, built if missing)
# Everything listens on 127.0.0.1 only; every load loop is bounded by count or time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
PUSH_RUNS=${PUSH_RUNS:-3}

scripts/install-deps.sh --bench
if [ -z "${REGD:-}" ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DREGD_BUILD_TESTS=OFF >/dev/null
  ninja -C build-release regd >/dev/null
  REGD=build-release/daemon/regd
fi

work=$(mktemp -d /tmp/regd-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$1/v2/" && return 0; sleep 0.1; done
  echo "bench: $1 did not come up" >&2; return 1
}

start_regd() {
  local port=$1
  "$REGD" --root "$work/regd-store" --listen "127.0.0.1:$port" --log-format json \
    >"$work/regd.log" 2>&1 &
  pids+=($!)
}
start_distribution() {
  local port=$1
  cat >"$work/distribution.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/dist-store
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
health:
  storagedriver:
    enabled: false
YML
  docker-registry serve "$work/distribution.yml" >"$work/distribution.log" 2>&1 &
  pids+=($!)
}

# make_image DIR LAYERS MIB — an OCI layout with random gzip layers, tag "latest".
make_image() {
  local dir=$1 layers=$2 mib=$3 i hex size ldesc="" cfg
  mkdir -p "$dir/blobs/sha256" "$work/tmp"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  for i in $(seq 1 "$layers"); do
    head -c $((mib * 1048576)) /dev/urandom >"$work/tmp/layer$i.bin"
    tar -C "$work/tmp" -cf - "layer$i.bin" | gzip -1 >"$work/tmp/l.tgz"
    hex=$(sha256sum "$work/tmp/l.tgz" | cut -d' ' -f1); size=$(stat -c %s "$work/tmp/l.tgz")
    mv "$work/tmp/l.tgz" "$dir/blobs/sha256/$hex"
    ldesc+="${ldesc:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
  done
  rm -f "$work"/tmp/layer*.bin
  cfg='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
  printf '%s' "$cfg" >"$work/tmp/cfg"
  hex=$(sha256sum "$work/tmp/cfg" | cut -d' ' -f1); mv "$work/tmp/cfg" "$dir/blobs/sha256/$hex"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$hex" "${#cfg}" "$ldesc" >"$work/tmp/m"
  hex=$(sha256sum "$work/tmp/m" | cut -d' ' -f1); size=$(stat -c %s "$work/tmp/m")
  mv "$work/tmp/m" "$dir/blobs/sha256/$hex"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
    "$hex" "$size" >"$dir/index.json"
}

median() { sort -g | awk '{v[NR]=$1} END{ if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
secs() { local t0=$1; awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }

declare -A result
record() { result["$1|$2"]=$3; }

upload_blob() {  # URL REPO FILE -> digest
  local url=$1 repo=$2 file=$3 dig loc
  dig="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  loc=$(curl -sS -X POST -D - -o /dev/null "$url/v2/$repo/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  [[ $loc == /* ]] && loc="$url$loc"
  if [[ $loc == *\?* ]]; then loc="$loc&digest=$dig"; else loc="$loc?digest=$dig"; fi
  curl -sSf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" -o /dev/null "$loc"
  echo "$dig"
}

wrk_rps() { wrk -t2 -c"$CONNS" -d"${DURATION}s" "$@" | awk '/Requests\/sec/{print $2}'; }
wrk_mibs() {
  wrk -t2 -c"$CONNS" -d"${DURATION}s" "$@" | awk '/Transfer\/sec/{v=$2; u=v; gsub(/[0-9.]/,"",u); x=v+0;
    print (u=="GB")? x*1024 : (u=="MB")? x : (u=="KB")? x/1024 : x/1048576}'
}
ab_rps() { ab -q -k -c"$CONNS" -t"$DURATION" -n 10000000 "$@" 2>/dev/null | awk '/Requests per second/{print $4}'; }

bench_one() {  # NAME URL
  local name=$1 url=$2 host=${2#http://} accept dig1 dig64 t0 times m
  accept='Accept: application/vnd.oci.image.manifest.v1+json'
  echo "bench: $name at $url" >&2
  for run in $(seq 1 "$PUSH_RUNS"); do
    t0=$(date +%s%N)
    skopeo copy -q --dest-tls-verify=false "oci:$work/img-small:latest" "docker://$host/push/small$run:latest"
    echo "$(secs "$t0")" >>"$work/$name.push-small"
    t0=$(date +%s%N)
    skopeo copy -q --src-tls-verify=false "docker://$host/push/small$run:latest" "oci:$work/$name-pull$run:latest"
    echo "$(secs "$t0")" >>"$work/$name.pull-small"
  done
  record "skopeo push 3x10 MiB (s, lower is better)" "$name" "$(median <"$work/$name.push-small")"
  record "skopeo pull 3x10 MiB (s, lower is better)" "$name" "$(median <"$work/$name.pull-small")"
  t0=$(date +%s%N)
  skopeo copy -q --dest-tls-verify=false "oci:$work/img-big:latest" "docker://$host/push/big:latest"
  record "skopeo push 1x256 MiB (s, lower is better)" "$name" "$(secs "$t0")"

  record "GET manifest by tag (req/s)" "$name" "$(wrk_rps -H "$accept" "$url/v2/push/small1/manifests/latest")"
  m=$(curl -sSI -H "$accept" "$url/v2/push/small1/manifests/latest" | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}')
  record "GET manifest by digest (req/s)" "$name" "$(wrk_rps -H "$accept" "$url/v2/push/small1/manifests/$m")"
  record "HEAD manifest by tag, ab (req/s)" "$name" "$(ab_rps -i -H "$accept" "$url/v2/push/small1/manifests/latest")"
  dig1=$(upload_blob "$url" blobs/one "$work/blob1")
  dig64=$(upload_blob "$url" blobs/one "$work/blob64")
  record "GET 1 MiB blob (MiB/s)" "$name" "$(wrk_mibs "$url/v2/blobs/one/blobs/$dig1")"
  record "GET 64 MiB blob (MiB/s)" "$name" "$(wrk_mibs "$url/v2/blobs/one/blobs/$dig64")"
  for i in $(seq 1 200); do
    curl -sSf -o /dev/null -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
      --data-binary "@$work/img-small/blobs/sha256/${m#sha256:}" "$url/v2/push/small1/manifests/tag$i"
  done
  record "GET tags/list, 201 tags (req/s)" "$name" "$(wrk_rps "$url/v2/push/small1/tags/list")"
  record "GET _catalog (req/s)" "$name" "$(wrk_rps "$url/v2/_catalog?n=100")"
  local pid
  pid=$(ss -ltnpH "sport = :${host##*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  record "RSS after the run (MiB, lower is better)" "$name" \
    "$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status")"
  record "peak RSS, VmHWM (MiB, lower is better)" "$name" \
    "$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$pid/status")"
}

make_image "$work/img-small" 3 10
make_image "$work/img-big" 1 256
head -c 1048576 /dev/urandom >"$work/blob1"
head -c $((64 * 1048576)) /dev/urandom >"$work/blob64"

p_dist=$(free_port); start_distribution "$p_dist"; wait_up "http://127.0.0.1:$p_dist"
p_regd=$(free_port); start_regd "$p_regd"; wait_up "http://127.0.0.1:$p_regd"
bench_one registry2 "http://127.0.0.1:$p_dist"
bench_one regd "http://127.0.0.1:$p_regd"

printf '\n| measurement | registry:2 | regd | regd / registry:2 |\n|---|---:|---:|---:|\n'
for key in "${!result[@]}"; do echo "${key%%|*}"; done | sort -u | while read -r metric; do
  a=${result["$metric|registry2"]:-nan}; b=${result["$metric|regd"]:-nan}
  printf '| %s | %s | %s | %s |\n' "$metric" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{ if (a+0>0) printf "%.2f", b/a; else print "n/a" }')"
done
echo
echo "machine: $(nproc) cores, $(uname -r); regd: $REGD; registry:2: $(docker-registry --version | awk '{print $3}')"
