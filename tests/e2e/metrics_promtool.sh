#!/usr/bin/env bash
# The Prometheus examples and regd's own exposition pass Debian's promtool: `check config` on
# docs/examples/prometheus.yml (which loads regd-alerts.yml), `check rules` on
# docs/examples/regd-alerts.yml, and `check metrics` (the text format and Prometheus' naming
# conventions) on a real scrape after a push, a 404, a 401 and a GC run. Exit 77 (skipped)
# without promtool.
REGD=$1
EXAMPLES=$2/docs/examples
source "$(dirname "$0")/lib.sh"

if ! command -v promtool >/dev/null; then
  echo "SKIP: no promtool (Debian package prometheus)"
  exit 77
fi
promtool check config "$EXAMPLES/prometheus.yml" || fail "promtool check config"
promtool check rules "$EXAMPLES/regd-alerts.yml" || fail "promtool check rules"

htpasswd -B -C 4 -b -c "$E2E_TMP/htpasswd" scraper scraper-pw 2>/dev/null || fail "htpasswd"
start_regd "$E2E_TMP/root" --htpasswd "$E2E_TMP/htpasswd" --gc-interval 1s --gc-grace 2s --link-refresh 1s
auth=(-u scraper:scraper-pw)
head -c 3000 /dev/urandom >"$E2E_TMP/blob"
digest="sha256:$(sha256sum "$E2E_TMP/blob" | cut -d' ' -f1)"
code=$(curl -sS "${auth[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary @"$E2E_TMP/blob" \
  -H 'Content-Type: application/octet-stream' "http://$REGD_ADDR/v2/lib/app/blobs/uploads/?digest=$digest")
[[ $code == 201 ]] || fail "push: $code"
code=$(curl -sS "${auth[@]}" -o /dev/null -w '%{http_code}' "http://$REGD_ADDR/v2/lib/app/manifests/missing")
[[ $code == 404 ]] || fail "missing manifest: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$REGD_ADDR/v2/")
[[ $code == 401 ]] || fail "anonymous /v2/: $code"

# Until the background GC has reclaimed the unreferenced blob (bounded: 60 s).
for _ in $(seq 120); do
  curl -fsS "${auth[@]}" "http://$REGD_ADDR/metrics" >"$E2E_TMP/scrape" || fail "scrape"
  grep -qx 'regd_gc_reclaimed_blobs_total 1' "$E2E_TMP/scrape" && break
  sleep 0.5
done
grep -qx 'regd_gc_reclaimed_blobs_total 1' "$E2E_TMP/scrape" || fail "GC reclaimed nothing: $(grep regd_gc "$E2E_TMP/scrape")"
grep -q '^regd_auth_failures_total{reason="unauthenticated"} 1$' "$E2E_TMP/scrape" || fail "no auth failure counted"
promtool check metrics <"$E2E_TMP/scrape" || fail "promtool check metrics: $(cat "$E2E_TMP/scrape")"
echo "PASS: promtool accepts the examples and a scrape of $(grep -vc '^#' "$E2E_TMP/scrape") samples"
