// regctl prune [REPO...]: retention for cron. Removes the tags a policy does not keep and the
// manifests no tag reaches any more, safely while regd instances serve (regd/retention.h); blob
// data is left to gc.
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "exit_codes.h"
#include "gc_options.h"
#include "output.h"
#include "regd/retention.h"
#include "text_format.h"

namespace regd::cli {
namespace {

struct PruneCliOptions {
  std::vector<std::string> repositories;
  std::string match;
  uint64_t keep = 0;
  const CLI::Option* keep_option = nullptr;  // --keep given (0 is refused, not "no rule")
  std::string keep_within;
  std::string untagged_older_than;
  std::string link_refresh;
  bool dry_run = false;
  bool json = false;
};

nlohmann::json tag_json(const PrunedTag& tag) {
  return {
      {"repository", tag.repository}, {"tag", tag.tag}, {"digest", tag.digest.str()}, {"pushed", utc_time(tag.pushed)}};
}

nlohmann::json report_json(const PruneReport& report, bool dry_run) {
  auto tags = [](const std::vector<PrunedTag>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const PrunedTag& tag : list) {
      out.push_back(tag_json(tag));
    }
    return out;
  };
  nlohmann::json manifests = nlohmann::json::array();
  for (const PrunedManifest& manifest : report.removed_manifests) {
    manifests.push_back({{"repository", manifest.repository},
                         {"digest", manifest.digest.str()},
                         {"pushed", utc_time(manifest.pushed)}});
  }
  nlohmann::json incomplete = nlohmann::json::array();
  for (const GcIncomplete& repo : report.incomplete) {
    incomplete.push_back({{"repository", repo.repository}, {"reason", repo.reason}});
  }
  return {{"dry_run", dry_run},
          {"repositories", report.repositories},
          {"tags_kept", report.tags_kept},
          {"removed_tags", tags(report.removed_tags)},
          {"removed_manifests", manifests},
          {"immutable", tags(report.immutable)},
          {"moved", tags(report.moved)},
          {"incomplete", incomplete}};
}

void print_report(const PruneReport& report, bool dry_run) {
  std::string verb = dry_run ? "would remove" : "removed";
  for (const PrunedTag& tag : report.removed_tags) {
    std::cout << verb << " tag " << tag.repository << ":" << tag.tag << " (" << tag.digest.str() << ", pushed "
              << utc_time(tag.pushed) << ")\n";
  }
  for (const PrunedManifest& manifest : report.removed_manifests) {
    std::cout << verb << " manifest " << manifest.repository << "@" << manifest.digest.str() << " (untagged, pushed "
              << utc_time(manifest.pushed) << ")\n";
  }
  for (const PrunedTag& tag : report.immutable) {
    std::cout << "kept immutable tag " << tag.repository << ":" << tag.tag << '\n';
  }
  for (const PrunedTag& tag : report.moved) {
    std::cout << "kept tag " << tag.repository << ":" << tag.tag << " (pushed again while pruning)\n";
  }
  std::cout << verb << ": " << counted(report.removed_tags.size(), "tag") << ", "
            << counted(report.removed_manifests.size(), "untagged manifest") << "; kept "
            << counted(report.tags_kept + report.immutable.size() + report.moved.size(), "tag") << " in "
            << counted(report.repositories, "repository", "repositories")
            << (dry_run ? "" : "; run regctl gc to reclaim the blobs") << '\n';
}

Result<std::optional<std::chrono::seconds>> optional_duration(std::string_view flag, const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto parsed = parse_duration_flag(flag, text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  return *parsed;
}

Result<PruneOptions> prune_options(const PruneCliOptions& cli, const GlobalOptions& global) {
  PruneOptions options;
  options.repositories = cli.repositories;
  options.dry_run = cli.dry_run;
  options.holder = lease_holder();
  auto match = parse_tag_patterns(cli.match);
  auto immutable = parse_tag_patterns(global.immutable_tags);
  auto within = optional_duration("--keep-within", cli.keep_within);
  if (!match || !immutable || !within) {
    const Error& error = !match ? match.error() : !immutable ? immutable.error() : within.error();
    return fail(Errc::invalid_argument, (!match       ? "--match: "
                                         : !immutable ? "--immutable-tags: "
                                                      : "") +
                                            error.message);
  }
  options.policy.match = std::move(*match);
  options.immutable_tags = std::move(*immutable);
  options.policy.keep_within = *within;
  if (cli.keep_option->count() > 0) {
    if (cli.keep == 0) {
      return fail(Errc::invalid_argument, "--keep 0 keeps nothing: to delete tags, use regctl rm");
    }
    options.policy.keep_newest = cli.keep;
  }
  if (!cli.untagged_older_than.empty()) {
    auto age = checked_window("--untagged-older-than", cli.untagged_older_than, cli.link_refresh, false);
    if (!age) {
      return std::unexpected(age.error());
    }
    options.policy.untagged_older_than = *age;
  }
  if (!options.policy.active()) {
    return fail(Errc::invalid_argument, "prune needs a rule: --keep N, --keep-within D or --untagged-older-than D");
  }
  return options;
}

Result<int> run_prune(const PruneCliOptions& cli, const GlobalOptions& global) {
  for (const auto& repo : cli.repositories) {
    if (auto ok = validate_repository(repo); !ok) {
      return fail(Errc::invalid_argument, "invalid repository \"" + repo + "\": " + ok.error().message);
    }
  }
  auto options = prune_options(cli, global);
  if (!options) {
    return std::unexpected(options.error());
  }
  auto session = open_session(global, cli.dry_run ? Access::read : Access::write);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto report = prune(session->storage, *options);
  if (!report) {
    return std::unexpected(report.error());
  }
  if (cli.json) {
    print_json(report_json(*report, cli.dry_run));
  } else if (!global.quiet) {
    print_report(*report, cli.dry_run);
  }
  for (const GcIncomplete& repo : report->incomplete) {
    std::cerr << "regctl: warning: repository " << repo.repository
              << ": untagged manifests kept, a manifest could not be read: " << repo.reason << '\n';
  }
  return report->incomplete.empty() ? k_exit_ok : k_exit_incomplete;
}

}  // namespace

void add_prune(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<PruneCliOptions>();
  auto* cmd = app.add_subcommand("prune", "Retention: remove old tags and untagged manifests by policy (for cron)");
  cmd->add_option("REPO", options->repositories, "Repositories to prune (default: all)");
  cmd->add_option("--match", options->match,
                  "The tag rules apply to tags matching these comma-separated patterns (default: every tag)");
  options->keep_option = cmd->add_option("--keep", options->keep, "Keep the N most recently pushed matching tags");
  cmd->add_option("--keep-within", options->keep_within, "Keep matching tags pushed within this (s, m, h, d)");
  cmd->add_option("--untagged-older-than", options->untagged_older_than,
                  "Remove manifests no tag reaches whose last push is older than this (must exceed --link-refresh)");
  add_link_refresh_option(*cmd, options->link_refresh);
  cmd->add_flag("-n,--dry-run", options->dry_run, "Report what would be removed; change nothing");
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->footer(
      "A matching tag goes when neither --keep nor --keep-within keeps it (with both, either keeps it);\n"
      "other tags always stay. Then manifests no remaining tag reaches (index children and referrers\n"
      "of kept images stay) go once older than --untagged-older-than. Safe while regd instances serve:\n"
      "it takes the GC lease, a tag pushed again meanwhile is kept, immutable tags (--immutable-tags)\n"
      "are never removed. Blob data is left to regctl gc.\n"
      "Exit status: 0 done, 5 another GC or prune holds the lease, 6 done but some repositories' untagged\n"
      "manifests were kept (a manifest did not read).\n"
      "Examples:\n"
      "  regctl prune --match 'pr-*' --keep-within 14d --dry-run\n"
      "  regctl prune --keep 10 --match 'v*,build-*' --untagged-older-than 7d team/app\n"
      "  30 2 * * *  regctl --root /srv/registry prune -q --keep 20 --untagged-older-than 3d && regctl gc -q");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_prune(*options, global); }; });
}

}  // namespace regd::cli
