#!/usr/bin/env python3
"""Builds random test images into an OCI image layout, fast (one process for many images).

usage: mkimage.py LAYOUT --tags T1 [T2 ...] [--layers N] [--kib K] [--shared M] [--shared-kib K2]

Every image gets the same M shared layers (made once per call) followed by N layers of its own,
each a gzip'd tar of one random file of K KiB; a config whose rootfs.diff_ids match; an OCI
manifest, tagged in LAYOUT/index.json (an entry with the same tag is replaced). Prints
"<tag> <manifest digest>" per image.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def put_blob(layout, data):
    hexd = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", hexd)
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return {"digest": "sha256:" + hexd, "size": len(data)}


def make_layer(layout, kib, name):
    payload = os.urandom(kib * 1024)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("data/" + name)
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    blob = put_blob(layout, gzip.compress(tar_bytes, compresslevel=1, mtime=0))
    blob["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    return blob, "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def make_image(layout, tag, shared, layers, kib):
    own = [make_layer(layout, kib, "%s-%d" % (tag, i)) for i in range(layers)]
    all_layers = shared + own
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/true"], "Labels": {"tag": tag}},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in all_layers]},
    }
    cfg = put_blob(layout, json.dumps(config, separators=(",", ":")).encode())
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": cfg, "layers": [b for b, _ in all_layers]}
    return put_blob(layout, json.dumps(manifest, separators=(",", ":")).encode())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("layout")
    p.add_argument("--tags", nargs="+", required=True)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--kib", type=int, default=1024)
    p.add_argument("--shared", type=int, default=0)
    p.add_argument("--shared-kib", type=int, default=1024)
    a = p.parse_args()
    os.makedirs(os.path.join(a.layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    index_path = os.path.join(a.layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    shared = [make_layer(a.layout, a.shared_kib, "shared-%d-%s" % (i, os.urandom(4).hex())) for i in range(a.shared)]
    for tag in a.tags:
        man = make_image(a.layout, tag, shared, a.layers, a.kib)
        ref = "org.opencontainers.image.ref.name"
        index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get(ref) != tag]
        index["manifests"].append({"mediaType": MANIFEST, "digest": man["digest"], "size": man["size"],
                                   "annotations": {ref: tag}})
        print(tag, man["digest"])
    with open(index_path + ".tmp", "w") as f:
        json.dump(index, f)
    os.replace(index_path + ".tmp", index_path)


if __name__ == "__main__":
    main()
