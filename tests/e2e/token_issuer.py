"""A tiny external token service for the tests (the Docker registry token flow, as an external
service such as Harbor's or GitLab's runs it): RS256 or ES256 JWTs with `access` claims, signed
with PyJWT over python3-cryptography (Debian: python3-jwt, python3-cryptography).

  token_issuer.py serve --port-file F --issuer NAME --users FILE --route PATH=KEY [--route ...]
      Serves GET PATH?service=S&scope=repository:NAME:ACTIONS... on 127.0.0.1 (port written to F)
      with the key KEY (PEM private key: RSA -> RS256, EC P-256 -> ES256). Basic credentials are
      checked against FILE ("user:password" lines): a wrong password is 401, a right one gets the
      actions it asked for, no credentials get "pull" only. One log line per request on stderr.
  token_issuer.py mint --key KEY --issuer NAME --audience AUD [--subject S] [--ttl SECONDS]
      [--not-before SECONDS] [--access repository:NAME:ACTIONS ...] [--alg ALG]
      Prints one token (a negative --ttl makes an expired one; --alg none or HS256 forges one
      the way attackers do: no signature, or an HMAC keyed with the public key).
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time
import urllib.parse
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def load_key(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return key, "ES256"
    sys.exit(f"{path}: neither an RSA nor an EC P-256 private key")


def key_id(key):
    """A stable key id: the SHA-256 of the public key's DER, base32 like libtrust's (the id is a
    hint only; a verifier that knows the key needs none)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i:i + 4] for i in range(0, 48, 4))


def parse_scope(scope):
    """repository:NAME:ACTIONS (NAME may hold ':' only before the last one) -> access entry."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(key, alg, claims):
    """The two classic forgeries a verifier must refuse: alg "none" (no signature) and HS256
    keyed with the issuer's public key PEM (algorithm confusion)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": key_id(key)}).encode())
    body = b64url(json.dumps(claims).encode())
    if alg == "none":
        return f"{header}.{body}."
    secret = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(mac)}"


def sign(key, alg, issuer, audience, subject, access, ttl, not_before=0):
    now = int(time.time())
    claims = {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now + not_before,
              "exp": now + ttl, "jti": str(uuid.uuid4()), "access": access}
    if alg in ("none", "HS256"):
        return forged(key, alg, claims)
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": key_id(key), "typ": "JWT"})


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "test-issuer"

    def log_message(self, fmt, *args):
        sys.stderr.write("issuer: " + (fmt % args) + "\n")
        sys.stderr.flush()

    def answer(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def user(self):
        """(name, ok): ("", True) without credentials, (name, False) for a wrong password."""
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return "", True
        try:
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return "?", False
        return name, self.server.users.get(name) == password

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        route = self.server.routes.get(url.path)
        if route is None:
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such token route"}]})
            return
        name, ok = self.user()
        if not ok:
            self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
                        {"WWW-Authenticate": 'Basic realm="test-issuer"'})
            return
        query = urllib.parse.parse_qs(url.query)
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                entry = parse_scope(one)
                if entry is None:
                    continue
                if not name:
                    entry["actions"] = [a for a in entry["actions"] if a == "pull"]
                access.append(entry)
        audience = query.get("service", [""])[0]
        key, alg = route
        token = sign(key, alg, self.server.issuer, audience, name, access, 300)
        self.answer(200, {"token": token, "access_token": token, "expires_in": 300,
                          "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def serve(args):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.issuer = args.issuer
    server.users = {}
    with open(args.users) as f:
        for line in f:
            if ":" in line:
                user, _, password = line.rstrip("\n").partition(":")
                server.users[user] = password
    server.routes = {}
    for route in args.route:
        path, _, key_path = route.partition("=")
        server.routes[path] = load_key(key_path)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    # Renamed into place so that a reader never sees a partial port number.
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


def mint(args):
    key, alg = load_key(args.key)
    access = [e for e in (parse_scope(s) for s in args.access) if e]
    print(sign(key, args.alg or alg, args.issuer, args.audience, args.subject, access, args.ttl,
               args.not_before))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port-file", required=True)
    s.add_argument("--issuer", required=True)
    s.add_argument("--users", required=True)
    s.add_argument("--route", action="append", required=True)
    m = sub.add_parser("mint")
    m.add_argument("--key", required=True)
    m.add_argument("--issuer", required=True)
    m.add_argument("--audience", required=True)
    m.add_argument("--subject", default="")
    m.add_argument("--ttl", type=int, default=300)
    m.add_argument("--not-before", type=int, default=0)
    m.add_argument("--access", action="append", default=[])
    m.add_argument("--alg")
    args = parser.parse_args()
    serve(args) if args.command == "serve" else mint(args)


if __name__ == "__main__":
    main()
