// regctl pull REPO[:TAG|@DIGEST] DEST: an image from the storage tree into an OCI layout or
// oci-archive, byte for byte.
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

struct PullOptions {
  std::string source;
  std::string destination;
  bool referrers = false;
  bool json = false;
  TransferOptions transfer;  // a docker:// destination
};

// The layout's ref name: the one in DEST, else the tag pulled (latest when none); a digest pull
// stays unnamed.
std::optional<std::string> layout_ref_name(const Location& location, const Reference& source) {
  if (!location.ref.empty()) {
    return location.ref;
  }
  if (source.digest) {
    return std::nullopt;
  }
  return source.tag.value_or("latest");
}

void print_report(const PullOptions& options, const GlobalOptions& global, const Reference& source,
                  const Descriptor& pulled, const std::optional<std::string>& ref_name, const CopyStats& stats) {
  if (options.json) {
    print_json({{"repository", source.repository},
                {"digest", pulled.digest.str()},
                {"mediaType", pulled.media_type},
                {"destination", options.destination},
                {"ref_name", ref_name.value_or("")},
                {"manifests", stats.manifests},
                {"blobs_written", stats.blobs_copied},
                {"blobs_present", stats.blobs_skipped},
                {"bytes_written", stats.bytes_copied}});
    return;
  }
  std::cout << pulled.digest.str() << '\n';
  if (!global.quiet) {
    std::cerr << "pulled " << stats.manifests << " manifests, " << stats.blobs_copied << " blobs ("
              << human_size(stats.bytes_copied) << "), " << stats.blobs_skipped << " blobs already present\n";
  }
}

Result<int> run_pull(const PullOptions& options, const GlobalOptions& global) {
  if (remote::is_docker_ref(options.destination)) {
    TransferOptions transfer = options.transfer;
    transfer.source = options.source;
    transfer.target = options.destination;
    transfer.json = options.json;
    transfer.referrers = options.referrers;
    return run_transfer(transfer, global);
  }
  auto source = parse_reference_arg(options.source);
  if (!source) {
    return std::unexpected(source.error());
  }
  auto location = parse_location(options.destination);
  if (!location) {
    return std::unexpected(location.error());
  }
  auto session = open_session(global, Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  std::string reference = source->target().empty() ? "latest" : source->target();
  // Fail before creating anything at DEST when the image is not there.
  if (auto found = session->registry->get_manifest(source->repository, reference); !found) {
    return std::unexpected(found.error());
  }
  auto destination = open_destination(*location);
  if (!destination) {
    return std::unexpected(destination.error());
  }
  Progress progress(show_progress(global), "pull " + source->repository);
  Puller puller(*session->registry, source->repository, *destination->layout, progress);
  if (options.referrers) {
    puller.include_referrers();
  }
  auto pulled = puller.pull(reference);
  if (!pulled) {
    discard_destination(*destination, puller.added());
    return std::unexpected(pulled.error());
  }
  std::optional<std::string> ref_name = layout_ref_name(*location, *source);
  destination->layout->add_entry(*pulled, ref_name);
  for (const auto& referrer : puller.referrers()) {
    destination->layout->add_entry(referrer, std::nullopt);
  }
  if (auto ok = finish_destination(*destination); !ok) {
    discard_destination(*destination, puller.added());
    return std::unexpected(ok.error());
  }
  progress.finish();
  print_report(options, global, *source, *pulled, ref_name, puller.stats());
  return k_exit_ok;
}

}  // namespace

void add_pull(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<PullOptions>();
  auto* cmd = app.add_subcommand(
      "pull", "Copy an image (or a whole multi-arch index) into an OCI layout, an archive or another registry");
  cmd->add_option("REPO[:TAG|@DIGEST]", options->source, "Image to copy (default tag: latest)")->required();
  cmd->add_option("DEST", options->destination,
                  "oci:DIR[:REF], oci-archive:FILE[:REF] (an existing layout or archive is added to) or "
                  "docker://HOST[:PORT]/REPO[:TAG]")
      ->required();
  cmd->add_flag("--referrers", options->referrers,
                "Also copy the manifests referring to it (signatures, SBOMs), as unnamed index.json entries");
  cmd->add_flag("--json", options->json, "Print a JSON report");
  add_transfer_options(cmd, options->transfer, false);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry pull team/app:v1 oci:./layout:v1\n"
      "  regctl pull team/app@sha256:... oci-archive:app.tar:v1\n"
      "  regctl pull --referrers team/app:v1 oci:./signed && regctl push --all oci:./signed mirror/app\n"
      "  skopeo inspect oci:./layout:v1\n"
      "  regctl pull --creds alice:secret team/app:v1 docker://registry.example:5000/team/app:v1");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_pull(*options, global); }; });
}

}  // namespace regd::cli
