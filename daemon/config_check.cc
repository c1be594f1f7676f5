#include "config_check.h"

#include <filesystem>

#include <unistd.h>

#include "auth.h"
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
  if (!fs::exists(config.root, ec)) {
    return check_missing_root(config.root);
  }
  if (auto storage = open_storage(config); !storage) {
    return {"cannot use the storage root " + config.root + ": " + storage.error().message};
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<Storage>> open_storage(const Config& config) {
  auto storage = make_posix_storage(config.root);
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
