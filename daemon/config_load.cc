#include "config_load.h"

#include <cstdlib>

#include <CLI/CLI.hpp>

namespace regd::daemon {
namespace {

bool on_command_line(const std::string& key, int argc, const char* const* argv) {
  std::string flag = "--" + key;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if (arg == flag || arg.starts_with(flag + "=")) {
      return true;
    }
  }
  return false;
}

// Which options the command line and the environment set. REQUIRES: parsed, file not applied.
ConfigSources given_sources(CLI::App& app, int argc, const char* const* argv) {
  ConfigSources sources;
  for (CLI::Option* option : config_options(app)) {
    if (option->count() == 0) {
      continue;
    }
    auto key = config_key(*option);
    sources[key] = on_command_line(key, argc, argv) ? "--" + key : option->get_envname();
  }
  return sources;
}

}  // namespace

void add_config_actions(CLI::App& app, ConfigActions& actions) {
  app.add_flag("--print-config", actions.print_config,
               "Print the effective configuration (flags, environment, file; secrets redacted) as TOML, and exit")
      ->configurable(false);
  app.add_flag("--check-config", actions.check_config,
               "Check the configuration, its files and the storage root as start-up does, without listening; "
               "print 'config OK' or each problem, and exit")
      ->configurable(false);
  app.add_flag("--example-config", actions.example_config,
               "Print every option with its description, commented out with its default (docs/examples/regd.toml), "
               "and exit")
      ->configurable(false);
}

Result<ConfigSources> finish_config(CLI::App& app, const Config& config, int argc, const char* const* argv) {
  auto sources = given_sources(app, argc, argv);
  if (!config.config_file.empty()) {
    if (auto applied = apply_config_file(app, config.config_file); !applied) {
      return std::unexpected(applied.error());
    }
    for (CLI::Option* option : config_options(app)) {
      auto key = config_key(*option);
      if (option->count() > 0 && !sources.contains(key)) {
        sources[key] = config.config_file;
      }
    }
  }
  if (auto valid = validate_config(config); !valid) {
    return std::unexpected(valid.error());
  }
  // The one file read here rather than at start-up: its rules are configuration, so a bad one is
  // a usage error (exit 2), also for --check-config and a SIGHUP reload.
  if (auto rules = check_sync_file(config); !rules) {
    return std::unexpected(rules.error());
  }
  return sources;
}

Result<ConfigSnapshot> load_config(int argc, const char* const* argv) {
  CLI::App app;
  ConfigSnapshot snapshot;
  ConfigActions actions;
  add_config_options(app, snapshot.config);
  add_config_actions(app, actions);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return fail(Errc::invalid_argument, e.what());
  }
  if (auto finished = finish_config(app, snapshot.config, argc, argv); !finished) {
    return std::unexpected(finished.error());
  }
  snapshot.values = config_values(app);
  return snapshot;
}

}  // namespace regd::daemon
