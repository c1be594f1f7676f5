// regctl gc: online garbage collection (docs/gc.md), safe while regd instances serve the tree.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "gc_options.h"
#include "leftover_report.h"
#include "output.h"
#include "progress.h"
#include "regd/gc.h"
#include "text_format.h"

namespace regd::cli {
namespace {

struct GcCliOptions {
  bool dry_run = false;
  bool delete_untagged = false;
  GraceOptions grace;
  std::string upload_ttl = "7d";
  bool json = false;
  bool verbose = false;
};

nlohmann::json incomplete_json(const GcReport& report) {
  nlohmann::json incomplete = nlohmann::json::array();
  for (const GcIncomplete& repo : report.incomplete) {
    incomplete.push_back({{"repository", repo.repository}, {"reason", repo.reason}});
  }
  return incomplete;
}

nlohmann::json report_json(const GcReport& report, bool dry_run) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const BlobInfo& blob : report.removed_blobs) {
    blobs.push_back({{"digest", blob.digest.str()}, {"size", blob.size}});
  }
  nlohmann::json leftovers = nlohmann::json::array();
  for (const Leftover& leftover : report.leftovers) {
    leftovers.push_back(leftover_json(leftover, report.t0));
  }
  return {{"dry_run", dry_run},
          {"complete", report.incomplete.empty()},
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
          {"leftovers_removed", report.leftovers_removed},
          {"removed_blobs", blobs},
          {"removed_manifests", report.removed_manifests},
          {"removed_uploads", report.removed_uploads},
          {"leftovers", leftovers},
          {"incomplete", incomplete_json(report)}};
}

void print_removed(const GcReport& report, const std::string& verb) {
  for (const BlobInfo& blob : report.removed_blobs) {
    std::cout << verb << " blob " << blob.digest.str() << " (" << human_size(blob.size) << ")\n";
  }
  for (const std::string& manifest : report.removed_manifests) {
    std::cout << verb << " manifest " << manifest << '\n';
  }
  for (const std::string& upload : report.removed_uploads) {
    std::cout << verb << " upload " << upload << '\n';
  }
  for (const Leftover& leftover : report.leftovers) {
    std::cout << verb << " leftover " << leftover_line(leftover, report.t0) << '\n';
  }
}

void print_report(const GcReport& report, const GcCliOptions& options) {
  std::string verb = options.dry_run ? "would remove" : "removed";
  if (options.verbose) {
    print_removed(report, verb);
  }
  uint64_t leftovers = options.dry_run ? report.leftovers.size() : report.leftovers_removed;
  std::cout << verb << ": " << counted(report.blobs_removed, "blob") << " (" << human_size(report.bytes_removed)
            << "), " << counted(report.manifests_removed, "manifest") << ", "
            << counted(report.uploads_removed, "upload") << " (" << human_size(report.upload_bytes_removed) << "), "
            << counted(leftovers, "crash leftover") << '\n'
            << "kept: " << counted(report.blobs_marked, "referenced blob") << ", " << report.blobs_young
            << " unreferenced inside the grace window, " << report.blobs_restored
            << " put back after a concurrent write; " << counted(report.repositories, "repository", "repositories")
            << ", " << counted(report.manifests_marked, "manifest") << '\n';
}

// On stderr whatever the output format: a cron job's mail shows it.
void warn_incomplete(const GcReport& report) {
  for (const GcIncomplete& repo : report.incomplete) {
    std::cerr << "regctl: warning: repository " << repo.repository
              << " could not be fully marked, every blob it links was kept: " << repo.reason << '\n';
  }
  if (!report.incomplete.empty()) {
    std::cerr << "regctl: warning: run 'regctl verify " << report.incomplete.front().repository
              << (report.incomplete.size() > 1 ? " ...'" : "'") << " to find what is broken\n";
  }
}

Result<GcOptions> gc_options(const GcCliOptions& cli) {
  GcOptions options;
  options.dry_run = cli.dry_run;
  options.delete_untagged = cli.delete_untagged;
  options.holder = lease_holder();
  auto grace = checked_grace(cli.grace);
  if (!grace) {
    return std::unexpected(grace.error());
  }
  auto ttl = parse_duration_flag("--upload-ttl", cli.upload_ttl);
  if (!ttl) {
    return std::unexpected(ttl.error());
  }
  options.grace = *grace;
  options.upload_ttl = *ttl;
  return options;
}

Result<int> run_gc(const GcCliOptions& cli, const GlobalOptions& global) {
  auto options = gc_options(cli);
  if (!options) {
    return std::unexpected(options.error());
  }
  auto session = open_session(global, cli.dry_run ? Access::read : Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  Progress progress(show_progress(global), cli.dry_run ? "gc (dry run)" : "gc");
  uint64_t last_done = 0;
  auto report = collect_garbage(session->storage, *options, [&](std::string_view, uint64_t done, uint64_t) {
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
  warn_incomplete(*report);
  return report->incomplete.empty() ? k_exit_ok : k_exit_incomplete;
}

}  // namespace

void add_gc(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<GcCliOptions>();
  auto* cmd =
      app.add_subcommand("gc", "Collect garbage online: blobs, manifests, uploads and crash leftovers nothing needs");
  cmd->add_flag("-n,--dry-run", options->dry_run, "Report what would be removed; change nothing");
  cmd->add_flag("--delete-untagged", options->delete_untagged,
                "Also remove manifests no tag reaches (index children and referrers of kept ones stay)");
  add_grace_options(*cmd, options->grace, "everything");
  cmd->add_option("--upload-ttl", options->upload_ttl, "Remove upload sessions older than this (s, m, h, d)")
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->add_flag("-v,--verbose", options->verbose, "List every removed blob, manifest, upload and leftover");
  cmd->footer(
      "Safe while regd instances push and pull: one GC at a time (a lease in storage), and a blob a\n"
      "writer relies on is never removed (see docs/gc.md). The grace window must exceed the link\n"
      "refresh interval the regd instances run with (--link-refresh, default regd's); --force skips\n"
      "that rule, for a registry no regd serves. A repository that cannot be fully marked keeps\n"
      "every blob it links and is reported; GC goes on elsewhere.\n"
      "Exit status: 0 done, 6 done but some repositories could not be fully marked (run regctl\n"
      "verify), 5 another GC holds the lease, 2 bad options (e.g. --grace 10 without a unit).\n"
      "Examples:\n"
      "  regctl --root /srv/registry gc --dry-run -v\n"
      "  regctl gc --delete-untagged --json\n"
      "  regctl gc --grace 0 --force             (registry stopped)\n"
      "  17 3 * * *  regctl --root /srv/registry gc --quiet   (crontab)");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_gc(*options, global); }; });
}

}  // namespace regd::cli
