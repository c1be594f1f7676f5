#!/usr/bin/env python3
"""regd speaks systemd's notification protocol (docs/install.md) without systemd: the test is the
service manager. It binds a unix datagram socket, starts regd with NOTIFY_SOCKET and WATCHDOG_USEC
pointing at it, and checks what arrives:

  READY=1 with STATUS=serving on 127.0.0.1:PORT (and /v2/ on that port answers 200),
  WATCHDOG=1 over and over,
  SIGHUP: RELOADING=1, then READY=1 again,
  one I/O thread of two wedged (a tag link that is a FIFO blocks its open(2), as a hung storage
    mount would): the other thread still serves, but WATCHDOG=1 stops; released, it resumes,
  SIGTERM: STOPPING=1 with STATUS=draining..., and exit status 0.

Every wait is bounded; only counts and orders are asserted, and "stops" means a gap of twice the
watchdog interval was seen within a generous bound.
Usage: sd_notify_test.py PATH_TO_REGD
"""
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

INTERVAL_S = 2  # WATCHDOG_USEC: regd checks and pings every second
BOUND_S = 60    # every wait below gives up after this long


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


class Manager:
    """The service manager's end of NOTIFY_SOCKET: every datagram as a dict of its fields."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        return dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)

    def wait_for(self, key, bound=BOUND_S):
        """The first message carrying key=1 within bound seconds (others are counted, not kept)."""
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            message = self.receive(deadline - time.monotonic())
            if message and message.get(key) == "1":
                return message
        fail("no %s=1 within %d s" % (key, bound))

    def count_pings(self, want, bound=BOUND_S):
        deadline = time.monotonic() + bound
        pings = 0
        while pings < want and time.monotonic() < deadline:
            message = self.receive(deadline - time.monotonic())
            if message and message.get("WATCHDOG") == "1":
                pings += 1
        return pings

    def wait_for_silence(self, gap, bound=BOUND_S):
        """True once no WATCHDOG=1 arrived for `gap` seconds, within bound seconds."""
        deadline = time.monotonic() + bound
        last = time.monotonic()
        while time.monotonic() < deadline:
            message = self.receive(min(gap, deadline - time.monotonic()))
            if message and message.get("WATCHDOG") == "1":
                last = time.monotonic()
            elif time.monotonic() - last >= gap:
                return True
        return False


def get(port, path, timeout=30):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    regd = sys.argv[1]
    work = tempfile.mkdtemp(prefix="regd-notify.")
    proc = None
    try:
        manager = Manager(os.path.join(work, "notify"))
        root = os.path.join(work, "root")
        env = dict(os.environ, NOTIFY_SOCKET=manager.sock.getsockname(), WATCHDOG_USEC=str(INTERVAL_S * 1000000))
        env.pop("WATCHDOG_PID", None)
        log = open(os.path.join(work, "regd.log"), "w")
        proc = subprocess.Popen([regd, "--root", root, "--listen", "127.0.0.1:0", "--threads", "2",
                                 "--drain-delay", "0"], env=env, stdout=log, stderr=log)

        ready = manager.wait_for("READY")
        status = ready.get("STATUS", "")
        if not status.startswith("serving on 127.0.0.1:"):
            fail("READY=1 without STATUS=serving on ADDR: %r" % ready)
        port = int(status.rsplit(":", 1)[1])
        if get(port, "/v2/") != 200:
            fail("/v2/ on the port of STATUS= does not answer 200")
        print("ok: READY=1, %s" % status)

        pings = manager.count_pings(3)
        if pings < 3:
            fail("%d WATCHDOG=1 within %d s, want 3" % (pings, BOUND_S))
        print("ok: WATCHDOG=1 keeps coming")

        proc.send_signal(signal.SIGHUP)
        manager.wait_for("RELOADING")
        again = manager.wait_for("READY")
        if not again.get("STATUS", "").startswith("serving on "):
            fail("READY=1 after the reload without the serving status: %r" % again)
        print("ok: SIGHUP: RELOADING=1, then READY=1")

        wedge_one_thread(manager, root, port)

        proc.send_signal(signal.SIGTERM)
        stopping = manager.wait_for("STOPPING")
        if not stopping.get("STATUS", "").startswith("draining"):
            fail("STOPPING=1 without STATUS=draining: %r" % stopping)
        try:
            code = proc.wait(timeout=BOUND_S)
        except subprocess.TimeoutExpired:
            fail("regd did not exit within %d s of SIGTERM" % BOUND_S)
        if code != 0:
            fail("regd exited %d after SIGTERM" % code)
        proc = None
        print("ok: SIGTERM: STOPPING=1, %s, exit 0" % stopping["STATUS"])
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
            sys.stderr.write(open(os.path.join(work, "regd.log")).read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)


def release(fifo):
    """Opens the FIFO for writing once regd has it open for reading, and closes it: the blocked
    open(2) returns and the link reads empty. False if no reader came within the bound."""
    deadline = time.monotonic() + BOUND_S
    while True:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return True
        except OSError as e:
            if e.errno != errno.ENXIO or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def wedge_one_thread(manager, root, port):
    """A GET whose tag link is a FIFO: open(2) blocks the I/O thread serving it until a writer
    comes. The keep-alives must stop while the other thread keeps serving, and resume after."""
    current = os.path.join(root, "docker/registry/v2/repositories/wedge/_manifests/tags/t/current")
    os.makedirs(current)
    fifo = os.path.join(current, "link")
    os.mkfifo(fifo)
    result = {}
    stuck = threading.Thread(target=lambda: result.setdefault("status", get(port, "/v2/wedge/manifests/t", BOUND_S)))
    stuck.start()
    try:
        if not manager.wait_for_silence(2 * INTERVAL_S):
            fail("WATCHDOG=1 kept coming for %d s while an I/O thread was stuck" % BOUND_S)
        if get(port, "/v2/") != 200:
            fail("the other I/O thread does not serve while one is stuck")
        print("ok: one I/O thread stuck: the other serves, WATCHDOG=1 stops")
    finally:
        released = release(fifo)
        stuck.join(BOUND_S)
    if not released:
        fail("regd never opened the FIFO (the request did not reach the storage)")
    if stuck.is_alive() or "status" not in result:
        fail("the request on the FIFO did not finish once released")
    pings = manager.count_pings(2)
    if pings < 2:
        fail("WATCHDOG=1 did not resume after the stuck thread came back (%d pings)" % pings)
    print("ok: released (GET answered %d): WATCHDOG=1 resumes" % result["status"])


if __name__ == "__main__":
    main()
