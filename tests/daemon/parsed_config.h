// regd's configuration parser over a command line, as main runs it: flags and environment, the
// file they name, then the checks.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config.h"
#include "config_load.h"

namespace regd::daemon {

// `args` without argv[0]; `status` holds finish_config's error, `sources` what it found.
struct ParsedConfig {
  CLI::App app;
  Config config;
  ConfigSources sources;
  Status status;

  explicit ParsedConfig(std::vector<std::string> args) {
    args.insert(args.begin(), "regd");
    std::vector<const char*> argv;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
    }
    add_config_options(app, config);
    app.parse(static_cast<int>(argv.size()), argv.data());
    auto finished = finish_config(app, config, static_cast<int>(argv.size()), argv.data());
    if (finished) {
      sources = *finished;
    } else {
      status = std::unexpected(finished.error());
    }
  }
};

}  // namespace regd::daemon
