// The docker-archive transport: the tar written by `docker save` (manifest.json listing Config,
// RepoTags and Layers, plus the config and layer files), converted to a Docker schema2 image.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "oci_layout.h"
#include "regd/error.h"
#include "regd/registry.h"

namespace regd::cli {

inline constexpr std::string_view k_docker_config_type = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view k_docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

struct DockerImage {
  Descriptor manifest;  // the schema2 manifest now stored in the layout
  std::string tag;      // tag of the chosen RepoTags entry, "" when it has none
};

// Converts one image of an extracted docker-archive in `extracted` into `layout` (blobs moved
// or written there; index.json untouched): config as is, layers that are already gzip as is,
// other layers gzip-compressed (zlib level 1, no name, mtime 0: the same input always gives the
// same digest) because Docker schema2 clients expect tar+gzip layers. `ref` chooses the image:
// empty for the only one, "name:tag" matching RepoTags, or "@N" (0-based position).
// Errors: not_found (manifest.json or a listed file missing), manifest_invalid (malformed
// manifest.json), manifest_unknown (no image matches `ref`), invalid_argument (unsafe path).
[[nodiscard]] Result<DockerImage> convert_docker_archive(const std::filesystem::path& extracted, std::string_view ref,
                                                         const OciLayout& layout);

// Gzip-compresses `from` into a new file `to` (deterministic, see above); returns the digest and
// size of the compressed file.
[[nodiscard]] Result<BlobInfo> gzip_file(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace regd::cli
