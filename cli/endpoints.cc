#include "endpoints.h"

#include <system_error>

#include "docker_archive.h"
#include "tar_archive.h"

namespace regd::cli {
namespace {

Status adopt_layout(Endpoint& endpoint, Result<OciLayout> layout) {
  if (!layout) {
    return std::unexpected(layout.error());
  }
  endpoint.layout.emplace(std::move(*layout));
  return {};
}

Status open_docker_archive(Endpoint& endpoint) {
  auto extracted = endpoint.scratch->path() / "archive";
  if (auto ok = extract_tar(endpoint.location.path, extracted, true); !ok) {
    return ok;
  }
  if (auto ok = adopt_layout(endpoint, OciLayout::open_or_create(endpoint.scratch->path() / "layout")); !ok) {
    return ok;
  }
  auto image = convert_docker_archive(extracted, endpoint.location.ref, *endpoint.layout);
  if (!image) {
    return std::unexpected(image.error());
  }
  endpoint.layout->add_entry(image->manifest, image->tag.empty() ? std::nullopt : std::optional(image->tag));
  // The single entry is now the image, whatever the user named it by.
  endpoint.location.ref.clear();
  return {};
}

}  // namespace

Result<Endpoint> open_source(const Location& location) {
  Endpoint endpoint{.location = location, .scratch = std::nullopt, .layout = std::nullopt};
  if (location.transport == Transport::oci) {
    if (auto ok = adopt_layout(endpoint, OciLayout::open(location.path)); !ok) {
      return std::unexpected(ok.error());
    }
    return endpoint;
  }
  auto scratch = ScratchDir::create();
  if (!scratch) {
    return std::unexpected(scratch.error());
  }
  endpoint.scratch.emplace(std::move(*scratch));
  if (location.transport == Transport::docker_archive) {
    if (auto ok = open_docker_archive(endpoint); !ok) {
      return std::unexpected(ok.error());
    }
    return endpoint;
  }
  auto dir = endpoint.scratch->path() / "layout";
  if (auto ok = extract_tar(location.path, dir, false); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = adopt_layout(endpoint, OciLayout::open(dir)); !ok) {
    return std::unexpected(ok.error());
  }
  return endpoint;
}

Result<Endpoint> open_destination(const Location& location) {
  Endpoint endpoint{.location = location, .scratch = std::nullopt, .layout = std::nullopt};
  if (location.transport == Transport::docker_archive) {
    return fail(Errc::invalid_argument, "docker-archive can only be a source; pull to oci: or oci-archive:");
  }
  std::error_code ec;
  if (location.transport == Transport::oci) {
    endpoint.made_dir = !std::filesystem::exists(location.path, ec);
    endpoint.made_layout = !std::filesystem::exists(std::filesystem::path(location.path) / "oci-layout", ec);
    if (auto ok = adopt_layout(endpoint, OciLayout::open_or_create(location.path)); !ok) {
      return std::unexpected(ok.error());
    }
    return endpoint;
  }
  auto scratch = ScratchDir::create();
  if (!scratch) {
    return std::unexpected(scratch.error());
  }
  endpoint.scratch.emplace(std::move(*scratch));
  auto dir = endpoint.scratch->path() / "layout";
  if (std::filesystem::exists(location.path, ec)) {
    if (auto ok = extract_tar(location.path, dir, false); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (auto ok = adopt_layout(endpoint, OciLayout::open_or_create(dir)); !ok) {
    return std::unexpected(ok.error());
  }
  return endpoint;
}

Status finish_destination(Endpoint& endpoint) {
  if (auto ok = endpoint.layout->save(); !ok) {
    return ok;
  }
  if (endpoint.location.transport == Transport::oci_archive) {
    return write_tar(endpoint.layout->dir(), endpoint.location.path);
  }
  return {};
}

void discard_destination(Endpoint& endpoint, const std::vector<Digest>& added) {
  if (endpoint.location.transport != Transport::oci || !endpoint.layout) {
    return;
  }
  std::error_code ec;
  const std::filesystem::path& dir = endpoint.layout->dir();
  if (endpoint.made_dir) {
    std::filesystem::remove_all(dir, ec);
  } else if (endpoint.made_layout) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  } else {
    for (const Digest& digest : added) {
      std::filesystem::remove(endpoint.layout->blob_path(digest), ec);
    }
  }
}

}  // namespace regd::cli
