# bench/lib.sh — what bench/get_vs_nginx.sh, push_interference.sh, rss.sh and syscalls.sh
# share: a temp directory removed on exit with every server started, free loopback ports, a regd
# started and waited for, and a one-image seed. Source it, then call bench_init NAME.

# bench_init NAME: $work (a temp dir, kept with KEEP=1), $pids (killed on exit).
bench_init() {
  bench_name=$1
  work=$(mktemp -d "/tmp/regd-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_up URL: until URL/v2/ answers 200 (10 s at most).
wait_up() {
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1/v2/") == 200 ]] && return 0
    sleep 0.1
  done
  echo "$bench_name: $1 did not come up" >&2
  return 1
}
# start_regd PORT ARGS...: $REGD on 127.0.0.1:PORT over $work/store with ARGS, logging to
# $work/regd.log; sets regd_pid and returns once it answers.
start_regd() {
  local port=$1
  shift
  "$REGD" --root "$work/store" --listen "127.0.0.1:$port" "$@" >"$work/regd.log" 2>&1 &
  regd_pid=$!
  pids+=("$regd_pid")
  wait_up "http://127.0.0.1:$port"
}
# seed_image PORT: pushes app:v1 (a config and a random 1 MiB layer) to the regd on PORT; writes
# the manifest to $work/manifest and sets mhex (its sha256, hex) and ldig (the layer's digest).
seed_image() {
  python3 - "$1" "$work" <<'PY'
import hashlib, http.client, json, os, sys
port, work = int(sys.argv[1]), sys.argv[2]
def push(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", body=data,
              headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
    return d
config = b'{"architecture":"amd64","os":"linux"}'
layer = os.urandom(1024 * 1024)
cd, ld = push("app", config), push("app", layer)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}]}).encode()
open(f"{work}/manifest", "wb").write(manifest)
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("PUT", "/v2/app/manifests/v1", body=manifest,
          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
r = c.getresponse(); r.read()
assert r.status == 201, r.status
open(f"{work}/ids", "w").write(f"{hashlib.sha256(manifest).hexdigest()} {ld}\n")
PY
  read -r mhex ldig <"$work/ids"
}
