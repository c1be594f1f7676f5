#include "remote_transfer.h"

#include <iostream>

#include "exit_codes.h"
#include "output.h"
#include "progress.h"
#include "regd/remote_copy.h"

namespace regd::cli {

namespace {

// One end as given on the command line.
struct EndArg {
  bool remote = false;
  remote::RemoteRef ref;  // host empty for the storage tree
};

Result<EndArg> parse_end(std::string_view text) {
  if (remote::is_docker_ref(text)) {
    auto ref = parse_remote_arg(text);
    if (!ref) {
      return std::unexpected(ref.error());
    }
    return EndArg{true, std::move(*ref)};
  }
  auto ref = parse_reference_arg(text);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  return EndArg{false, remote::RemoteRef{"", ref->repository, ref->tag, ref->digest}};
}

std::string display(const EndArg& end) {
  return end.remote ? "docker://" + end.ref.host + "/" + end.ref.repository : end.ref.repository;
}

void print_report(const TransferOptions& options, const GlobalOptions& global, const EndArg& target,
                  const std::string& tag, const Descriptor& top, const sync::RemoteCopyStats& stats,
                  uint64_t requests) {
  if (options.json) {
    print_json({{"source", options.source},
                {"destination", display(target)},
                {"tag", tag},
                {"digest", top.digest.str()},
                {"mediaType", top.media_type},
                {"manifests_copied", stats.manifests_copied},
                {"manifests_present", stats.manifests_present},
                {"blobs_copied", stats.blobs_copied},
                {"blobs_present", stats.blobs_present},
                {"blobs_mounted", stats.blobs_mounted},
                {"bytes_copied", stats.bytes_copied},
                {"requests", requests}});
    return;
  }
  std::cout << display(target) << (tag.empty() ? "" : ":" + tag) << "@" << top.digest.str() << '\n';
  if (!global.quiet) {
    std::cerr << "copied " << stats.manifests_copied << " manifests, " << stats.blobs_copied << " blobs ("
              << human_size(stats.bytes_copied) << "); already there: " << stats.manifests_present << " manifests, "
              << stats.blobs_present << " blobs; mounted " << stats.blobs_mounted << " blobs\n";
  }
}

}  // namespace

void add_transfer_options(CLI::App* cmd, TransferOptions& options, bool referrers_flag) {
  if (referrers_flag) {
    cmd->add_flag("--referrers", options.referrers,
                  "docker://: also copy the manifests referring to the image (signatures, SBOMs)");
  }
  cmd->add_option("--mount-from", options.mount_from,
                  "docker:// target: try a cross-repository mount from these repositories of the target registry "
                  "before uploading a blob (repeatable)")
      ->allow_extra_args(false);
  add_remote_options(cmd, options.remote);
}

Result<int> run_transfer(const TransferOptions& options, const GlobalOptions& global) {
  auto source = parse_end(options.source);
  if (!source) {
    return std::unexpected(source.error());
  }
  auto target = parse_end(options.target);
  if (!target) {
    return std::unexpected(target.error());
  }
  if (target->ref.digest) {
    return fail(Errc::invalid_argument, "target " + options.target + " must be REPO or REPO:TAG");
  }
  std::optional<Session> session;
  if (!source->remote || !target->remote) {
    auto opened = open_session(global, target->remote ? Access::read : Access::create);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    session = std::move(*opened);
  }
  std::unique_ptr<remote::Client> source_client;
  std::unique_ptr<remote::Client> target_client;
  std::unique_ptr<sync::ImageEnd> from;
  std::unique_ptr<sync::ImageEnd> to;
  sync::RemoteCopyOptions copy_options{options.referrers, options.mount_from};
  if (source->remote) {
    auto client = open_remote(source->ref.host, options.remote);
    if (!client) {
      return std::unexpected(client.error());
    }
    source_client = std::move(*client);
    from = sync::remote_end(*source_client, source->ref.repository);
  } else {
    from = sync::local_end(*session->registry, source->ref.repository);
  }
  if (target->remote) {
    auto client = open_remote(target->ref.host, options.remote);
    if (!client) {
      return std::unexpected(client.error());
    }
    target_client = std::move(*client);
    to = sync::remote_end(*target_client, target->ref.repository);
    if (source->remote && source->ref.host == target->ref.host && source->ref.repository != target->ref.repository) {
      copy_options.mount_from.push_back(source->ref.repository);  // same registry: mount, never upload
    }
  } else {
    to = sync::local_end(*session->registry, target->ref.repository);
  }
  std::string tag = target->ref.tag.value_or(source->ref.tag.value_or(source->ref.digest ? "" : "latest"));
  Progress progress(show_progress(global), "copy " + display(*source));
  sync::ImageCopier copier(*from, *to, copy_options, progress);
  auto top = copier.copy(source->ref.target(), tag);
  progress.finish();
  if (!top) {
    return std::unexpected(top.error());
  }
  uint64_t requests =
      (source_client ? source_client->stats().requests : 0) + (target_client ? target_client->stats().requests : 0);
  print_report(options, global, *target, tag, *top, copier.stats(), requests);
  return k_exit_ok;
}

}  // namespace regd::cli
