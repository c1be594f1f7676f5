#!/usr/bin/env python3
"""A minimal S3 client for the test scripts (standard library only, SigV4, path-style URLs), so
that a test can look into a bucket without going through regd or regctl:

  s3ctl.py mb BUCKET              create BUCKET (an existing one of ours is fine)
  s3ctl.py ls BUCKET [PREFIX]     every key under PREFIX, one a line, in key order (all pages)
  s3ctl.py lsl BUCKET [PREFIX]    the same as "<key> <size> <LastModified>" lines
  s3ctl.py put BUCKET KEY FILE    store FILE's bytes under KEY
  s3ctl.py get BUCKET KEY         KEY's bytes on stdout
  s3ctl.py rm BUCKET KEY          delete KEY
  s3ctl.py status BUCKET [KEY]    the HTTP status of a HEAD of the bucket (or of KEY)
  s3ctl.py rb BUCKET              delete every key of BUCKET, then BUCKET

The service and the credentials come from AWS_ENDPOINT_URL, AWS_REGION (default us-east-1),
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Exit status 0 on success, 1 with the service's
answer on stderr otherwise. It is a test tool: no retries, no streaming, no multipart.
"""
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def quote(s, safe=""):
    return urllib.parse.quote(s, safe="-_.~" + safe)


def canonical(query):
    return "&".join("%s=%s" % (quote(k), quote(v)) for k, v in sorted(query.items()))


def sign(method, path, query, headers, body, region, key_id, secret):
    """Adds SigV4 headers (x-amz-date, x-amz-content-sha256, Authorization) to `headers`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload
    lower = {h.lower(): " ".join(str(v).split()) for h, v in headers.items()}
    names = sorted(lower)
    canonical_headers = "".join("%s:%s\n" % (n, lower[n]) for n in names)
    request = "\n".join([method, quote(path, "/"), canonical(query), canonical_headers, ";".join(names), payload])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key_id, scope, ";".join(names), signature)


def request(method, path, query=None, body=b""):
    """One signed request; returns (status, body)."""
    endpoint = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    query = query or {}
    headers = {"Host": endpoint.netloc}
    sign(method, path, query, headers, body, os.environ.get("AWS_REGION", "us-east-1"),
         os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    conn_class = http.client.HTTPSConnection if endpoint.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(endpoint.netloc, timeout=60)
    url = quote(path, "/") + ("?" + canonical(query) if query else "")
    conn.request(method, url, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def check(status, data, want, what):
    if status not in want:
        sys.stderr.write("s3ctl: %s: HTTP %d: %s\n" % (what, status, data.decode(errors="replace")[:500]))
        sys.exit(1)


def cmd_mb(bucket):
    status, data = request("PUT", "/" + bucket)
    # 409 BucketAlreadyOwnedByYou: ours already (radosgw answers 200 for that too).
    if status == 409 and b"BucketAlreadyOwnedByYou" in data:
        return
    check(status, data, (200,), "create bucket " + bucket)


def keys(bucket, prefix=""):
    token = None
    while True:
        query = {"list-type": "2", "prefix": prefix}
        if token:
            query["continuation-token"] = token
        status, data = request("GET", "/" + bucket, query)
        check(status, data, (200,), "list %s/%s" % (bucket, prefix))
        root = ET.fromstring(data)
        for c in root.iter(NS + "Contents"):
            yield c.find(NS + "Key").text, c.findtext(NS + "Size"), c.findtext(NS + "LastModified")
        token = root.findtext(NS + "NextContinuationToken")
        if root.findtext(NS + "IsTruncated") != "true" or not token:
            return


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, bucket, rest = argv[0], argv[1], argv[2:]
    if cmd == "mb":
        cmd_mb(bucket)
    elif cmd in ("ls", "lsl"):
        for key, size, modified in keys(bucket, rest[0] if rest else ""):
            print(key if cmd == "ls" else "%s %s %s" % (key, size, modified))
    elif cmd == "rb":
        for key, _, _ in list(keys(bucket)):
            status, data = request("DELETE", "/%s/%s" % (bucket, key))
            check(status, data, (204, 200), "delete " + key)
        status, data = request("DELETE", "/" + bucket)
        check(status, data, (204, 200), "delete bucket " + bucket)
    elif cmd == "put":
        with open(rest[1], "rb") as f:
            status, data = request("PUT", "/%s/%s" % (bucket, rest[0]), body=f.read())
        check(status, data, (200,), "put " + rest[0])
    elif cmd == "get":
        status, data = request("GET", "/%s/%s" % (bucket, rest[0]))
        check(status, data, (200,), "get " + rest[0])
        sys.stdout.buffer.write(data)
    elif cmd == "rm":
        status, data = request("DELETE", "/%s/%s" % (bucket, rest[0]))
        check(status, data, (204, 200), "delete " + rest[0])
    elif cmd == "status":
        status, _ = request("HEAD", "/%s/%s" % (bucket, rest[0]) if rest else "/" + bucket)
        print(status)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
