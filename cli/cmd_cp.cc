// regctl cp SRC DST: copy an image between repositories of the same storage tree; blobs are
// linked, never copied.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "image_copy.h"
#include "output.h"
#include "remote_transfer.h"

namespace regd::cli {
namespace {

struct CpOptions {
  std::string source;
  std::string target;
  bool json = false;
  TransferOptions transfer;  // a docker:// end
};

Result<int> run_cp(const CpOptions& options, const GlobalOptions& global) {
  if (remote::is_docker_ref(options.source) || remote::is_docker_ref(options.target)) {
    TransferOptions transfer = options.transfer;
    transfer.source = options.source;
    transfer.target = options.target;
    transfer.json = options.json;
    return run_transfer(transfer, global);
  }
  auto source = parse_reference_arg(options.source);
  if (!source) {
    return std::unexpected(source.error());
  }
  auto target = parse_reference_arg(options.target);
  if (!target) {
    return std::unexpected(target.error());
  }
  if (target->digest) {
    return fail(Errc::invalid_argument, "cp target \"" + options.target + "\" must be REPO or REPO:TAG");
  }
  auto session = open_session(global, Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  RepoCopier copier(*session->registry, source->repository, target->repository);
  auto copied = copier.copy(source->target().empty() ? "latest" : source->target());
  if (!copied) {
    return std::unexpected(copied.error());
  }
  // Tag: DST's, else SRC's (or latest when SRC named none); a digest copy stays untagged.
  std::string tag = target->tag.value_or(source->tag.value_or(source->digest ? "" : "latest"));
  if (!tag.empty()) {
    if (auto ok = session->registry->set_tag(target->repository, tag, copied->digest); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (options.json) {
    print_json({{"repository", target->repository},
                {"tag", tag},
                {"digest", copied->digest.str()},
                {"mediaType", copied->media_type},
                {"manifests", copier.stats().manifests},
                {"blobs_linked", copier.stats().blobs_skipped}});
    return k_exit_ok;
  }
  std::cout << target->repository << (tag.empty() ? "" : ":" + tag) << "@" << copied->digest.str() << '\n';
  return k_exit_ok;
}

}  // namespace

void add_cp(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<CpOptions>();
  auto* cmd = app.add_subcommand(
      "cp",
      "Copy an image between repositories (blobs linked, not copied) or to, from or between registries (docker://)");
  cmd->add_option("SRC", options->source, "REPO[:TAG|@DIGEST] or docker://HOST[:PORT]/REPO[:TAG|@DIGEST]")->required();
  cmd->add_option("DST", options->target, "REPO[:TAG] or docker://HOST[:PORT]/REPO[:TAG] (default tag: the source's)")
      ->required();
  cmd->add_flag("--json", options->json, "Print a JSON report");
  add_transfer_options(cmd, options->transfer, true);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry cp staging/app:v2 prod/app:v2\n"
      "  regctl cp team/app@sha256:... archive/app:2024-01\n"
      "  regctl cp docker://registry.example:5000/team/app:v1 docker://mirror.example/team/app:v1");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_cp(*options, global); }; });
}

}  // namespace regd::cli
