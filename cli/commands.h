// Every subcommand: add_<name> binds its options to a CLI11 subcommand and, when the subcommand
// is chosen, sets `action` to run it. One file per subcommand (cmd_<name>.cc); main.cc lists
// them. `global` and `action` must outlive parsing and running.
#pragma once

#include <CLI/CLI.hpp>

#include "context.h"

namespace regd::cli {

void add_push(CLI::App& app, const GlobalOptions& global, Action& action);
void add_pull(CLI::App& app, const GlobalOptions& global, Action& action);
void add_ls(CLI::App& app, const GlobalOptions& global, Action& action);
void add_tags(CLI::App& app, const GlobalOptions& global, Action& action);
void add_inspect(CLI::App& app, const GlobalOptions& global, Action& action);
void add_tag(CLI::App& app, const GlobalOptions& global, Action& action);
void add_rm(CLI::App& app, const GlobalOptions& global, Action& action);
void add_cp(CLI::App& app, const GlobalOptions& global, Action& action);
void add_du(CLI::App& app, const GlobalOptions& global, Action& action);
void add_verify(CLI::App& app, const GlobalOptions& global, Action& action);
void add_gc(CLI::App& app, const GlobalOptions& global, Action& action);
void add_prune(CLI::App& app, const GlobalOptions& global, Action& action);
void add_sync(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace regd::cli
