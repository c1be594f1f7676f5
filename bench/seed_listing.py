#!/usr/bin/env python3
"""bench/seed_listing.py ROOT TAGS REPOS: writes a storage tree for the listing rows directly.

One image (a config blob and a manifest that references it) in ROOT/docker/registry/v2/blobs;
repository "list/tags" with TAGS tags t000000.. all pointing at that manifest; REPOS repositories
cat/r00000.. each holding the manifest under tag "latest". The layout is the one regd and
registry:2 share (docs/storage-layout.md), so both serve the same tree. Writing the files
directly takes seconds where 100,000 manifest PUTs would take minutes.
Prints the manifest digest.
"""
import hashlib
import json
import os
import sys


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def blob(v2, data):
    hexd = hashlib.sha256(data).hexdigest()
    write(f"{v2}/blobs/sha256/{hexd[:2]}/{hexd}/data", data)
    return hexd


def link(path, hexd):
    write(path, f"sha256:{hexd}".encode())


def tag(repo_dir, name, hexd):
    link(f"{repo_dir}/_manifests/tags/{name}/current/link", hexd)
    link(f"{repo_dir}/_manifests/tags/{name}/index/sha256/{hexd}/link", hexd)


def repository(repo_dir, config, manifest):
    link(f"{repo_dir}/_layers/sha256/{config}/link", config)
    link(f"{repo_dir}/_manifests/revisions/sha256/{manifest}/link", manifest)


def main():
    root, tags, repos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not (1 <= tags <= 1000000 and 1 <= repos <= 1000000):
        sys.exit("seed_listing.py: TAGS and REPOS must be 1..1000000")
    v2 = f"{root}/docker/registry/v2"
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}},
                     separators=(",", ":")).encode()
    config = blob(v2, cfg)
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": f"sha256:{config}", "size": len(cfg)}, "layers": []},
                      separators=(",", ":")).encode()
    manifest = blob(v2, body)
    tags_repo = f"{v2}/repositories/list/tags"
    repository(tags_repo, config, manifest)
    for i in range(tags):
        tag(tags_repo, f"t{i:06d}", manifest)
    for i in range(repos):
        repo_dir = f"{v2}/repositories/cat/r{i:05d}"
        repository(repo_dir, config, manifest)
        tag(repo_dir, "latest", manifest)
    print(f"sha256:{manifest}")


if __name__ == "__main__":
    main()
