// regctl rm REF: delete a tag, or a manifest by digest (with every tag pointing at it), or with
// --repository a whole repository. Blob data stays until garbage collection.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "text_format.h"

namespace regd::cli {
namespace {

struct RmOptions {
  std::string reference;
  bool manifest = false;
  std::string repository;  // --repository
};

Result<int> run_rm_repository(const RmOptions& options, const GlobalOptions& global) {
  if (!options.reference.empty() || options.manifest) {
    return fail(Errc::invalid_argument, "rm --repository REPO takes no REF and no --manifest");
  }
  if (auto ok = validate_repository(options.repository); !ok) {
    return fail(Errc::invalid_argument, "invalid repository \"" + options.repository + "\": " + ok.error().message);
  }
  auto session = open_session(global, Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto removed = session->registry->delete_repository(options.repository);
  if (!removed) {
    return std::unexpected(removed.error());
  }
  std::cout << "deleted repository " << options.repository << " (" << counted(removed->tags, "tag") << ", "
            << counted(removed->manifests, "manifest") << ")\n";
  return k_exit_ok;
}

Result<int> run_rm(const RmOptions& options, const GlobalOptions& global) {
  if (!options.repository.empty()) {
    return run_rm_repository(options, global);
  }
  if (options.reference.empty()) {
    return fail(Errc::invalid_argument, "rm needs REF (REPO:TAG or REPO@DIGEST) or --repository REPO");
  }
  auto ref = parse_reference_arg(options.reference);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  if (ref->target().empty()) {
    return fail(Errc::invalid_argument, "rm needs REPO:TAG or REPO@DIGEST, not a bare repository");
  }
  auto session = open_session(global, Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto& registry = *session->registry;
  if (ref->tag && !ref->digest && !options.manifest) {
    if (auto ok = registry.delete_tag(ref->repository, *ref->tag); !ok) {
      return std::unexpected(ok.error());
    }
    std::cout << "deleted tag " << ref->repository << ":" << *ref->tag << '\n';
    return k_exit_ok;
  }
  auto manifest = registry.get_manifest(ref->repository, ref->target());
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  if (auto ok = registry.delete_manifest(ref->repository, manifest->digest); !ok) {
    return std::unexpected(ok.error());
  }
  std::cout << "deleted manifest " << ref->repository << "@" << manifest->digest.str() << '\n';
  return k_exit_ok;
}

}  // namespace

void add_rm(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<RmOptions>();
  auto* cmd = app.add_subcommand("rm", "Delete a tag, a manifest and every tag pointing at it, or a whole repository");
  cmd->add_option("REF", options->reference, "REPO:TAG (the tag) or REPO@DIGEST (the manifest)");
  cmd->add_flag("--manifest", options->manifest, "With REPO:TAG, delete the manifest the tag points to");
  cmd->add_option("--repository", options->repository,
                  "Delete this whole repository: every tag, manifest and blob link (not nested repositories)");
  cmd->footer(
      "Blob data stays until garbage collection. Safe while regd instances serve; an immutable tag\n"
      "(regd --immutable-tags) is never deleted, and --repository then removes nothing.\n"
      "Examples:\n"
      "  regctl --root /srv/registry rm team/app:old\n"
      "  regctl rm team/app@sha256:...\n"
      "  regctl rm --manifest team/app:broken\n"
      "  regctl rm --repository team/old-app && regctl gc");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_rm(*options, global); }; });
}

}  // namespace regd::cli
