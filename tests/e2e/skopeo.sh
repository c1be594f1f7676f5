#!/usr/bin/env bash
# skopeo against regd: push and pull a multi-layer image and a multi-arch index, inspect,
# list-tags, delete. Blobs and digests must come back byte-identical.
# Usage: skopeo.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/lib.sh"
command -v skopeo >/dev/null || { echo "SKIP: skopeo not installed"; exit 77; }

start_regd "$E2E_TMP/root"
SK=(skopeo --insecure-policy)
TLS=(--src-tls-verify=false --dest-tls-verify=false)
R="docker://$REGD_ADDR"

app_v1=$(make_layout "$E2E_TMP/app" v1 3)
app_v2=$(make_layout "$E2E_TMP/app" v2 2)
multi=$(make_layout "$E2E_TMP/multi" latest 2 multi)

echo "push: image with 3 layers, a second tag, and a multi-arch index"
"${SK[@]}" copy -q "${TLS[@]}" "oci:$E2E_TMP/app:v1" "$R/e2e/app:v1"
"${SK[@]}" copy -q "${TLS[@]}" "oci:$E2E_TMP/app:v2" "$R/e2e/app:v2"
"${SK[@]}" copy -q "${TLS[@]}" --all "oci:$E2E_TMP/multi:latest" "$R/e2e/multi:latest"

echo "inspect: digests and raw manifests are the pushed ones"
[[ $("${SK[@]}" inspect --tls-verify=false "$R/e2e/app:v1" | jq -r .Digest) == "$app_v1" ]] || fail "inspect digest v1"
"${SK[@]}" inspect --tls-verify=false --raw "$R/e2e/app:v1" >"$E2E_TMP/raw.json"
cmp -s "$E2E_TMP/raw.json" "$E2E_TMP/app/blobs/sha256/${app_v1#sha256:}" || fail "raw manifest differs"
"${SK[@]}" inspect --tls-verify=false --raw "$R/e2e/multi:latest" >"$E2E_TMP/raw-index.json"
cmp -s "$E2E_TMP/raw-index.json" "$E2E_TMP/multi/blobs/sha256/${multi#sha256:}" || fail "raw index differs"
[[ $("${SK[@]}" inspect --tls-verify=false --override-arch arm64 "$R/e2e/multi:latest" | jq -r .Architecture) == arm64 ]] ||
  fail "inspect of the arm64 image in the index"

echo "list-tags"
[[ $("${SK[@]}" list-tags --tls-verify=false "$R/e2e/app" | jq -c .Tags) == '["v1","v2"]' ]] || fail "list-tags"

echo "pull: blobs byte-identical"
"${SK[@]}" copy -q "${TLS[@]}" "$R/e2e/app:v1" "oci:$E2E_TMP/pulled:v1"
"${SK[@]}" copy -q "${TLS[@]}" "$R/e2e/app:v2" "oci:$E2E_TMP/pulled:v2"
same_blobs "$E2E_TMP/app" "$E2E_TMP/pulled"
"${SK[@]}" copy -q "${TLS[@]}" --all "$R/e2e/multi:latest" "oci:$E2E_TMP/pulled-multi:latest"
same_blobs "$E2E_TMP/multi" "$E2E_TMP/pulled-multi"
[[ $(jq -r '.manifests[0].digest' "$E2E_TMP/pulled-multi/index.json") == "$multi" ]] || fail "pulled index digest"

echo "copy between repositories (cross-repository mount)"
"${SK[@]}" copy -q "${TLS[@]}" "$R/e2e/app:v1" "$R/e2e/copy:v1"
[[ $("${SK[@]}" inspect --tls-verify=false "$R/e2e/copy:v1" | jq -r .Digest) == "$app_v1" ]] || fail "copied digest"

echo "delete"
"${SK[@]}" delete --tls-verify=false "$R/e2e/app:v2"
if "${SK[@]}" inspect --tls-verify=false "$R/e2e/app:v2" >/dev/null 2>&1; then fail "v2 still there"; fi
[[ $("${SK[@]}" list-tags --tls-verify=false "$R/e2e/app" | jq -c .Tags) == '["v1"]' ]] || fail "tags after delete"
"${SK[@]}" inspect --tls-verify=false "$R/e2e/app:v1" >/dev/null || fail "v1 lost"
echo "PASS"
