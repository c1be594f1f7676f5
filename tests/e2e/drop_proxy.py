#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that can cut answers short, to drop a registry's connection in the
middle of a blob (tests/e2e/upstream.sh). Usage: drop_proxy.py UPSTREAM_PORT PORT_FILE MODE_FILE.
Writes its port to PORT_FILE. For each new connection it reads MODE_FILE: "pass" forwards
everything; "drop N" closes the connection once N bytes of answer have gone through it (small
answers, shorter than N, are untouched); "stall N" forwards N bytes of an answer, creates
MODE_FILE.stalled and then discards what the upstream sends until the upstream closes the
connection (killed), and only then closes the client's. Counts the connections it cut in
MODE_FILE.cuts."""
import os
import socket
import sys
import threading

upstream_port, port_file, mode_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cuts_lock = threading.Lock()


def read_mode():
    try:
        with open(mode_file) as f:
            words = f.read().split()
    except OSError:
        return None, None
    if len(words) == 2 and words[0] in ("drop", "stall"):
        return words[0], int(words[1])
    return None, None


def count_cut():
    with cuts_lock:
        try:
            with open(mode_file + ".cuts") as f:
                n = int(f.read() or 0)
        except OSError:
            n = 0
        with open(mode_file + ".cuts", "w") as f:
            f.write(str(n + 1))


def pump(src, dst, limit, on_cut, stall=False):
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None and sent + len(data) > limit:
                dst.sendall(data[: limit - sent])
                on_cut()
                if stall:
                    open(mode_file + ".stalled", "w").close()
                    while src.recv(65536):
                        pass
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    mode, limit = read_mode()
    try:
        server = socket.create_connection(("127.0.0.1", upstream_port), timeout=30)
    except OSError:
        client.close()
        return
    server.settimeout(None)
    threading.Thread(target=pump, args=(client, server, None, lambda: None), daemon=True).start()
    pump(server, client, limit, count_cut, stall=(mode == "stall"))
    client.close()
    server.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
