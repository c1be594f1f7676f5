#include "context.h"

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace regd::cli {

Result<Session> open_session(const GlobalOptions& global, bool create) {
  if (global.root.empty()) {
    return fail(Errc::invalid_argument, "no storage root: pass --root PATH or set REGCTL_ROOT");
  }
  std::error_code ec;
  if (!create && !std::filesystem::is_directory(global.root, ec)) {
    return fail(Errc::not_found, "storage root " + global.root + " is not a directory");
  }
  auto storage = make_posix_storage(global.root);
  if (!storage) {
    return std::unexpected(storage.error());
  }
  std::shared_ptr<Storage> shared = std::move(*storage);
  auto registry = make_registry(shared);
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
