#!/usr/bin/env python3
"""Hostile connection patterns against one regd (tests/e2e/conn_limits.sh). Every loop is bounded.

  slowloris PORT N SECONDS      N connections trickle a request header, one byte per connection
                                every 2 s, for SECONDS; prints how many regd closed meanwhile.
  idle-bodies PORT N PID        N keep-alive connections each send a 1-byte body (every 10th
                                an upload PATCH), then stay open; prints "<connections> <VmRSS KiB>" of PID
                                measured while all of them are open.
  slow-patch PORT               one PATCH declaring 100 bytes, sent one byte every 10 s (at most
                                6 bytes); prints "cut <seconds>" when regd closed it, else "served".
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s):
    """One response head plus its Content-Length body; returns (status, headers text)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed before a response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1")
    length = 0
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        rest += chunk
    return int(text.split(" ")[1]), text


def header(text, name):
    for line in text.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.lower() == name.lower():
            return value.strip()
    return ""


def slowloris(port, n, seconds):
    conns = [connect(port) for _ in range(n)]
    for s in conns:
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
    closed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and conns:
        alive = []
        for s in conns:
            try:
                s.sendall(b"X")
                alive.append(s)
            except OSError:
                closed += 1
                s.close()
        conns = alive
        time.sleep(2)
    for s in conns:
        s.close()
    print(closed)


def start_upload(s):
    s.sendall(b"POST /v2/lib/mem/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    status, text = read_response(s)
    if status != 202:
        raise RuntimeError("upload POST answered %d" % status)
    return header(text, "Location")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def idle_bodies(port, n, pid):
    """Every 10th connection PATCHes an upload (a body sink); the others send a body no route
    wants (read and dropped): both paths once kept a 1 MiB buffer per connection."""
    conns = []
    for i in range(n):
        s = connect(port)
        if i % 10 == 0:
            location = start_upload(s)
            s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz" % location).encode())
            want = 202
        else:
            s.sendall(b"POST /v2/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz")
            want = 404
        status, _ = read_response(s)
        if status != want:
            raise RuntimeError("answered %d, not %d" % (status, want))
        conns.append(s)
    time.sleep(1)  # every connection is idle in regd now
    print(len(conns), rss_kib(pid))
    for s in conns:
        s.close()


def slow_patch(port):
    s = connect(port)
    location = start_upload(s)
    s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" % location).encode())
    start = time.monotonic()
    s.settimeout(10)
    for _ in range(6):
        try:
            s.sendall(b"z")
            if s.recv(4096) == b"":  # waits up to 10 s: the gap between bytes
                print("cut %.0f" % (time.monotonic() - start))
                return
        except socket.timeout:
            continue
        except OSError:
            print("cut %.0f" % (time.monotonic() - start))
            return
    print("served")


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "slowloris":
        slowloris(port, int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "idle-bodies":
        idle_bodies(port, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "slow-patch":
        slow_patch(port)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
