# Helpers for the regctl end-to-end scripts: sourced, never run. Builds test images by hand
# (tar, gzip, sha256sum, jq): no network, no container runtime.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_rc WANT CMD... runs CMD and fails unless it exits with WANT.
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
  [[ $rc == "$want" ]] || { cat "$WORK/.out" "$WORK/.err" >&2; fail "'$*' exited $rc, want $want"; }
}

# A private work dir removed on exit; the caller sets REGCTL_ROOT inside it.
setup_work() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/regctl-e2e.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  export REGCTL_ROOT=$WORK/root
}

# put_blob LAYOUT FILE -> moves FILE into LAYOUT's blobs, prints "sha256:<hex> <size>"
put_blob() {
  local hex size
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  size=$(stat -c %s "$2")
  mkdir -p "$1/blobs/sha256"
  mv -f "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

init_layout() {
  mkdir -p "$1/blobs/sha256"
  [[ -f $1/oci-layout ]] || echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
  [[ -f $1/index.json ]] || echo '{"schemaVersion":2,"manifests":[]}' >"$1/index.json"
}

# add_ref LAYOUT NAME DIGEST SIZE MEDIATYPE: (re)names an index.json entry.
add_ref() {
  jq -c --arg t "$2" --arg d "$3" --argjson s "$4" --arg mt "$5" '
    .manifests = ([.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)]
                  + [{mediaType:$mt, digest:$d, size:$s, annotations:{"org.opencontainers.image.ref.name":$t}}])' \
    "$1/index.json" >"$1/index.json.new"
  mv "$1/index.json.new" "$1/index.json"
}

# make_image LAYOUT ARCH LAYERS -> prints "<manifest digest> <size>"; layers of 64 KiB random data.
make_image() {
  local out=$1 arch=$2 n=$3 i tmp dig size diffid layers='[]' ids='[]' cfg
  tmp=$(mktemp -d "$out/.tmp.XXXXXX")
  for i in $(seq "$n"); do
    mkdir -p "$tmp/l$i/data"
    head -c 65536 /dev/urandom >"$tmp/l$i/data/file$i.bin"
    tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$tmp/l$i" -cf "$tmp/l$i.tar" data
    diffid="sha256:$(sha256sum "$tmp/l$i.tar" | cut -d' ' -f1)"
    gzip -1 -n -c "$tmp/l$i.tar" >"$tmp/l$i.tar.gz"
    read -r dig size < <(put_blob "$out" "$tmp/l$i.tar.gz")
    layers=$(jq -c --arg d "$dig" --argjson s "$size" \
      '. + [{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<<"$layers")
    ids=$(jq -c --arg d "$diffid" '. + [$d]' <<<"$ids")
  done
  jq -cn --arg arch "$arch" --argjson ids "$ids" '{created:"1970-01-01T00:00:00Z", architecture:$arch,
    os:"linux", config:{Cmd:["/bin/true"]}, rootfs:{type:"layers", diff_ids:$ids}}' >"$tmp/config.json"
  cfg=$(put_blob "$out" "$tmp/config.json")
  jq -cn --arg cd "${cfg% *}" --argjson cs "${cfg#* }" --argjson layers "$layers" '{schemaVersion:2,
    mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs}, layers:$layers}' \
    >"$tmp/manifest.json"
  put_blob "$out" "$tmp/manifest.json"
  rm -rf "$tmp"
}

# make_layout LAYOUT TAG [multi]: an image (or a two-arch index) named TAG; prints its digest.
make_layout() {
  local out=$1 tag=$2 dig size entries='[]' arch
  init_layout "$out"
  if [[ ${3:-} != multi ]]; then
    read -r dig size < <(make_image "$out" amd64 2)
    add_ref "$out" "$tag" "$dig" "$size" application/vnd.oci.image.manifest.v1+json
  else
    for arch in amd64 arm64; do
      read -r dig size < <(make_image "$out" "$arch" 1)
      entries=$(jq -c --arg d "$dig" --argjson s "$size" --arg a "$arch" '. + [{mediaType:
        "application/vnd.oci.image.manifest.v1+json", digest:$d, size:$s, platform:{architecture:$a, os:"linux"}}]' \
        <<<"$entries")
    done
    jq -cn --argjson m "$entries" '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json",
      manifests:$m}' >"$out/idx.json"
    read -r dig size < <(put_blob "$out" "$out/idx.json")
    add_ref "$out" "$tag" "$dig" "$size" application/vnd.oci.image.index.v1+json
  fi
  echo "$dig"
}

# make_artifact LAYOUT NAME SUBJECT_DIGEST SUBJECT_SIZE: an artifact manifest whose subject is
# the given image; prints its digest.
make_artifact() {
  local out=$1 dig size blob
  echo "signature of $3" >"$out/sig.txt"
  blob=$(put_blob "$out" "$out/sig.txt")
  echo -n '{}' >"$out/empty.json"
  put_blob "$out" "$out/empty.json" >/dev/null
  jq -cn --arg bd "${blob% *}" --argjson bs "${blob#* }" --arg sd "$3" --argjson ss "$4" '{schemaVersion:2,
    mediaType:"application/vnd.oci.image.manifest.v1+json", artifactType:"application/vnd.example.sig",
    config:{mediaType:"application/vnd.oci.empty.v1+json",
      digest:"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size:2},
    layers:[{mediaType:"text/plain", digest:$bd, size:$bs}],
    subject:{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$sd, size:$ss}}' >"$out/art.json"
  read -r dig size < <(put_blob "$out" "$out/art.json")
  add_ref "$out" "$2" "$dig" "$size" application/vnd.oci.image.manifest.v1+json
  echo "$dig"
}

# same_blobs A B: every blob file of layout A exists byte-identical in layout B.
same_blobs() {
  local f
  for f in "$1"/blobs/sha256/*; do
    cmp -s "$f" "$2/blobs/sha256/$(basename "$f")" || fail "blob $(basename "$f") differs or is missing in $2"
  done
}
