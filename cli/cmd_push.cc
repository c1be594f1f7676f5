// regctl push SRC REPO[:TAG]: an image from an OCI layout or archive into the storage tree.
#include <iostream>
#include <memory>

#include "commands.h"
#include "endpoints.h"
#include "exit_codes.h"
#include "image_copy.h"
#include "output.h"
#include "remote_transfer.h"

namespace regd::cli {
namespace {

struct PushOptions {
  std::string source;
  std::string target;
  bool all = false;
  bool json = false;
  TransferOptions transfer;  // a docker:// source
};

struct Pushed {
  Descriptor descriptor;
  std::string tag;
};

// The images to push and the tag each gets (empty: untagged).
Result<std::vector<Pushed>> choose_images(const PushOptions& options, const Endpoint& source, const Reference& target) {
  std::vector<Pushed> chosen;
  if (options.all) {
    if (target.tag) {
      return fail(Errc::invalid_argument, "--all tags each image with its own ref name: give REPO without a tag");
    }
    for (const auto& entry : source.layout->entries()) {
      std::string name = ref_name_of(entry);
      chosen.push_back(Pushed{entry, validate_tag(name) ? name : std::string()});
    }
    return chosen;
  }
  auto descriptor = source.layout->resolve(source.location.ref);
  if (!descriptor) {
    return std::unexpected(descriptor.error());
  }
  std::string tag = target.tag.value_or(ref_name_of(*descriptor));
  if (!validate_tag(tag)) {
    tag = "latest";
  }
  chosen.push_back(Pushed{*descriptor, tag});
  return chosen;
}

void print_report(const PushOptions& options, const GlobalOptions& global, const nlohmann::json& report,
                  const CopyStats& stats) {
  if (options.json) {
    print_json({{"images", report},
                {"manifests", stats.manifests},
                {"blobs_written", stats.blobs_copied},
                {"blobs_present", stats.blobs_skipped},
                {"bytes_written", stats.bytes_copied}});
    return;
  }
  for (const auto& item : report) {
    std::string tag = item["tag"].get<std::string>();
    std::cout << item["repository"].get<std::string>() << (tag.empty() ? "" : ":" + tag) << "@"
              << item["digest"].get<std::string>() << '\n';
  }
  if (!global.quiet) {
    std::cerr << "pushed " << stats.manifests << " manifests, " << stats.blobs_copied << " blobs ("
              << human_size(stats.bytes_copied) << "), " << stats.blobs_skipped << " blobs already present\n";
  }
}

Result<int> run_push(const PushOptions& options, const GlobalOptions& global) {
  if (remote::is_docker_ref(options.source)) {
    if (options.all) {
      return fail(Errc::invalid_argument, "--all is for OCI layouts, not for a docker:// source");
    }
    TransferOptions transfer = options.transfer;
    transfer.source = options.source;
    transfer.target = options.target;
    transfer.json = options.json;
    return run_transfer(transfer, global);
  }
  auto location = parse_location(options.source);
  if (!location) {
    return std::unexpected(location.error());
  }
  auto target = parse_reference_arg(options.target);
  if (!target) {
    return std::unexpected(target.error());
  }
  if (target->digest) {
    return fail(Errc::invalid_argument, "push target " + options.target + " must be REPO or REPO:TAG");
  }
  auto source = open_source(*location);
  if (!source) {
    return std::unexpected(source.error());
  }
  auto images = choose_images(options, *source, *target);
  if (!images) {
    return std::unexpected(images.error());
  }
  auto session = open_session(global, Access::create);
  if (!session) {
    return std::unexpected(session.error());
  }
  Progress progress(show_progress(global), "push " + target->repository);
  Pusher pusher(*session->registry, *source->layout, target->repository, progress);
  nlohmann::json report = nlohmann::json::array();
  for (const auto& image : *images) {
    if (auto ok = pusher.push(image.descriptor); !ok) {
      return std::unexpected(ok.error());
    }
    if (!image.tag.empty()) {
      if (auto ok = session->registry->set_tag(target->repository, image.tag, image.descriptor.digest); !ok) {
        return std::unexpected(ok.error());
      }
    }
    report.push_back({{"repository", target->repository},
                      {"tag", image.tag},
                      {"digest", image.descriptor.digest.str()},
                      {"mediaType", image.descriptor.media_type}});
  }
  progress.finish();
  print_report(options, global, report, pusher.stats());
  return k_exit_ok;
}

}  // namespace

void add_push(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<PushOptions>();
  auto* cmd =
      app.add_subcommand("push", "Store an image from an OCI layout, an archive or another registry into a repository");
  cmd->add_option("SRC", options->source,
                  "oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG] or "
                  "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("REPO[:TAG]", options->target,
                  "Destination repository and tag (default: the source's ref name, "
                  "else latest)")
      ->required();
  cmd->add_flag("--all", options->all, "Push every image of the layout, each tagged with its ref name");
  cmd->add_flag("--json", options->json, "Print a JSON report");
  add_transfer_options(cmd, options->transfer, true);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry push oci:./layout:v1 team/app:v1\n"
      "  regctl push oci-archive:app.tar team/app:latest\n"
      "  regctl push docker-archive:saved.tar team/app:1.2\n"
      "  regctl push --all oci:./layout team/app\n"
      "  regctl push --authfile auth.json docker://registry.example:5000/team/app:v1 mirror/app:v1");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_push(*options, global); }; });
}

}  // namespace regd::cli
