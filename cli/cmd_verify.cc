// regctl verify [REPO...]: re-hash blobs and check links, manifests and uploads; exit 3 on
// corruption. Crash leftovers are listed apart (GC removes them); --repair removes them now.
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "commands.h"
#include "exit_codes.h"
#include "gc_options.h"
#include "leftover_report.h"
#include "output.h"
#include "regd/duration.h"
#include "text_format.h"
#include "verifier.h"

namespace regd::cli {
namespace {

struct VerifyCommandOptions {
  std::vector<std::string> repositories;
  unsigned jobs = 0;
  bool quarantine = false;
  bool json = false;
  bool repair = false;
  GraceOptions grace;
};

// What --repair did before the checks ran.
struct Repair {
  uint64_t removed = 0;
  std::vector<Leftover> leftovers;  // the removable ones it found (and removed unless a re-check kept them)
  Clock::time_point t0;
};

nlohmann::json problem_json(const Problem& p) {
  nlohmann::json item = {{"kind", p.kind}, {"detail", p.detail}};
  for (const auto& [key, value] : {std::pair{"repository", &p.repository}, std::pair{"digest", &p.digest},
                                   std::pair{"path", &p.path}, std::pair{"quarantined_to", &p.quarantined_to}}) {
    if (!value->empty()) {
      item[key] = *value;
    }
  }
  return item;
}

nlohmann::json report_json(const VerifyReport& report, const std::optional<Repair>& repair) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : report.problems) {
    problems.push_back(problem_json(p));
  }
  nlohmann::json leftovers = nlohmann::json::array();
  for (const auto& l : report.leftovers) {
    leftovers.push_back(leftover_json(l, report.t0));
  }
  nlohmann::json json = {{"ok", report.problems.empty()},
                         {"repositories", report.repositories},
                         {"blobs_checked", report.blobs_checked},
                         {"bytes_checked", report.bytes_checked},
                         {"links_checked", report.links_checked},
                         {"manifests_checked", report.manifests_checked},
                         {"uploads_checked", report.uploads_checked},
                         {"problems", problems},
                         {"leftovers", leftovers}};
  if (repair) {
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& l : repair->leftovers) {
      removed.push_back(leftover_json(l, repair->t0));
    }
    json["repair"] = {{"removed", repair->removed}, {"leftovers", removed}};
  }
  return json;
}

void print_human(const VerifyReport& report, const std::optional<Repair>& repair) {
  if (repair) {
    std::cout << "repair: removed " << counted(repair->removed, "leftover") << '\n';
    for (const auto& l : repair->leftovers) {
      std::cout << "  " << leftover_line(l, repair->t0) << '\n';
    }
  }
  for (const auto& p : report.problems) {
    std::string where = p.repository.empty() ? "" : p.repository + ": ";
    std::string what = !p.digest.empty() ? p.digest : p.path;
    std::cout << p.kind << ": " << where << what << ": " << p.detail;
    if (!p.quarantined_to.empty()) {
      std::cout << " (moved to " << p.quarantined_to << ")";
    }
    std::cout << '\n';
  }
  if (!report.leftovers.empty()) {
    std::cout << "leftovers GC will remove (interrupted writes, not corruption):\n";
    for (const auto& l : report.leftovers) {
      std::cout << "  " << leftover_line(l, report.t0) << '\n';
    }
  }
  std::cout << "checked " << counted(report.blobs_checked, "blob") << " (" << human_size(report.bytes_checked) << "), "
            << counted(report.links_checked, "link") << ", " << counted(report.manifests_checked, "manifest") << ", "
            << counted(report.uploads_checked, "upload") << " in "
            << counted(report.repositories.size(), "repository", "repositories") << ": "
            << counted(report.problems.size(), "problem") << ", " << counted(report.leftovers.size(), "leftover")
            << '\n';
}

