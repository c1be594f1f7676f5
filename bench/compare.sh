#!/usr/bin/env bash
# bench/compare.sh — regd and registry:2 (Debian's docker-registry) side by side, same machine,
# same run, same client tools; prints one table with the ratio regd / registry:2, then the cost
# of authentication: manifest GETs with Basic and Bearer credentials against anonymous ones.
#
# Usage: bench/compare.sh            (about 4 minutes)
# Env:   DURATION=5 (seconds per wrk/ab run)  CONNS=32  PUSH_RUNS=3  AUTH_RUNS=3  KEEP=1 (keep
#        temp dir)
#        REGD=path/to/regd (default: a Release build in build-release/, built if missing)
# Everything listens on 127.0.0.1 only; every load loop is bounded by count or time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
PUSH_RUNS=${PUSH_RUNS:-3}
AUTH_RUNS=${AUTH_RUNS:-3}

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
wait_up() {  # URL: /v2/ answers (200, or 401 when auth is on)
  for _ in $(seq 1 100); do
    case $(curl -s -o /dev/null -w '%{http_code}' "$1/v2/") in 200 | 401) return 0 ;; esac
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2; return 1
}

start_regd() {  # PORT [FLAGS...]: the second one with auth flags, over the same storage
  local port=$1
  shift
  "$REGD" --root "$work/regd-store" --listen "127.0.0.1:$port" --log-format json "$@" \
    >>"$work/regd.log" 2>&1 &
  pids+=($!)
}
start_distribution() {  # PORT [auth]: with "auth", htpasswd Basic over the same storage
  local port=$1 auth=${2:-} cfg=$work/distribution${2:+-auth}.yml
  cat >"$cfg" <<YML
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
  if [ -n "$auth" ]; then
    printf 'auth:\n  htpasswd:\n    realm: bench\n    path: %s\n' "$work/htpasswd" >>"$cfg"
  fi
  docker-registry serve "$cfg" >>"$work/distribution.log" 2>&1 &
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

# A run with any non-2xx/3xx answer or timeout measured the wrong thing: it prints "failed", not a
# rate. The 30 s timeout (wrk's default is 2 s) lets a server that takes seconds per request (a
# bcrypt check on every request, 32 at once) be measured rather than dropped.
wrk_rps() {
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s "$@" |
    awk '/Non-2xx or 3xx/{bad=1} /Socket errors/ && /timeout [1-9]/{bad=1} /Requests\/sec/{r=$2} END{print bad ? "failed" : r}'
}
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

# Authenticated manifest GETs. One user in an htpasswd file with a realistic bcrypt cost (10:
# tens of milliseconds per check), so that a server that does not remember verified credentials
# shows it. regd: a second instance over the same storage with --htpasswd and --token-key; rows
# for Basic, a Bearer token from its /v2/token, and anonymous GETs against the instance without
# auth. Each row gives req/s and the server's CPU time per request (utime + stime of the regd
# process over the run, divided by the requests wrk completed): on a shared machine the second
# barely moves with other jobs' load while the first does. The rows run in turns, AUTH_RUNS
# times, in a rotating order, and the medians are compared. registry:2 gets a Basic row in the
# main table (its token auth needs a separate token service, which Debian does not ship).
BENCH_USER=bench BENCH_PASSWORD=bench-secret
basic_header() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$BENCH_USER" "$BENCH_PASSWORD" | base64 -w0)"; }
bench_basic_row() {  # NAME URL: the Basic row of the main table (wrk against a server with auth)
  record "GET manifest by tag, Basic auth (req/s)" "$1" \
    "$(wrk_rps -H 'Accept: application/vnd.oci.image.manifest.v1+json' -H "$(basic_header)" \
      "$2/v2/push/small1/manifests/latest")"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# wrk_cost PID ARGS...: "<req/s> <µs of PID's CPU per request>" for one wrk run ("failed failed"
# when any answer was not 2xx/3xx or timed out).
wrk_cost() {
  local pid=$1 t0 t1 out
  shift
  t0=$(cpu_ticks "$pid")
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s "$@")
  t1=$(cpu_ticks "$pid")
  awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '/Non-2xx or 3xx/{bad=1} /Socket errors/ && /timeout [1-9]/{bad=1}
    /requests in/{n=$1} /Requests\/sec/{r=$2}
    END{ if (bad || n == 0) print "failed failed"; else printf "%s %.1f\n", r, t / hz / n * 1e6 }' <<<"$out"
}
bench_auth() {  # ANON_URL ANON_PID AUTH_URL AUTH_PID
  local anon=$1 anon_pid=$2 auth=$3 auth_pid=$4 accept='Accept: application/vnd.oci.image.manifest.v1+json'
  local path=/v2/push/small1/manifests/latest token run rows=(anon basic bearer) i row
  token=$(curl -sSf -u "$BENCH_USER:$BENCH_PASSWORD" \
    "$auth/v2/token?service=regd&scope=repository:push/small1:pull" | jq -er '.token // .access_token')
  # The request each row times must succeed: 200 with credentials, 401 without.
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$accept" -H "$(basic_header)" "$auth$path")" = 200 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$accept" -H "Authorization: Bearer $token" "$auth$path")" = 200 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$accept" "$auth$path")" = 401 ]
  echo "bench: authenticated manifest GETs, $AUTH_RUNS rounds" >&2
  for run in $(seq 1 "$AUTH_RUNS"); do
    # Each round starts with another row, so that none always runs first (or last).
    for i in 0 1 2; do
      row=${rows[$(((run + i) % 3))]}
      case $row in
        anon) wrk_cost "$anon_pid" -H "$accept" "$anon$path" ;;
        basic) wrk_cost "$auth_pid" -H "$accept" -H "$(basic_header)" "$auth$path" ;;
        bearer) wrk_cost "$auth_pid" -H "$accept" -H "Authorization: Bearer $token" "$auth$path" ;;
      esac >>"$work/auth.$row"
    done
  done
}
print_auth() {
  local row rps cpu name
  declare -A rps cpu name=([anon]="anonymous (auth off)" [basic]="Basic (htpasswd, bcrypt cost 10)"
    [bearer]="Bearer (regd's token, ES256)")
  for row in anon basic bearer; do
    rps[$row]=$(cut -d' ' -f1 "$work/auth.$row" | median)
    cpu[$row]=$(cut -d' ' -f2 "$work/auth.$row" | median)
  done
  printf '\n| regd, GET manifest by tag (medians of %s rounds) | req/s | server CPU per request (µs) | req/s vs anonymous (want ≥ 0.85) | CPU per request vs anonymous (want ≤ 1.2) |\n|---|---:|---:|---:|---:|\n' "$AUTH_RUNS"
  for row in anon basic bearer; do
    printf '| %s | %s | %s | %s | %s |\n' "${name[$row]}" "${rps[$row]}" "${cpu[$row]}" \
      "$(awk -v a="${rps[anon]}" -v b="${rps[$row]}" 'BEGIN{printf "%.2f", b/a}')" \
      "$(awk -v a="${cpu[anon]}" -v b="${cpu[$row]}" 'BEGIN{printf "%.2f", b/a}')"
  done
  echo "(each round: $DURATION s of wrk per row, $CONNS connections, the rows back to back in a rotating"
  echo "order; every round's req/s and µs/request:"
  for row in anon basic bearer; do
    echo "  ${name[$row]}: $(awk '{printf "%s%s req/s %s µs", (NR > 1 ? "; " : ""), $1, $2}' "$work/auth.$row")"
  done
  echo ")"
}

