// regctl du [REPO...]: bytes each repository references, split into shared and unique, and the
// blob store's total including what no repository references.
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"
#include "regd/inspect.h"

namespace regd::cli {
namespace {

struct DuOptions {
  std::vector<std::string> repositories;
  bool json = false;
};

struct Usage {
  std::map<std::string, std::set<Digest>> repos;  // blobs each repository links
  std::map<Digest, unsigned> owners;              // number of repositories linking a blob
  std::map<Digest, uint64_t> sizes;               // every stored blob
};

Result<std::vector<std::string>> all_repositories(Registry& registry) {
  std::vector<std::string> names;
  std::string last;
  for (bool more = true; more;) {
    auto page = registry.list_repositories(k_list_page, last);
    if (!page) {
      return std::unexpected(page.error());
    }
    names.insert(names.end(), page->items.begin(), page->items.end());
    more = page->more && !page->items.empty();
    last = more ? page->items.back() : last;
  }
  return names;
}

Result<Usage> measure(Registry& registry, Inspector& inspector) {
  Usage usage;
  REGD_CLI_TRY(inspector.for_each_blob([&](const BlobInfo& blob) -> Status {
    usage.sizes[blob.digest] = blob.size;
    return {};
  }));
  auto names = all_repositories(registry);
  if (!names) {
    return std::unexpected(names.error());
  }
  for (const auto& name : *names) {
    auto links = inspector.list_links(name);
    if (!links) {
      return std::unexpected(links.error());
    }
    auto& blobs = usage.repos[name];
    for (const auto& link : *links) {
      bool blob_link = link.kind == LinkKind::layer || link.kind == LinkKind::revision;
      if (blob_link && link.target && usage.sizes.contains(*link.target) && blobs.insert(*link.target).second) {
        ++usage.owners[*link.target];
      }
    }
  }
  return usage;
}

nlohmann::json repo_json(const Usage& usage, const std::string& name) {
  uint64_t total = 0;
  uint64_t unique = 0;
  const auto& blobs = usage.repos.at(name);
  for (const auto& digest : blobs) {
    uint64_t size = usage.sizes.at(digest);
    total += size;
    unique += usage.owners.at(digest) == 1 ? size : 0;
  }
  return {{"name", name},
          {"blobs", blobs.size()},
          {"bytes", total},
          {"unique_bytes", unique},
          {"shared_bytes", total - unique}};
}

Result<int> run_du(const DuOptions& options, const GlobalOptions& global) {
  auto session = open_session(global, Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto inspector = make_inspector(session->storage);
  auto usage = measure(*session->registry, *inspector);
  if (!usage) {
    return std::unexpected(usage.error());
  }
  nlohmann::json repos = nlohmann::json::array();
  for (const auto& name : options.repositories) {
    if (!usage->repos.contains(name)) {
      return fail(Errc::name_unknown, "repository " + name + " not found");
    }
    repos.push_back(repo_json(*usage, name));
  }
  if (options.repositories.empty()) {
    for (const auto& [name, blobs] : usage->repos) {
      repos.push_back(repo_json(*usage, name));
    }
  }
  uint64_t total = 0;
  uint64_t orphaned = 0;
  uint64_t orphaned_blobs = 0;
  for (const auto& [digest, size] : usage->sizes) {
    total += size;
    if (!usage->owners.contains(digest)) {
      orphaned += size;
      ++orphaned_blobs;
    }
  }
  nlohmann::json store = {{"blobs", usage->sizes.size()},
                          {"bytes", total},
                          {"unreferenced_blobs", orphaned_blobs},
                          {"unreferenced_bytes", orphaned}};
  if (options.json) {
    print_json({{"repositories", repos}, {"store", store}});
    return k_exit_ok;
  }
  std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "BLOBS", "TOTAL", "UNIQUE", "SHARED"}};
  for (const auto& repo : repos) {
    rows.push_back({repo["name"].get<std::string>(), std::to_string(repo["blobs"].get<uint64_t>()),
                    human_size(repo["bytes"]), human_size(repo["unique_bytes"]), human_size(repo["shared_bytes"])});
  }
  print_table(rows);
  std::cout << "store: " << usage->sizes.size() << " blobs, " << human_size(total)
            << "; unreferenced: " << orphaned_blobs << " blobs, " << human_size(orphaned) << '\n';
  return k_exit_ok;
}

}  // namespace

void add_du(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<DuOptions>();
  auto* cmd = app.add_subcommand("du", "Disk usage per repository: total, unique and shared bytes");
  cmd->add_option("REPO", options->repositories, "Repositories to show (default: all)");
  cmd->add_flag("--json", options->json, "Print the report as JSON");
  cmd->footer(
      "Unique bytes would be freed by deleting the repository and collecting garbage; shared bytes are\n"
      "also linked by another repository. Unreferenced blobs are linked by no repository.\n"
      "Examples:\n"
      "  regctl --root /srv/registry du\n"
      "  regctl du --json | jq '.repositories | sort_by(-.bytes)[0]'");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_du(*options, global); }; });
}

}  // namespace regd::cli