// Removes the leftovers older than the grace window, under the GC lease (conflict: another GC).
Result<Repair> repair_leftovers(const Session& session, std::chrono::seconds grace) {
  LeftoverOptions options;
  options.dry_run = false;
  options.grace = grace;
  options.holder = lease_holder();
  auto done = collect_leftovers(session.storage, options);
  if (!done) {
    return fail(done.error().code, "verify --repair: " + done.error().message);
  }
  Repair repair{.removed = done->removed, .leftovers = {}, .t0 = done->t0};
  for (Leftover& leftover : done->found) {
    if (leftover.removable) {
      repair.leftovers.push_back(std::move(leftover));
    }
  }
  return repair;
}

Result<std::chrono::seconds> grace_of(const VerifyCommandOptions& options) {
  if (!options.repair) {
    return parse_duration_flag("--grace", options.grace.grace);
  }
  if (!options.repositories.empty()) {
    return fail(Errc::invalid_argument,
                "--repair works on the whole storage tree (it removes what GC would): run it without REPO");
  }
  return checked_grace(options.grace);
}

Result<int> run_verify(const VerifyCommandOptions& options, const GlobalOptions& global) {
  for (const auto& repo : options.repositories) {
    if (auto ok = validate_repository(repo); !ok) {
      return fail(Errc::invalid_argument, "invalid repository \"" + repo + "\": " + ok.error().message);
    }
  }
  auto grace = grace_of(options);
  if (!grace) {
    return std::unexpected(grace.error());
  }
  auto session = open_session(global, options.repair || options.quarantine ? Access::write : Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  std::optional<Repair> repair;
  if (options.repair) {
    auto repaired = repair_leftovers(*session, *grace);
    if (!repaired) {
      return std::unexpected(repaired.error());
    }
    repair = std::move(*repaired);
  }
  auto inspector = make_inspector(session->storage);
  VerifyOptions verify{.repositories = options.repositories,
                       .jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency()),
                       .quarantine = options.quarantine,
                       .grace = *grace};
  Result<VerifyReport> report = [&] {
    Progress progress(show_progress(global), "verify");
    return verify_storage(session->storage, *session->registry, *inspector, verify, progress);
  }();
  if (!report) {
    return std::unexpected(report.error());
  }
  if (options.json) {
    print_json(report_json(*report, repair));
  } else {
    print_human(*report, repair);
  }
  return report->problems.empty() ? k_exit_ok : k_exit_problems;
}

}  // namespace

void add_verify(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<VerifyCommandOptions>();
  auto* cmd =
      app.add_subcommand("verify", "Re-hash blobs and check links, manifests and uploads (exit 3 on corruption)");
  cmd->add_option("REPO", options->repositories, "Repositories to check (default: all, and every stored blob)");
  cmd->add_option("-j,--jobs", options->jobs, "Blobs hashed in parallel (default: number of cores)");
  cmd->add_flag("--quarantine", options->quarantine,
                "Move corrupt blobs to docker/registry/v2/_quarantine/ so that a re-push stores them afresh");
  cmd->add_flag("--repair", options->repair,
                "First remove crash leftovers older than --grace, as GC does (takes the GC lease; whole tree only)");
  add_grace_options(*cmd, options->grace, "leftovers");
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->footer(
      "Leftovers of interrupted writes (a link or upload session a killed writer left, temp files) are\n"
      "listed apart from problems: GC removes them once older than the grace window.\n"
      "Exit status: 0 when nothing is corrupt (leftovers alone are fine), 3 when problems were found,\n"
      "5 when --repair finds another GC holding the lease.\n"
      "Examples:\n"
      "  regctl --root /srv/registry verify\n"
      "  regctl verify --jobs 4 --json team/app | jq '.problems[]'\n"
      "  regctl verify --json | jq '.leftovers[] | select(.removable)'\n"
      "  regctl verify --repair\n"
      "  regctl verify --quarantine && regctl push oci:./layout:v1 team/app:v1");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_verify(*options, global); }; });
}

}  // namespace regd::cli
