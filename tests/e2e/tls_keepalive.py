#!/usr/bin/env python3
"""One HTTPS keep-alive connection that outlives a certificate reload (tests/e2e/tls.sh).

Usage: tls_keepalive.py PORT CA_FILE READY_FILE GO_FILE
Sends GET /v2/, prints the peer certificate's serial, writes READY_FILE, waits (at most 60 s) for
GO_FILE, then sends GET /v2/ again on the same socket. Prints "<status1> <status2> <serial>
<same-socket>"; exits 1 when the connection did not survive.
"""
import http.client
import os
import ssl
import sys
import time

from cryptography import x509


def main():
    port, ca, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    conn.request("GET", "/v2/")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    serial = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True)).serial_number
    with open(ready, "w") as f:
        f.write("%x\n" % serial)
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
    conn.auto_open = 0  # never reconnect silently: the point is the same connection
    conn.request("GET", "/v2/")
    second = conn.getresponse()
    second.read()
    same = conn.sock is sock
    print(first.status, second.status, "%x" % serial, "same" if same else "new")
    return 0 if same and second.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
