#!/usr/bin/env bash
# podman push and pull against regd, as root, with vfs storage in a private --root/--runroot.
# Exits 77 (CTest skip) when podman cannot run here, saying why.
# Usage: podman.sh PATH_TO_REGD
REGD=$1
source "$(dirname "$0")/lib.sh"

command -v podman >/dev/null || { echo "SKIP: podman is not installed"; exit 77; }
command -v skopeo >/dev/null || { echo "SKIP: skopeo is not installed (used to seed the registry)"; exit 77; }
[[ $(id -u) == 0 ]] || { echo "SKIP: podman tests run as root only (private --root)"; exit 77; }

PM=(podman --root "$E2E_TMP/storage" --runroot "$E2E_TMP/run" --storage-driver vfs --events-backend file
  --cgroup-manager cgroupfs)
if ! "${PM[@]}" info >"$E2E_TMP/podman-info.log" 2>&1; then
  echo "SKIP: podman cannot run here: $(tail -n 3 "$E2E_TMP/podman-info.log")"
  exit 77
fi

start_regd "$E2E_TMP/root"
digest=$(make_layout "$E2E_TMP/app" v1 2)
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$E2E_TMP/app:v1" "docker://$REGD_ADDR/e2e/app:v1"

echo "podman pull"
"${PM[@]}" pull -q --tls-verify=false "$REGD_ADDR/e2e/app:v1" >/dev/null
[[ $("${PM[@]}" image inspect --format '{{.Digest}}' "$REGD_ADDR/e2e/app:v1") == "$digest" ]] || fail "pulled digest"

echo "podman push"
"${PM[@]}" tag "$REGD_ADDR/e2e/app:v1" "$REGD_ADDR/e2e/pushed:v2"
"${PM[@]}" push -q --tls-verify=false "$REGD_ADDR/e2e/pushed:v2"
curl -fsS "http://$REGD_ADDR/v2/e2e/pushed/tags/list" | jq -e '.tags == ["v2"]' >/dev/null || fail "pushed tag missing"
pushed=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REGD_ADDR/v2/e2e/pushed/manifests/v2")
[[ $pushed == sha256:* ]] || fail "no digest for the pushed manifest"

echo "podman pull of what podman pushed, into fresh storage"
PM2=(podman --root "$E2E_TMP/storage2" --runroot "$E2E_TMP/run2" --storage-driver vfs --events-backend file
  --cgroup-manager cgroupfs)
"${PM2[@]}" pull -q --tls-verify=false "$REGD_ADDR/e2e/pushed:v2" >/dev/null
[[ $("${PM2[@]}" image inspect --format '{{.Digest}}' "$REGD_ADDR/e2e/pushed:v2") == "$pushed" ]] ||
  fail "re-pulled digest"
"${PM2[@]}" rmi -a -f >/dev/null 2>&1 || true
"${PM[@]}" rmi -a -f >/dev/null 2>&1 || true
echo "PASS"
