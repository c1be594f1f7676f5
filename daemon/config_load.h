// Reading the configuration the way start-up does (flags, then REGD_* variables, then the
// --config file, then validation), so SIGHUP reads it again alike, and the actions that print
// it (--print-config, --example-config) instead of serving.
#pragma once

#include "config.h"
#include "config_print.h"
#include "regd/error.h"
#include "reload.h"

namespace CLI {
class App;
}

namespace regd::daemon {

// The command-line actions that stop before serving; none is a configuration key.
struct ConfigActions {
  bool print_config = false;    // print the effective configuration and exit
  bool check_config = false;    // check everything start-up checks, short of listening, and exit
  bool example_config = false;  // print every option commented out, with its description
};

// Binds --print-config, --check-config and --example-config (no environment variable, not
// settable in the file).
void add_config_actions(CLI::App& app, ConfigActions& actions);

// After app.parse(argc, argv) (REQUIRES: add_config_options(app, config) before): applies the
// --config file to what flags and environment left unset, validates, and returns where each
// option that was given came from. Errors: invalid_argument / io_error naming the key and file
// (apply_config_file), invalid_argument (validate_config).
[[nodiscard]] Result<ConfigSources> finish_config(CLI::App& app, const Config& config, int argc,
                                                  const char* const* argv);

// The whole of it on a fresh parser, for SIGHUP: `argv` as regd was started, the environment and
// the --config file as they are now. Errors: as finish_config, and invalid_argument with CLI11's
// message for a command line it refuses.
[[nodiscard]] Result<ConfigSnapshot> load_config(int argc, const char* const* argv);

}  // namespace regd::daemon
