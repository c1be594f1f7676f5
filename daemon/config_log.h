// The log options of regd (config_log.cc): --log-format, --log-level, --access-log, applied at
// start-up, and the SIGHUP reload of the level.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config.h"
#include "log.h"

namespace regd::daemon {

// Binds Config::log_format, log_level and access_log to flags with REGD_* variables.
void add_log_options(CLI::App& app, Config& config);
// Errors: invalid_argument (a format or level regd does not know).
[[nodiscard]] Status validate_log_config(const Config& config);

// Sets the log format (auto: text when stderr is a terminal, else json) and the level.
// REQUIRES: validate_log_config(config) passed.
void apply_log_config(const Config& config);

// The level the command line `args` (program name first), the environment and the
// configuration file it names set now, by the precedence of start-up: a --log-level flag or
// REGD_LOG_LEVEL wins over the file. Errors: invalid_argument, io_error (as apply_config_file).
[[nodiscard]] Result<LogLevel> configured_log_level(const std::vector<std::string>& args);

// A ServerState reloader (SIGHUP): sets the level configured_log_level(args) finds, logging the
// change; keeps the current level and logs a warning when it cannot be read.
std::function<void()> log_level_reloader(std::vector<std::string> args);

}  // namespace regd::daemon
