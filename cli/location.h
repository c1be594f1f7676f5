// Image locations outside the registry, named with skopeo's transports:
// oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG|:@N].
#pragma once

#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd::cli {

enum class Transport { oci, oci_archive, docker_archive };

struct Location {
  Transport transport = Transport::oci;
  std::string path;  // DIR or FILE (no ':' allowed, as in skopeo)
  std::string ref;   // "" when absent
};

// Splits at the first two ':'. Errors: invalid_argument (unknown transport, empty path).
[[nodiscard]] Result<Location> parse_location(std::string_view text);

}  // namespace regd::cli