htpasswd -B -C 10 -b -c "$work/htpasswd" "$BENCH_USER" "$BENCH_PASSWORD" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/token.pem" 2>/dev/null

make_image "$work/img-small" 3 10
make_image "$work/img-big" 1 256
head -c 1048576 /dev/urandom >"$work/blob1"
head -c $((64 * 1048576)) /dev/urandom >"$work/blob64"

p_dist=$(free_port); start_distribution "$p_dist"; wait_up "http://127.0.0.1:$p_dist"
p_regd=$(free_port); start_regd "$p_regd"; wait_up "http://127.0.0.1:$p_regd"; pid_regd=${pids[-1]}
bench_one registry2 "http://127.0.0.1:$p_dist"
bench_one regd "http://127.0.0.1:$p_regd"
p_dist_auth=$(free_port); start_distribution "$p_dist_auth" auth; wait_up "http://127.0.0.1:$p_dist_auth"
p_regd_auth=$(free_port)
start_regd "$p_regd_auth" --htpasswd "$work/htpasswd" --token-key "$work/token.pem" --token-ttl 1h
pid_regd_auth=${pids[-1]}
wait_up "http://127.0.0.1:$p_regd_auth"
bench_basic_row registry2 "http://127.0.0.1:$p_dist_auth"
bench_basic_row regd "http://127.0.0.1:$p_regd_auth"
bench_auth "http://127.0.0.1:$p_regd" "$pid_regd" "http://127.0.0.1:$p_regd_auth" "$pid_regd_auth"

printf '\n| measurement | registry:2 | regd | regd / registry:2 |\n|---|---:|---:|---:|\n'
for key in "${!result[@]}"; do echo "${key%%|*}"; done | sort -u | while read -r metric; do
  a=${result["$metric|registry2"]:-nan}; b=${result["$metric|regd"]:-nan}
  printf '| %s | %s | %s | %s |\n' "$metric" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{ if (a+0>0) printf "%.2f", b/a; else print "n/a" }')"
done
print_auth
echo
echo "machine: $(nproc) cores, $(uname -r); regd: $REGD; registry:2: $(docker-registry --version | awk '{print $3}')"
