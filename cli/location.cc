#include "location.h"

namespace regd::cli {

Result<Location> parse_location(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(Errc::invalid_argument, "\"" + std::string(text) +
                                            "\" names no transport: use oci:DIR[:REF], oci-archive:FILE[:REF] or "
                                            "docker-archive:FILE");
  }
  Location location;
  auto transport = text.substr(0, colon);
  if (transport == "oci") {
    location.transport = Transport::oci;
  } else if (transport == "oci-archive") {
    location.transport = Transport::oci_archive;
  } else if (transport == "docker-archive") {
    location.transport = Transport::docker_archive;
  } else {
    return fail(Errc::invalid_argument,
                "unknown transport \"" + std::string(transport) + "\" (known: oci, oci-archive, docker-archive)");
  }
  auto rest = text.substr(colon + 1);
  auto second = rest.find(':');
  location.path = std::string(rest.substr(0, second));
  if (second != std::string_view::npos) {
    location.ref = std::string(rest.substr(second + 1));
  }
  if (location.path.empty()) {
    return fail(Errc::invalid_argument, "\"" + std::string(text) + "\" names no path");
  }
  return location;
}

}  // namespace regd::cli
