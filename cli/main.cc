// regctl: the offline toolkit on a regd / registry:2 storage tree. Parses the command line,
// runs the chosen subcommand, and translates its error (exit_codes.h) - the only place that does.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "regd/version.h"

namespace {

constexpr const char* k_examples =
    "Examples:\n"
    "  export REGCTL_ROOT=/srv/registry\n"
    "  regctl push oci:./layout:v1 team/app:v1\n"
    "  regctl pull team/app:v1 oci-archive:app.tar\n"
    "  regctl ls && regctl tags team/app\n"
    "  regctl verify --json team/app\n"
    "  regctl gc --dry-run\n"
    "  regctl prune --keep 10 --match 'v*' --dry-run team/app\n"
    "See regctl(1).";

// Edit distance, for suggesting a command close to a misspelt one.
size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The global options that take a value (the next word, unless written --option=VALUE).
constexpr std::array<std::string_view, 6> k_valued_globals = {"--root",      "--immutable-tags", "--s3-endpoint",
                                                              "--s3-region", "--s3-credentials", "--s3-profile"};

// The first word of the command line that is neither an option nor the value of a global option,
// when it names no command: CLI11 would only say that a subcommand is required.
std::optional<std::string> unknown_command(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (std::ranges::find(k_valued_globals, arg) != k_valued_globals.end()) {
      ++i;
    } else if (!arg.starts_with('-')) {
      bool known =
          std::ranges::any_of(app.get_subcommands({}), [&](const CLI::App* cmd) { return cmd->check_name(arg); });
      return known ? std::nullopt : std::optional<std::string>(arg);
    }
  }
  return std::nullopt;
}

std::string unknown_command_message(CLI::App& app, const std::string& name) {
  std::string message = "unknown command '" + name + "'";
  const CLI::App* best = nullptr;
  size_t best_distance = 3;  // suggest only what a slip of the fingers explains
  for (const CLI::App* cmd : app.get_subcommands({})) {
    size_t d = distance(name, cmd->get_name());
    if (d < best_distance) {
      best = cmd;
      best_distance = d;
    }
  }
  if (best != nullptr) {
    message += "; did you mean '" + best->get_name() + "'?";
  }
  return message;
}

int run(int argc, char** argv) {
  using namespace regd::cli;
  CLI::App app{"regctl: offline toolkit for a regd / registry:2 storage tree", "regctl"};
  app.footer(exit_codes_help() + "\n" + k_examples);
  app.require_subcommand(1, 1);
  app.fallthrough();
  GlobalOptions global;
  add_global_options(app, global);
  app.set_version_flag("--version", regd::version_line("regctl"));
  Action action;
  add_push(app, global, action);
  add_pull(app, global, action);
  add_ls(app, global, action);
  add_tags(app, global, action);
  add_inspect(app, global, action);
  add_tag(app, global, action);
  add_rm(app, global, action);
  add_cp(app, global, action);
  add_du(app, global, action);
  add_verify(app, global, action);
  add_gc(app, global, action);
  add_prune(app, global, action);
  add_sync(app, global, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);  // --help, --version
    }
    auto unknown = unknown_command(app, argc, argv);
    std::cerr << "regctl: error: " << (unknown ? unknown_command_message(app, *unknown) : std::string(e.what()))
              << "\nRun 'regctl --help' for more information." << std::endl;
    return k_exit_usage;
  }
  auto result = action();
  if (!result) {
    return report_error(result.error());
  }
  return *result;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // Exceptions mean broken invariants; say so once and fail.
    std::cerr << "regctl: error: internal: " << e.what() << std::endl;
    return regd::cli::k_exit_error;
  }
}
