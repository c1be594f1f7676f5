# Shared helpers for the end-to-end scripts: a private temp dir, a regd on an ephemeral port,
# OCI image layouts built by hand (tar, gzip, sha256sum, jq). Source it; needs REGD set.
set -euo pipefail

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/regd-e2e.XXXXXX")
REGD_PIDS=()

e2e_cleanup() {
  local pid
  for pid in "${REGD_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# e2e_root ROOT: the --root for ROOT, a directory under $E2E_TMP: ROOT itself, or with
# E2E_S3_ROOT set (an s3:// root whose bucket exists, with the AWS_* variables exported: the S3
# harness, tests/scale/s3_api_test.sh) a prefix below it named after $E2E_TMP and ROOT.
e2e_root() {
  if [[ -z ${E2E_S3_ROOT:-} ]]; then
    echo "$1"
    return
  fi
  [[ $1 == "$E2E_TMP"/* ]] || fail "e2e_root: $1 is not under $E2E_TMP"
  echo "$E2E_S3_ROOT/$(basename "$E2E_TMP")/${1#"$E2E_TMP"/}"
}

# start_regd ROOT [FLAGS...]: starts regd on 127.0.0.1:<ephemeral>, sets REGD_ADDR (host:port)
# and REGD_PID, waits (bounded) until /healthz answers. ROOT goes through e2e_root.
start_regd() {
  local root log i port=""
  root=$(e2e_root "$1") || exit 1
  shift
  log="$E2E_TMP/regd-$RANDOM.log"
  "$REGD" --root "$root" --listen 127.0.0.1:0 --threads 2 "$@" 2>"$log" &
  REGD_PID=$!
  REGD_PIDS+=("$REGD_PID")
  for i in $(seq 100); do
    port=$(jq -r 'select(.msg == "listening") | .port' "$log" 2>/dev/null | head -n1)
    if [[ -n $port ]] && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      REGD_ADDR="127.0.0.1:$port"
      return 0
    fi
    sleep 0.05
  done
  cat "$log" >&2
  fail "regd did not start"
}

# put_blob LAYOUT FILE: moves FILE into LAYOUT/blobs/sha256, prints "<digest> <size>".
put_blob() {
  local hex size
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  size=$(stat -c %s "$2")
  mv -f "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# make_image LAYOUT ARCH LAYERS: a random image with LAYERS gzip layers of 256 KiB; prints
# "<manifest digest> <size>".
make_image() {
  local out=$1 arch=$2 layers=$3 i work dig size diffid layers_json='[]' diffids='[]' cfg
  work=$(mktemp -d "$E2E_TMP/img.XXXXXX")
  for i in $(seq "$layers"); do
    mkdir -p "$work/l$i/data"
    head -c 262144 /dev/urandom >"$work/l$i/data/file$i"
    tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/l$i" -cf "$work/l$i.tar" data
    diffid="sha256:$(sha256sum "$work/l$i.tar" | cut -d' ' -f1)"
    gzip -1 -n -c "$work/l$i.tar" >"$work/l$i.tar.gz"
    read -r dig size < <(put_blob "$out" "$work/l$i.tar.gz")
    layers_json=$(jq -c --arg d "$dig" --argjson s "$size" \
      '. + [{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<<"$layers_json")
    diffids=$(jq -c --arg d "$diffid" '. + [$d]' <<<"$diffids")
  done
  jq -cn --arg arch "$arch" --argjson ids "$diffids" \
    '{architecture:$arch, os:"linux", config:{Cmd:["/bin/true"]}, rootfs:{type:"layers", diff_ids:$ids}}' \
    >"$work/config.json"
  cfg=$(put_blob "$out" "$work/config.json")
  jq -cn --arg cd "${cfg% *}" --argjson cs "${cfg#* }" --argjson layers "$layers_json" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs}, layers:$layers}' \
    >"$work/manifest.json"
  put_blob "$out" "$work/manifest.json"
  rm -rf "$work"
}

# make_layout LAYOUT TAG LAYERS [multi]: an OCI layout whose TAG is one image, or with "multi"
# an index over an amd64 and an arm64 image. Prints the tagged digest.
make_layout() {
  local out=$1 tag=$2 layers=$3 multi=${4:-} top top_size top_type entries='[]' arch dig size
  mkdir -p "$out/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
  [[ -f $out/index.json ]] || echo '{"schemaVersion":2,"manifests":[]}' >"$out/index.json"
  if [[ -z $multi ]]; then
    read -r top top_size < <(make_image "$out" amd64 "$layers")
    top_type=application/vnd.oci.image.manifest.v1+json
  else
    for arch in amd64 arm64; do
      read -r dig size < <(make_image "$out" "$arch" "$layers")
      entries=$(jq -c --arg d "$dig" --argjson s "$size" --arg a "$arch" \
        '. + [{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$d, size:$s,
               platform:{architecture:$a, os:"linux"}}]' <<<"$entries")
    done
    jq -cn --argjson m "$entries" '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:$m}' \
      >"$E2E_TMP/index-blob.json"
    read -r top top_size < <(put_blob "$out" "$E2E_TMP/index-blob.json")
    top_type=application/vnd.oci.image.index.v1+json
  fi
  jq -c --arg t "$tag" --arg d "$top" --argjson s "$top_size" --arg mt "$top_type" \
    '.manifests += [{mediaType:$mt, digest:$d, size:$s, annotations:{"org.opencontainers.image.ref.name":$t}}]' \
    "$out/index.json" >"$E2E_TMP/index.json"
  mv -f "$E2E_TMP/index.json" "$out/index.json"
  echo "$top"
}

# same_blobs A B: every blob of layout A exists byte-identical in layout B.
same_blobs() {
  local f
  for f in "$1"/blobs/sha256/*; do
    cmp -s "$f" "$2/blobs/sha256/$(basename "$f")" || fail "blob $(basename "$f") differs or is missing in $2"
  done
}
