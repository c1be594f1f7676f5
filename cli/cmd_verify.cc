// regctl verify [REPO...]: re-hash blobs and check links, manifests and uploads; exit 3 when
// anything is wrong.
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "verifier.h"

namespace regd::cli {
namespace {

struct VerifyCommandOptions {
  std::vector<std::string> repositories;
  unsigned jobs = 0;
  bool quarantine = false;
  bool json = false;
};

nlohmann::json report_json(const VerifyReport& report) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : report.problems) {
    nlohmann::json item = {{"kind", p.kind}, {"detail", p.detail}};
    for (const auto& [key, value] : {std::pair{"repository", &p.repository}, std::pair{"digest", &p.digest},
                                     std::pair{"path", &p.path}, std::pair{"quarantined_to", &p.quarantined_to}}) {
      if (!value->empty()) {
        item[key] = *value;
      }
    }
    problems.push_back(std::move(item));
  }
  return {{"ok", report.problems.empty()},
          {"repositories", report.repositories},
          {"blobs_checked", report.blobs_checked},
          {"bytes_checked", report.bytes_checked},
          {"links_checked", report.links_checked},
          {"manifests_checked", report.manifests_checked},
          {"uploads_checked", report.uploads_checked},
          {"problems", problems}};
}

void print_human(const VerifyReport& report) {
  for (const auto& p : report.problems) {
    std::string where = p.repository.empty() ? "" : p.repository + ": ";
    std::string what = !p.digest.empty() ? p.digest : p.path;
    std::cout << p.kind << ": " << where << what << ": " << p.detail;
    if (!p.quarantined_to.empty()) {
      std::cout << " (moved to " << p.quarantined_to << ")";
    }
    std::cout << '\n';
  }
  std::cout << "checked " << report.blobs_checked << " blobs (" << human_size(report.bytes_checked) << "), "
            << report.links_checked << " links, " << report.manifests_checked << " manifests, "
            << report.uploads_checked << " uploads in " << report.repositories.size()
            << " repositories: " << report.problems.size() << " problems\n";
}

Result<int> run_verify(const VerifyCommandOptions& options, const GlobalOptions& global) {
  for (const auto& repo : options.repositories) {
    if (auto ok = validate_repository(repo); !ok) {
      return fail(Errc::invalid_argument, "invalid repository \"" + repo + "\": " + ok.error().message);
    }
  }
  auto session = open_session(global, false);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto inspector = make_inspector(session->storage);
  VerifyOptions verify{.repositories = options.repositories,
                       .jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency()),
                       .quarantine = options.quarantine};
  Result<VerifyReport> report = [&] {
    Progress progress(show_progress(global), "verify");
    return verify_storage(*session->registry, *inspector, verify, progress);
  }();
  if (!report) {
    return std::unexpected(report.error());
  }
  if (options.json) {
    print_json(report_json(*report));
  } else {
    print_human(*report);
  }
  return report->problems.empty() ? k_exit_ok : k_exit_problems;
}

}  // namespace

void add_verify(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<VerifyCommandOptions>();
  auto* cmd = app.add_subcommand("verify", "Re-hash blobs and check links, manifests and uploads (exit 3 on problems)");
  cmd->add_option("REPO", options->repositories, "Repositories to check (default: all, and every stored blob)");
  cmd->add_option("-j,--jobs", options->jobs, "Blobs hashed in parallel (default: number of cores)");
  cmd->add_flag("--quarantine", options->quarantine,
                "Move corrupt blobs to docker/registry/v2/_quarantine/ so that a re-push stores them afresh");
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->footer(
      "Exit status: 0 when everything checks out, 3 when problems were found.\n"
      "Examples:\n"
      "  regctl --root /srv/registry verify\n"
      "  regctl verify --jobs 4 --json team/app | jq '.problems[]'\n"
      "  regctl verify --quarantine && regctl push oci:./layout:v1 team/app:v1");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_verify(*options, global); }; });
}

}  // namespace regd::cli
