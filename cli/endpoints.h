// Opens the outside end of a push or pull as an OCI image layout: a directory as it is, an
// oci-archive extracted to a scratch directory, a docker-archive converted into one.
#pragma once

#include <optional>
#include <string>

#include "file_io.h"
#include "location.h"
#include "oci_layout.h"
#include "regd/error.h"

namespace regd::cli {

struct Endpoint {
  Location location;
  std::optional<ScratchDir> scratch;  // holds the extracted archive while the endpoint lives
  std::optional<OciLayout> layout;
};

// A push source. For docker-archive the converted image is the layout's only entry, named
// with its RepoTags tag. Errors: those of OciLayout::open, extract_tar, convert_docker_archive.
[[nodiscard]] Result<Endpoint> open_source(const Location& location);

// A pull destination: an existing layout or archive is added to, else created. docker-archive
// is not a destination (invalid_argument).
[[nodiscard]] Result<Endpoint> open_destination(const Location& location);

// Writes index.json and, for an archive, the tar (atomically replacing the file).
[[nodiscard]] Status finish_destination(Endpoint& endpoint);

}  // namespace regd::cli
