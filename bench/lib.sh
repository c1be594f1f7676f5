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
# wait_up URL: until URL/v2/ answers (200, or 401 with auth on; 10 s at most).
wait_up() {
  for _ in $(seq 1 100); do
    case $(curl -s -o /dev/null -w '%{http_code}' "$1/v2/") in 200 | 401) return 0 ;; esac
    sleep 0.1
  done
  echo "${bench_name:-bench}: $1 did not come up" >&2
  return 1
}
# start_regd PORT ARGS...: $REGD on 127.0.0.1:PORT over $work/store with ARGS, logging to
# $work/regd.log (appended: several instances may share the root); sets regd_pid and returns
# once it answers.
start_regd() {
  local port=$1
  shift
  "$REGD" --root "$work/store" --listen "127.0.0.1:$port" "$@" >>"$work/regd.log" 2>&1 &
  regd_pid=$!
  pids+=("$regd_pid")
  wait_up "http://127.0.0.1:$port"
}
# start_distribution ROOT PORT [auth]: Debian's docker-registry (registry:2) over ROOT, without
# access log or upload purging; with "auth", htpasswd Basic from $work/htpasswd. Returns at once.
start_distribution() {
  local root=$1 port=$2 auth=${3:-} cfg=$work/distribution-$2.yml
  cat >"$cfg" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $root
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
# make_image DIR LAYERS MIB — an OCI layout with random gzip layers, tag "latest".
make_image() {
  local dir=$1 layers=$2 mib=$3 i hex size ldesc="" cfg
  mkdir -p "$dir/blobs/sha256" "$work/tmp"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  for i in $(seq 1 "$layers"); do
    head -c $((mib * 1048576)) /dev/urandom >"$work/tmp/layer$i.bin"
    tar -C "$work/tmp" -cf - "layer$i.bin" | gzip -1 >"$work/tmp/l.tgz"
    hex=$(sha256sum "$work/tmp/l.tgz" | cut -d' ' -f1)
    size=$(stat -c %s "$work/tmp/l.tgz")
    mv "$work/tmp/l.tgz" "$dir/blobs/sha256/$hex"
    ldesc+="${ldesc:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
  done
  rm -f "$work"/tmp/layer*.bin
  cfg='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
  printf '%s' "$cfg" >"$work/tmp/cfg"
  hex=$(sha256sum "$work/tmp/cfg" | cut -d' ' -f1)
  mv "$work/tmp/cfg" "$dir/blobs/sha256/$hex"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$hex" "${#cfg}" "$ldesc" >"$work/tmp/m"
  hex=$(sha256sum "$work/tmp/m" | cut -d' ' -f1)
  size=$(stat -c %s "$work/tmp/m")
  mv "$work/tmp/m" "$dir/blobs/sha256/$hex"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
    "$hex" "$size" >"$dir/index.json"
}

# median: of the numbers on stdin, one per line (n/a for none).
median() { sort -g | awk '{v[NR]=$1} END{ if (NR == 0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
