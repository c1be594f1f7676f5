// regctl rm REF: delete a tag, or a manifest by digest (with every tag pointing at it).
// Blob data stays until garbage collection.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"

namespace regd::cli {
namespace {

struct RmOptions {
  std::string reference;
  bool manifest = false;
};

Result<int> run_rm(const RmOptions& options, const GlobalOptions& global) {
  auto ref = parse_reference_arg(options.reference);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  if (ref->target().empty()) {
    return fail(Errc::invalid_argument, "rm needs REPO:TAG or REPO@DIGEST, not a bare repository");
  }
  auto session = open_session(global, false);
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
  auto* cmd = app.add_subcommand("rm", "Delete a tag, or a manifest and every tag pointing at it");
  cmd->add_option("REF", options->reference, "REPO:TAG (the tag) or REPO@DIGEST (the manifest)")->required();
  cmd->add_flag("--manifest", options->manifest, "With REPO:TAG, delete the manifest the tag points to");
  cmd->footer(
      "Blob data stays until garbage collection.\n"
      "Examples:\n"
      "  regctl --root /srv/registry rm team/app:old\n"
      "  regctl rm team/app@sha256:...\n"
      "  regctl rm --manifest team/app:broken");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_rm(*options, global); }; });
}

}  // namespace regd::cli
