#include "context.h"

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace regd::cli {

namespace {

Error no_registry(const GlobalOptions& global, std::string_view what) {
  return Error{Errc::no_registry, "storage root " + global.root + ": " + std::string(what) +
                                      " (an empty directory, a network share not mounted, or the wrong path?); "
                                      "to start a new registry there, run the command with --init"};
}

}  // namespace

Result<Session> open_session(const GlobalOptions& global, Access access) {
  if (global.root.empty()) {
    return fail(Errc::invalid_argument, "no storage root: pass --root PATH or set REGCTL_ROOT");
  }
  auto immutable = parse_tag_patterns(global.immutable_tags);
  if (!immutable) {
    return fail(Errc::invalid_argument, "--immutable-tags: " + immutable.error().message);
  }
  bool create = access == Access::create || global.init;
  std::error_code ec;
  if (!create && !std::filesystem::is_directory(global.root, ec)) {
    return std::unexpected(no_registry(global, "not a directory"));
  }
  auto storage = make_posix_storage(global.root);
  if (!storage) {
    return std::unexpected(storage.error());
  }
  if (auto tree = require_registry_tree(**storage, create); !tree) {
    if (tree.error().code == Errc::no_registry) {
      return std::unexpected(no_registry(global, tree.error().message));
    }
    return fail(tree.error().code, "storage root " + global.root + ": " + tree.error().message);
  }
  if (access != Access::read) {
    if (auto usable = probe_storage(**storage, StorageAccess::write); !usable) {
      return fail(usable.error().code, "storage root " + global.root + ": " + usable.error().message);
    }
  }
  std::shared_ptr<Storage> shared = std::move(*storage);
  RegistryOptions options;
  options.immutable_tags = std::move(*immutable);
  auto registry = make_registry(shared, options);
  return Session{std::move(shared), std::move(registry)};
}

Result<Reference> parse_reference_arg(std::string_view text) {
  auto ref = Reference::parse(text);
  if (!ref) {
    return fail(Errc::invalid_argument, "invalid reference \"" + std::string(text) + "\": " + ref.error().message);
  }
  return ref;
}

bool show_progress(const GlobalOptions& global) {
  return !global.quiet && ::isatty(STDERR_FILENO) == 1;
}

}  // namespace regd::cli
