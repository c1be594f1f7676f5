#include "config_check.h"

#include <filesystem>

#include <unistd.h>

#include "auth.h"
#include "regd/storage_root.h"
#include "tls.h"

namespace regd::daemon {
namespace {

namespace fs = std::filesystem;

// A missing root is checked without creating it: --check-config changes nothing on disk it
// did not find.
std::vector<std::string> check_missing_root(const fs::path& root) {
  std::error_code ec;
  fs::path parent = fs::absolute(root, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.root_path()) {
    parent = parent.parent_path();
  }
  if (!fs::is_directory(parent, ec)) {
    return {"storage root " + root.string() + ": missing, and " + parent.string() + " is not a directory"};
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return {"storage root " + root.string() + ": missing, and cannot be created in " + parent.string() +
            " (not writable)"};
  }
  return {};
}

std::vector<std::string> check_root(const Config& config) {
  std::error_code ec;
  // A bucket is checked by opening it (one request), which creates nothing either.
  if (!is_s3_root(config.root) && !fs::exists(config.root, ec)) {
    return check_missing_root(config.root);
  }
  if (auto storage = open_storage(config); !storage) {
    // Without the "storage root <root>: " that open_storage_root's messages start with.
    std::string_view message = storage.error().message;
    if (auto prefix = "storage root " + config.root + ": "; message.starts_with(prefix)) {
      message.remove_prefix(prefix.size());
    }
    return {"cannot use the storage root " + config.root + ": " + std::string(message)};
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<Storage>> open_storage(const Config& config) {
  S3Options s3{
      .endpoint = config.s3.endpoint,
      .region = config.s3.region,
      .credentials_file = config.s3.credentials,
      .profile = config.s3.profile,
  };
  // regd never creates a bucket: a misspelt one must stop it, not start an empty registry.
  auto storage = open_storage_root(config.root, s3, /*create_bucket=*/false);
  if (!storage && storage.error().code == Errc::no_registry) {
    return fail(Errc::no_registry, storage.error().message +
                                       " (regd never creates a bucket: create it, or let regctl --init or a regctl "
                                       "push do so)");
  }
  if (!storage) {
    return std::unexpected(storage.error());
  }
  auto access = config.read_only ? StorageAccess::read : StorageAccess::write;
  if (auto usable = probe_storage(**storage, access); !usable) {
    return std::unexpected(usable.error());
  }
  return std::shared_ptr<Storage>(std::move(*storage));
}

std::vector<std::string> check_config(const Config& config) {
  std::vector<std::string> problems;
  if (auto listen = parse_listen(config.listen); !listen) {
    problems.push_back(listen.error().message);
  }
  if (config.auth.enabled()) {
    for (const Error& error : Auth::check_files(config.auth)) {
      problems.push_back("cannot load the auth files: " + error.message);
    }
  }
  if (config.tls.enabled()) {
    if (auto tls = TlsContexts::create(config.tls); !tls) {
      problems.push_back("cannot load the TLS files: " + tls.error().message);
    }
  }
  auto root = check_root(config);
  problems.insert(problems.end(), root.begin(), root.end());
  return problems;
}

}  // namespace regd::daemon
