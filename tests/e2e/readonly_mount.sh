#!/usr/bin/env bash
# regd over a read-only mount (issue 11): a writable instance refuses to start there (exit 1,
# reason on stderr); a --read-only instance serves blobs whose links are older than
# --link-refresh and is ready; a mount that turns read-only under a running writable instance
# fails writes with 403 DENIED and a body without server paths, and /readyz turns 503.
# Needs bind mounts (root); exit 77 (skipped) where they are not permitted.
REGD=$1
source "$(dirname "$0")/lib.sh"

src=$E2E_TMP/src
ro=$E2E_TMP/ro
late=$E2E_TMP/late
mkdir -p "$src" "$ro" "$late"
if ! mount --bind "$src" "$ro" 2>/dev/null; then
  echo "SKIP: bind mounts are not permitted here"
  exit 77
fi
trap 'umount "$late" 2>/dev/null || true; umount "$ro" 2>/dev/null || true; e2e_cleanup' EXIT
mount -o remount,bind,ro "$ro" || fail "cannot remount read-only"

# A blob pushed through a writable instance, its link then aged past the refresh interval.
start_regd "$src"
head -c 5000 /dev/urandom >"$E2E_TMP/blob"
digest="sha256:$(sha256sum "$E2E_TMP/blob" | cut -d' ' -f1)"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @"$E2E_TMP/blob" \
  -H 'Content-Type: application/octet-stream' "http://$REGD_ADDR/v2/lib/app/blobs/uploads/?digest=$digest")
[[ $code == 201 ]] || fail "push: $code"
link="$src/docker/registry/v2/repositories/lib/app/_layers/sha256/${digest#sha256:}/link"
[[ -f $link ]] || fail "no link at $link"
touch -d '2 hours ago' "$link"
old_mtime=$(stat -c %Y "$link")

# 1. A writable instance on the read-only mount refuses to start.
status=0
"$REGD" --root "$ro" --listen 127.0.0.1:0 2>"$E2E_TMP/refused.log" || status=$?
[[ $status == 1 ]] || fail "writable regd on a read-only root exited $status"
grep -q 'storage not writable' "$E2E_TMP/refused.log" || fail "no reason on stderr: $(cat "$E2E_TMP/refused.log")"

# 4. A read-only instance serves the old link and is ready.
start_regd "$ro" --read-only --link-refresh 1m
body=$(curl -sS -o "$E2E_TMP/got" -w '%{http_code}' "http://$REGD_ADDR/v2/lib/app/blobs/$digest")
[[ $body == 200 ]] || fail "GET blob on the read-only mount: $body $(cat "$E2E_TMP/got")"
cmp -s "$E2E_TMP/got" "$E2E_TMP/blob" || fail "GET blob returned other bytes"
code=$(curl -sS -o /dev/null -w '%{http_code}' -I "http://$REGD_ADDR/v2/lib/app/blobs/$digest")
[[ $code == 200 ]] || fail "HEAD blob on the read-only mount: $code"
code=$(curl -sS -o "$E2E_TMP/ready" -w '%{http_code}' "http://$REGD_ADDR/readyz")
[[ $code == 200 ]] || fail "/readyz of a read-only instance: $code $(cat "$E2E_TMP/ready")"
[[ $(stat -c %Y "$link") == "$old_mtime" ]] || fail "the read-only mount changed"

# 7. A mount that turns read-only under a writable instance: 403 DENIED, no path in the body.
mount --bind "$src" "$late"
start_regd "$late"
mount -o remount,bind,ro "$late"
code=$(curl -sS -o "$E2E_TMP/denied" -w '%{http_code}' -X POST "http://$REGD_ADDR/v2/lib/other/blobs/uploads/")
[[ $code == 403 ]] || fail "upload on a mount turned read-only: $code $(cat "$E2E_TMP/denied")"
[[ $(jq -r '.errors[0].code' "$E2E_TMP/denied") == DENIED ]] || fail "code: $(cat "$E2E_TMP/denied")"
if grep -q "$E2E_TMP" "$E2E_TMP/denied"; then
  fail "the error body names a server path: $(cat "$E2E_TMP/denied")"
fi
jq -r '.errors[0].message' "$E2E_TMP/denied" | grep -q '^storage error (request id ' ||
  fail "message: $(cat "$E2E_TMP/denied")"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$REGD_ADDR/readyz")
[[ $code == 503 ]] || fail "/readyz on a mount turned read-only: $code"
echo "PASS"
