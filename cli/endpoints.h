// Opens the outside end of a push or pull as an OCI image layout: a directory as it is, an
// oci-archive extracted to a scratch directory, a docker-archive converted into one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "file_io.h"
#include "location.h"
#include "oci_layout.h"
#include "regd/error.h"

namespace regd::cli {

struct Endpoint {
  Location location;
  std::optional<ScratchDir> scratch;  // holds the extracted archive while the endpoint lives
  std::optional<OciLayout> layout;
  // An oci: destination: what discard_destination removes.
  bool made_dir = false;     // the directory did not exist
  bool made_layout = false;  // the directory held no layout (it was empty)
};

// A push source. For docker-archive the converted image is the layout's only entry, named
// with its RepoTags tag. Errors: those of OciLayout::open, extract_tar, convert_docker_archive.
[[nodiscard]] Result<Endpoint> open_source(const Location& location);

// A pull destination: an existing layout or archive is added to, else created. docker-archive
// is not a destination (invalid_argument); a non-empty directory that is no layout is refused
// (exists); an archive that does not read is corrupt.
[[nodiscard]] Result<Endpoint> open_destination(const Location& location);

// Writes index.json and, for an archive, the tar (atomically replacing the file).
[[nodiscard]] Status finish_destination(Endpoint& endpoint);

// Undoes a pull that failed before finish_destination: a directory or layout the pull created is
// removed again, an existing layout loses the blob files in `added` (index.json was never
// written). An archive is untouched anyway (only finish_destination writes it). Best effort.
void discard_destination(Endpoint& endpoint, const std::vector<Digest>& added);

}  // namespace regd::cli
