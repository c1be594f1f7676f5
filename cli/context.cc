#include "context.h"

#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>
#include <unistd.h>

namespace regd::cli {

namespace {

Error no_registry(const GlobalOptions& global, std::string_view what) {
  std::string_view causes = is_s3_root(global.root) ? " (a misspelt bucket or prefix, or the wrong --s3-endpoint?)"
                                                    : " (an empty directory, a network share not mounted, or the "
                                                      "wrong path?)";
  return Error{Errc::no_registry, "storage root " + global.root + ": " + std::string(what) + std::string(causes) +
                                      "; to start a new registry there, run the command with --init"};
}

// open_storage_root's message without the "storage root <root>: " it starts with, which
// no_registry() says again.
std::string_view without_root(const GlobalOptions& global, std::string_view message) {
  auto prefix = "storage root " + global.root + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

}  // namespace

void add_global_options(CLI::App& app, GlobalOptions& global) {
  app.add_option("--root", global.root,
                 "Storage root: the directory holding docker/registry/v2, or s3://BUCKET[/PREFIX]")
      ->envname("REGCTL_ROOT");
  app.add_option("--s3-endpoint", global.s3.endpoint,
                 "S3 service of an s3:// root, http://HOST:PORT or https://HOST[:PORT] (default: "
                 "AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL)")
      ->envname("REGCTL_S3_ENDPOINT");
  app.add_option("--s3-region", global.s3.region,
                 "Region an s3:// root's requests are signed for (default: AWS_REGION, then AWS_DEFAULT_REGION, then "
                 "us-east-1)")
      ->envname("REGCTL_S3_REGION");
  app.add_option("--s3-credentials", global.s3.credentials_file,
                 "Shared credentials file (AWS format) for an s3:// root (default: AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, then the file AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials)")
      ->envname("REGCTL_S3_CREDENTIALS");
  app.add_option("--s3-profile", global.s3.profile,
                 "Section of the credentials file (default: AWS_PROFILE, then 'default')")
      ->envname("REGCTL_S3_PROFILE");
  app.add_flag(
      "--init", global.init,
      "Create the registry tree (and an s3:// root's bucket) when the root holds none (push does so anyway; gc "
      "and verify never do without it)");
  app.add_option("--immutable-tags", global.immutable_tags,
                 "Tags matching these comma-separated patterns (v*,release-*) are never moved or deleted, as "
                 "regd --immutable-tags")
      ->envname("REGCTL_IMMUTABLE_TAGS");
  app.add_flag("-q,--quiet", global.quiet, "No progress and no summaries on stderr");
}

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
  // A bucket is no directory: opening it without create_bucket is the check (no_registry when
  // missing), require_registry_tree below the rest.
  if (!create && !is_s3_root(global.root) && !std::filesystem::is_directory(global.root, ec)) {
    return std::unexpected(no_registry(global, "not a directory"));
  }
  auto storage = open_storage_root(global.root, global.s3, /*create_bucket=*/create);
  if (!storage && storage.error().code == Errc::no_registry) {
    return std::unexpected(no_registry(global, without_root(global, storage.error().message)));
  }
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
