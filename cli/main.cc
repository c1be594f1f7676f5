// regctl: the offline toolkit on a regd / registry:2 storage tree. Parses the command line,
// runs the chosen subcommand, and translates its error (exit_codes.h) - the only place that does.
#include <cstdlib>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"

namespace {

constexpr const char* k_footer =
    "Exit codes: 0 ok, 1 error, 2 usage, 3 verify found problems, 4 not found, 5 busy (gc lease held).\n"
    "Examples:\n"
    "  export REGCTL_ROOT=/srv/registry\n"
    "  regctl push oci:./layout:v1 team/app:v1\n"
    "  regctl pull team/app:v1 oci-archive:app.tar\n"
    "  regctl ls && regctl tags team/app\n"
    "  regctl verify --json team/app\n"
    "  regctl gc --dry-run\n"
    "See regctl(1).";

int run(int argc, char** argv) {
  using namespace regd::cli;
  CLI::App app{"regctl: offline toolkit for a regd / registry:2 storage tree", "regctl"};
  app.footer(k_footer);
  app.require_subcommand(1, 1);
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--root", global.root, "Storage root (the directory holding docker/registry/v2)")
      ->envname("REGCTL_ROOT");
  app.add_flag("-q,--quiet", global.quiet, "No progress and no summaries on stderr");
  app.set_version_flag("--version", "regctl 0.1.0");
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);  // --help, --version
    }
    std::cerr << "regctl: error: " << e.what() << "\nRun 'regctl --help' for more information." << std::endl;
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
