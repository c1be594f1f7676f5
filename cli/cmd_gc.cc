// regctl gc: online garbage collection (docs/gc.md), safe while regd instances serve the tree.
#include <iostream>
#include <memory>

#include <unistd.h>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "progress.h"
#include "regd/duration.h"
#include "regd/gc.h"

namespace regd::cli {
namespace {

struct GcCliOptions {
  bool dry_run = false;
  bool delete_untagged = false;
  std::string grace = "1h";
  std::string upload_ttl = "7d";
  bool json = false;
  bool verbose = false;
};

std::string holder_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("regctl@") + host + ":" + std::to_string(::getpid());
}

nlohmann::json report_json(const GcReport& report, bool dry_run) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const BlobInfo& blob : report.removed_blobs) {
    blobs.push_back({{"digest", blob.digest.str()}, {"size", blob.size}});
  }
  return {{"dry_run", dry_run},
          {"repositories", report.repositories},
          {"manifests_marked", report.manifests_marked},
          {"blobs_marked", report.blobs_marked},
          {"blobs_young", report.blobs_young},
          {"blobs_restored", report.blobs_restored},
          {"blobs_removed", report.blobs_removed},
          {"bytes_removed", report.bytes_removed},
          {"manifests_removed", report.manifests_removed},
          {"uploads_removed", report.uploads_removed},
          {"upload_bytes_removed", report.upload_bytes_removed},
          {"removed_blobs", blobs},
          {"removed_manifests", report.removed_manifests},
          {"removed_uploads", report.removed_uploads}};
}

void print_report(const GcReport& report, const GcCliOptions& options) {
  std::string verb = options.dry_run ? "would remove" : "removed";
  if (options.verbose) {
    for (const BlobInfo& blob : report.removed_blobs) {
      std::cout << verb << " blob " << blob.digest.str() << " (" << human_size(blob.size) << ")\n";
    }
    for (const std::string& manifest : report.removed_manifests) {
      std::cout << verb << " manifest " << manifest << '\n';
    }
    for (const std::string& upload : report.removed_uploads) {
      std::cout << verb << " upload " << upload << '\n';
    }
  }
  std::cout << verb << ": " << report.blobs_removed << " blobs (" << human_size(report.bytes_removed) << "), "
            << report.manifests_removed << " manifests, " << report.uploads_removed << " uploads ("
            << human_size(report.upload_bytes_removed) << ")\n"
            << "kept: " << report.blobs_marked << " referenced blobs, " << report.blobs_young
            << " unreferenced inside the grace window, " << report.blobs_restored
            << " put back after a concurrent write; " << report.repositories << " repositories, "
            << report.manifests_marked << " manifests\n";
}

Result<int> run_gc(const GcCliOptions& cli, const GlobalOptions& global) {
  GcOptions options;
  options.dry_run = cli.dry_run;
  options.delete_untagged = cli.delete_untagged;
  options.holder = holder_name();
  auto grace = parse_duration(cli.grace);
  auto ttl = parse_duration(cli.upload_ttl);
  if (!grace || !ttl) {
    return std::unexpected(!grace ? grace.error() : ttl.error());
  }
  options.grace = *grace;
  options.upload_ttl = *ttl;
  auto session = open_session(global, false);
  if (!session) {
    return std::unexpected(session.error());
  }
  Progress progress(show_progress(global), cli.dry_run ? "gc (dry run)" : "gc");
  uint64_t last_done = 0;
  auto report = collect_garbage(session->storage, options, [&](std::string_view, uint64_t done, uint64_t) {
    if (done > last_done) {
      progress.add_item();
    }
    last_done = done;
  });
  progress.finish();
  if (!report) {
    return std::unexpected(report.error());
  }
  if (cli.json) {
    print_json(report_json(*report, cli.dry_run));
  } else if (!global.quiet || cli.verbose) {
    print_report(*report, cli);
  }
  return k_exit_ok;
}

}  // namespace

void add_gc(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<GcCliOptions>();
  auto* cmd = app.add_subcommand("gc", "Collect garbage online: blobs, manifests and uploads nothing needs");
  cmd->add_flag("-n,--dry-run", options->dry_run, "Report what would be removed; change nothing");
  cmd->add_flag("--delete-untagged", options->delete_untagged,
                "Also remove manifests no tag reaches (index children and referrers of kept ones stay)");
  cmd->add_option("--grace", options->grace, "Keep everything younger than this (s, m, h, d)")->capture_default_str();
  cmd->add_option("--upload-ttl", options->upload_ttl, "Remove upload sessions older than this")->capture_default_str();
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->add_flag("-v,--verbose", options->verbose, "List every removed blob, manifest and upload");
  cmd->footer(
      "Safe while regd instances push and pull: one GC at a time (a lease in storage), and a blob a\n"
      "writer relies on is never removed (see docs/gc.md). The grace window must exceed the writers'\n"
      "refresh interval (10 minutes). Exit 5 when another GC holds the lease.\n"
      "Examples:\n"
      "  regctl --root /srv/registry gc --dry-run -v\n"
      "  regctl gc --delete-untagged --json\n"
      "  17 3 * * *  regctl --root /srv/registry gc --quiet   (crontab)");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_gc(*options, global); }; });
}

}  // namespace regd::cli
