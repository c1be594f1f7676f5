// regctl sync FILE: mirrors repositories (tags chosen by globs, regexes, newest N) between the
// storage tree and other registries, copying only what the destination lacks. The engine is
// core's (regd/sync.h), which regd's --sync-file runs too; this command opens the tree, runs
// every rule once and prints the report.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "progress.h"
#include "regd/sync.h"
#include "remote_options.h"

namespace regd::cli {
namespace {

struct SyncOptions {
  std::string file;
  bool json = false;
  RemoteOptions remote;
};

nlohmann::json report_json(const sync::RuleReport& report) {
  const sync::RemoteCopyStats& stats = report.stats;
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& tag : report.tags) {
    tags.push_back({{"tag", tag.tag}, {"digest", tag.manifest.digest.str()}, {"mediaType", tag.manifest.media_type}});
  }
  return {{"manifests_copied", stats.manifests_copied},
          {"manifests_present", stats.manifests_present},
          {"blobs_copied", stats.blobs_copied},
          {"blobs_present", stats.blobs_present},
          {"blobs_mounted", stats.blobs_mounted},
          {"bytes_copied", stats.bytes_copied},
          {"source", report.source},
          {"target", report.target},
          {"tags", tags}};
}

void print_text(const nlohmann::json& mirrors, const GlobalOptions& global) {
  for (const auto& mirror : mirrors) {
    std::cout << mirror["source"].get<std::string>() << " -> " << mirror["target"].get<std::string>() << ": "
              << mirror["tags"].size() << " tags, copied " << mirror["manifests_copied"] << " manifests and "
              << mirror["blobs_copied"] << " blobs (" << human_size(mirror["bytes_copied"].get<uint64_t>()) << ")\n";
    if (!global.quiet) {
      for (const auto& tag : mirror["tags"]) {
        std::cout << "  " << tag["tag"].get<std::string>() << "@" << tag["digest"].get<std::string>() << '\n';
      }
    }
  }
}

Result<int> run_sync(const SyncOptions& options, const GlobalOptions& global) {
  auto rules = sync::load_sync_file(options.file);
  if (!rules) {
    return std::unexpected(rules.error());
  }
  auto client = client_options(options.remote);
  if (!client) {
    return std::unexpected(client.error());
  }
  std::optional<Session> session;
  if (sync::reads_storage(*rules) || sync::writes_storage(*rules)) {
    auto opened = open_session(global, sync::writes_storage(*rules) ? Access::create : Access::read);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    session = std::move(*opened);
  }
  sync::Syncer syncer(std::move(*client), session ? session->registry.get() : nullptr);
  Progress progress(show_progress(global), "sync");
  nlohmann::json mirrors = nlohmann::json::array();
  for (const auto& rule : *rules) {
    auto report = syncer.run(rule, progress);
    if (!report) {
      return std::unexpected(report.error());
    }
    mirrors.push_back(report_json(*report));
  }
  progress.finish();
  if (options.json) {
    print_json({{"mirrors", mirrors}, {"requests", syncer.requests()}});
  } else {
    print_text(mirrors, global);
  }
  return k_exit_ok;
}

}  // namespace

void add_sync(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<SyncOptions>();
  auto* cmd = app.add_subcommand("sync", "Mirror repositories between the storage tree and registries (docker://)");
  cmd->add_option("FILE", options->file,
                  "JSON file of mirrors: source, target, tags (globs or /regexes/), newest, "
                  "referrers (see regctl(1))")
      ->required();
  cmd->add_flag("--json", options->json, "Print a JSON report");
  add_remote_options(cmd, options->remote);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry sync --authfile auth.json mirrors.json\n"
      "  regctl sync --json mirrors.json | jq '.mirrors[].blobs_copied'\n"
      "A mirror: {\"source\": \"docker://127.0.0.1:5000/team/app\", \"target\": \"mirror/app\",\n"
      "           \"tags\": [\"v*\", \"/^release-[0-9]+$/\"], \"newest\": 3, \"referrers\": true}");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_sync(*options, global); }; });
}

}  // namespace regd::cli
