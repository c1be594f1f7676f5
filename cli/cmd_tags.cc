// regctl tags REPO: the tags of a repository, sorted.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "output.h"

namespace regd::cli {
namespace {

struct TagsOptions {
  std::string repository;
  bool json = false;
};

Result<int> run_tags(const TagsOptions& options, const GlobalOptions& global) {
  if (auto ok = validate_repository(options.repository); !ok) {
    return fail(Errc::invalid_argument, "invalid repository \"" + options.repository + "\": " + ok.error().message);
  }
  auto session = open_session(global, Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  nlohmann::json tags = nlohmann::json::array();
  std::string last;
  for (bool more = true; more;) {
    auto page = session->registry->list_tags(options.repository, k_list_page, last);
    if (!page) {
      return std::unexpected(page.error());
    }
    for (const auto& tag : page->items) {
      if (options.json) {
        tags.push_back(tag);
      } else {
        std::cout << tag << '\n';
      }
    }
    more = page->more && !page->items.empty();
    if (more) {
      last = page->items.back();
    }
  }
  if (options.json) {
    print_json({{"name", options.repository}, {"tags", tags}});
  }
  return k_exit_ok;
}

}  // namespace

void add_tags(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<TagsOptions>();
  auto* cmd = app.add_subcommand("tags", "List the tags of a repository");
  cmd->add_option("REPO", options->repository, "Repository name")->required();
  cmd->add_flag("--json", options->json, "Print {\"name\": REPO, \"tags\": [...]}");
  cmd->footer("Examples:\n  regctl --root /srv/registry tags team/app\n  regctl tags --json team/app");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_tags(*options, global); }; });
}

}  // namespace regd::cli
