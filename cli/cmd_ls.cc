// regctl ls: the repositories of the storage tree, sorted.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"

namespace regd::cli {
namespace {

struct LsOptions {
  bool json = false;
};

Result<int> run_ls(const LsOptions& options, const GlobalOptions& global) {
  auto session = open_session(global, Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  nlohmann::json names = nlohmann::json::array();
  std::string last;
  for (bool more = true; more;) {
    auto page = session->registry->list_repositories(k_list_page, last);
    if (!page) {
      return std::unexpected(page.error());
    }
    for (const auto& name : page->items) {
      if (options.json) {
        names.push_back(name);
      } else {
        std::cout << name << '\n';
      }
    }
    more = page->more && !page->items.empty();
    if (more) {
      last = page->items.back();
    }
  }
  if (options.json) {
    print_json({{"repositories", names}});
  }
  return k_exit_ok;
}

}  // namespace

void add_ls(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<LsOptions>();
  auto* cmd = app.add_subcommand("ls", "List repositories");
  cmd->add_flag("--json", options->json, "Print {\"repositories\": [...]}");
  cmd->footer("Examples:\n  regctl --root /srv/registry ls\n  regctl ls --json | jq -r '.repositories[]'");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_ls(*options, global); }; });
}

}  // namespace regd::cli
