#!/bin/bash
# docker-archive input: a `docker save` tar made by hand (config JSON, layer tars, manifest.json)
# becomes a Docker schema2 image; uncompressed layers are gzipped (deterministically), gzip
# layers kept as they are.
# Usage: docker_archive_test.sh REGCTL
source "$(dirname "$0")/lib.sh"
REGCTL=$1
setup_work
cd "$WORK"

mkdir -p a/l1/etc a/l2/data x
echo hello >a/l1/etc/hello
head -c 50000 /dev/urandom >a/l2/data/blob
tar --sort=name --mtime=@0 --owner=0 --group=0 -C a/l1 -cf x/layer1.tar etc
tar --sort=name --mtime=@0 --owner=0 --group=0 -C a/l2 -cf layer2.tar data
gzip -n -c layer2.tar >x/layer2.tar.gz
d1=sha256:$(sha256sum x/layer1.tar | cut -d' ' -f1)
d2=sha256:$(sha256sum layer2.tar | cut -d' ' -f1)
jq -cn --arg d1 "$d1" --arg d2 "$d2" '{architecture:"amd64", os:"linux", config:{},
  rootfs:{type:"layers", diff_ids:[$d1,$d2]}}' >x/cfg.json
jq -cn '[{Config:"cfg.json", RepoTags:["example/app:1.0"], Layers:["layer1.tar","layer2.tar.gz"]},
         {Config:"cfg.json", RepoTags:["example/other:2.0"], Layers:["layer1.tar"]}]' >x/manifest.json
tar -C x -cf saved.tar manifest.json cfg.json layer1.tar layer2.tar.gz

expect_rc 4 "$REGCTL" push docker-archive:saved.tar team/app
"$REGCTL" -q push docker-archive:saved.tar:example/app:1.0 team/app >out.txt
[[ $(cat out.txt) == team/app:1.0@sha256:* ]] || fail "tag from RepoTags: $(cat out.txt)"
"$REGCTL" inspect --raw team/app:1.0 >m.json
[[ $(jq -r .mediaType m.json) == application/vnd.docker.distribution.manifest.v2+json ]] || fail "schema2"
[[ $(jq -r .config.mediaType m.json) == application/vnd.docker.container.image.v1+json ]] || fail "config type"
[[ $(jq -r '.layers[].mediaType' m.json | sort -u) == application/vnd.docker.image.rootfs.diff.tar.gzip ]] ||
  fail "layer types"
[[ $(jq -r .config.digest m.json) == "sha256:$(sha256sum x/cfg.json | cut -d' ' -f1)" ]] || fail "config as is"
[[ $(jq -r '.layers[1].digest' m.json) == "sha256:$(sha256sum x/layer2.tar.gz | cut -d' ' -f1)" ]] ||
  fail "gzip layer must be kept as is"
pass "schema2 conversion"

"$REGCTL" -q pull team/app:1.0 oci:out:1.0 >/dev/null
l1=$(jq -r '.layers[0].digest' m.json)
cmp -s <(gunzip -c "out/blobs/sha256/${l1#sha256:}") x/layer1.tar || fail "gzipped layer does not unpack to the tar"
# (skopeo's oci: transport only reads OCI media types, so no skopeo here)
cmp -s "out/blobs/sha256/$(sha256sum m.json | cut -d' ' -f1)" m.json || fail "manifest in the pulled layout"
pass "layers unpack to the original tars"

# the same input gives the same digests; @N picks by position
"$REGCTL" push --json docker-archive:saved.tar:@0 again/app:x >again.json
[[ $(jq -r '.images[0].digest' again.json) == "sha256:$(sha256sum m.json | cut -d' ' -f1)" ]] ||
  fail "conversion is not deterministic"
"$REGCTL" -q push docker-archive:saved.tar:@1 team/other >/dev/null
[[ $("$REGCTL" tags --json team/other | jq -r '.tags[0]') == 2.0 ]] || fail "@1"
expect_rc 0 "$REGCTL" verify
pass "deterministic, selectable"

# an archive made by skopeo from an OCI layout
make_layout src v1 >/dev/null
skopeo copy -q oci:src:v1 docker-archive:skopeo.tar:example/s:v1 >/dev/null
"$REGCTL" -q push docker-archive:skopeo.tar team/s >/dev/null
[[ $("$REGCTL" tags --json team/s | jq -r '.tags[0]') == v1 ]] || fail "skopeo docker-archive"
expect_rc 2 "$REGCTL" pull team/s:v1 docker-archive:x.tar
pass "skopeo's docker-archive"
