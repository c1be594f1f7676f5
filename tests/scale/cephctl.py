#!/usr/bin/python3
"""Administration of the throw-away Ceph cluster of ceph_up.sh, over python3-rados (Debian's
ceph-common): one process per step instead of one `ceph` CLI call per command, which costs about
half a second of CPU each on a 2-core machine. Every wait is bounded by $CEPH_TIMEOUT (60 s).

Usage: cephctl.py CONF OP [ARGS...]
  quorum                         wait until the monitor is in quorum
  keys KEYDIR ENTITY...          create keyrings KEYDIR/ENTITY.keyring (mgr.*, mds.*, client.rgw.*)
  osd-new UUID SECRET            register an OSD; prints its id
  fs POOL_PREFIX                 pools PREFIX_metadata and PREFIX_data and the file system "cephfs"
  rgw-pools                      the pools radosgw would otherwise create on first use
  fs-client KEYDIR ENTITY        a client key allowed rw on the whole file system
  osd-uuid ID                    print the uuid of OSD ID
  wait-osds N                    wait until N OSDs are up and in
  wait-mds                       wait until an MDS is up:active
  wait-clean                     wait until every placement group is active+clean
  health                         print the health summary
"""
import json
import os
import sys
import time

import rados

conf, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
deadline = time.time() + float(os.environ.get("CEPH_TIMEOUT", "60"))


def die(message):
    print(f"cephctl {op}: {message}", file=sys.stderr)
    sys.exit(1)


def connect():
    while True:
        try:
            cluster = rados.Rados(conffile=conf, conf={"rados_mon_op_timeout": "30", "client_mount_timeout": "10"})
            cluster.connect(timeout=10)
            return cluster
        except Exception as error:  # the monitor is still starting
            if time.time() > deadline:
                die(f"cannot reach the monitor: {error}")
            time.sleep(0.2)


cluster = connect()


def command(inbuf=b"", **cmd):
    ret, out, err = cluster.mon_command(json.dumps(cmd), inbuf)
    if ret != 0:
        die(f"{cmd['prefix']}: {err} (ret {ret})")
    return out


def command_json(**cmd):
    return json.loads(command(format="json", **cmd))


def wait(what, ready):
    last = None
    while time.time() < deadline:
        try:
            if ready():
                return
        except Exception as error:  # not there yet
            last = error
        time.sleep(0.2)
    die(f"timed out waiting for {what} (last error: {last})")


CAPS = {
    "mgr": ["mon", "allow profile mgr", "osd", "allow *", "mds", "allow *"],
    "mds": ["mon", "allow profile mds", "osd", "allow rw tag cephfs *=*", "mds", "allow", "mgr", "allow profile mds"],
    "client": ["mon", "allow rw", "osd", "allow rwx", "mgr", "allow rw"],  # radosgw
}


def pools(*names):
    for name in names:
        command(prefix="osd pool create", pool=name, pg_num=8, pgp_num=8)


if op == "quorum":
    wait("quorum", lambda: len(command_json(prefix="quorum_status")["quorum"]) >= 1)
elif op == "keys":
    keydir = args[0]
    for entity in args[1:]:
        caps = CAPS[entity.split(".")[0]]
        with open(f"{keydir}/{entity}.keyring", "wb") as f:
            f.write(command(prefix="auth get-or-create", entity=entity, caps=caps))
elif op == "osd-new":
    uuid, secret = args
    print(command(json.dumps({"cephx_secret": secret}).encode(), prefix="osd new", uuid=uuid).decode().strip())
elif op == "fs":
    prefix = args[0]
    pools(f"{prefix}_metadata", f"{prefix}_data")
    command(prefix="fs new", fs_name="cephfs", metadata=f"{prefix}_metadata", data=f"{prefix}_data")
elif op == "rgw-pools":
    names = [".rgw.root"] + [f"default.rgw.{p}" for p in ("log", "control", "meta", "buckets.index", "buckets.data", "buckets.non-ec")]
    pools(*names)
    for name in names:
        command(prefix="osd pool application enable", pool=name, app="rgw")
elif op == "fs-client":
    keydir, entity = args
    with open(f"{keydir}/{entity}.keyring", "wb") as f:
        f.write(command(prefix="fs authorize", filesystem="cephfs", entity=entity, caps=["/", "rw"]))
elif op == "osd-uuid":
    print(next(o["uuid"] for o in command_json(prefix="osd dump")["osds"] if o["osd"] == int(args[0])))
elif op == "wait-osds":
    want = int(args[0])
    wait(f"{want} OSDs up and in", lambda: sum(1 for o in command_json(prefix="osd dump")["osds"] if o["up"] and o["in"]) >= want)
elif op == "wait-mds":
    wait("an active MDS", lambda: any(i["state"] == "up:active" for fs in command_json(prefix="fs dump")["filesystems"] for i in fs["mdsmap"]["info"].values()))
elif op == "wait-clean":

    def clean():
        pgmap = command_json(prefix="status")["pgmap"]
        return pgmap["num_pgs"] > 0 and all(s["state_name"] == "active+clean" for s in pgmap["pgs_by_state"])

    wait("every placement group active+clean", clean)
elif op == "health":
    print(command(prefix="health").decode().strip())
else:
    die("unknown operation (see the usage at the top of this file)")
cluster.shutdown()
