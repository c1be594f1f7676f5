// regctl tag SRC DST: point a tag at a manifest already in the repository.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"

namespace regd::cli {
namespace {

struct TagOptions {
  std::string source;
  std::string target;
};

// DST is a bare tag, or REPO:TAG naming the source's repository.
Result<std::string> target_tag(const Reference& source, const std::string& target) {
  if (validate_tag(target)) {
    return target;
  }
  auto ref = parse_reference_arg(target);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  if (!ref->tag || ref->digest) {
    return fail(Errc::invalid_argument, "tag target \"" + target + "\" must be TAG or REPO:TAG");
  }
  if (ref->repository != source.repository) {
    return fail(Errc::invalid_argument,
                "tag stays within one repository; use regctl cp to copy into " + ref->repository);
  }
  return *ref->tag;
}

Result<int> run_tag(const TagOptions& options, const GlobalOptions& global) {
  auto source = parse_reference_arg(options.source);
  if (!source) {
    return std::unexpected(source.error());
  }
  if (source->target().empty()) {
    return fail(Errc::invalid_argument, "tag source \"" + options.source + "\" needs :TAG or @DIGEST");
  }
  auto tag = target_tag(*source, options.target);
  if (!tag) {
    return std::unexpected(tag.error());
  }
  auto session = open_session(global, Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto manifest = session->registry->get_manifest(source->repository, source->target());
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  if (auto ok = session->registry->set_tag(source->repository, *tag, manifest->digest); !ok) {
    return std::unexpected(ok.error());
  }
  std::cout << source->repository << ":" << *tag << "@" << manifest->digest.str() << '\n';
  return k_exit_ok;
}

}  // namespace

void add_tag(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<TagOptions>();
  auto* cmd = app.add_subcommand("tag", "Point a tag at a manifest of the same repository");
  cmd->add_option("SRC", options->source, "REPO:TAG or REPO@DIGEST")->required();
  cmd->add_option("DST", options->target, "TAG or REPO:TAG (same repository)")->required();
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry tag team/app:v1.2.3 stable\n"
      "  regctl tag team/app@sha256:... team/app:rollback");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_tag(*options, global); }; });
}

}  // namespace regd::cli
