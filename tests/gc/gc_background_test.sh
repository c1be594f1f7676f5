#!/bin/bash
# regd --gc-interval: two instances collect in the background (the lease lets one at a time):
# an orphaned blob disappears once older than the grace window, a tagged image stays whole.
# Usage: gc_background_test.sh REGCTL REGD
source "$(dirname "$0")/lib.sh"
REGCTL=$1 REGD=$2
setup_work
root=$WORK/root
ports=()
for i in 1 2; do
  ports+=("$(free_port)")
  "$REGD" --root "$root" --listen "127.0.0.1:${ports[-1]}" --gc-interval 1s --gc-grace 2s --link-refresh 1s \
    >"$WORK/regd$i.log" 2>&1 &
  PIDS+=($!)
done
for p in "${ports[@]}"; do wait_up "http://127.0.0.1:$p"; done
url=http://127.0.0.1:${ports[0]}

head -c 262144 /dev/urandom >"$WORK/shared.bin"
img=$(make_image "$WORK/img" v1 "$WORK/shared.bin")
push "$WORK/img:v1" "127.0.0.1:${ports[1]}/bg/app:v1" || fail "push"
head -c 65536 /dev/urandom >"$WORK/orphan"
dig="sha256:$(sha256sum "$WORK/orphan" | cut -d' ' -f1)"
loc=$(curl -sS -X POST -D - -o /dev/null "$url/v2/bg/app/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$WORK/orphan" "$url$loc?digest=$dig")
[[ $code == 201 ]] || fail "orphan upload answered $code"

# Watch the file, not the API: a blob HEAD refreshes the link (as a client about to skip an
# upload relies on) and would keep the orphan young.
data=$root/docker/registry/v2/blobs/sha256/${dig:7:2}/${dig#sha256:}/data
[[ -f $data ]] || fail "orphan not stored"
gone=0
for _ in $(seq 1 150); do
  [[ -e $data ]] || { gone=1; break; }
  sleep 0.1
done
((gone)) || fail "orphaned blob still stored after 15 s of background GC"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url/v2/bg/app/blobs/$dig")
[[ $code == 404 ]] || fail "collected blob answers $code"
grep -q '"gc done"' "$WORK"/regd*.log || fail "no instance logged a finished GC"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:${ports[0]}/bg/app:v1" "oci:$WORK/back:v1" || fail "tagged image lost"
cmp -s "$WORK/back/blobs/sha256/${img#sha256:}" "$WORK/img/blobs/sha256/${img#sha256:}" || fail "manifest changed"
"$REGCTL" --root "$root" verify >/dev/null || fail "verify not clean"
pass "background GC removed the orphan, kept the tagged image"
