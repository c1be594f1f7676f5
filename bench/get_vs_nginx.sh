#!/usr/bin/env bash
# bench/get_vs_nginx.sh — manifest and blob GETs of regd against nginx serving the same files
# from the same disk, in the same run (wrk -t2 -c32 --latency): req/s, p99 and the ratio.
# Usage: bench/get_vs_nginx.sh [REGD]     Env: DURATION=5  CONNS=32  REGD_FLAGS=  KEEP=1
# Everything listens on 127.0.0.1 only; every run is bounded by time.
set -euo pipefail
cd "$(dirname "$0")/.."
REGD=${1:-${REGD:-build-rel/daemon/regd}}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
[[ -x $REGD ]] || { echo "get_vs_nginx: no regd at $REGD" >&2; exit 1; }
. bench/lib.sh
bench_init getnginx
chmod 755 "$work"  # nginx workers run as an unprivileged user
port=$(free_port)
# shellcheck disable=SC2086
start_regd "$port" --threads 2 --access-log false ${REGD_FLAGS:-}
seed_image "$port"
blobs=$work/store/docker/registry/v2/blobs/sha256
nport=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$nport;
    location = /manifest { alias $blobs/${mhex:0:2}/$mhex/data; default_type application/json; }
    location = /blob { alias $blobs/${ldig:7:2}/${ldig#sha256:}/data; default_type application/octet-stream; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5
check() {  # URL: must answer 200 with the expected size
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$1")
  [[ $got == "200 $2" ]] || { echo "get_vs_nginx: $1 answered $got, expected 200 $2" >&2; exit 1; }
}
check "http://127.0.0.1:$nport/manifest" "$(stat -c %s "$blobs/${mhex:0:2}/$mhex/data")"
check "http://127.0.0.1:$nport/blob" 1048576
check "http://127.0.0.1:$port/v2/app/blobs/$ldig" 1048576

run() {  # NAME URL [wrk args]: prints req/s and p99
  local name=$1 url=$2
  shift 2
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url" >"$work/out.txt"
  local r p
  r=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$work/out.txt")
  p=$(awk '$1=="99%" { v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) }
                       else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.2f", v }' "$work/out.txt")
  printf '%-28s %10s %10s\n' "$name" "$r" "$p"
  echo "$r $p" >"$work/last"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
regd=http://127.0.0.1:$port
printf '%-28s %10s %10s\n' "" "req/s" "p99 ms"
run "nginx manifest" "http://127.0.0.1:$nport/manifest"; read -r ng ngp <"$work/last"
run "regd manifest GET tag" "$regd/v2/app/manifests/v1"; read -r t tp <"$work/last"
run "regd manifest GET digest" "$regd/v2/app/manifests/sha256:$mhex"; read -r d dp <"$work/last"
run "nginx 1 MiB" "http://127.0.0.1:$nport/blob"; read -r nb nbp <"$work/last"
run "regd blob GET 1 MiB" "$regd/v2/app/blobs/$ldig"; read -r b bp <"$work/last"
echo "ratios to nginx (req/s): GET tag $(ratio "$t" "$ng"), GET digest $(ratio "$d" "$ng"), 1 MiB blob $(ratio "$b" "$nb")"
echo "p99 ratios to nginx: GET tag $(ratio "$tp" "$ngp"), GET digest $(ratio "$dp" "$ngp"), 1 MiB blob $(ratio "$bp" "$nbp")"
