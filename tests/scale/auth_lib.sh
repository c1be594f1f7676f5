# Helpers for the authentication scripts (docs/security.md): sourced after lib.sh, never run.
# htpasswd files (bcrypt, `htpasswd -B` from apache2-utils), signing keys made with openssl,
# tokens from a token endpoint, claims of a JWT, podman with private vfs storage, the storage
# tree's contents.
# shellcheck shell=bash

# isolate_credentials: skopeo and podman read credentials only from files this test writes (not
# from ~/.docker, $XDG_RUNTIME_DIR/containers or a REGISTRY_AUTH_FILE of the caller). The empty
# default auth file must exist: podman refuses a REGISTRY_AUTH_FILE that does not.
isolate_credentials() {
  export HOME=$SCALE_TMP/home XDG_RUNTIME_DIR=$SCALE_TMP/xdg REGISTRY_AUTH_FILE=$SCALE_TMP/no-credentials.json
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  echo '{"auths": {}}' >"$REGISTRY_AUTH_FILE"
}

# make_htpasswd FILE USER:PASSWORD...: a fresh htpasswd file with bcrypt hashes.
make_htpasswd() {
  local file=$1 pair create=-c
  shift
  for pair in "$@"; do
    htpasswd -B -b $create "$file" "${pair%%:*}" "${pair#*:}" 2>/dev/null || fail "htpasswd -B for ${pair%%:*}"
    create=""
  done
  grep -q '^[^:]*:[$]2y[$]' "$file" || fail "htpasswd made no bcrypt hash"
}

# make_key FILE ec|rsa: a PEM private key (EC P-256 for ES256, RSA 2048 for RS256).
make_key() {
  case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
  esac || fail "openssl could not make a $2 key"
  chmod 600 "$1"
}

# public_key KEY: the PEM public key of KEY on stdout.
public_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }

# self_signed_cert KEY CN: a PEM certificate for KEY on stdout (certificates are accepted in
# --token-trust as well as bare public keys).
self_signed_cert() {
  openssl req -new -x509 -key "$1" -subj "/CN=$2" -days 2 2>/dev/null
}

# status [CURL ARGS...]: the HTTP status of one request (000 when there was no answer).
status() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# challenge URL [CURL ARGS...]: the WWW-Authenticate header of the answer to a GET of URL.
challenge() {
  local url=$1
  shift
  curl -s -o /dev/null -D - "$@" "$url" | tr -d '\r' |
    awk 'tolower($1) == "www-authenticate:" { sub(/^[^:]*: */, ""); print }'
}

# token URL USER:PASSWORD|"" SCOPE...: a token from regd's (or any) token endpoint at URL for the
# given scopes; anonymous when the credentials are "". Fails unless the answer has a token.
token() {
  local url=$1 creds=$2 q="service=${TOKEN_SERVICE:-regd}" s body
  shift 2
  for s in "$@"; do q+="&scope=$(jq -rn --arg s "$s" '$s | @uri')"; done
  body=$(curl -s ${creds:+-u "$creds"} "$url?$q") || fail "token request to $url"
  jq -er '.token // .access_token' <<<"$body" 2>/dev/null || fail "no token from $url: $body"
}

# claims TOKEN: the JWT's payload as JSON.
claims() {
  local p
  p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
  while ((${#p} % 4)); do p+="="; done
  base64 -d <<<"$p" 2>/dev/null | jq -c . || fail "token payload is no JSON"
}

# repo_exists ROOT REPO: the repository directory exists in the storage tree.
repo_exists() { [[ -d $1/docker/registry/v2/repositories/$2 ]]; }
# blob_count ROOT: blobs in the storage tree.
blob_count() {
  find "$1/docker/registry/v2/blobs" -name data -type f 2>/dev/null | wc -l
}

# jwt_python: a python3 that has PyJWT and cryptography (Debian's python3-jwt and
# python3-cryptography live in /usr/bin/python3's path, which a pyenv python3 does not see).
jwt_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import jwt, cryptography' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

# podman_setup NAME: sets the array PM_<NAME> to a podman with private vfs storage under the temp
# dir; returns 1, with the reason in PODMAN_WHY, when podman cannot run here (not root, not
# installed, no usable storage).
podman_setup() {
  local name=$1 dir=$SCALE_TMP/podman-$1
  PODMAN_WHY=""
  if [[ $(id -u) != 0 ]]; then
    PODMAN_WHY="podman runs as root only here (private --root)"
    return 1
  fi
  if ! command -v podman >/dev/null; then
    PODMAN_WHY="podman is not installed"
    return 1
  fi
  mkdir -p "$dir"
  declare -g -a "PM_$name=(podman --root $dir/storage --runroot $dir/run --storage-driver vfs
    --events-backend file --cgroup-manager cgroupfs)"
  local -n pm="PM_$name"
  if ! "${pm[@]}" info >"$dir/info.log" 2>&1; then
    PODMAN_WHY="podman cannot run here: $(tail -n 3 "$dir/info.log")"
    return 1
  fi
}

# expect_fail PATTERN LOG CMD...: CMD must fail, and its stderr (kept in LOG) must match PATTERN
# (an extended regex, case-insensitive).
expect_fail() {
  local pattern=$1 log=$2
  shift 2
  if timeout 120 "$@" >"$log" 2>&1; then
    fail "succeeded but should not have: $*"
  fi
  grep -qiE "$pattern" "$log" || {
    cat "$log" >&2
    fail "failed without /$pattern/: $*"
  }
}

# test_ca DIR CN: a CA named CN (DIR/ca.pem) and a certificate for 127.0.0.1 it signed
# (DIR/srv.pem, DIR/srv.key); DIR/certs/ca.crt is the CA for skopeo's --cert-dir.
test_ca() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -subj "/CN=$2" -days 2 2>/dev/null || fail "openssl: CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/srv.key" -out "$dir/srv.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null || fail "openssl: request"
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/srv.ext"
  openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial 0x1001 -days 2 \
    -extfile "$dir/srv.ext" -out "$dir/srv.pem" 2>/dev/null || fail "openssl: sign"
  mkdir -p "$dir/certs"
  cp "$dir/ca.pem" "$dir/certs/ca.crt"
}

# start_registry2 DIR HTPASSWD REALM: Debian's docker-registry (registry:2) on a free port, with
# the TLS certificate of test_ca DIR, htpasswd authentication and deletes, storing under
# DIR/dist-root and logging to DIR/dist.log. Returns once it answers; sets DPORT.
start_registry2() {
  local dir=$1 i
  DPORT=$(free_port)
  cat >"$dir/dist.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/dist-root
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DPORT
  tls:
    certificate: $dir/srv.pem
    key: $dir/srv.key
auth:
  htpasswd:
    realm: $3
    path: $2
YML
  # REGISTRY_* variables override its configuration: REGISTRY_AUTH_FILE would be read as auth.file.
  env -u REGISTRY_AUTH_FILE docker-registry serve "$dir/dist.yml" >"$dir/dist.log" 2>&1 &
  SCALE_PIDS+=("$!")
  for i in $(seq 101); do
    ((i <= 100)) || fail "docker-registry did not start: $(tail -5 "$dir/dist.log")"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" "https://127.0.0.1:$DPORT/v2/") == 401 ]] &&
      return 0
    sleep 0.1
  done
}
